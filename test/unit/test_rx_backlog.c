/* The receive backlog: free spans for the kernel to write into, byte
 * counts, wrap-around, full and empty; and its fair service: one sender is
 * one FIFO, a sparse sender is served before a backlogged one, backlogged
 * senders share by bytes, and slots served out of order are reused only
 * once everything older is served. */
#include "util/compat.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/rx_backlog.h"
#include "unit.h"

static sockaddr_u sender(const char *ip, uint16_t port) {
	sockaddr_u sa;
	memset(&sa, 0, sizeof(sa));
	sa.in.sin_family = AF_INET;
	sa.in.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa.in.sin_addr);
	return sa;
}

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
	return fill_from(b, n, first, sender("192.0.2.1", 655));
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
	*bulk = sender("192.0.2.1", 655);
	for(uint16_t port = 40000;; port++) {
		*sparse = sender("192.0.2.1", port);
		if(rx_backlog_flow_of(b, sparse) != rx_backlog_flow_of(b, bulk))
			return;
	}
}

int main(void) {
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
	s->from = sender("192.0.2.1", 655);
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
		sockaddr_u a = sender("198.51.100.7", port);
		CHECK(rx_backlog_flow_of(&b, &a) < RX_BACKLOG_FLOWS);
		differ += rx_backlog_flow_of(&b, &a) != rx_backlog_flow_of(&other, &a);
	}
	CHECK(differ > 50);
	rx_backlog_free(&other);
	rx_backlog_free(&b);
	return unit_done();
}
