/* FQ-CoDel (RFC 8290) over the daemon's own packet buffers: packets are
 * hashed by inner flow into per-flow FIFOs, served by deficit round robin
 * with new flows first, each FIFO under its own CoDel (codel.h). A global
 * packet limit and a memory limit shed load from the head of the fattest
 * flow. Pure: no sockets, no clock, no global state; "now" is passed in.
 *
 * FOR THE INTEGRATOR
 *   q = fq_codel_new(&params);            // fq_codel_params_default() first;
 *                                         // set quantum = mtu = MTU (the largest
 *                                         // frame, Ethernet header included), and
 *                                         // hash_salt from a random source
 *   read path:   p = fq_codel_slot(q);    // a buffer to read into (NULL: all
 *                                         // buffers are out with the caller)
 *                read/recvmmsg into p->data, set p->len and p->tstamp_ns
 *                (kernel arrival time if known, else the read time);
 *                fq_codel_enqueue(q, p, now, dest_node)  // or
 *                fq_codel_release(q, p) if the packet goes nowhere
 *   send path:   while((p = fq_codel_dequeue(q, now, &tag))) {
 *                    encapsulate and send p to tag; fq_codel_release(q, p);
 *                }
 *   A buffer is always in exactly one of three places: free, held by the
 *   caller (after fq_codel_slot or fq_codel_dequeue), or queued. Never
 *   release a queued buffer, never enqueue one twice.
 *   The caller may hold up to params.spare_slots buffers at a time (a
 *   recvmmsg/sendmmsg batch) beyond the packet limit; beyond that
 *   fq_codel_slot reclaims buffers from the fattest flow.
 *   Before freeing whatever dest_tag points to (a node going away), call
 *   fq_codel_forget_tag() so no queued packet still refers to it.
 *   Dequeue only when the packet can actually go out (socket writable,
 *   shaper allows): a packet dequeued and then held elsewhere escapes
 *   CoDel's view of the delay.
 *
 * CONFIGURATION (tinc CamelCase; values and defaults as recommended)
 *   FQCoDelTarget      = 5        ms, acceptable standing delay (RFC 8289)
 *   FQCoDelInterval    = 100      ms, ~ worst-case RTT of the paths served
 *   FQCoDelQuantum     = MTU      bytes of credit per DRR round (1518, the
 *                                 largest frame; FQ_CODEL_QUANTUM, 1514, is
 *                                 only the library default)
 *   FQCoDelFlows       = 1024     flow queues (1..65536), fixed at start
 *   FQCoDelLimit       = 10240    packets queued, all flows together
 *   FQCoDelMemoryLimit = 32M      bytes of packet buffers (each costs
 *                                 fq_codel_slot_size(), ~1.7 KB, whatever
 *                                 the packet's length)
 *   FQCoDelECN         = yes      CE-mark ECN-capable packets instead of dropping
 *   L4SThreshold       = 1        ms; ECT(1) packets queued longer are marked CE
 *   Shaper             = <rate>   egress pacing in bits/s ("19M"), see shaper.h
 */
#ifndef FQTINC_FQ_CODEL_H
#define FQTINC_FQ_CODEL_H

#include <stddef.h>
#include <stdint.h>

#include "aqm/codel.h"
#include "util/compat.h"
#include "packet/packet.h"

#define FQ_CODEL_FLOWS 1024
#define FQ_CODEL_FLOWS_MAX 65536
#define FQ_CODEL_LIMIT 10240
#define FQ_CODEL_LIMIT_MAX (1u << 21)
#define FQ_CODEL_MEMORY_LIMIT (32ULL << 20)
#define FQ_CODEL_QUANTUM 1514
#define FQ_CODEL_DROP_BATCH 64
#define FQ_CODEL_SPARE_SLOTS 256
#define FQ_CODEL_L4S_THRESHOLD_NS 1000000ULL /* 1 ms */

typedef struct fq_codel_params {
	uint64_t target_ns;     /* CoDel target */
	uint64_t interval_ns;   /* CoDel interval */
	uint32_t quantum;       /* DRR credit per round, bytes (MTU + link header) */
	uint32_t mtu;           /* CoDel does not drop while the backlog is at most this */
	uint32_t flows;         /* number of flow queues */
	uint32_t limit;         /* queued packets, all flows */
	uint64_t memory_limit;  /* bytes of queued buffers, all flows */
	uint32_t drop_batch;    /* most packets dropped at once from the fattest flow */
	uint32_t spare_slots;   /* buffers the caller may hold on top of the limit */
	uint64_t hash_salt;     /* makes the flow hash unpredictable from outside */
	bool ecn;               /* mark instead of drop when the packet allows it */
	/* L4S (RFC 9331): ECT(1) packets that waited longer than this are marked
	 * CE at dequeue, like Linux fq_codel's ce_threshold with an ECT(1)
	 * selector; CoDel still runs for every packet. 0: off. */
	uint64_t l4s_threshold_ns;
} fq_codel_params_t;

typedef struct fq_codel_stats {
	uint64_t enqueued_packets, enqueued_bytes;
	uint64_t dequeued_packets, dequeued_bytes; /* delivered (marked ones included) */
	uint64_t drop_codel;     /* CoDel head drops */
	uint64_t drop_overlimit; /* fattest-flow drops because of the packet limit */
	uint64_t drop_memory;    /* fattest-flow drops because of the memory limit */
	uint64_t drop_purged;    /* removed by fq_codel_forget_tag */
	uint64_t drop_bytes;     /* bytes of all the drops above */
	uint64_t ce_marks;       /* packets CoDel marked CE instead of dropping */
	uint64_t l4s_marks;      /* ECT(1) packets marked CE at the L4S threshold */
	uint32_t backlog_packets;
	uint64_t backlog_bytes;
	uint64_t sojourn_max_ns; /* of delivered packets, since creation */
	uint64_t sojourn_avg_ns; /* mean over delivered packets, since creation */
	uint64_t sojourn_sum_ns; /* for averages over an interval of the caller's choice */
	uint64_t new_flow_count; /* times an idle flow became active */
	uint32_t new_flows_len, old_flows_len; /* active flows on each list now */
	uint32_t slots_allocated; /* buffers allocated now (fq_codel_trim gives some back) */
	uint32_t slots_held;      /* buffers currently with the caller */
	uint64_t memory_bytes;    /* bytes of buffers allocated */
} fq_codel_stats_t;

typedef struct fq_codel fq_codel_t;

/* What happened to a queued packet, for per-destination accounting. */
typedef enum fq_codel_event {
	FQ_EVENT_DROP_CODEL,     /* CoDel dropped it at the head */
	FQ_EVENT_DROP_OVERLIMIT, /* shed from the fattest flow: packet limit */
	FQ_EVENT_DROP_MEMORY,    /* shed from the fattest flow: memory limit */
	FQ_EVENT_DROP_PURGED,    /* removed by fq_codel_forget_tag */
	FQ_EVENT_CE_MARK,        /* delivered with CE set instead of dropped */
} fq_codel_event_t;

/* Called with the packet's dest_tag for every drop and mark (optional). */
typedef void (*fq_codel_observer_t)(void *dest_tag, fq_codel_event_t ev, uint32_t len);
void fq_codel_set_observer(fq_codel_t *q, fq_codel_observer_t fn);

void fq_codel_params_default(fq_codel_params_t *p);
/* NULL if the parameters make no sense (zero flows, zero limit, ...). */
fq_codel_t *fq_codel_new(const fq_codel_params_t *p);
void fq_codel_free(fq_codel_t *q);

/* A free buffer to fill, NULL when every buffer is queued or held and
 * nothing could be reclaimed. Its metadata (len, tstamp_ns, ...) is zeroed. */
frame_buf_t *fq_codel_slot(fq_codel_t *q);

/* Queues a buffer from fq_codel_slot. A zero tstamp_ns becomes now. Returns
 * how many packets the limits forced out (possibly including this one). */
unsigned fq_codel_enqueue(fq_codel_t *q, frame_buf_t *pkt, uint64_t now, void *dest_tag);

/* The next packet to send and its dest_tag; NULL when nothing is queued. */
frame_buf_t *fq_codel_dequeue(fq_codel_t *q, uint64_t now, void **dest_tag);

/* Gives back a buffer from fq_codel_slot or fq_codel_dequeue. */
void fq_codel_release(fq_codel_t *q, frame_buf_t *pkt);

/* Gives the buffers a burst allocated back to the allocator, keeping about
 * 'keep' of them; does nothing unless the queue is empty and the caller
 * holds no buffer. Returns the bytes freed. */
size_t fq_codel_trim(fq_codel_t *q, uint32_t keep);

/* Drops every queued packet carrying dest_tag; returns how many. */
unsigned fq_codel_forget_tag(fq_codel_t *q, const void *dest_tag);

void fq_codel_get_stats(const fq_codel_t *q, fq_codel_stats_t *st);
uint32_t fq_codel_backlog_packets(const fq_codel_t *q);

/* The flow queue a frame maps to, and that queue's backlog in bytes. */
uint32_t fq_codel_flow_index(const fq_codel_t *q, const uint8_t *frame, size_t len);
uint32_t fq_codel_flow_backlog(const fq_codel_t *q, uint32_t flow);

/* Bytes one queued packet costs against memory_limit. */
size_t fq_codel_slot_size(void);

#endif
