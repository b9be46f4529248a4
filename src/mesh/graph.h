/* Reachability (BFS, protocol.md §6.2) and the broadcast tree (MST, protocol.md §6.3). */
#ifndef FQTINC_GRAPH_H
#define FQTINC_GRAPH_H

#include "util/compat.h"

struct node;

/* Called once per node whose reachability flipped, after status.reachable
 * has its new value and every other node's flag is final too. */
typedef void graph_flip_fn(struct node *n);

/* Recompute nexthop/via/indirect/options for every node and report the
 * nodes whose reachability changed to flipped (may be NULL). The caller
 * decides what a flip means (the meta layer: keys, PMTU, scripts). */
void graph_bfs(graph_flip_fn *flipped);
/* Recompute edge_t.on_mst: both edges of every link in the broadcast tree. */
void graph_mst(void);
/* Both, then flush the subnet cache. */
void graph(graph_flip_fn *flipped);

#endif
