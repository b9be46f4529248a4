/* The data path's calls upward (see uplink.h). */
#include "util/compat.h"

#include "datapath/uplink.h"

static const datapath_uplink_t *up;

void datapath_connect_uplink(const datapath_uplink_t *uplink) {
	up = uplink;
}

void uplink_want_key(node_t *n) {
	if(up && up->want_key)
		up->want_key(n);
}

bool uplink_send_over_meta(node_t *hop, const frame_buf_t *packet) {
	return up && up->send_over_meta && up->send_over_meta(hop, packet);
}

void uplink_each_tree_neighbour(uplink_node_fn fn, void *ctx) {
	if(up && up->each_tree_neighbour)
		up->each_tree_neighbour(fn, ctx);
}

void uplink_subnet_learned(subnet_t *s) {
	if(up && up->subnet_learned)
		up->subnet_learned(s);
}

void uplink_subnet_expiring(subnet_t *s) {
	if(up && up->subnet_expiring)
		up->subnet_expiring(s);
}

void uplink_keys_dropped(void) {
	if(up && up->keys_dropped)
		up->keys_dropped();
}
