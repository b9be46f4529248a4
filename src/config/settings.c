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
	.keylifetime = 3600,
	.macexpire = 600,
	.replaywindow = 1024, /* fqtinc: 8192 packets, so diffserv reordering is not loss */
	.maxoutbufsize = 10 * MTU,
	.routing_mode = RMODE_ROUTER,
	.forwarding_mode = FMODE_INTERNAL,
	.broadcast_mode = BMODE_MST,
	.ecn = true,
	.maclength = 4,
};
