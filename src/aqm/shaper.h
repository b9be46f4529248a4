/* Egress pacing: a token bucket that lets packets out at a configured bit
 * rate, so that the queue builds in the daemon's fq_codel rather than in a
 * bloated modem or gateway further on (the sqm-scripts idea). Pure: the
 * caller passes the clock.
 *
 * Each packet is charged its length plus a fixed per-packet overhead (the
 * outer IP and UDP headers, tinc's seqno, padding and MAC the caller knows
 * about) and optionally link-layer framing, since the uplink's rate applies
 * to what is on the wire, not to the inner packet.
 *
 * Use: if(shaper_may_send(&s, now, len)) { send; shaper_account(&s, now, len); }
 * else arm a timer for shaper_next_time(&s, now, len). When the length of
 * the next packet is not known before dequeueing, ask with 0: the bucket
 * then goes at most one packet into debt, which the next wait repays, so the
 * long-run rate is still exact. */
#ifndef FQTINC_SHAPER_H
#define FQTINC_SHAPER_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"

typedef enum shaper_framing {
	SHAPER_FRAMING_NONE,     /* charge IP bytes + overhead */
	SHAPER_FRAMING_ETHERNET, /* + 38: header, FCS, preamble, inter-frame gap */
	SHAPER_FRAMING_ATM,      /* AAL5: whole 48-byte cells, 53 bytes each on the wire */
} shaper_framing_t;

typedef struct shaper {
	uint64_t rate_bps;     /* 0 = unlimited */
	uint32_t burst_bytes;  /* bucket depth */
	uint32_t overhead;     /* bytes charged per packet on top of its length */
	shaper_framing_t framing;
	uint64_t burst_ns;     /* bucket depth as time at rate */
	uint64_t paid_until;   /* when everything charged so far has drained */
	uint64_t rem;          /* sub-nanosecond carry of paid_until, in 1/rate_bps ns */
	uint64_t packets;      /* charged so far */
	uint64_t wire_bytes;   /* charged so far, overhead and framing included */
} shaper_t;

/* burst_bytes 0 picks shaper_default_burst(rate_bps). */
void shaper_init(shaper_t *s, uint64_t rate_bps, uint32_t burst_bytes);
void shaper_set_overhead(shaper_t *s, uint32_t overhead, shaper_framing_t framing);

/* About 1 ms at the rate, at least two full-size packets: enough to ride out
 * timer slack without letting a standing queue build downstream. */
uint32_t shaper_default_burst(uint64_t rate_bps);

/* What a packet of len bytes costs against the rate. */
uint64_t shaper_wire_bytes(const shaper_t *s, size_t len);

bool shaper_may_send(const shaper_t *s, uint64_t now, size_t len);
void shaper_account(shaper_t *s, uint64_t now, size_t len);
/* Earliest time (>= now) at which a packet of len bytes may go. */
uint64_t shaper_next_time(const shaper_t *s, uint64_t now, size_t len);

/* Parses a rate in bits per second: a decimal number with an optional
 * fraction and an optional k, M, G or T multiplier (powers of 1000), which
 * may be followed by "bit", "bit/s" or "bps": "19M", "500k", "1.5G",
 * "100000", "20Mbit". Returns NULL on success, else an error message. */
const char *shaper_parse_rate(const char *text, uint64_t *bps);

#endif
