/* A tiny unit-test harness: CHECK records a result and keeps going;
 * unit_done() prints "N passed, N failed" and returns the exit code. */
#ifndef FQTINC_UNIT_H
#define FQTINC_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond)                                                            \
	do {                                                                       \
		if(cond) {                                                             \
			unit_passed++;                                                     \
		} else {                                                               \
			unit_failed++;                                                     \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
		}                                                                      \
	} while(0)

#define CHECK_EQ_INT(a, b)                                                     \
	do {                                                                       \
		long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);          \
		if(unit_a_ == unit_b_) {                                               \
			unit_passed++;                                                     \
		} else {                                                               \
			unit_failed++;                                                     \
			fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", __FILE__,  \
			        __LINE__, #a, #b, unit_a_, unit_b_);                       \
		}                                                                      \
	} while(0)

#define CHECK_EQ_STR(a, b)                                                     \
	do {                                                                       \
		const char *unit_a_ = (a), *unit_b_ = (b);                             \
		if(unit_a_ && unit_b_ && !strcmp(unit_a_, unit_b_)) {                  \
			unit_passed++;                                                     \
		} else {                                                               \
			unit_failed++;                                                     \
			fprintf(stderr, "FAIL %s:%d: %s == %s (\"%s\" != \"%s\")\n",         \
			        __FILE__, __LINE__, #a, #b, unit_a_ ? unit_a_ : "(null)",  \
			        unit_b_ ? unit_b_ : "(null)");                             \
		}                                                                      \
	} while(0)

static inline int unit_done(void) {
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
