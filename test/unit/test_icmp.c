/* Router packet helpers: ICMP/ICMPv6 errors, MSS clamping, IPv4
 * fragmentation, ARP and neighbour discovery replies.
 *
 * Checksums are verified with ref_sum() below, a deliberately naive
 * word-by-word sum written for the test, never with src/ipcsum.c. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "packet/fragment.h"
#include "packet/icmp.h"
#include "packet/ipcsum.h"
#include "packet/mss.h"
#include "packet/neighbor.h"
#include "frames.h"
#include "unit.h"

/* ---- independent helpers ---- */


/* Valid if the sum over everything, checksum included, is all ones. */
static bool ref_ok(const uint8_t *p, size_t n, unsigned start) {
	return ref_sum(p, n, start) == 0xffff;
}

static unsigned ref_pseudo4(const uint8_t *ip, unsigned proto, unsigned l4len) {
	uint8_t ph[12];
	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = (uint8_t)proto;
	ph[10] = (uint8_t)(l4len >> 8);
	ph[11] = (uint8_t)l4len;
	return ref_sum(ph, 12, 0);
}

static unsigned ref_pseudo6(const uint8_t *ip, unsigned next, unsigned l4len) {
	uint8_t ph[40] = {0};
	memcpy(ph, ip + 8, 32);
	ph[34] = (uint8_t)(l4len >> 8);
	ph[35] = (uint8_t)l4len;
	ph[39] = (uint8_t)next;
	return ref_sum(ph, 40, 0);
}

/* Stores the complement of the sum of p[0..n) (with the field zeroed). */
static void ref_fill(uint8_t *p, size_t n, size_t field, unsigned start) {
	p[field] = p[field + 1] = 0;
	unsigned c = ~ref_sum(p, n, start) & 0xffff;
	p[field] = (uint8_t)(c >> 8);
	p[field + 1] = (uint8_t)c;
}

static unsigned get16(const uint8_t *p) {
	return (unsigned)p[0] << 8 | p[1];
}

static const uint8_t MAC_A[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t MAC_B[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};
static const uint8_t IP4_SRC[4] = {10, 0, 0, 1};
static const uint8_t IP4_DST[4] = {10, 0, 1, 5};
static const uint8_t IP6_SRC[16] = {0xfd, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t IP6_DST[16] = {0xfd, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5};

/* dst MAC = MAC_B (us), src MAC = MAC_A (the sender). */
static size_t make_ipv4(uint8_t *f, uint8_t proto, size_t l4len, uint16_t frag_field) {
	memcpy(f, MAC_B, 6);
	memcpy(f + 6, MAC_A, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14;
	size_t total = 20 + l4len;
	ip[0] = 0x45;
	ip[1] = 0x28;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[4] = 0x12;
	ip[5] = 0x34;
	ip[6] = (uint8_t)(frag_field >> 8);
	ip[7] = (uint8_t)frag_field;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, IP4_SRC, 4);
	memcpy(ip + 16, IP4_DST, 4);
	for(size_t i = 0; i < l4len; i++)
		ip[20 + i] = (uint8_t)(i * 7 + 3);
	ref_fill(ip, 20, 10, 0);
	return 14 + total;
}

static size_t make_ipv4_udp(uint8_t *f, size_t datalen) {
	size_t n = make_ipv4(f, 17, 8 + datalen, 0);
	uint8_t *udp = f + 34;
	udp[0] = 0x30;
	udp[1] = 0x39; /* 12345 */
	udp[2] = 0x00;
	udp[3] = 0x35; /* 53 */
	udp[4] = (uint8_t)((8 + datalen) >> 8);
	udp[5] = (uint8_t)(8 + datalen);
	ref_fill(udp, 8 + datalen, 6, ref_pseudo4(f + 14, 17, (unsigned)(8 + datalen)));
	return n;
}

static size_t make_ipv6(uint8_t *f, uint8_t next, size_t l4len) {
	memcpy(f, MAC_B, 6);
	memcpy(f + 6, MAC_A, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	uint8_t *ip = f + 14;
	ip[0] = 0x6b; /* traffic class 0xb8 */
	ip[1] = 0x81;
	ip[2] = 0x23;
	ip[3] = 0x45;
	ip[4] = (uint8_t)(l4len >> 8);
	ip[5] = (uint8_t)l4len;
	ip[6] = next;
	ip[7] = 64;
	memcpy(ip + 8, IP6_SRC, 16);
	memcpy(ip + 24, IP6_DST, 16);
	for(size_t i = 0; i < l4len; i++)
		ip[40 + i] = (uint8_t)(i * 5 + 1);
	return 54 + l4len;
}

static size_t make_ipv6_udp(uint8_t *f, size_t datalen) {
	size_t n = make_ipv6(f, 17, 8 + datalen);
	uint8_t *udp = f + 54;
	udp[0] = 0x30;
	udp[1] = 0x39;
	udp[2] = 0x00;
	udp[3] = 0x35;
	udp[4] = (uint8_t)((8 + datalen) >> 8);
	udp[5] = (uint8_t)(8 + datalen);
	ref_fill(udp, 8 + datalen, 6, ref_pseudo6(f + 14, 17, (unsigned)(8 + datalen)));
	return n;
}

/* ---- the checksum primitives, against published values ---- */

static void test_ipcsum(void) {
	/* RFC 1071 §3 example: the folded sum of these bytes is 0xddf2. */
	const uint8_t rfc1071[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	CHECK_EQ_INT(csum_partial(rfc1071, 8, 0), 0xddf2);
	CHECK_EQ_INT(inet_checksum(rfc1071, 8, 0), 0x220d);
	/* An odd length pads with a zero low byte. */
	CHECK_EQ_INT(csum_partial(rfc1071, 7, 0), 0xddf2 - 0xf7);

	/* A widely quoted IPv4 header whose checksum is 0xb861. */
	uint8_t iph[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	                   0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	CHECK_EQ_INT(ipv4_header_checksum(iph, 20), 0xb861);
	iph[10] = iph[11] = 0;
	ipv4_set_header_checksum(iph);
	CHECK_EQ_INT(get16(iph + 10), 0xb861);

	/* RFC 1624 §4: TTL 0x40 -> 0x3f changes word 0x4011 to 0x3f11. */
	csum_replace2_field(iph + 10, 0x4011, 0x3f11);
	iph[8] = 0x3f;
	CHECK_EQ_INT(get16(iph + 10), 0xb961);
	CHECK(ref_ok(iph, 20, 0));
	uint16_t sum = 0xb861;
	csum_replace2(&sum, 0x4011, 0x3f11);
	CHECK_EQ_INT(sum, 0xb961);
	/* RFC 1624 §3's example: HC 0xdd2f, m 0x5555 -> 0x3285 gives 0x0000
	 * by eqn. 3 (eqn. 2 would give the wrong 0xffff). */
	sum = 0xdd2f;
	csum_replace2(&sum, 0x5555, 0x3285);
	CHECK_EQ_INT(sum, 0x0000);

	/* Pseudo-headers, against the naive sum. */
	uint8_t ip4[20] = {0};
	memcpy(ip4 + 12, IP4_SRC, 4);
	memcpy(ip4 + 16, IP4_DST, 4);
	CHECK_EQ_INT(pseudo_sum4(IP4_SRC, IP4_DST, 6, 1234), ref_pseudo4(ip4, 6, 1234));
	uint8_t ip6[40] = {0};
	memcpy(ip6 + 8, IP6_SRC, 16);
	memcpy(ip6 + 24, IP6_DST, 16);
	CHECK_EQ_INT(pseudo_sum6(IP6_SRC, IP6_DST, 58, 1234), ref_pseudo6(ip6, 58, 1234));
}

/* ---- ICMPv4 ---- */

static void test_icmp4_basic(void) {
	uint8_t f[2000], orig[2000], out[1000];
	size_t n = make_ipv4_udp(f, 100);
	memcpy(orig, f, n);

	size_t r = icmp4_error(out, sizeof(out), f, n, 3, 6, 0, NULL);
	CHECK_EQ_INT(r, 14 + 20 + 8 + 128);
	CHECK(!memcmp(f, orig, n)); /* input untouched */
	CHECK(!memcmp(out, MAC_A, 6));
	CHECK(!memcmp(out + 6, MAC_B, 6));
	CHECK_EQ_INT(get16(out + 12), 0x0800);

	const uint8_t *ip = out + 14;
	CHECK_EQ_INT(ip[0], 0x45);
	CHECK_EQ_INT(ip[1], 0);
	CHECK_EQ_INT(get16(ip + 2), 20 + 8 + 128);
	CHECK_EQ_INT(get16(ip + 4), 0);
	CHECK_EQ_INT(get16(ip + 6), 0);
	CHECK_EQ_INT(ip[8], 255);
	CHECK_EQ_INT(ip[9], 1);
	CHECK(!memcmp(ip + 12, IP4_DST, 4));
	CHECK(!memcmp(ip + 16, IP4_SRC, 4));
	CHECK(ref_ok(ip, 20, 0));

	const uint8_t *icmp = ip + 20;
	CHECK_EQ_INT(icmp[0], 3);
	CHECK_EQ_INT(icmp[1], 6);
	CHECK_EQ_INT(icmp[4] | icmp[5] | icmp[6] | icmp[7], 0);
	CHECK(!memcmp(icmp + 8, orig + 14, 128));
	CHECK(ref_ok(icmp, 8 + 128, 0));
}

static void test_icmp4_truncation_and_mtu(void) {
	uint8_t f[2000], orig[2000], out[1000];
	size_t n = make_ipv4_udp(f, 1400);
	memcpy(orig, f, n);

	size_t r = icmp4_error(out, sizeof(out), f, n, 3, 4, 1426, NULL);
	CHECK_EQ_INT(r, 590);
	const uint8_t *ip = out + 14;
	CHECK_EQ_INT(get16(ip + 2), 576);
	CHECK(ref_ok(ip, 20, 0));
	const uint8_t *icmp = ip + 20;
	CHECK_EQ_INT(icmp[0], 3);
	CHECK_EQ_INT(icmp[1], 4);
	CHECK_EQ_INT(icmp[4], 0);
	CHECK_EQ_INT(icmp[5], 0);
	CHECK_EQ_INT(icmp[6], 0x05); /* 1426 = 0x0592 */
	CHECK_EQ_INT(icmp[7], 0x92);
	CHECK(!memcmp(icmp + 8, orig + 14, 548));
	CHECK(ref_ok(icmp, 8 + 548, 0));

	/* The MTU field belongs to code 4 only. */
	r = icmp4_error(out, sizeof(out), f, n, 3, 0, 1426, NULL);
	CHECK_EQ_INT(r, 590);
	CHECK_EQ_INT(get16(out + 14 + 20 + 6), 0);

	/* A frame already cut short by the router (its total length still
	 * says 1428): the quote is what is there. */
	r = icmp4_error(out, sizeof(out), f, 300, 3, 4, 286, NULL);
	CHECK_EQ_INT(r, 14 + 20 + 8 + 286);
	CHECK(!memcmp(out + 42, orig + 14, 286));
	CHECK(ref_ok(out + 34, 8 + 286, 0));

	/* Ethernet padding beyond the IP total length is not quoted. */
	n = make_ipv4_udp(f, 10);
	memset(f + n, 0xee, 20);
	r = icmp4_error(out, sizeof(out), f, n + 20, 3, 0, 0, NULL);
	CHECK_EQ_INT(r, 14 + 20 + 8 + 38);

	/* A small output buffer shortens the quote. */
	n = make_ipv4_udp(f, 400);
	r = icmp4_error(out, 100, f, n, 3, 0, 0, NULL);
	CHECK_EQ_INT(r, 100);
	CHECK_EQ_INT(get16(out + 16), 86);
	CHECK(ref_ok(out + 34, 66, 0));
	CHECK_EQ_INT(icmp4_error(out, 41, f, n, 3, 0, 0, NULL), 0);
}

static void test_icmp4_source_and_alias(void) {
	uint8_t f[2000], orig[2000], out[1000];
	const uint8_t local[4] = {192, 168, 7, 1};
	size_t n = make_ipv4_udp(f, 60);
	memcpy(orig, f, n);

	size_t r = icmp4_error(out, sizeof(out), f, n, 11, 0, 0, local);
	CHECK_EQ_INT(r, 14 + 28 + 88);
	CHECK(!memcmp(out + 26, local, 4));
	CHECK(!memcmp(out + 30, IP4_SRC, 4));
	CHECK_EQ_INT(out[34], 11);
	CHECK(ref_ok(out + 14, 20, 0));
	CHECK(ref_ok(out + 34, 8 + 88, 0));

	/* Built in place over the original frame: same bytes. */
	uint8_t copy[1000];
	memcpy(copy, out, r);
	size_t r2 = icmp4_error(f, sizeof(f), f, n, 11, 0, 0, local);
	CHECK_EQ_INT(r2, r);
	CHECK(!memcmp(f, copy, r));
}

static void test_icmp4_refusals(void) {
	uint8_t f[2000], out[1000];
	size_t n;

	/* Destination unreachable about a destination unreachable. */
	n = make_ipv4(f, 1, 36, 0);
	f[34] = 3;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	f[34] = 11;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	f[34] = 5;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	/* ... but an echo request may be answered. */
	f[34] = 8;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 14 + 28 + 56);
	/* ICMP with its type cut off: cannot tell, stay silent. */
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, 34, 3, 0, 0, NULL), 0);

	/* A non-initial fragment (offset 185), with or without MF. */
	n = make_ipv4(f, 17, 40, 0x20b9);
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	n = make_ipv4(f, 17, 40, 0x00b9);
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	/* The first fragment (MF, offset 0) may be answered. */
	n = make_ipv4(f, 17, 40, 0x2000);
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 14 + 28 + 60);

	/* Multicast/broadcast destination, non-host source. */
	n = make_ipv4_udp(f, 10);
	f[30] = 239;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	f[30] = f[31] = f[32] = f[33] = 255;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	n = make_ipv4_udp(f, 10);
	f[26] = f[27] = f[28] = f[29] = 0;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	n = make_ipv4_udp(f, 10);
	f[26] = 224;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);

	/* Malformed or short. */
	n = make_ipv4_udp(f, 10);
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, 33, 3, 0, 0, NULL), 0);
	f[14] = 0x44; /* IHL 4 */
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	f[14] = 0x4f; /* IHL 15 = 60 bytes > the 38 present */
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	f[14] = 0x65;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
	n = make_ipv4_udp(f, 10);
	f[12] = 0x86;
	f[13] = 0xdd;
	CHECK_EQ_INT(icmp4_error(out, sizeof(out), f, n, 3, 0, 0, NULL), 0);
}

/* ---- ICMPv6 ---- */

static void test_icmp6_basic(void) {
	uint8_t f[2000], orig[2000], out[1000];
	size_t n = make_ipv6_udp(f, 100);
	memcpy(orig, f, n);

	size_t r = icmp6_error(out, sizeof(out), f, n, 1, 3, 0, NULL);
	CHECK_EQ_INT(r, 14 + 40 + 8 + 148);
	CHECK(!memcmp(out, MAC_A, 6));
	CHECK(!memcmp(out + 6, MAC_B, 6));
	CHECK_EQ_INT(get16(out + 12), 0x86dd);

	const uint8_t *ip = out + 14;
	CHECK_EQ_INT(ip[0], 0x60);
	CHECK_EQ_INT(ip[1], 0);
	CHECK_EQ_INT(ip[2], 0);
	CHECK_EQ_INT(ip[3], 0);
	CHECK_EQ_INT(get16(ip + 4), 8 + 148);
	CHECK_EQ_INT(ip[6], 58);
	CHECK_EQ_INT(ip[7], 255);
	CHECK(!memcmp(ip + 8, IP6_DST, 16));
	CHECK(!memcmp(ip + 24, IP6_SRC, 16));

	const uint8_t *icmp = ip + 40;
	CHECK_EQ_INT(icmp[0], 1);
	CHECK_EQ_INT(icmp[1], 3);
	CHECK_EQ_INT(icmp[4] | icmp[5] | icmp[6] | icmp[7], 0);
	CHECK(!memcmp(icmp + 8, orig + 14, 148));
	CHECK(ref_ok(icmp, 8 + 148, ref_pseudo6(ip, 58, 8 + 148)));
}

static void test_icmp6_too_big(void) {
	uint8_t f[2000], orig[2000], out[1000];
	size_t n = make_ipv6_udp(f, 1400);
	memcpy(orig, f, n);

	size_t r = icmp6_error(out, sizeof(out), f, 1294, 2, 0, 1280, NULL);
	CHECK_EQ_INT(r, 590);
	const uint8_t *ip = out + 14;
	CHECK_EQ_INT(get16(ip + 4), 536);
	const uint8_t *icmp = ip + 40;
	CHECK_EQ_INT(icmp[0], 2);
	CHECK_EQ_INT(icmp[1], 0);
	CHECK_EQ_INT(icmp[4], 0x00); /* 1280 = 0x00000500 */
	CHECK_EQ_INT(icmp[5], 0x00);
	CHECK_EQ_INT(icmp[6], 0x05);
	CHECK_EQ_INT(icmp[7], 0x00);
	CHECK(!memcmp(icmp + 8, orig + 14, 528));
	CHECK(ref_ok(icmp, 536, ref_pseudo6(ip, 58, 536)));

	/* Time exceeded from a given local address. */
	const uint8_t local[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42};
	r = icmp6_error(out, sizeof(out), f, n, 3, 0, 0, local);
	CHECK_EQ_INT(r, 590);
	CHECK(!memcmp(out + 22, local, 16));
	CHECK(!memcmp(out + 38, IP6_SRC, 16));
	CHECK_EQ_INT(get16(out + 58), 0);
	CHECK(ref_ok(out + 54, 536, ref_pseudo6(out + 14, 58, 536)));

	/* In place. */
	uint8_t copy[1000];
	memcpy(copy, out, r);
	CHECK_EQ_INT(icmp6_error(f, sizeof(f), f, n, 3, 0, 0, local), r);
	CHECK(!memcmp(f, copy, r));
}

static void test_icmp6_refusals(void) {
	uint8_t f[2000], out[1000];
	size_t n;

	/* About ICMPv6 errors (type < 128): no; about echo requests: yes. */
	n = make_ipv6(f, 58, 16);
	f[54] = 1;
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL), 0);
	f[54] = 127;
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL), 0);
	f[54] = 128;
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL), 14 + 48 + 56);

	/* ICMPv6 error behind a destination options header. */
	n = make_ipv6(f, 60, 24);
	f[54] = 58; /* next */
	f[55] = 0;  /* 8 bytes */
	f[62] = 2;  /* packet too big */
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL), 0);
	f[62] = 129;
	CHECK(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL) > 0);

	/* Unspecified or multicast source. */
	n = make_ipv6_udp(f, 10);
	memset(f + 22, 0, 16);
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL), 0);
	n = make_ipv6_udp(f, 10);
	f[22] = 0xff;
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL), 0);

	/* Multicast destination: only packet too big. */
	n = make_ipv6_udp(f, 10);
	f[38] = 0xff;
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL), 0);
	CHECK(icmp6_error(out, sizeof(out), f, n, 2, 0, 1280, NULL) > 0);

	/* Short / not IPv6. */
	n = make_ipv6_udp(f, 10);
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, 53, 1, 0, 0, NULL), 0);
	f[14] = 0x40;
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL), 0);
	n = make_ipv4_udp(f, 60);
	CHECK_EQ_INT(icmp6_error(out, sizeof(out), f, n, 1, 0, 0, NULL), 0);
}

/* ---- MSS clamping ---- */

/* A TCP SYN in an IPv4 (ihl 5 + extra words) or IPv6 frame, optionally
 * VLAN-tagged, with the given options; checksums filled in by ref_fill. */
static size_t make_syn(uint8_t *f, int version, bool vlan, int ip_opt_words, const uint8_t *opts, size_t optlen) {
	size_t off = 14;
	memcpy(f, MAC_B, 6);
	memcpy(f + 6, MAC_A, 6);
	if(vlan) {
		f[12] = 0x81;
		f[13] = 0x00;
		f[14] = 0x00;
		f[15] = 0x07;
		off = 18;
	}
	f[off - 2] = version == 4 ? 0x08 : 0x86;
	f[off - 1] = version == 4 ? 0x00 : 0xdd;

	size_t pending_frame_len = 20 + optlen + 4; /* 4 bytes of data */
	uint8_t *ip = f + off;
	size_t iphlen;
	if(version == 4) {
		iphlen = 20 + 4 * (size_t)ip_opt_words;
		memset(ip, 0, iphlen);
		ip[0] = (uint8_t)(0x40 | (iphlen / 4));
		ip[2] = (uint8_t)((iphlen + pending_frame_len) >> 8);
		ip[3] = (uint8_t)(iphlen + pending_frame_len);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = 6;
		memcpy(ip + 12, IP4_SRC, 4);
		memcpy(ip + 16, IP4_DST, 4);
		for(size_t i = 20; i < iphlen; i++)
			ip[i] = 1; /* NOP options */
		ref_fill(ip, iphlen, 10, 0);
	} else {
		iphlen = 40;
		make_ipv6(f + off - 14, 6, pending_frame_len);
		if(vlan) { /* make_ipv6 wrote an untagged header; restore the tag */
			memcpy(f, MAC_B, 6);
			memcpy(f + 6, MAC_A, 6);
			f[12] = 0x81;
			f[13] = 0x00;
			f[14] = 0x00;
			f[15] = 0x07;
			f[16] = 0x86;
			f[17] = 0xdd;
		}
	}

	uint8_t *tcp = ip + iphlen;
	memset(tcp, 0, 20);
	tcp[0] = 0xc0;
	tcp[1] = 0x01;
	tcp[2] = 0x00;
	tcp[3] = 0x50;
	tcp[4] = 0xde;
	tcp[5] = 0xad;
	tcp[6] = 0xbe;
	tcp[7] = 0xef;
	tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	tcp[13] = 0x02; /* SYN */
	tcp[14] = 0xfa;
	tcp[15] = 0xf0;
	memcpy(tcp + 20, opts, optlen);
	memcpy(tcp + 20 + optlen, "data", 4);
	unsigned ps = version == 4 ? ref_pseudo4(ip, 6, (unsigned)pending_frame_len) : ref_pseudo6(ip, 6, (unsigned)pending_frame_len);
	ref_fill(tcp, pending_frame_len, 16, ps);
	return off + iphlen + pending_frame_len;
}

static bool tcp_csum_ok(const uint8_t *f, size_t len, size_t ipoff, int version) {
	const uint8_t *ip = f + ipoff;
	size_t iphlen = version == 4 ? (size_t)(ip[0] & 15) * 4 : 40;
	size_t pending_frame_len = len - ipoff - iphlen;
	unsigned ps = version == 4 ? ref_pseudo4(ip, 6, (unsigned)pending_frame_len) : ref_pseudo6(ip, 6, (unsigned)pending_frame_len);
	return ref_ok(ip + iphlen, pending_frame_len, ps);
}

static void test_mss(void) {
	uint8_t f[200], orig[200];
	size_t n;
	/* Linux's usual SYN options: MSS, SACK permitted, timestamps, NOP, window scale. */
	const uint8_t linux_opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};

	n = make_syn(f, 4, false, 0, linux_opts, sizeof(linux_opts));
	CHECK(tcp_csum_ok(f, n, 14, 4));
	CHECK(clamp_mss(f, n, 1440));
	CHECK_EQ_INT(get16(f + 14 + 20 + 22), 1386);
	CHECK(tcp_csum_ok(f, n, 14, 4));
	CHECK(ref_ok(f + 14, 20, 0));
	/* Already small enough: nothing changes. */
	memcpy(orig, f, n);
	CHECK(!clamp_mss(f, n, 1440));
	CHECK(!memcmp(f, orig, n));
	CHECK(!clamp_mss(f, n, 1518)); /* never increased */
	CHECK_EQ_INT(get16(f + 56), 1386);

	/* MSS after the timestamps, at an even offset. */
	const uint8_t later_opts[16] = {1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 2, 4, 0x05, 0xb4};
	n = make_syn(f, 4, false, 0, later_opts, sizeof(later_opts));
	CHECK(clamp_mss(f, n, 1400));
	CHECK_EQ_INT(get16(f + 34 + 20 + 14), 1346);
	CHECK(tcp_csum_ok(f, n, 14, 4));

	/* MSS after one NOP: its value straddles two checksum words. */
	const uint8_t odd_opts[8] = {1, 2, 4, 0x05, 0xb4, 1, 1, 0};
	n = make_syn(f, 4, false, 0, odd_opts, sizeof(odd_opts));
	CHECK(clamp_mss(f, n, 1440));
	CHECK_EQ_INT(get16(f + 34 + 23), 1386);
	CHECK(tcp_csum_ok(f, n, 14, 4));

	/* IPv4 with a 24-byte header. */
	n = make_syn(f, 4, false, 1, linux_opts, sizeof(linux_opts));
	CHECK(clamp_mss(f, n, 1440));
	CHECK_EQ_INT(get16(f + 14 + 24 + 22), 1440 - 14 - 24 - 20);
	CHECK(tcp_csum_ok(f, n, 14, 4));

	/* IPv6: mtu - 74. */
	n = make_syn(f, 6, false, 0, linux_opts, sizeof(linux_opts));
	CHECK(tcp_csum_ok(f, n, 14, 6));
	CHECK(clamp_mss(f, n, 1440));
	CHECK_EQ_INT(get16(f + 14 + 40 + 22), 1366);
	CHECK(tcp_csum_ok(f, n, 14, 6));

	/* VLAN-tagged IPv4 and IPv6: 4 more bytes of header. */
	n = make_syn(f, 4, true, 0, linux_opts, sizeof(linux_opts));
	CHECK(tcp_csum_ok(f, n, 18, 4));
	CHECK(clamp_mss(f, n, 1440));
	CHECK_EQ_INT(get16(f + 18 + 20 + 22), 1382);
	CHECK(tcp_csum_ok(f, n, 18, 4));
	n = make_syn(f, 6, true, 0, linux_opts, sizeof(linux_opts));
	CHECK(tcp_csum_ok(f, n, 18, 6));
	CHECK(clamp_mss(f, n, 1440));
	CHECK_EQ_INT(get16(f + 18 + 40 + 22), 1362);
	CHECK(tcp_csum_ok(f, n, 18, 6));

	/* No MSS option at all. */
	const uint8_t no_mss[4] = {1, 1, 4, 2};
	n = make_syn(f, 4, false, 0, no_mss, sizeof(no_mss));
	CHECK(!clamp_mss(f, n, 600));

	/* MSS after EOL is not an option. */
	const uint8_t after_eol[8] = {0, 0, 0, 0, 2, 4, 0x05, 0xb4};
	n = make_syn(f, 4, false, 0, after_eol, sizeof(after_eol));
	CHECK(!clamp_mss(f, n, 600));

	/* An option with length 0 or running past the header stops the walk. */
	const uint8_t zero_len[8] = {8, 0, 2, 4, 0x05, 0xb4, 0, 0};
	n = make_syn(f, 4, false, 0, zero_len, sizeof(zero_len));
	CHECK(!clamp_mss(f, n, 600));
	const uint8_t overrun[8] = {1, 1, 1, 1, 1, 1, 2, 4};
	n = make_syn(f, 4, false, 0, overrun, sizeof(overrun));
	memcpy(orig, f, n);
	CHECK(!clamp_mss(f, n, 600));
	CHECK(!memcmp(f, orig, n));

	/* Truncated frames: data offset beyond the frame, cut IP header. */
	n = make_syn(f, 4, false, 0, linux_opts, sizeof(linux_opts));
	for(size_t cut = 0; cut < 14 + 20 + 40; cut++) {
		memcpy(orig, f, n);
		CHECK(!clamp_mss(orig, cut, 600));
	}
	/* A TCP header claiming 60 bytes inside a short segment. */
	n = make_syn(f, 4, false, 0, linux_opts, sizeof(linux_opts));
	f[34 + 12] = 0xf0;
	CHECK(!clamp_mss(f, n, 600));

	/* Non-TCP, non-first fragment. */
	n = make_syn(f, 4, false, 0, linux_opts, sizeof(linux_opts));
	f[14 + 9] = 17;
	CHECK(!clamp_mss(f, n, 600));
	n = make_syn(f, 4, false, 0, linux_opts, sizeof(linux_opts));
	f[14 + 7] = 0x10;
	CHECK(!clamp_mss(f, n, 600));
	/* A tiny mtu leaves no room: untouched rather than wrapped around. */
	n = make_syn(f, 4, false, 0, linux_opts, sizeof(linux_opts));
	CHECK(!clamp_mss(f, n, 54));
}

/* ---- fragmentation ---- */

typedef struct frags {
	int count;
	size_t len[8];
	uint8_t data[8][1600];
} frags_t;

static void collect(void *ctx, const uint8_t *frag, size_t fraglen) {
	frags_t *fr = ctx;
	if(fr->count < 8 && fraglen <= sizeof(fr->data[0])) {
		fr->len[fr->count] = fraglen;
		memcpy(fr->data[fr->count], frag, fraglen);
	}
	fr->count++;
}

static void test_fragment(void) {
	static uint8_t f[3100];
	static frags_t fr;
	size_t n = make_ipv4(f, 17, 2980, 0);
	CHECK_EQ_INT(n, 3014);

	memset(&fr, 0, sizeof(fr));
	CHECK_EQ_INT(fragment_ipv4(f, n, 1500, collect, &fr), 3);
	CHECK_EQ_INT(fr.count, 3);
	/* (1500 - 34) rounded down to 8 = 1464 bytes of payload. */
	CHECK_EQ_INT(fr.len[0], 1498);
	CHECK_EQ_INT(fr.len[1], 1498);
	CHECK_EQ_INT(fr.len[2], 34 + 52);
	const unsigned want_field[3] = {0x2000, 0x2000 | 183, 366};
	static uint8_t joined[3000];
	size_t at = 0;
	for(int i = 0; i < 3; i++) {
		const uint8_t *ip = fr.data[i] + 14;
		CHECK(!memcmp(fr.data[i], f, 14));
		CHECK_EQ_INT(get16(ip + 2), fr.len[i] - 14);
		CHECK_EQ_INT(get16(ip + 4), 0x1234);
		CHECK_EQ_INT(get16(ip + 6), want_field[i]);
		CHECK_EQ_INT(ip[0], 0x45);
		CHECK_EQ_INT(ip[8], 64);
		CHECK_EQ_INT(ip[9], 17);
		CHECK(!memcmp(ip + 12, f + 26, 8));
		CHECK(ref_ok(ip, 20, 0));
		CHECK_EQ_INT((get16(ip + 6) & 0x1fff) * 8, at);
		memcpy(joined + at, ip + 20, fr.len[i] - 34);
		at += fr.len[i] - 34;
	}
	CHECK_EQ_INT(at, 2980);
	CHECK(!memcmp(joined, f + 34, 2980));

	/* Fragmenting a fragment: DF/RF kept, offsets continue, MF stays on
	 * the last piece because more of the original follows. */
	n = make_ipv4(f, 17, 1000, 0x8000 | 0x2000 | 100);
	memset(&fr, 0, sizeof(fr));
	CHECK_EQ_INT(fragment_ipv4(f, n, 590, collect, &fr), 2);
	CHECK_EQ_INT(fr.len[0], 34 + 552);
	CHECK_EQ_INT(fr.len[1], 34 + 448);
	CHECK_EQ_INT(get16(fr.data[0] + 20), 0x8000 | 0x2000 | 100);
	CHECK_EQ_INT(get16(fr.data[1] + 20), 0x8000 | 0x2000 | (100 + 69));
	CHECK(ref_ok(fr.data[0] + 14, 20, 0));
	CHECK(ref_ok(fr.data[1] + 14, 20, 0));

	n = make_ipv4(f, 17, 1000, 0x4000);
	memset(&fr, 0, sizeof(fr));
	CHECK_EQ_INT(fragment_ipv4(f, n, 590, collect, &fr), 2);
	CHECK_EQ_INT(get16(fr.data[0] + 20), 0x4000 | 0x2000);
	CHECK_EQ_INT(get16(fr.data[1] + 20), 0x4000 | 69);

	/* Refused: IP options, length mismatch, not IPv4, no room. */
	memset(&fr, 0, sizeof(fr));
	n = make_ipv4(f, 17, 1000, 0);
	f[14] = 0x46;
	CHECK_EQ_INT(fragment_ipv4(f, n, 590, collect, &fr), 0);
	n = make_ipv4(f, 17, 1000, 0);
	CHECK_EQ_INT(fragment_ipv4(f, n - 1, 590, collect, &fr), 0);
	CHECK_EQ_INT(fragment_ipv4(f, n + 1, 590, collect, &fr), 0);
	f[12] = 0x86;
	CHECK_EQ_INT(fragment_ipv4(f, n, 590, collect, &fr), 0);
	n = make_ipv4(f, 17, 1000, 0);
	CHECK_EQ_INT(fragment_ipv4(f, n, 41, collect, &fr), 0);
	CHECK_EQ_INT(fragment_ipv4(f, 20, 590, collect, &fr), 0);
	/* Offset that would overflow 13 bits. */
	n = make_ipv4(f, 17, 1000, 0x1fff);
	CHECK_EQ_INT(fragment_ipv4(f, n, 590, collect, &fr), 0);
	CHECK_EQ_INT(fr.count, 0);
}

/* ---- ARP and neighbour discovery ---- */

static void test_arp(void) {
	/* who-has 10.0.1.5 tell 10.0.0.1, from 02:00:00:00:00:0a, padded to 60. */
	uint8_t req[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 10, 0, 0, 1,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 1, 5,
	};
	const uint8_t want[42] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0xf5, 0x08, 0x06,
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02,
		0x02, 0x00, 0x00, 0x00, 0x00, 0xf5, 10, 0, 1, 5,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 10, 0, 0, 1,
	};
	uint8_t ip[4] = {0}, out[100];

	CHECK(arp_request_target(req, sizeof(req), ip));
	CHECK(!memcmp(ip, (uint8_t[4]){10, 0, 1, 5}, 4));
	CHECK_EQ_INT(arp_build_reply(out, sizeof(out), req, sizeof(req)), 42);
	CHECK(!memcmp(out, want, 42));
	CHECK_EQ_INT(arp_build_reply(out, 41, req, sizeof(req)), 0);

	/* In place. */
	uint8_t copy[60];
	memcpy(copy, req, 60);
	CHECK_EQ_INT(arp_build_reply(copy, sizeof(copy), copy, sizeof(copy)), 42);
	CHECK(!memcmp(copy, want, 42));

	/* Not a request / not Ethernet-IPv4 / short. */
	uint8_t bad[60];
	const int fields[] = {15, 17, 18, 19, 21, 13};
	for(size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		memcpy(bad, req, 60);
		bad[fields[i]] ^= 0x02;
		CHECK(!arp_request_target(bad, sizeof(bad), ip));
		CHECK_EQ_INT(arp_build_reply(out, sizeof(out), bad, sizeof(bad)), 0);
	}
	CHECK(!arp_request_target(req, 41, ip));
}

static size_t make_ns(uint8_t *f, bool with_slla) {
	const uint8_t target[16] = {0xfd, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 5};
	const uint8_t solicited_node[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 5};
	size_t plen = 24 + (with_slla ? 8 : 0);
	memcpy(f, (uint8_t[6]){0x33, 0x33, 0xff, 0, 0, 5}, 6);
	memcpy(f + 6, MAC_A, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	uint8_t *ip = f + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[5] = (uint8_t)plen;
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, IP6_SRC, 16);
	memcpy(ip + 24, solicited_node, 16);
	uint8_t *ns = ip + 40;
	memset(ns, 0, plen);
	ns[0] = 135;
	memcpy(ns + 8, target, 16);
	if(with_slla) {
		ns[24] = 1;
		ns[25] = 1;
		memcpy(ns + 26, MAC_A, 6);
	}
	ref_fill(ns, plen, 2, ref_pseudo6(ip, 58, (unsigned)plen));
	return 54 + plen;
}

static void test_ndp(void) {
	uint8_t f[200], out[200], target[16];
	size_t n = make_ns(f, true);

	CHECK(ndp_solicitation_target(f, n, target));
	CHECK(!memcmp(target, IP6_DST, 16));
	CHECK_EQ_INT(ndp_build_advertisement(out, sizeof(out), f, n), 86);

	const uint8_t fake[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xf5};
	CHECK(!memcmp(out, MAC_A, 6));
	CHECK(!memcmp(out + 6, fake, 6));
	CHECK_EQ_INT(get16(out + 12), 0x86dd);
	const uint8_t *ip = out + 14;
	CHECK_EQ_INT(ip[0], 0x60);
	CHECK_EQ_INT(ip[1] | ip[2] | ip[3], 0);
	CHECK_EQ_INT(get16(ip + 4), 32);
	CHECK_EQ_INT(ip[6], 58);
	CHECK_EQ_INT(ip[7], 255);
	CHECK(!memcmp(ip + 8, IP6_DST, 16));
	CHECK(!memcmp(ip + 24, IP6_SRC, 16));
	const uint8_t *na = ip + 40;
	CHECK_EQ_INT(na[0], 136);
	CHECK_EQ_INT(na[1], 0);
	CHECK_EQ_INT(na[4], 0x60); /* S and O, not R */
	CHECK_EQ_INT(na[5] | na[6] | na[7], 0);
	CHECK(!memcmp(na + 8, IP6_DST, 16));
	CHECK_EQ_INT(na[24], 2);
	CHECK_EQ_INT(na[25], 1);
	CHECK(!memcmp(na + 26, fake, 6));
	CHECK(ref_ok(na, 32, ref_pseudo6(ip, 58, 32)));

	/* Without the source link-layer option, and in place. */
	n = make_ns(f, false);
	CHECK(ndp_solicitation_target(f, n, target));
	uint8_t copy[200];
	memcpy(copy, out, 86);
	CHECK_EQ_INT(ndp_build_advertisement(f, sizeof(f), f, n), 86);
	CHECK(!memcmp(f, copy, 86));

	/* Refused: bad checksum, hop limit, DAD source, zero-length option,
	 * multicast target, not a solicitation, short. */
	n = make_ns(f, true);
	f[60] ^= 1;
	CHECK(!ndp_solicitation_target(f, n, target));
	CHECK_EQ_INT(ndp_build_advertisement(out, sizeof(out), f, n), 0);
	n = make_ns(f, true);
	f[21] = 64;
	CHECK(!ndp_solicitation_target(f, n, target));

	n = make_ns(f, false);
	memset(f + 22, 0, 16);
	ref_fill(f + 54, 24, 2, ref_pseudo6(f + 14, 58, 24));
	CHECK(!ndp_solicitation_target(f, n, target));

	n = make_ns(f, true);
	f[54 + 25] = 0;
	ref_fill(f + 54, 32, 2, ref_pseudo6(f + 14, 58, 32));
	CHECK(!ndp_solicitation_target(f, n, target));

	n = make_ns(f, false);
	f[54 + 8] = 0xff;
	ref_fill(f + 54, 24, 2, ref_pseudo6(f + 14, 58, 24));
	CHECK(!ndp_solicitation_target(f, n, target));

	n = make_ns(f, false);
	f[54] = 136;
	ref_fill(f + 54, 24, 2, ref_pseudo6(f + 14, 58, 24));
	CHECK(!ndp_solicitation_target(f, n, target));

	n = make_ns(f, true);
	CHECK(!ndp_solicitation_target(f, n - 1, target));
	CHECK_EQ_INT(ndp_build_advertisement(out, 85, f, n), 0);
}

int main(void) {
	test_ipcsum();
	test_icmp4_basic();
	test_icmp4_truncation_and_mtu();
	test_icmp4_source_and_alias();
	test_icmp4_refusals();
	test_icmp6_basic();
	test_icmp6_too_big();
	test_icmp6_refusals();
	test_mss();
	test_fragment();
	test_arp();
	test_ndp();
	return unit_done();
}
