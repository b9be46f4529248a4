/* Events of the auxiliary UDP sockets (io/udp_ports.h): writable again
 * after a full send buffer, and arrivals, which are read and dropped since
 * peers answer the listener's own port. */
#ifndef FQTINC_AUX_SOCKET_H
#define FQTINC_AUX_SOCKET_H

#include <stdint.h>

#include "util/compat.h"

/* epoll callback of an auxiliary socket (data: its udp_aux_t). */
void udp_aux_event(void *data, uint32_t events);

/* Datagrams that arrived on auxiliary sockets (dropped). */
uint64_t aux_socket_received(void);

#endif
