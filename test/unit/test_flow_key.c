/* Flow keys: one key per inner flow (ports, echo identifiers, fragments,
 * IPv6 extension headers, non-IP frames), spread evenly. */
#include "util/compat.h"

#include <string.h>

#include "packet/flow_key.h"
#include "frames.h"
#include "unit.h"

#define SALT 0x1234abcdULL

static uint8_t frame[200];

static uint32_t tcp4(uint8_t src, uint8_t dst, uint16_t sport, uint16_t dport, size_t len) {
	memset(frame, 0, sizeof(frame));
	uint8_t *ip = put_ipv4_header(frame, (uint32_t)len, 0, 6, src, dst);
	ip[20] = (uint8_t)(sport >> 8);
	ip[21] = (uint8_t)sport;
	ip[22] = (uint8_t)(dport >> 8);
	ip[23] = (uint8_t)dport;
	return flow_key(frame, len, SALT);
}

static uint32_t icmp4_echo(uint8_t type, uint16_t id, uint16_t seq) {
	memset(frame, 0, sizeof(frame));
	uint8_t *ip = put_ipv4_header(frame, 98, 0, 1, 1, 2);
	ip[20] = type;
	ip[24] = (uint8_t)(id >> 8);
	ip[25] = (uint8_t)id;
	ip[26] = (uint8_t)(seq >> 8);
	ip[27] = (uint8_t)seq;
	return flow_key(frame, 98, SALT);
}

static const uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* UDP over IPv6, with an optional 8-byte destination options header first. */
static uint32_t udp6(uint16_t sport, uint16_t dport, bool dest_opts) {
	memset(frame, 0, sizeof(frame));
	uint8_t *ip = put_ipv6_header(frame, 120, dest_opts ? 60 : 17, a6, b6);
	uint8_t *l4 = ip + 40;
	if(dest_opts) {
		l4[0] = 17;
		l4[1] = 0;
		l4 += 8;
	}
	l4[0] = (uint8_t)(sport >> 8);
	l4[1] = (uint8_t)sport;
	l4[2] = (uint8_t)(dport >> 8);
	l4[3] = (uint8_t)dport;
	return flow_key(frame, 120, SALT);
}

static void test_ipv4_ports(void) {
	uint32_t k = tcp4(1, 2, 40000, 5201, 80);
	CHECK_EQ_INT(tcp4(1, 2, 40000, 5201, 1400), k);  /* length is not part of the flow */
	CHECK(tcp4(1, 2, 40001, 5201, 80) != k);         /* another source port */
	CHECK(tcp4(1, 2, 40000, 5202, 80) != k);         /* another destination port */
	CHECK(tcp4(1, 3, 40000, 5201, 80) != k);         /* another address */
	uint32_t other = tcp4(1, 3, 40000, 5201, 80);
	CHECK(flow_key(frame, 80, SALT + 1) != other); /* the salt */
	/* TOS and TTL change along a flow's life (ECN marks): same key */
	tcp4(1, 2, 40000, 5201, 80);
	frame[15] = 0x03;
	frame[22] = 7;
	CHECK_EQ_INT(flow_key(frame, 80, SALT), k);
}

static void test_fragments(void) {
	/* every fragment of one datagram: the same key, whatever its offset,
	 * although only the first one carries the ports */
	tcp4(1, 2, 40000, 5201, 80);
	frame[14 + 6] = 0x20; /* MF, offset 0 */
	uint32_t first = flow_key(frame, 80, SALT);
	memset(frame + 34, 0xee, 8); /* a later fragment: payload where the ports were */
	frame[14 + 6] = 0x00;
	frame[14 + 7] = 0xb9; /* offset 185*8 */
	CHECK_EQ_INT(flow_key(frame, 80, SALT), first);
	frame[14 + 6] = 0x20;
	CHECK_EQ_INT(flow_key(frame, 80, SALT), first);
	/* another address pair's fragments: another key */
	frame[14 + 19] = 9;
	CHECK(flow_key(frame, 80, SALT) != first);
}

static void test_icmp(void) {
	uint32_t req = icmp4_echo(8, 0x4242, 1);
	CHECK_EQ_INT(icmp4_echo(8, 0x4242, 2), req);  /* the sequence number is not the flow */
	CHECK(icmp4_echo(8, 0x4243, 1) != req);       /* another ping: another flow */
	CHECK(icmp4_echo(0, 0x4243, 1) != icmp4_echo(0, 0x4244, 1)); /* replies too */
	/* other ICMP types: by address pair, whatever the rest says */
	uint32_t unreach = icmp4_echo(3, 1, 1);
	CHECK_EQ_INT(icmp4_echo(3, 2, 7), unreach);
	/* ICMPv6 echo */
	memset(frame, 0, sizeof(frame));
	uint8_t *ip = put_ipv6_header(frame, 110, 58, a6, b6);
	ip[40] = 128;
	ip[44] = 0x11;
	uint32_t k6 = flow_key(frame, 110, SALT);
	ip[47] = 9; /* sequence */
	CHECK_EQ_INT(flow_key(frame, 110, SALT), k6);
	ip[44] = 0x12; /* identifier */
	CHECK(flow_key(frame, 110, SALT) != k6);
}

static void test_ipv6(void) {
	uint32_t k = udp6(5000, 53, false);
	CHECK(udp6(5001, 53, false) != k);
	/* the transport header behind a destination options header */
	uint32_t d = udp6(5000, 53, true);
	CHECK(udp6(5001, 53, true) != d);
	CHECK_EQ_INT(udp6(5000, 53, true), d);
	/* a fragment header: address pair and protocol only */
	memset(frame, 0, sizeof(frame));
	uint8_t *ip = put_ipv6_header(frame, 120, 44, a6, b6);
	ip[40] = 17;
	ip[48] = 0x13;
	uint32_t f = flow_key(frame, 120, SALT);
	ip[48] = 0x14;
	ip[43] = 0x08; /* another offset */
	CHECK_EQ_INT(flow_key(frame, 120, SALT), f);
}

static void test_non_ip(void) {
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	static const uint8_t sip[4] = {10, 0, 0, 1}, tip[4] = {10, 0, 0, 2}, tip2[4] = {10, 0, 0, 3};
	memset(frame, 0, sizeof(frame));
	put_arp_request(frame, mac, sip, tip);
	uint32_t k = flow_key(frame, 42, SALT);
	put_arp_request(frame, mac, sip, tip2);
	CHECK_EQ_INT(flow_key(frame, 42, SALT), k); /* by MAC pair: the payload does not count */
	frame[11] = 2; /* another sender MAC */
	CHECK(flow_key(frame, 42, SALT) != k);
	/* too short to be a frame: still a key, no crash */
	(void)flow_key(frame, 3, SALT);
	/* an IPv4 EtherType over a truncated header: treated as non-IP */
	memset(frame, 0, sizeof(frame));
	frame[12] = 0x08;
	(void)flow_key(frame, 20, SALT);
	/* a header length pointing past the end: no ports read */
	tcp4(1, 2, 1, 2, 40);
	frame[14] = 0x4f;
	(void)flow_key(frame, 40, SALT);
	CHECK(true);
}

static void test_spread(void) {
	/* keys of many flows spread about evenly, in their low and high bits */
	int low[16] = {0}, high[16] = {0};
	for(uint16_t p = 1; p <= 1600; p++) {
		uint32_t k = tcp4(1, 2, p, 80, 60);
		low[k % 16]++;
		high[k >> 28]++;
	}
	for(int i = 0; i < 16; i++) {
		CHECK(low[i] >= 60 && low[i] <= 140);
		CHECK(high[i] >= 60 && high[i] <= 140);
	}
}

int main(void) {
	test_ipv4_ports();
	test_fragments();
	test_icmp();
	test_ipv6();
	test_non_ip();
	test_spread();
	return unit_done();
}
