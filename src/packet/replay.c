#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/replay.h"
#include "util/xalloc.h"

void replay_init(replay_window_t *w, size_t bytes) {
	memset(w, 0, sizeof(*w));
	w->bytes = bytes;
	w->late = bytes ? xzalloc(bytes) : NULL;
}

void replay_reset(replay_window_t *w) {
	if(w->late)
		memset(w->late, 0, w->bytes);
	w->received = 0;
	w->far_ahead_run = 0;
}

void replay_free(replay_window_t *w) {
	free(w->late);
	w->late = NULL;
	w->bytes = 0;
}

/* A set bit means "this seqno was skipped and may still arrive". Seqno i
 * lives at bit i%8 of byte (i/8)%bytes, so the bitmap is a ring of 8*bytes
 * sequence numbers. */
static uint8_t *slot(const replay_window_t *w, uint64_t i, uint8_t *mask) {
	*mask = (uint8_t)(1u << (i % 8));
	return &w->late[(i / 8) % w->bytes];
}

static bool is_missing(const replay_window_t *w, uint64_t i) {
	uint8_t mask;
	return (*slot(w, i, &mask) & mask) != 0;
}

static void mark_missing(replay_window_t *w, uint64_t i) {
	uint8_t mask;
	*slot(w, i, &mask) |= mask;
}

static void mark_arrived(replay_window_t *w, uint64_t i) {
	uint8_t mask;
	*slot(w, i, &mask) &= (uint8_t)~mask;
}

replay_verdict_t replay_check(replay_window_t *w, uint32_t seqno) {
	/* 64-bit arithmetic: the window edge R + 8W must not wrap. */
	uint64_t s = seqno, r = w->received, span = 8 * (uint64_t)w->bytes;

	if(w->bytes && w->late && s != r + 1) {
		if(s >= r + span) {
			/* A few packets this far ahead are treated as forged or stray;
			 * if they keep coming the peer really did move on. */
			if(w->far_ahead_run < w->bytes / 4) {
				w->far_ahead_run++;
				w->n_far_ahead++;
				return REPLAY_FARFUTURE;
			}
			memset(w->late, 0, w->bytes);
			w->n_lost += s - r - 1;
		} else if(s <= r) {
			if(r >= span && s <= r - span) {
				w->n_late++;
				return REPLAY_LATE;
			}
			if(!is_missing(w, s)) {
				w->n_replayed++;
				return REPLAY_REPLAYED;
			}
		} else {
			for(uint64_t i = r + 1; i < s; i++)
				mark_missing(w, i);
		}
	}
	if(w->bytes && w->late) {
		w->far_ahead_run = 0;
		mark_arrived(w, s);
	}
	if(s > r)
		w->received = seqno;
	return REPLAY_ACCEPT;
}
