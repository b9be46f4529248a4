/* The data path's end-of-turn step (see datapath.h). */
#include "util/compat.h"

#include "datapath/datapath.h"
#include "datapath/egress.h"
#include "datapath/receive.h"
#include "datapath/transmit.h"
#include "io/device.h"
#include "io/udp_tx.h"

bool datapath_end_of_turn(void) {
	/* Segments of a super-packet left over when the read budget ran out:
	 * the device may not become readable again to fetch them. */
	if(device_segments_pending())
		device_readable(NULL, 0);
	bool more = receive_backlog_run();
	more |= device_segments_pending();
	more |= egress_run();
	device_flush_writes();
	udp_tx_flush_all();
	return more;
}
