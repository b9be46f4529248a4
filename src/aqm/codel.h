/* CoDel (RFC 8289) for one FIFO: decides at dequeue time, from how long the
 * head packet waited, whether to drop (or CE-mark) it. Pure: no clock of its
 * own, no allocation, no global state; the owner of the FIFO supplies "now",
 * a way to pop the head and a way to discard a packet.
 *
 * The state machine follows the RFC's pseudocode with the re-entry rule
 * Linux uses (and the RFC adopted): when dropping restarts within 16
 * intervals of the last scheduled drop, count resumes from the number of
 * drops the previous episode added instead of from 1. */
#ifndef FQTINC_CODEL_H
#define FQTINC_CODEL_H

#include <stdint.h>

#include "util/compat.h"
#include "packet/packet.h"

#define CODEL_TARGET_NS (5 * 1000000ULL)     /* RFC 8289 TARGET: 5 ms */
#define CODEL_INTERVAL_NS (100 * 1000000ULL) /* RFC 8289 INTERVAL: 100 ms */
#define CODEL_REENTRY_INTERVALS 16           /* re-entry window, in intervals */

typedef struct codel_params {
	uint64_t target_ns;   /* acceptable standing delay */
	uint64_t interval_ns; /* how long delay must stay above target before acting */
	uint32_t mtu;         /* while the queue holds at most this many bytes, never drop */
	bool ecn;             /* CE-mark ECN-capable packets instead of dropping them */
} codel_params_t;

/* Per-FIFO state; zero-initialised means "idle, never dropped". */
typedef struct codel_vars {
	uint64_t first_above;  /* when a continuous above-target spell becomes actionable; 0 = none */
	uint64_t drop_next;    /* time of the next drop while in drop state */
	uint64_t ldelay;       /* sojourn of the last packet examined */
	uint64_t inv_sqrt;     /* 2^32 / sqrt(count), kept in step with count */
	uint32_t count;        /* drops/marks in the current episode (scaled by the control law) */
	uint32_t lastcount;    /* count when the current episode began */
	bool dropping;
} codel_vars_t;

/* Signals sent, for the owner's statistics. */
typedef struct codel_stats {
	uint64_t drops;
	uint64_t drop_bytes;
	uint64_t marks;
} codel_stats_t;

/* The FIFO as CoDel sees it. pop() removes the head (NULL when empty) and
 * must already have subtracted it from *backlog; drop() disposes of a
 * packet CoDel decided to drop (it was popped before). */
typedef struct codel_queue {
	frame_buf_t *(*pop)(void *ctx);
	void (*drop)(void *ctx, frame_buf_t *pkt);
	void *ctx;
	const uint64_t *backlog; /* bytes still queued, read after each pop */
} codel_queue_t;

void codel_params_default(codel_params_t *p, uint32_t mtu);
void codel_vars_init(codel_vars_t *v);

/* Pops the next packet to deliver, dropping or marking per CoDel. NULL when
 * the FIFO is (or became) empty. A marked packet is delivered with CE set. */
frame_buf_t *codel_dequeue(const codel_params_t *p, codel_vars_t *v, codel_stats_t *st,
                            const codel_queue_t *q, uint64_t now);

/* interval / sqrt(count) in ns, as the control law applies it; exposed for
 * tests and for callers that bump count themselves (codel_set_count). */
uint64_t codel_spacing(uint64_t interval_ns, uint64_t inv_sqrt);
uint64_t codel_inv_sqrt(uint32_t count);
void codel_set_count(codel_vars_t *v, uint32_t count);

/* How long pkt has waited at time now (0 if stamped in the future). */
static inline uint64_t codel_sojourn(const frame_buf_t *pkt, uint64_t now) {
	return now > pkt->tstamp_ns ? now - pkt->tstamp_ns : 0;
}

#endif
