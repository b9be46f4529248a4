/* Events of the auxiliary UDP sockets (io/udp_ports.h): writable again
 * after a full send buffer, and arrivals. Peers answer the listener's own
 * port, so little arrives; what does is opened like a datagram on the own
 * socket (datapath/receive.h), so that a peer that took an extra port of
 * ours for our own still reaches us. */
#ifndef FQTINC_AUX_SOCKET_H
#define FQTINC_AUX_SOCKET_H

#include <stdint.h>

#include "util/compat.h"

/* epoll callback of an auxiliary socket (data: its udp_aux_t). */
void udp_aux_event(void *data, uint32_t events);

/* Datagrams that arrived on auxiliary sockets. */
uint64_t aux_socket_received(void);

#endif
