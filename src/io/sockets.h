/* The listening sockets: a TCP listener for meta connections and a UDP
 * socket for the data path per local address. The meta layer opens and
 * closes them; the data path sends and receives on the UDP ones. */
#ifndef FQTINC_SOCKETS_H
#define FQTINC_SOCKETS_H

#include "util/compat.h"
#include "util/event.h"
#include "util/sockaddr.h"

typedef struct listener {
	fd_watch_t tcp;
	fd_watch_t udp;
	sockaddr_u sa;
	bool explicit_bind;              /* from BindToAddress (not the wildcard) */
} listener_t;

#define MAX_LISTENERS 8
/* SO_SNDBUF of UDP sockets unless UDPSndBuf is set (the kernel doubles it). */
#define UDP_SNDBUF_DEFAULT (12 * 1024)
/* SO_RCVBUF of UDP sockets unless UDPRcvBuf is set. The daemon empties the
 * socket whenever it runs, so this only has to cover the moments it is not
 * scheduled: 4 MiB of socket memory is about 15 ms at 1 Gbit/s. */
#define UDP_RCVBUF_DEFAULT (4 * 1024 * 1024)
extern listener_t listener[MAX_LISTENERS];
extern int listener_count;

#endif
