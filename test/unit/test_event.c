/* The event loop: timer order, re-arming, cancelling, fd readiness and
 * deferred work, on the real monotonic clock with millisecond timers. */
#include "util/compat.h"

#include <fcntl.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/event.h"
#include "unit.h"

static int order[8];
static int n_order;
static ev_timer_t t1, t2, t3, t_cancel, t_rearm, t_stop;
static int rearm_count;
static fd_watch_t pipe_io;
static int pipe_fds[2];
static char got_byte;
static int deferred_ran;

static void record(void *data) {
	order[n_order++] = (int)(intptr_t)data;
}

static void rearm(void *data) {
	(void)data;
	if(++rearm_count < 3)
		timer_set(&t_rearm, NSEC_PER_MSEC, rearm, NULL);
}

static void stop(void *data) {
	(void)data;
	event_loop_stop();
}

static void deferred(void *data) {
	(void)data;
	deferred_ran++;
}

static void readable(void *data, uint32_t events) {
	(void)data;
	CHECK(events & EPOLLIN);
	CHECK_EQ_INT(read(pipe_fds[0], &got_byte, 1), 1);
	fd_watch_stop(&pipe_io);
	event_defer(deferred, NULL);
}

int main(void) {
	CHECK(event_init());
	/* armed out of order, must fire in time order */
	timer_set(&t3, 30 * NSEC_PER_MSEC, record, (void *)3);
	timer_set(&t1, 10 * NSEC_PER_MSEC, record, (void *)1);
	timer_set(&t2, 20 * NSEC_PER_MSEC, record, (void *)2);
	timer_set(&t_cancel, 15 * NSEC_PER_MSEC, record, (void *)99);
	CHECK(timer_armed(&t_cancel));
	timer_del(&t_cancel);
	CHECK(!timer_armed(&t_cancel));
	timer_set(&t_rearm, NSEC_PER_MSEC, rearm, NULL);
	timer_set(&t_stop, 60 * NSEC_PER_MSEC, stop, NULL);
	/* timers count from the loop's clock at arming time, not from now */
	uint64_t start = now_ns;

	CHECK_EQ_INT(pipe2(pipe_fds, O_NONBLOCK), 0);
	fd_watch_start(&pipe_io, pipe_fds[0], EPOLLIN, readable, NULL);
	CHECK_EQ_INT(write(pipe_fds[1], "x", 1), 1);

	CHECK(event_loop());
	uint64_t took = clock_now_ns() - start;

	CHECK_EQ_INT(n_order, 3);
	CHECK_EQ_INT(order[0], 1);
	CHECK_EQ_INT(order[1], 2);
	CHECK_EQ_INT(order[2], 3);
	CHECK_EQ_INT(rearm_count, 3);
	CHECK_EQ_INT(got_byte, 'x');
	CHECK_EQ_INT(deferred_ran, 1);
	CHECK(took >= 60 * NSEC_PER_MSEC);
	CHECK(took < 2 * NSEC_PER_SEC);

	/* timer_expire_all makes everything due at once (SIGALRM) */
	n_order = 0;
	timer_set(&t1, 3600 * NSEC_PER_SEC, record, (void *)7);
	timer_set(&t_stop, 3600 * NSEC_PER_SEC, stop, NULL);
	timer_expire_all();
	CHECK(event_loop());
	CHECK_EQ_INT(n_order, 1);
	CHECK_EQ_INT(order[0], 7);
	return unit_done();
}
