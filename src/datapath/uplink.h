/* What the data path needs from the layers above it (key exchange, meta
 * connections, subnet announcements), as a narrow set of calls the daemon
 * connects once at start-up. Until then, and in fuzzers and unit tests that
 * never connect it, every call does nothing and reports failure. */
#ifndef FQTINC_UPLINK_H
#define FQTINC_UPLINK_H

#include "util/compat.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "packet/packet.h"

typedef void (*uplink_node_fn)(node_t *n, void *ctx);

typedef struct datapath_uplink {
	/* We hold no key for sending to n: ask n for one (the daemon keeps
	 * the requests apart in time). */
	void (*want_key)(node_t *n);
	/* Send a frame through the meta connection to the neighbour hop;
	 * false if there is no such connection. */
	bool (*send_over_meta)(node_t *hop, const frame_buf_t *packet);
	/* Call fn for each neighbour the broadcast tree connects us to. */
	void (*each_tree_neighbour)(uplink_node_fn fn, void *ctx);
	/* A MAC address seen on our device became our subnet s (switch mode),
	 * or s is about to be withdrawn: run the subnet scripts, tell the
	 * other nodes. */
	void (*subnet_learned)(subnet_t *s);
	void (*subnet_expiring)(subnet_t *s);
	/* Our receive keys were dropped: announce it and hand out new ones. */
	void (*keys_dropped)(void);
} datapath_uplink_t;

/* The daemon, once at start-up. 'up' must stay valid. */
void datapath_connect_uplink(const datapath_uplink_t *up);

void uplink_want_key(node_t *n);
bool uplink_send_over_meta(node_t *hop, const frame_buf_t *packet);
void uplink_each_tree_neighbour(uplink_node_fn fn, void *ctx);
void uplink_subnet_learned(subnet_t *s);
void uplink_subnet_expiring(subnet_t *s);
void uplink_keys_dropped(void);

#endif
