/* Receive-side CoDel with a virtual clock: quiet batches pass untouched; a
 * standing delay above target for a whole interval produces signals, which
 * drop Not-ECT datagrams before decryption and pass ECN-capable ones on to
 * be CE-marked; the CE threshold marks, the drop threshold drops sparingly. */
#include "util/compat.h"

#include <string.h>

#include "util/clock.h"
#include "packet/ecn.h"
#include "aqm/ingress.h"
#include "unit.h"

#define MS NSEC_PER_MSEC

static int delivered, congested;
static ingress_queue_t queue;

static void deliver(frame_buf_t *p, ingress_verdict_t v, void *ctx) {
	(void)p;
	(void)ctx;
	if(v == INGRESS_DROP)
		return; /* told only so the caller can count it */
	delivered++;
	if(v == INGRESS_MARK || v == INGRESS_MARK_ONLY)
		congested++;
}

/* A batch of n datagrams, each having waited 'wait' at time now. */
static void run_batch(int n, uint64_t now, uint64_t wait, uint8_t outer_ecn, bool full) {
	static frame_buf_t pk[64];
	frame_buf_t *batch[64];
	for(int i = 0; i < n; i++) {
		memset(&pk[i], 0, sizeof(pk[i]));
		pk[i].len = 1000;
		pk[i].tstamp_ns = now - wait;
		pk[i].outer_tos = outer_ecn;
		batch[i] = &pk[i];
	}
	/* a full batch: a socket's worth more waits behind it */
	uint64_t behind = full ? 64 * PACKET_BUF_MAX : 0;
	ingress_run(&queue, batch, n, behind, behind + (uint64_t)n * 1000, now, deliver, NULL);
}

int main(void) {
	ingress_init(5 * MS, 100 * MS, 0, 0);
	ingress_queue_init(&queue);
	uint64_t t = 1000 * NSEC_PER_SEC;

	/* below target: nothing happens */
	for(int i = 0; i < 100; i++, t += MS)
		run_batch(64, t, 2 * MS, ECN_NOT_ECT, true);
	ingress_stats_t st;
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.signals, 0);
	CHECK_EQ_INT(delivered, 6400);

	/* above target, but only for less than an interval: still nothing */
	delivered = 0;
	for(int i = 0; i < 50; i++, t += MS)
		run_batch(64, t, 20 * MS, ECN_NOT_ECT, true);
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.signals, 0);
	CHECK_EQ_INT(delivered, 3200);

	/* sustained: signals start, Not-ECT ones are dropped undelivered */
	delivered = 0;
	for(int i = 0; i < 200; i++, t += MS)
		run_batch(64, t, 20 * MS, ECN_NOT_ECT, true);
	ingress_get_stats(&st);
	CHECK(st.signals > 0);
	CHECK_EQ_INT(st.dropped, st.signals);
	CHECK_EQ_INT(st.marked, 0);
	CHECK_EQ_INT(delivered + (int)st.dropped, 200 * 64);
	CHECK_EQ_INT(congested, 0);
	uint64_t drops_after_not_ect = st.dropped;
	/* the control law spaces signals: far fewer than packets */
	CHECK(st.signals < 50);

	/* ECN-capable outer: signals become marks, everything is delivered */
	delivered = 0;
	for(int i = 0; i < 200; i++, t += MS)
		run_batch(64, t, 20 * MS, ECN_ECT0, true);
	ingress_get_stats(&st);
	CHECK(st.marked > 0);
	CHECK_EQ_INT(st.dropped, drops_after_not_ect);
	CHECK_EQ_INT(delivered, 200 * 64);
	CHECK_EQ_INT(congested, (int)st.marked);

	/* a nearly empty socket (small batch, nothing behind) is never punished */
	uint64_t before = st.signals;
	for(int i = 0; i < 300; i++, t += MS)
		run_batch(1, t, 50 * MS, ECN_NOT_ECT, false);
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.signals, before);
	CHECK(st.sojourn_max_ns >= 50 * MS);

	/* With a CE threshold, an ECN-capable datagram that waited longer is
	 * marked at once, before CoDel would act (no interval has passed);
	 * Not-ECT ones and those below the threshold pass untouched. */
	ingress_init(5 * MS, 100 * MS, 2 * MS, 0);
	ingress_queue_init(&queue);
	ingress_get_stats(&st);
	uint64_t signals0 = st.signals, threshold0 = st.threshold_marks;
	delivered = congested = 0;
	run_batch(8, t, 3 * MS, ECN_ECT0, false);
	t += MS;
	run_batch(8, t, 1 * MS, ECN_ECT0, false);
	t += MS;
	run_batch(8, t, 3 * MS, ECN_NOT_ECT, false);
	t += MS;
	run_batch(8, t, 3 * MS, ECN_CE, false);
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.threshold_marks - threshold0, 16);
	CHECK_EQ_INT(congested, 16);
	CHECK_EQ_INT(delivered, 32);
	CHECK_EQ_INT(st.signals, signals0);

	/* With a drop threshold, a Not-ECT datagram that waited longer is
	 * dropped undecrypted, but one per INGRESS_DROP_SPACING_NS at most and
	 * only while a load waits (INGRESS_DROP_MIN_BACKLOG); ECN-capable ones
	 * are never dropped for it. */
	ingress_init(5 * MS, 100 * MS, 0, 2 * MS);
	ingress_queue_init(&queue);
	ingress_get_stats(&st);
	uint64_t drops0 = st.threshold_drops;
	signals0 = st.signals;
	delivered = 0;
	t += 10 * MS;
	run_batch(64, t, 3 * MS, ECN_NOT_ECT, true); /* one drop, 63 pass */
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.threshold_drops - drops0, 1);
	CHECK_EQ_INT(delivered, 63);
	t += 1 * MS;
	run_batch(64, t, 3 * MS, ECN_NOT_ECT, true); /* within the spacing: none */
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.threshold_drops - drops0, 1);
	/* ... but the spacing is per queue: another flow bucket gets its own */
	ingress_queue_t first = queue;
	ingress_queue_init(&queue);
	run_batch(64, t, 3 * MS, ECN_NOT_ECT, true);
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.threshold_drops - drops0, 2);
	queue = first;
	drops0++;
	t += 1 * MS;
	run_batch(64, t, 3 * MS, ECN_NOT_ECT, true); /* 2 ms later: one more */
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.threshold_drops - drops0, 2);
	t += 10 * MS;
	run_batch(64, t, 1 * MS, ECN_NOT_ECT, true); /* below the threshold */
	run_batch(64, t + 5 * MS, 3 * MS, ECN_ECT0, true); /* ECN-capable */
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.threshold_drops - drops0, 2);
	t += 10 * MS;
	/* a daemon that was stopped: a few pings waited long, no load behind */
	run_batch(8, t, 100 * MS, ECN_NOT_ECT, false);
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.threshold_drops - drops0, 2);
	/* a sparse flow's lone datagram waited behind other queues' load: its
	 * own queue holds no more than it, so it passes; a second datagram
	 * behind it makes a queue of its own, and the threshold applies */
	t += 10 * MS;
	frame_buf_t ping;
	memset(&ping, 0, sizeof(ping));
	ping.len = 98;
	ping.tstamp_ns = t - 3 * MS;
	frame_buf_t *one = &ping;
	ingress_queue_init(&queue);
	delivered = 0;
	ingress_run(&queue, &one, 1, 0, 64 * PACKET_BUF_MAX, t, deliver, NULL);
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.threshold_drops - drops0, 2);
	CHECK_EQ_INT(delivered, 1);
	ingress_run(&queue, &one, 1, PACKET_BUF_MAX, 64 * PACKET_BUF_MAX, t, deliver, NULL);
	ingress_get_stats(&st);
	CHECK_EQ_INT(st.threshold_drops - drops0, 3);
	CHECK_EQ_INT(st.signals, signals0);
	return unit_done();
}
