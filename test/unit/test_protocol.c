/* The meta-protocol's pure pieces: request line splitting and field
 * parsing, the ACK option-bit rules, nonces and the past-request cache. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "meta/protocol.h"
#include "unit.h"

static void test_split(void) {
	request_fields_t rf;
	CHECK_EQ_INT(request_split(&rf, "12 77caaf4 alpha beta 10.81.0.2 655 c 3"), SPLIT_OK);
	CHECK_EQ_INT(rf.count, 8);
	CHECK_EQ_STR(rf.f[0], "12");
	CHECK_EQ_STR(rf.f[2], "alpha");
	CHECK_EQ_STR(rf.f[4], "10.81.0.2");
	CHECK_EQ_STR(rf.f[7], "3");

	/* Whitespace runs separate fields, as with sscanf. */
	CHECK_EQ_INT(request_split(&rf, "  8 \t  x\r"), SPLIT_OK);
	CHECK_EQ_INT(rf.count, 2);
	CHECK_EQ_STR(rf.f[0], "8");
	CHECK_EQ_STR(rf.f[1], "x");

	CHECK_EQ_INT(request_split(&rf, ""), SPLIT_OK);
	CHECK_EQ_INT(rf.count, 0);

	/* 2048 characters is the limit of a field (protocol.md §3.2). */
	char *line = malloc(META_INBUF_SIZE + 16);
	memcpy(line, "2 ", 2);
	memset(line + 2, 'A', 2048);
	line[2 + 2048] = '\0';
	CHECK_EQ_INT(request_split(&rf, line), SPLIT_OK);
	CHECK_EQ_INT(rf.count, 2);
	CHECK_EQ_INT(strlen(rf.f[1]), 2048);
	line[2 + 2048] = 'A';
	line[2 + 2049] = '\0';
	CHECK_EQ_INT(request_split(&rf, line), SPLIT_FIELD_TOO_LONG);

	/* A whole line must fit the receive buffer. */
	memset(line, '1', META_INBUF_SIZE);
	for(int i = 1; i < META_INBUF_SIZE; i += 2)
		line[i] = ' ';
	line[META_INBUF_SIZE] = '\0';
	CHECK_EQ_INT(request_split(&rf, line), SPLIT_TOO_LONG);
	line[META_INBUF_SIZE - 1] = '\0';
	CHECK_EQ_INT(request_split(&rf, line), SPLIT_OK);
	/* Fields beyond the maximum are ignored, not an error. */
	CHECK_EQ_INT(rf.count, REQ_MAX_FIELDS);
	free(line);
}

static void test_numbers(void) {
	int v = -99;
	CHECK(parse_request_number("17", &v));
	CHECK_EQ_INT(v, 17);
	CHECK(parse_request_number("0", &v));
	CHECK_EQ_INT(v, 0);
	CHECK(!parse_request_number("-1", &v));
	CHECK(!parse_request_number("abc", &v));
	CHECK(!parse_request_number("12a", &v));
	CHECK(!parse_request_number("", &v));
	CHECK(!parse_request_number("99999999999", &v));

	int major = -1, minor = -1;
	CHECK(parse_version_field("17", &major, &minor));
	CHECK_EQ_INT(major, 17);
	CHECK_EQ_INT(minor, 0);
	CHECK(parse_version_field("17.7", &major, &minor));
	CHECK_EQ_INT(major, 17);
	CHECK_EQ_INT(minor, 7);
	CHECK(parse_version_field("16", &major, &minor));
	CHECK_EQ_INT(major, 16);
	CHECK(!parse_version_field("x17", &major, &minor));
	CHECK(!parse_version_field("17x", &major, &minor));
	CHECK(!parse_version_field("-17", &major, &minor));

	CHECK(parse_int_field("3", &v));
	CHECK_EQ_INT(v, 3);
	CHECK(parse_int_field("-5", &v));
	CHECK_EQ_INT(v, -5);
	CHECK(parse_int_field("+7", &v));
	CHECK_EQ_INT(v, 7);
	CHECK(parse_int_field("2147483647", &v));
	CHECK_EQ_INT(v, 2147483647);
	CHECK(parse_int_field("-2147483648", &v));
	CHECK_EQ_INT(v, -2147483647 - 1);
	CHECK(!parse_int_field("2147483648", &v));
	CHECK(!parse_int_field("3x", &v));
	CHECK(!parse_int_field("-", &v));
	CHECK(!parse_int_field("", &v));

	uint32_t h = 0;
	CHECK(parse_hex32_field("c", &h));
	CHECK_EQ_INT(h, 0xc);
	CHECK(parse_hex32_field("700000c", &h));
	CHECK_EQ_INT(h, 0x700000c);
	CHECK(parse_hex32_field("77CAAF4", &h));
	CHECK_EQ_INT(h, 0x77caaf4);
	CHECK(parse_hex32_field("ffffffff", &h));
	CHECK_EQ_INT(h, 0xffffffffU);
	CHECK(parse_hex32_field("0x1f", &h));
	CHECK_EQ_INT(h, 0x1f);
	CHECK(!parse_hex32_field("100000000", &h));
	CHECK(!parse_hex32_field("g", &h));
	CHECK(!parse_hex32_field("", &h));
	CHECK(!parse_hex32_field("-1", &h));

	CHECK_EQ_INT(parse_ack_port("655"), 655);
	CHECK_EQ_INT(parse_ack_port("655abc"), 655);
	CHECK_EQ_INT(parse_ack_port("0"), 0);
	CHECK_EQ_INT(parse_ack_port("70000"), 0);
	CHECK_EQ_INT(parse_ack_port("http"), 0);

	CHECK_EQ_STR(request_name(0), "ID");
	CHECK_EQ_STR(request_name(12), "ADD_EDGE");
	CHECK_EQ_STR(request_name(17), "PACKET");
	CHECK_EQ_STR(request_name(22), "UDP_INFO");
	CHECK_EQ_STR(request_name(24), "UNKNOWN");
	CHECK_EQ_STR(request_name(-1), "UNKNOWN");
}

/* Option words as tincd 1.0.36 builds them for itself (protocol.md §3.8). */
#define OWN_DEFAULT 0xcu      /* PMTU_DISCOVERY | CLAMP_MSS */
#define OWN_INDIRECT 0xdu     /* IndirectData = yes */
#define OWN_TCPONLY 0xbu      /* TCPOnly = yes: INDIRECT | TCPONLY | CLAMP_MSS */

static void test_options(void) {
	/* Defaults on both sides: ACK "c", edge "c". */
	uint32_t ours = ack_options_ours(OWN_DEFAULT, OPT_UNSET, OPT_UNSET, OPT_UNSET);
	CHECK_EQ_INT(ours, 0xc);
	CHECK_EQ_INT(ack_options_merge(ours, 0xc, OPT_UNSET), 0xc);

	/* fqtinc announces RFC 6040 decapsulation, ECN path probes and several
	 * source ports in its ACK only ... */
	CHECK_EQ_INT(ack_options_announce(ours), 0x7c);
	/* ... so an edge towards a 1.0.36 peer stays "c" ... */
	CHECK_EQ_INT(ack_options_merge(ours, 0xc, OPT_UNSET), 0xc);
	/* ... and an edge towards another fqtinc carries the peer's bit. */
	CHECK_EQ_INT(ack_options_merge(ours, 0x1c, OPT_UNSET), 0x1c);
	/* Our own bit never lands on our edge, even if it slipped in. */
	CHECK_EQ_INT(ack_options_merge(0x1c, 0xc, OPT_UNSET), 0xc);
	CHECK_EQ_INT(ack_options_merge(0x3c, 0xc, OPT_UNSET), 0xc);
	CHECK_EQ_INT(ack_options_merge(ours, 0x3c, OPT_UNSET), 0x3c);
	CHECK_EQ_INT(ack_options_merge(0x7c, 0xc, OPT_UNSET), 0xc);
	CHECK_EQ_INT(ack_options_merge(ours, 0x7c, OPT_UNSET), 0x7c);

	/* IndirectData, own or in hosts/PEER: "d". */
	ours = ack_options_ours(OWN_INDIRECT, OPT_UNSET, OPT_UNSET, OPT_UNSET);
	CHECK_EQ_INT(ours, 0xd);
	CHECK_EQ_INT(ack_options_merge(ours, 0xc, OPT_UNSET), 0xd);
	CHECK_EQ_INT(ack_options_ours(OWN_DEFAULT, OPT_YES, OPT_UNSET, OPT_UNSET), 0xd);
	CHECK_EQ_INT(ack_options_merge(0xc, 0xd, OPT_UNSET), 0xd);

	/* TCPOnly: "b", no PMTU discovery (protocol.md §3.8). */
	CHECK_EQ_INT(ack_options_ours(OWN_TCPONLY, OPT_UNSET, OPT_UNSET, OPT_UNSET), 0xb);
	CHECK_EQ_INT(ack_options_ours(OWN_DEFAULT, OPT_UNSET, OPT_YES, OPT_UNSET), 0xb);
	/* PMTU_DISCOVERY is AND-ed: one side without it clears it on both. */
	CHECK_EQ_INT(ack_options_merge(0xb, 0xc, OPT_UNSET), 0xb);
	CHECK_EQ_INT(ack_options_merge(0xc, 0xb, OPT_UNSET), 0xb);
	CHECK_EQ_INT(ack_options_merge(0xc, 0x8, OPT_UNSET), 0x8);
	CHECK_EQ_INT(ack_options_merge(0x8, 0xc, OPT_UNSET), 0x8);

	/* A tinc 1.1 peer's minor version in the top byte is carried along. */
	CHECK_EQ_INT(ack_options_merge(0xc, 0x700000c, OPT_UNSET), 0x700000c);

	/* ClampMSS in hosts/PEER decides, when sending and after receiving. */
	ours = ack_options_ours(OWN_DEFAULT, OPT_UNSET, OPT_UNSET, OPT_NO);
	CHECK_EQ_INT(ours, 0x4);
	CHECK_EQ_INT(ack_options_merge(ours, 0xc, OPT_NO), 0x4);
	CHECK_EQ_INT(ack_options_merge(ours, 0xc, OPT_UNSET), 0xc);
	CHECK_EQ_INT(ack_options_ours(0x4, OPT_UNSET, OPT_UNSET, OPT_YES), 0xc);
	CHECK_EQ_INT(ack_options_merge(0x4, 0x4, OPT_YES), 0xc);
}

static int cmp_u32(const void *a, const void *b) {
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static size_t count_duplicates(uint32_t *v, size_t n) {
	qsort(v, n, sizeof(*v), cmp_u32);
	size_t dups = 0;
	for(size_t i = 1; i < n; i++)
		dups += v[i] == v[i - 1];
	return dups;
}

static void test_nonces(void) {
	enum { N = 200000 };
	uint32_t *v = malloc(N * sizeof(*v));
	bool in_range = true;
	for(size_t i = 0; i < N; i++) {
		v[i] = request_nonce();
		in_range &= v[i] <= 0x7fffffffU;
	}
	CHECK(in_range);
	CHECK_EQ_INT(count_duplicates(v, N), 0);

	/* Even the worst seed (step 1, start 0) gives distinct values that do
	 * not look like a counter on the wire. */
	nonce_gen_t g;
	nonce_gen_seed(&g, 0, 0);
	for(size_t i = 0; i < N; i++)
		v[i] = nonce_gen_next(&g);
	CHECK(v[1] != v[0] + 1);
	CHECK(v[2] - v[1] != v[1] - v[0]);
	CHECK_EQ_INT(count_duplicates(v, N), 0);

	/* The same seed repeats, a different one does not. */
	nonce_gen_t a, b, d;
	nonce_gen_seed(&a, 12345, 678);
	nonce_gen_seed(&b, 12345, 678);
	nonce_gen_seed(&d, 12346, 678);
	bool same = true, differ = false;
	for(int i = 0; i < 100; i++) {
		uint32_t x = nonce_gen_next(&a), y = nonce_gen_next(&b), z = nonce_gen_next(&d);
		same &= x == y;
		differ |= x != z;
	}
	CHECK(same);
	CHECK(differ);
	free(v);
}

static void test_siphash(void) {
	/* Reference vectors of the SipHash paper: key 00..0f. */
	uint8_t key[16], msg[15];
	for(int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for(int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	CHECK(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	CHECK(siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
}

#define SEC 1000000000ULL

static void test_past_cache(void) {
	past_cache_t *pc = past_cache_new(PAST_REQUEST_CAP);
	const char *a = "12 77caaf4 alpha beta 10.81.0.2 655 c 3";
	const char *b = "12 77caaf5 alpha beta 10.81.0.2 655 c 3";

	CHECK(!past_cache_seen(pc, a, 1 * SEC));
	CHECK(past_cache_seen(pc, a, 2 * SEC));        /* duplicate dropped */
	CHECK(!past_cache_seen(pc, b, 3 * SEC));       /* another nonce is new */
	CHECK_EQ_INT(past_cache_count(pc), 2);

	/* PingInterval 60 s: remembered until 60 s after first sight. */
	CHECK_EQ_INT(past_cache_age(pc, 60 * SEC, 60 * SEC), 0);
	CHECK(past_cache_seen(pc, a, 60 * SEC));
	CHECK_EQ_INT(past_cache_age(pc, 61 * SEC, 60 * SEC), 1);
	CHECK_EQ_INT(past_cache_count(pc), 1);
	CHECK(past_cache_seen(pc, b, 62 * SEC));
	CHECK(!past_cache_seen(pc, a, 62 * SEC));      /* aged out: new again */
	CHECK_EQ_INT(past_cache_age(pc, 200 * SEC, 60 * SEC), 2);
	CHECK_EQ_INT(past_cache_count(pc), 0);
	past_cache_free(pc);

	/* Bounded: a flood forgets its oldest lines, keeps the newest. */
	pc = past_cache_new(1000);
	char line[64];
	for(int i = 0; i < 5000; i++) {
		snprintf(line, sizeof(line), "10 %x n%d 10.0.0.0/8#10", i, i);
		past_cache_seen(pc, line, SEC);
	}
	CHECK_EQ_INT(past_cache_count(pc), 1000);
	snprintf(line, sizeof(line), "10 %x n%d 10.0.0.0/8#10", 4999, 4999);
	CHECK(past_cache_seen(pc, line, SEC));
	snprintf(line, sizeof(line), "10 %x n%d 10.0.0.0/8#10", 4000, 4000);
	CHECK(past_cache_seen(pc, line, SEC));
	snprintf(line, sizeof(line), "10 %x n%d 10.0.0.0/8#10", 3999, 3999);
	CHECK(!past_cache_seen(pc, line, SEC));
	CHECK_EQ_INT(past_cache_count(pc), 1000);
	past_cache_free(pc);

	/* The daemon's cap, overrun twice: stays bounded and fast. */
	pc = past_cache_new(PAST_REQUEST_CAP);
	for(int i = 0; i < 2 * PAST_REQUEST_CAP; i++) {
		snprintf(line, sizeof(line), "13 %x a b", i);
		past_cache_seen(pc, line, (uint64_t)i);
	}
	CHECK_EQ_INT(past_cache_count(pc), PAST_REQUEST_CAP);
	CHECK_EQ_INT(past_cache_age(pc, 2ULL * PAST_REQUEST_CAP + 10, 10), PAST_REQUEST_CAP);
	CHECK_EQ_INT(past_cache_count(pc), 0);
	past_cache_free(pc);
}

int main(void) {
	test_split();
	test_numbers();
	test_options();
	test_nonces();
	test_siphash();
	test_past_cache();
	return unit_done();
}
