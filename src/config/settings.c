/* The daemon's settings and their defaults before any configuration is
 * read; the daemon fills them in at start-up and on SIGHUP (netsetup.c). */
#include "util/compat.h"

#include "config/settings.h"
#include "packet/packet.h"

settings_t settings = {
	.pinginterval = 60,
	.pingtimeout = 5,
	.maxtimeout = 900,
	.mintimeout = 0,
	.key_expire = 3600,
	.macexpire = 600,
	.replaywindow = 1024, /* fqtinc: 8192 packets, so diffserv reordering is not loss */
	.max_output_buffer_size = 10 * MTU,
	.max_subnets_per_node = 10000,
	.max_edges_per_node = 1000,
	.route_mode = MODE_ROUTER,
	.forwarding_mode = FORWARDING_INTERNAL,
	.broadcast_mode = BROADCAST_MST,
	.ecn = true,
	.maclength = 4,
};
