#include "util/compat.h"

#include <string.h>

#include "control/client.h"
#include "control/log_tap.h"
#include "control/protocol_ids.h"
#include "util/log.h"

/* Each message goes as "18 15 LENGTH" and then LENGTH bytes without a
 * newline (doc/protocol.md §12.5). */
static void copy_to_clients(int level, const char *msg) {
	static bool busy; /* a failing send may log; do not recurse */
	if(busy)
		return;
	busy = true;
	size_t len = strlen(msg);
	for(size_t i = 0; i < control_clients.count;) {
		control_client_t *cl = control_clients.items[i];
		size_t before = control_clients.count;
		if(cl->log_level >= level && control_client_printf(cl, "%d %d %zu", CTL_CONTROL, CTL_LOG, len))
			control_client_write(cl, msg, len);
		if(control_clients.count == before)
			i++;
	}
	busy = false;
}

void control_log_tap_start(void) {
	log_set_tap(copy_to_clients);
}

void control_log_tap_stop(void) {
	log_set_tap(NULL);
}
