#include "util/compat.h"

#include "packet/ipcsum.h"

static uint32_t fold(uint64_t sum) {
	while(sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)sum;
}

uint32_t csum_partial(const void *buf, size_t len, uint32_t sum) {
	const uint8_t *p = buf;
	/* 64 bits cannot overflow for any buffer that fits in memory of
	 * reasonable size, so the carries are folded only once at the end. */
	uint64_t acc = sum;
	size_t i = 0;

	for(; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if(i < len)
		acc += (uint32_t)p[i] << 8;

	return fold(acc);
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
