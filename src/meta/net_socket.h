/* The sockets of the meta layer: listening (TCP listeners with their UDP
 * twins, incoming meta connections) and the outgoing connections of
 * ConnectTo with their back-off (protocol.md §6.9). */
#ifndef FQTINC_NET_SOCKET_H
#define FQTINC_NET_SOCKET_H

#include <netdb.h>

#include "util/compat.h"
#include "config/conf.h"
#include "meta/connection.h"
#include "util/event.h"

/* ---- listening sockets ---- */

/* One listener pair per local address (BindToAddress, else the wildcard). */
bool setup_listen_sockets(void);
void close_listen_sockets(void);
/* A peer announced UDP_PORTS (protocol.md §10.3): open the extra UDP ports
 * of every listener (UDPPorts), once. */
void open_extra_udp_ports(void);

/* ---- outgoing connections ---- */

typedef struct outgoing {
	char *name;
	int timeout;              /* current back-off, seconds */
	ev_timer_t ev;
	config_entries_t *config_entries;
	struct addrinfo *ai, *ai_cursor;
	void *cfg;                /* current Address entry */
} outgoing_t;

void outgoing_start(outgoing_t *o);
void outgoing_schedule_retry(outgoing_t *o);
void outgoing_try_next_address(outgoing_t *o);
void outgoing_sync_connect_to(void);       /* (re)read ConnectTo, start them */
void cancel_pending_connects(void);        /* HUP: give up connects in progress */
/* First PONG on an outgoing connection: reset back-off and address list. */
void outgoing_reset_backoff(outgoing_t *o);
/* An outgoing connection ended: try the next address now or schedule a retry. */
void outgoing_connection_lost(outgoing_t *o);
/* Shutdown: forget every outgoing entry. */
void net_socket_exit(void);

#endif
