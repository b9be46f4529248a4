/* Micro-benchmark of the fq_codel core: nanoseconds per enqueue+dequeue
 * pair (slot, hash, enqueue, DRR, CoDel, release) with a few and with many
 * active flows. Not a test: it prints numbers.
 *
 * Build and run: make bench/fq_codel_bench && ./bench/fq_codel_bench [rounds]
 *
 * The drops column is not a fault: with 1000 flows most arrivals start a
 * new flow, which RFC 8290 serves before the old list, so packets of flows
 * left on the old list age past target and their CoDel acts. */
#include "util/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aqm/fq_codel.h"

static uint64_t mono_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Ethernet + IPv4 + UDP, flow i by source port and address. */
static void frame(uint8_t *d, uint32_t i, uint16_t len) {
	memset(d, 0, 64);
	d[12] = 0x08;
	d[14] = 0x45;
	d[14 + 2] = (uint8_t)((len - 14) >> 8);
	d[14 + 3] = (uint8_t)(len - 14);
	d[14 + 8] = 64;
	d[14 + 9] = 17;
	d[14 + 12] = 10;
	d[14 + 14] = (uint8_t)(i >> 8);
	d[14 + 15] = (uint8_t)i;
	d[14 + 16] = 10;
	d[14 + 19] = 1;
	d[34] = (uint8_t)(i >> 8);
	d[35] = (uint8_t)(i + 1024);
	d[36] = 0x13;
	d[37] = 0x89;
}

/* depth packets stay queued across the flows; each round adds one to flow
 * (round % nflows) and takes one out, at a clock that keeps sojourn below
 * target so CoDel's fast path is what is measured. */
static double run(uint32_t nflows, uint32_t depth, uint32_t rounds, uint16_t len, uint64_t *drops,
                  double *sojourn_avg_us) {
	fq_codel_params_t p;
	fq_codel_params_default(&p);
	p.hash_salt = 0x9e3779b97f4a7c15ULL;
	fq_codel_t *q = fq_codel_new(&p);
	static uint8_t tmpl[4096][64];
	uint32_t ntmpl = nflows < 4096 ? nflows : 4096;
	for(uint32_t i = 0; i < ntmpl; i++)
		frame(tmpl[i], i, len);

	uint64_t now = 1000000000ULL;
	for(uint32_t i = 0; i < depth; i++) {
		frame_buf_t *pkt = fq_codel_slot(q);
		memcpy(pkt->data, tmpl[i % ntmpl], 64);
		pkt->len = len;
		pkt->tstamp_ns = now;
		fq_codel_enqueue(q, pkt, now, NULL);
	}

	uint64_t t0 = mono_ns();
	for(uint32_t r = 0; r < rounds; r++) {
		now += 1000; /* 1 us per round of virtual time */
		frame_buf_t *pkt = fq_codel_slot(q);
		memcpy(pkt->data, tmpl[r % ntmpl], 64);
		pkt->len = len;
		pkt->tstamp_ns = now;
		fq_codel_enqueue(q, pkt, now, NULL);
		void *tag;
		pkt = fq_codel_dequeue(q, now, &tag);
		if(pkt)
			fq_codel_release(q, pkt);
	}
	uint64_t t1 = mono_ns();

	fq_codel_stats_t st;
	fq_codel_get_stats(q, &st);
	*drops = st.drop_codel + st.drop_overlimit + st.drop_memory;
	*sojourn_avg_us = (double)st.sojourn_avg_ns / 1000;
	fq_codel_free(q);
	return (double)(t1 - t0) / rounds;
}

int main(int argc, char **argv) {
	uint32_t rounds = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 5000000;
	printf("fq_codel enqueue+dequeue pair, %u rounds, slot size %zu bytes\n", rounds,
	       fq_codel_slot_size());
	printf("%8s %8s %8s %10s %8s %12s\n", "flows", "backlog", "pkt len", "ns/pair", "drops",
	       "avg sojourn");
	const uint32_t flows[] = {4, 1000};
	const uint32_t depths[] = {64, 2000};
	for(size_t f = 0; f < 2; f++) {
		for(size_t d = 0; d < 2; d++) {
			uint64_t drops;
			double soj;
			double ns = run(flows[f], depths[d], rounds, 1514, &drops, &soj);
			printf("%8u %8u %8u %10.1f %8llu %9.0f us\n", flows[f], depths[d], 1514, ns,
			       (unsigned long long)drops, soj);
		}
	}
	return 0;
}
