#include "util/compat.h"

#include <string.h>

#include "aqm/codel.h"
#include "packet/ecn.h"

void codel_params_default(codel_params_t *p, uint32_t mtu) {
	p->target_ns = CODEL_TARGET_NS;
	p->interval_ns = CODEL_INTERVAL_NS;
	p->mtu = mtu;
	p->ecn = true;
}

void codel_vars_init(codel_vars_t *v) {
	memset(v, 0, sizeof(*v));
	v->inv_sqrt = codel_inv_sqrt(1);
}

/* floor(sqrt(x)), digit by digit: exact, integer only, 32 rounds at most.
 * It runs once per drop or mark, never per delivered packet. */
static uint64_t isqrt64(uint64_t x) {
	uint64_t r = 0, bit = 1ULL << 62;
	while(bit > x)
		bit >>= 2;
	while(bit) {
		if(x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/* 2^32 / sqrt(count) in Q32: sqrt(2^64 / count), which fits in 32 bits for
 * count >= 2; count 1 is exactly 1.0. */
uint64_t codel_inv_sqrt(uint32_t count) {
	if(count <= 1)
		return 1ULL << 32;
	return isqrt64(UINT64_MAX / count);
}

/* interval * inv_sqrt / 2^32, rounded, without overflow for any interval:
 * lo * inv_sqrt + 2^31 < 2^64 since lo < 2^32 and inv_sqrt <= 2^32. */
uint64_t codel_spacing(uint64_t interval_ns, uint64_t inv_sqrt) {
	uint64_t hi = interval_ns >> 32, lo = interval_ns & 0xffffffffULL;
	return hi * inv_sqrt + ((lo * inv_sqrt + (1ULL << 31)) >> 32);
}

void codel_set_count(codel_vars_t *v, uint32_t count) {
	v->count = count;
	v->inv_sqrt = codel_inv_sqrt(count);
}

/* True when the head has been above target, with more than one MTU still
 * queued behind it, for at least a whole interval. Also records ldelay. */
static bool should_drop(const codel_params_t *p, codel_vars_t *v, const frame_buf_t *pkt,
                        uint64_t backlog, uint64_t now) {
	if(!pkt) {
		v->first_above = 0;
		return false;
	}
	v->ldelay = codel_sojourn(pkt, now);
	if(v->ldelay < p->target_ns || backlog <= p->mtu) {
		v->first_above = 0;
		return false;
	}
	if(!v->first_above) {
		v->first_above = now + p->interval_ns;
		return false;
	}
	return now >= v->first_above;
}

/* Sends the congestion signal on pkt. True: it was CE-marked and is still
 * to be delivered. False: it was dropped. */
static bool signal_or_drop(const codel_params_t *p, codel_stats_t *st, const codel_queue_t *q,
                           frame_buf_t *pkt) {
	if(p->ecn && ecn_mark_ce(pkt->data, pkt->len)) {
		st->marks++;
		return true;
	}
	st->drops++;
	st->drop_bytes += pkt->len;
	q->drop(q->ctx, pkt);
	return false;
}

frame_buf_t *codel_dequeue(const codel_params_t *p, codel_vars_t *v, codel_stats_t *st,
                            const codel_queue_t *q, uint64_t now) {
	frame_buf_t *pkt = q->pop(q->ctx);
	if(!pkt) {
		v->dropping = false;
		return NULL;
	}

	bool drop = should_drop(p, v, pkt, *q->backlog, now);

	if(v->dropping) {
		if(!drop) {
			v->dropping = false;
			return pkt;
		}
		/* Several signals can be due at once when the schedule fell
		 * behind (a long pause between dequeues); catch up now. */
		while(v->dropping && now >= v->drop_next) {
			codel_set_count(v, v->count + 1);
			if(signal_or_drop(p, st, q, pkt)) {
				v->drop_next += codel_spacing(p->interval_ns, v->inv_sqrt);
				break;
			}
			pkt = q->pop(q->ctx);
			if(!should_drop(p, v, pkt, *q->backlog, now))
				v->dropping = false;
			else
				v->drop_next += codel_spacing(p->interval_ns, v->inv_sqrt);
		}
		return pkt;
	}

	if(drop) {
		if(!signal_or_drop(p, st, q, pkt)) {
			pkt = q->pop(q->ctx);
			/* Only to refresh first_above/ldelay for the new head: the
			 * episode starts regardless. */
			should_drop(p, v, pkt, *q->backlog, now);
		}
		v->dropping = true;

		/* Starting again soon after the last episode: the drop rate that
		 * controlled the queue then is a better guess than 1. */
		uint32_t delta = v->count > v->lastcount ? v->count - v->lastcount : 0;
		uint64_t window = CODEL_REENTRY_INTERVALS * p->interval_ns;
		if(delta > 1 && (int64_t)(now - v->drop_next) < (int64_t)window)
			codel_set_count(v, delta);
		else
			codel_set_count(v, 1);
		v->lastcount = v->count;
		v->drop_next = now + codel_spacing(p->interval_ns, v->inv_sqrt);
	}
	return pkt;
}
