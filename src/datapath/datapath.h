/* The data path as the daemon sees it: its counters (counters.h) and the
 * step that ends every event-loop turn. The stages themselves: receive.h (sockets to
 * routing), transmit.h (routing to the egress queue), egress.h (queue to
 * sealing), seal.h (sealing to the socket batch). */
#ifndef FQTINC_DATAPATH_H
#define FQTINC_DATAPATH_H

#include <stdint.h>

#include "util/compat.h"
#include "datapath/counters.h"


/* The event loop's idle step: open a batch from each receive backlog, send
 * what the egress queue may send this turn, then the socket batches. True if
 * datagrams or frames are left that could be handled right away (poll
 * instead of sleeping). */
bool datapath_end_of_turn(void);

#endif
