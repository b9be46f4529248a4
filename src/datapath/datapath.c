/* The data path's counters and its end-of-turn step (see datapath.h). */
#include "util/compat.h"

#include "datapath/datapath.h"
#include "datapath/egress.h"
#include "io/udp_tx.h"

datapath_stats_t datapath_stats;

bool datapath_end_of_turn(void) {
	bool more = egress_run();
	udp_tx_flush_all();
	return more;
}
