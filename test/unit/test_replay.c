#include "util/compat.h"

#include "packet/replay.h"
#include "unit.h"

static void test_in_order(void) {
	replay_window_t w;
	replay_init(&w, 16);
	/* Seqno 0 is never valid: senders start at 1. */
	CHECK_EQ_INT(replay_check(&w, 0), REPLAY_REPLAYED);
	int bad = 0;
	for(uint32_t s = 1; s <= 1000; s++)
		if(replay_check(&w, s) != REPLAY_ACCEPT)
			bad++;
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(w.received, 1000);
	CHECK_EQ_INT(w.n_lost, 0);
	CHECK_EQ_INT(w.n_replayed, 1);
	/* Every one of them again is a replay (or too old). */
	CHECK_EQ_INT(replay_check(&w, 1000), REPLAY_REPLAYED);
	CHECK_EQ_INT(replay_check(&w, 999), REPLAY_REPLAYED);
	CHECK_EQ_INT(replay_check(&w, 873), REPLAY_REPLAYED); /* 1000 - 128 + 1: inside */
	CHECK_EQ_INT(replay_check(&w, 872), REPLAY_LATE);     /* 1000 - 128: outside */
	CHECK_EQ_INT(replay_check(&w, 1), REPLAY_LATE);
	CHECK_EQ_INT(w.n_late, 2);
	replay_free(&w);
}

static void test_gap_and_fill(void) {
	replay_window_t w;
	replay_init(&w, 16);
	CHECK_EQ_INT(replay_check(&w, 1), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 5), REPLAY_ACCEPT); /* 2, 3, 4 missing */
	CHECK_EQ_INT(w.received, 5);
	CHECK_EQ_INT(replay_check(&w, 3), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 3), REPLAY_REPLAYED);
	CHECK_EQ_INT(replay_check(&w, 2), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 4), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 4), REPLAY_REPLAYED);
	CHECK_EQ_INT(replay_check(&w, 5), REPLAY_REPLAYED);
	CHECK_EQ_INT(w.received, 5); /* filling in does not move R */
	CHECK_EQ_INT(replay_check(&w, 6), REPLAY_ACCEPT);

	/* The largest gap that is not "far future": s = R + 8W - 1. */
	CHECK_EQ_INT(replay_check(&w, 6 + 127), REPLAY_ACCEPT);
	CHECK_EQ_INT(w.received, 133);
	CHECK_EQ_INT(w.far_ahead_run, 0);
	/* 7 .. 132 are all still welcome, once each. */
	int bad = 0;
	for(uint32_t s = 7; s < 133; s++)
		if(replay_check(&w, s) != REPLAY_ACCEPT || replay_check(&w, s) != REPLAY_REPLAYED)
			bad++;
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(w.n_lost, 0);
	replay_free(&w);

	/* Missing packets from before a wrap of the ring are forgotten once the
	 * window has moved past them. */
	replay_init(&w, 1); /* 8 packets */
	CHECK_EQ_INT(replay_check(&w, 1), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 3), REPLAY_ACCEPT); /* 2 missing */
	for(uint32_t s = 4; s <= 10; s++)
		CHECK_EQ_INT(replay_check(&w, s), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 2), REPLAY_LATE); /* 2 <= 10 - 8 */
	replay_free(&w);
}

static void test_far_future(void) {
	replay_window_t w;
	replay_init(&w, 16); /* 128 packets; W/4 = 4 far-future drops */
	for(uint32_t s = 1; s <= 10; s++)
		replay_check(&w, s);
	/* s >= R + 8W is too far ahead. */
	for(int i = 0; i < 4; i++)
		CHECK_EQ_INT(replay_check(&w, 138 + (uint32_t)i), REPLAY_FARFUTURE);
	CHECK_EQ_INT(w.far_ahead_run, 4);
	CHECK_EQ_INT(w.n_far_ahead, 4);
	CHECK_EQ_INT(w.received, 10);
	/* An in-order packet resets the count. */
	CHECK_EQ_INT(replay_check(&w, 11), REPLAY_ACCEPT);
	CHECK_EQ_INT(w.far_ahead_run, 0);
	for(int i = 0; i < 4; i++)
		CHECK_EQ_INT(replay_check(&w, 1000), REPLAY_FARFUTURE);
	/* The fifth in a row is believed: the window jumps. */
	CHECK_EQ_INT(replay_check(&w, 1000), REPLAY_ACCEPT);
	CHECK_EQ_INT(w.received, 1000);
	CHECK_EQ_INT(w.n_lost, 1000 - 11 - 1);
	CHECK_EQ_INT(w.far_ahead_run, 0);
	CHECK_EQ_INT(w.n_far_ahead, 8);
	/* Packets skipped by the jump are not waited for. */
	CHECK_EQ_INT(replay_check(&w, 999), REPLAY_REPLAYED);
	CHECK_EQ_INT(replay_check(&w, 500), REPLAY_LATE);
	CHECK_EQ_INT(replay_check(&w, 1001), REPLAY_ACCEPT);
	/* Just below the far-future edge is an ordinary gap. */
	CHECK_EQ_INT(replay_check(&w, 1001 + 127), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 1128 + 128), REPLAY_FARFUTURE);

	/* No 32-bit wrap-around at the top of the seqno space. */
	replay_reset(&w);
	CHECK_EQ_INT(w.received, 0);
	CHECK_EQ_INT(w.n_lost, 988); /* counters survive a reset */
	for(int i = 0; i < 4; i++)
		CHECK_EQ_INT(replay_check(&w, 0xFFFFFFF0u), REPLAY_FARFUTURE);
	CHECK_EQ_INT(replay_check(&w, 0xFFFFFFF0u), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 0xFFFFFFFFu), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 0xFFFFFFF5u), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 0xFFFFFFF5u), REPLAY_REPLAYED);
	CHECK_EQ_INT(replay_check(&w, 5), REPLAY_LATE);
	replay_free(&w);

	/* With W < 4 there is no far-future grace at all. */
	replay_init(&w, 2);
	CHECK_EQ_INT(replay_check(&w, 1), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 17), REPLAY_ACCEPT);
	CHECK_EQ_INT(w.n_lost, 15);
	replay_free(&w);
}

static void test_reset(void) {
	replay_window_t w;
	replay_init(&w, 16);
	for(uint32_t s = 1; s <= 50; s++)
		replay_check(&w, s);
	replay_check(&w, 50);
	replay_reset(&w);
	CHECK_EQ_INT(w.received, 0);
	CHECK_EQ_INT(w.n_replayed, 1);
	/* A new key restarts the sender at 1. */
	CHECK_EQ_INT(replay_check(&w, 1), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 2), REPLAY_ACCEPT);
	replay_free(&w);
}

static void test_disabled(void) {
	replay_window_t w;
	replay_init(&w, 0);
	CHECK(w.late == NULL);
	CHECK_EQ_INT(replay_check(&w, 0), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 5), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 5), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 1), REPLAY_ACCEPT);
	CHECK_EQ_INT(replay_check(&w, 100000), REPLAY_ACCEPT);
	CHECK_EQ_INT(w.received, 100000); /* still tracked (key expiry uses it) */
	CHECK_EQ_INT(replay_check(&w, 7), REPLAY_ACCEPT);
	CHECK_EQ_INT(w.received, 100000);
	CHECK_EQ_INT(w.n_late + w.n_replayed + w.n_far_ahead + w.n_lost, 0);
	replay_reset(&w);
	CHECK_EQ_INT(w.received, 0);
	replay_free(&w);
}

int main(void) {
	test_in_order();
	test_gap_and_fill();
	test_far_future();
	test_reset();
	test_disabled();
	return unit_done();
}
