/* Subnet strings (protocol.md §3.7) and ordering (protocol.md §6.5). */
#include "util/compat.h"

#include <string.h>

#include "mesh/node.h"
#include "mesh/subnet.h"
#include "unit.h"

/* Parse str and print it back in wire form; "" when parsing fails. */
static const char *roundtrip(const char *str) {
	static char out[SUBNET_TEXT_MAX];
	subnet_t s;
	memset(&s, 0, sizeof(s));
	if(!subnet_parse(&s, str))
		return "";
	if(!subnet_format(out, sizeof(out), &s))
		return "(net2str failed)";
	return out;
}

static subnet_t parse(const char *str) {
	subnet_t s;
	memset(&s, 0, sizeof(s));
	if(!subnet_parse(&s, str))
		s.type = (subnet_kind_t)-1;
	return s;
}

static void test_spec_examples(void) {
	CHECK_EQ_STR(roundtrip("10.81.1.1/32#10"), "10.81.1.1/32#10");
	CHECK_EQ_STR(roundtrip("fd81:1::1"), "fd81:1:0:0:0:0:0:1/128#10");
	CHECK_EQ_STR(roundtrip("fd81:1:0:0:0:0:0:1/128#10"), "fd81:1:0:0:0:0:0:1/128#10");
	CHECK_EQ_STR(roundtrip("22:95:1d:68:b8:3d#10"), "22:95:1d:68:b8:3d#10");
	CHECK_EQ_STR(roundtrip("2:0:a:0:0:1#10"), "2:0:a:0:0:1#10");
	CHECK_EQ_STR(roundtrip("02:00:0a:00:00:01"), "2:0:a:0:0:1#10");
	CHECK_EQ_STR(roundtrip("22:95:1D:68:B8:3D"), "22:95:1d:68:b8:3d#10");

	subnet_t s = parse("10.81.1.1/32#10");
	CHECK_EQ_INT(s.type, SUBNET_IPV4);
	CHECK_EQ_INT(s.net.ipv4.prefix_bits, 32);
	CHECK_EQ_INT(s.weight, 10);
	CHECK(!memcmp(s.net.ipv4.address, "\x0a\x51\x01\x01", 4));

	s = parse("fd81:1::1");
	CHECK_EQ_INT(s.type, SUBNET_IPV6);
	CHECK_EQ_INT(s.net.ipv6.prefix_bits, 128);
	CHECK(!memcmp(s.net.ipv6.address,
	              "\xfd\x81\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16));

	s = parse("22:95:1d:68:b8:3d#10");
	CHECK_EQ_INT(s.type, SUBNET_MAC);
	CHECK(!memcmp(s.net.mac.address, "\x22\x95\x1d\x68\xb8\x3d", 6));
}

static void test_defaults_and_forms(void) {
	subnet_t s = parse("10.0.0.0/8");
	CHECK_EQ_INT(s.type, SUBNET_IPV4);
	CHECK_EQ_INT(s.weight, DEFAULT_WEIGHT);
	CHECK_EQ_INT(s.weight, 10);
	CHECK_EQ_INT(s.net.ipv4.prefix_bits, 8);
	CHECK_EQ_STR(roundtrip("10.81.1.1"), "10.81.1.1/32#10");
	CHECK_EQ_STR(roundtrip("10.0.0.0/8#5"), "10.0.0.0/8#5");
	CHECK_EQ_STR(roundtrip("10.0.0.0#7"), "10.0.0.0/32#7");
	CHECK_EQ_STR(roundtrip("10.0.0.0/8#-3"), "10.0.0.0/8#-3");
	CHECK_EQ_STR(roundtrip("010.001.0.0/016"), "10.1.0.0/16#10");
	CHECK_EQ_STR(roundtrip("0.0.0.0/0"), "0.0.0.0/0#10");
	CHECK_EQ_STR(roundtrip("::/0"), "0:0:0:0:0:0:0:0/0#10");
	CHECK_EQ_STR(roundtrip("::ffff:10.1.2.3"), "0:0:0:0:0:ffff:a01:203/128#10");
	CHECK_EQ_STR(roundtrip("FD81:0001::/48#20"), "fd81:1:0:0:0:0:0:0/48#20");
	CHECK_EQ_STR(roundtrip("1:2:3:4:5:6:7:8"), "1:2:3:4:5:6:7:8/128#10");
	/* Six single-digit groups are a MAC, not an (invalid) IPv6 address. */
	CHECK_EQ_INT(parse("1:2:3:4:5:6").type, SUBNET_MAC);

	char out[SUBNET_TEXT_MAX];
	s = parse("10.81.1.0/24#30");
	CHECK(subnet_format_without_weight(out, sizeof(out), &s));
	CHECK_EQ_STR(out, "10.81.1.0/24");
	s = parse("fd81:1::1");
	CHECK(subnet_format_without_weight(out, sizeof(out), &s));
	CHECK_EQ_STR(out, "fd81:1:0:0:0:0:0:1/128");
	s = parse("2:0:a:0:0:1#10");
	CHECK(subnet_format_without_weight(out, sizeof(out), &s));
	CHECK_EQ_STR(out, "2:0:a:0:0:1");

	/* The longest output fits in SUBNET_TEXT_MAX; a short buffer is refused. */
	s = parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128#-2147483648");
	CHECK_EQ_INT(s.type, SUBNET_IPV6);
	CHECK(subnet_format(out, sizeof(out), &s));
	CHECK_EQ_STR(out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128#-2147483648");
	CHECK(!subnet_format(out, 10, &s));

	/* subnet_parse leaves owner and expiry alone. */
	node_t owner;
	memset(&owner, 0, sizeof(owner));
	s.owner = &owner;
	s.expires = 42;
	CHECK(subnet_parse(&s, "10.0.0.1"));
	CHECK(s.owner == &owner);
	CHECK_EQ_INT(s.expires, 42);
}

static void test_errors(void) {
	static const char *const bad[] = {
		"",
		"#10",
		"/24",
		"2:0:a:0:0:1/48",      /* MAC with a prefix */
		"10.0.0.0/33",
		"fd81::/129",
		"10.256.0.0",
		"10.0.0.0/8#10x",      /* trailing junk after the weight */
		"10.0.0.0/8#",
		"10.0.0.0/",
		"10.0.0.0/-1",
		"10.0.0.0/8x",
		"10.0.0.0/8 ",
		"10.0.0.0/8#99999999999",
		"1.2.3",
		"1.2.3.4.5",
		"1.2.3.4 ",
		" 1.2.3.4",
		"fd81:::1",
		"fd81::1::2",
		"123:2:3:4:5:6",       /* three-digit MAC group */
		"1:2:3:4:5:6:7",
		"g::1",
		"22:95:1d:68:b8",
		"22:95:1d:68:b8:3d:",
		"10.0.0.0#5/8",
	};
	for(size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		subnet_t s;
		memset(&s, 0, sizeof(s));
		bool ok = subnet_parse(&s, bad[i]);
		if(ok)
			fprintf(stderr, "unexpectedly parsed: \"%s\"\n", bad[i]);
		CHECK(!ok);
	}

	char longstr[300];
	memset(longstr, '1', sizeof(longstr) - 1);
	longstr[sizeof(longstr) - 1] = '\0';
	subnet_t s;
	CHECK(!subnet_parse(&s, longstr));
	CHECK(!subnet_parse(&s, NULL));
}

static void test_hostbits(void) {
	subnet_t s = parse("10.1.2.3/24");
	CHECK_EQ_INT(s.type, SUBNET_IPV4);
	CHECK(!subnet_hostbits_zero(&s));
	s = parse("10.1.2.0/24");
	CHECK(subnet_hostbits_zero(&s));
	s = parse("10.0.0.128/25");
	CHECK(subnet_hostbits_zero(&s));
	s = parse("10.0.0.64/25");
	CHECK(!subnet_hostbits_zero(&s));
	s = parse("0.0.0.0/0");
	CHECK(subnet_hostbits_zero(&s));
	s = parse("10.1.2.3");
	CHECK(subnet_hostbits_zero(&s));
	s = parse("fd81::1/64");
	CHECK(!subnet_hostbits_zero(&s));
	s = parse("fd81::/64");
	CHECK(subnet_hostbits_zero(&s));
	s = parse("fd81:0:0:1::/63");
	CHECK(!subnet_hostbits_zero(&s));
	s = parse("22:95:1d:68:b8:3d");
	CHECK(subnet_hostbits_zero(&s));

	const uint8_t net[4] = {10, 1, 2, 0};
	const uint8_t in[4] = {10, 1, 2, 127};
	const uint8_t out[4] = {10, 1, 2, 128};
	const uint8_t other[4] = {11, 1, 2, 0};
	CHECK(maskcmp_match(net, in, 24));
	CHECK(maskcmp_match(net, in, 25));
	CHECK(!maskcmp_match(net, out, 25));
	CHECK(!maskcmp_match(net, in, 32));
	CHECK(!maskcmp_match(net, other, 8));
	CHECK(maskcmp_match(net, other, 7));
	CHECK(maskcmp_match(net, other, 0));

	const uint8_t a[4] = {10, 1, 2, 0x80};
	CHECK(host_bits_clear(a, 25, 4));
	CHECK(!host_bits_clear(a, 24, 4));
	CHECK(host_bits_clear(a, 32, 4));
	CHECK(!host_bits_clear(a, 0, 4));
}

static void test_compare(void) {
	subnet_t host = parse("10.1.1.1/32");
	subnet_t net24 = parse("10.1.1.0/24");
	CHECK(subnet_cmp(&host, &net24) < 0); /* longer prefix first */
	CHECK(subnet_cmp(&net24, &host) > 0);

	subnet_t w5 = parse("10.1.1.0/24#5");
	subnet_t w10 = parse("10.1.1.0/24#10");
	CHECK(subnet_cmp(&w5, &w10) < 0);     /* lower weight first */
	CHECK(subnet_cmp(&w10, &w5) > 0);

	subnet_t low = parse("10.1.1.0/24#100");
	subnet_t high = parse("10.1.2.0/24#1");
	CHECK(subnet_cmp(&low, &high) < 0);   /* address before weight */

	subnet_t mac = parse("2:0:a:0:0:1");
	subnet_t v6 = parse("fd81::/64");
	subnet_t v6host = parse("fd81::1");
	CHECK(subnet_cmp(&mac, &host) < 0);   /* MAC, then IPv4, then IPv6 */
	CHECK(subnet_cmp(&host, &v6) < 0);
	CHECK(subnet_cmp(&v6host, &v6) < 0);

	subnet_t mac2 = parse("2:0:a:0:0:2#1");
	CHECK(subnet_cmp(&mac, &mac2) < 0);   /* MAC: address before weight */

	node_t alpha, beta;
	memset(&alpha, 0, sizeof(alpha));
	memset(&beta, 0, sizeof(beta));
	alpha.name = "alpha";
	beta.name = "beta";
	subnet_t a = parse("10.1.1.0/24"), b = parse("10.1.1.0/24"), none = parse("10.1.1.0/24");
	a.owner = &alpha;
	b.owner = &beta;
	CHECK(subnet_cmp(&a, &b) < 0);
	CHECK(subnet_cmp(&b, &a) > 0);
	CHECK(subnet_cmp(&none, &a) < 0);     /* no owner sorts first */
	CHECK(subnet_cmp(&a, &none) > 0);
	CHECK_EQ_INT(subnet_cmp(&a, &a), 0);
	CHECK_EQ_INT(subnet_cmp(&none, &none), 0);
}

int main(void) {
	test_spec_examples();
	test_defaults_and_forms();
	test_errors();
	test_hostbits();
	test_compare();
	return unit_done();
}
