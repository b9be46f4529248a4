/* The graph of edges changed, or nodes are forgotten: the consequences the
 * meta layer draws, and the hooks through which it tells the daemon. */
#ifndef FQTINC_TOPOLOGY_H
#define FQTINC_TOPOLOGY_H

#include "util/compat.h"
#include "mesh/node.h"
#include "mesh/subnet.h"

/* The daemon's part of meta events: the event scripts (protocol.md §2.7). The
 * daemon connects them once at start-up; unconnected (unit tests, fuzzers)
 * nothing runs. */
typedef struct meta_hooks {
	/* n became reachable (up) or unreachable: host-up, host-down */
	void (*node_up_down)(node_t *n, bool up);
	/* subnet s of the reachable node owner came or went; s NULL: all of
	 * owner's subnets (subnet-up, subnet-down) */
	void (*subnet_up_down)(node_t *owner, subnet_t *s, bool up);
} meta_hooks_t;

void meta_connect_hooks(const meta_hooks_t *hooks);
/* For the protocol handlers: a subnet of a reachable node came or went. */
void meta_subnet_up_down(node_t *owner, subnet_t *s, bool up);

/* Run the graph (reachability, broadcast tree) after edges changed and act
 * on the result: keys, PMTU and scripts of nodes that came or went, the
 * connections' place in the broadcast tree, ECN modes. */
void graph_recompute(void);
/* Edges changed, but nobody needs the result yet: the graph runs once at
 * graph_settle, however many changes came before (a new connection's whole
 * graph, a flood of ADD_EDGE) instead of once per request. */
void graph_mark_dirty(void);
/* Run the graph now if edges changed since the last run. The daemon calls
 * it at the end of every event-loop turn; request handlers that read
 * reachability call it first. */
void graph_settle(void);
/* Graph runs so far (statistics, tests). */
extern unsigned long graph_runs;
/* Forget unreachable nodes with their edges and subnets (SIGWINCH, or once
 * the last connection is gone). */
void purge(void);

#endif
