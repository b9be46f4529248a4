/* Spreading inner flows over outer UDP ports (see port_spread.h). */
#include "util/compat.h"

#include <string.h>
#include <sys/random.h>

#include "datapath/port_spread.h"
#include "io/udp_ports.h"
#include "io/udp_tx.h"
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

static bool bit_set(const uint64_t *bits, uint32_t i) {
	return bits[i / 64] >> (i % 64) & 1;
}

void port_round_close(uint64_t *ok, uint64_t *answered, uint64_t *before, size_t words) {
	for(size_t i = 0; i < words; i++) {
		ok[i] &= answered[i] | before[i];
		before[i] = answered[i];
		answered[i] = 0;
	}
}

static bool usable(uint32_t index, uint32_t count, const uint64_t *ok) {
	return index < count && (!index || bit_set(ok, index));
}

uint32_t flow_ports_pick(flow_ports_t *t, uint32_t key, uint32_t count, const uint64_t *ok, uint64_t now) {
	flow_port_slot_t *s = &t->slot[key % FLOW_PORT_SLOTS];
	bool active = s->used_ns && now - s->used_ns < FLOW_PORT_IDLE_NS;
	if(active && s->key == key && usable(s->index, count, ok)) {
		s->used_ns = now ? now : 1;
		return s->index;
	}
	/* the next usable port in turn; the own port if no other is */
	uint32_t index = 0;
	for(uint32_t tries = 0; tries < count; tries++) {
		uint32_t i = t->next++ % count;
		if(usable(i, count, ok)) {
			index = i;
			break;
		}
	}
	s->key = key;
	s->index = (uint16_t)index;
	s->used_ns = now ? now : 1;
	return index;
}

/* May n get datagrams from our extra ports at all (probes aside)? The path
 * must be confirmed: a PMTU reply of n means n heard our own port and
 * answers it. Where it is not (a new address), what the probes found goes. */
static int usable_aux(node_t *n, int main_id) {
	int aux = main_id >= 0 && main_id < MAX_LISTENERS ? udp_aux_count[main_id] : 0;
	bool confirmed = n->mtu_floor > 0;
	if(!confirmed && n->port_round_at) {
		memset(n->ports_ok, 0, sizeof(n->ports_ok));
		memset(n->ports_answered, 0, sizeof(n->ports_answered));
		memset(n->ports_answered_before, 0, sizeof(n->ports_answered_before));
		n->port_round_at = 0;
	}
	if(!aux || !port_spread_allowed(aux + 1, n->options, n->via == n, confirmed, false))
		return 0;
	return aux;
}

bool port_spread_round_begin(node_t *n, int main_id, uint32_t *round, int *aux) {
	*aux = usable_aux(n, main_id);
	if(!*aux || (n->port_round_at && now_ns - n->port_round_at < PORT_ROUND_INTERVAL_NS))
		return false;
	if(n->port_round_at)
		port_round_close(n->ports_ok, n->ports_answered, n->ports_answered_before, ARRAY_SIZE(n->ports_ok));
	n->port_round_at = now_ns ? now_ns : 1;
	*round = ++n->port_round;
	return true;
}

void port_spread_answered(node_t *n, uint32_t index, uint32_t round) {
	if(round != n->port_round || !index || index >= NODE_PORT_BITS || !n->port_round_at)
		return;
	n->ports_ok[index / 64] |= 1ULL << (index % 64);
	n->ports_answered[index / 64] |= 1ULL << (index % 64);
}

/* While our own uplink pushes back it is the bottleneck, not a gateway
 * further on: the daemon's FQ-CoDel keeps the flows apart there, and every
 * extra port would only add a socket buffer of datagrams to the uplink's
 * FIFO. Flows spread again once it has been quiet this long. */
#define UPLINK_QUIET_NS (1 * NSEC_PER_SEC)

/* Asked for every frame: the loop turn's clock is close enough for a
 * one-second window (a pushback later in this turn is still "recent"). */
static bool uplink_pushes_back(void) {
	uint64_t last = udp_tx_last_pushback_ns();
	return last && now_ns < last + UPLINK_QUIET_NS;
}

int port_spread_socket(node_t *n, const frame_buf_t *packet, int main_id) {
	bool probe = packet->len < ETH_HLEN || (packet->data[12] == 0 && packet->data[13] == 0);
	int aux = probe || uplink_pushes_back() ? 0 : usable_aux(n, main_id);
	if(!aux) {
		note_port(n, 0);
		return main_id;
	}
	static flow_ports_t flows;
	uint32_t key = flow_key(packet->data, packet->len, salt());
	uint32_t index = flow_ports_pick(&flows, key, (uint32_t)aux + 1, n->ports_ok, now_ns);
	note_port(n, index);
	return udp_tx_id(main_id, (int)index);
}

unsigned port_spread_ports_used(const node_t *n) {
	unsigned count = 0;
	for(size_t i = 0; i < ARRAY_SIZE(n->stats.tx_ports_used); i++)
		count += (unsigned)__builtin_popcountll(n->stats.tx_ports_used[i]);
	return count;
}
