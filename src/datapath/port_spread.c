/* Spreading inner flows over outer UDP ports (see port_spread.h). */
#include "util/compat.h"

#include <sys/random.h>

#include "datapath/port_spread.h"
#include "io/udp_ports.h"
#include "mesh/options.h"
#include "packet/flow_key.h"
#include "util/clock.h"

_Static_assert(NODE_PORT_BITS >= UDP_PORTS_MAX, "every port index fits in a node's port bitmap");

bool port_spread_allowed(int ports, uint32_t peer_options, bool direct, bool path_confirmed, bool probe) {
	return ports > 1 && (peer_options & OPTION_UDP_PORTS) && !(peer_options & OPTION_TCPONLY) &&
	       direct && path_confirmed && !probe;
}

/* Random once per daemon: nobody outside can tell which flows share a port. */
static uint64_t salt(void) {
	static uint64_t value;
	static bool have;
	if(!have) {
		if(getrandom(&value, sizeof(value), GRND_NONBLOCK) != (ssize_t)sizeof(value))
			value = (uint64_t)clock_now_ns() * 0x9e3779b97f4a7c15ULL;
		have = true;
	}
	return value;
}

static void note_port(node_t *n, unsigned index) {
	n->stats.tx_ports_used[index / 64] |= 1ULL << (index % 64);
}

int port_spread_socket(node_t *n, const frame_buf_t *packet, int main_id) {
	bool probe = packet->len < ETH_HLEN || (packet->data[12] == 0 && packet->data[13] == 0);
	int l = main_id % MAX_LISTENERS;
	int aux = main_id >= 0 && main_id < MAX_LISTENERS ? udp_aux_count[l] : 0;
	/* A PMTU reply of n means n heard our own port and answers it. */
	bool confirmed = n->mtu_floor > 0;
	if(!aux || !port_spread_allowed(aux + 1, n->options, n->via == n, confirmed, probe)) {
		note_port(n, 0);
		return main_id;
	}
	uint32_t index = flow_key_pick(flow_key(packet->data, packet->len, salt()), (uint32_t)aux + 1);
	note_port(n, index);
	return udp_tx_id(l, (int)index);
}

unsigned port_spread_ports_used(const node_t *n) {
	unsigned count = 0;
	for(size_t i = 0; i < ARRAY_SIZE(n->stats.tx_ports_used); i++)
		count += (unsigned)__builtin_popcountll(n->stats.tx_ports_used[i]);
	return count;
}
