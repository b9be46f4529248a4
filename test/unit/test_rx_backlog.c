/* The receive backlog: free spans for the kernel to write into, byte
 * counts, wrap-around, full and empty; coalesced (UDP GRO) reads spread into
 * one slot per datagram, in order, across the wrap; and its fair service:
 * one sender is one FIFO, a sparse sender is served before a backlogged one,
 * backlogged senders share by bytes, and slots served out of order are
 * reused only once everything older is served. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "datapath/rx_backlog.h"
#include "addrs.h"
#include "unit.h"

/* Fill up to n slots from the tail with lengths first, first+1, ..., all
 * from one sender; returns how many were offered (fewer at the wrap or
 * when full). */
static uint32_t fill_from(rx_backlog_t *b, uint32_t n, uint16_t first, sockaddr_u from) {
	uint32_t room;
	rx_slot_t *s = rx_backlog_tail(b, n, &room);
	for(uint32_t i = 0; i < room; i++) {
		s[i].frame.len = (uint16_t)(first + i);
		s[i].from = from;
	}
	rx_backlog_commit(b, room);
	return room;
}

static uint32_t fill(rx_backlog_t *b, uint32_t n, uint16_t first) {
	return fill_from(b, n, first, addr_v4("192.0.2.1", 655));
}

/* Serve one datagram; its length, or 0 if none waits. */
static int serve(rx_backlog_t *b) {
	rx_flow_t *f;
	rx_slot_t *s = rx_backlog_next(b, &f);
	if(!s)
		return 0;
	int len = s->frame.len;
	rx_backlog_done(b, s);
	return len;
}

/* Two senders whose buckets differ (the seed decides, so search). */
static void two_buckets(const rx_backlog_t *b, sockaddr_u *bulk, sockaddr_u *sparse) {
	*bulk = addr_v4("192.0.2.1", 655);
	for(uint16_t port = 40000;; port++) {
		*sparse = addr_v4("192.0.2.1", port);
		if(rx_backlog_flow_of(b, sparse) != rx_backlog_flow_of(b, bulk))
			return;
	}
}

/* A byte of read r at offset off. */
static uint8_t pattern(uint32_t r, size_t off) {
	return (uint8_t)(r * 31 + off * 7 + off / 251);
}

/* Make read r of total bytes into the r-th free slot and its overflow area,
 * as the kernel does with a slot and a bounce area as two iovecs. */
static void kernel_read(rx_backlog_t *b, uint32_t r, size_t total, uint8_t *overflow) {
	rx_slot_t *s = rx_backlog_at(b, b->count + r);
	for(size_t off = 0; off < total; off++) {
		if(off < PACKET_BUF_MAX)
			s->frame.data[off] = pattern(r, off);
		else
			overflow[off - PACKET_BUF_MAX] = pattern(r, off);
	}
	memset(&s->from, 0, sizeof(s->from));
	s->from.in.sin_family = AF_INET;
	s->from.in.sin_port = (uint16_t)(1000 + r);
	s->frame.outer_tos = (uint8_t)(r + 1);
	s->frame.outer_ttl = (uint8_t)(64 - r);
	s->frame.tstamp_ns = 5000 + r;
}

/* Datagram k of read r is in the ring at position at, whole and with the
 * read's sender and outer header. */
static bool spread_ok(rx_backlog_t *b, uint32_t at, uint32_t r, const gro_split_t *split, uint32_t k) {
	rx_slot_t *s = rx_backlog_at(b, at);
	size_t off = gro_split_offset(split, k), len = gro_split_len(split, k);
	if(s->frame.len != len || s->from.in.sin_port != 1000 + r || s->frame.outer_tos != r + 1 ||
	   s->frame.outer_ttl != 64 - r || s->frame.tstamp_ns != 5000 + r)
		return false;
	for(size_t j = 0; j < len; j++)
		if(s->frame.data[j] != pattern(r, off + j))
			return false;
	return true;
}

static void spread_test(void) {
	static uint8_t bounce[3][65536];
	uint8_t *overflow[3] = {bounce[0], bounce[1], bounce[2]};
	rx_backlog_t b = {0};
	CHECK(rx_backlog_ready(&b, 8, 7));
	/* head at slot 5 with one datagram (15 bytes): the free slots are 6, 7, 0, 1, ... */
	fill(&b, 6, 10);
	for(int i = 0; i < 5; i++)
		serve(&b);
	CHECK_EQ_INT(b.head, 5);
	/* three reads: 3 x 1000 bytes (past the slot into the overflow), one
	 * datagram of 500, 1200 + 100 */
	gro_split_t split[3];
	kernel_read(&b, 0, 3000, overflow[0]);
	kernel_read(&b, 1, 500, overflow[1]);
	kernel_read(&b, 2, 1300, overflow[2]);
	CHECK(gro_split(3000, 1000, PACKET_BUF_MAX, &split[0]));
	CHECK(gro_split(500, 0, PACKET_BUF_MAX, &split[1]));
	CHECK(gro_split(1300, 1200, PACKET_BUF_MAX, &split[2]));
	CHECK_EQ_INT(rx_backlog_spread(&b, 3, split, overflow), 6);
	rx_backlog_commit(&b, 6);
	CHECK_EQ_INT(b.count, 7);
	CHECK_EQ_INT((int)b.bytes, 15 + 3000 + 500 + 1300);
	CHECK(spread_ok(&b, 1, 0, &split[0], 0));
	CHECK(spread_ok(&b, 2, 0, &split[0], 1));
	CHECK(spread_ok(&b, 3, 0, &split[0], 2)); /* wrapped round to slot 0 */
	CHECK(spread_ok(&b, 4, 1, &split[1], 0));
	CHECK(spread_ok(&b, 5, 2, &split[2], 0));
	CHECK(spread_ok(&b, 6, 2, &split[2], 1));

	/* a read cut short for want of room: only its first datagrams stay */
	while(serve(&b))
		;
	kernel_read(&b, 0, 4 * 100, overflow[0]);
	CHECK(gro_split(400, 100, PACKET_BUF_MAX, &split[0]));
	split[0].count = 2;
	split[0].last = split[0].segment;
	CHECK_EQ_INT(rx_backlog_spread(&b, 1, split, overflow), 2);
	rx_backlog_commit(&b, 2);
	CHECK(spread_ok(&b, 0, 0, &split[0], 0));
	CHECK(spread_ok(&b, 1, 0, &split[0], 1));
	rx_backlog_free(&b);
}

int main(void) {
	spread_test();

	rx_backlog_t b = {0};
	CHECK(rx_backlog_ready(&b, 8, 1));
	CHECK(rx_backlog_ready(&b, 8, 2)); /* a second call keeps the ring */
	CHECK_EQ_INT(b.capacity, 8);
	CHECK_EQ_INT(b.count, 0);

	/* at most what was asked for */
	CHECK_EQ_INT(fill(&b, 5, 100), 5);
	CHECK_EQ_INT(b.count, 5);
	CHECK_EQ_INT(b.waiting, 5);
	CHECK_EQ_INT((int)b.bytes, 100 + 101 + 102 + 103 + 104);

	/* the slot of a frame buffer */
	rx_slot_t *third = &b.slots[2];
	CHECK(rx_slot_of(&third->frame) == third);

	/* one sender: oldest first out */
	CHECK_EQ_INT(serve(&b), 100);
	CHECK_EQ_INT(serve(&b), 101);
	CHECK_EQ_INT(serve(&b), 102);
	CHECK_EQ_INT(b.count, 2);
	CHECK_EQ_INT((int)b.bytes, 103 + 104);

	/* the free span stops at the end of the array, then wraps */
	CHECK_EQ_INT(fill(&b, 8, 200), 3);      /* slots 5, 6, 7 */
	CHECK_EQ_INT(fill(&b, 8, 300), 3);      /* slots 0, 1, 2, up to the head */
	CHECK_EQ_INT(b.count, 8);
	uint32_t room = 99;
	rx_backlog_tail(&b, 8, &room);
	CHECK_EQ_INT(room, 0);                  /* full */
	CHECK_EQ_INT((int)b.bytes, 103 + 104 + 200 + 201 + 202 + 300 + 301 + 302);
	int order[] = {103, 104, 200, 201, 202, 300, 301, 302};
	for(int i = 0; i < 8; i++)
		CHECK_EQ_INT(serve(&b), order[i]);
	CHECK_EQ_INT(serve(&b), 0);

	/* empty: starts again at its first slot */
	CHECK_EQ_INT(b.count, 0);
	CHECK_EQ_INT((int)b.bytes, 0);
	CHECK_EQ_INT(b.head, 0);

	/* an empty (truncated) datagram is skipped and its slot freed */
	room = 0;
	rx_slot_t *s = rx_backlog_tail(&b, 1, &room);
	CHECK_EQ_INT(room, 1);
	s->frame.len = 0;
	s->from = addr_v4("192.0.2.1", 655);
	rx_backlog_commit(&b, 1);
	CHECK_EQ_INT(b.count, 0);
	CHECK_EQ_INT(serve(&b), 0);
	rx_backlog_free(&b);
	CHECK(b.slots == NULL);

	/* A bulk sender with a backlog and a sparse one that sends one
	 * datagram: the sparse one is served as soon as the bulk one has had
	 * its quantum, not after the backlog. */
	CHECK(rx_backlog_ready(&b, 64, 12345));
	sockaddr_u bulk, sparse;
	two_buckets(&b, &bulk, &sparse);
	CHECK_EQ_INT(fill_from(&b, 40, 1400, bulk), 40);
	CHECK_EQ_INT(serve(&b), 1400);
	CHECK_EQ_INT(fill_from(&b, 1, 64, sparse), 1);
	CHECK_EQ_INT(serve(&b), 1401); /* 1400 + 1401 > RX_BACKLOG_QUANTUM */
	CHECK_EQ_INT(serve(&b), 64);
	CHECK_EQ_INT(serve(&b), 1402);

	/* the slot the sparse datagram used is reused only when everything
	 * older is served: slots 3 to 40 are in use, 37 of them waiting */
	CHECK_EQ_INT(b.count, 38);
	CHECK_EQ_INT(b.waiting, 37);
	for(int i = 3; i < 40; i++)
		CHECK_EQ_INT(serve(&b), 1400 + i);
	CHECK_EQ_INT(b.count, 0);

	/* Two backlogged senders share by bytes: one with datagrams twice as
	 * long is served about half as many times (bytes apart by at most what
	 * two rounds of deficits allow). */
	for(int i = 0; i < 30; i++) {
		fill_from(&b, 1, 1500, bulk);
		fill_from(&b, 1, 750, sparse);
	}
	int big = 0, small = 0;
	for(int i = 0; i < 30; i++) {
		int len = serve(&b);
		big += len == 1500;
		small += len == 750;
	}
	printf("# served 1500-byte %d times, 750-byte %d times\n", big, small);
	CHECK(big >= 8 && small >= 16);
	CHECK(abs(big * 1500 - small * 750) <= 2 * RX_BACKLOG_QUANTUM);
	while(serve(&b))
		;
	CHECK_EQ_INT(b.waiting, 0);
	CHECK_EQ_INT(b.count, 0);

	/* per bucket counts and bytes leave with what is served */
	fill_from(&b, 3, 500, bulk);
	rx_flow_t *f;
	s = rx_backlog_next(&b, &f);
	CHECK_EQ_INT(f->count, 2);
	CHECK_EQ_INT((int)f->bytes, 501 + 502);
	CHECK_EQ_INT(b.count, 3); /* still in use until done */
	rx_backlog_done(&b, s);
	CHECK_EQ_INT(b.count, 2);

	/* the bucket depends on the address and port, and on the seed */
	rx_backlog_t other = {0};
	CHECK(rx_backlog_ready(&other, 8, 999));
	int differ = 0;
	for(uint16_t port = 1000; port < 1100; port++) {
		sockaddr_u a = addr_v4("198.51.100.7", port);
		CHECK(rx_backlog_flow_of(&b, &a) < RX_BACKLOG_FLOWS);
		differ += rx_backlog_flow_of(&b, &a) != rx_backlog_flow_of(&other, &a);
	}
	CHECK(differ > 50);
	rx_backlog_free(&other);
	rx_backlog_free(&b);
	return unit_done();
}
