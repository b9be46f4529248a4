/* What a change of the graph means beyond the mesh tables (protocol.md §6.2):
 * keys and PMTU state of nodes that came or went, the broadcast tree of our
 * connections, ECN modes, the event scripts (through the daemon's hooks),
 * and forgetting unreachable nodes. */
#include "util/compat.h"

#include "config/settings.h"
#include "datapath/egress.h"
#include "datapath/pmtu.h"
#include "io/udp_tx.h"
#include "datapath/sender_cache.h"
#include "mesh/edge.h"
#include "mesh/graph.h"
#include "mesh/mesh.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "meta/connection.h"
#include "meta/ecn_mode.h"
#include "meta/protocol.h"
#include "meta/topology.h"
#include "util/log.h"

static const meta_hooks_t *hooks;

void meta_connect_hooks(const meta_hooks_t *h) {
	hooks = h;
}

void meta_subnet_up_down(node_t *owner, subnet_t *subnet, bool up) {
	if(hooks && hooks->subnet_up_down)
		hooks->subnet_up_down(owner, subnet, up);
}

/* ---- graph changes (protocol.md §6.2) ---- */

static void reachability_changed(node_t *n) {
	if(n == local_node)
		return;
	if(n->status.reachable)
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Node %s (%s) can be reached now", n->name, n->hostname ? n->hostname : "unknown");
	else
		LOG(VERBOSITY_TRAFFIC, LOG_DEBUG, "Node %s (%s) can no longer be reached", n->name, n->hostname ? n->hostname : "unknown");
	logger(VERBOSITY_STATUS, LOG_INFO, "Node %s is now %s", n->name, n->status.reachable ? "reachable" : "unreachable");

	/* A flip invalidates the key for sending and the PMTU probing state;
	 * n->mtu stays, as in 1.0.36, so a PMTU from the ACK (which comes
	 * before the edge that makes the node reachable) is not lost. */
	n->status.tx_key_valid = false;
	n->status.key_requested = false;
	n->status.udp_verified = false;
	n->req_key_sent_at = 0;
	packet_key_clear(&n->tx_key);
	pmtu_reset(n);

	if(hooks && hooks->node_up_down)
		hooks->node_up_down(n, n->status.reachable);
	meta_subnet_up_down(n, NULL, n->status.reachable);

	if(!n->status.reachable) {
		node_set_udp_address(n, NULL);
		n->options = 0;
		n->status.indirect = false;
	} else if(n->connection && n->connection->status.active) {
		send_ans_key_request(n);
	}
}

unsigned long graph_runs;
static bool graph_pending;

void graph_mark_dirty(void) {
	graph_pending = true;
}

void graph_settle(void) {
	if(graph_pending)
		graph_recompute();
}

/* A node a DEL_EDGE cut off still has its own edge to us, which would keep a
 * half link alive in everybody's graph: remove and announce that too. */
static void drop_back_edges(void) {
	for(size_t i = 0; i < nodes_by_name.count; i++) {
		node_t *n = nodes_by_name.items[i];
		if(!n->status.back_edge_check)
			continue;
		n->status.back_edge_check = false;
		if(n->status.reachable || n == local_node)
			continue;
		edge_t *back = edge_find(n, local_node);
		if(back) {
			if(!settings.tunnelserver)
				send_del_edge_request(broadcast_conn, back);
			edge_unlink(back);
		}
	}
}

void graph_recompute(void) {
	graph_pending = false;
	graph_runs++;
	graph(reachability_changed);
	drop_back_edges();
	/* graph_mst marked the tree's edges; a connection is in the tree
	 * through our edge to its peer. */
	sset_foreach(connection_t, c, &connection_set)
		c->status.on_mst = c->edge && c->edge->on_mst;
	/* Options come from the edges the BFS chose: ECN modes follow. */
	ecn_mode_update_all();
}

/* Forget unreachable nodes (WINCH, or when the last connection closes). */
void purge(void) {
	LOG(VERBOSITY_REQUESTS, LOG_DEBUG, "Forgetting the unreachable nodes");
	for(size_t i = 0; i < nodes_by_name.count; i++) {
		node_t *n = nodes_by_name.items[i];
		if(n->status.reachable || n == local_node)
			continue;
		LOG(VERBOSITY_STATUS, LOG_DEBUG, "Forgetting unreachable node %s (%s)", n->name, n->hostname ? n->hostname : "unknown");
		if(!settings.strictsubnets) {
			while(n->subnets.count) {
				subnet_t *s = n->subnets.items[0];
				sset_foreach(connection_t, c, &connection_set)
					if(c->status.active)
						send_del_subnet_request(c, s);
				subnet_detach(n, s);
			}
		}
		while(n->edges.count) {
			edge_t *e = n->edges.items[0];
			sset_foreach(connection_t, c, &connection_set)
				if(c->status.active)
					send_del_edge_request(c, e);
			edge_unlink(e);
		}
	}
	/* Then delete unreachable nodes no edge points to. */
	for(size_t i = 0; i < nodes_by_name.count;) {
		node_t *n = nodes_by_name.items[i];
		bool referenced = n == local_node || n->status.reachable || n->connection;
		if(!referenced) {
			sset_foreach(edge_t, e, &edges_by_weight)
				if(e->to == n)
					referenced = true;
		}
		if(!referenced && (!settings.strictsubnets || !n->subnets.count)) {
			udp_tx_forget_node(n);
			sender_cache_forget(n);
			egress_forget_node(n);
			mesh_del_node(n);
			continue;
		}
		i++;
	}
	subnet_lookup_cache_clear();
}
