/* How much of the local uplink's queue the kernel may hold for us.
 *
 * The UDP socket's send buffer bounds the bytes of our datagrams that wait
 * below us, in the outer interface's qdisc and driver: a FIFO shared by every
 * flow, in front of which our FQ-CoDel sits. On a slow uplink a fixed buffer
 * is many milliseconds of that FIFO (24 kB of socket memory is about 6 ms at
 * 20 Mbit/s); on a fast one a small buffer would starve the link. So, like
 * the kernel's byte queue limits, the buffer follows the rate at which the
 * kernel drains it: enough for SNDBUF_DRAIN_NS of transmission, never fewer
 * than two full datagrams, never more than the configured size.
 *
 * The rate is learnt from the socket's own pushback: once a send fails for a
 * full buffer, the kernel reports the socket writable when half of it has
 * drained, so half the buffer divided by the time between the two is a
 * sample of the drain rate. A socket that never blocks keeps its size.
 * Pure arithmetic, no I/O: the caller reads the clock and sets the buffer. */
#ifndef FQTINC_SNDBUF_SIZING_H
#define FQTINC_SNDBUF_SIZING_H

#include "util/compat.h"

/* Drain time the buffer is sized for: short against the latency targets,
 * long against the daemon's own wake-up delay (it is woken at half). */
#define SNDBUF_DRAIN_NS (3 * 1000000ULL)
/* Socket memory of one full datagram (the kernel charges about 2.3 kB for
 * a 1.5 kB one): the floor is two of them. */
#define SNDBUF_DATAGRAM_COST 2304
/* A new size is applied only when it differs from the current one by more
 * than a quarter, so the socket option is not set on every sample. */

typedef struct sndbuf_sizing {
	uint32_t max;          /* configured size (as the kernel reports it) */
	uint32_t current;      /* size in force */
	uint64_t rate;         /* smoothed drain rate, bytes per second; 0 = none yet */
} sndbuf_sizing_t;

void sndbuf_sizing_init(sndbuf_sizing_t *s, uint32_t configured);
/* The socket blocked with a full buffer and became writable elapsed_ns later:
 * returns the size the buffer should now have (equal to current when it
 * should stay). */
uint32_t sndbuf_sizing_sample(sndbuf_sizing_t *s, uint64_t elapsed_ns);
/* The size really in force after setting it (the kernel may round). */
void sndbuf_sizing_applied(sndbuf_sizing_t *s, uint32_t size);

/* Drain time one UDP GSO message may take at most. The qdiscs below us see
 * a GSO message as one packet until the device cuts it: on a slow uplink a
 * 64 kB message is 26 ms at 20 Mbit/s that a flow-queueing qdisc or gateway
 * cannot interleave with anything else. */
#define SNDBUF_BURST_NS (1 * 1000000ULL)
/* The most payload bytes to hand the uplink as one GSO message: about
 * SNDBUF_BURST_NS of its drain rate, at least one datagram (no GSO), and
 * limit while the rate is unknown (an uplink that never pushed back). */
uint32_t sndbuf_sizing_burst_bytes(const sndbuf_sizing_t *s, uint32_t limit);

#endif
