/* Sequence-number replay window of tinc 1.0 (protocol.md §5.5), with late and
 * replayed packets counted apart. */
#ifndef FQTINC_REPLAY_H
#define FQTINC_REPLAY_H

#include <stdint.h>

#include "util/compat.h"

typedef struct replay_window {
	size_t bytes;          /* window size in bytes (8 packets per byte); 0 = off */
	uint8_t *late;         /* bitmap, 'bytes' long */
	uint32_t received;     /* highest accepted seqno */
	uint32_t far_ahead_run;    /* consecutive far-future packets dropped */
	uint64_t n_late;       /* dropped: older than the window */
	uint64_t n_replayed;   /* dropped: inside the window but already seen */
	uint64_t n_far_ahead;  /* dropped: too far ahead */
	uint64_t n_lost;       /* packets skipped when the window jumped */
} replay_window_t;

typedef enum replay_verdict {
	REPLAY_ACCEPT = 0,
	REPLAY_LATE,
	REPLAY_REPLAYED,
	REPLAY_FARFUTURE,
} replay_verdict_t;

void replay_init(replay_window_t *w, size_t bytes);
void replay_reset(replay_window_t *w);   /* new key: forget history, keep counters */
void replay_free(replay_window_t *w);
replay_verdict_t replay_check(replay_window_t *w, uint32_t seqno);

#endif
