/* FQ-CoDel (RFC 8290) with a virtual clock and real Ethernet/IPv4/IPv6
 * frames, so flow hashing is exercised the way the daemon will use it.
 *
 * Several tests run a small link simulation: a link of a given rate takes
 * one packet at a time from the queue and is busy for its serialisation
 * time; sources add packets at fixed rates. Sojourn times come out of the
 * queue's own timestamps. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/ecn.h"
#include "aqm/fq_codel.h"
#include "packet/flow_key.h"
#include "frames.h"
#include "unit.h"

#define MS 1000000ULL
#define US 1000ULL
#define SEC 1000000000ULL
#define I_NS_FOR_TEST (100 * MS)

typedef struct flow {
	int v;          /* 4 or 6 */
	uint8_t proto;  /* 6 TCP, 17 UDP, 1/58 ICMP */
	uint16_t sport, dport;
	uint8_t host;   /* last byte of the source address */
	uint8_t ecn;
} flow_t;

/* Ethernet + IPv4 or IPv6 + TCP/UDP ports; the sequence number goes in the
 * last four bytes so the test can follow individual packets. */
static void build(frame_buf_t *p, const flow_t *f, uint32_t len, uint32_t seq) {
	uint8_t *d = p->data;
	memset(d, 0, len);
	memcpy(d, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
	size_t l4;
	if(f->v == 4) {
		put_ipv4_header(d, len, f->ecn, f->proto, f->host, 200);
		l4 = 34;
	} else {
		d[12] = 0x86;
		d[13] = 0xdd;
		uint8_t *ip = d + 14;
		ip[0] = (uint8_t)(0x60 | f->ecn >> 4);
		ip[1] = (uint8_t)(f->ecn << 4);
		ip[4] = (uint8_t)((len - 54) >> 8);
		ip[5] = (uint8_t)(len - 54);
		ip[6] = f->proto;
		ip[7] = 64;
		ip[8] = 0xfd;
		ip[23] = f->host;
		ip[24] = 0xfd;
		ip[39] = 200;
		l4 = 54;
	}
	d[l4] = (uint8_t)(f->sport >> 8);
	d[l4 + 1] = (uint8_t)f->sport;
	d[l4 + 2] = (uint8_t)(f->dport >> 8);
	d[l4 + 3] = (uint8_t)f->dport;
	memcpy(d + len - 4, &seq, 4);
	p->len = (uint16_t)len;
}

static uint32_t seq_of(const frame_buf_t *p) {
	uint32_t s;
	memcpy(&s, p->data + p->len - 4, 4);
	return s;
}

static uint32_t index_of(const fq_codel_t *q, const flow_t *f) {
	frame_buf_t *p = malloc(sizeof(*p));
	build(p, f, 100, 0);
	uint32_t i = fq_codel_flow_index(q, p->data, p->len);
	free(p);
	return i;
}

static unsigned push(fq_codel_t *q, const flow_t *f, uint32_t len, uint32_t seq, uint64_t now,
                     void *tag) {
	frame_buf_t *p = fq_codel_slot(q);
	if(!p)
		return ~0u;
	build(p, f, len, seq);
	p->tstamp_ns = now;
	return fq_codel_enqueue(q, p, now, tag);
}

static fq_codel_t *make(uint32_t limit, uint64_t memory_limit, uint32_t spare) {
	fq_codel_params_t p;
	fq_codel_params_default(&p);
	p.hash_salt = 0x1234567890abcdefULL;
	if(limit)
		p.limit = limit;
	if(memory_limit)
		p.memory_limit = memory_limit;
	if(spare)
		p.spare_slots = spare;
	return fq_codel_new(&p);
}

/* Distinct flows that land in distinct queues (the hash is salted, so the
 * test picks ports until the indices differ). */
static void distinct(const fq_codel_t *q, flow_t *fl, int n) {
	for(int i = 0; i < n; i++) {
		for(;;) {
			bool clash = false;
			for(int j = 0; j < i; j++)
				clash |= index_of(q, &fl[i]) == index_of(q, &fl[j]);
			if(!clash)
				break;
			fl[i].sport++;
		}
	}
}

static void test_hashing(void) {
	fq_codel_t *q = make(0, 0, 0);
	flow_t a = {4, 17, 40000, 1, 1, ECN_NOT_ECT};
	uint32_t ia = index_of(q, &a);

	/* Same 5-tuple: same queue whatever the ECN bits, length or payload. */
	flow_t a2 = a;
	a2.ecn = ECN_ECT0;
	CHECK_EQ_INT(index_of(q, &a2), ia);
	frame_buf_t *p = malloc(sizeof(*p));
	build(p, &a, 1400, 77);
	CHECK_EQ_INT(fq_codel_flow_index(q, p->data, p->len), ia);
	p->data[14 + 8] = 3; /* TTL */
	CHECK_EQ_INT(fq_codel_flow_index(q, p->data, p->len), ia);
	/* Marking a packet CE must not move it to another queue. */
	a2.ecn = ECN_CE;
	CHECK_EQ_INT(index_of(q, &a2), ia);

	/* Ports, addresses, protocol and family all separate flows: 300
	 * source ports spread over at least 250 of 1024 queues (a uniform
	 * hash gives ~262 on average). */
	static bool seen[FQ_CODEL_FLOWS];
	int distinct_queues = 0;
	for(int i = 0; i < 300; i++) {
		flow_t f = a;
		f.sport = (uint16_t)(20000 + i);
		uint32_t idx = index_of(q, &f);
		CHECK(idx < FQ_CODEL_FLOWS);
		if(!seen[idx]) {
			seen[idx] = true;
			distinct_queues++;
		}
	}
	CHECK(distinct_queues >= 250);
	memset(seen, 0, sizeof(seen));
	distinct_queues = 0;
	for(int i = 0; i < 300; i++) {
		flow_t f = {6, 6, 443, (uint16_t)(30000 + i), 9, 0};
		uint32_t idx = index_of(q, &f);
		if(!seen[idx]) {
			seen[idx] = true;
			distinct_queues++;
		}
	}
	CHECK(distinct_queues >= 250);

	/* The flow key (packet/flow_key) itself differs for each field change. */
	build(p, &a, 100, 0);
	uint32_t h = flow_key(p->data, p->len, 1);
	flow_t b = a;
	b.dport++;
	build(p, &b, 100, 0);
	CHECK(flow_key(p->data, p->len, 1) != h);
	b = a;
	b.host++;
	build(p, &b, 100, 0);
	CHECK(flow_key(p->data, p->len, 1) != h);
	b = a;
	b.proto = 6;
	build(p, &b, 100, 0);
	CHECK(flow_key(p->data, p->len, 1) != h);
	build(p, &a, 100, 0);
	CHECK(flow_key(p->data, p->len, 2) != h); /* the salt */

	/* ICMP: no ports, so bytes where ports would be do not matter. */
	flow_t icmp = {4, 1, 0x0800, 1, 1, 0};
	build(p, &icmp, 100, 0);
	h = flow_key(p->data, p->len, 1);
	icmp.sport = 0x0000;
	icmp.dport = 0x1234;
	build(p, &icmp, 100, 0);
	CHECK(flow_key(p->data, p->len, 1) == h);

	/* IPv4 fragments: all fragments of a datagram hash alike, ports or
	 * not; a non-fragment of the same addresses uses its ports. */
	build(p, &a, 100, 0);
	p->data[14 + 6] = 0x20; /* MF, offset 0: the first fragment carries the ports */
	uint32_t first = flow_key(p->data, p->len, 1);
	p->data[14 + 6] = 0x00;
	p->data[14 + 7] = 0xb9; /* offset 185*8: a later fragment, bytes there are payload */
	p->data[34] = 0xde;
	p->data[35] = 0xad;
	CHECK(flow_key(p->data, p->len, 1) == first);
	build(p, &a, 100, 0);
	CHECK(flow_key(p->data, p->len, 1) != first);

	/* IPv6 with a hop-by-hop header before UDP: ports still found. */
	flow_t v6 = {6, 17, 5000, 5353, 4, 0};
	build(p, &v6, 200, 0);
	uint32_t plain = flow_key(p->data, p->len, 1);
	memmove(p->data + 62, p->data + 54, 100);
	memset(p->data + 54, 0, 8);
	p->data[54] = 17; /* next header: UDP; length 0 => 8 bytes */
	p->data[14 + 6] = 0;
	CHECK(flow_key(p->data, p->len, 1) == plain);
	p->data[62] ^= 1; /* another source port */
	CHECK(flow_key(p->data, p->len, 1) != plain);

	/* 802.1Q: the same inner flow on another VLAN is another flow, and
	 * the ports behind the tag are used. */
	build(p, &a, 100, 0);
	uint64_t untagged = flow_key(p->data, p->len, 1);
	memmove(p->data + 16, p->data + 12, 90);
	p->data[12] = 0x81;
	p->data[13] = 0x00;
	p->data[14] = 0x00;
	p->data[15] = 0x07;
	uint64_t vlan7 = flow_key(p->data, p->len, 1);
	CHECK(vlan7 != untagged);
	p->data[15] = 0x08;
	CHECK(flow_key(p->data, p->len, 1) != vlan7);
	p->data[15] = 0x07;
	p->data[38 + 1] ^= 1; /* source port behind the tag */
	CHECK(flow_key(p->data, p->len, 1) != vlan7);

	/* Non-IP (ARP): by Ethernet addresses. */
	memset(p->data, 0, 100);
	memcpy(p->data, "\xff\xff\xff\xff\xff\xff\x02\x00\x00\x00\x00\x01\x08\x06", 14);
	h = flow_key(p->data, 60, 1);
	p->data[30] = 0x55; /* payload does not matter */
	CHECK(flow_key(p->data, 60, 1) == h);
	p->data[11] = 0x02; /* another sender does */
	CHECK(flow_key(p->data, 60, 1) != h);

	/* Truncated frames hash without reading past the end. */
	build(p, &a, 100, 0);
	for(size_t len = 0; len <= 40; len++)
		(void)flow_key(p->data, len, 1);
	CHECK(true);

	free(p);
	fq_codel_free(q);
}

static void test_fifo_tags_and_stats(void) {
	fq_codel_t *q = make(0, 0, 0);
	flow_t f = {4, 17, 1000, 2000, 1, 0};
	int tag_a, tag_b;
	uint64_t now = 1 * SEC;
	for(uint32_t i = 0; i < 3; i++)
		push(q, &f, 500, i, now, i == 1 ? &tag_b : &tag_a);
	fq_codel_stats_t st;
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.enqueued_packets, 3);
	CHECK_EQ_INT(st.enqueued_bytes, 1500);
	CHECK_EQ_INT(st.backlog_packets, 3);
	CHECK_EQ_INT(st.backlog_bytes, 1500);
	CHECK_EQ_INT(st.new_flows_len, 1);
	CHECK_EQ_INT(st.slots_held, 0);

	for(uint32_t i = 0; i < 3; i++) {
		void *tag = NULL;
		frame_buf_t *p = fq_codel_dequeue(q, now + (i + 1) * MS, &tag);
		CHECK(p != NULL);
		if(!p)
			break;
		CHECK_EQ_INT(seq_of(p), i);
		CHECK(tag == (i == 1 ? (void *)&tag_b : (void *)&tag_a));
		fq_codel_release(q, p);
	}
	CHECK(fq_codel_dequeue(q, now + 10 * MS, NULL) == NULL);
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.dequeued_packets, 3);
	CHECK_EQ_INT(st.dequeued_bytes, 1500);
	CHECK_EQ_INT(st.backlog_packets, 0);
	CHECK_EQ_INT(st.backlog_bytes, 0);
	CHECK_EQ_INT(st.sojourn_max_ns, 3 * MS);
	CHECK_EQ_INT(st.sojourn_avg_ns, 2 * MS);
	CHECK_EQ_INT(st.new_flow_count, 1);
	CHECK_EQ_INT(st.new_flows_len + st.old_flows_len, 0);
	CHECK_EQ_INT(st.drop_codel + st.drop_overlimit + st.drop_memory, 0);
	/* One chunk of buffers, not the whole limit. */
	CHECK(st.slots_allocated > 0 && st.slots_allocated <= 64);
	CHECK_EQ_INT(st.memory_bytes, st.slots_allocated * fq_codel_slot_size());

	/* A zero timestamp is taken as the enqueue time. */
	frame_buf_t *p = fq_codel_slot(q);
	build(p, &f, 200, 9);
	fq_codel_enqueue(q, p, 5 * SEC, NULL);
	p = fq_codel_dequeue(q, 5 * SEC + 7 * MS, NULL);
	CHECK(p && p->tstamp_ns == 5 * SEC);
	if(p)
		fq_codel_release(q, p);
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.sojourn_max_ns, 7 * MS);
	fq_codel_free(q);
}

/* ---- link simulation ---- */

typedef struct source {
	flow_t f;
	uint32_t len;
	uint64_t period;  /* ns between packets */
	uint64_t next;
	uint32_t seq;
	uint32_t idx;     /* its flow queue */
	/* results */
	uint64_t sent, delivered, delivered_bytes, ce, bad_csum;
	uint64_t sojourn_max, sojourn_sum;
} source_t;

static void simulate(fq_codel_t *q, source_t *src, int n, uint64_t rate_bps, uint64_t start,
                     uint64_t duration, uint64_t tick) {
	uint64_t busy_until = start;
	for(int i = 0; i < n; i++) {
		src[i].next = start;
		src[i].idx = index_of(q, &src[i].f);
	}
	for(uint64_t now = start; now < start + duration; now += tick) {
		for(int i = 0; i < n; i++) {
			while(src[i].next <= now) {
				push(q, &src[i].f, src[i].len, src[i].seq++, src[i].next, &src[i]);
				src[i].sent++;
				src[i].next += src[i].period;
			}
		}
		if(now < busy_until)
			continue;
		void *tag;
		frame_buf_t *p = fq_codel_dequeue(q, now, &tag);
		if(!p)
			continue;
		source_t *s = tag;
		uint64_t soj = now - p->tstamp_ns;
		s->delivered++;
		s->delivered_bytes += p->len;
		s->sojourn_sum += soj;
		if(soj > s->sojourn_max)
			s->sojourn_max = soj;
		uint8_t dscp, ecn;
		if(ecn_frame_read(p->data, p->len, &dscp, &ecn) && ecn == ECN_CE) {
			s->ce++;
			if(s->f.v == 4 && csum_fold(p->data + 14, 20) != 0xffff)
				s->bad_csum++;
		}
		busy_until = now + (uint64_t)p->len * 8 * SEC / rate_bps;
		fq_codel_release(q, p);
	}
}

static void test_flow_isolation(void) {
	fq_codel_t *q = make(2000, 0, 0);
	/* 10 Mbit/s link: a 1514-byte packet takes 1.21 ms. The bulk flow
	 * offers twice that; the sparse one a 100-byte packet every 10 ms. */
	source_t src[2] = {
		{.f = {4, 17, 5001, 5001, 1, 0}, .len = 1514, .period = 605 * US},
		{.f = {6, 17, 7001, 7001, 2, 0}, .len = 100, .period = 10 * MS},
	};
	distinct(q, (flow_t[]){src[0].f, src[1].f}, 2);
	simulate(q, src, 2, 10000000, 1 * SEC, 5 * SEC, 10 * US);
	source_t *bulk = &src[0], *sparse = &src[1];
	fprintf(stderr, "isolation: sparse max %.2f ms avg %.3f ms; bulk max %.1f ms avg %.1f ms\n",
	        sparse->sojourn_max / 1e6, sparse->sojourn_sum / 1e6 / (double)sparse->delivered,
	        bulk->sojourn_max / 1e6, bulk->sojourn_sum / 1e6 / (double)bulk->delivered);
	/* Every sparse packet got through, waiting at most for the packet on
	 * the wire when it arrived (1.21 ms) plus the tick. */
	CHECK(sparse->delivered >= sparse->sent - 1);
	CHECK(sparse->sojourn_max <= 1300 * US);
	/* ...while the bulk flow really did build a queue. */
	CHECK(bulk->sojourn_max >= 50 * MS);
	/* The link stayed busy with the bulk flow: >= 95 % of 10 Mbit/s. */
	double goodput = (double)(bulk->delivered_bytes + sparse->delivered_bytes) * 8 / 5.0;
	CHECK(goodput >= 9.5e6);
	fq_codel_free(q);
}

static void test_drr_fairness(void) {
	fq_codel_t *q = make(0, 0, 0);
	flow_t fl[2] = {{4, 6, 80, 33000, 1, 0}, {6, 6, 443, 34000, 2, 0}};
	distinct(q, fl, 2);
	uint64_t now = 1 * SEC;
	for(uint32_t i = 0; i < 400; i++)
		push(q, &fl[0], 1500, i, now, &fl[0]);
	for(uint32_t i = 0; i < 2000; i++)
		push(q, &fl[1], 300, i, now, &fl[1]);
	uint64_t bytes[2] = {0, 0};
	uint64_t worst = 0;
	bool order_ok = true;
	uint32_t next_seq[2] = {0, 0};
	/* Dequeue 300 KB at an unchanged clock: no sojourn, so no CoDel. */
	while(bytes[0] + bytes[1] < 300000) {
		void *tag;
		frame_buf_t *p = fq_codel_dequeue(q, now, &tag);
		if(!p)
			break;
		int w = tag == &fl[0] ? 0 : 1;
		order_ok &= seq_of(p) == next_seq[w]++;
		bytes[w] += p->len;
		uint64_t diff = bytes[0] > bytes[1] ? bytes[0] - bytes[1] : bytes[1] - bytes[0];
		if(diff > worst)
			worst = diff;
		fq_codel_release(q, p);
	}
	fprintf(stderr, "fairness: %llu vs %llu bytes, worst gap %llu\n", (unsigned long long)bytes[0],
	        (unsigned long long)bytes[1], (unsigned long long)worst);
	CHECK(order_ok);
	/* Equal shares at every point within one quantum plus one packet. */
	CHECK(worst <= 1514 + 1500);
	CHECK(bytes[0] >= 148000 && bytes[1] >= 148000);
	fq_codel_free(q);
}

static void test_new_flow_priority(void) {
	fq_codel_t *q = make(0, 0, 0);
	flow_t fl[3] = {{4, 6, 80, 40000, 1, 0}, {4, 17, 53, 40001, 2, 0}, {4, 6, 22, 40002, 3, 0}};
	distinct(q, fl, 3);
	uint64_t now = 1 * SEC;
	for(uint32_t i = 0; i < 100; i++)
		push(q, &fl[0], 1000, i, now, &fl[0]);
	/* Quantum 1514, 1000-byte packets: after six dequeues the bulk flow is
	 * on the old list with 56 bytes of credit left. */
	for(int i = 0; i < 6; i++) {
		frame_buf_t *p = fq_codel_dequeue(q, now, NULL);
		fq_codel_release(q, p);
	}
	fq_codel_stats_t st;
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.old_flows_len, 1);
	CHECK_EQ_INT(st.new_flows_len, 0);

	/* A newly active flow jumps ahead of the backlogged one. */
	push(q, &fl[1], 100, 0, now, &fl[1]);
	void *tag;
	frame_buf_t *p = fq_codel_dequeue(q, now, &tag);
	CHECK(tag == &fl[1]);
	fq_codel_release(q, p);
	p = fq_codel_dequeue(q, now, &tag);
	CHECK(tag == &fl[0]);
	fq_codel_release(q, p);
	fq_codel_get_stats(q, &st);
	/* The emptied new flow went to the back of the old list, not away. */
	CHECK_EQ_INT(st.old_flows_len, 2);
	CHECK_EQ_INT(st.new_flows_len, 0);
	CHECK_EQ_INT(st.new_flow_count, 2);

	/* Its next packet, while it still sits on the old list, does not make
	 * it new again; a third flow arriving now is new and goes first. */
	push(q, &fl[1], 100, 1, now, &fl[1]);
	push(q, &fl[2], 100, 0, now, &fl[2]);
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.new_flow_count, 3);
	CHECK_EQ_INT(st.new_flows_len, 1);
	p = fq_codel_dequeue(q, now, &tag);
	CHECK(tag == &fl[2]);
	fq_codel_release(q, p);

	/* Serve until only the bulk flow is left on the lists: the sparse
	 * flows were forgotten, so the next packet of one is new again. */
	for(int guard = 0; guard < 50; guard++) {
		p = fq_codel_dequeue(q, now, &tag);
		fq_codel_release(q, p);
		fq_codel_get_stats(q, &st);
		if(st.old_flows_len == 1 && st.new_flows_len == 0 && guard > 0)
			break;
	}
	CHECK_EQ_INT(st.old_flows_len + st.new_flows_len, 1);
	push(q, &fl[1], 100, 2, now, &fl[1]);
	p = fq_codel_dequeue(q, now, &tag);
	CHECK(tag == &fl[1]);
	fq_codel_release(q, p);
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.new_flow_count, 4);
	fq_codel_free(q);
}

static void test_packet_limit(void) {
	fq_codel_t *q = make(100, 0, 0);
	flow_t fl[2] = {{4, 17, 1, 1, 1, 0}, {4, 17, 2, 2, 2, 0}};
	distinct(q, fl, 2);
	uint32_t ia = index_of(q, &fl[0]), ib = index_of(q, &fl[1]);
	uint64_t now = 1 * SEC;
	for(uint32_t i = 0; i < 80; i++)
		CHECK_EQ_INT(push(q, &fl[0], 1000, i, now, NULL), 0);
	for(uint32_t i = 0; i < 20; i++)
		CHECK_EQ_INT(push(q, &fl[1], 100, i, now, NULL), 0);
	CHECK_EQ_INT(fq_codel_backlog_packets(q), 100);

	/* One over: the fat flow (80 KB) loses half its bytes from the head. */
	CHECK_EQ_INT(push(q, &fl[1], 100, 20, now, NULL), 40);
	fq_codel_stats_t st;
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.drop_overlimit, 40);
	CHECK_EQ_INT(st.drop_memory, 0);
	CHECK_EQ_INT(st.drop_bytes, 40000);
	CHECK_EQ_INT(fq_codel_flow_backlog(q, ia), 40000);
	CHECK_EQ_INT(fq_codel_flow_backlog(q, ib), 2100);
	CHECK_EQ_INT(st.backlog_packets, 61);

	/* Head drop: the fat flow continues with packet 40, the thin one is whole. */
	uint32_t next[2] = {40, 0};
	bool order_ok = true;
	int count[2] = {0, 0};
	for(frame_buf_t *p; (p = fq_codel_dequeue(q, now, NULL));) {
		int w = p->len == 1000 ? 0 : 1;
		order_ok &= seq_of(p) == next[w]++;
		count[w]++;
		fq_codel_release(q, p);
	}
	CHECK(order_ok);
	CHECK_EQ_INT(count[0], 40);
	CHECK_EQ_INT(count[1], 21);

	/* The batch is capped by drop_batch. */
	fq_codel_params_t p;
	fq_codel_params_default(&p);
	p.limit = 200;
	p.drop_batch = 16;
	fq_codel_t *q2 = fq_codel_new(&p);
	for(uint32_t i = 0; i < 200; i++)
		push(q2, &fl[0], 1000, i, now, NULL);
	CHECK_EQ_INT(push(q2, &fl[1], 100, 0, now, NULL), 16);
	fq_codel_get_stats(q2, &st);
	CHECK_EQ_INT(st.drop_overlimit, 16);
	fq_codel_free(q2);

	/* The fat flow's CoDel counts the batch as signals already sent. */
	fq_codel_free(q);
}

static void test_memory_limit(void) {
	size_t ss = fq_codel_slot_size();
	/* Room for 50 buffers; the packet limit (10240) is not the one that bites. */
	fq_codel_t *q = make(0, 50 * ss + ss / 2, 4);
	flow_t fl[2] = {{6, 6, 1, 1, 1, 0}, {6, 6, 2, 2, 2, 0}};
	distinct(q, fl, 2);
	uint64_t now = 1 * SEC;
	for(uint32_t i = 0; i < 50; i++)
		push(q, &fl[0], 1000, i, now, NULL);
	CHECK_EQ_INT(push(q, &fl[1], 200, 0, now, NULL), 25);
	fq_codel_stats_t st;
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.drop_memory, 25);
	CHECK_EQ_INT(st.drop_overlimit, 0);
	CHECK_EQ_INT(st.backlog_packets, 26);
	/* Buffers never exceed the limit plus the caller's spare ones. */
	for(uint32_t i = 0; i < 500; i++)
		push(q, &fl[i & 1], 1000, i, now, NULL);
	fq_codel_get_stats(q, &st);
	CHECK(st.backlog_packets <= 50);
	CHECK(st.slots_allocated <= 54);
	CHECK(st.memory_bytes <= 54 * ss);
	CHECK_EQ_INT(st.enqueued_packets,
	             st.backlog_packets + st.drop_memory + st.drop_overlimit + st.drop_codel);

	/* When the queue is full and the caller holds every spare buffer,
	 * fq_codel_slot reclaims from the fattest flow... */
	for(uint32_t i = 0; st.backlog_packets < 50 && i < 100; i++) {
		push(q, &fl[1], 1000, 1000 + i, now, NULL);
		fq_codel_get_stats(q, &st);
	}
	CHECK_EQ_INT(st.backlog_packets, 50);
	frame_buf_t *held[4];
	for(int i = 0; i < 4; i++)
		CHECK((held[i] = fq_codel_slot(q)) != NULL);
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.slots_allocated, 54);
	uint64_t before = st.drop_memory;
	frame_buf_t *extra = fq_codel_slot(q);
	CHECK(extra != NULL);
	fq_codel_get_stats(q, &st);
	CHECK(st.drop_memory > before);
	CHECK(st.backlog_packets < 50);
	CHECK_EQ_INT(st.slots_allocated, 54);
	CHECK_EQ_INT(st.slots_held, 5);
	fq_codel_release(q, extra);
	for(int i = 0; i < 4; i++)
		fq_codel_release(q, held[i]);
	fq_codel_free(q);

	/* ...and with nothing queued there is nothing to give: NULL. */
	fq_codel_t *q3 = make(10, 0, 2);
	frame_buf_t *all[12];
	int got = 0;
	for(int i = 0; i < 12; i++)
		got += (all[i] = fq_codel_slot(q3)) != NULL;
	CHECK_EQ_INT(got, 12);
	CHECK(fq_codel_slot(q3) == NULL);
	for(int i = 0; i < 12; i++)
		fq_codel_release(q3, all[i]);
	fq_codel_get_stats(q3, &st);
	CHECK_EQ_INT(st.slots_held, 0);
	fq_codel_free(q3);
}

static void test_ecn_mark_vs_drop(void) {
	fq_codel_t *q = make(0, 0, 0);
	/* Two unresponsive flows, each offering 8 Mbit/s to a 10 Mbit/s link:
	 * one ECN-capable, one not. */
	source_t src[2] = {
		{.f = {4, 6, 6001, 80, 1, ECN_ECT0}, .len = 1514, .period = 1514ULL * 8 * SEC / 8000000},
		{.f = {4, 6, 6002, 80, 2, ECN_NOT_ECT}, .len = 1514, .period = 1514ULL * 8 * SEC / 8000000},
	};
	distinct(q, (flow_t[]){src[0].f, src[1].f}, 2);
	simulate(q, src, 2, 10000000, 1 * SEC, 4 * SEC, 10 * US);
	fq_codel_stats_t st;
	fq_codel_get_stats(q, &st);
	source_t *e = &src[0], *n = &src[1];
	uint64_t e_queued = fq_codel_flow_backlog(q, e->idx) / 1514;
	uint64_t n_queued = fq_codel_flow_backlog(q, n->idx) / 1514;
	fprintf(stderr, "ecn: ECT sent %llu delivered %llu CE %llu queued %llu; Not-ECT sent %llu "
	        "delivered %llu queued %llu; codel drops %llu marks %llu\n",
	        (unsigned long long)e->sent, (unsigned long long)e->delivered, (unsigned long long)e->ce,
	        (unsigned long long)e_queued, (unsigned long long)n->sent,
	        (unsigned long long)n->delivered, (unsigned long long)n_queued,
	        (unsigned long long)st.drop_codel, (unsigned long long)st.ce_marks);
	/* The ECT flow lost nothing: every packet was delivered or is queued,
	 * and the signals it got were CE marks with valid IPv4 checksums. */
	CHECK_EQ_INT(e->sent, e->delivered + e_queued);
	CHECK(e->ce > 0);
	CHECK_EQ_INT(e->ce, st.ce_marks);
	CHECK_EQ_INT(e->bad_csum, 0);
	/* The Not-ECT flow was signalled by drops and got no CE. */
	CHECK(st.drop_codel > 0);
	CHECK_EQ_INT(n->sent, n->delivered + n_queued + st.drop_codel);
	CHECK_EQ_INT(n->ce, 0);
	CHECK_EQ_INT(st.drop_overlimit + st.drop_memory, 0);
	/* Counters add up. */
	CHECK_EQ_INT(st.enqueued_packets, e->sent + n->sent);
	CHECK_EQ_INT(st.dequeued_packets, e->delivered + n->delivered);
	CHECK_EQ_INT(st.enqueued_packets, st.dequeued_packets + st.backlog_packets + st.drop_codel);
	CHECK_EQ_INT(st.enqueued_bytes, st.dequeued_bytes + st.backlog_bytes + st.drop_bytes);
	CHECK(st.sojourn_max_ns > 5 * MS);
	CHECK(st.sojourn_avg_ns > 0 && st.sojourn_avg_ns <= st.sojourn_max_ns);
	fq_codel_free(q);

	/* With ECN off the same ECT flow is dropped instead. */
	fq_codel_params_t p;
	fq_codel_params_default(&p);
	p.ecn = false;
	q = fq_codel_new(&p);
	source_t one = {.f = {4, 6, 6001, 80, 1, ECN_ECT0}, .len = 1514, .period = 1514ULL * 8 * SEC / 16000000};
	simulate(q, &one, 1, 10000000, 1 * SEC, 3 * SEC, 10 * US);
	fq_codel_get_stats(q, &st);
	CHECK(st.drop_codel > 0);
	CHECK_EQ_INT(st.ce_marks, 0);
	CHECK_EQ_INT(one.ce, 0);
	fq_codel_free(q);
}

/* The inner ECN field of a dequeued frame (IPv4 or IPv6). */
static uint8_t ecn_of(const frame_buf_t *p) {
	if(p->data[12] == 0x86)
		return (uint8_t)((p->data[15] >> 4) & 3);
	return p->data[15] & 3;
}

/* L4S: ECT(1) packets that waited past L4SThreshold leave CE-marked; other
 * packets that waited as long are left to CoDel, which has not acted yet. */
static void test_l4s_threshold(void) {
	fq_codel_params_t p;
	fq_codel_params_default(&p);
	CHECK_EQ_INT(p.l4s_threshold_ns, 1 * MS);
	for(int round = 0; round < 3; round++) {
		uint64_t wait = round == 1 ? 500 * US : 3 * MS;
		fq_codel_params_default(&p);
		if(round == 2)
			p.l4s_threshold_ns = 0;
		fq_codel_t *q = fq_codel_new(&p);
		flow_t fl[4] = {
			{4, 17, 7001, 443, 1, ECN_ECT1}, {6, 17, 7002, 443, 2, ECN_ECT1},
			{4, 17, 7003, 443, 3, ECN_ECT0}, {4, 17, 7004, 443, 4, ECN_NOT_ECT},
		};
		distinct(q, fl, 4);
		for(int i = 0; i < 4; i++)
			for(uint32_t k = 0; k < 3; k++)
				push(q, &fl[i], 200, (uint32_t)i, 1 * SEC, NULL);
		unsigned ce[4] = {0}, got[4] = {0};
		frame_buf_t *pkt;
		while((pkt = fq_codel_dequeue(q, 1 * SEC + wait, NULL))) {
			uint32_t i = seq_of(pkt);
			got[i]++;
			if(ecn_of(pkt) == ECN_CE)
				ce[i]++;
			fq_codel_release(q, pkt);
		}
		fq_codel_stats_t st;
		fq_codel_get_stats(q, &st);
		unsigned want = round == 0 ? 3 : 0;
		CHECK_EQ_INT(got[0] + got[1] + got[2] + got[3], 12);
		CHECK_EQ_INT(ce[0], want);
		CHECK_EQ_INT(ce[1], want);
		CHECK_EQ_INT(ce[2], 0);
		CHECK_EQ_INT(ce[3], 0);
		CHECK_EQ_INT(st.l4s_marks, 2 * want);
		CHECK_EQ_INT(st.ce_marks, 0);
		CHECK_EQ_INT(st.drop_codel, 0);
		fq_codel_free(q);
	}
}

static void test_codel_per_flow_entry(void) {
	/* A standing queue with sojourn far above target: the flow's CoDel
	 * drops nothing for a whole interval, then exactly one packet. */
	fq_codel_t *q = make(0, 0, 0);
	flow_t f = {4, 17, 9, 9, 1, 0};
	uint64_t t0 = 1 * SEC;
	for(uint32_t i = 0; i < 1000; i++)
		push(q, &f, 1000, i, t0, NULL);
	fq_codel_stats_t st;
	uint64_t now = t0 + 20 * MS;
	int delivered = 0;
	for(; now < t0 + 20 * MS + I_NS_FOR_TEST; now += 1 * MS) {
		frame_buf_t *p = fq_codel_dequeue(q, now, NULL);
		delivered += p != NULL;
		if(p)
			fq_codel_release(q, p);
	}
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.drop_codel, 0); /* not yet a full interval above target */
	frame_buf_t *p = fq_codel_dequeue(q, now, NULL);
	fq_codel_release(q, p);
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.drop_codel, 1);
	fq_codel_free(q);
}

static void test_forget_tag(void) {
	fq_codel_t *q = make(0, 0, 0);
	flow_t fl[2] = {{4, 17, 1, 1, 1, 0}, {6, 17, 1, 1, 1, 0}};
	distinct(q, fl, 2);
	int x, y;
	uint64_t now = 1 * SEC;
	for(uint32_t i = 0; i < 10; i++)
		push(q, &fl[i % 2], 100, i, now, i % 3 ? (void *)&x : (void *)&y);
	CHECK_EQ_INT(fq_codel_forget_tag(q, &x), 6);
	push(q, &fl[0], 100, 10, now, &y); /* the tail is still right after removal */
	fq_codel_stats_t st;
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.drop_purged, 6);
	CHECK_EQ_INT(st.backlog_packets, 5);
	CHECK_EQ_INT(st.backlog_bytes, 500);
	uint32_t seen = 0;
	for(frame_buf_t *p; (p = fq_codel_dequeue(q, now, NULL));) {
		seen |= 1u << seq_of(p);
		fq_codel_release(q, p);
	}
	CHECK_EQ_INT(seen, (1u << 0) | (1u << 3) | (1u << 6) | (1u << 9) | (1u << 10));
	fq_codel_free(q);
}

/* The observer hears every drop and mark with the packet's own tag. */
static int tag_a, tag_b;
static unsigned events[2][FQ_EVENT_CE_MARK + 1];
static unsigned untagged_events;

static void count_event(void *tag, fq_codel_event_t ev, uint32_t len) {
	(void)len;
	if(tag == &tag_a)
		events[0][ev]++;
	else if(tag == &tag_b)
		events[1][ev]++;
	else
		untagged_events++;
}

static void test_observer(void) {
	fq_codel_t *q = make(100, 0, 0);
	fq_codel_set_observer(q, count_event);
	flow_t fl[2] = {{4, 17, 1, 1, 1, ECN_ECT0}, {4, 17, 2, 2, 2, ECN_NOT_ECT}};
	distinct(q, fl, 2);
	uint64_t now = 1 * SEC;
	/* overlimit: the fat flow, tagged a, pays */
	for(uint32_t i = 0; i < 80; i++)
		push(q, &fl[0], 1000, i, now, &tag_a);
	for(uint32_t i = 0; i < 21; i++)
		push(q, &fl[1], 100, i, now, &tag_b);
	CHECK_EQ_INT(events[0][FQ_EVENT_DROP_OVERLIMIT], 40);
	CHECK_EQ_INT(events[1][FQ_EVENT_DROP_OVERLIMIT], 0);

	/* a standing queue drained slowly: CoDel marks a's packets (ECT) and
	 * drops b's (Not-ECT), each reported with the right tag */
	for(uint32_t i = 0; i < 60; i++)
		push(q, &fl[1], 100, 100 + i, now, &tag_b);
	now += 200 * MS;
	for(frame_buf_t *p; (p = fq_codel_dequeue(q, now, NULL)); now += 3 * MS)
		fq_codel_release(q, p);
	fq_codel_stats_t st;
	fq_codel_get_stats(q, &st);
	CHECK(st.ce_marks > 0);
	CHECK(st.drop_codel > 0);
	CHECK_EQ_INT(events[0][FQ_EVENT_CE_MARK], st.ce_marks);
	CHECK_EQ_INT(events[1][FQ_EVENT_CE_MARK], 0);
	CHECK_EQ_INT(events[1][FQ_EVENT_DROP_CODEL], st.drop_codel);
	CHECK_EQ_INT(events[0][FQ_EVENT_DROP_CODEL], 0);

	/* purge */
	for(uint32_t i = 0; i < 5; i++)
		push(q, &fl[1], 100, 200 + i, now, &tag_b);
	CHECK_EQ_INT(fq_codel_forget_tag(q, &tag_b), 5);
	CHECK_EQ_INT(events[1][FQ_EVENT_DROP_PURGED], 5);
	CHECK_EQ_INT(untagged_events, 0);
	fq_codel_free(q);
}

/* A burst's buffers go back once the queue is empty, and the queue works on. */
static void test_trim(void) {
	fq_codel_t *q = make(0, 0, 0);
	flow_t f = {4, 17, 7, 7, 7, 0};
	uint64_t now = 1 * SEC;
	for(uint32_t i = 0; i < 2000; i++)
		CHECK_EQ_INT(push(q, &f, 1000, i, now, NULL), 0);
	fq_codel_stats_t st;
	fq_codel_get_stats(q, &st);
	uint32_t grown = st.slots_allocated;
	CHECK(grown >= 2000);
	/* nothing is given back while packets are queued */
	CHECK_EQ_INT(fq_codel_trim(q, 64), 0);
	frame_buf_t *held = NULL;
	for(frame_buf_t *p; (p = fq_codel_dequeue(q, now, NULL));) {
		if(held)
			fq_codel_release(q, held);
		held = p;
	}
	/* ... nor while the caller holds a buffer */
	CHECK_EQ_INT(fq_codel_trim(q, 64), 0);
	fq_codel_release(q, held);
	size_t freed = fq_codel_trim(q, 64);
	fq_codel_get_stats(q, &st);
	CHECK_EQ_INT(st.slots_allocated, 64);
	CHECK_EQ_INT(freed, (uint64_t)(grown - 64) * fq_codel_slot_size());
	CHECK_EQ_INT(st.memory_bytes, 64 * fq_codel_slot_size());
	CHECK_EQ_INT(fq_codel_trim(q, 64), 0);
	/* the queue still takes and delivers a burst, in order */
	for(uint32_t i = 0; i < 500; i++)
		CHECK_EQ_INT(push(q, &f, 1000, i, now, NULL), 0);
	bool order_ok = true;
	uint32_t n = 0;
	for(frame_buf_t *p; (p = fq_codel_dequeue(q, now, NULL)); n++) {
		order_ok &= seq_of(p) == n;
		fq_codel_release(q, p);
	}
	CHECK(order_ok);
	CHECK_EQ_INT(n, 500);
	fq_codel_free(q);
}

static void test_bad_params(void) {
	fq_codel_params_t p;
	fq_codel_params_default(&p);
	p.flows = 0;
	CHECK(fq_codel_new(&p) == NULL);
	fq_codel_params_default(&p);
	p.flows = FQ_CODEL_FLOWS_MAX + 1;
	CHECK(fq_codel_new(&p) == NULL);
	fq_codel_params_default(&p);
	p.limit = 0;
	CHECK(fq_codel_new(&p) == NULL);
	fq_codel_params_default(&p);
	p.memory_limit = 10;
	CHECK(fq_codel_new(&p) == NULL);
	fq_codel_params_default(&p);
	p.flows = 1;
	fq_codel_t *q = fq_codel_new(&p);
	CHECK(q != NULL);
	flow_t f = {4, 17, 1, 1, 1, 0};
	CHECK_EQ_INT(index_of(q, &f), 0);
	fq_codel_free(q);
}

int main(void) {
	test_hashing();
	test_fifo_tags_and_stats();
	test_flow_isolation();
	test_drr_fairness();
	test_new_flow_priority();
	test_packet_limit();
	test_memory_limit();
	test_ecn_mark_vs_drop();
	test_l4s_threshold();
	test_codel_per_flow_entry();
	test_forget_tag();
	test_observer();
	test_trim();
	test_bad_params();
	return unit_done();
}
