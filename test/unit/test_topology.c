/* What the meta layer does after the graph changed (meta/topology.c): the
 * daemon's hooks hear about nodes that came and went, our connections learn
 * their place in the broadcast tree, ECN modes follow the options, and purge
 * forgets unreachable nodes. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "config/settings.h"
#include "mesh/edge.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "mesh/options.h"
#include "mesh/subnet.h"
#include "meta/connection.h"
#include "meta/topology.h"
#include "mesh_fixtures.h"
#include "unit.h"

#define MAXCALLS 16
typedef struct hook_call {
	const node_t *node;
	const subnet_t *subnet;
	bool up;
} hook_call_t;
static hook_call_t node_calls[MAXCALLS], subnet_calls[MAXCALLS];
static int n_node_calls, n_subnet_calls;

static void on_node(node_t *n, bool up) {
	if(n_node_calls < MAXCALLS)
		node_calls[n_node_calls] = (hook_call_t){n, NULL, up};
	n_node_calls++;
}

static void on_subnet(node_t *owner, subnet_t *s, bool up) {
	if(n_subnet_calls < MAXCALLS)
		subnet_calls[n_subnet_calls] = (hook_call_t){owner, s, up};
	n_subnet_calls++;
}

static const meta_hooks_t hooks = {.node_up_down = on_node, .subnet_up_down = on_subnet};

static void reset_calls(void) {
	n_node_calls = n_subnet_calls = 0;
}

static node_t *mknode(const char *name) {
	return fixture_node(name, false, 0);
}

/* Our connection to peer, carrying our edge to it, as ACK leaves it. */
static connection_t *mkconnection(node_t *peer) {
	connection_t *c = calloc(1, sizeof(*c));
	c->socket = -1;
	c->io.fd = -1;
	c->node = peer;
	c->edge = edge_find(local_node, peer);
	c->edge->connection = c;
	connection_register(c);
	return c;
}

static void drop_connection(connection_t *c) {
	if(c->edge)
		c->edge->connection = NULL;
	sset_remove(&connection_set, c);
	free(c);
}

static void test_graph_changed(void) {
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	subnet_t *s = subnet_new();
	CHECK(subnet_parse(s, "10.2.0.0/16"));
	subnet_attach(b, s);

	/* me - b (fqtinc, announces RFC 6040), b - c (tinc 1.0). */
	fixture_edge(local_node, b, OPTION_ECN_RFC6040, 10);
	fixture_edge(b, local_node, OPTION_ECN_RFC6040, 10);
	fixture_edge(b, c, 0, 10);
	fixture_edge(c, b, 0, 10);
	connection_t *cb = mkconnection(b);

	meta_connect_hooks(&hooks);
	reset_calls();
	graph_recompute();
	CHECK(b->status.reachable && c->status.reachable);
	CHECK_EQ_INT(n_node_calls, 2);
	for(int i = 0; i < n_node_calls && i < MAXCALLS; i++)
		CHECK(node_calls[i].up);
	/* Each node's subnets, all at once (NULL). */
	CHECK_EQ_INT(n_subnet_calls, 2);
	for(int i = 0; i < n_subnet_calls && i < MAXCALLS; i++)
		CHECK(subnet_calls[i].subnet == NULL && subnet_calls[i].up);
	CHECK(cb->status.on_mst);       /* the only link of ours is in the tree */
	CHECK(b->ecn_normal);        /* announced, no host file: trusted */
	CHECK(!c->ecn_normal);       /* reached over an edge without the bit */

	/* Nothing changed: nothing to report. */
	reset_calls();
	graph_recompute();
	CHECK_EQ_INT(n_node_calls, 0);
	CHECK_EQ_INT(n_subnet_calls, 0);

	/* The subnet hook for the protocol handlers. */
	meta_subnet_up_down(b, s, false);
	CHECK_EQ_INT(n_subnet_calls, 1);
	CHECK(subnet_calls[0].node == b && subnet_calls[0].subnet == s && !subnet_calls[0].up);

	/* Our link to b goes, as connection_shutdown does it: both go. */
	cb->edge = NULL;
	edge_unlink(edge_find(local_node, b));
	reset_calls();
	graph_recompute();
	CHECK(!b->status.reachable && !c->status.reachable);
	CHECK_EQ_INT(n_node_calls, 2);
	for(int i = 0; i < n_node_calls && i < MAXCALLS; i++)
		CHECK(!node_calls[i].up);
	CHECK(!cb->status.on_mst);
	CHECK(!b->ecn_normal);
	CHECK_EQ_INT(b->options, 0);

	/* Without hooks (fuzzers, tests) nothing is called, nothing breaks. */
	meta_connect_hooks(NULL);
	fixture_edge(local_node, b, OPTION_ECN_RFC6040, 10);
	cb->edge = edge_find(local_node, b);
	cb->edge->connection = cb;
	reset_calls();
	graph_recompute();
	meta_subnet_up_down(b, s, true);
	CHECK(b->status.reachable);
	CHECK_EQ_INT(n_node_calls + n_subnet_calls, 0);

	/* Cut again and purge: b still has our connection and stays; c goes with
	 * its edges, and the edges towards it. */
	cb->edge = NULL;
	edge_unlink(edge_find(local_node, b));
	graph_recompute();
	b->connection = cb;
	purge();
	CHECK(node_find("b") == b);
	CHECK(node_find("c") == NULL);
	CHECK(edge_find(b, node_find("c")) == NULL);
	CHECK_EQ_INT(b->edges.count, 0); /* b's edges were purged, b stays for its connection */
	b->connection = NULL;
	drop_connection(cb);
	purge();
	CHECK(node_find("b") == NULL);
	CHECK_EQ_INT(subnets_all.count, 0);
}

/* Edge changes mark the graph; it runs once when settled, however many
 * changes came before, and a node a DEL_EDGE cut off loses its edge to us
 * in that run. */
static void test_graph_batched(void) {
	node_t *b = mknode("b");
	node_t *c = mknode("c");
	meta_connect_hooks(&hooks);

	fixture_edge(local_node, b, 0, 10);
	fixture_edge(b, local_node, 0, 10);
	graph_recompute();
	CHECK(b->status.reachable);

	unsigned long runs = graph_runs;
	reset_calls();
	for(int i = 0; i < 1000; i++) {
		edge_t *e = fixture_edge(b, c, 0, 10);
		fixture_edge(c, b, 0, 10);
		graph_mark_dirty();
		if(i < 999) {
			edge_unlink(e);
			edge_unlink(edge_find(c, b));
			graph_mark_dirty();
		}
	}
	CHECK_EQ_INT((int)(graph_runs - runs), 0);
	CHECK(!c->status.reachable); /* not yet: nobody settled */
	CHECK_EQ_INT(n_node_calls, 0);
	graph_settle();
	CHECK_EQ_INT((int)(graph_runs - runs), 1);
	CHECK(c->status.reachable);
	CHECK_EQ_INT(n_node_calls, 1); /* c came, once; no flapping seen */
	graph_settle();
	CHECK_EQ_INT((int)(graph_runs - runs), 1); /* nothing changed: no run */

	/* b still reachable after a DEL_EDGE elsewhere: its edge to us stays. */
	b->status.back_edge_check = true;
	graph_mark_dirty();
	graph_settle();
	CHECK(edge_find(b, local_node) != NULL);
	CHECK(!b->status.back_edge_check);
	/* Our edge to b goes (a DEL_EDGE for it): b is cut off, and its own
	 * edge to us goes in the same run. */
	edge_unlink(edge_find(local_node, b));
	b->status.back_edge_check = true;
	graph_mark_dirty();
	graph_settle();
	CHECK(!b->status.reachable && !c->status.reachable);
	CHECK(edge_find(b, local_node) == NULL);
	CHECK(edge_find(b, c) != NULL); /* edges between others wait for purge */

	meta_connect_hooks(NULL);
	purge();
	CHECK(node_find("b") == NULL && node_find("c") == NULL);
}

int main(void) {
	settings.config_dir = "/nonexistent/fqtinc-test";
	node_table_init();
	edge_table_init();
	subnet_table_init();
	local_node = mknode("me");
	local_node->nexthop = local_node->via = local_node;
	local_node->status.reachable = true;

	test_graph_changed();
	test_graph_batched();

	mesh_exit();
	return unit_done();
}
