/* The receive stage: datagrams from a UDP socket, in batches, through the
 * receive-side CoDel, to the sender's node, authenticated and decrypted,
 * checked against the replay window, decompressed, ECN-decapsulated, and
 * handed to routing (transmit.h); and frames from meta connections. */
#ifndef FQTINC_RECEIVE_H
#define FQTINC_RECEIVE_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"
#include "mesh/node.h"
#include "packet/packet.h"
#include "util/sockaddr.h"

/* epoll callback for a listening socket's UDP side (data: its listener_t):
 * the socket is drained into its backlog (datapath/rx_backlog.h), then a
 * batch from the backlog's head is opened. */
void udp_socket_readable(void *data, uint32_t events);
/* Once per loop turn: drain and serve the backlogs that are not empty; true
 * while any still holds datagrams (the loop must not sleep then). */
bool receive_backlog_run(void);
/* Free the backlogs (shutdown). */
void receive_backlog_free(void);

/* One datagram from 'from' on listen socket 'sock', with packet's outer TOS,
 * TTL, timestamp and congestion signal already filled in; the frame is
 * decrypted into packet. */
void receive_datagram(int sock, sockaddr_u *from, const uint8_t *data, size_t len, frame_buf_t *packet);

/* A frame arrived on the meta connection to 'from' (NULL: a connection
 * without a node yet). tcponly: the link is TCPOnly. */
void receive_meta_frame(node_t *from, bool tcponly, const uint8_t *data, size_t len);

#endif
