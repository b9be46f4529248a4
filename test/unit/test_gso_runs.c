/* GSO run planning: equal datagrams to one address with one TOS form a run,
 * the last may be shorter, runs stop at 64 segments and the byte limit,
 * a destination's datagrams never change order, other destinations' datagrams
 * in between do not break a run, GSO off keeps the queue order. */
#include "util/compat.h"

#include "io/gso_runs.h"
#include "unit.h"

static gso_datagram_t d[GSO_RUNS_MAX_DATAGRAMS];
static uint16_t order[GSO_RUNS_MAX_DATAGRAMS];
static gso_run_t runs[GSO_RUNS_MAX_DATAGRAMS];

static gso_datagram_t dg(uint32_t dest, uint16_t len, uint8_t tos) {
	return (gso_datagram_t){.dest = dest, .len = len, .tos = tos};
}

static size_t plan(size_t n) {
	return gso_runs_plan(d, n, GSO_RUNS_MAX_SEGMENTS, GSO_RUNS_MAX_BYTES, order, runs);
}

/* Each destination's datagrams appear in increasing index order. */
static bool order_kept(size_t n) {
	for(size_t a = 0; a < n; a++)
		for(size_t b = a + 1; b < n; b++)
			if(d[order[a]].dest == d[order[b]].dest && order[a] > order[b])
				return false;
	return true;
}

/* Every datagram planned exactly once. */
static bool complete(size_t n, size_t nruns) {
	bool seen[GSO_RUNS_MAX_DATAGRAMS] = {false};
	size_t total = 0;
	for(size_t r = 0; r < nruns; r++)
		total += runs[r].count;
	if(total != n)
		return false;
	for(size_t i = 0; i < n; i++) {
		if(order[i] >= n || seen[order[i]])
			return false;
		seen[order[i]] = true;
	}
	return true;
}

int main(void) {
	/* a bulk flow: 10 equal datagrams and a short one, one message */
	for(int i = 0; i < 10; i++)
		d[i] = dg(1, 1451, 0);
	d[10] = dg(1, 300, 0);
	size_t n = plan(11);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_INT(runs[0].count, 11);
	CHECK_EQ_INT(runs[0].segment, 1451);
	CHECK(complete(11, n) && order_kept(11));

	/* a short one in the middle ends the run; a longer one starts a new one */
	d[0] = dg(1, 1000, 0);
	d[1] = dg(1, 1000, 0);
	d[2] = dg(1, 500, 0);
	d[3] = dg(1, 1000, 0);
	d[4] = dg(1, 1200, 0);
	d[5] = dg(1, 1200, 0);
	n = plan(6);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(runs[0].count, 3);
	CHECK_EQ_INT(runs[1].count, 1);
	CHECK_EQ_INT(runs[1].segment, 1000);
	CHECK_EQ_INT(runs[2].count, 2);
	CHECK_EQ_INT(runs[2].segment, 1200);
	CHECK(complete(6, n) && order_kept(6));

	/* another TOS ends the run (one TOS control message per message) */
	d[0] = dg(1, 1000, 0);
	d[1] = dg(1, 1000, 2);
	d[2] = dg(1, 1000, 2);
	n = plan(3);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(runs[0].count, 1);
	CHECK_EQ_INT(runs[1].count, 2);

	/* two destinations interleaved (FQ-CoDel's round robin): one run each,
	 * the first destination's run first */
	for(int i = 0; i < 8; i++)
		d[i] = dg((uint32_t)(i & 1), 1451, 0);
	n = plan(8);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(runs[0].count, 4);
	CHECK_EQ_INT(order[runs[0].first], 0);
	CHECK_EQ_INT(order[runs[1].first], 1);
	CHECK(complete(8, n) && order_kept(8));

	/* a destination's datagram that cannot join is never skipped: A1 B A2(short)
	 * A3 — A1 and A2 go together, A3 after them, B on its own */
	d[0] = dg(7, 1400, 0);
	d[1] = dg(8, 100, 0);
	d[2] = dg(7, 90, 0);
	d[3] = dg(7, 1400, 0);
	n = plan(4);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(runs[0].count, 2);
	CHECK(complete(4, n) && order_kept(4));
	/* ... and with another TOS in between: A1 A2(tos 1) A3 — three messages */
	d[0] = dg(7, 1400, 0);
	d[1] = dg(7, 1400, 1);
	d[2] = dg(7, 1400, 0);
	n = plan(3);
	CHECK_EQ_INT(n, 3);
	CHECK(complete(3, n) && order_kept(3));

	/* at most 64 segments */
	for(int i = 0; i < 100; i++)
		d[i] = dg(1, 100, 0);
	n = plan(100);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(runs[0].count, 64);
	CHECK_EQ_INT(runs[1].count, 36);
	CHECK(complete(100, n) && order_kept(100));

	/* at most GSO_RUNS_MAX_BYTES: 44 datagrams of 1451 bytes are 63844 */
	for(int i = 0; i < 64; i++)
		d[i] = dg(1, 1451, 0);
	n = plan(64);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(runs[0].count, GSO_RUNS_MAX_BYTES / 1451);
	CHECK(complete(64, n));

	/* refused before as part of a message: alone now, and the run does not
	 * continue past it */
	for(int i = 0; i < 5; i++)
		d[i] = dg(1, 1451, 0);
	d[2].alone = true;
	n = plan(5);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(runs[0].count, 2);
	CHECK_EQ_INT(runs[1].count, 1);
	CHECK_EQ_INT(order[runs[1].first], 2);
	CHECK_EQ_INT(runs[2].count, 2);

	/* GSO off: one message per datagram, queue order */
	for(int i = 0; i < 6; i++)
		d[i] = dg((uint32_t)(i % 3), 1451, 0);
	n = gso_runs_plan(d, 6, 1, GSO_RUNS_MAX_BYTES, order, runs);
	CHECK_EQ_INT(n, 6);
	bool identity = true;
	for(int i = 0; i < 6; i++)
		identity = identity && order[i] == i && runs[i].count == 1 && runs[i].first == i;
	CHECK(identity);

	/* pseudo-random batches: always complete, order kept, runs valid */
	uint32_t x = 12345;
	bool ok = true;
	for(int round = 0; round < 2000 && ok; round++) {
		size_t m = 1 + (x >> 7) % 64;
		for(size_t i = 0; i < m; i++) {
			x = x * 1103515245 + 12345;
			d[i] = dg((x >> 8) % 3, (x >> 12) % 4 ? 1451 : (uint16_t)(1 + (x >> 16) % 1451), (uint8_t)((x >> 20) % 5 == 0));
		}
		size_t nr = plan(m);
		ok = complete(m, nr) && order_kept(m);
		for(size_t r = 0; r < nr && ok; r++) {
			size_t bytes = 0;
			for(size_t k = 0; k < runs[r].count; k++) {
				const gso_datagram_t *g = &d[order[runs[r].first + k]];
				const gso_datagram_t *f = &d[order[runs[r].first]];
				bytes += g->len;
				ok = ok && g->dest == f->dest && g->tos == f->tos && g->len <= runs[r].segment &&
				     (k + 1 == runs[r].count || g->len == runs[r].segment);
			}
			ok = ok && runs[r].count <= GSO_RUNS_MAX_SEGMENTS && (runs[r].count == 1 || bytes <= GSO_RUNS_MAX_BYTES);
		}
	}
	CHECK(ok);
	return unit_done();
}
