/* The egress token bucket and its rate parser, with a virtual clock. */
#include "util/compat.h"

#include <stdlib.h>

#include "aqm/shaper.h"
#include "unit.h"

#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL

static void check_rate(const char *text, uint64_t want) {
	uint64_t v = 0;
	const char *err = shaper_parse_rate(text, &v);
	if(err)
		fprintf(stderr, "\"%s\": %s\n", text, err);
	CHECK(err == NULL);
	CHECK_EQ_INT(v, want);
}

static void check_bad(const char *text, const char *fragment) {
	uint64_t v = 12345;
	const char *err = shaper_parse_rate(text, &v);
	CHECK(err != NULL);
	if(err && fragment && !strstr(err, fragment)) {
		fprintf(stderr, "\"%s\": \"%s\" lacks \"%s\"\n", text ? text : "(null)", err, fragment);
		CHECK(false);
	}
	CHECK_EQ_INT(v, 12345); /* untouched on error */
}

static void test_parse(void) {
	check_rate("19M", 19000000);
	check_rate("500k", 500000);
	check_rate("500K", 500000);
	check_rate("1.5G", 1500000000);
	check_rate("100000", 100000);
	check_rate("20Mbit", 20000000);
	check_rate("20 mbit/s", 20000000);
	check_rate("  8M  ", 8000000);
	check_rate("0.5M", 500000);
	check_rate("2.5k", 2500);
	check_rate("1.25T", 1250000000000ULL);
	check_rate("19.999999M", 19999999);
	check_rate("1.000000000001T", 1000000000001ULL);
	check_rate("64kbps", 64000);
	check_rate(".5M", 500000);
	check_rate("10T", 10000000000000ULL);

	check_bad(NULL, "no rate");
	check_bad("", "no rate");
	check_bad("   ", "no rate");
	check_bad("abc", "positive number");
	check_bad("-5M", "positive number");
	check_bad(".", "positive number");
	check_bad("19X", "unknown unit");
	check_bad("1.5.3M", "unknown unit");
	check_bad("19M garbage", "unknown unit");
	check_bad("19MB", "not bytes");
	check_bad("2 bytes", "not bytes");
	check_bad("0", "above zero");
	check_bad("0.0001", "above zero");
	check_bad("11T", "too large");
	check_bad("99999999999999999999999", "too large");
}

static void test_wire_bytes(void) {
	shaper_t s;
	shaper_init(&s, 10000000, 0);
	CHECK_EQ_INT(shaper_wire_bytes(&s, 100), 100);
	shaper_set_overhead(&s, 28, SHAPER_FRAMING_NONE);
	CHECK_EQ_INT(shaper_wire_bytes(&s, 100), 128);
	shaper_set_overhead(&s, 28, SHAPER_FRAMING_ETHERNET);
	CHECK_EQ_INT(shaper_wire_bytes(&s, 100), 166);
	shaper_set_overhead(&s, 28, SHAPER_FRAMING_ATM);
	CHECK_EQ_INT(shaper_wire_bytes(&s, 100), 3 * 53); /* 128 bytes = 3 cells */
	CHECK_EQ_INT(shaper_wire_bytes(&s, 116), 3 * 53); /* 144 = exactly 3 */
	CHECK_EQ_INT(shaper_wire_bytes(&s, 117), 4 * 53);
}

static void test_burst_and_next_time(void) {
	/* 8 Mbit/s = one byte per microsecond; a 10000-byte bucket = 10 ms. */
	shaper_t s;
	shaper_init(&s, 8000000, 10000);
	CHECK_EQ_INT(s.burst_ns, 10 * MS);
	uint64_t t0 = 5 * SEC;
	int sent = 0;
	while(shaper_may_send(&s, t0, 1000) && sent < 100) {
		shaper_account(&s, t0, 1000);
		sent++;
	}
	CHECK_EQ_INT(sent, 10); /* a full bucket goes out at once */
	CHECK_EQ_INT(s.paid_until, t0 + 10 * MS);
	/* Then one packet per 1000 us. */
	CHECK_EQ_INT(shaper_next_time(&s, t0, 1000), t0 + 1 * MS);
	CHECK(!shaper_may_send(&s, t0 + 1 * MS - 1, 1000));
	CHECK(shaper_may_send(&s, t0 + 1 * MS, 1000));
	CHECK_EQ_INT(shaper_next_time(&s, t0, 500), t0 + 500 * US);
	/* Asking with 0 bytes means "is the bucket in credit at all". */
	CHECK_EQ_INT(shaper_next_time(&s, t0, 0), t0);
	/* Idle long enough and the bucket is full again, not fuller. */
	uint64_t t1 = t0 + 1 * SEC;
	sent = 0;
	while(shaper_may_send(&s, t1, 1000) && sent < 100) {
		shaper_account(&s, t1, 1000);
		sent++;
	}
	CHECK_EQ_INT(sent, 10);
	/* A packet larger than the bucket goes only from a full bucket. */
	shaper_t small;
	shaper_init(&small, 8000000, 1000);
	CHECK(shaper_may_send(&small, t0, 1500));
	shaper_account(&small, t0, 1500);
	CHECK_EQ_INT(shaper_next_time(&small, t0, 1500), t0 + 1500 * US);
	/* Unlimited: always. */
	shaper_t off;
	shaper_init(&off, 0, 0);
	for(int i = 0; i < 1000; i++) {
		CHECK(shaper_may_send(&off, t0, 1500));
		shaper_account(&off, t0, 1500);
	}
	CHECK_EQ_INT(shaper_next_time(&off, t0, 1500), t0);
	CHECK_EQ_INT(off.wire_bytes, 1500000);
}

/* A sender that always has data and sends whenever allowed. */
static void saturate(shaper_t *s, uint64_t t0, uint64_t dur, size_t len, bool ask_zero,
                     uint64_t *wire) {
	uint64_t now = t0;
	*wire = 0;
	while(now < t0 + dur) {
		size_t ask = ask_zero ? 0 : len;
		now = shaper_next_time(s, now, ask);
		if(now >= t0 + dur)
			break;
		CHECK(shaper_may_send(s, now, ask));
		shaper_account(s, now, len);
		*wire += shaper_wire_bytes(s, len);
	}
}

static void test_long_run_rate(void) {
	/* 19 Mbit/s, 60 bytes of tunnel overhead per packet, 10 s. What goes
	 * out is the rate times the time plus at most one bucket and one
	 * packet. */
	const uint64_t rate = 19000000, dur = 10 * SEC;
	for(int mode = 0; mode < 2; mode++) {
		shaper_t s;
		shaper_init(&s, rate, 0);
		shaper_set_overhead(&s, 60, SHAPER_FRAMING_NONE);
		uint64_t wire;
		saturate(&s, 1 * SEC, dur, 1400, mode == 1, &wire);
		double expect = (double)rate * 10 / 8;
		fprintf(stderr, "rate (%s): %.6f of configured\n", mode ? "ask 0" : "ask len",
		        (double)wire / expect);
		CHECK((double)wire <= expect + s.burst_bytes + 1460);
		CHECK((double)wire >= expect - 1460);
	}
	/* A rate that does not divide 8e9: the carried remainder keeps the
	 * schedule exact to the nanosecond after a million packets. */
	shaper_t s;
	shaper_init(&s, 7000003, 3000);
	uint64_t now = 1 * SEC;
	for(int i = 0; i < 1000000; i++) {
		now = shaper_next_time(&s, now, 1000);
		shaper_account(&s, now, 1000);
	}
	/* Drained time = total bits / rate; the first bucket-full was free. */
	long double exact = (long double)1000000 * 1000 * 8 * 1e9L / 7000003.0L;
	long double got = (long double)(s.paid_until - 1 * SEC);
	CHECK(got >= exact - 1 && got <= exact + 1);
}

int main(void) {
	test_parse();
	test_wire_bytes();
	test_burst_and_next_time();
	test_long_run_rate();
	return unit_done();
}
