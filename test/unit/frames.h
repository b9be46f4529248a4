/* Frame builders and a reference checksum shared by the unit tests (test_codel, test_fq_codel,
 * test_route): real Ethernet + IPv4/IPv6/ARP headers with valid checksums,
 * so ECN marking, flow hashing and routing see the frames the daemon will. */
#ifndef FQTINC_TEST_FRAMES_H
#define FQTINC_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>

/* One's-complement sum of n bytes, odd n too, from start (e.g. a
 * pseudo-header's sum), folded to 16 bits and not complemented (RFC 1071):
 * written apart from the daemon's checksum code, to check it. */
static inline unsigned ref_sum(const uint8_t *p, size_t n, unsigned long start) {
	unsigned long s = start;
	for(size_t i = 0; i < n; i++)
		s += (i % 2 == 0) ? (unsigned long)p[i] * 256 : p[i];
	while(s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (unsigned)s;
}

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

/* Into a zeroed frame of frame_len bytes: the IPv6 EtherType and a 40-byte
 * header (hop limit 64, the given addresses) covering the rest of the
 * frame. Returns the IP header. */
static inline uint8_t *put_ipv6_header(uint8_t *frame, uint32_t frame_len, uint8_t next_header,
                                       const uint8_t src[16], const uint8_t dst[16]) {
	frame[12] = 0x86;
	frame[13] = 0xdd;
	uint8_t *ip = frame + 14;
	ip[0] = 0x60;
	ip[4] = (uint8_t)((frame_len - 54) >> 8);
	ip[5] = (uint8_t)(frame_len - 54);
	ip[6] = next_header;
	ip[7] = 64;
	for(int i = 0; i < 16; i++) {
		ip[8 + i] = src[i];
		ip[24 + i] = dst[i];
	}
	return ip;
}

/* Into a zeroed frame of 42 bytes: an ARP request from sender_mac /
 * sender_ip for target_ip, sent to the Ethernet broadcast address. */
static inline void put_arp_request(uint8_t *frame, const uint8_t sender_mac[6], const uint8_t sender_ip[4],
                                   const uint8_t target_ip[4]) {
	for(int i = 0; i < 6; i++) {
		frame[i] = 0xff;
		frame[6 + i] = sender_mac[i];
	}
	frame[12] = 0x08;
	frame[13] = 0x06;
	uint8_t *arp = frame + 14;
	arp[1] = 1;    /* Ethernet */
	arp[2] = 0x08; /* IPv4 */
	arp[4] = 6;
	arp[5] = 4;
	arp[7] = 1;    /* request */
	for(int i = 0; i < 6; i++)
		arp[8 + i] = sender_mac[i];
	for(int i = 0; i < 4; i++) {
		arp[14 + i] = sender_ip[i];
		arp[24 + i] = target_ip[i];
	}
}

#endif
