/* The contradiction-storm guard's decision, apart from the daemon so that it
 * can be tested alone; protocol_edge.c counts and acts on it. */
#include "util/compat.h"

#include "meta/protocol.h"

edge_storm_verdict_t edge_storm_decide(int adds, int dels, int pause_s) {
	pause_s = MAX(EDGE_STORM_PAUSE_MIN, MIN(pause_s, EDGE_STORM_PAUSE_MAX));
	edge_storm_verdict_t v = {0, 0};
	if(adds > EDGE_STORM_LIMIT && dels > EDGE_STORM_LIMIT) {
		v.pause_s = pause_s;
		v.next_pause_s = MIN(pause_s * 2, EDGE_STORM_PAUSE_MAX);
	} else {
		v.next_pause_s = MAX(pause_s / 2, EDGE_STORM_PAUSE_MIN);
	}
	return v;
}
