/* Flows apart on the path: toward a peer that announced OPTION_UDP_PORTS
 * (protocol.md §10.3), each inner flow leaves through one of the listener's
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
#include "util/clock.h"

/* Pure: may datagrams to a peer leave from several ports? ports: our
 * UDPPorts; peer_options: its link's options; direct: sealed for the peer
 * itself (not through a relay); path_confirmed: it answered a PMTU probe
 * from our own port, so it knows where we are; probe: the frame is a PMTU
 * or ECN probe (EtherType 0). */
bool port_spread_allowed(int ports, uint32_t peer_options, bool direct, bool path_confirmed, bool probe);

/* Port probes: an extra port carries flows to a peer only once a probe
 * from it was answered (to our own port), so a NAT or firewall in front of
 * the peer that lets only our own port through costs nothing but the
 * spreading. Rounds of probes from every extra port, every
 * PORT_ROUND_INTERVAL while we send to the peer; a port unanswered in two
 * rounds in a row goes out of use. Not after one: a busy port's probe
 * waits in the same gateway queue as its flow, and may be dropped there. */
#define PORT_ROUND_INTERVAL_NS (30 * NSEC_PER_SEC)

/* Pure: close a round: ok keeps only what answered in it or in the round
 * before (before); before becomes this round's answers; answered empties. */
void port_round_close(uint64_t *ok, uint64_t *answered, uint64_t *before, size_t words);
/* Which port each inner flow uses. A flow keeps the port it got while it
 * sends (no reordering); a new flow (or one idle for FLOW_PORT_IDLE_NS)
 * gets the next usable port in turn, so up to as many flows as there are
 * ports never share one, where a plain hash of the flow key onto 64 ports
 * would put two of 5 flows on one port 15 % of the time. Bounded: one
 * slot per flow key modulo FLOW_PORT_SLOTS; a flow whose slot another
 * active flow took gets a port anew (it may move: rare with few flows). */
#define FLOW_PORT_SLOTS 4096
#define FLOW_PORT_IDLE_NS (10 * NSEC_PER_SEC)

typedef struct flow_port_slot {
	uint64_t used_ns; /* 0: empty */
	uint32_t key;
	uint16_t index;
} flow_port_slot_t;

typedef struct flow_ports {
	flow_port_slot_t slot[FLOW_PORT_SLOTS];
	uint32_t next; /* where the turn goes on */
} flow_ports_t;

/* Pure: the port index for the flow with this key among count ports (index
 * 0 being the listener's own, always usable; others only with their bit in
 * ok), at time now. */
uint32_t flow_ports_pick(flow_ports_t *t, uint32_t key, uint32_t count, const uint64_t *ok, uint64_t now);

/* Is a round of port probes to n due now (main_id: the listener's own
 * send-socket id)? If so, it has begun: send a request from each extra
 * port, the round number in it. */
bool port_spread_round_begin(node_t *n, int main_id, uint32_t *round, int *aux);
/* A reply of n to the request from port index 'index' of round 'round'. */
void port_spread_answered(node_t *n, uint32_t index, uint32_t round);

/* The send-socket id (io/udp_ports.h) for a frame to n, given the
 * listener's own id main_id; records the port in n's stats. */
int port_spread_socket(node_t *n, const frame_buf_t *packet, int main_id);

/* Distinct ports n's datagrams left from (the stats report). */
unsigned port_spread_ports_used(const node_t *n);

#endif
