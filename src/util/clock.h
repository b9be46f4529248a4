/* One monotonic nanosecond clock for every timer, sojourn time and timeout. */
#ifndef FQTINC_CLOCK_H
#define FQTINC_CLOCK_H

#include "util/compat.h"

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_USEC 1000ULL

static inline uint64_t clock_now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The loop's notion of "now", refreshed once per event-loop turn. */
extern uint64_t now_ns;

static inline uint64_t sec_to_ns(uint64_t s) { return s * NSEC_PER_SEC; }

#endif
