/* The contradiction-storm guard's decision: when two daemons share a Name,
 * pause, doubling up to the cap; relax back towards the minimum. */
#include "util/compat.h"

#include "meta/protocol.h"
#include "unit.h"

static void test_calm(void) {
	/* Below or at the limit, or only one kind over it: no pause. */
	edge_storm_verdict_t v = edge_storm_decide(0, 0, EDGE_STORM_PAUSE_MIN);
	CHECK_EQ_INT(v.pause_s, 0);
	CHECK_EQ_INT(v.next_pause_s, EDGE_STORM_PAUSE_MIN);
	v = edge_storm_decide(100, 100, 10);
	CHECK_EQ_INT(v.pause_s, 0);
	v = edge_storm_decide(1000, 100, 10);
	CHECK_EQ_INT(v.pause_s, 0);
	v = edge_storm_decide(100, 1000, 10);
	CHECK_EQ_INT(v.pause_s, 0);
}

static void test_storm_doubles_to_cap(void) {
	int pause = EDGE_STORM_PAUSE_MIN;
	const int expect[] = {10, 20, 40, 80, 160, 320, 640, 640, 640};
	for(size_t i = 0; i < ARRAY_SIZE(expect); i++) {
		edge_storm_verdict_t v = edge_storm_decide(101, 101, pause);
		CHECK_EQ_INT(v.pause_s, expect[i]);
		pause = v.next_pause_s;
	}
	CHECK_EQ_INT(pause, EDGE_STORM_PAUSE_MAX);
}

static void test_calm_relaxes(void) {
	/* Each calm window halves the next pause, never below the minimum. */
	int pause = EDGE_STORM_PAUSE_MAX;
	const int expect[] = {320, 160, 80, 40, 20, 10, 10};
	for(size_t i = 0; i < ARRAY_SIZE(expect); i++) {
		edge_storm_verdict_t v = edge_storm_decide(5, 200, pause);
		CHECK_EQ_INT(v.pause_s, 0);
		CHECK_EQ_INT(v.next_pause_s, expect[i]);
		pause = v.next_pause_s;
	}
	/* A storm after a calm spell starts from the relaxed length. */
	edge_storm_verdict_t v = edge_storm_decide(500, 500, 40);
	CHECK_EQ_INT(v.pause_s, 40);
	CHECK_EQ_INT(v.next_pause_s, 80);
}

static void test_out_of_range_state(void) {
	/* A pause length outside the bounds is clamped before use. */
	CHECK_EQ_INT(edge_storm_decide(101, 101, 0).pause_s, EDGE_STORM_PAUSE_MIN);
	CHECK_EQ_INT(edge_storm_decide(101, 101, -5).pause_s, EDGE_STORM_PAUSE_MIN);
	CHECK_EQ_INT(edge_storm_decide(101, 101, 1 << 30).pause_s, EDGE_STORM_PAUSE_MAX);
	CHECK_EQ_INT(edge_storm_decide(101, 101, 1 << 30).next_pause_s, EDGE_STORM_PAUSE_MAX);
}

int main(void) {
	test_calm();
	test_storm_doubles_to_cap();
	test_calm_relaxes();
	test_out_of_range_state();
	return unit_done();
}
