#include "util/compat.h"

#include <stdlib.h>

#include "mesh/edge.h"
#include "mesh/graph.h"
#include "util/log.h"
#include "mesh/node.h"
#include "mesh/options.h"
#include "mesh/subnet.h"
#include "util/xalloc.h"

/* Scratch arrays reused across runs: the graph is recomputed on every edge
 * change, no need to allocate each time. */
static node_t **scratch;
static size_t scratch_cap;

static void scratch_reserve(size_t n) {
	if(n <= scratch_cap)
		return;
	scratch_cap = n < 16 ? 16 : n;
	scratch = xrealloc(scratch, scratch_cap * sizeof(*scratch));
}

static bool is_ip(const sockaddr_u *sa) {
	return sa->sa.sa_family == AF_INET || sa->sa.sa_family == AF_INET6;
}

/* Breadth-first search by hop count (protocol.md §6.2). Weights play no part here.
 * A node is queued once when first reached and at most once more when a
 * direct path replaces an indirect one, hence the queue of 2 * nodes + 1. */
static void bfs(void) {
	sset_foreach(node_t, n, &nodes_by_name) {
		n->status.visited = false;
		n->status.indirect = true;
	}

	local_node->status.visited = true;
	local_node->status.indirect = false;
	local_node->nexthop = local_node;
	local_node->via = local_node;
	local_node->parent_edge = NULL;

	scratch_reserve(2 * nodes_by_name.count + 1);
	node_t **queue = scratch;
	size_t head = 0, tail = 0;
	queue[tail++] = local_node;

	while(head < tail) {
		node_t *n = queue[head++];

		sset_foreach(edge_t, e, &n->edges) {
			/* Both ends must have announced the link. */
			if(!e->reverse)
				continue;

			node_t *t = e->to;
			bool indirect = n->status.indirect || (e->options & OPTION_INDIRECT);

			/* A node already reached is revisited only to upgrade an
			 * indirect path to a direct one. */
			if(t->status.visited && (!t->status.indirect || indirect))
				continue;

			if(!t->status.visited)
				t->nexthop = n->nexthop == local_node ? t : n->nexthop;

			t->status.visited = true;
			t->status.indirect = indirect;
			t->parent_edge = e;
			t->via = indirect ? n->via : t;
			t->options = e->options;

			if(!is_ip(&t->address) && is_ip(&e->address))
				node_set_udp_address(t, &e->address);

			if(tail < scratch_cap)
				queue[tail++] = t;
		}
	}
}

void graph_bfs(graph_flip_fn *flipped) {
	if(!local_node)
		return;

	bfs();

	/* Flip all flags first and report afterwards, so every callback sees
	 * the final reachability of the whole graph. */
	scratch_reserve(nodes_by_name.count + 1);
	size_t changed = 0;
	sset_foreach(node_t, n, &nodes_by_name) {
		if(n == local_node)
			continue;
		if(!n->status.visited) {
			/* Routes through an unreachable node are meaningless; do not
			 * leave them pointing at nodes that may be deleted later. */
			n->nexthop = NULL;
			n->via = NULL;
			n->parent_edge = NULL;
		}
		if(n->status.reachable != n->status.visited) {
			n->status.reachable = n->status.visited;
			scratch[changed++] = n;
		}
	}
	/* We are always reachable and never reported. */
	local_node->status.reachable = true;

	if(!changed || !flipped)
		return;
	/* The callback may run scripts and send requests; copy the list so
	 * that a nested graph run cannot overwrite it. */
	node_t **list = xmalloc(changed * sizeof(*list));
	for(size_t i = 0; i < changed; i++)
		list[i] = scratch[i];
	for(size_t i = 0; i < changed; i++)
		flipped(list[i]);
	free(list);
}

/* Kruskal's algorithm over the weight order (protocol.md §6.3). Every node holds the
 * same edges and computes the same tree; both directions of a tree link are
 * marked, so that our own edges tell which of our connections belong to it. */
void graph_mst(void) {
	if(!local_node)
		return;

	for(size_t i = 0; i < edges_by_weight.count; i++)
		((edge_t *)edges_by_weight.items[i])->on_mst = false;

	sset_foreach(node_t, n, &nodes_by_name) {
		n->status.visited = false;
	}
	local_node->status.visited = false;

	/* Seed the tree with the source of the lightest edge we can reach. */
	for(size_t i = 0; i < edges_by_weight.count; i++) {
		edge_t *e = edges_by_weight.items[i];
		if(e->from == local_node || e->from->status.reachable) {
			e->from->status.visited = true;
			break;
		}
	}

	bool skipped = false;
	for(size_t i = 0; i < edges_by_weight.count; i++) {
		edge_t *e = edges_by_weight.items[i];

		if(!e->reverse || e->from->status.visited == e->to->status.visited) {
			skipped = true;
			continue;
		}

		e->from->status.visited = true;
		e->to->status.visited = true;
		e->on_mst = true;
		e->reverse->on_mst = true;

		/* An edge skipped earlier may connect to the grown tree now. */
		if(skipped) {
			skipped = false;
			i = (size_t)-1; /* the loop increment brings it to 0 */
		}
	}
}

void graph(graph_flip_fn *flipped) {
	graph_bfs(flipped);
	graph_mst();
	subnet_lookup_cache_clear();
}
