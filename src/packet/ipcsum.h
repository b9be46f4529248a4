/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Every 16-bit value here is the big-endian reading of two packet bytes
 * (first byte in the high half), which is also how the result is stored back
 * with be16_put(). Partial sums are kept unfolded-then-folded in a uint32_t so
 * pieces (pseudo-header, header, payload) can be chained before finishing. */
#ifndef FQTINC_IPCSUM_H
#define FQTINC_IPCSUM_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t be16_get(const uint8_t *p) {
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void be16_put(uint8_t *p, uint16_t v) {
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t be32_get(const uint8_t *p) {
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void be32_put(uint8_t *p, uint32_t v) {
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Adds len bytes of buf to the running one's-complement sum and returns it
 * folded to 16 bits (not complemented). An odd final byte counts as the high
 * half of a word, so only the last piece of a chain may have an odd length. */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum);

/* Folds a running sum and complements it: the value to store in a header. */
uint16_t csum_finish(uint32_t sum);

/* csum_finish(csum_partial(buf, len, initial)). Over data that already holds
 * its correct checksum (plus the pseudo-header sum as initial) this is 0. */
uint16_t inet_checksum(const void *buf, size_t len, uint32_t initial);

/* Sum of the TCP/UDP/ICMPv6 pseudo-header for IPv4 (RFC 793/768) ... */
uint32_t pseudo_sum4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint16_t l4len);
/* ... and for IPv6 (RFC 8200 §8.1). */
uint32_t pseudo_sum6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header, uint32_t l4len);

/* Checksum of an IPv4 header of hlen bytes, computed as if its checksum
 * field (bytes 10-11) were zero, so it can be called on a filled-in header. */
uint16_t ipv4_header_checksum(const uint8_t *iph, size_t hlen);

/* Computes and stores the checksum of the IPv4 header at iph (length from
 * its IHL field; the caller guarantees that many bytes are present). */
void ipv4_set_header_checksum(uint8_t *iph);

/* RFC 1624 eqn. 3: a 16-bit word covered by *sum changes from old_word to
 * new_word; adjust *sum without rereading the data. One's-complement
 * arithmetic does not care about byte order, so it works in whichever order
 * sum and the words are given, as long as all three use the same one. */
void csum_replace2(uint16_t *sum, uint16_t old_word, uint16_t new_word);

/* The same, for a checksum field stored big-endian in a packet. */
void csum_replace2_field(uint8_t *field, uint16_t old_word, uint16_t new_word);

#endif
