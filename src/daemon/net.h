/* The daemon's heartbeat (net.c): the device reader, housekeeping, the end
 * of every loop turn, and the USR1/USR2 dumps; and the link through which
 * the data path reaches the meta layer (datapath_link.c). */
#ifndef FQTINC_NET_H
#define FQTINC_NET_H

#include "util/compat.h"

/* Start the device reader, housekeeping and the end-of-turn step; the
 * first graph run. */
void net_start(void);
void net_stop(void);
/* USR1 and USR2. */
void dump_connection_list(void);
void dump_nodes_edges_subnets(void);

/* Connect the data path's calls upward (datapath/uplink.h). */
void datapath_link_start(void);

/* REQ_KEY is not repeated for a node sooner than this. */
#define REQ_KEY_INTERVAL_NS (10ULL * 1000000000ULL)

#endif
