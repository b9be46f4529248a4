/* Port probes on the receive side (see port_probe.h). */
#include "util/compat.h"

#include <string.h>

#include "datapath/port_probe.h"
#include "datapath/port_spread.h"
#include "datapath/seal.h"
#include "packet/port_probe_frame.h"
#include "util/log.h"

#define NUDGE_LEN 64

void port_probe_nudge(node_t *n, const sockaddr_u *from) {
	static frame_buf_t probe;
	memset(probe.data, 0, NUDGE_LEN); /* ethertype 0, kind 0: a PMTU probe request */
	probe.len = NUDGE_LEN;
	/* the send path takes n's address: lend it 'from' for this datagram */
	sockaddr_u address = n->address;
	n->address = *from;
	seal_and_send_tos(n, &probe, 0);
	n->address = address;
	LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Probe to %s, a new source of %s: is it its own port?", sockaddr_describe(from), n->name);
}

bool port_probe_received(node_t *n, const frame_buf_t *packet) {
	port_probe_msg_t m;
	port_probe_parse_t r = port_probe_parse(packet->data, packet->len, &m);
	if(r == PORT_PROBE_NOT_PROBE)
		return false;
	if(r == PORT_PROBE_MALFORMED) {
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Port probe of %u bytes from %s (%s) dropped: too short or of an unknown version",
		    packet->len, n->name, n->hostname);
		return true;
	}
	if(m.reply) {
		port_spread_answered(n, m.index, m.round);
		return true;
	}
	/* the answer is a probe too (EtherType 0): it leaves from our own port,
	 * to n's own port, Not-ECT */
	static frame_buf_t reply;
	m.reply = true;
	reply.len = (uint16_t)port_probe_build(&m, reply.data, sizeof(reply.data));
	seal_and_send_tos(n, &reply, 0);
	return true;
}
