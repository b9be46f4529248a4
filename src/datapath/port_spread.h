/* Flows apart on the path: toward a peer that announced OPTION_UDP_PORTS
 * (protocol.md §10.5), each inner flow leaves through one of the listener's
 * UDPPorts ports, picked by its flow key (packet/flow_key.h), so that a
 * flow-queueing gateway on the way sees the flows apart while no flow is
 * reordered. Probes (PMTU and ECN path) and everything toward other peers
 * leave through the listener's own port, as always. */
#ifndef FQTINC_PORT_SPREAD_H
#define FQTINC_PORT_SPREAD_H

#include <stdint.h>

#include "util/compat.h"
#include "mesh/node.h"
#include "packet/packet.h"

/* Pure: may datagrams to a peer leave from several ports? ports: our
 * UDPPorts; peer_options: its link's options; direct: sealed for the peer
 * itself (not through a relay); path_confirmed: it answered a PMTU probe
 * from our own port, so it knows where we are; probe: the frame is a PMTU
 * or ECN probe (EtherType 0). */
bool port_spread_allowed(int ports, uint32_t peer_options, bool direct, bool path_confirmed, bool probe);

/* The send-socket id (io/udp_ports.h) for a frame to n, given the
 * listener's own id main_id; records the port in n's stats. */
int port_spread_socket(node_t *n, const frame_buf_t *packet, int main_id);

/* Distinct ports n's datagrams left from (the stats report). */
unsigned port_spread_ports_used(const node_t *n);

#endif
