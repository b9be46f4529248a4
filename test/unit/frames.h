/* Frame builders shared by the queue tests (test_codel, test_fq_codel):
 * real Ethernet + IPv4 headers with valid checksums, so ECN marking and flow
 * hashing see the frames the daemon will. */
#ifndef FQTINC_TEST_FRAMES_H
#define FQTINC_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/* One's-complement sum of n bytes (n even), folded to 16 bits: 0xffff over
 * an IPv4 header whose checksum is right. */
static inline uint16_t csum_fold(const uint8_t *p, size_t n) {
	uint32_t s = 0;
	for(size_t i = 0; i < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while(s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Into a zeroed frame of frame_len bytes: the IPv4 EtherType and a 20-byte
 * header (TTL 64, 10.0.0.src_host to 10.0.0.dst_host, checksum filled in)
 * covering the rest of the frame. Returns the IP header. */
static inline uint8_t *put_ipv4_header(uint8_t *frame, uint32_t frame_len, uint8_t tos,
                                       uint8_t proto, uint8_t src_host, uint8_t dst_host) {
	frame[12] = 0x08;
	uint8_t *ip = frame + 14;
	ip[0] = 0x45;
	ip[1] = tos;
	ip[2] = (uint8_t)((frame_len - 14) >> 8);
	ip[3] = (uint8_t)(frame_len - 14);
	ip[8] = 64;
	ip[9] = proto;
	ip[12] = 10;
	ip[15] = src_host;
	ip[16] = 10;
	ip[19] = dst_host;
	uint16_t c = (uint16_t)~csum_fold(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	return ip;
}

#endif
