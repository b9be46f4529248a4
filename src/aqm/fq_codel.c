#include "util/compat.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "aqm/fq_codel.h"
#include "packet/flow_key.h"
#include "packet/ecn.h"
#include "util/xalloc.h"

/* Buffers are allocated this many at a time, and only when needed, so an
 * idle daemon holds a few chunks instead of limit * 1.7 KB. */
#define SLOTS_PER_CHUNK 32

enum slot_state { SLOT_FREE = 0x5a, SLOT_HELD, SLOT_QUEUED };

/* A packet buffer with the links the queue needs kept outside frame_buf_t. */
typedef struct fq_slot {
	struct fq_slot *next;
	void *tag;
	uint8_t state; /* enum slot_state: catches a release of a queued buffer */
	frame_buf_t pkt;
} fq_slot_t;

enum flow_list { LIST_NONE, LIST_NEW, LIST_OLD };

typedef struct fq_flow {
	fq_slot_t *head, *tail;
	struct fq_flow *link; /* next flow on the same (new or old) list */
	int32_t deficit;
	uint8_t on;           /* enum flow_list */
	codel_vars_t cvars;
} fq_flow_t;

typedef struct flow_list_head {
	fq_flow_t *head, *tail;
} flow_list_t;

struct fq_codel {
	fq_codel_params_t p;
	fq_codel_observer_t observe;
	codel_params_t cp;
	fq_flow_t *flows;
	uint32_t *backlogs;   /* bytes per flow, apart so the fattest-flow scan is dense */
	flow_list_t new_flows, old_flows;

	fq_slot_t *free_slots;
	fq_slot_t **chunks;
	uint32_t nchunks;
	uint32_t slots_total; /* allocated */
	uint32_t slots_cap;   /* most that may ever be allocated */
	uint32_t slots_held;
	uint32_t qlen_max;    /* the packet limit with the memory limit folded in */
	bool memory_bound;    /* qlen_max comes from memory_limit, not limit */

	uint32_t qlen;
	uint64_t backlog;     /* bytes queued, all flows */

	codel_stats_t cstats;
	fq_codel_stats_t st;  /* the counters kept incrementally */
};

static inline fq_slot_t *slot_of(frame_buf_t *pkt) {
	return (fq_slot_t *)((char *)pkt - offsetof(fq_slot_t, pkt));
}

size_t fq_codel_slot_size(void) {
	return sizeof(fq_slot_t);
}

void fq_codel_params_default(fq_codel_params_t *p) {
	memset(p, 0, sizeof(*p));
	p->target_ns = CODEL_TARGET_NS;
	p->interval_ns = CODEL_INTERVAL_NS;
	p->quantum = FQ_CODEL_QUANTUM;
	p->mtu = FQ_CODEL_QUANTUM;
	p->flows = FQ_CODEL_FLOWS;
	p->limit = FQ_CODEL_LIMIT;
	p->memory_limit = FQ_CODEL_MEMORY_LIMIT;
	p->drop_batch = FQ_CODEL_DROP_BATCH;
	p->spare_slots = FQ_CODEL_SPARE_SLOTS;
	p->ecn = true;
	p->l4s_threshold_ns = FQ_CODEL_L4S_THRESHOLD_NS;
}

/* L4S senders (RFC 9331) want a mark as soon as a queue forms, not after
 * CoDel's interval: an ECT(1) packet that waited past the threshold leaves
 * with CE, unless CoDel marked it already. */
static bool l4s_mark(const fq_codel_params_t *p, frame_buf_t *pkt, uint64_t sojourn) {
	uint8_t tos;
	if(!p->l4s_threshold_ns || sojourn <= p->l4s_threshold_ns)
		return false;
	if(!ecn_frame_tos(pkt->data, pkt->len, &tos) || (tos & ECN_MASK) != ECN_ECT1)
		return false;
	return ecn_mark_ce(pkt->data, pkt->len);
}

static inline uint32_t flow_of(const fq_codel_t *q, const uint8_t *frame, size_t len) {
	/* Multiply-high maps the key onto [0, flows) without a division. */
	uint64_t k = flow_key(frame, len, q->p.hash_salt);
	return (uint32_t)((k * q->p.flows) >> 32);
}

uint32_t fq_codel_flow_index(const fq_codel_t *q, const uint8_t *frame, size_t len) {
	return flow_of(q, frame, len);
}

uint32_t fq_codel_flow_backlog(const fq_codel_t *q, uint32_t flow) {
	return flow < q->p.flows ? q->backlogs[flow] : 0;
}

/* ---- lists ---- */

static void list_append(flow_list_t *l, fq_flow_t *f) {
	f->link = NULL;
	if(l->tail)
		l->tail->link = f;
	else
		l->head = f;
	l->tail = f;
}

static fq_flow_t *list_pop(flow_list_t *l) {
	fq_flow_t *f = l->head;
	l->head = f->link;
	if(!l->head)
		l->tail = NULL;
	f->link = NULL;
	return f;
}

/* ---- buffers ---- */

/* Slots in chunk i: chunks are allocated in order, all full-sized but
 * perhaps the last one the cap allows. */
static uint32_t chunk_slots(const fq_codel_t *q, uint32_t i) {
	return MIN((uint32_t)SLOTS_PER_CHUNK, q->slots_cap - i * SLOTS_PER_CHUNK);
}

/* Puts every slot of chunk i on the free list. */
static void chunk_release_all(fq_codel_t *q, uint32_t i) {
	fq_slot_t *c = q->chunks[i];
	uint32_t n = chunk_slots(q, i);
	for(uint32_t j = 0; j < n; j++) {
		c[j].state = SLOT_FREE;
		c[j].tag = NULL;
		c[j].next = j + 1 < n ? &c[j + 1] : q->free_slots;
	}
	q->free_slots = c;
	q->slots_total += n;
}

static bool grow(fq_codel_t *q) {
	if(q->slots_total >= q->slots_cap)
		return false;
	q->chunks[q->nchunks] = xmalloc(chunk_slots(q, q->nchunks) * sizeof(fq_slot_t));
	chunk_release_all(q, q->nchunks++);
	return true;
}

void fq_codel_set_observer(fq_codel_t *q, fq_codel_observer_t fn) {
	q->observe = fn;
}

static void observe(const fq_codel_t *q, const fq_slot_t *s, fq_codel_event_t ev) {
	if(q->observe)
		q->observe(s->tag, ev, s->pkt.len);
}

static void put_free(fq_codel_t *q, fq_slot_t *s) {
	s->state = SLOT_FREE;
	s->tag = NULL;
	s->next = q->free_slots;
	q->free_slots = s;
}

fq_codel_t *fq_codel_new(const fq_codel_params_t *p) {
	/* The limit bound keeps per-flow byte counts within 32 bits. */
	if(!p->flows || p->flows > FQ_CODEL_FLOWS_MAX || !p->limit || p->limit > FQ_CODEL_LIMIT_MAX ||
	   p->spare_slots > FQ_CODEL_LIMIT_MAX || !p->quantum || !p->interval_ns ||
	   p->memory_limit < sizeof(fq_slot_t))
		return NULL;

	fq_codel_t *q = xzalloc(sizeof(*q));
	q->p = *p;
	if(!q->p.drop_batch)
		q->p.drop_batch = 1;
	q->cp.target_ns = p->target_ns;
	q->cp.interval_ns = p->interval_ns;
	q->cp.mtu = p->mtu;
	q->cp.ecn = p->ecn;

	q->flows = xzalloc(p->flows * sizeof(*q->flows));
	q->backlogs = xzalloc(p->flows * sizeof(*q->backlogs));
	for(uint32_t i = 0; i < p->flows; i++)
		codel_vars_init(&q->flows[i].cvars);

	/* Every queued packet occupies one whole buffer, so the memory limit is
	 * a packet count too; the smaller of the two is the one that bites. */
	uint64_t by_memory = p->memory_limit / sizeof(fq_slot_t);
	q->qlen_max = p->limit;
	if(by_memory < p->limit) {
		q->qlen_max = (uint32_t)by_memory;
		q->memory_bound = true;
	}
	uint64_t cap = (uint64_t)q->qlen_max + p->spare_slots;
	q->slots_cap = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	q->chunks = xzalloc(((q->slots_cap + SLOTS_PER_CHUNK - 1) / SLOTS_PER_CHUNK) * sizeof(*q->chunks));
	return q;
}

size_t fq_codel_trim(fq_codel_t *q, uint32_t keep) {
	/* Only when every buffer is free: then no pointer into a chunk exists
	 * outside the free list, which is rebuilt from the chunks kept. */
	if(q->qlen || q->slots_held)
		return 0;
	uint32_t keep_chunks = (keep + SLOTS_PER_CHUNK - 1) / SLOTS_PER_CHUNK;
	if(q->nchunks <= keep_chunks)
		return 0;
	size_t freed = 0;
	for(uint32_t i = keep_chunks; i < q->nchunks; i++) {
		freed += chunk_slots(q, i) * sizeof(fq_slot_t);
		free(q->chunks[i]);
		q->chunks[i] = NULL;
	}
	q->nchunks = keep_chunks;
	q->free_slots = NULL;
	q->slots_total = 0;
	for(uint32_t i = 0; i < q->nchunks; i++)
		chunk_release_all(q, i);
	return freed;
}

void fq_codel_free(fq_codel_t *q) {
	if(!q)
		return;
	for(uint32_t i = 0; i < q->nchunks; i++)
		free(q->chunks[i]);
	free(q->chunks);
	free(q->flows);
	free(q->backlogs);
	free(q);
}

/* ---- queueing ---- */

static fq_slot_t *flow_pop(fq_codel_t *q, fq_flow_t *f) {
	fq_slot_t *s = f->head;
	if(!s)
		return NULL;
	f->head = s->next;
	if(!f->head)
		f->tail = NULL;
	s->next = NULL;
	uint32_t idx = (uint32_t)(f - q->flows);
	q->backlogs[idx] -= s->pkt.len;
	q->backlog -= s->pkt.len;
	q->qlen--;
	return s;
}

/* Sheds load from the head of the flow with the most bytes queued: half its
 * bytes or drop_batch packets, whichever comes first, so the linear scan is
 * paid once per batch rather than once per packet. */
static unsigned drop_fattest(fq_codel_t *q, bool memory) {
	uint32_t fat = 0, max = 0;
	for(uint32_t i = 0; i < q->p.flows; i++) {
		if(q->backlogs[i] > max) {
			max = q->backlogs[i];
			fat = i;
		}
	}
	if(!max)
		return 0;

	fq_flow_t *f = &q->flows[fat];
	uint32_t goal = max / 2, bytes = 0;
	unsigned n = 0;
	do {
		fq_slot_t *s = flow_pop(q, f);
		if(!s)
			break;
		bytes += s->pkt.len;
		n++;
		observe(q, s, memory ? FQ_EVENT_DROP_MEMORY : FQ_EVENT_DROP_OVERLIMIT);
		put_free(q, s);
	} while(n < q->p.drop_batch && bytes < goal);

	/* The flow also gets a stronger CoDel signal from now on. */
	codel_set_count(&f->cvars, f->cvars.count + n);
	q->st.drop_bytes += bytes;
	if(memory)
		q->st.drop_memory += n;
	else
		q->st.drop_overlimit += n;
	return n;
}

frame_buf_t *fq_codel_slot(fq_codel_t *q) {
	if(!q->free_slots && !grow(q)) {
		/* The caller holds more than spare_slots: make room by shedding. */
		if(!drop_fattest(q, q->memory_bound))
			return NULL;
	}
	fq_slot_t *s = q->free_slots;
	q->free_slots = s->next;
	s->next = NULL;
	s->tag = NULL;
	s->state = SLOT_HELD;
	q->slots_held++;
	frame_buf_t *pkt = &s->pkt;
	pkt->len = 0;
	pkt->outer_tos = 0;
	pkt->outer_ttl = 0;
	pkt->tcp = false;
	pkt->tstamp_ns = 0;
	return pkt;
}

void fq_codel_release(fq_codel_t *q, frame_buf_t *pkt) {
	fq_slot_t *s = slot_of(pkt);
	assert(s->state == SLOT_HELD);
	q->slots_held--;
	put_free(q, s);
}

unsigned fq_codel_enqueue(fq_codel_t *q, frame_buf_t *pkt, uint64_t now, void *dest_tag) {
	fq_slot_t *s = slot_of(pkt);
	assert(s->state == SLOT_HELD);
	q->slots_held--;
	s->state = SLOT_QUEUED;
	s->tag = dest_tag;
	s->next = NULL;
	if(!pkt->tstamp_ns)
		pkt->tstamp_ns = now;

	uint32_t idx = flow_of(q, pkt->data, pkt->len);
	fq_flow_t *f = &q->flows[idx];
	if(f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	q->backlogs[idx] += pkt->len;
	q->backlog += pkt->len;
	q->qlen++;
	q->st.enqueued_packets++;
	q->st.enqueued_bytes += pkt->len;

	if(f->on == LIST_NONE) {
		f->on = LIST_NEW;
		f->deficit = (int32_t)q->p.quantum;
		list_append(&q->new_flows, f);
		q->st.new_flow_count++;
	}

	if(q->qlen <= q->qlen_max)
		return 0;
	return drop_fattest(q, q->memory_bound);
}

/* The per-flow FIFO as codel_dequeue sees it. */
typedef struct codel_ctx {
	fq_codel_t *q;
	fq_flow_t *f;
} codel_ctx_t;

static frame_buf_t *ctx_pop(void *arg) {
	codel_ctx_t *c = arg;
	fq_slot_t *s = flow_pop(c->q, c->f);
	return s ? &s->pkt : NULL;
}

static void ctx_drop(void *arg, frame_buf_t *pkt) {
	codel_ctx_t *c = arg;
	c->q->st.drop_bytes += pkt->len;
	observe(c->q, slot_of(pkt), FQ_EVENT_DROP_CODEL);
	put_free(c->q, slot_of(pkt));
}

frame_buf_t *fq_codel_dequeue(fq_codel_t *q, uint64_t now, void **dest_tag) {
	for(;;) {
		flow_list_t *l = q->new_flows.head ? &q->new_flows : &q->old_flows;
		fq_flow_t *f = l->head;
		if(!f)
			return NULL;

		if(f->deficit <= 0) {
			/* Out of credit: top up and wait a round behind the others. */
			f->deficit += (int32_t)q->p.quantum;
			list_pop(l);
			f->on = LIST_OLD;
			list_append(&q->old_flows, f);
			continue;
		}

		codel_ctx_t ctx = {q, f};
		codel_queue_t cq = {ctx_pop, ctx_drop, &ctx, &q->backlog};
		uint64_t marks = q->cstats.marks;
		frame_buf_t *pkt = codel_dequeue(&q->cp, &f->cvars, &q->cstats, &cq, now);
		if(!pkt) {
			/* An emptied new flow goes behind the old ones once before it
			 * is forgotten, so a flow cannot stay "new" by emptying its
			 * queue every round (RFC 8290 §4.2). */
			list_pop(l);
			if(l == &q->new_flows && q->old_flows.head) {
				f->on = LIST_OLD;
				list_append(&q->old_flows, f);
			} else {
				f->on = LIST_NONE;
			}
			continue;
		}

		f->deficit -= pkt->len;
		fq_slot_t *s = slot_of(pkt);
		s->state = SLOT_HELD;
		q->slots_held++;
		if(dest_tag)
			*dest_tag = s->tag;
		uint64_t sojourn = codel_sojourn(pkt, now);
		if(q->cstats.marks != marks) {
			observe(q, s, FQ_EVENT_CE_MARK);
		} else if(l4s_mark(&q->p, pkt, sojourn)) {
			q->st.l4s_marks++;
			observe(q, s, FQ_EVENT_CE_MARK);
		}

		q->st.dequeued_packets++;
		q->st.dequeued_bytes += pkt->len;
		q->st.sojourn_sum_ns += sojourn;
		if(sojourn > q->st.sojourn_max_ns)
			q->st.sojourn_max_ns = sojourn;
		return pkt;
	}
}

unsigned fq_codel_forget_tag(fq_codel_t *q, const void *dest_tag) {
	unsigned n = 0;
	for(uint32_t i = 0; i < q->p.flows; i++) {
		fq_flow_t *f = &q->flows[i];
		fq_slot_t **pp = &f->head, *last = NULL;
		while(*pp) {
			fq_slot_t *s = *pp;
			if(s->tag != dest_tag) {
				last = s;
				pp = &s->next;
				continue;
			}
			*pp = s->next;
			q->backlogs[i] -= s->pkt.len;
			q->backlog -= s->pkt.len;
			q->qlen--;
			q->st.drop_purged++;
			q->st.drop_bytes += s->pkt.len;
			observe(q, s, FQ_EVENT_DROP_PURGED);
			put_free(q, s);
			n++;
		}
		f->tail = last;
	}
	return n;
}

static uint32_t list_len(const flow_list_t *l) {
	uint32_t n = 0;
	for(const fq_flow_t *f = l->head; f; f = f->link)
		n++;
	return n;
}

void fq_codel_get_stats(const fq_codel_t *q, fq_codel_stats_t *st) {
	*st = q->st;
	st->drop_codel = q->cstats.drops;
	st->ce_marks = q->cstats.marks;
	st->backlog_packets = q->qlen;
	st->backlog_bytes = q->backlog;
	st->sojourn_avg_ns = st->dequeued_packets ? st->sojourn_sum_ns / st->dequeued_packets : 0;
	st->new_flows_len = list_len(&q->new_flows);
	st->old_flows_len = list_len(&q->old_flows);
	st->slots_allocated = q->slots_total;
	st->slots_held = q->slots_held;
	st->memory_bytes = (uint64_t)q->slots_total * sizeof(fq_slot_t);
}

uint32_t fq_codel_backlog_packets(const fq_codel_t *q) {
	return q->qlen;
}
