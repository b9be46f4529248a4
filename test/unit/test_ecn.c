/* RFC 6040 ECN tunnelling and the DSCP/ECN bytes of inner frames.
 *
 * The tables are typed in from RFC 6040 (§4.1 and §4.2 Figure 4, as
 * reproduced in protocol.md §8.4 and §8.6); IPv4 checksums are checked with
 * a naive sum written here, not with src/ipcsum.c. */
#include "util/compat.h"

#include <string.h>

#include "packet/ecn.h"
#include "unit.h"

#define N ECN_NOT_ECT
#define E0 ECN_ECT0
#define E1 ECN_ECT1
#define CE ECN_CE

static bool ipv4_header_ok(const uint8_t *ip) {
	unsigned long s = 0;
	size_t hlen = (size_t)(ip[0] & 15) * 4;
	for(size_t i = 0; i < hlen; i += 2)
		s += (unsigned long)ip[i] << 8 | ip[i + 1];
	while(s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static void fill_ipv4_checksum(uint8_t *ip) {
	ip[10] = ip[11] = 0;
	unsigned long s = 0;
	for(size_t i = 0; i < 20; i += 2)
		s += (unsigned long)ip[i] << 8 | ip[i + 1];
	while(s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	ip[10] = (uint8_t)(s >> 8);
	ip[11] = (uint8_t)s;
}

static size_t make_ipv4(uint8_t *f, uint8_t tos, bool vlan) {
	memset(f, 0, 80);
	size_t off = vlan ? 18 : 14;
	if(vlan) {
		f[12] = 0x81;
		f[14] = 0x00;
		f[15] = 0x05;
	}
	f[off - 2] = 0x08;
	f[off - 1] = 0x00;
	uint8_t *ip = f + off;
	ip[0] = 0x45;
	ip[1] = tos;
	ip[3] = 40;
	ip[4] = 0xab;
	ip[5] = 0xcd;
	ip[8] = 64;
	ip[9] = 17;
	ip[12] = 10;
	ip[15] = 1;
	ip[16] = 10;
	ip[17] = 9;
	ip[19] = 7;
	fill_ipv4_checksum(ip);
	return off + 40;
}

static size_t make_ipv6(uint8_t *f, uint8_t tclass) {
	memset(f, 0, 80);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = (uint8_t)(0x60 | tclass >> 4);
	f[15] = (uint8_t)(tclass << 4 | 0x0a); /* flow label bits must survive */
	f[16] = 0xbc;
	f[17] = 0xde;
	f[20] = 17;
	f[21] = 64;
	return 14 + 40;
}

static void test_decap_table(void) {
	/* RFC 6040 Figure 4: rows = arriving inner, columns = arriving outer
	 * in the order Not-ECT, ECT(0), ECT(1), CE. D = drop. */
	enum { D = 9 };
	const int codes[4] = {N, E0, E1, CE};
	const int result[4][4] = {
		/* Not-ECT */ {N, N, N, D},
		/* ECT(0)  */ {E0, E0, E1, CE},
		/* ECT(1)  */ {E1, E1, E1, CE},
		/* CE      */ {CE, CE, CE, CE},
	};
	/* 3 = (!!!) currently unused, log; 1 = (!) legitimate, no alarm. */
	const int mark[4][4] = {
		{0, 3, 3, 3},
		{0, 0, 0, 0},
		{0, 1, 0, 0},
		{0, 0, 3, 0},
	};

	for(int i = 0; i < 4; i++) {
		for(int o = 0; o < 4; o++) {
			ecn_decap_result_t r = ecn_decap((uint8_t)codes[i], (uint8_t)codes[o]);
			if(result[i][o] == D) {
				CHECK_EQ_INT(r.action, ECN_DROP);
			} else {
				CHECK(r.action != ECN_DROP);
				CHECK_EQ_INT(r.ecn, result[i][o]);
			}
			if(mark[i][o] == 3 && result[i][o] != D)
				CHECK_EQ_INT(r.action, ECN_FORWARD_LOG);
			if(mark[i][o] != 3)
				CHECK_EQ_INT(r.action, ECN_FORWARD);
			CHECK_EQ_INT(r.legit_unusual, mark[i][o] == 1);
		}
	}

	/* Bits above the ECN field are ignored. */
	ecn_decap_result_t r = ecn_decap(0xb8 | E0, 0x20 | CE);
	CHECK_EQ_INT(r.ecn, CE);
	CHECK_EQ_INT(r.action, ECN_FORWARD);
}

static void test_encap_table(void) {
	/* RFC 6040 §4.1: inner -> outer, compatibility and normal mode. */
	const int inner[4] = {N, E0, E1, CE};
	const int compat[4] = {N, N, N, N};
	const int normal[4] = {N, E0, E1, CE};
	for(int i = 0; i < 4; i++) {
		CHECK_EQ_INT(ecn_encap((uint8_t)inner[i], false), compat[i]);
		CHECK_EQ_INT(ecn_encap((uint8_t)inner[i], true), normal[i]);
	}
	CHECK_EQ_INT(ECN_NOT_ECT, 0);
	CHECK_EQ_INT(ECN_ECT1, 1);
	CHECK_EQ_INT(ECN_ECT0, 2);
	CHECK_EQ_INT(ECN_CE, 3);
}

static void test_outer_tos(void) {
	/* DSCP CS0, CS1, AF41, EF as TOS bytes without ECN. */
	const uint8_t dscp_tos[4] = {0x00, 0x20, 0x88, 0xb8};
	for(int d = 0; d < 4; d++) {
		for(uint8_t e = 0; e < 4; e++) {
			uint8_t inner = (uint8_t)(dscp_tos[d] | e);
			CHECK_EQ_INT(outer_tos(inner, true, true), dscp_tos[d] | e);
			CHECK_EQ_INT(outer_tos(inner, true, false), dscp_tos[d]);
			CHECK_EQ_INT(outer_tos(inner, false, true), e);
			CHECK_EQ_INT(outer_tos(inner, false, false), 0);
		}
	}
	/* Spot values written out. */
	CHECK_EQ_INT(outer_tos(0xbb, true, true), 0xbb);
	CHECK_EQ_INT(outer_tos(0xbb, true, false), 0xb8);
	CHECK_EQ_INT(outer_tos(0x8a, false, true), 0x02);
	CHECK_EQ_INT(outer_tos(0x21, false, false), 0x00);
}

static void test_ipv4_frames(void) {
	uint8_t f[80], dscp = 0, ecn = 0, tos = 0;
	size_t n = make_ipv4(f, 0xb8 | E0, false);
	CHECK(ipv4_header_ok(f + 14));

	CHECK(ecn_frame_read(f, n, &dscp, &ecn));
	CHECK_EQ_INT(dscp, 46);
	CHECK_EQ_INT(ecn, E0);
	CHECK(ecn_frame_tos(f, n, &tos));
	CHECK_EQ_INT(tos, 0xba);

	for(uint8_t e = 0; e < 4; e++) {
		CHECK(ecn_frame_set(f, n, e));
		CHECK_EQ_INT(f[15], 0xb8 | e);
		CHECK(ipv4_header_ok(f + 14));
	}

	/* CE marking by the AQM. */
	n = make_ipv4(f, 0x88 | E1, false);
	CHECK(ecn_mark_ce(f, n));
	CHECK_EQ_INT(f[15], 0x8b);
	CHECK(ipv4_header_ok(f + 14));
	CHECK(ecn_mark_ce(f, n)); /* already CE: still ECN-capable */
	CHECK_EQ_INT(f[15], 0x8b);
	n = make_ipv4(f, 0x88, false);
	uint8_t before[80];
	memcpy(before, f, n);
	CHECK(!ecn_mark_ce(f, n));
	CHECK(!memcmp(before, f, n));

	/* Every TOS value, so carries in the checksum get exercised. */
	for(int t = 0; t < 256; t++) {
		n = make_ipv4(f, (uint8_t)t, false);
		ecn_frame_set(f, n, CE);
		CHECK(ipv4_header_ok(f + 14));
		ecn_frame_set(f, n, N);
		CHECK(ipv4_header_ok(f + 14));
		CHECK_EQ_INT(f[15], t & 0xfc);
	}

	/* VLAN-tagged. */
	n = make_ipv4(f, 0x20 | E0, true);
	CHECK(ecn_frame_read(f, n, &dscp, &ecn));
	CHECK_EQ_INT(dscp, 8);
	CHECK_EQ_INT(ecn, E0);
	CHECK(ecn_mark_ce(f, n));
	CHECK_EQ_INT(f[19], 0x23);
	CHECK(ipv4_header_ok(f + 18));

	/* Not IP / short / bad version. */
	n = make_ipv4(f, 0xb8, false);
	CHECK(!ecn_frame_tos(f, 33, &tos));
	f[12] = 0x08;
	f[13] = 0x06;
	CHECK(!ecn_frame_tos(f, n, &tos));
	CHECK(!ecn_frame_set(f, n, CE));
	n = make_ipv4(f, 0xb8, false);
	f[14] = 0x65;
	CHECK(!ecn_frame_tos(f, n, &tos));
	f[14] = 0x44;
	CHECK(!ecn_frame_tos(f, n, &tos));
}

static void test_ipv6_frames(void) {
	uint8_t f[80], dscp = 0, ecn = 0, tos = 0;
	size_t n = make_ipv6(f, 0xb8);
	CHECK_EQ_INT(f[14], 0x6b);
	CHECK_EQ_INT(f[15], 0x8a);

	CHECK(ecn_frame_read(f, n, &dscp, &ecn));
	CHECK_EQ_INT(dscp, 46);
	CHECK_EQ_INT(ecn, N);
	CHECK(!ecn_mark_ce(f, n));

	CHECK(ecn_frame_set(f, n, CE));
	CHECK_EQ_INT(f[14], 0x6b); /* version and DSCP high nibble untouched */
	CHECK_EQ_INT(f[15], 0xba); /* DSCP low bits, ECN 11, flow label nibble a */
	CHECK_EQ_INT(f[16], 0xbc);
	CHECK(ecn_frame_read(f, n, &dscp, &ecn));
	CHECK_EQ_INT(dscp, 46);
	CHECK_EQ_INT(ecn, CE);
	CHECK(ecn_frame_set(f, n, E1));
	CHECK_EQ_INT(f[15], 0x9a);
	CHECK(ecn_frame_tos(f, n, &tos));
	CHECK_EQ_INT(tos, 0xb9);

	n = make_ipv6(f, 0x28 | E0);
	CHECK(ecn_mark_ce(f, n));
	CHECK_EQ_INT(f[14], 0x62);
	CHECK_EQ_INT(f[15], 0xba);
	CHECK(ecn_frame_tos(f, n, &tos));
	CHECK_EQ_INT(tos, 0x2b);

	CHECK(!ecn_frame_tos(f, 53, &tos));
	f[14] = 0x4b;
	CHECK(!ecn_frame_tos(f, n, &tos));
}

static void test_decap_frames(void) {
	uint8_t f[80];
	size_t n = make_ipv4(f, 0x88 | E0, false);
	ecn_decap_result_t r = ecn_decap_frame(f, n, 0x88 | CE);
	CHECK_EQ_INT(r.action, ECN_FORWARD);
	CHECK_EQ_INT(f[15], 0x8b);
	CHECK(ipv4_header_ok(f + 14));

	n = make_ipv4(f, 0x88, false);
	uint8_t before[80];
	memcpy(before, f, n);
	r = ecn_decap_frame(f, n, CE);
	CHECK_EQ_INT(r.action, ECN_DROP);
	CHECK(!memcmp(before, f, n));
	r = ecn_decap_frame(f, n, E0);
	CHECK_EQ_INT(r.action, ECN_FORWARD_LOG);
	CHECK(!memcmp(before, f, n));

	n = make_ipv6(f, 0xb8 | E0);
	r = ecn_decap_frame(f, n, E1);
	CHECK_EQ_INT(r.ecn, E1);
	CHECK_EQ_INT(f[15], 0x9a);

	/* Non-IP passes untouched. */
	memset(f, 0x11, 60);
	f[12] = 0x08;
	f[13] = 0x06;
	r = ecn_decap_frame(f, 60, CE);
	CHECK_EQ_INT(r.action, ECN_FORWARD);
}

int main(void) {
	test_decap_table();
	test_encap_table();
	test_outer_tos();
	test_ipv4_frames();
	test_ipv6_frames();
	test_decap_frames();
	return unit_done();
}
