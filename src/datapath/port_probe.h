/* Port probes on the receive side (doc/protocol.md §10.3): a request from
 * one of a peer's extra ports is answered to the peer's own port; a reply
 * to ours marks our extra port as getting through (datapath/port_spread.h). */
#ifndef FQTINC_PORT_PROBE_H
#define FQTINC_PORT_PROBE_H

#include "util/compat.h"
#include "mesh/node.h"
#include "packet/packet.h"

/* A decrypted frame from n: true if it was a port probe (handled, or
 * malformed and dropped), false if it is some other frame. */
bool port_probe_received(node_t *n, const frame_buf_t *packet);

#endif
