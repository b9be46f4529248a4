/* Reachability (BFS, spec §6.2) and the broadcast tree (MST, spec §6.3). */
#ifndef FQTINC_GRAPH_H
#define FQTINC_GRAPH_H

#include "util/compat.h"

struct node;

/* Recompute nexthop/via/indirect/options for every node. Nodes whose
 * reachability changes are reported through graph_reachability_changed(),
 * which the daemon implements (scripts, keys, PMTU reset). */
void graph_bfs(void);
/* Recompute connection->status.mst for our own connections. */
void graph_mst(void);
/* Both, then flush the subnet cache. */
void graph(void);

/* Provided by the caller of graph(): called once per node whose reachability
 * flipped, after status.reachable has its new value. */
extern void (*graph_reachability_changed)(struct node *n);

#endif
