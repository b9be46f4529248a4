/* The receive backlog ring: free spans for the kernel to write into, order,
 * byte count, wrap-around, full and empty; coalesced (UDP GRO) reads spread
 * into one slot per datagram, in order, across the wrap. */
#include "util/compat.h"

#include <netinet/in.h>
#include <string.h>

#include "datapath/rx_backlog.h"
#include "unit.h"

/* Fill n slots from the tail with lengths first, first+1, ...; returns how
 * many were offered (they may be fewer than n at the wrap or when full). */
static uint32_t fill(rx_backlog_t *b, uint32_t n, uint16_t first) {
	uint32_t room;
	rx_slot_t *s = rx_backlog_tail(b, n, &room);
	for(uint32_t i = 0; i < room; i++)
		s[i].frame.len = (uint16_t)(first + i);
	rx_backlog_commit(b, room);
	return room;
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
	CHECK(rx_backlog_ready(&b, 8));
	/* head at slot 5 with one datagram (15 bytes): the free slots are 6, 7, 0, 1, ... */
	fill(&b, 6, 10);
	rx_backlog_pop(&b, 5);
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
	rx_backlog_pop(&b, 100);
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
	CHECK(rx_backlog_ready(&b, 8));
	CHECK(rx_backlog_ready(&b, 8)); /* a second call keeps the ring */
	CHECK_EQ_INT(b.capacity, 8);
	CHECK_EQ_INT(b.count, 0);

	/* at most what was asked for */
	CHECK_EQ_INT(fill(&b, 5, 100), 5);
	CHECK_EQ_INT(b.count, 5);
	CHECK_EQ_INT((int)b.bytes, 100 + 101 + 102 + 103 + 104);
	CHECK_EQ_INT(rx_backlog_at(&b, 0)->frame.len, 100);
	CHECK_EQ_INT(rx_backlog_at(&b, 4)->frame.len, 104);

	/* the slot of a frame buffer */
	rx_slot_t *third = rx_backlog_at(&b, 2);
	CHECK(rx_slot_of(&third->frame) == third);

	/* oldest first out */
	rx_backlog_pop(&b, 3);
	CHECK_EQ_INT(b.count, 2);
	CHECK_EQ_INT(rx_backlog_at(&b, 0)->frame.len, 103);
	CHECK_EQ_INT((int)b.bytes, 103 + 104);

	/* the free span stops at the end of the array, then wraps */
	CHECK_EQ_INT(fill(&b, 8, 200), 3);      /* slots 5, 6, 7 */
	CHECK_EQ_INT(fill(&b, 8, 300), 3);      /* slots 0, 1, 2, up to the head */
	CHECK_EQ_INT(b.count, 8);
	uint32_t room = 99;
	rx_backlog_tail(&b, 8, &room);
	CHECK_EQ_INT(room, 0);                  /* full */
	CHECK_EQ_INT(rx_backlog_at(&b, 2)->frame.len, 200);
	CHECK_EQ_INT(rx_backlog_at(&b, 5)->frame.len, 300);
	CHECK_EQ_INT(rx_backlog_at(&b, 7)->frame.len, 302);
	CHECK_EQ_INT((int)b.bytes, 103 + 104 + 200 + 201 + 202 + 300 + 301 + 302);

	/* popping more than there is empties it, and an empty ring starts
	 * again at its first slot */
	rx_backlog_pop(&b, 100);
	CHECK_EQ_INT(b.count, 0);
	CHECK_EQ_INT((int)b.bytes, 0);
	CHECK_EQ_INT(b.head, 0);
	CHECK_EQ_INT(fill(&b, 8, 1), 8);

	rx_backlog_free(&b);
	CHECK(b.slots == NULL);
	CHECK_EQ_INT(b.count, 0);
	return unit_done();
}
