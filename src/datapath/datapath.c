/* The data path's end-of-turn step (see datapath.h). */
#include "util/compat.h"

#include "datapath/datapath.h"
#include "datapath/egress.h"
#include "datapath/receive.h"
#include "io/udp_tx.h"

bool datapath_end_of_turn(void) {
	bool more = receive_backlog_run();
	more |= egress_run();
	udp_tx_flush_all();
	return more;
}
