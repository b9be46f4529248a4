/* libFuzzer: the routing decision, route_decide(), and its rewrite over the
 * fuzzer's bytes taken as an Ethernet frame, in a fixed small world of
 * nodes and subnets; then the answers the data path would build from the
 * verdict (ICMP error, ARP reply, NDP advertisement, fragments).
 *
 * Input: byte 0 = policy (bits 0-1 routing mode, 2-3 forwarding mode,
 * 4 DirectOnly, 5 DecrementTTL, 6 answer ARP/NDP, 7 no broadcasts),
 * byte 1 = the path MTU of the neighbour (times 8, at least 64),
 * byte 2 = the source node (0 us, 1 the neighbour, 2 the relayed node),
 * then the frame.
 *
 * Checks: the verdict is consistent (a destination where one is needed,
 * ICMP quotes no more than the frame), a rewrite keeps a valid IPv4 header
 * checksum valid, fragments fit the verdict's MTU. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "mesh/edge.h"
#include "mesh/node.h"
#include "mesh/options.h"
#include "mesh/subnet.h"
#include "packet/fragment.h"
#include "packet/icmp.h"
#include "packet/ipcsum.h"
#include "packet/neighbor.h"
#include "packet/packet.h"
#include "route/route.h"
#include "../unit/mesh_fixtures.h"

static node_t *me, *alpha, *beta, *gamma_;

static node_t *mknode(const char *name, bool reachable) {
	return fixture_node(name, reachable, MTU);
}

static void add(node_t *owner, const char *str) {
	if(!fixture_subnet(owner, str))
		abort(); /* a subnet string of the harness itself */
}

static void world(void) {
	node_table_init();
	edge_table_init();
	subnet_table_init();
	me = local_node = mknode("me", true);
	alpha = mknode("alpha", true);
	beta = mknode("beta", true);
	gamma_ = mknode("gamma", false);
	me->via = me->nexthop = me;
	alpha->via = alpha->nexthop = alpha;
	beta->via = beta->nexthop = alpha;
	alpha->options = OPTION_CLAMP_MSS;
	add(me, "10.0.0.0/16");
	add(me, "fd00::/16");
	add(me, "02:00:00:00:00:01");
	add(alpha, "10.1.0.0/16");
	add(alpha, "fd01::/16");
	add(alpha, "02:00:00:00:00:0a");
	add(beta, "10.2.0.0/16");
	add(beta, "02:00:00:00:00:0b");
	add(gamma_, "10.3.0.0/16");
	add(gamma_, "0.0.0.0/0");
	add(gamma_, "::/0");
}

static size_t fragment_limit;

static void check_fragment(void *ctx, const uint8_t *frag, size_t len) {
	(void)ctx;
	if(len > fragment_limit)
		abort();
	(void)frag;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	static bool ready;
	static uint8_t frame[PACKET_BUF_MAX], out[PACKET_BUF_MAX];
	if(!ready) {
		world();
		ready = true;
	}
	if(size < 3)
		return 0;
	uint8_t knobs = data[0];
	alpha->mtu = MAX(64, data[1] * 8);
	alpha->mtu_floor = alpha->mtu;
	node_t *sources[4] = {me, alpha, beta, me};
	node_t *source = sources[data[2] & 3];
	data += 3;
	size -= 3;
	if(size > MTU)
		size = MTU;
	memcpy(frame, data, size);

	route_policy_t pol = {
		.self = me,
		.mode = (route_mode_t)((knobs & 3) % 3),
		.forwarding = (forwarding_mode_t)(((knobs >> 2) & 3) % 3),
		.direct_only = knobs & 16,
		.decrement_ttl = knobs & 32,
		.answer_neighbors = knobs & 64,
		.broadcast = (knobs & 128) ? BROADCAST_NO : BROADCAST_MST,
	};
	route_verdict_t v = route_decide(&pol, source, frame, size);

	if((v.action == ROUTE_TO_NODE || v.action == ROUTE_FRAGMENT) && !v.to)
		abort();
	if(v.action == ROUTE_FRAGMENT && v.mtu < 64)
		abort();
	if(v.action == ROUTE_ICMP_ERROR && v.icmp.quote_len > size)
		abort();
	if(v.learn == ROUTE_LEARN_REFRESH && !v.learned)
		abort();

	/* an IPv4 header that was valid stays valid */
	bool ip4 = size >= 34 && frame[12] == 0x08 && frame[13] == 0x00 && frame[14] == 0x45;
	bool valid = ip4 && ipv4_header_checksum(frame + 14, 20) == be16_get(frame + 24);
	route_rewrite(&v, frame, size);
	if(valid && ipv4_header_checksum(frame + 14, 20) != be16_get(frame + 24))
		abort();

	switch(v.action) {
	case ROUTE_ICMP_ERROR:
		if(v.icmp.v6)
			icmp6_error(out, sizeof(out), frame, v.icmp.quote_len, v.icmp.type, v.icmp.code, v.icmp.mtu, NULL);
		else
			icmp4_error(out, sizeof(out), frame, v.icmp.quote_len, v.icmp.type, v.icmp.code, (uint16_t)v.icmp.mtu, NULL);
		break;
	case ROUTE_ARP_REPLY:
		if(!arp_build_reply(out, sizeof(out), frame, size))
			abort(); /* the decision saw a request */
		break;
	case ROUTE_NDP_ADVERT:
		if(!ndp_build_advertisement(out, sizeof(out), frame, size))
			abort();
		break;
	case ROUTE_FRAGMENT:
		fragment_limit = (size_t)v.mtu;
		fragment_ipv4(frame, size, (size_t)v.mtu, check_fragment, NULL);
		break;
	default:
		break;
	}
	return 0;
}
