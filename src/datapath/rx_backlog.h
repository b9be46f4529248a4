/* The receive backlog of one UDP socket: datagrams already read from the
 * kernel but not yet opened. The socket is drained as soon as it is readable
 * (reading costs little, decrypting a lot), so the kernel's receive buffer,
 * a FIFO the daemon cannot see into, does not become the standing queue:
 * the queue forms here, where the receive-side AQM looks at each datagram's
 * sojourn (kernel arrival time to now) at the head and drops or marks it
 * before any decryption is spent on it.
 *
 * A ring of slots, each a frame buffer and the sender's address; the kernel
 * writes straight into free slots (recvmmsg), so nothing is copied. */
#ifndef FQTINC_RX_BACKLOG_H
#define FQTINC_RX_BACKLOG_H

#include <stdint.h>

#include "util/compat.h"
#include "io/gro_split.h"
#include "packet/packet.h"
#include "util/sockaddr.h"

/* Slots per socket: about 14 ms of full-size datagrams at 1 Gbit/s, so the
 * AQM, not the ring, decides what is dropped; 1.7 MB of memory per socket
 * that receives anything (allocated on first use). */
#define RX_BACKLOG_SLOTS 1024

typedef struct rx_slot {
	frame_buf_t frame;   /* the datagram as read; len 0 for one that is skipped */
	sockaddr_u from;
} rx_slot_t;

typedef struct rx_backlog {
	rx_slot_t *slots;    /* NULL until first use */
	uint32_t capacity;
	uint32_t head;       /* oldest */
	uint32_t count;
	uint64_t bytes;      /* sum of the queued datagrams' lengths */
} rx_backlog_t;

/* Allocate the ring (once; true if it is there). */
bool rx_backlog_ready(rx_backlog_t *b, uint32_t capacity);
void rx_backlog_free(rx_backlog_t *b);

/* Free slots contiguous after the tail, at most 'most': where the next read
 * may write. *n gets how many (0: full). */
rx_slot_t *rx_backlog_tail(rx_backlog_t *b, uint32_t most, uint32_t *n);
/* The first n slots returned by rx_backlog_tail hold datagrams now. */
void rx_backlog_commit(rx_backlog_t *b, uint32_t n);

/* UDP GRO: n reads were just made into the n free slots after the tail,
 * read i's first PACKET_BUF_MAX bytes into its slot and the rest into
 * overflow[i], each cut into datagrams as split[i] says (its count may have
 * been lowered to what fits: the datagrams past it are dropped). Spreads
 * them into one slot per datagram, in order, each with its read's sender,
 * outer TOS and TTL and kernel timestamp (read i's slot holds those), and
 * returns how many slots now hold datagrams: commit that many. The counts
 * must fit into the free slots. */
uint32_t rx_backlog_spread(rx_backlog_t *b, uint32_t n, const gro_split_t *split, uint8_t *const *overflow);

/* The i-th oldest slot (i < count). */
rx_slot_t *rx_backlog_at(rx_backlog_t *b, uint32_t i);
/* Forget the n oldest slots. */
void rx_backlog_pop(rx_backlog_t *b, uint32_t n);

/* The slot a frame buffer of the ring belongs to. */
static inline rx_slot_t *rx_slot_of(frame_buf_t *frame) {
	return (rx_slot_t *)(void *)((char *)frame - offsetof(rx_slot_t, frame));
}

#endif
