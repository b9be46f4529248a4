/* The routing decision (route/route.c): verdicts for IPv4, IPv6, ARP, NDP,
 * broadcasts, ICMP errors, fragmentation, MAC learning and aging, hub mode,
 * and the TTL and MSS rewrites. */
#include "util/compat.h"

#include <arpa/inet.h>
#include <string.h>

#include "mesh/edge.h"
#include "mesh/node.h"
#include "mesh/options.h"
#include "mesh/subnet.h"
#include "packet/icmp.h"
#include "packet/ipcsum.h"
#include "packet/packet.h"
#include "route/route.h"
#include "frames.h"
#include "mesh_fixtures.h"
#include "unit.h"

/*   me     myself: 10.0.0.0/16, fd00::/16, MAC 02:00:00:00:00:01
 *   alpha  direct neighbour: 10.1.0.0/16, fd01::/16, MAC 02:00:00:00:00:0a
 *   beta   reached through alpha: 10.2.0.0/16
 *   gamma  unreachable: 10.3.0.0/16 */
static node_t *me, *alpha, *beta, *gamma_;
static route_policy_t pol;
static uint8_t frame[2048];

static node_t *mknode(const char *name, bool reachable) {
	return fixture_node(name, reachable, MTU);
}

static subnet_t *add(node_t *owner, const char *str) {
	subnet_t *s = fixture_subnet(owner, str);
	CHECK(s != NULL); /* a subnet string of the test itself */
	return s;
}

static void setup(void) {
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
	add(me, "10.0.0.0/16");
	add(me, "fd00::/16");
	add(me, "02:00:00:00:00:01");
	add(alpha, "10.1.0.0/16");
	add(alpha, "fd01::/16");
	add(alpha, "02:00:00:00:00:0a");
	add(beta, "10.2.0.0/16");
	add(gamma_, "10.3.0.0/16");
	pol = (route_policy_t){
		.self = me,
		.mode = MODE_ROUTER,
		.forwarding = FORWARDING_INTERNAL,
		.broadcast = BROADCAST_MST,
	};
}

static void teardown(void) {
	subnet_table_exit();
	node_table_exit();
	edge_table_exit();
}

/* An IPv4 frame of len bytes (UDP) from src to dst. */
static size_t v4(size_t len, const char *src, const char *dst, bool df) {
	memset(frame, 0, sizeof(frame));
	uint8_t *ip = put_ipv4_header(frame, (uint32_t)len, 0, 17, 1, 2);
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	if(df)
		ip[6] = 0x40;
	ipv4_set_header_checksum(ip);
	return len;
}

static size_t v6(size_t len, const char *src, const char *dst) {
	uint8_t s[16], d[16];
	inet_pton(AF_INET6, src, s);
	inet_pton(AF_INET6, dst, d);
	memset(frame, 0, sizeof(frame));
	put_ipv6_header(frame, (uint32_t)len, 17, s, d);
	return len;
}

static route_verdict_t decide(node_t *source, size_t len) {
	return route_decide(&pol, source, frame, len);
}

static void test_ipv4(void) {
	route_verdict_t v = decide(me, v4(100, "10.0.0.1", "10.1.2.3", false));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	CHECK(v.to == alpha);
	CHECK(!v.decrement_ttl && !v.clamp);

	/* from a node to us */
	v = decide(alpha, v4(100, "10.1.2.3", "10.0.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	CHECK(v.to == me);

	/* through a relay */
	v = decide(me, v4(100, "10.0.0.1", "10.2.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	CHECK(v.to == beta);

	/* back to where it came from */
	v = decide(alpha, v4(100, "10.1.0.1", "10.1.0.2", false));
	CHECK_EQ_INT(v.action, ROUTE_DROP);
	CHECK_EQ_INT(v.reason, ROUTE_LOOPS_BACK);

	/* beta's frames for beta's subnet arrive from alpha: a loop */
	v = decide(alpha, v4(100, "10.1.0.1", "10.2.0.2", false));
	CHECK_EQ_INT(v.action, ROUTE_DROP);
	CHECK_EQ_INT(v.reason, ROUTE_ROUTING_LOOP);

	v = decide(me, v4(30, "10.0.0.1", "10.1.2.3", false));
	CHECK_EQ_INT(v.action, ROUTE_DROP);
	CHECK_EQ_INT(v.reason, ROUTE_TOO_SHORT);
	v = decide(me, 10);
	CHECK_EQ_INT(v.reason, ROUTE_TOO_SHORT);

	memset(frame, 0, sizeof(frame));
	frame[12] = 0x88;
	frame[13] = 0xcc; /* LLDP */
	v = decide(me, 60);
	CHECK_EQ_INT(v.action, ROUTE_DROP);
	CHECK_EQ_INT(v.reason, ROUTE_UNKNOWN_TYPE);
}

static void test_icmp_errors(void) {
	route_verdict_t v = decide(me, v4(100, "10.0.0.1", "192.0.2.1", false));
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	CHECK_EQ_INT(v.reason, ROUTE_NO_SUBNET);
	CHECK(!v.icmp.v6);
	CHECK_EQ_INT(v.icmp.type, ICMP4_DEST_UNREACH);
	CHECK_EQ_INT(v.icmp.code, ICMP4_NET_UNKNOWN);
	CHECK_EQ_INT(v.icmp.quote_len, 100);

	v = decide(me, v4(100, "10.0.0.1", "10.3.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	CHECK_EQ_INT(v.reason, ROUTE_UNREACHABLE);
	CHECK_EQ_INT(v.icmp.code, ICMP4_NET_UNREACH);

	v = decide(me, v6(100, "fd00::1", "fd99::1"));
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	CHECK(v.icmp.v6);
	CHECK_EQ_INT(v.icmp.type, ICMP6_DST_UNREACH);
	CHECK_EQ_INT(v.icmp.code, ICMP6_DST_UNREACH_ADDR);

	/* Forwarding = off: transit frames are refused, ours are not */
	pol.forwarding = FORWARDING_OFF;
	v = decide(alpha, v4(100, "10.1.0.1", "10.2.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	CHECK_EQ_INT(v.reason, ROUTE_FORWARDING_OFF);
	CHECK_EQ_INT(v.icmp.code, ICMP4_NET_ANO);
	v = decide(alpha, v4(100, "10.1.0.1", "10.0.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	pol.forwarding = FORWARDING_KERNEL;
	v = decide(alpha, v4(100, "10.1.0.1", "10.2.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_TO_DEVICE);
	v = decide(me, v4(100, "10.0.0.1", "10.2.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	pol.forwarding = FORWARDING_INTERNAL;

	/* DirectOnly: beta is only reached through alpha */
	pol.direct_only = true;
	v = decide(me, v4(100, "10.0.0.1", "10.2.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	CHECK_EQ_INT(v.reason, ROUTE_NOT_DIRECT);
	v = decide(me, v4(100, "10.0.0.1", "10.1.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	pol.direct_only = false;
}

static void test_ttl(void) {
	pol.decrement_ttl = true;
	/* transit: alpha's frame for beta (through alpha is a loop; use gamma's
	 * place: make beta direct for this test) */
	beta->via = beta->nexthop = beta;
	v4(100, "10.1.0.1", "10.2.0.1", false);
	route_verdict_t v = decide(alpha, 100);
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	CHECK(v.decrement_ttl);
	route_rewrite(&v, frame, 100);
	CHECK_EQ_INT(frame[14 + 8], 63);
	CHECK_EQ_INT(csum_fold(frame + 14, 20), 0xffff);

	frame[14 + 8] = 1;
	ipv4_set_header_checksum(frame + 14);
	v = decide(alpha, 100);
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	CHECK_EQ_INT(v.reason, ROUTE_TTL_EXCEEDED);
	CHECK_EQ_INT(v.icmp.type, ICMP4_TIME_EXCEEDED);
	CHECK(!v.decrement_ttl);

	/* frames from or for us keep their TTL */
	v = decide(me, v4(100, "10.0.0.1", "10.2.0.1", false));
	CHECK(!v.decrement_ttl);

	v6(100, "fd01::1", "fd00::1");
	v = decide(alpha, 100);
	CHECK(!v.decrement_ttl);
	beta->via = beta->nexthop = alpha;
	pol.decrement_ttl = false;
}

static void test_fragmentation(void) {
	alpha->mtu = 600;
	route_verdict_t v = decide(me, v4(1000, "10.0.0.1", "10.1.0.1", true));
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	CHECK_EQ_INT(v.reason, ROUTE_TOO_BIG);
	CHECK_EQ_INT(v.icmp.code, ICMP4_FRAG_NEEDED);
	CHECK_EQ_INT(v.icmp.mtu, 600 - 14);
	CHECK_EQ_INT(v.icmp.quote_len, 600);

	v = decide(me, v4(1000, "10.0.0.1", "10.1.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_FRAGMENT);
	CHECK(v.to == alpha);
	CHECK_EQ_INT(v.mtu, 600);

	/* small enough */
	v = decide(me, v4(600, "10.0.0.1", "10.1.0.1", true));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);

	/* never below the 576-byte IPv4 minimum */
	alpha->mtu = 100;
	v = decide(me, v4(590, "10.0.0.1", "10.1.0.1", true));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);

	/* IPv6: packet too big, never below 1280 */
	alpha->mtu = 1000;
	v = decide(me, v6(1300, "fd00::1", "fd01::1"));
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	CHECK(v.icmp.v6);
	CHECK_EQ_INT(v.icmp.type, ICMP6_PACKET_TOO_BIG);
	CHECK_EQ_INT(v.icmp.mtu, 1294 - 14);
	CHECK_EQ_INT(v.icmp.quote_len, 1294);
	v = decide(me, v6(1294, "fd00::1", "fd01::1"));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);

	/* to us: no limit */
	v = decide(alpha, v4(1000, "10.1.0.1", "10.0.0.1", true));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	alpha->mtu = MTU;
}

static void test_mss_clamp(void) {
	alpha->options = OPTION_CLAMP_MSS;
	alpha->mtu = 1400;
	me->mtu = 1500;
	route_verdict_t v = decide(me, v4(100, "10.0.0.1", "10.1.0.1", false));
	CHECK(v.clamp);
	CHECK_EQ_INT(v.clamp_mtu, 1400);
	alpha->options = 0;
	v = decide(me, v4(100, "10.0.0.1", "10.1.0.1", false));
	CHECK(!v.clamp);
	alpha->mtu = MTU;
	me->mtu = MTU;
}

static void test_ipv6(void) {
	route_verdict_t v = decide(me, v6(100, "fd00::1", "fd01::5"));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	CHECK(v.to == alpha);
	v = decide(me, v6(40, "fd00::1", "fd01::5"));
	CHECK_EQ_INT(v.reason, ROUTE_TOO_SHORT);
}

static void test_broadcast(void) {
	route_verdict_t v = decide(me, v4(100, "10.0.0.1", "255.255.255.255", false));
	CHECK_EQ_INT(v.action, ROUTE_BROADCAST);
	v = decide(alpha, v4(100, "10.1.0.1", "224.0.0.251", false));
	CHECK_EQ_INT(v.action, ROUTE_BROADCAST);
	v = decide(me, v6(100, "fd00::1", "ff02::1"));
	CHECK_EQ_INT(v.action, ROUTE_BROADCAST);
	/* Broadcast = no: a broadcast address is just an unknown destination */
	pol.broadcast = BROADCAST_NO;
	v = decide(me, v4(100, "10.0.0.1", "255.255.255.255", false));
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	pol.broadcast = BROADCAST_MST;
}

static const uint8_t host_mac[6] = {0x02, 0, 0, 0, 0, 0x77};

static void test_arp(void) {
	uint8_t host_ip[4] = {10, 0, 0, 1}, alpha_ip[4] = {10, 1, 0, 9}, our_ip[4] = {10, 0, 0, 2};
	memset(frame, 0, sizeof(frame));
	put_arp_request(frame, host_mac, host_ip, alpha_ip);
	route_verdict_t v = decide(me, 42);
	CHECK_EQ_INT(v.action, ROUTE_DROP); /* tun: nothing to answer */
	pol.answer_neighbors = true;
	v = decide(me, 42);
	CHECK_EQ_INT(v.action, ROUTE_ARP_REPLY);
	v = decide(alpha, 42);
	CHECK_EQ_INT(v.action, ROUTE_DROP);
	CHECK_EQ_INT(v.reason, ROUTE_NOT_FOR_US);
	put_arp_request(frame, host_mac, host_ip, our_ip);
	v = decide(me, 42);
	CHECK_EQ_INT(v.action, ROUTE_DROP);
	v = decide(me, 30);
	CHECK_EQ_INT(v.action, ROUTE_DROP);
	pol.answer_neighbors = false;
}

/* A neighbour solicitation from fd00::1 for target, with a source
 * link-layer address option and a valid checksum. */
static size_t ndp_solicitation(const char *target) {
	size_t len = 14 + 40 + 24 + 8;
	uint8_t src[16], dst[16] = {0xff, 0x02, [11] = 1, [12] = 0xff};
	inet_pton(AF_INET6, "fd00::1", src);
	memset(frame, 0, sizeof(frame));
	for(int i = 0; i < 6; i++)
		frame[6 + i] = host_mac[i];
	uint8_t *ip = put_ipv6_header(frame, (uint32_t)len, 58, src, dst);
	ip[7] = 255;
	uint8_t *ns = ip + 40;
	ns[0] = 135;
	inet_pton(AF_INET6, target, ns + 8);
	ns[24] = 1;
	ns[25] = 1;
	memcpy(ns + 26, host_mac, 6);
	uint16_t c = inet_checksum(ns, 32, pseudo_sum6(src, dst, 58, 32));
	ns[2] = (uint8_t)(c >> 8);
	ns[3] = (uint8_t)c;
	return len;
}

static void test_ndp(void) {
	pol.answer_neighbors = true;
	size_t len = ndp_solicitation("fd01::9");
	route_verdict_t v = decide(me, len);
	CHECK_EQ_INT(v.action, ROUTE_NDP_ADVERT);
	v = decide(alpha, len);
	CHECK_EQ_INT(v.reason, ROUTE_NOT_FOR_US);
	len = ndp_solicitation("fd00::9");
	v = decide(me, len);
	CHECK_EQ_INT(v.reason, ROUTE_NOT_FOR_US);
	len = ndp_solicitation("fd01::9");
	frame[14 + 40 + 2] ^= 1; /* bad checksum */
	v = decide(me, len);
	CHECK_EQ_INT(v.reason, ROUTE_NOT_FOR_US);
	pol.answer_neighbors = false;
}

/* An Ethernet frame from src to dst MAC carrying IPv4. */
static size_t eth(const uint8_t dst[6], const uint8_t src[6], size_t len) {
	v4(len, "10.0.0.1", "10.1.0.1", false);
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	return len;
}

static void test_switch(void) {
	static const uint8_t alpha_mac[6] = {2, 0, 0, 0, 0, 0x0a}, unknown[6] = {2, 0, 0, 0, 0, 0x55},
	                     our_mac[6] = {2, 0, 0, 0, 0, 1};
	pol.mode = MODE_SWITCH;
	route_verdict_t v = decide(me, eth(alpha_mac, host_mac, 100));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	CHECK(v.to == alpha);
	CHECK_EQ_INT(v.learn, ROUTE_LEARN_NEW);

	v = decide(me, eth(unknown, host_mac, 100));
	CHECK_EQ_INT(v.action, ROUTE_BROADCAST);
	CHECK_EQ_INT(v.learn, ROUTE_LEARN_NEW);

	/* a configured MAC is not learned again, nor refreshed */
	v = decide(me, eth(alpha_mac, our_mac, 100));
	CHECK_EQ_INT(v.learn, ROUTE_LEARN_NOTHING);
	/* frames from other nodes teach us nothing */
	v = decide(alpha, eth(host_mac, alpha_mac, 100));
	CHECK_EQ_INT(v.learn, ROUTE_LEARN_NOTHING);
	CHECK_EQ_INT(v.action, ROUTE_BROADCAST);

	/* once learned (with an expiry time), it is refreshed */
	subnet_t *s = add(me, "02:00:00:00:00:77");
	s->expires = 1000;
	v = decide(me, eth(alpha_mac, host_mac, 100));
	CHECK_EQ_INT(v.learn, ROUTE_LEARN_REFRESH);
	CHECK(v.learned == s);
	v = decide(alpha, eth(host_mac, alpha_mac, 100));
	CHECK_EQ_INT(v.action, ROUTE_TO_NODE);
	CHECK(v.to == me);

	/* aging */
	CHECK(route_expired_mac(me, 999) == NULL);
	CHECK(route_expired_mac(me, 1000) == s);
	CHECK(route_expired_mac(me, 5000) == s);
	subnet_detach(me, s);
	CHECK(route_expired_mac(me, 5000) == NULL);

	/* too big for the path: fragment, or ICMP with DF */
	alpha->mtu = 700;
	v = decide(me, eth(alpha_mac, host_mac, 1000));
	CHECK_EQ_INT(v.action, ROUTE_FRAGMENT);
	CHECK_EQ_INT(v.mtu, 700);
	frame[14 + 6] = 0x40;
	v = decide(me, 1000);
	CHECK_EQ_INT(v.action, ROUTE_ICMP_ERROR);
	CHECK_EQ_INT(v.icmp.mtu, 700 - 14);
	alpha->mtu = MTU;

	/* loops and policy */
	v = decide(alpha, eth(alpha_mac, host_mac, 100));
	CHECK_EQ_INT(v.reason, ROUTE_LOOPS_BACK);
	pol.forwarding = FORWARDING_OFF;
	add(beta, "02:00:00:00:00:0b");
	static const uint8_t beta_mac[6] = {2, 0, 0, 0, 0, 0x0b};
	v = decide(alpha, eth(beta_mac, alpha_mac, 100));
	CHECK_EQ_INT(v.action, ROUTE_DROP);
	CHECK_EQ_INT(v.reason, ROUTE_FORWARDING_OFF);
	pol.forwarding = FORWARDING_INTERNAL;
	pol.direct_only = true;
	v = decide(me, eth(beta_mac, host_mac, 100));
	CHECK_EQ_INT(v.reason, ROUTE_NOT_DIRECT);
	pol.direct_only = false;
	pol.mode = MODE_ROUTER;
}

static void test_hub(void) {
	pol.mode = MODE_HUB;
	route_verdict_t v = decide(me, v4(100, "10.0.0.1", "10.1.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_BROADCAST);
	v = decide(alpha, v4(100, "10.1.0.1", "10.0.0.1", false));
	CHECK_EQ_INT(v.action, ROUTE_BROADCAST);
	CHECK_EQ_INT(v.learn, ROUTE_LEARN_NOTHING);
	v = decide(me, 10);
	CHECK_EQ_INT(v.action, ROUTE_DROP);
	pol.mode = MODE_ROUTER;
}

int main(void) {
	setup();
	test_ipv4();
	test_icmp_errors();
	test_ttl();
	test_fragmentation();
	test_mss_clamp();
	test_ipv6();
	test_broadcast();
	test_arp();
	test_ndp();
	test_switch();
	test_hub();
	teardown();
	return unit_done();
}
