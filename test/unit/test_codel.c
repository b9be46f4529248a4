/* CoDel (RFC 8289) against a virtual clock.
 *
 * The FIFO here is an "oracle": it holds a count of packets and, when CoDel
 * pops one, makes up a packet whose sojourn time is whatever the test sets
 * for that moment. That isolates the state machine from queue dynamics:
 * each test states the delay CoDel sees and checks when it acts. Expected
 * drop times are computed here with libm's sqrt in double precision. */
#include "util/compat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aqm/codel.h"
#include "packet/ecn.h"
#include "frames.h"
#include "unit.h"

#define MS 1000000ULL
#define US 1000ULL
#define I_NS (100 * MS)
#define T_NS (5 * MS)
#define PKT_LEN 1000
#define NBUF 8
#define MAXLOG 4096

typedef struct oracle {
	uint32_t queued;      /* packets the FIFO pretends to hold */
	uint32_t pkt_len;
	uint64_t backlog;     /* queued * pkt_len */
	uint64_t now;
	uint64_t sojourn;     /* what the next popped packet has waited */
	uint8_t ecn;          /* ECN field of the packets made up */
	frame_buf_t buf[NBUF];
	bool busy[NBUF];
	uint64_t drop_at[MAXLOG];
	size_t ndrops;
} oracle_t;

/* Ethernet + IPv4 (TOS from ecn) + UDP ports, padded to len. */
static void make_frame(frame_buf_t *p, uint32_t len, uint8_t ecn) {
	memset(p->data, 0, len);
	/* DSCP EF, so marking must keep it */
	uint8_t *ip = put_ipv4_header(p->data, len, (uint8_t)(0xb8 | ecn), 17, 1, 2);
	ip[20] = 0x30;
	ip[21] = 0x39;
	ip[22] = 0x00;
	ip[23] = 0x35;
	p->len = (uint16_t)len;
}

static frame_buf_t *o_pop(void *ctx) {
	oracle_t *o = ctx;
	if(!o->queued)
		return NULL;
	for(int i = 0; i < NBUF; i++) {
		if(!o->busy[i]) {
			o->busy[i] = true;
			frame_buf_t *p = &o->buf[i];
			make_frame(p, o->pkt_len, o->ecn);
			p->tstamp_ns = o->now - o->sojourn;
			o->queued--;
			o->backlog -= o->pkt_len;
			return p;
		}
	}
	abort(); /* the test leaks buffers */
}

static void o_free(oracle_t *o, frame_buf_t *p) {
	o->busy[p - o->buf] = false;
}

static void o_drop(void *ctx, frame_buf_t *p) {
	oracle_t *o = ctx;
	if(o->ndrops < MAXLOG)
		o->drop_at[o->ndrops] = o->now;
	o->ndrops++;
	o_free(o, p);
}

static void o_init(oracle_t *o, uint32_t depth, uint32_t len) {
	memset(o, 0, sizeof(*o));
	o->queued = depth;
	o->pkt_len = len;
	o->backlog = (uint64_t)depth * len;
	o->now = 1000 * MS;
}

static void o_fill(oracle_t *o, uint32_t depth) {
	o->queued = depth;
	o->backlog = (uint64_t)depth * o->pkt_len;
}

typedef struct rig {
	oracle_t o;
	codel_params_t p;
	codel_vars_t v;
	codel_stats_t st;
	codel_queue_t q;
	uint64_t mark_at[MAXLOG];
	size_t nmarks;
} rig_t;

static void rig_init(rig_t *r, uint32_t depth, uint32_t len, bool ecn) {
	memset(r, 0, sizeof(*r));
	o_init(&r->o, depth, len);
	codel_params_default(&r->p, 1514);
	r->p.ecn = ecn;
	codel_vars_init(&r->v);
	r->q.pop = o_pop;
	r->q.drop = o_drop;
	r->q.ctx = &r->o;
	r->q.backlog = &r->o.backlog;
}

/* One dequeue at the oracle's current time, with the FIFO topped up to
 * depth first; records CE marks on delivered packets. */
static frame_buf_t *step(rig_t *r, uint32_t depth) {
	o_fill(&r->o, depth);
	uint64_t marks = r->st.marks;
	frame_buf_t *p = codel_dequeue(&r->p, &r->v, &r->st, &r->q, r->o.now);
	if(r->st.marks != marks && r->nmarks < MAXLOG)
		r->mark_at[r->nmarks++] = r->o.now;
	return p;
}

static void run(rig_t *r, uint32_t depth, uint64_t until, uint64_t tick) {
	for(; r->o.now < until; r->o.now += tick) {
		frame_buf_t *p = step(r, depth);
		if(p)
			o_free(&r->o, p);
	}
}

static void test_spacing_matches_libm(void) {
	/* The integer reciprocal square root against libm, over the counts a
	 * queue can reach. */
	int bad = 0;
	for(uint32_t c = 1; c <= 100000; c++) {
		double want = (double)I_NS / sqrt((double)c);
		double got = (double)codel_spacing(I_NS, codel_inv_sqrt(c));
		if(fabs(got - want) > 1.0)
			bad++;
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(codel_spacing(I_NS, codel_inv_sqrt(1)), I_NS);
	CHECK_EQ_INT(codel_spacing(I_NS, codel_inv_sqrt(4)), I_NS / 2);
	CHECK_EQ_INT(codel_spacing(I_NS, codel_inv_sqrt(100)), I_NS / 10);
	/* Intervals beyond 2^32 ns must not overflow. */
	uint64_t big = 10ULL * 1000 * MS;
	CHECK(llabs((long long)codel_spacing(big, codel_inv_sqrt(9)) - (long long)(big / 3)) <= 2);
}

/* Checks the signal times in at[] against the control law computed in
 * double: the first at entry, then each at the first tick at or after
 * the previous scheduled time + interval / sqrt(count). */
static void check_schedule(const uint64_t *at, size_t n, uint64_t entry, uint64_t tick,
                           uint32_t count0) {
	double next = (double)entry;
	for(size_t k = 0; k < n; k++) {
		double lo = next - 2.0, hi = next + (double)tick + 2.0;
		if(!((double)at[k] >= lo && (double)at[k] < hi)) {
			fprintf(stderr, "signal %zu at %llu, expected in [%.0f, %.0f)\n", k + 1,
			        (unsigned long long)at[k], lo, hi);
			CHECK(false);
		} else {
			CHECK(true);
		}
		/* count for the gap after signal k (k from 0) is count0 + k. */
		next += (double)I_NS / sqrt((double)(count0 + k));
	}
}

static void test_control_law_drops(void) {
	rig_t *r = calloc(1, sizeof(*r));
	rig_init(r, 4, PKT_LEN, false);
	uint64_t t0 = r->o.now, tick = 10 * US;
	r->o.sojourn = 20 * MS;
	/* Until the 6th drop: entry, then 5 more on the control law. */
	while(r->o.ndrops < 6 && r->o.now < t0 + 2000 * MS) {
		frame_buf_t *p = step(r, 4);
		if(p)
			o_free(&r->o, p);
		r->o.now += tick;
	}
	CHECK_EQ_INT(r->o.ndrops, 6);
	/* Above target since t0: the first drop exactly one interval later. */
	CHECK_EQ_INT(r->o.drop_at[0], t0 + I_NS);
	check_schedule(r->o.drop_at, 6, t0 + I_NS, tick, 1);
	/* The absolute times of drops 2..5, as the test computes them. */
	double t = (double)(t0 + I_NS);
	for(int k = 1; k <= 4; k++) {
		t += (double)I_NS / sqrt((double)k);
		CHECK((double)r->o.drop_at[k] >= t - 2 && (double)r->o.drop_at[k] < t + (double)tick + 2);
	}
	/* The schedule itself (not rounded to ticks) stays on libm's values. */
	double sched = (double)(t0 + I_NS);
	for(uint32_t c = 1; c <= 6; c++)
		sched += (double)I_NS / sqrt((double)c);
	CHECK(fabs((double)r->v.drop_next - sched) <= 6.0);
	CHECK_EQ_INT(r->v.count, 6);
	CHECK(r->v.dropping);
	CHECK_EQ_INT(r->st.drops, 6);
	CHECK_EQ_INT(r->st.marks, 0);
	free(r);
}

static void test_no_drop_below_target(void) {
	rig_t *r = calloc(1, sizeof(*r));
	rig_init(r, 50, PKT_LEN, false);
	r->o.sojourn = T_NS - 1;
	run(r, 50, r->o.now + 10000 * MS, 100 * US);
	CHECK_EQ_INT(r->o.ndrops, 0);
	CHECK(!r->v.dropping);
	/* Exactly at target counts as above (RFC: sojourn < TARGET is fine). */
	r->o.sojourn = T_NS;
	run(r, 50, r->o.now + 200 * MS, 100 * US);
	CHECK(r->o.ndrops > 0);
	free(r);
}

static void test_no_drop_at_one_mtu(void) {
	rig_t *r = calloc(1, sizeof(*r));
	/* Two full-size packets: after popping one, 1514 bytes remain = MTU. */
	rig_init(r, 2, 1514, false);
	r->o.sojourn = 500 * MS;
	run(r, 2, r->o.now + 5000 * MS, 100 * US);
	CHECK_EQ_INT(r->o.ndrops, 0);
	CHECK(!r->v.dropping);
	/* One byte more behind the head and CoDel acts. */
	rig_init(r, 3, 1514, false);
	r->o.sojourn = 500 * MS;
	run(r, 3, r->o.now + 500 * MS, 100 * US);
	CHECK(r->o.ndrops > 0);
	free(r);
}

static void test_full_interval_needed(void) {
	rig_t *r = calloc(1, sizeof(*r));
	rig_init(r, 10, PKT_LEN, false);
	uint64_t tick = 1 * MS;
	/* 99 ms above target, 1 ms below, for 3 s: never a whole interval. */
	uint64_t end = r->o.now + 3000 * MS;
	for(uint64_t i = 0; r->o.now < end; i++, r->o.now += tick) {
		r->o.sojourn = i % 100 == 99 ? 1 * MS : 30 * MS;
		frame_buf_t *p = step(r, 10);
		if(p)
			o_free(&r->o, p);
	}
	CHECK_EQ_INT(r->o.ndrops, 0);
	/* Now stay above: the first drop comes one interval after the first
	 * above-target dequeue, not before. */
	uint64_t start = r->o.now;
	r->o.sojourn = 30 * MS;
	run(r, 10, start + I_NS, tick);
	CHECK_EQ_INT(r->o.ndrops, 0);
	run(r, 10, start + I_NS + tick, tick);
	CHECK_EQ_INT(r->o.ndrops, 1);
	CHECK_EQ_INT(r->o.drop_at[0], start + I_NS);
	free(r);
}

/* Runs above target until count reaches want_count, then below target for
 * gap ns, then above again; returns the time of re-entry. */
static uint64_t episode_then_gap(rig_t *r, uint32_t want_count, uint64_t gap, uint64_t tick) {
	r->o.sojourn = 20 * MS;
	while(r->v.count < want_count) {
		frame_buf_t *p = step(r, 10);
		if(p)
			o_free(&r->o, p);
		r->o.now += tick;
	}
	r->o.sojourn = 1 * MS;
	run(r, 10, r->o.now + gap, tick);
	CHECK(!r->v.dropping);
	r->o.sojourn = 20 * MS;
	size_t before = r->o.ndrops;
	while(r->o.ndrops == before) {
		frame_buf_t *p = step(r, 10);
		if(p)
			o_free(&r->o, p);
		r->o.now += tick;
	}
	return r->o.drop_at[before];
}

static void test_reentry_hysteresis(void) {
	rig_t *r = calloc(1, sizeof(*r));
	uint64_t tick = 10 * US;

	/* Re-entering soon: count resumes at count - lastcount = 6 - 1. */
	rig_init(r, 10, PKT_LEN, false);
	uint64_t entry = episode_then_gap(r, 6, 50 * MS, tick);
	CHECK_EQ_INT(r->v.count, 5);
	CHECK_EQ_INT(r->v.lastcount, 5);
	size_t first = r->o.ndrops - 1;
	run(r, 10, entry + 400 * MS, tick);
	CHECK(r->o.ndrops >= first + 4);
	check_schedule(r->o.drop_at + first, 4, entry, tick, 5);

	/* Re-entering after more than 16 intervals: back to count 1. */
	rig_init(r, 10, PKT_LEN, false);
	entry = episode_then_gap(r, 6, 17 * I_NS, tick);
	CHECK_EQ_INT(r->v.count, 1);
	first = r->o.ndrops - 1;
	run(r, 10, entry + 300 * MS, tick);
	check_schedule(r->o.drop_at + first, 3, entry, tick, 1);

	/* An episode with a single extra drop (delta 1) also restarts at 1. */
	rig_init(r, 10, PKT_LEN, false);
	episode_then_gap(r, 2, 50 * MS, tick);
	CHECK_EQ_INT(r->v.count, 1);
	free(r);
}

static bool frame_is_ce(const frame_buf_t *p) {
	uint8_t dscp, ecn;
	return ecn_frame_read(p->data, p->len, &dscp, &ecn) && ecn == ECN_CE && dscp == 0x2e;
}

static void test_ecn_marks_instead_of_drops(void) {
	rig_t *r = calloc(1, sizeof(*r));
	uint64_t tick = 10 * US;
	rig_init(r, 4, PKT_LEN, true);
	r->o.ecn = ECN_ECT0;
	r->o.sojourn = 20 * MS;
	uint64_t t0 = r->o.now;
	size_t ce_delivered = 0, checksum_ok = 0;
	while(r->nmarks < 6 && r->o.now < t0 + 2000 * MS) {
		frame_buf_t *p = step(r, 4);
		if(p) {
			if(frame_is_ce(p)) {
				ce_delivered++;
				checksum_ok += csum_fold(p->data + 14, 20) == 0xffff;
			}
			o_free(&r->o, p);
		}
		r->o.now += tick;
	}
	CHECK_EQ_INT(r->nmarks, 6);
	CHECK_EQ_INT(r->o.ndrops, 0);
	CHECK_EQ_INT(r->st.drops, 0);
	CHECK_EQ_INT(r->st.marks, 6);
	CHECK_EQ_INT(ce_delivered, 6);
	CHECK_EQ_INT(checksum_ok, 6);
	/* Marks follow the same control law as drops. */
	check_schedule(r->mark_at, 6, t0 + I_NS, tick, 1);

	/* Not-ECT under the same conditions is dropped even with ECN on. */
	rig_init(r, 4, PKT_LEN, true);
	r->o.ecn = ECN_NOT_ECT;
	r->o.sojourn = 20 * MS;
	run(r, 4, r->o.now + 400 * MS, tick);
	CHECK(r->o.ndrops >= 3);
	CHECK_EQ_INT(r->st.marks, 0);

	/* ECT with ECN off is dropped too. */
	rig_init(r, 4, PKT_LEN, false);
	r->o.ecn = ECN_ECT1;
	r->o.sojourn = 20 * MS;
	run(r, 4, r->o.now + 400 * MS, tick);
	CHECK(r->o.ndrops >= 3);
	CHECK_EQ_INT(r->st.marks, 0);
	free(r);
}

static void test_catch_up_after_pause(void) {
	/* Dequeues stop for 300 ms in the drop state: the next one owes
	 * several drops and takes them in one call, following the schedule. */
	rig_t *r = calloc(1, sizeof(*r));
	rig_init(r, 100, PKT_LEN, false);
	r->o.sojourn = 20 * MS;
	uint64_t t0 = r->o.now;
	run(r, 100, t0 + I_NS + 1 * MS, 1 * MS); /* entered: one drop */
	CHECK_EQ_INT(r->o.ndrops, 1);
	r->o.now = t0 + I_NS + 300 * MS;
	frame_buf_t *p = step(r, 100);
	CHECK(p != NULL);
	if(p)
		o_free(&r->o, p);
	/* Scheduled after entry: +100, +70.7, +57.7, +50 ms = 278.4 ms <= 300. */
	CHECK_EQ_INT(r->o.ndrops, 5);
	CHECK_EQ_INT(r->v.count, 5);
	free(r);
}

static void test_empty_queue_leaves_drop_state(void) {
	rig_t *r = calloc(1, sizeof(*r));
	rig_init(r, 10, PKT_LEN, false);
	r->o.sojourn = 20 * MS;
	run(r, 10, r->o.now + 150 * MS, 1 * MS);
	CHECK(r->v.dropping);
	o_fill(&r->o, 0);
	CHECK(codel_dequeue(&r->p, &r->v, &r->st, &r->q, r->o.now) == NULL);
	CHECK(!r->v.dropping);
	free(r);
}

int main(void) {
	test_spacing_matches_libm();
	test_control_law_drops();
	test_no_drop_below_target();
	test_no_drop_at_one_mtu();
	test_full_interval_needed();
	test_reentry_hysteresis();
	test_ecn_marks_instead_of_drops();
	test_catch_up_after_pause();
	test_empty_queue_leaves_drop_state();
	return unit_done();
}
