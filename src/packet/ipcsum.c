#include "util/compat.h"

#include <string.h>

#include "packet/ipcsum.h"

static uint32_t fold(uint64_t sum) {
	while(sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

/* The sum is taken over 32-bit words in the host's byte order, which is
 * several times faster than byte pairs: a one's-complement sum of
 * byte-swapped words is the byte-swapped sum (RFC 1071, 2(B)), so a
 * little-endian host swaps the folded result once at the end. */
uint32_t csum_partial(const void *buf, size_t len, uint32_t sum) {
	const uint8_t *p = buf;
	uint64_t acc = 0;
	uint32_t w[4];
	for(; len >= 16; p += 16, len -= 16) {
		memcpy(w, p, 16);
		acc += (uint64_t)w[0] + w[1] + w[2] + w[3];
	}
	for(; len >= 4; p += 4, len -= 4) {
		memcpy(w, p, 4);
		acc += w[0];
	}
	if(len >= 2) {
		uint16_t h;
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	uint32_t native;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	if(len)
		acc += (uint32_t)p[0] << 8;
	native = fold(acc);
#else
	if(len)
		acc += p[0]; /* the high byte of its big-endian word */
	native = fold(acc);
	native = (native >> 8 | native << 8) & 0xffff;
#endif
	return fold((uint64_t)native + sum);
}

uint16_t csum_finish(uint32_t sum) {
	return (uint16_t)~fold(sum);
}

uint16_t inet_checksum(const void *buf, size_t len, uint32_t initial) {
	return csum_finish(csum_partial(buf, len, initial));
}

uint32_t pseudo_sum4(const uint8_t src[4], const uint8_t dst[4], uint8_t proto, uint16_t l4len) {
	uint64_t acc = 0;
	acc += be16_get(src) + be16_get(src + 2);
	acc += be16_get(dst) + be16_get(dst + 2);
	acc += proto;
	acc += l4len;
	return fold(acc);
}

uint32_t pseudo_sum6(const uint8_t src[16], const uint8_t dst[16], uint8_t next_header, uint32_t l4len) {
	uint64_t acc = 0;
	for(int i = 0; i < 16; i += 2)
		acc += be16_get(src + i) + be16_get(dst + i);
	acc += l4len >> 16;
	acc += l4len & 0xffff;
	acc += next_header;
	return fold(acc);
}

uint16_t ipv4_header_checksum(const uint8_t *iph, size_t hlen) {
	uint32_t sum = csum_partial(iph, hlen < 10 ? hlen : 10, 0);
	if(hlen > 12)
		sum = csum_partial(iph + 12, hlen - 12, sum);
	return csum_finish(sum);
}

void ipv4_set_header_checksum(uint8_t *iph) {
	size_t hlen = (size_t)(iph[0] & 0x0f) * 4;
	be16_put(iph + 10, ipv4_header_checksum(iph, hlen));
}

void csum_replace2(uint16_t *sum, uint16_t old_word, uint16_t new_word) {
	/* HC' = ~(~HC + ~m + m'): never produces the -0 that eqn. 2 can. */
	uint32_t acc = (uint16_t)~*sum;
	acc += (uint16_t)~old_word;
	acc += new_word;
	*sum = (uint16_t)~fold(acc);
}

void csum_replace2_field(uint8_t *field, uint16_t old_word, uint16_t new_word) {
	uint16_t sum = be16_get(field);
	csum_replace2(&sum, old_word, new_word);
	be16_put(field, sum);
}
