/* Node and edge tables, reachability (BFS) and the broadcast tree (MST),
 * checked on small graphs built in memory. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "mesh/edge.h"
#include "mesh/graph.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "mesh_fixtures.h"
#include "unit.h"

/* ---- helpers ---- */

static node_t *mknode(const char *name) {
	return fixture_node(name, false, 0);
}

/* A meta connection announced by both ends: the two edges carry the same
 * options, as tinc's ACK exchange makes them. */
static void mklink(node_t *a, node_t *b, uint32_t options, int weight) {
	fixture_edge(a, b, options, weight);
	fixture_edge(b, a, options, weight);
}

static void unlink_nodes(node_t *a, node_t *b) {
	edge_unlink(edge_find(a, b));
	edge_unlink(edge_find(b, a));
}

static void setup(void) {
	node_table_init();
	edge_table_init();
	subnet_table_init();
	local_node = mknode("me");
}

static void teardown(void) {
	mesh_exit();
}

/* Reachability callback: counts calls per node and records the flag value
 * seen during the call. */
#define MAXCALLS 32
static const node_t *called[MAXCALLS];
static bool called_reachable[MAXCALLS];
static int ncalls;

static void on_reachability(node_t *n) {
	if(ncalls < MAXCALLS) {
		called[ncalls] = n;
		called_reachable[ncalls] = n->status.reachable;
	}
	ncalls++;
}

static int calls_for(const node_t *n) {
	int c = 0;
	for(int i = 0; i < ncalls && i < MAXCALLS; i++)
		if(called[i] == n)
			c++;
	return c;
}

static sockaddr_u addr(const char *host, const char *port) {
	sockaddr_u sa;
	if(!sockaddr_parse(host, port, &sa))
		memset(&sa, 0, sizeof(sa));
	return sa;
}

/* ---- tests ---- */

static void test_node_basics(void) {
	setup();
	node_t *b = mknode("b");
	CHECK_EQ_INT(b->mtu, 1518);
	CHECK_EQ_INT(b->mtu_ceiling, 1518);
	CHECK_EQ_INT(b->mtu_floor, 0);
	CHECK(node_find("b") == b);
	CHECK(node_find("me") == local_node);
	CHECK(node_find("c") == NULL);
	CHECK(node_find(NULL) == NULL);

	/* Status bits as tinc 1.0 prints them (protocol.md §6.1). */
	CHECK_EQ_INT(node_status_bits(b), 0);
	b->status.tx_key_valid = true;
	b->status.visited = true;
	b->status.reachable = true;
	CHECK_EQ_INT(node_status_bits(b), 0x1a);
	b->status.tx_key_valid = false;
	b->status.indirect = true;
	CHECK_EQ_INT(node_status_bits(b), 0x38);
	memset(&b->status, 0, sizeof(b->status));
	b->status.key_requested = true;
	CHECK_EQ_INT(node_status_bits(b), 0x04);
	teardown();
}

static void test_udp_index(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	sockaddr_u ab = addr("10.0.0.2", "655");
	sockaddr_u ac = addr("fd00::3", "656");
	sockaddr_u other = addr("10.0.0.2", "656");

	CHECK(node_find_by_udp(&ab) == NULL);
	node_set_udp_address(b, &ab);
	node_set_udp_address(c, &ac);
	CHECK(node_find_by_udp(&ab) == b);
	CHECK(node_find_by_udp(&ac) == c);
	CHECK(node_find_by_udp(&other) == NULL); /* port matters */
	CHECK_EQ_STR(b->hostname, "10.0.0.2 port 655");
	CHECK_EQ_STR(c->hostname, "fd00::3 port 656");

	/* Moving b forgets the old address. */
	node_set_udp_address(b, &other);
	CHECK(node_find_by_udp(&ab) == NULL);
	CHECK(node_find_by_udp(&other) == b);
	CHECK_EQ_STR(b->hostname, "10.0.0.2 port 656");

	node_set_udp_address(b, NULL);
	CHECK(node_find_by_udp(&other) == NULL);
	CHECK_EQ_INT(b->address.sa.sa_family, 0);

	sockaddr_u none;
	memset(&none, 0, sizeof(none));
	node_set_udp_address(c, &none);
	CHECK(node_find_by_udp(&ac) == NULL);
	CHECK_EQ_INT(c->address.sa.sa_family, 0);

	/* A deleted node leaves the index. */
	node_set_udp_address(c, &ac);
	node_unregister(c);
	CHECK(node_find_by_udp(&ac) == NULL);
	CHECK(node_find("c") == NULL);
	teardown();
}

static void test_edge_table(void) {
	setup();
	node_t *a = mknode("a");
	node_t *b = mknode("b");
	node_t *z = mknode("z");

	edge_t *ab = fixture_edge(a, b, 0, 10);
	CHECK(ab->reverse == NULL);
	edge_t *ba = fixture_edge(b, a, 0, 10);
	CHECK(ab->reverse == ba);
	CHECK(ba->reverse == ab);
	CHECK(edge_find(a, b) == ab);
	CHECK(edge_find(b, a) == ba);
	CHECK(edge_find(a, z) == NULL);

	/* from->edges in destination-name order regardless of insertion order. */
	edge_t *az = fixture_edge(a, z, 0, 5);
	edge_t *am = fixture_edge(a, local_node, 0, 5);
	CHECK_EQ_INT(a->edges.count, 3);
	CHECK(a->edges.items[0] == ab);
	CHECK(a->edges.items[1] == am);
	CHECK(a->edges.items[2] == az);

	/* Weight order: weight, then from name, then to name. */
	edge_t *zb = fixture_edge(z, b, 0, 5);
	CHECK_EQ_INT(edges_by_weight.count, 5);
	CHECK(edges_by_weight.items[0] == am); /* 5 a me */
	CHECK(edges_by_weight.items[1] == az); /* 5 a z */
	CHECK(edges_by_weight.items[2] == zb); /* 5 z b */
	CHECK(edges_by_weight.items[3] == ab); /* 10 a b */
	CHECK(edges_by_weight.items[4] == ba); /* 10 b a */

	/* Deleting one direction clears the other's back pointer. */
	edge_unlink(ab);
	CHECK(ba->reverse == NULL);
	CHECK(edge_find(a, b) == NULL);
	CHECK_EQ_INT(edges_by_weight.count, 4);
	edge_t *ab2 = fixture_edge(a, b, 0, 10);
	CHECK(ab2->reverse == ba);
	CHECK(ba->reverse == ab2);

	/* mesh_del_node takes its subnets, its edges and the edges towards it. */
	subnet_t *s = subnet_new();
	s->type = SUBNET_IPV4;
	s->net.ipv4.address[0] = 10;
	s->net.ipv4.prefix_bits = 8;
	subnet_attach(b, s);
	CHECK_EQ_INT(subnets_all.count, 1);
	mesh_del_node(b);
	CHECK_EQ_INT(subnets_all.count, 0);
	CHECK(edge_find(a, node_find("b")) == NULL);
	CHECK_EQ_INT(a->edges.count, 2); /* a->me, a->z */
	CHECK_EQ_INT(edges_by_weight.count, 2);
	teardown();
}

static void test_chain(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	mklink(local_node, b, 0x0c, 10);
	mklink(b, c, 0x0c, 10);
	graph(NULL);

	CHECK(b->status.reachable);
	CHECK(!b->status.indirect);
	CHECK(b->nexthop == b);
	CHECK(b->via == b);
	CHECK(c->status.reachable);
	CHECK(!c->status.indirect);
	CHECK(c->nexthop == b);
	CHECK(c->via == c);
	CHECK(c->parent_edge == edge_find(b, c));
	CHECK_EQ_INT(c->options, 0x0c);
	CHECK(local_node->nexthop == local_node);
	CHECK(local_node->via == local_node);
	CHECK(local_node->parent_edge == NULL);
	CHECK(local_node->status.reachable);
	teardown();
}

static void test_indirect(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	node_t *d = mknode("d");
	mklink(local_node, b, 0x0c, 10);
	fixture_edge(b, c, 0x0d, 10); /* c is behind b: INDIRECT */
	fixture_edge(c, b, 0x0d, 10);
	mklink(c, d, 0x0c, 10); /* d is reached through c, still indirect */
	graph(NULL);

	CHECK(c->status.reachable);
	CHECK(c->status.indirect);
	CHECK(c->nexthop == b);
	CHECK(c->via == b);
	CHECK_EQ_INT(c->options, 0x0d);
	CHECK(d->status.reachable);
	CHECK(d->status.indirect);
	CHECK(d->nexthop == b);
	CHECK(d->via == b);
	/* protocol.md §6.1: 0038 = indirect, no key */
	CHECK_EQ_INT(node_status_bits(c) & 0x3a, 0x38);

	/* INDIRECT on our own edge: via stays us, the next hop does the work. */
	node_t *e = mknode("e");
	fixture_edge(local_node, e, 0x0d, 10);
	fixture_edge(e, local_node, 0x0d, 10);
	graph(NULL);
	CHECK(e->status.reachable);
	CHECK(e->status.indirect);
	CHECK(e->via == local_node);
	CHECK(e->nexthop == e);
	teardown();
}

/* The RFC 6040 bit (0x10) in a mixed mesh (issue 4, doc/protocol-ecn.md):
 * me (fqtinc) - b (tinc 1.0.36) - c (fqtinc), d (fqtinc, IndirectData)
 * behind b, e (tinc 1.0.36, IndirectData) behind c. Edge options are what
 * each side's ACK handling gives: tinc ORs the peer's ACK bits into its
 * edge, fqtinc ORs them but never its own bit. A node's options come from
 * the edge the search reached it by, and the sender's mode is that of the
 * via node. */
static void test_ecn_bit(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	node_t *d = mknode("d");
	node_t *e = mknode("e");
	fixture_edge(local_node, b, 0x0c, 10); /* b announced nothing */
	fixture_edge(b, local_node, 0x1c, 10); /* b ORed our announcement */
	fixture_edge(b, c, 0x1c, 10);
	fixture_edge(c, b, 0x0c, 10);
	fixture_edge(b, d, 0x1d, 10);
	fixture_edge(d, b, 0x0d, 10);
	fixture_edge(c, e, 0x0d, 10);
	fixture_edge(e, c, 0x1d, 10);
	graph(NULL);

	CHECK_EQ_INT(b->options & OPTION_ECN_RFC6040, 0);
	CHECK_EQ_INT(c->options & OPTION_ECN_RFC6040, OPTION_ECN_RFC6040);
	CHECK(c->via == c);
	/* d decapsulates correctly, but packets for it go to b: compatibility */
	CHECK_EQ_INT(d->options & OPTION_ECN_RFC6040, OPTION_ECN_RFC6040);
	CHECK(d->via == b);
	CHECK_EQ_INT(d->via->options & OPTION_ECN_RFC6040, 0);
	/* e does not, but packets for it go to c: normal mode on that hop */
	CHECK_EQ_INT(e->options & OPTION_ECN_RFC6040, 0);
	CHECK(e->via == c);
	CHECK_EQ_INT(e->via->options & OPTION_ECN_RFC6040, OPTION_ECN_RFC6040);
	teardown();
}

static void test_no_reverse(void) {
	setup();
	node_t *b = mknode("b");
	node_t *d = mknode("d");
	mklink(local_node, b, 0, 10);
	fixture_edge(b, d, 0, 10); /* d never confirmed the link */
	fixture_edge(local_node, d, 0, 10); /* nor ours */
	graph(NULL);
	CHECK(b->status.reachable);
	CHECK(!d->status.reachable);
	CHECK(d->nexthop == NULL);
	CHECK(d->via == NULL);

	/* Once d announces its side, it becomes reachable directly (via our
	 * edge, which is scanned first). */
	fixture_edge(d, local_node, 0, 10);
	graph(NULL);
	CHECK(d->status.reachable);
	CHECK(d->nexthop == d);
	CHECK(d->parent_edge == edge_find(local_node, d));
	teardown();
}

static void test_tie_by_name(void) {
	setup();
	/* Created in reverse name order so that insertion order cannot help. */
	node_t *x = mknode("x");
	node_t *zeta = mknode("zeta");
	node_t *alpha = mknode("alpha");
	mklink(local_node, zeta, 0, 1);
	mklink(local_node, alpha, 0, 100); /* weights do not matter to the BFS */
	mklink(zeta, x, 0, 1);
	mklink(alpha, x, 0, 100);
	graph(NULL);
	CHECK(x->status.reachable);
	CHECK(x->nexthop == alpha);
	CHECK(x->parent_edge == edge_find(alpha, x));
	CHECK(x->via == x);
	teardown();
}

static void test_reachability_callback(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	node_t *d = mknode("d");
	node_t *lonely = mknode("lonely");
	mklink(local_node, b, 0, 10);
	mklink(b, c, 0, 10);
	mklink(c, d, 0, 10);

	ncalls = 0;
	graph(on_reachability);
	CHECK_EQ_INT(ncalls, 3);
	CHECK_EQ_INT(calls_for(b), 1);
	CHECK_EQ_INT(calls_for(c), 1);
	CHECK_EQ_INT(calls_for(d), 1);
	CHECK_EQ_INT(calls_for(lonely), 0);
	CHECK_EQ_INT(calls_for(local_node), 0);
	for(int i = 0; i < ncalls && i < MAXCALLS; i++)
		CHECK(called_reachable[i]);

	/* Nothing changed: no calls. */
	ncalls = 0;
	graph(on_reachability);
	CHECK_EQ_INT(ncalls, 0);

	/* Cut b–c: c and d go, b stays. */
	unlink_nodes(b, c);
	ncalls = 0;
	graph(on_reachability);
	CHECK_EQ_INT(ncalls, 2);
	CHECK_EQ_INT(calls_for(c), 1);
	CHECK_EQ_INT(calls_for(d), 1);
	CHECK_EQ_INT(calls_for(b), 0);
	for(int i = 0; i < ncalls && i < MAXCALLS; i++)
		CHECK(!called_reachable[i]);
	CHECK(!c->status.reachable);
	CHECK(!d->status.reachable);
	CHECK(c->nexthop == NULL && c->via == NULL && c->parent_edge == NULL);
	CHECK(b->status.reachable);

	/* Half a link is not enough to come back. */
	fixture_edge(b, c, 0, 10);
	ncalls = 0;
	graph(on_reachability);
	CHECK_EQ_INT(ncalls, 0);
	fixture_edge(c, b, 0, 10);
	ncalls = 0;
	graph(on_reachability);
	CHECK_EQ_INT(ncalls, 2);
	CHECK(c->status.reachable && d->status.reachable);
	teardown();
}

static void test_upgrade_to_direct(void) {
	setup();
	node_t *a = mknode("a");
	node_t *b = mknode("b");
	/* Our own link to b is INDIRECT (b has IndirectData towards us), but a
	 * reaches b directly: the BFS first reaches b indirectly from us, then
	 * upgrades it when it scans a's edges. */
	mklink(local_node, a, 0, 10);
	fixture_edge(local_node, b, OPTION_INDIRECT, 10);
	fixture_edge(b, local_node, OPTION_INDIRECT, 10);
	mklink(a, b, 0x0c, 10);
	graph(NULL);

	CHECK(b->status.reachable);
	CHECK(!b->status.indirect);
	CHECK(b->via == b);
	CHECK(b->parent_edge == edge_find(a, b));
	CHECK_EQ_INT(b->options, 0x0c);
	/* The next hop is chosen at the first visit and kept. */
	CHECK(b->nexthop == b);

	/* The reverse never happens: a direct node is not made indirect. */
	node_t *c = mknode("c");
	mklink(local_node, c, 0, 10);
	fixture_edge(a, c, OPTION_INDIRECT, 10);
	fixture_edge(c, a, OPTION_INDIRECT, 10);
	graph(NULL);
	CHECK(!c->status.indirect);
	CHECK(c->via == c);
	CHECK(c->parent_edge == edge_find(local_node, c));
	teardown();
}

static void test_bfs_address(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	node_t *d = mknode("d");
	mklink(local_node, b, 0, 10);
	mklink(b, c, 0, 10);
	mklink(b, d, 0, 10);
	edge_find(local_node, b)->address = addr("192.0.2.2", "655");
	edge_find(b, c)->address = addr("192.0.2.3", "655");
	/* b→d carries an opaque address: family 0 */
	sockaddr_u known = addr("198.51.100.9", "700");
	node_set_udp_address(c, &known); /* c already has an address: kept */
	graph(NULL);

	sockaddr_u bexp = addr("192.0.2.2", "655");
	CHECK(sockaddr_cmp(&b->address, &bexp) == 0);
	CHECK(node_find_by_udp(&bexp) == b);
	CHECK(sockaddr_cmp(&c->address, &known) == 0);
	CHECK_EQ_INT(d->address.sa.sa_family, 0);
	teardown();
}

static bool in_tree(node_t *from, node_t *to) {
	edge_t *e = edge_find(from, to);
	return e && e->on_mst;
}

static void test_mst(void) {
	setup();
	node_t *a = mknode("a");
	node_t *b = mknode("b");

	/* Triangle: me–a 10, a–b 20, me–b 30. The heaviest edge closes a cycle. */
	mklink(local_node, a, 0, 10);
	mklink(a, b, 0, 20);
	mklink(local_node, b, 0, 30);
	edge_find(local_node, b)->on_mst = true; /* stale flag from an earlier run must be cleared */
	graph(NULL);
	CHECK(in_tree(local_node, a) && in_tree(a, local_node));
	CHECK(in_tree(a, b) && in_tree(b, a));
	CHECK(!in_tree(local_node, b) && !in_tree(b, local_node));

	/* Make a–b the heaviest: both our links are in the tree. */
	unlink_nodes(a, b);
	mklink(a, b, 0, 40);
	graph(NULL);
	CHECK(in_tree(local_node, a));
	CHECK(in_tree(local_node, b));
	CHECK(!in_tree(a, b));

	/* A fourth node hanging off b only: the seed is the lightest edge, and a
	 * skipped edge is picked up after a later one joins the tree. */
	node_t *c = mknode("c");
	mklink(b, c, 0, 1);
	graph(NULL);
	CHECK(c->status.reachable);
	CHECK(in_tree(local_node, a));
	CHECK(in_tree(local_node, b));
	CHECK(in_tree(b, c) && in_tree(c, b));

	/* An edge of ours without reverse does not count. */
	unlink_nodes(local_node, b);
	fixture_edge(local_node, b, 0, 30);
	graph(NULL);
	CHECK(!in_tree(local_node, b));
	CHECK(in_tree(local_node, a));
	CHECK(b->status.reachable); /* through a */

	teardown();
}

int main(void) {
	test_node_basics();
	test_udp_index();
	test_edge_table();
	test_chain();
	test_indirect();
	test_ecn_bit();
	test_no_reverse();
	test_tie_by_name();
	test_reachability_callback();
	test_upgrade_to_direct();
	test_bfs_address();
	test_mst();
	return unit_done();
}
