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
/* n, which spreads its flows, sent from 'from', new to us, and not its UDP
 * address. If 'from' is n's own port behind a NAT that changed its mapping,
 * our datagrams go to the old mapping until a probe from that port moves n's
 * address (sender_cache.h), and n's next PMTU probe may be a minute away:
 * send a small PMTU probe to 'from', whose answer is such a probe (n sends
 * answers from its own port, also when the probe reached an extra one). */
void port_probe_nudge(node_t *n, const sockaddr_u *from);

#endif
