/* The global subnet table and the data-path lookups (protocol.md §6.5). */
#include "util/compat.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "mesh/edge.h"
#include "mesh/graph.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "mesh_fixtures.h"
#include "unit.h"

static node_t *mknode(const char *name, bool reachable) {
	return fixture_node(name, reachable, 0);
}

/* Parse and attach; NULL (and a failed check) if the string is bad. */
static subnet_t *add(node_t *owner, const char *str) {
	subnet_t *s = fixture_subnet(owner, str);
	CHECK(s != NULL); /* a subnet string of the test itself */
	return s;
}

static subnet_t *v4(const char *a) {
	uint8_t addr[4];
	if(inet_pton(AF_INET, a, addr) != 1)
		return (subnet_t *)-1;
	return subnet_match_ipv4(addr);
}

static subnet_t *v6(const char *a) {
	uint8_t addr[16];
	if(inet_pton(AF_INET6, a, addr) != 1)
		return (subnet_t *)-1;
	return subnet_match_ipv6(addr);
}

static void setup(void) {
	node_table_init();
	edge_table_init();
	subnet_table_init();
	local_node = mknode("me", false); /* local_node counts as reachable regardless */
}

static void teardown(void) {
	mesh_exit();
}

static void test_longest_prefix(void) {
	setup();
	node_t *a = mknode("a", true);
	node_t *b = mknode("b", true);
	subnet_t *a8 = add(a, "10.0.0.0/8");
	subnet_t *b16 = add(b, "10.1.0.0/16");
	subnet_t *def = add(local_node, "0.0.0.0/0");
	/* a network-received subnet may have host bits set; it still matches */
	subnet_t *b24 = add(b, "10.2.3.4/24");

	CHECK(v4("10.1.2.3") == b16);
	CHECK(v4("10.2.0.1") == a8);
	CHECK(v4("10.2.3.200") == b24);
	CHECK(v4("11.0.0.1") == def);
	CHECK(v4("10.255.255.255") == a8);

	subnet_detach(local_node, def);
	subnet_lookup_cache_clear();
	CHECK(v4("11.0.0.1") == NULL);
	teardown();
}

static void test_equal_prefix(void) {
	setup();
	node_t *a = mknode("a", true);
	node_t *c = mknode("c", true);
	node_t *m = mknode("m", true);
	node_t *x = mknode("x", true);
	add(a, "192.168.0.0/24#20");
	subnet_t *c10 = add(c, "192.168.0.0/24#10");
	CHECK(v4("192.168.0.7") == c10); /* lower weight wins */

	add(x, "172.16.0.0/12#10");
	subnet_t *m12 = add(m, "172.16.0.0/12#10");
	CHECK(v4("172.20.1.1") == m12); /* same weight: owner name order */
	teardown();
}

static void test_unreachable(void) {
	setup();
	node_t *a = mknode("a", true);
	node_t *b = mknode("b", false);
	node_t *c = mknode("c", false);
	subnet_t *a8 = add(a, "10.0.0.0/8");
	subnet_t *b16 = add(b, "10.1.0.0/16");
	subnet_t *c8 = add(c, "10.0.0.0/8#5");

	/* b is unreachable: its more specific route is bypassed. c sorts before
	 * a (lower weight) but is unreachable too. */
	CHECK(v4("10.1.2.3") == a8);

	/* Nobody reachable: the last match in table order is returned, which is
	 * the least preferred one (a's /8, weight 10 after c's weight 5). */
	a->status.reachable = false;
	subnet_lookup_cache_clear();
	CHECK(v4("10.1.2.3") == a8);
	/* ... and without a: c's /8 is the last match */
	mesh_del_node(a);
	CHECK(v4("10.1.2.3") == c8);

	/* local_node is always usable, even before any graph run marked it. */
	subnet_t *mine = add(local_node, "10.1.2.0/24");
	CHECK(!local_node->status.reachable);
	CHECK(v4("10.1.2.3") == mine);
	CHECK(v4("10.1.3.3") == c8);
	(void)b16;
	teardown();
}

static void test_ipv6(void) {
	setup();
	node_t *a = mknode("a", true);
	node_t *b = mknode("b", true);
	subnet_t *a8 = add(a, "fd00::/8");
	subnet_t *b32 = add(b, "fd81:1::/32");
	subnet_t *b29 = add(b, "2001:db8::/29");
	subnet_t *host = add(a, "fd81:1::5/128");
	add(a, "10.0.0.0/8"); /* other types never match */
	add(a, "2:0:0:0:0:1");

	CHECK(v6("fd81:1::5") == host);
	CHECK(v6("fd81:1::6") == b32);
	CHECK(v6("fd81:2::1") == a8);
	CHECK(v6("2001:dbf::1") == b29);   /* 0x0db8..0x0dbf is inside /29 */
	CHECK(v6("2001:dc0::1") == NULL);
	CHECK(v6("::ffff:10.0.0.1") == NULL);
	teardown();
}

static void test_mac(void) {
	setup();
	node_t *a = mknode("a", false);
	node_t *b = mknode("b", true);
	static const uint8_t mac1[6] = {0x02, 0, 0, 0, 0, 0x01};
	static const uint8_t mac2[6] = {0x22, 0x95, 0x1d, 0x68, 0xb8, 0x3d};
	static const uint8_t mac3[6] = {0x02, 0, 0, 0, 0, 0x02};

	subnet_t *a1 = add(a, "2:0:0:0:0:1#5");
	subnet_t *b1 = add(b, "2:0:0:0:0:1#10");
	subnet_t *b2 = add(b, "22:95:1d:68:b8:3d");
	add(b, "10.0.0.0/8");

	/* a's entry sorts first (weight 5) but a is unreachable. */
	CHECK(subnet_match_mac(NULL, mac1) == b1);
	CHECK(subnet_match_mac(NULL, mac2) == b2);
	CHECK(subnet_match_mac(NULL, mac3) == NULL);
	/* Restricted to one owner, the answer must not come from the cache
	 * entry of another owner. */
	CHECK(subnet_match_mac(a, mac1) == a1);
	CHECK(subnet_match_mac(b, mac1) == b1);
	CHECK(subnet_match_mac(a, mac2) == NULL);
	CHECK(subnet_match_mac(local_node, mac1) == NULL);

	b->status.reachable = false;
	subnet_lookup_cache_clear();
	CHECK(subnet_match_mac(NULL, mac1) == b1); /* last match */
	teardown();
}

static void test_exact_lookup(void) {
	setup();
	node_t *a = mknode("a", true);
	node_t *b = mknode("b", true);
	subnet_t *s = add(a, "10.1.0.0/16#7");
	subnet_t key;

	memset(&key, 0, sizeof(key));
	CHECK(subnet_parse(&key, "10.1.0.0/16#7"));
	CHECK(subnet_find(a, &key) == s);
	CHECK(subnet_find(b, &key) == NULL);
	CHECK(subnet_parse(&key, "10.1.0.0/16#10"));
	CHECK(subnet_find(a, &key) == NULL); /* weight is part of identity */
	CHECK(subnet_parse(&key, "10.1.0.0/17#7"));
	CHECK(subnet_find(a, &key) == NULL);
	CHECK(subnet_find(NULL, &key) == NULL);

	CHECK_EQ_INT(a->subnets.count, 1);
	CHECK_EQ_INT(subnets_all.count, 1);
	subnet_detach(a, s);
	CHECK_EQ_INT(a->subnets.count, 0);
	CHECK_EQ_INT(subnets_all.count, 0);
	teardown();
}

static void test_cache(void) {
	setup();
	node_t *a = mknode("a", true);
	node_t *b = mknode("b", true);
	node_t *c = mknode("c", true);
	subnet_t *a8 = add(a, "10.0.0.0/8");
	subnet_t *b16 = add(b, "10.1.0.0/16");

	CHECK(v4("10.1.2.3") == b16);
	CHECK(v4("10.1.2.3") == b16); /* from the cache */
	subnet_t *c24 = add(c, "10.1.2.0/24");
	CHECK(v4("10.1.2.3") == c24);
	subnet_detach(c, c24);
	CHECK(v4("10.1.2.3") == b16);

	/* Many different addresses cycle the cache without confusing them. */
	for(int i = 0; i < 5; i++) {
		CHECK(v4("10.1.0.1") == b16);
		CHECK(v4("10.2.0.1") == a8);
		CHECK(v4("10.3.0.1") == a8);
	}

	uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
	CHECK(subnet_match_mac(NULL, mac) == NULL);
	subnet_t *m = add(c, "2:0:0:0:0:9");
	CHECK(subnet_match_mac(NULL, mac) == m);

	CHECK(v6("fd00::1") == NULL);
	subnet_t *s6 = add(b, "fd00::/16");
	CHECK(v6("fd00::1") == s6);
	subnet_detach(b, s6);
	CHECK(v6("fd00::1") == NULL);

	/* A reachability change is picked up after graph(), which flushes.
	 * b is connected to us, then the link goes away. */
	edge_t *e1 = edge_new(), *e2 = edge_new();
	e1->from = local_node, e1->to = b;
	e2->from = b, e2->to = local_node;
	edge_link(e1);
	edge_link(e2);
	graph(NULL);
	CHECK(b->status.reachable);
	CHECK(!a->status.reachable); /* no edges: graph() made it unreachable */
	CHECK(v4("10.1.2.3") == b16);
	edge_unlink(e1);
	edge_unlink(e2);
	graph(NULL);
	CHECK(!b->status.reachable);
	CHECK(v4("10.1.2.3") == a8); /* nobody reachable: last match */
	teardown();
}

/* ---- cross-check against a plain walk of the table ----
 *
 * The lookups jump through the table by binary search; protocol.md §6.5 describes a
 * walk over every entry in table order. On random tables with many overlaps
 * both must give the same answer. */

static uint32_t rng_state = 0x12345678;

static uint32_t rnd(uint32_t n) {
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state % n;
}

static bool bits_match(const uint8_t *net, const uint8_t *addr, int prefix) {
	for(int bit = 0; bit < prefix; bit++) {
		int mask = 0x80 >> (bit % 8);
		if((net[bit / 8] & mask) != (addr[bit / 8] & mask))
			return false;
	}
	return true;
}

static bool usable(const node_t *n) {
	return n == local_node || n->status.reachable;
}

static subnet_t *reference_ip(subnet_kind_t type, const uint8_t *addr) {
	subnet_t *found = NULL;
	for(size_t i = 0; i < subnets_all.count; i++) {
		subnet_t *s = subnets_all.items[i];
		if(s->type != type)
			continue;
		bool match = type == SUBNET_IPV4
		             ? bits_match(s->net.ipv4.address, addr, s->net.ipv4.prefix_bits)
		             : bits_match(s->net.ipv6.address, addr, s->net.ipv6.prefix_bits);
		if(!match)
			continue;
		found = s;
		if(usable(s->owner))
			break;
	}
	return found;
}

static subnet_t *reference_mac(const node_t *owner, const uint8_t *mac) {
	subnet_t *found = NULL;
	for(size_t i = 0; i < subnets_all.count; i++) {
		subnet_t *s = subnets_all.items[i];
		if(s->type != SUBNET_MAC || (owner && s->owner != owner) || memcmp(s->net.mac.address, mac, 6))
			continue;
		found = s;
		if(usable(s->owner))
			break;
	}
	return found;
}

static void random_address(subnet_kind_t type, uint8_t *a) {
	/* A small space, so that many subnets overlap. */
	if(type == SUBNET_IPV4) {
		a[0] = 10;
		a[1] = (uint8_t)rnd(3);
		a[2] = (uint8_t)rnd(8);
		a[3] = (uint8_t)rnd(256);
	} else if(type == SUBNET_IPV6) {
		memset(a, 0, 16);
		a[0] = 0xfd;
		a[1] = (uint8_t)rnd(2);
		a[6] = (uint8_t)rnd(16);
		a[7] = (uint8_t)rnd(4);
		a[15] = (uint8_t)rnd(4);
	} else {
		a[0] = 2;
		a[1] = a[2] = a[3] = a[4] = 0;
		a[5] = (uint8_t)rnd(24);
	}
}

static void add_random(node_t *owners[9]) {
	static const int prefixes4[] = {0, 8, 16, 20, 23, 24, 25, 30, 32};
	static const int prefixes6[] = {0, 8, 16, 48, 52, 56, 61, 64, 127, 128};
	static const int weights[] = {5, 10, 10, 20};
	subnet_t *s = subnet_new();
	s->type = (subnet_kind_t)rnd(3);
	s->weight = weights[rnd(4)];
	if(s->type == SUBNET_IPV4) {
		random_address(SUBNET_IPV4, s->net.ipv4.address);
		s->net.ipv4.prefix_bits = prefixes4[rnd(ARRAY_SIZE(prefixes4))];
	} else if(s->type == SUBNET_IPV6) {
		random_address(SUBNET_IPV6, s->net.ipv6.address);
		s->net.ipv6.prefix_bits = prefixes6[rnd(ARRAY_SIZE(prefixes6))];
	} else {
		random_address(SUBNET_MAC, s->net.mac.address);
	}
	node_t *owner = owners[rnd(9)];
	if(subnet_find(owner, s))
		subnet_free(s);
	else
		subnet_attach(owner, s);
}

static void test_against_reference(void) {
	setup();
	node_t *owners[9];
	owners[0] = local_node;
	for(int i = 1; i < 9; i++) {
		char name[8];
		snprintf(name, sizeof(name), "o%d", i);
		owners[i] = mknode(name, rnd(3) != 0);
	}

	for(int i = 0; i < 600; i++)
		add_random(owners);

	int mismatches = 0, hits = 0;
	for(int round = 0; round < 5; round++) {
		if(round > 0) {
			/* Change reachability, as graph() would, and the table itself:
			 * all types, so that the positions of the others shift. */
			for(int i = 1; i < 9; i++)
				owners[i]->status.reachable = rnd(3) != 0;
			subnet_lookup_cache_clear();
			for(int i = 0; i < 30; i++) {
				subnet_t *victim = subnets_all.items[rnd((uint32_t)subnets_all.count)];
				subnet_detach(victim->owner, victim);
				add_random(owners);
			}
		}
		for(int q = 0; q < 3000; q++) {
			subnet_kind_t type = (subnet_kind_t)rnd(3);
			uint8_t a[16];
			random_address(type, a);
			subnet_t *got, *want;
			if(type == SUBNET_IPV4) {
				got = subnet_match_ipv4(a);
				want = reference_ip(type, a);
			} else if(type == SUBNET_IPV6) {
				got = subnet_match_ipv6(a);
				want = reference_ip(type, a);
			} else {
				const node_t *owner = rnd(2) ? NULL : owners[rnd(9)];
				got = subnet_match_mac(owner, a);
				want = reference_mac(owner, a);
			}
			if(got != want)
				mismatches++;
			if(want)
				hits++;
		}
	}
	CHECK_EQ_INT(mismatches, 0);
	CHECK(hits > 7500); /* the queries mostly hit something */
	teardown();
}

int main(void) {
	test_longest_prefix();
	test_equal_prefix();
	test_unreachable();
	test_ipv6();
	test_mac();
	test_exact_lookup();
	test_cache();
	test_against_reference();
	return unit_done();
}
