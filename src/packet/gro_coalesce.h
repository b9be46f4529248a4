/* Joining consecutive TCP segments of one flow, as decapsulation hands them
 * to the device in one loop turn, into one super-packet for a tun/tap device
 * with segmentation offload: one write and one trip through the host's stack
 * instead of one per segment. The reverse of packet/gso_segment.
 *
 * Pure: the caller offers frames one at a time and writes what comes out.
 * Only segments the kernel could cut back into exactly the same packets are
 * joined: same addresses, ports, TOS/traffic class (ECN bits included), TTL,
 * acknowledgement, window and TCP options; consecutive sequence numbers (and
 * IPv4 IDs); equal sizes but for a shorter last one; ACK (and PSH on the
 * last) as the only flags; valid checksums. */
#ifndef FQTINC_GRO_COALESCE_H
#define FQTINC_GRO_COALESCE_H

#include <stddef.h>
#include <stdint.h>

#include "packet/gso_segment.h"
#include "util/compat.h"

/* Largest super-packet: IPv4's total length limit, plus an Ethernet header. */
#define GRO_MAX_LEN (65535 + 18)
#define GRO_MAX_SEGMENTS 64

typedef struct gro_batch {
	uint8_t buf[GRO_MAX_LEN];
	size_t len;       /* bytes in buf; 0: empty */
	size_t l3, l4, hdr;
	size_t mss;       /* payload of the first segment */
	unsigned count;   /* segments joined */
	bool v6;
	bool closed;      /* the last segment was short or had PSH: nothing may follow */
	uint32_t next_seq;
	uint16_t next_id; /* IPv4 */
} gro_batch_t;

/* Offers a frame (len bytes, IP header at l3: 0 for tun, past the Ethernet
 * header for tap). True: it is now part of b (the first of a new batch if b
 * was empty). False: it cannot join; the caller writes b out (gro_finish),
 * then offers the frame again to an empty batch, or writes it as it is if it
 * is refused by an empty batch too. */
bool gro_offer(gro_batch_t *b, const uint8_t *frame, size_t len, size_t l3);

/* Completes b for writing: lengths and IPv4 header checksum of the joined
 * packet, and the vnet header to go with it (GSO and a partial checksum for
 * more than one segment; none for one, whose checksum is left as it came).
 * Returns the length in b->buf; b is empty again after gro_reset. */
size_t gro_finish(gro_batch_t *b, vnet_hdr_t *h);
void gro_reset(gro_batch_t *b);

/* Would an empty batch take this frame (a TCP segment gro_offer accepts)? */
bool gro_joinable(const uint8_t *frame, size_t len, size_t l3);

/* For a frame that b holds or that did not join it: is it of b's TCP
 * connection (same addresses and ports)? UNKNOWN: TCP whose ports cannot be
 * read (an IPv4 fragment, IPv6 extension headers), which may be. */
typedef enum gro_conn { GRO_CONN_OTHER, GRO_CONN_SAME, GRO_CONN_UNKNOWN } gro_conn_t;
gro_conn_t gro_connection_of(const gro_batch_t *b, const uint8_t *frame, size_t len, size_t l3);

#endif
