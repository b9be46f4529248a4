/* Segmentation of tun super-packets (packet/gso_segment): lengths, IPv4
 * IDs, TCP sequence numbers and flags, checksums, and malformed headers.
 *
 * Checksums are verified with ref_sum() below, a deliberately naive sum
 * written for the test, never with src/packet/ipcsum.c. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/gso_segment.h"
#include "frames.h"
#include "unit.h"

/* ---- independent helpers ---- */


static unsigned get16(const uint8_t *p) {
	return (unsigned)p[0] << 8 | p[1];
}

static unsigned long get32(const uint8_t *p) {
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, unsigned v) {
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* IPv4 header valid: sums to all ones. */
static bool ipv4_header_ok(const uint8_t *ip) {
	return ref_sum(ip, (size_t)(ip[0] & 15) * 4, 0) == 0xffff;
}

/* TCP/UDP checksum valid over l4 (len bytes) with the pseudo-header. */
static bool l4_ok_v4(const uint8_t *ip, const uint8_t *l4, size_t len, uint8_t proto) {
	unsigned long pseudo = ref_sum(ip + 12, 8, 0) + proto + len;
	return ref_sum(l4, len, pseudo) == 0xffff;
}

static bool l4_ok_v6(const uint8_t *ip, const uint8_t *l4, size_t len, uint8_t proto) {
	unsigned long pseudo = ref_sum(ip + 8, 32, 0) + proto + (len >> 16) + (len & 0xffff);
	return ref_sum(l4, len, pseudo) == 0xffff;
}

/* ---- frames ---- */

static uint8_t frame[70000];

/* An IPv4 TCP super-packet at frame+l3 with payload bytes of pattern. */
static size_t build_tcp4(size_t l3, size_t payload, uint8_t flags) {
	memset(frame, 0, sizeof(frame));
	uint8_t *ip = frame + l3;
	ip[0] = 0x45;
	ip[1] = 0x02; /* ECT(0) */
	put16(ip + 2, (unsigned)(20 + 32 + payload));
	put16(ip + 4, 0xfffe); /* ID wraps during the test */
	ip[6] = 0x40;          /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, (uint8_t[]){10, 0, 0, 1, 10, 0, 0, 2}, 8);
	uint8_t *tcp = ip + 20;
	put16(tcp, 40000);
	put16(tcp + 2, 5201);
	tcp[4] = 0xff; tcp[5] = 0xff; tcp[6] = 0xff; tcp[7] = 0x00; /* seq wraps too */
	tcp[8] = 0; tcp[11] = 7;
	tcp[12] = 8 << 4; /* 32-byte header: timestamps */
	tcp[13] = flags;
	put16(tcp + 14, 512);
	tcp[20] = 1; tcp[21] = 1; tcp[22] = 8; tcp[23] = 10;
	for(size_t i = 0; i < payload; i++)
		tcp[32 + i] = (uint8_t)(i * 7 + 3);
	/* As the kernel leaves it with NEEDS_CSUM: the pseudo-header sum, not complemented. */
	put16(tcp + 16, ref_sum(ip + 12, 8, 6 + 32 + payload));
	return l3 + 20 + 32 + payload;
}

static size_t build_tcp6(size_t payload, uint8_t flags) {
	memset(frame, 0, sizeof(frame));
	uint8_t *ip = frame;
	ip[0] = 0x60;
	put16(ip + 4, (unsigned)(20 + payload));
	ip[6] = 6;
	ip[7] = 64;
	ip[8] = 0xfd; ip[23] = 1;
	ip[24] = 0xfd; ip[39] = 2;
	uint8_t *tcp = ip + 40;
	put16(tcp, 40000);
	put16(tcp + 2, 5201);
	tcp[7] = 100;
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	for(size_t i = 0; i < payload; i++)
		tcp[20 + i] = (uint8_t)(i * 13 + 1);
	return 40 + 20 + payload;
}

static size_t build_udp(bool v6, size_t payload) {
	memset(frame, 0, sizeof(frame));
	uint8_t *ip = frame;
	size_t l4;
	if(v6) {
		ip[0] = 0x60;
		put16(ip + 4, (unsigned)(8 + payload));
		ip[6] = 17;
		ip[7] = 64;
		ip[8] = 0xfd; ip[23] = 1;
		ip[24] = 0xfd; ip[39] = 2;
		l4 = 40;
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (unsigned)(20 + 8 + payload));
		put16(ip + 4, 100);
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, (uint8_t[]){10, 0, 0, 1, 10, 0, 0, 2}, 8);
		l4 = 20;
	}
	put16(frame + l4, 5000);
	put16(frame + l4 + 2, 6000);
	put16(frame + l4 + 4, (unsigned)(8 + payload));
	for(size_t i = 0; i < payload; i++)
		frame[l4 + 8 + i] = (uint8_t)(i ^ 0x5a);
	return l4 + 8 + payload;
}

static vnet_hdr_t gso(uint8_t type, uint16_t size, uint16_t csum_start, uint16_t csum_offset) {
	return (vnet_hdr_t){.flags = VNET_F_NEEDS_CSUM, .gso_type = type, .hdr_len = 0,
	                    .gso_size = size, .csum_start = csum_start, .csum_offset = csum_offset};
}

/* ---- tests ---- */

static void test_tcp4_three_segments(void) {
	size_t len = build_tcp4(0, 1000 + 1000 + 500, 0x80 | 0x10 | 0x08 | 0x01); /* CWR ACK PSH FIN */
	vnet_hdr_t h = gso(VNET_GSO_TCPV4 | VNET_GSO_ECN, 1000, 20, 16);
	gso_cursor_t c;
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_OK);
	CHECK_EQ_INT(c.count, 3);
	uint8_t out[1600];
	size_t expect_payload[3] = {1000, 1000, 500};
	unsigned long seq = 0xffffff00;
	for(int i = 0; i < 3; i++) {
		size_t n = gso_next(&c, out);
		CHECK_EQ_INT(n, 52 + expect_payload[i]);
		CHECK_EQ_INT(get16(out + 2), n);
		CHECK_EQ_INT(get16(out + 4), (0xfffe + i) & 0xffff);
		CHECK(ipv4_header_ok(out));
		CHECK_EQ_INT(out[1], 0x02); /* TOS kept */
		CHECK_EQ_INT(get32(out + 24), (seq + 1000 * (unsigned long)i) & 0xffffffff);
		uint8_t f = out[33];
		CHECK_EQ_INT(!!(f & 0x80), i == 0); /* CWR first only */
		CHECK_EQ_INT(!!(f & 0x01), i == 2); /* FIN last only */
		CHECK_EQ_INT(!!(f & 0x08), i == 2); /* PSH last only */
		CHECK(f & 0x10);                    /* ACK on all */
		CHECK(l4_ok_v4(out, out + 20, n - 20, 6));
		CHECK(!memcmp(out + 52, frame + 52 + 1000 * (size_t)i, expect_payload[i]));
		CHECK(!memcmp(out + 40, frame + 40, 12)); /* options copied */
	}
	CHECK_EQ_INT(gso_next(&c, out), 0);
}

static void test_tcp4_behind_ethernet(void) {
	size_t len = build_tcp4(14, 3000, 0x10);
	frame[12] = 0x08;
	vnet_hdr_t h = gso(VNET_GSO_TCPV4, 1448, 34, 16);
	gso_cursor_t c;
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 14, 1518), GSO_OK);
	CHECK_EQ_INT(c.count, 3);
	uint8_t out[1600];
	size_t n, total = 0;
	while((n = gso_next(&c, out))) {
		CHECK(n <= 1514);
		CHECK_EQ_INT(out[12], 0x08);
		CHECK(ipv4_header_ok(out + 14));
		CHECK_EQ_INT(get16(out + 16), n - 14);
		CHECK(l4_ok_v4(out + 14, out + 34, n - 34, 6));
		total += n - 66;
	}
	CHECK_EQ_INT(total, 3000);
}

static void test_tcp6(void) {
	size_t len = build_tcp6(2 * 1220 + 1, 0x18);
	vnet_hdr_t h = gso(VNET_GSO_TCPV6, 1220, 40, 16);
	gso_cursor_t c;
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_OK);
	CHECK_EQ_INT(c.count, 3);
	uint8_t out[1600];
	for(int i = 0; i < 3; i++) {
		size_t n = gso_next(&c, out);
		size_t pl = i < 2 ? 1220 : 1;
		CHECK_EQ_INT(n, 60 + pl);
		CHECK_EQ_INT(get16(out + 4), 20 + pl);
		CHECK_EQ_INT(get32(out + 44), 100 + 1220 * (unsigned long)i);
		CHECK_EQ_INT(!!(out[53] & 0x08), i == 2);
		CHECK(l4_ok_v6(out, out + 40, n - 40, 6));
	}
}

static void test_udp(bool v6) {
	size_t len = build_udp(v6, 1400 * 2 + 100);
	size_t l4 = v6 ? 40 : 20;
	vnet_hdr_t h = gso(VNET_GSO_UDP_L4, 1400, (uint16_t)l4, 6);
	gso_cursor_t c;
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_OK);
	CHECK_EQ_INT(c.count, 3);
	uint8_t out[1600];
	for(int i = 0; i < 3; i++) {
		size_t n = gso_next(&c, out);
		size_t pl = i < 2 ? 1400 : 100;
		CHECK_EQ_INT(n, l4 + 8 + pl);
		CHECK_EQ_INT(get16(out + l4 + 4), 8 + pl);
		CHECK(get16(out + l4 + 6) != 0);
		if(v6) {
			CHECK_EQ_INT(get16(out + 4), 8 + pl);
			CHECK(l4_ok_v6(out, out + 40, n - 40, 17));
		} else {
			CHECK_EQ_INT(get16(out + 2), n);
			CHECK_EQ_INT(get16(out + 4), 100 + i);
			CHECK(ipv4_header_ok(out));
			CHECK(l4_ok_v4(out, out + 20, n - 20, 17));
		}
		CHECK(!memcmp(out + l4 + 8, frame + l4 + 8 + 1400 * (size_t)i, pl));
	}
	CHECK_EQ_INT(gso_next(&c, out), 0);
}

static void test_needs_csum_without_gso(void) {
	size_t len = build_tcp4(0, 333, 0x18);
	vnet_hdr_t h = gso(VNET_GSO_NONE, 0, 20, 16);
	gso_cursor_t c;
	CHECK(!l4_ok_v4(frame, frame + 20, len - 20, 6));
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_OK);
	CHECK(l4_ok_v4(frame, frame + 20, len - 20, 6)); /* completed in place */
	uint8_t out[1600];
	CHECK_EQ_INT(gso_next(&c, out), len);
	CHECK(!memcmp(out, frame, len));
	CHECK_EQ_INT(gso_next(&c, out), 0);

	/* Directly, on a UDP datagram. */
	len = build_udp(false, 51);
	put16(frame + 26, ref_sum(frame + 12, 8, 17 + 59));
	h = gso(VNET_GSO_NONE, 0, 20, 6);
	CHECK(vnet_complete_checksum(&h, frame, len));
	CHECK(l4_ok_v4(frame, frame + 20, len - 20, 17));

	/* No flags: the frame is passed on untouched. */
	len = build_tcp4(0, 10, 0x10);
	uint8_t before[200];
	memcpy(before, frame, len);
	h = (vnet_hdr_t){0};
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_OK);
	CHECK(!memcmp(before, frame, len));
}

static void test_header_roundtrip(void) {
	vnet_hdr_t h = {.flags = 1, .gso_type = 0x84, .hdr_len = 66, .gso_size = 1448, .csum_start = 34, .csum_offset = 16};
	uint8_t raw[VNET_HDR_LEN];
	vnet_hdr_build(raw, &h);
	vnet_hdr_t back;
	vnet_hdr_parse(&back, raw);
	CHECK(!memcmp(&h, &back, sizeof(h)));
	CHECK_EQ_INT(raw[1], 0x84);
}

static void test_malformed(void) {
	gso_cursor_t c;
	size_t len = build_tcp4(0, 3000, 0x10);
	vnet_hdr_t h = gso(VNET_GSO_TCPV4, 1000, 20, 16);

	h.gso_type = VNET_GSO_UDP;
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_BAD_TYPE);
	h.gso_type = 9;
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_BAD_TYPE);
	h.gso_type = VNET_GSO_TCPV6; /* but the frame is IPv4 */
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_BAD_L3);
	h.gso_type = VNET_GSO_UDP_L4; /* but the frame is TCP */
	h.csum_offset = 6;
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_BAD_L4);
	h = gso(VNET_GSO_TCPV4, 0, 20, 16);
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_BAD_SIZE);
	h = gso(VNET_GSO_TCPV4, 1500, 20, 16);
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_TOO_BIG);
	h = gso(VNET_GSO_TCPV4, 1000, 24, 16); /* csum_start not at the TCP header */
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_BAD_CSUM);
	h = gso(VNET_GSO_TCPV4, 1000, 20, 16);
	CHECK_EQ_INT(gso_begin(&c, &h, frame, 40, 0, 1504), GSO_BAD_L4);   /* TCP header cut */
	CHECK_EQ_INT(gso_begin(&c, &h, frame, 19, 0, 1504), GSO_BAD_L3);   /* IP header cut */
	CHECK_EQ_INT(gso_begin(&c, &h, frame, 0, 0, 1504), GSO_BAD_L3);
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, len, 1504), GSO_BAD_L3); /* l3 past the end */
	frame[0] = 0x4f; /* IHL 60 > frame? no: options run into TCP, then TCP header cut */
	CHECK(gso_begin(&c, &h, frame, 60, 0, 1504) != GSO_OK);
	frame[0] = 0x44; /* IHL 16 */
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_BAD_L3);
	frame[0] = 0x45;
	frame[6] = 0x20; /* MF */
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_BAD_L3);
	frame[6] = 0x40;
	frame[32] = 0x40; /* TCP data offset 16 */
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_BAD_L4);
	frame[32] = 0xf0; /* 60: fits */
	CHECK_EQ_INT(gso_begin(&c, &h, frame, len, 0, 1504), GSO_OK);
	CHECK_EQ_INT(gso_begin(&c, &h, frame, 60, 0, 1504), GSO_BAD_L4);

	/* Without GSO: the checksum field must lie inside the frame; the frame must fit. */
	h = gso(VNET_GSO_NONE, 0, 20, 16);
	CHECK_EQ_INT(gso_begin(&c, &h, frame, 30, 0, 1504), GSO_BAD_CSUM);
	h.csum_start = 0xffff;
	CHECK_EQ_INT(gso_begin(&c, &h, frame, 100, 0, 1504), GSO_BAD_CSUM);
	CHECK(!vnet_complete_checksum(&h, frame, 100));
	h = gso(VNET_GSO_NONE, 0, 20, 16);
	CHECK_EQ_INT(gso_begin(&c, &h, frame, 2000, 0, 1504), GSO_TOO_BIG);
	h = (vnet_hdr_t){0};
	CHECK(gso_begin(&c, &h, frame, 0, 0, 1504) != GSO_OK); /* an empty frame is no frame */
	for(int s = 0; s < GSO_STATUS_COUNT; s++)
		CHECK(strlen(gso_status_text(s)) > 0);
}

int main(void) {
	test_tcp4_three_segments();
	test_tcp4_behind_ethernet();
	test_tcp6();
	test_udp(false);
	test_udp(true);
	test_needs_csum_without_gso();
	test_header_roundtrip();
	test_malformed();
	return unit_done();
}
