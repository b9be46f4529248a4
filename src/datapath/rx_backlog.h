/* The receive backlog of one UDP socket: datagrams already read from the
 * kernel but not yet opened. The socket is drained as soon as it is readable
 * (reading costs little, decrypting a lot), so the kernel's receive buffer,
 * a FIFO the daemon cannot see into, does not become the standing queue:
 * the queue forms here, where the receive-side AQM looks at each datagram's
 * sojourn (kernel arrival time to now) before any decryption is spent on it.
 *
 * A ring of slots, each a frame buffer and the sender's address; the kernel
 * writes straight into free slots (recvmmsg), so nothing is copied.
 *
 * Served fairly by outer source: every datagram joins the FIFO of a flow
 * bucket chosen by a hash of its sender's address and port, and the buckets
 * are served by deficit round robin with new (sparse) buckets first, as in
 * fq_codel. Before decryption the outer header is all there is to tell flows
 * apart: it separates peers, and the flows of a peer that spreads its flows
 * over many source ports; a peer that sends everything from one port is one
 * FIFO, as before. Slots are thus served out of ring order; the ring frees
 * them from its oldest end once they are served. */
#ifndef FQTINC_RX_BACKLOG_H
#define FQTINC_RX_BACKLOG_H

#include <stdint.h>

#include "util/compat.h"
#include "aqm/ingress.h"
#include "io/gro_split.h"
#include "packet/packet.h"
#include "util/sockaddr.h"

/* Slots per socket: about 14 ms of full-size datagrams at 1 Gbit/s, so the
 * AQM, not the ring, decides what is dropped; 1.7 MB of memory per socket
 * that receives anything (allocated on first use). */
#define RX_BACKLOG_SLOTS 1024
/* Flow buckets per socket: a few peers, or a peer's handful of bulk flows
 * on their own ports, rarely share one. */
#define RX_BACKLOG_FLOWS 256
/* Bytes a bucket may send per round: about one full-size datagram. */
#define RX_BACKLOG_QUANTUM 1600

#define RX_SLOT_NONE UINT32_MAX

typedef struct rx_slot {
	frame_buf_t frame;   /* the datagram as read; len 0 for one that is skipped */
	sockaddr_u from;
	uint32_t next;       /* next slot of the same bucket */
	bool waiting;        /* queued in a bucket or being served: the slot is in use */
} rx_slot_t;

typedef enum rx_flow_list { RX_LIST_NONE, RX_LIST_NEW, RX_LIST_OLD } rx_flow_list_t;

typedef struct rx_flow {
	uint32_t first, last;  /* slots, RX_SLOT_NONE when empty */
	uint32_t count;
	uint64_t bytes;
	int32_t deficit;
	rx_flow_list_t list;
	ingress_queue_t aqm;   /* the receive-side AQM of this bucket */
} rx_flow_t;

/* A FIFO of bucket numbers (the new or the old list). */
typedef struct rx_flow_fifo {
	uint16_t item[RX_BACKLOG_FLOWS];
	uint32_t head, count;
} rx_flow_fifo_t;

typedef struct rx_backlog {
	rx_slot_t *slots;    /* NULL until first use */
	uint32_t capacity;
	uint32_t head;       /* oldest occupied slot */
	uint32_t count;      /* occupied slots from head on, served or not */
	uint32_t waiting;    /* of those, queued in a bucket */
	uint64_t bytes;      /* sum of the queued datagrams' lengths */
	rx_flow_t *flows;    /* RX_BACKLOG_FLOWS of them, with the ring */
	rx_flow_fifo_t new_flows, old_flows;
	uint32_t seed;       /* of the bucket hash, so a sender cannot aim at a bucket */
} rx_backlog_t;

/* Allocate the ring (once; true if it is there). */
bool rx_backlog_ready(rx_backlog_t *b, uint32_t capacity, uint32_t seed);
void rx_backlog_free(rx_backlog_t *b);

/* Free slots contiguous after the tail, at most 'most': where the next read
 * may write. *n gets how many (0: full). */
rx_slot_t *rx_backlog_tail(rx_backlog_t *b, uint32_t most, uint32_t *n);
/* The first n slots returned by rx_backlog_tail hold datagrams now: each
 * joins its sender's bucket (an empty one is skipped at once). */
void rx_backlog_commit(rx_backlog_t *b, uint32_t n);

/* The bucket a sender's datagrams join. */
uint32_t rx_backlog_flow_of(const rx_backlog_t *b, const sockaddr_u *from);

/* The next datagram to serve, by deficit round robin over the buckets, new
 * ones first; NULL when nothing waits. *flow gets its bucket, whose count
 * and bytes no longer include it. The slot stays occupied until
 * rx_backlog_done. */
rx_slot_t *rx_backlog_next(rx_backlog_t *b, rx_flow_t **flow);
/* The datagram of slot s was dealt with: its slot may be reused. */
void rx_backlog_done(rx_backlog_t *b, rx_slot_t *s);

/* UDP GRO: n reads were just made into the n free slots after the tail,
 * read i's first PACKET_BUF_MAX bytes into its slot and the rest into
 * overflow[i], each cut into datagrams as split[i] says (its count may have
 * been lowered to what fits: the datagrams past it are dropped). Spreads
 * them into one slot per datagram, in order, each with its read's sender,
 * outer TOS and TTL and kernel timestamp (read i's slot holds those), and
 * returns how many slots now hold datagrams: commit that many. The counts
 * must fit into the free slots. */
uint32_t rx_backlog_spread(rx_backlog_t *b, uint32_t n, const gro_split_t *split, uint8_t *const *overflow);

/* The i-th slot from the oldest in use, in use or free (i < capacity). */
rx_slot_t *rx_backlog_at(rx_backlog_t *b, uint32_t i);

/* The slot a frame buffer of the ring belongs to. */
static inline rx_slot_t *rx_slot_of(frame_buf_t *frame) {
	return (rx_slot_t *)(void *)((char *)frame - offsetof(rx_slot_t, frame));
}

#endif
