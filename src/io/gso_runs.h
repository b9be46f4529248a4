/* Which queued datagrams of one socket batch may leave together as one UDP
 * GSO message (UDP_SEGMENT): the kernel cuts such a message into segments
 * of one size, the last one possibly shorter, all with the same destination
 * and the same outer TOS (one control message for the whole message).
 *
 * Pure planning, no I/O. A batch is filled in the order FQ-CoDel releases
 * datagrams, which interleaves flows and destinations; a run may gather a
 * destination's datagrams across others' datagrams in between, but never
 * past one of the same destination that cannot join, so each destination's
 * datagrams leave in the order they were queued. Different destinations may
 * swap places: they are different peers, and nothing orders them. */
#ifndef FQTINC_GSO_RUNS_H
#define FQTINC_GSO_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"

/* The kernel takes at most 64 segments per GSO message (older kernels). */
#define GSO_RUNS_MAX_SEGMENTS 64
/* Payload bytes of one message: a UDP datagram's length field is 16 bits,
 * and the IP header comes on top; kept clear of both. */
#define GSO_RUNS_MAX_BYTES 65000
/* Datagrams one plan covers at most (a socket batch). */
#define GSO_RUNS_MAX_DATAGRAMS 256

typedef struct gso_datagram {
	uint32_t dest;   /* equal for datagrams to the same address */
	uint16_t len;
	uint8_t tos;
	bool alone;      /* must leave as a message of its own */
} gso_datagram_t;

typedef struct gso_run {
	uint16_t first;  /* index into the plan's order */
	uint16_t count;  /* datagrams in the message */
	uint16_t segment; /* their size (the last may be shorter) */
} gso_run_t;

/* Plan messages for n datagrams (n <= GSO_RUNS_MAX_DATAGRAMS). order gets the
 * datagrams' indices in sending order, runs the messages over it; returns
 * how many messages. max_segments 1 (GSO off): one message per datagram, in
 * queue order. */
size_t gso_runs_plan(const gso_datagram_t *d, size_t n, size_t max_segments, size_t max_bytes,
                     uint16_t *order, gso_run_t *runs);

#endif
