/* Flow keys of inner frames (see flow_key.h). */
#include "util/compat.h"

#include <string.h>

#include "packet/flow_key.h"
#include "packet/packet.h"

#define IPPROTO_ICMP_ 1
#define IPPROTO_ICMPV6_ 58

/* A multiply-xorshift accumulator: cheap, and every input bit reaches
 * every output bit after the final step. */
static uint64_t absorb(uint64_t acc, uint64_t word) {
	acc = (acc ^ word) * 0xff51afd7ed558ccdULL;
	return acc ^ (acc >> 31);
}

static uint32_t settle(uint64_t acc) {
	acc ^= acc >> 33;
	acc *= 0xc4ceb9fe1a85ec53ULL;
	acc ^= acc >> 29;
	return (uint32_t)(acc >> 32);
}

static uint64_t bytes_word(const uint8_t *p, size_t n) {
	uint64_t w = 0;
	memcpy(&w, p, n < 8 ? n : 8);
	return w;
}

static uint16_t get16(const uint8_t *p) {
	return (uint16_t)(p[0] << 8 | p[1]);
}

static bool carries_ports(uint8_t proto) {
	return proto == 6 || proto == 17 || proto == 33 || proto == 132 || proto == 136;
}

/* What identifies the flow inside the transport header at l4 (len bytes of
 * it present): the two ports, or the echo identifier; 0 when nothing does. */
static uint64_t transport_part(uint8_t proto, const uint8_t *l4, size_t len) {
	if(carries_ports(proto) && len >= 4)
		return 1ULL << 32 | (uint64_t)get16(l4) << 16 | get16(l4 + 2);
	bool echo = (proto == IPPROTO_ICMP_ && (l4[0] == 0 || l4[0] == 8)) ||
	            (proto == IPPROTO_ICMPV6_ && (l4[0] == 128 || l4[0] == 129));
	if(echo && len >= 6)
		return 2ULL << 32 | get16(l4 + 4);
	return 0;
}

static uint32_t ipv4_key(const uint8_t *ip, size_t len, uint64_t acc) {
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	uint8_t proto = ip[9];
	acc = absorb(acc, 4u << 8 | proto);
	acc = absorb(acc, bytes_word(ip + 12, 8));
	bool fragment = (get16(ip + 6) & 0x3fff) != 0;
	if(!fragment && ihl >= 20 && len > ihl)
		acc = absorb(acc, transport_part(proto, ip + ihl, len - ihl));
	return settle(acc);
}

static uint32_t ipv6_key(const uint8_t *ip, size_t len, uint64_t acc) {
	for(size_t i = 8; i < 40; i += 8)
		acc = absorb(acc, bytes_word(ip + i, 8));
	uint8_t next = ip[6];
	size_t off = 40;
	bool fragment = false;
	/* hop-by-hop, routing and destination options sit before the transport header */
	for(int hops = 0; hops < 8 && (next == 0 || next == 43 || next == 60 || next == 51); hops++) {
		if(len < off + 2)
			break;
		/* AH counts its length in 4-byte units less 2, the others in 8-byte units less 1 */
		size_t hlen = next == 51 ? ((size_t)ip[off + 1] + 2) * 4 : ((size_t)ip[off + 1] + 1) * 8;
		next = ip[off];
		off += hlen;
	}
	if(next == 44)
		fragment = true;
	acc = absorb(acc, 6u << 8 | next);
	if(!fragment && len > off)
		acc = absorb(acc, transport_part(next, ip + off, len - off));
	return settle(acc);
}

uint32_t flow_key(const uint8_t *frame, size_t len, uint64_t salt) {
	uint64_t acc = absorb(salt, 0x6a09e667f3bcc908ULL);
	if(len < ETH_HLEN)
		return settle(absorb(acc, len));
	uint16_t type = get16(frame + 12);
	size_t off = ETH_HLEN;
	/* 802.1Q / 802.1ad tags (switch mode): the VLAN is part of the flow */
	for(int tags = 0; (type == ETHERTYPE_VLAN || type == 0x88a8) && tags < 2 && len >= off + 4; tags++) {
		acc = absorb(acc, 1u << 16 | (get16(frame + off) & 0x0fff));
		type = get16(frame + off + 2);
		off += 4;
	}
	const uint8_t *ip = frame + off;
	size_t iplen = len - off;
	if(type == ETHERTYPE_IP && iplen >= 20 && (ip[0] >> 4) == 4)
		return ipv4_key(ip, iplen, acc);
	if(type == ETHERTYPE_IPV6 && iplen >= 40 && (ip[0] >> 4) == 6)
		return ipv6_key(ip, iplen, acc);
	acc = absorb(acc, bytes_word(frame, 6));
	acc = absorb(acc, bytes_word(frame + 6, 6));
	acc = absorb(acc, type);
	return settle(acc);
}
