/* libFuzzer: coalesced UDP GRO reads cut back into datagrams, as
 * drain_socket does it: gro_split on the read's length and segment size
 * (any int, garbage included), the count lowered to the free slots, then
 * rx_backlog_spread into a small ring at any head position.
 *
 * Input: byte 0 = ring capacity - 1 (mod 64), byte 1 = slots in use before
 * the reads, byte 2 = where the head is; then reads, each as 2 bytes of
 * length (big-endian, up to 65535) and 4 bytes of segment size (a signed
 * int, as the control message carries it). The reads' bytes are a pattern
 * of read number and offset.
 *
 * Checks: every datagram of every read lands whole, in order, with its
 * read's sender and outer header; nothing beyond the free slots is written;
 * the ring's byte count is the sum of what was committed. */
#include "util/compat.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/rx_backlog.h"
#include "io/gro_split.h"

#define READS_MAX 8
#define READ_MAX 65536

static uint8_t bounce[READS_MAX][READ_MAX];

static uint8_t pattern(uint32_t r, size_t off) {
	return (uint8_t)(r * 31 + off * 7 + off / 251);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	if(size < 3)
		return 0;
	uint32_t capacity = 1 + data[0] % 64;
	rx_backlog_t b = {0};
	if(!rx_backlog_ready(&b, capacity, 0))
		return 0;
	/* the head anywhere, some slots in use */
	b.head = data[2] % capacity;
	uint32_t used = data[1] % capacity;
	for(uint32_t i = 0; i < used; i++) {
		rx_slot_t *s = rx_backlog_at(&b, b.count);
		s->frame.len = 1;
		s->frame.data[0] = 0xee;
		rx_backlog_commit(&b, 1);
	}
	uint64_t bytes_before = b.bytes;
	uint32_t room = capacity - b.count;
	data += 3;
	size -= 3;

	uint8_t *overflow[READS_MAX];
	gro_split_t split[READS_MAX], want[READS_MAX];
	size_t total[READS_MAX];
	uint32_t n = 0, placed = 0;
	while(size >= 6 && n < READS_MAX && n < room) {
		total[n] = (size_t)data[0] << 8 | data[1];
		int seg;
		uint32_t u = (uint32_t)data[2] << 24 | (uint32_t)data[3] << 16 | (uint32_t)data[4] << 8 | data[5];
		memcpy(&seg, &u, sizeof(seg));
		data += 6;
		size -= 6;
		overflow[n] = bounce[n];
		rx_slot_t *s = rx_backlog_at(&b, b.count + n);
		for(size_t off = 0; off < total[n]; off++) {
			if(off < PACKET_BUF_MAX)
				s->frame.data[off] = pattern(n, off);
			else
				bounce[n][off - PACKET_BUF_MAX] = pattern(n, off);
		}
		memset(&s->from, 0, sizeof(s->from));
		s->from.in.sin_family = AF_INET;
		s->from.in.sin_port = (uint16_t)(1000 + n);
		s->frame.outer_tos = (uint8_t)(n + 1);
		s->frame.tstamp_ns = 7000 + n;
		if(!gro_split(total[n], seg, PACKET_BUF_MAX, &split[n])) {
			split[n] = (gro_split_t){.count = 1};
			total[n] = 0;
		} else {
			/* the split covers the read exactly, with no empty datagram
			 * unless the read is empty */
			size_t sum = 0;
			for(uint32_t k = 0; k < split[n].count; k++) {
				size_t len = gro_split_len(&split[n], k);
				if(len > PACKET_BUF_MAX || (len == 0 && total[n]))
					abort();
				sum += len;
			}
			if(sum != total[n] || split[n].count == 0)
				abort();
		}
		want[n] = split[n];
		if(split[n].count > room - placed) {
			split[n].count = room - placed;
			split[n].last = split[n].segment;
		}
		placed += split[n].count;
		n++;
	}
	if(!n) {
		rx_backlog_free(&b);
		return 0;
	}
	if(rx_backlog_spread(&b, n, split, overflow) != placed)
		abort();
	/* the slots before the reads are untouched */
	for(uint32_t i = 0; i < used; i++)
		if(rx_backlog_at(&b, i)->frame.len != 1 || rx_backlog_at(&b, i)->frame.data[0] != 0xee)
			abort();
	uint32_t at = used, nonempty = 0;
	uint64_t bytes = 0;
	for(uint32_t r = 0; r < n; r++) {
		for(uint32_t k = 0; k < split[r].count; k++, at++) {
			rx_slot_t *s = rx_backlog_at(&b, at);
			size_t off = gro_split_offset(&want[r], k), len = total[r] ? gro_split_len(&want[r], k) : 0;
			if(s->frame.len != len || s->from.in.sin_port != 1000 + r || s->frame.outer_tos != r + 1 ||
			   s->frame.tstamp_ns != 7000 + r)
				abort();
			for(size_t j = 0; j < len; j++)
				if(s->frame.data[j] != pattern(r, off + j))
					abort();
			bytes += len;
			nonempty += len != 0;
		}
	}
	/* committed, every non-empty datagram waits in its bucket; empty ones
	 * are skipped */
	rx_backlog_commit(&b, placed);
	if(b.bytes != bytes_before + bytes || b.waiting != used + nonempty || b.count > used + placed)
		abort();
	rx_backlog_free(&b);
	return 0;
}
