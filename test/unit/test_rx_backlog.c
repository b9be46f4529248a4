/* The receive backlog ring: free spans for the kernel to write into, order,
 * byte count, wrap-around, full and empty. */
#include "util/compat.h"

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

int main(void) {
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
