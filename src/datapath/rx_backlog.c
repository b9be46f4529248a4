/* The receive backlog ring (see rx_backlog.h). */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "datapath/rx_backlog.h"

bool rx_backlog_ready(rx_backlog_t *b, uint32_t capacity) {
	if(b->slots)
		return true;
	b->slots = calloc(capacity, sizeof(*b->slots));
	if(!b->slots)
		return false; /* the caller reads one batch at a time instead */
	b->capacity = capacity;
	b->head = b->count = 0;
	b->bytes = 0;
	return true;
}

void rx_backlog_free(rx_backlog_t *b) {
	free(b->slots);
	*b = (rx_backlog_t){0};
}

rx_slot_t *rx_backlog_tail(rx_backlog_t *b, uint32_t most, uint32_t *n) {
	uint32_t tail = (b->head + b->count) % b->capacity;
	/* contiguous: up to the head, or up to the end of the array */
	uint32_t span = tail < b->head ? b->head - tail : b->capacity - tail;
	*n = MIN(MIN(span, b->capacity - b->count), most);
	return &b->slots[tail];
}

void rx_backlog_commit(rx_backlog_t *b, uint32_t n) {
	for(uint32_t i = 0; i < n; i++)
		b->bytes += b->slots[(b->head + b->count + i) % b->capacity].frame.len;
	b->count += n;
}

rx_slot_t *rx_backlog_at(rx_backlog_t *b, uint32_t i) {
	return &b->slots[(b->head + i) % b->capacity];
}

void rx_backlog_pop(rx_backlog_t *b, uint32_t n) {
	for(uint32_t i = 0; i < n && b->count; i++) {
		b->bytes -= b->slots[b->head].frame.len;
		b->head = (b->head + 1) % b->capacity;
		b->count--;
	}
	/* Empty: start again at the first slots, which are still in the CPU's
	 * cache; a ring walked all the way round would miss it on every read. */
	if(!b->count)
		b->head = 0;
}

uint32_t rx_backlog_spread(rx_backlog_t *b, uint32_t n, const gro_split_t *split, uint8_t *const *overflow) {
	uint32_t total = 0;
	for(uint32_t i = 0; i < n; i++)
		total += split[i].count;
	/* Last read first, last datagram first: a read's datagrams only move
	 * towards the tail, over slots whose reads are done with, and its first
	 * datagram, at or after its own slot, moves last. */
	uint32_t end = total;
	for(uint32_t i = n; i-- > 0;) {
		uint32_t first = end - split[i].count;
		end = first;
		rx_slot_t *src = rx_backlog_at(b, b->count + i);
		for(uint32_t k = split[i].count; k-- > 0;) {
			rx_slot_t *dst = rx_backlog_at(b, b->count + first + k);
			size_t len = gro_split_len(&split[i], k);
			if(dst != src) {
				gro_split_copy(dst->frame.data, src->frame.data, PACKET_BUF_MAX, overflow[i],
				               gro_split_offset(&split[i], k), len);
				dst->from = src->from;
				dst->frame.outer_tos = src->frame.outer_tos;
				dst->frame.outer_ttl = src->frame.outer_ttl;
				dst->frame.tstamp_ns = src->frame.tstamp_ns;
			}
			dst->frame.len = (uint16_t)len;
		}
	}
	return total;
}
