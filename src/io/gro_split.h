/* Cutting a UDP GRO read (UDP_GRO: the kernel hands several datagrams of one
 * sender as one payload, with the segment size in a control message) back
 * into its datagrams: all of the segment size but the last, which may be
 * shorter. Pure arithmetic; the read may sit in two pieces (a receive slot
 * and the overflow area behind it). */
#ifndef FQTINC_GRO_SPLIT_H
#define FQTINC_GRO_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "util/compat.h"

typedef struct gro_split {
	uint32_t count;   /* datagrams */
	uint32_t segment; /* size of all but the last */
	uint32_t last;    /* size of the last */
} gro_split_t;

/* A read of total bytes with segment size gso_size (0: no control message,
 * one datagram). False if the read cannot be datagrams no longer than
 * max_datagram: a negative or too large segment size, or a single datagram
 * too long. */
bool gro_split(size_t total, int gso_size, size_t max_datagram, gro_split_t *out);

/* Offset and length of datagram k (k < count). */
static inline size_t gro_split_offset(const gro_split_t *s, uint32_t k) {
	return (size_t)k * s->segment;
}
static inline size_t gro_split_len(const gro_split_t *s, uint32_t k) {
	return k + 1 < s->count ? s->segment : s->last;
}

/* Copy len bytes at offset off of the read made of head (head_len bytes)
 * followed by tail into dst. dst must not overlap the source bytes. */
void gro_split_copy(uint8_t *dst, const uint8_t *head, size_t head_len, const uint8_t *tail,
                    size_t off, size_t len);

#endif
