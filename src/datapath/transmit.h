/* The transmit stage: a frame from our device or from another node is
 * routed (route.h) and the verdict carried out: written to our device,
 * queued for a node (egress.h), relayed over a meta connection, broadcast,
 * cut into fragments, or answered with ICMP, ARP or NDP. */
#ifndef FQTINC_TRANSMIT_H
#define FQTINC_TRANSMIT_H

#include <stdint.h>

#include "util/compat.h"
#include "mesh/node.h"
#include "packet/packet.h"

/* Route a frame that came from source (local_node: our device) and act on the
 * verdict. The frame may be changed (TTL, MSS). */
void forward_frame(node_t *source, frame_buf_t *packet);
/* Send a frame to node n: our device for local_node, else by UDP through the
 * egress queue, relayed, or over a meta connection. */
void transmit_to_node(node_t *n, frame_buf_t *packet);
/* epoll callback for our device: read frames into the egress queue's
 * buffers and forward them, as many as egress_read_budget() allows. */
void device_readable(void *data, uint32_t events);

#endif
