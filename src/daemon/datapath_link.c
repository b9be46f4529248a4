/* The daemon's side of the data path's calls upward (datapath/uplink.h):
 * key requests, frames over meta connections, the broadcast tree, subnet
 * announcements and fresh keys, done with the meta protocol. */
#include "util/compat.h"

#include "datapath/uplink.h"
#include "daemon/net.h"
#include "util/clock.h"
#include "daemon/script.h"
#include "meta/connection.h"
#include "meta/meta.h"
#include "meta/protocol.h"

static void want_key(node_t *n) {
	if(!n->status.key_requested || now_ns - n->req_key_sent_at >= REQ_KEY_INTERVAL_NS)
		send_req_key_request(n);
}

static bool send_over_meta(node_t *hop, const frame_buf_t *packet) {
	if(!hop || !hop->connection)
		return false;
	if(!meta_send_frame(hop->connection, packet))
		connection_shutdown(hop->connection, true);
	return true;
}

static void each_tree_neighbour(uplink_node_fn fn, void *ctx) {
	sset_foreach(connection_t, c, &connection_set)
		if(c->status.active && c->status.on_mst && c->node)
			fn(c->node, ctx);
}

static void subnet_learned(subnet_t *s) {
	run_subnet_scripts(local_node, s, true);
	sset_foreach(connection_t, c, &connection_set)
		if(c->status.active)
			send_add_subnet_request(c, s);
}

static void subnet_expiring(subnet_t *s) {
	sset_foreach(connection_t, c, &connection_set)
		if(c->status.active)
			send_del_subnet_request(c, s);
	run_subnet_scripts(local_node, s, false);
}

static void keys_dropped(void) {
	send_key_changed_request();
	sset_foreach(node_t, n, &nodes_by_name)
		if(n != local_node && n->status.reachable && n->connection && n->connection->status.active)
			send_ans_key_request(n);
}

void datapath_link_start(void) {
	static const datapath_uplink_t link = {
		.want_key = want_key,
		.send_over_meta = send_over_meta,
		.each_tree_neighbour = each_tree_neighbour,
		.subnet_learned = subnet_learned,
		.subnet_expiring = subnet_expiring,
		.keys_dropped = keys_dropped,
	};
	datapath_connect_uplink(&link);
}
