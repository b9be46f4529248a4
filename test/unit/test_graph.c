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
#include "unit.h"

/* ---- helpers ---- */

static node_t *mknode(const char *name) {
	node_t *n = node_new(name);
	node_add(n);
	return n;
}

static edge_t *mkedge(node_t *from, node_t *to, uint32_t options, int weight) {
	edge_t *e = edge_new();
	e->from = from;
	e->to = to;
	e->options = options;
	e->weight = weight;
	edge_add(e);
	return e;
}

/* A meta connection announced by both ends: the two edges carry the same
 * options, as tinc's ACK exchange makes them. */
static void mklink(node_t *a, node_t *b, uint32_t options, int weight) {
	mkedge(a, b, options, weight);
	mkedge(b, a, options, weight);
}

static void unlink_nodes(node_t *a, node_t *b) {
	edge_del(lookup_edge(a, b));
	edge_del(lookup_edge(b, a));
}

static void setup(void) {
	node_table_init();
	edge_table_init();
	subnet_table_init();
	myself = mknode("me");
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
	if(!str2sockaddr(host, port, &sa))
		memset(&sa, 0, sizeof(sa));
	return sa;
}

/* ---- tests ---- */

static void test_node_basics(void) {
	setup();
	node_t *b = mknode("b");
	CHECK_EQ_INT(b->mtu, 1518);
	CHECK_EQ_INT(b->maxmtu, 1518);
	CHECK_EQ_INT(b->minmtu, 0);
	CHECK(lookup_node("b") == b);
	CHECK(lookup_node("me") == myself);
	CHECK(lookup_node("c") == NULL);
	CHECK(lookup_node(NULL) == NULL);

	/* Status bits as tinc 1.0 prints them (spec §6.1). */
	CHECK_EQ_INT(node_status_bits(b), 0);
	b->status.validkey = true;
	b->status.visited = true;
	b->status.reachable = true;
	CHECK_EQ_INT(node_status_bits(b), 0x1a);
	b->status.validkey = false;
	b->status.indirect = true;
	CHECK_EQ_INT(node_status_bits(b), 0x38);
	memset(&b->status, 0, sizeof(b->status));
	b->status.waitingforkey = true;
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

	CHECK(lookup_node_udp(&ab) == NULL);
	update_node_udp(b, &ab);
	update_node_udp(c, &ac);
	CHECK(lookup_node_udp(&ab) == b);
	CHECK(lookup_node_udp(&ac) == c);
	CHECK(lookup_node_udp(&other) == NULL); /* port matters */
	CHECK_EQ_STR(b->hostname, "10.0.0.2 port 655");
	CHECK_EQ_STR(c->hostname, "fd00::3 port 656");

	/* Moving b forgets the old address. */
	update_node_udp(b, &other);
	CHECK(lookup_node_udp(&ab) == NULL);
	CHECK(lookup_node_udp(&other) == b);
	CHECK_EQ_STR(b->hostname, "10.0.0.2 port 656");

	update_node_udp(b, NULL);
	CHECK(lookup_node_udp(&other) == NULL);
	CHECK_EQ_INT(b->address.sa.sa_family, 0);

	sockaddr_u none;
	memset(&none, 0, sizeof(none));
	update_node_udp(c, &none);
	CHECK(lookup_node_udp(&ac) == NULL);
	CHECK_EQ_INT(c->address.sa.sa_family, 0);

	/* A deleted node leaves the index. */
	update_node_udp(c, &ac);
	node_del(c);
	CHECK(lookup_node_udp(&ac) == NULL);
	CHECK(lookup_node("c") == NULL);
	teardown();
}

static void test_edge_table(void) {
	setup();
	node_t *a = mknode("a");
	node_t *b = mknode("b");
	node_t *z = mknode("z");

	edge_t *ab = mkedge(a, b, 0, 10);
	CHECK(ab->reverse == NULL);
	edge_t *ba = mkedge(b, a, 0, 10);
	CHECK(ab->reverse == ba);
	CHECK(ba->reverse == ab);
	CHECK(lookup_edge(a, b) == ab);
	CHECK(lookup_edge(b, a) == ba);
	CHECK(lookup_edge(a, z) == NULL);

	/* from->edges in destination-name order regardless of insertion order. */
	edge_t *az = mkedge(a, z, 0, 5);
	edge_t *am = mkedge(a, myself, 0, 5);
	CHECK_EQ_INT(a->edges.count, 3);
	CHECK(a->edges.items[0] == ab);
	CHECK(a->edges.items[1] == am);
	CHECK(a->edges.items[2] == az);

	/* Weight order: weight, then from name, then to name. */
	edge_t *zb = mkedge(z, b, 0, 5);
	CHECK_EQ_INT(edge_weight_tree.count, 5);
	CHECK(edge_weight_tree.items[0] == am); /* 5 a me */
	CHECK(edge_weight_tree.items[1] == az); /* 5 a z */
	CHECK(edge_weight_tree.items[2] == zb); /* 5 z b */
	CHECK(edge_weight_tree.items[3] == ab); /* 10 a b */
	CHECK(edge_weight_tree.items[4] == ba); /* 10 b a */

	/* Deleting one direction clears the other's back pointer. */
	edge_del(ab);
	CHECK(ba->reverse == NULL);
	CHECK(lookup_edge(a, b) == NULL);
	CHECK_EQ_INT(edge_weight_tree.count, 4);
	edge_t *ab2 = mkedge(a, b, 0, 10);
	CHECK(ab2->reverse == ba);
	CHECK(ba->reverse == ab2);

	/* mesh_del_node takes its subnets, its edges and the edges towards it. */
	subnet_t *s = subnet_new();
	s->type = SUBNET_IPV4;
	s->net.ipv4.address[0] = 10;
	s->net.ipv4.prefixlength = 8;
	subnet_add(b, s);
	CHECK_EQ_INT(subnet_tree.count, 1);
	mesh_del_node(b);
	CHECK_EQ_INT(subnet_tree.count, 0);
	CHECK(lookup_edge(a, lookup_node("b")) == NULL);
	CHECK_EQ_INT(a->edges.count, 2); /* a->me, a->z */
	CHECK_EQ_INT(edge_weight_tree.count, 2);
	teardown();
}

static void test_chain(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	mklink(myself, b, 0x0c, 10);
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
	CHECK(c->prevedge == lookup_edge(b, c));
	CHECK_EQ_INT(c->options, 0x0c);
	CHECK(myself->nexthop == myself);
	CHECK(myself->via == myself);
	CHECK(myself->prevedge == NULL);
	CHECK(myself->status.reachable);
	teardown();
}

static void test_indirect(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	node_t *d = mknode("d");
	mklink(myself, b, 0x0c, 10);
	mkedge(b, c, 0x0d, 10); /* c is behind b: INDIRECT */
	mkedge(c, b, 0x0d, 10);
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
	/* spec §6.1: "0038 = indirect, no key" */
	CHECK_EQ_INT(node_status_bits(c) & 0x3a, 0x38);

	/* INDIRECT on our own edge: via stays us, the next hop does the work. */
	node_t *e = mknode("e");
	mkedge(myself, e, 0x0d, 10);
	mkedge(e, myself, 0x0d, 10);
	graph(NULL);
	CHECK(e->status.reachable);
	CHECK(e->status.indirect);
	CHECK(e->via == myself);
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
	mkedge(myself, b, 0x0c, 10); /* b announced nothing */
	mkedge(b, myself, 0x1c, 10); /* b ORed our announcement */
	mkedge(b, c, 0x1c, 10);
	mkedge(c, b, 0x0c, 10);
	mkedge(b, d, 0x1d, 10);
	mkedge(d, b, 0x0d, 10);
	mkedge(c, e, 0x0d, 10);
	mkedge(e, c, 0x1d, 10);
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
	mklink(myself, b, 0, 10);
	mkedge(b, d, 0, 10); /* d never confirmed the link */
	mkedge(myself, d, 0, 10); /* nor ours */
	graph(NULL);
	CHECK(b->status.reachable);
	CHECK(!d->status.reachable);
	CHECK(d->nexthop == NULL);
	CHECK(d->via == NULL);

	/* Once d announces its side, it becomes reachable directly (via our
	 * edge, which is scanned first). */
	mkedge(d, myself, 0, 10);
	graph(NULL);
	CHECK(d->status.reachable);
	CHECK(d->nexthop == d);
	CHECK(d->prevedge == lookup_edge(myself, d));
	teardown();
}

static void test_tie_by_name(void) {
	setup();
	/* Created in reverse name order so that insertion order cannot help. */
	node_t *x = mknode("x");
	node_t *zeta = mknode("zeta");
	node_t *alpha = mknode("alpha");
	mklink(myself, zeta, 0, 1);
	mklink(myself, alpha, 0, 100); /* weights do not matter to the BFS */
	mklink(zeta, x, 0, 1);
	mklink(alpha, x, 0, 100);
	graph(NULL);
	CHECK(x->status.reachable);
	CHECK(x->nexthop == alpha);
	CHECK(x->prevedge == lookup_edge(alpha, x));
	CHECK(x->via == x);
	teardown();
}

static void test_reachability_callback(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	node_t *d = mknode("d");
	node_t *lonely = mknode("lonely");
	mklink(myself, b, 0, 10);
	mklink(b, c, 0, 10);
	mklink(c, d, 0, 10);

	ncalls = 0;
	graph(on_reachability);
	CHECK_EQ_INT(ncalls, 3);
	CHECK_EQ_INT(calls_for(b), 1);
	CHECK_EQ_INT(calls_for(c), 1);
	CHECK_EQ_INT(calls_for(d), 1);
	CHECK_EQ_INT(calls_for(lonely), 0);
	CHECK_EQ_INT(calls_for(myself), 0);
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
	CHECK(c->nexthop == NULL && c->via == NULL && c->prevedge == NULL);
	CHECK(b->status.reachable);

	/* Half a link is not enough to come back. */
	mkedge(b, c, 0, 10);
	ncalls = 0;
	graph(on_reachability);
	CHECK_EQ_INT(ncalls, 0);
	mkedge(c, b, 0, 10);
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
	mklink(myself, a, 0, 10);
	mkedge(myself, b, OPTION_INDIRECT, 10);
	mkedge(b, myself, OPTION_INDIRECT, 10);
	mklink(a, b, 0x0c, 10);
	graph(NULL);

	CHECK(b->status.reachable);
	CHECK(!b->status.indirect);
	CHECK(b->via == b);
	CHECK(b->prevedge == lookup_edge(a, b));
	CHECK_EQ_INT(b->options, 0x0c);
	/* The next hop is chosen at the first visit and kept. */
	CHECK(b->nexthop == b);

	/* The reverse never happens: a direct node is not made indirect. */
	node_t *c = mknode("c");
	mklink(myself, c, 0, 10);
	mkedge(a, c, OPTION_INDIRECT, 10);
	mkedge(c, a, OPTION_INDIRECT, 10);
	graph(NULL);
	CHECK(!c->status.indirect);
	CHECK(c->via == c);
	CHECK(c->prevedge == lookup_edge(myself, c));
	teardown();
}

static void test_bfs_address(void) {
	setup();
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	node_t *d = mknode("d");
	mklink(myself, b, 0, 10);
	mklink(b, c, 0, 10);
	mklink(b, d, 0, 10);
	lookup_edge(myself, b)->address = addr("192.0.2.2", "655");
	lookup_edge(b, c)->address = addr("192.0.2.3", "655");
	/* b→d carries an opaque address: family 0 */
	sockaddr_u known = addr("198.51.100.9", "700");
	update_node_udp(c, &known); /* c already has an address: kept */
	graph(NULL);

	sockaddr_u bexp = addr("192.0.2.2", "655");
	CHECK(sockaddr_cmp(&b->address, &bexp) == 0);
	CHECK(lookup_node_udp(&bexp) == b);
	CHECK(sockaddr_cmp(&c->address, &known) == 0);
	CHECK_EQ_INT(d->address.sa.sa_family, 0);
	teardown();
}

static bool in_tree(node_t *from, node_t *to) {
	edge_t *e = lookup_edge(from, to);
	return e && e->mst;
}

static void test_mst(void) {
	setup();
	node_t *a = mknode("a");
	node_t *b = mknode("b");

	/* Triangle: me–a 10, a–b 20, me–b 30. The heaviest edge closes a cycle. */
	mklink(myself, a, 0, 10);
	mklink(a, b, 0, 20);
	mklink(myself, b, 0, 30);
	lookup_edge(myself, b)->mst = true; /* stale flag from an earlier run must be cleared */
	graph(NULL);
	CHECK(in_tree(myself, a) && in_tree(a, myself));
	CHECK(in_tree(a, b) && in_tree(b, a));
	CHECK(!in_tree(myself, b) && !in_tree(b, myself));

	/* Make a–b the heaviest: both our links are in the tree. */
	unlink_nodes(a, b);
	mklink(a, b, 0, 40);
	graph(NULL);
	CHECK(in_tree(myself, a));
	CHECK(in_tree(myself, b));
	CHECK(!in_tree(a, b));

	/* A fourth node hanging off b only: the seed is the lightest edge, and a
	 * skipped edge is picked up after a later one joins the tree. */
	node_t *c = mknode("c");
	mklink(b, c, 0, 1);
	graph(NULL);
	CHECK(c->status.reachable);
	CHECK(in_tree(myself, a));
	CHECK(in_tree(myself, b));
	CHECK(in_tree(b, c) && in_tree(c, b));

	/* An edge of ours without reverse does not count. */
	unlink_nodes(myself, b);
	mkedge(myself, b, 0, 30);
	graph(NULL);
	CHECK(!in_tree(myself, b));
	CHECK(in_tree(myself, a));
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
