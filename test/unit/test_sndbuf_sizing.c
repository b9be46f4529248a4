/* Send-buffer sizing from the drain rate: a slow uplink shrinks the buffer to
 * about SNDBUF_DRAIN_NS of transmission, never below two datagrams; a faster
 * one grows it back at once, never above the configured size; changes within
 * a quarter are not applied. */
#include "util/compat.h"

#include "aqm/sndbuf_sizing.h"
#include "unit.h"

int main(void) {
	sndbuf_sizing_t s;
	sndbuf_sizing_init(&s, 24576);
	CHECK_EQ_INT((int)s.current, 24576);
	CHECK_EQ_INT((int)s.max, 24576);

	/* half of 24576 bytes drained in 4.9152 ms: 2.5 MB/s (about 20 Mbit/s of
	 * datagrams, counted as socket memory); 3 ms of that is 7500 bytes */
	uint32_t want = sndbuf_sizing_sample(&s, 4915200);
	CHECK_EQ_INT((int)s.rate, 2500000);
	CHECK_EQ_INT((int)want, 7500);
	sndbuf_sizing_applied(&s, want);

	/* the same rate again: no change */
	CHECK_EQ_INT((int)sndbuf_sizing_sample(&s, 1500000), 7500);
	CHECK_EQ_INT((int)s.rate, 2500000);

	/* a slower sample (1 MB/s) moves the estimate a quarter of the way, and
	 * 6375 bytes is within a quarter of 7500: the size stays */
	CHECK_EQ_INT((int)sndbuf_sizing_sample(&s, 3750000), 7500);
	CHECK_EQ_INT((int)s.rate, 2125000);

	/* staying slow: down to the floor of two datagrams (or within a quarter
	 * above it, where a change is no longer worth a system call), not below */
	for(int i = 0; i < 30; i++) {
		uint64_t elapsed = (uint64_t)(s.current / 2) * 1000; /* 1 MB/s */
		sndbuf_sizing_applied(&s, sndbuf_sizing_sample(&s, elapsed));
	}
	CHECK(s.current >= 2 * SNDBUF_DATAGRAM_COST && s.current <= 2 * SNDBUF_DATAGRAM_COST * 5 / 4);
	CHECK(s.rate < 1100000 && s.rate >= 1000000);

	/* a fast uplink is believed at once, up to the configured size */
	want = sndbuf_sizing_sample(&s, (uint64_t)(s.current / 2) * 10); /* 100 MB/s */
	CHECK_EQ_INT((int)s.rate, 100000000);
	CHECK_EQ_INT((int)want, 24576);
	sndbuf_sizing_applied(&s, want);

	/* GSO messages: about 1 ms of the drain rate, the limit while the rate
	 * is unknown, never above the limit */
	CHECK_EQ_INT((int)sndbuf_sizing_burst_bytes(&s, 65000), 65000); /* 100 MB/s: 100 kB per ms */
	s.rate = 2500000; /* 20 Mbit/s */
	CHECK_EQ_INT((int)sndbuf_sizing_burst_bytes(&s, 65000), 2500);
	s.rate = 125000000; /* 1 Gbit/s */
	CHECK_EQ_INT((int)sndbuf_sizing_burst_bytes(&s, 65000), 65000);
	sndbuf_sizing_init(&s, 100000);
	CHECK_EQ_INT((int)sndbuf_sizing_burst_bytes(&s, 65000), 65000);

	/* a configured size below the floor is raised to it; no elapsed time
	 * is no division by zero */
	sndbuf_sizing_init(&s, 1000);
	CHECK_EQ_INT((int)s.max, 2 * SNDBUF_DATAGRAM_COST);
	CHECK_EQ_INT((int)sndbuf_sizing_sample(&s, 0), 2 * SNDBUF_DATAGRAM_COST);
	return unit_done();
}
