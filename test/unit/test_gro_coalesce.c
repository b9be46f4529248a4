/* Joining TCP segments for the device (packet/gro_coalesce): which segments
 * join, and that the joined packet, cut again by the kernel's rules
 * (packet/gso_segment), gives back exactly the segments that went in; and
 * joining several interleaved flows at once (packet/gro_table) without
 * reordering any of them. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/gro_coalesce.h"
#include "packet/gro_table.h"
#include "packet/gso_segment.h"
#include "frames.h"
#include "unit.h"


static void put16(uint8_t *p, unsigned v) {
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, unsigned long v) {
	put16(p, (unsigned)(v >> 16));
	put16(p + 2, (unsigned)v);
}

/* Sets the IPv4 header and TCP checksums of a segment at f (IP at l3). */
static void fix_sums(uint8_t *f, size_t len, size_t l3) {
	uint8_t *ip = f + l3;
	if(ip[0] >> 4 == 4) {
		put16(ip + 10, 0);
		put16(ip + 10, ~ref_sum(ip, 20, 0) & 0xffff);
		uint8_t *tcp = ip + 20;
		size_t l4len = len - l3 - 20;
		put16(tcp + 16, 0);
		put16(tcp + 16, ~ref_sum(tcp, l4len, ref_sum(ip + 12, 8, 6 + l4len)) & 0xffff);
	} else {
		uint8_t *tcp = ip + 40;
		size_t l4len = len - l3 - 40;
		put16(tcp + 16, 0);
		put16(tcp + 16, ~ref_sum(tcp, l4len, ref_sum(ip + 8, 32, 6 + l4len)) & 0xffff);
	}
}

#define SEG_MAX 1600

/* Segment i of a stream: payload bytes at sequence 1000 + off, IPv4 ID 7 + i. */
static size_t make_seg(uint8_t *f, size_t l3, bool v6, unsigned i, size_t off, size_t payload, uint8_t flags) {
	memset(f, 0, SEG_MAX);
	if(l3) {
		memcpy(f, (uint8_t[]){2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}, 12);
		put16(f + 12, v6 ? 0x86dd : 0x0800);
	}
	uint8_t *ip = f + l3, *tcp;
	size_t len;
	if(v6) {
		ip[0] = 0x60;
		ip[1] = 0x20; /* traffic class 0x02: ECT(0) */
		put16(ip + 4, (unsigned)(32 + payload));
		ip[6] = 6;
		ip[7] = 63;
		ip[8] = 0xfd; ip[23] = 1;
		ip[24] = 0xfd; ip[39] = 2;
		tcp = ip + 40;
		len = l3 + 40 + 32 + payload;
	} else {
		ip[0] = 0x45;
		ip[1] = 0x02;
		put16(ip + 2, (unsigned)(20 + 32 + payload));
		put16(ip + 4, 7 + i);
		ip[6] = 0x40;
		ip[8] = 63;
		ip[9] = 6;
		memcpy(ip + 12, (uint8_t[]){10, 0, 0, 2, 10, 0, 0, 1}, 8);
		tcp = ip + 20;
		len = l3 + 20 + 32 + payload;
	}
	put16(tcp, 5201);
	put16(tcp + 2, 40000);
	put32(tcp + 4, 1000 + off);
	put32(tcp + 8, 555);
	tcp[12] = 8 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 1000);
	tcp[20] = 1; tcp[21] = 1; tcp[22] = 8; tcp[23] = 10; tcp[27] = 42; /* timestamps */
	for(size_t k = 0; k < payload; k++)
		tcp[32 + k] = (uint8_t)((off + k) * 31 + 5);
	fix_sums(f, len, l3);
	return len;
}

static gro_batch_t batch;

/* n segments of mss (the last of last bytes) join into one packet that cut
 * again gives back the same bytes. */
static void roundtrip(size_t l3, bool v6, unsigned n, size_t mss, size_t last, uint8_t last_flags) {
	static uint8_t segs[GRO_MAX_SEGMENTS][SEG_MAX];
	size_t lens[GRO_MAX_SEGMENTS];
	gro_reset(&batch);
	for(unsigned i = 0; i < n; i++) {
		size_t pl = i + 1 < n ? mss : last;
		lens[i] = make_seg(segs[i], l3, v6, i, (size_t)i * mss, pl, i + 1 < n ? 0x10 : last_flags);
		CHECK(gro_offer(&batch, segs[i], lens[i], l3));
	}
	CHECK_EQ_INT(batch.count, n);
	vnet_hdr_t h;
	size_t len = gro_finish(&batch, &h);
	CHECK_EQ_INT(h.gso_type, n > 1 ? (v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4) : VNET_GSO_NONE);
	if(n > 1) {
		CHECK_EQ_INT(h.flags, VNET_F_NEEDS_CSUM);
		CHECK_EQ_INT(h.gso_size, mss);
		CHECK_EQ_INT(h.csum_start, l3 + (v6 ? 40 : 20));
		CHECK_EQ_INT(h.csum_offset, 16);
	}
	gso_cursor_t c;
	CHECK_EQ_INT(gso_begin(&c, &h, batch.buf, len, l3, SEG_MAX), GSO_OK);
	uint8_t out[SEG_MAX];
	for(unsigned i = 0; i < n; i++) {
		size_t got = gso_next(&c, out);
		CHECK_EQ_INT(got, lens[i]);
		CHECK(!memcmp(out, segs[i], lens[i]));
	}
	CHECK_EQ_INT(gso_next(&c, out), 0);
	gro_reset(&batch);
}

static void test_roundtrips(void) {
	roundtrip(0, false, 3, 1400, 1400, 0x10);
	roundtrip(0, false, 5, 1448, 100, 0x18); /* PSH on the short last one */
	roundtrip(0, true, 4, 1388, 1388, 0x18);
	roundtrip(14, false, 3, 1400, 7, 0x10); /* tap: behind an Ethernet header */
	roundtrip(14, true, 2, 1000, 1000, 0x10);
	roundtrip(0, false, 1, 1400, 1400, 0x10); /* alone: written as it came */
	roundtrip(0, false, 40, 1448, 1448, 0x10); /* 40 x 1448 + headers < 64 KiB */
}

/* Offers a then b; returns whether b joined. */
static bool joins(uint8_t *a, size_t alen, uint8_t *b, size_t blen) {
	gro_reset(&batch);
	CHECK(gro_offer(&batch, a, alen, 0));
	bool r = gro_offer(&batch, b, blen, 0);
	gro_reset(&batch);
	return r;
}

static void test_refusals(void) {
	static uint8_t a[SEG_MAX], b[SEG_MAX];
	size_t alen = make_seg(a, 0, false, 0, 0, 1000, 0x10), blen;

	blen = make_seg(b, 0, false, 1, 1000, 1000, 0x10);
	CHECK(joins(a, alen, b, blen)); /* the base case joins */

	b[1] = 0x03; fix_sums(b, blen, 0); /* CE: different ECN bits */
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, false, 1, 1000, 1000, 0x10);
	b[8] = 62; fix_sums(b, blen, 0); /* TTL */
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, false, 1, 1001, 1000, 0x10); /* a gap in sequence */
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, false, 2, 1000, 1000, 0x10); /* IPv4 ID jumps */
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, false, 1, 1000, 1001, 0x10); /* larger than the first */
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, false, 1, 1000, 1000, 0x11); /* FIN */
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, false, 1, 1000, 1000, 0x90); /* CWR */
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, false, 1, 1000, 1000, 0x10);
	b[29] ^= 1; /* ack differs (checksum fixed) */
	fix_sums(b, blen, 0);
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, false, 1, 1000, 1000, 0x10);
	b[52 - 1] ^= 1; /* a timestamp differs */
	fix_sums(b, blen, 0);
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, false, 1, 1000, 1000, 0x10);
	b[100] ^= 0x40; /* payload corrupted: checksum no longer matches */
	CHECK(!joins(a, alen, b, blen));
	blen = make_seg(b, 0, true, 1, 1000, 1000, 0x10); /* other family */
	CHECK(!joins(a, alen, b, blen));

	/* After a short segment or PSH nothing more joins. */
	uint8_t c[SEG_MAX];
	size_t clen;
	gro_reset(&batch);
	alen = make_seg(a, 0, false, 0, 0, 1000, 0x10);
	blen = make_seg(b, 0, false, 1, 1000, 500, 0x10);
	clen = make_seg(c, 0, false, 2, 1500, 500, 0x10);
	CHECK(gro_offer(&batch, a, alen, 0));
	CHECK(gro_offer(&batch, b, blen, 0));
	CHECK(!gro_offer(&batch, c, clen, 0));
	gro_reset(&batch);
	blen = make_seg(b, 0, false, 1, 1000, 1000, 0x18);
	clen = make_seg(c, 0, false, 2, 2000, 1000, 0x10);
	CHECK(gro_offer(&batch, a, alen, 0));
	CHECK(gro_offer(&batch, b, blen, 0));
	CHECK(!gro_offer(&batch, c, clen, 0));
	gro_reset(&batch);

	/* Not TCP data at all: refused even by an empty batch. */
	alen = make_seg(a, 0, false, 0, 0, 0, 0x10); /* pure ACK */
	CHECK(!gro_offer(&batch, a, alen, 0));
	alen = make_seg(a, 0, false, 0, 0, 100, 0x02); /* SYN */
	CHECK(!gro_offer(&batch, a, alen, 0));
	alen = make_seg(a, 0, false, 0, 0, 100, 0x10);
	a[9] = 17; /* UDP */
	CHECK(!gro_offer(&batch, a, alen, 0));
	CHECK(!gro_offer(&batch, a, 10, 0));
	CHECK(!gro_offer(&batch, a, 0, 0));
	alen = make_seg(a, 0, false, 0, 0, 100, 0x10);
	CHECK(!gro_offer(&batch, a, alen - 1, 0)); /* IP length disagrees */
	CHECK_EQ_INT(batch.len, 0);
}

/* The joined packet never outgrows IPv4's length field. */
static void test_size_limit(void) {
	static uint8_t f[SEG_MAX];
	gro_reset(&batch);
	unsigned joined = 0;
	for(unsigned i = 0; i < 60; i++) {
		size_t len = make_seg(f, 0, false, i, (size_t)i * 1448, 1448, 0x10);
		if(!gro_offer(&batch, f, len, 0))
			break;
		joined++;
	}
	CHECK_EQ_INT(joined, (65535 - 52) / 1448);
	CHECK(batch.len <= 65535);
	gro_reset(&batch);
}

/* ---- packet/gro_table ---- */

/* Segment make_seg(i, off) of flow 'flow' (its own client port). */
static size_t flow_seg(uint8_t *f, unsigned flow, unsigned i, size_t payload, uint8_t flags) {
	size_t len = make_seg(f, 0, false, i, (size_t)i * 1000, payload, flags);
	put16(f + 22, 40000 + flow);
	fix_sums(f, len, 0);
	return len;
}

/* What the table emitted, in order: per packet the flow (client port), the
 * first sequence number and the number of segments. */
typedef struct emitted {
	unsigned n;
	unsigned flow[64], seq[64], count[64];
} emitted_t;

static void record(gro_batch_t *b, void *ctx) {
	emitted_t *e = ctx;
	if(e->n >= 64)
		return;
	e->flow[e->n] = (unsigned)(b->buf[22] << 8 | b->buf[23]) - 40000;
	e->seq[e->n] = (unsigned)((unsigned long)b->buf[24] << 24 | b->buf[25] << 16 | b->buf[26] << 8 | b->buf[27]) - 1000;
	e->count[e->n] = b->count;
	e->n++;
}

static gro_table_t table;

/* Four flows interleaved one segment at a time: one packet per flow. */
static void test_table_interleaved(void) {
	emitted_t e = {0};
	uint8_t f[SEG_MAX];
	gro_table_init(&table, record, &e);
	for(unsigned i = 0; i < 10; i++)
		for(unsigned flow = 0; flow < 4; flow++)
			CHECK(gro_table_offer(&table, f, flow_seg(f, flow, i, 1000, 0x10), 0));
	CHECK_EQ_INT(gro_table_held(&table), 4);
	CHECK_EQ_INT(e.n, 0);
	gro_table_flush(&table);
	CHECK_EQ_INT(gro_table_held(&table), 0);
	CHECK_EQ_INT(e.n, 4);
	for(unsigned k = 0; k < e.n; k++) {
		CHECK_EQ_INT(e.count[k], 10);
		CHECK_EQ_INT(e.seq[k], 0);
	}
}

/* A segment of a held flow that cannot join (FIN) makes the flow's batch go
 * out first and is left to the caller; other flows stay held. A gap in one
 * flow starts a new batch for it after the old one went out. */
static void test_table_order(void) {
	emitted_t e = {0};
	uint8_t f[SEG_MAX];
	gro_table_init(&table, record, &e);
	CHECK(gro_table_offer(&table, f, flow_seg(f, 1, 0, 1000, 0x10), 0));
	CHECK(gro_table_offer(&table, f, flow_seg(f, 2, 0, 1000, 0x10), 0));
	CHECK(gro_table_offer(&table, f, flow_seg(f, 1, 1, 1000, 0x10), 0));
	CHECK(!gro_table_offer(&table, f, flow_seg(f, 1, 2, 1000, 0x11), 0)); /* FIN */
	CHECK_EQ_INT(e.n, 1);
	CHECK_EQ_INT(e.flow[0], 1);
	CHECK_EQ_INT(e.count[0], 2);
	CHECK_EQ_INT(gro_table_held(&table), 1);
	/* a pure ACK of flow 2: flow 2's data goes out before it */
	CHECK(!gro_table_offer(&table, f, flow_seg(f, 2, 1, 0, 0x10), 0));
	CHECK_EQ_INT(e.n, 2);
	CHECK_EQ_INT(e.flow[1], 2);
	/* a gap: the old batch out, a new one begun */
	CHECK(gro_table_offer(&table, f, flow_seg(f, 3, 0, 1000, 0x10), 0));
	CHECK(gro_table_offer(&table, f, flow_seg(f, 3, 2, 1000, 0x10), 0));
	CHECK_EQ_INT(e.n, 3);
	CHECK_EQ_INT(e.flow[2], 3);
	CHECK_EQ_INT(e.seq[2], 0);
	CHECK_EQ_INT(gro_table_held(&table), 1);
	/* UDP: not TCP, passes without touching what is held */
	size_t len = flow_seg(f, 3, 3, 100, 0x10);
	f[9] = 17;
	CHECK(!gro_table_offer(&table, f, len, 0));
	CHECK_EQ_INT(gro_table_held(&table), 1);
	/* a later IPv4 fragment of TCP: could be any held flow, all go out */
	CHECK(gro_table_offer(&table, f, flow_seg(f, 4, 0, 1000, 0x10), 0));
	len = flow_seg(f, 3, 3, 100, 0x10);
	f[6] = 0x00;
	f[7] = 0x10;
	CHECK(!gro_table_offer(&table, f, len, 0));
	CHECK_EQ_INT(gro_table_held(&table), 0);
	CHECK_EQ_INT(e.n, 5);
	gro_table_flush(&table);
	CHECK_EQ_INT(e.n, 5);
}

/* More flows than slots: the batch begun longest ago goes out. */
static void test_table_full(void) {
	emitted_t e = {0};
	uint8_t f[SEG_MAX];
	gro_table_init(&table, record, &e);
	for(unsigned flow = 0; flow < GRO_TABLE_SLOTS; flow++)
		CHECK(gro_table_offer(&table, f, flow_seg(f, flow, 0, 1000, 0x10), 0));
	CHECK(gro_table_offer(&table, f, flow_seg(f, 0, 1, 1000, 0x10), 0)); /* joins flow 0 */
	CHECK_EQ_INT(e.n, 0);
	/* not joinable: nothing evicted for it */
	CHECK(!gro_table_offer(&table, f, flow_seg(f, 99, 0, 0, 0x10), 0));
	CHECK_EQ_INT(e.n, 0);
	CHECK(gro_table_offer(&table, f, flow_seg(f, 50, 0, 1000, 0x10), 0));
	CHECK_EQ_INT(e.n, 1);
	CHECK_EQ_INT(e.flow[0], 0);
	CHECK_EQ_INT(e.count[0], 2);
	CHECK(gro_table_offer(&table, f, flow_seg(f, 51, 0, 1000, 0x10), 0));
	CHECK_EQ_INT(e.n, 2);
	CHECK_EQ_INT(e.flow[1], 1);
	gro_table_flush(&table);
	CHECK_EQ_INT(e.n, 2 + GRO_TABLE_SLOTS);
}

/* The connection test on its own: IPv6 and extension headers. */
static void test_connection_of(void) {
	uint8_t a[SEG_MAX], b[SEG_MAX];
	size_t alen = make_seg(a, 0, true, 0, 0, 1000, 0x10), blen;
	gro_reset(&batch);
	CHECK(gro_offer(&batch, a, alen, 0));
	blen = make_seg(b, 0, true, 1, 1000, 0, 0x10);
	CHECK_EQ_INT(gro_connection_of(&batch, b, blen, 0), GRO_CONN_SAME);
	b[39] = 3; /* another destination */
	CHECK_EQ_INT(gro_connection_of(&batch, b, blen, 0), GRO_CONN_OTHER);
	blen = make_seg(b, 0, true, 1, 1000, 0, 0x10);
	b[6] = 44; /* fragment header */
	CHECK_EQ_INT(gro_connection_of(&batch, b, blen, 0), GRO_CONN_UNKNOWN);
	b[6] = 58; /* ICMPv6 */
	CHECK_EQ_INT(gro_connection_of(&batch, b, blen, 0), GRO_CONN_OTHER);
	blen = make_seg(b, 0, false, 1, 1000, 0, 0x10); /* IPv4 */
	CHECK_EQ_INT(gro_connection_of(&batch, b, blen, 0), GRO_CONN_OTHER);
	CHECK_EQ_INT(gro_connection_of(&batch, b, 10, 0), GRO_CONN_OTHER);
	gro_reset(&batch);
	CHECK_EQ_INT(gro_connection_of(&batch, a, alen, 0), GRO_CONN_OTHER);
	CHECK(gro_joinable(a, alen, 0));
	CHECK(!gro_joinable(a, alen - 1, 0));
}

int main(void) {
	test_roundtrips();
	test_refusals();
	test_size_limit();
	test_table_interleaved();
	test_table_order();
	test_table_full();
	test_connection_of();
	return unit_done();
}
