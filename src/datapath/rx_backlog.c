/* The receive backlog: a ring of slots served fairly by flow bucket (see
 * rx_backlog.h). */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "datapath/rx_backlog.h"

bool rx_backlog_ready(rx_backlog_t *b, uint32_t capacity, uint32_t seed) {
	if(b->slots)
		return true;
	b->slots = calloc(capacity, sizeof(*b->slots));
	b->flows = calloc(RX_BACKLOG_FLOWS, sizeof(*b->flows));
	if(!b->slots || !b->flows) {
		rx_backlog_free(b);
		return false; /* the caller tries again later */
	}
	b->capacity = capacity;
	b->head = b->count = b->waiting = 0;
	b->bytes = 0;
	b->seed = seed;
	for(uint32_t i = 0; i < RX_BACKLOG_FLOWS; i++) {
		b->flows[i].first = b->flows[i].last = RX_SLOT_NONE;
		ingress_queue_init(&b->flows[i].aqm);
	}
	return true;
}

void rx_backlog_free(rx_backlog_t *b) {
	free(b->slots);
	free(b->flows);
	*b = (rx_backlog_t){0};
}

rx_slot_t *rx_backlog_tail(rx_backlog_t *b, uint32_t most, uint32_t *n) {
	uint32_t tail = (b->head + b->count) % b->capacity;
	/* contiguous: up to the head, or up to the end of the array */
	uint32_t span = tail < b->head ? b->head - tail : b->capacity - tail;
	*n = MIN(MIN(span, b->capacity - b->count), most);
	return &b->slots[tail];
}

/* FNV-1a over the sender's address and port, started from the seed. */
uint32_t rx_backlog_flow_of(const rx_backlog_t *b, const sockaddr_u *from) {
	const uint8_t *p;
	size_t len;
	uint16_t port;
	if(from->sa.sa_family == AF_INET) {
		p = (const uint8_t *)&from->in.sin_addr;
		len = sizeof(from->in.sin_addr);
		port = from->in.sin_port;
	} else if(from->sa.sa_family == AF_INET6) {
		p = (const uint8_t *)&from->in6.sin6_addr;
		len = sizeof(from->in6.sin6_addr);
		port = from->in6.sin6_port;
	} else {
		return 0;
	}
	uint32_t h = 2166136261u ^ b->seed;
	for(size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ (port & 0xff)) * 16777619u;
	h = (h ^ (port >> 8)) * 16777619u;
	return h % RX_BACKLOG_FLOWS;
}

static void fifo_push(rx_flow_fifo_t *f, uint32_t flow) {
	f->item[(f->head + f->count++) % RX_BACKLOG_FLOWS] = (uint16_t)flow;
}

static uint32_t fifo_pop(rx_flow_fifo_t *f) {
	uint32_t flow = f->item[f->head];
	f->head = (f->head + 1) % RX_BACKLOG_FLOWS;
	f->count--;
	return flow;
}

/* Free the served slots at the oldest end; an empty ring starts again at
 * its first slots, which are still in the CPU's cache. */
static void release_oldest(rx_backlog_t *b) {
	while(b->count && !b->slots[b->head].waiting) {
		b->head = (b->head + 1) % b->capacity;
		b->count--;
	}
	if(!b->count)
		b->head = 0;
}

void rx_backlog_commit(rx_backlog_t *b, uint32_t n) {
	for(uint32_t i = 0; i < n; i++) {
		uint32_t idx = (b->head + b->count + i) % b->capacity;
		rx_slot_t *s = &b->slots[idx];
		s->next = RX_SLOT_NONE;
		s->waiting = s->frame.len != 0;
		if(!s->waiting)
			continue;
		uint32_t fi = rx_backlog_flow_of(b, &s->from);
		rx_flow_t *f = &b->flows[fi];
		if(f->last == RX_SLOT_NONE)
			f->first = idx;
		else
			b->slots[f->last].next = idx;
		f->last = idx;
		f->count++;
		f->bytes += s->frame.len;
		b->waiting++;
		b->bytes += s->frame.len;
		if(f->list == RX_LIST_NONE) {
			/* a bucket that was idle: served before the busy ones */
			f->list = RX_LIST_NEW;
			f->deficit = RX_BACKLOG_QUANTUM;
			fifo_push(&b->new_flows, fi);
		}
	}
	b->count += n;
	release_oldest(b);
}

rx_slot_t *rx_backlog_next(rx_backlog_t *b, rx_flow_t **flow) {
	for(;;) {
		rx_flow_fifo_t *list = b->new_flows.count ? &b->new_flows : b->old_flows.count ? &b->old_flows : NULL;
		if(!list)
			return NULL;
		uint32_t fi = list->item[list->head];
		rx_flow_t *f = &b->flows[fi];
		if(f->deficit <= 0) {
			/* used its share of this round: to the back of the old ones */
			f->deficit += RX_BACKLOG_QUANTUM;
			fifo_pop(list);
			fifo_push(&b->old_flows, fi);
			f->list = RX_LIST_OLD;
			continue;
		}
		if(!f->count) {
			fifo_pop(list);
			/* a new bucket that emptied goes round the old ones once more
			 * before it may count as new again, so a flow that keeps just
			 * under a quantum queued cannot starve the others */
			if(list == &b->new_flows && b->old_flows.count) {
				fifo_push(&b->old_flows, fi);
				f->list = RX_LIST_OLD;
			} else {
				f->list = RX_LIST_NONE;
			}
			continue;
		}
		rx_slot_t *s = &b->slots[f->first];
		f->first = s->next;
		if(f->first == RX_SLOT_NONE)
			f->last = RX_SLOT_NONE;
		f->count--;
		f->bytes -= s->frame.len;
		f->deficit -= s->frame.len;
		b->waiting--;
		b->bytes -= s->frame.len;
		*flow = f;
		return s;
	}
}

void rx_backlog_done(rx_backlog_t *b, rx_slot_t *s) {
	s->waiting = false;
	release_oldest(b);
}

rx_slot_t *rx_backlog_at(rx_backlog_t *b, uint32_t i) {
	return &b->slots[(b->head + i) % b->capacity];
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
