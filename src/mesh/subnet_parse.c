/* Subnet strings (protocol.md §3.7) and the subnet ordering (protocol.md §6.5).
 *
 * Parsing is deliberately a little stricter than tinc's sscanf-based parser
 * (no blanks inside numbers, MAC groups of at most two hex digits, decimal
 * octets only) while accepting everything tinc itself ever prints, so every
 * ADD_SUBNET a 1.0.36 peer sends still parses. */
#include "util/compat.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util/hex.h"
#include "mesh/node.h"
#include "mesh/subnet.h"

/* Longest address text we can be handed legitimately: a full IPv6 address
 * with a dotted-quad tail is 45 characters. */
#define MAX_ADDRESS_TEXT 64

static bool is_digit(char c) {
	return c >= '0' && c <= '9';
}


/* An optionally signed decimal integer that must span all of [s, end).
 * tinc uses "%d%n" and then insists nothing follows, which amounts to this
 * (minus its leading-blank tolerance); out-of-range values are rejected
 * rather than left to sscanf's undefined overflow behaviour. */
static bool parse_whole_int(const char *s, const char *end, int *result) {
	bool negative = false;
	if(s < end && (*s == '+' || *s == '-')) {
		negative = *s == '-';
		s++;
	}
	if(s == end)
		return false;
	long long value = 0;
	for(; s < end; s++) {
		if(!is_digit(*s))
			return false;
		value = value * 10 + (*s - '0');
		if(value > (long long)INT_MAX + 1)
			return false;
	}
	if(negative)
		value = -value;
	if(value > INT_MAX || value < INT_MIN)
		return false;
	*result = (int)value;
	return true;
}

/* Between two groups of an address: the separator must come next. */
static bool skip_separator(const char **s, char separator) {
	if(**s != separator)
		return false;
	(*s)++;
	return true;
}

/* Six groups of one or two hex digits separated by ':'. One-digit groups
 * must be accepted because that is how tinc prints MACs on the wire. */
static bool parse_mac(const char *s, uint8_t mac[6]) {
	for(int i = 0; i < 6; i++) {
		if(i > 0 && !skip_separator(&s, ':'))
			return false;
		int hi = hex_digit_value(s[0]);
		if(hi < 0)
			return false;
		int lo = hex_digit_value(s[1]);
		if(lo < 0) {
			mac[i] = (uint8_t)hi;
			s += 1;
		} else {
			mac[i] = (uint8_t)(hi * 16 + lo);
			s += 2;
		}
	}
	return *s == '\0';
}

/* Four decimal octets separated by '.'; leading zeros are plain decimal
 * (tinc reads "010" as 10, not as octal). */
static bool parse_ipv4(const char *s, uint8_t addr[4]) {
	for(int i = 0; i < 4; i++) {
		if(i > 0 && !skip_separator(&s, '.'))
			return false;
		if(!is_digit(*s))
			return false;
		unsigned value = 0;
		for(; is_digit(*s); s++) {
			value = value * 10 + (unsigned)(*s - '0');
			if(value > 255)
				return false;
		}
		addr[i] = (uint8_t)value;
	}
	return *s == '\0';
}

/* The prefix length of an address of address_bits bits: none given
 * (negative) means the address alone, more than its bits is an error. */
static bool address_prefix_bits(int given, int address_bits, int *prefix_bits) {
	if(given > address_bits)
		return false;
	*prefix_bits = given < 0 ? address_bits : given;
	return true;
}

bool subnet_parse(subnet_t *subnet, const char *str) {
	if(!str)
		return false;

	/* Everything after the first '#' is the weight, everything between the
	 * first '/' before it and the '#' is the prefix length. */
	const char *end = str + strlen(str);
	int weight = DEFAULT_WEIGHT;
	const char *hash = strchr(str, '#');
	if(hash) {
		if(!parse_whole_int(hash + 1, end, &weight))
			return false;
		end = hash;
	}

	int prefix_bits = -1;
	const char *slash = memchr(str, '/', (size_t)(end - str));
	if(slash) {
		if(!parse_whole_int(slash + 1, end, &prefix_bits) || prefix_bits < 0)
			return false;
		end = slash;
	}

	size_t addrlen = (size_t)(end - str);
	if(addrlen == 0 || addrlen >= MAX_ADDRESS_TEXT)
		return false;
	char addr[MAX_ADDRESS_TEXT];
	memcpy(addr, str, addrlen);
	addr[addrlen] = '\0';

	subnet_t parsed;
	memset(&parsed, 0, sizeof(parsed));
	parsed.weight = weight;

	if(parse_mac(addr, parsed.net.mac.address)) {
		if(prefix_bits >= 0)
			return false;
		parsed.type = SUBNET_MAC;
	} else if(parse_ipv4(addr, parsed.net.ipv4.address)) {
		if(!address_prefix_bits(prefix_bits, 32, &parsed.net.ipv4.prefix_bits))
			return false;
		parsed.type = SUBNET_IPV4;
	} else if(inet_pton(AF_INET6, addr, parsed.net.ipv6.address) == 1) {
		if(!address_prefix_bits(prefix_bits, 128, &parsed.net.ipv6.prefix_bits))
			return false;
		parsed.type = SUBNET_IPV6;
	} else {
		return false;
	}

	/* Only the parsed fields are written: owner and expiry stay the caller's. */
	subnet->type = parsed.type;
	subnet->weight = parsed.weight;
	subnet->net = parsed.net;
	return true;
}

static bool print_address(char *out, size_t outlen, const subnet_t *subnet) {
	int len;
	switch(subnet->type) {
	case SUBNET_MAC: {
		const uint8_t *m = subnet->net.mac.address;
		len = snprintf(out, outlen, "%x:%x:%x:%x:%x:%x", m[0], m[1], m[2], m[3], m[4], m[5]);
		break;
	}
	case SUBNET_IPV4: {
		const uint8_t *a = subnet->net.ipv4.address;
		len = snprintf(out, outlen, "%u.%u.%u.%u/%d", a[0], a[1], a[2], a[3],
		               subnet->net.ipv4.prefix_bits);
		break;
	}
	case SUBNET_IPV6: {
		/* tinc never compresses with "::" here; peers compare these strings
		 * only after parsing, but scripts see them verbatim. */
		const uint8_t *a = subnet->net.ipv6.address;
		unsigned g[8];
		for(int i = 0; i < 8; i++)
			g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
		len = snprintf(out, outlen, "%x:%x:%x:%x:%x:%x:%x:%x/%d", g[0], g[1], g[2], g[3],
		               g[4], g[5], g[6], g[7], subnet->net.ipv6.prefix_bits);
		break;
	}
	default:
		return false;
	}
	return len >= 0 && (size_t)len < outlen;
}

bool subnet_format_without_weight(char *out, size_t outlen, const subnet_t *subnet) {
	if(!out || !outlen || !subnet)
		return false;
	if(!print_address(out, outlen, subnet)) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool subnet_format(char *out, size_t outlen, const subnet_t *subnet) {
	if(!subnet_format_without_weight(out, outlen, subnet))
		return false;
	size_t used = strlen(out);
	int len = snprintf(out + used, outlen - used, "#%d", subnet->weight);
	if(len < 0 || (size_t)len >= outlen - used) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool host_bits_clear(const uint8_t *a, int masklen, size_t len) {
	if(masklen < 0)
		masklen = 0;
	size_t bit = (size_t)masklen;
	if(bit >= len * 8)
		return true;
	size_t i = bit / 8;
	if(bit % 8) {
		uint8_t hostmask = (uint8_t)(0xff >> (bit % 8));
		if(a[i] & hostmask)
			return false;
		i++;
	}
	for(; i < len; i++)
		if(a[i])
			return false;
	return true;
}

bool maskcmp_match(const uint8_t *net, const uint8_t *addr, int masklen) {
	if(masklen <= 0)
		return true;
	size_t full = (size_t)masklen / 8;
	if(memcmp(net, addr, full))
		return false;
	int rest = masklen % 8;
	if(!rest)
		return true;
	uint8_t netmask = (uint8_t)(0xff << (8 - rest));
	return ((net[full] ^ addr[full]) & netmask) == 0;
}

bool subnet_hostbits_zero(const subnet_t *subnet) {
	switch(subnet->type) {
	case SUBNET_MAC:
		return true;
	case SUBNET_IPV4:
		if(subnet->net.ipv4.prefix_bits < 0 || subnet->net.ipv4.prefix_bits > 32)
			return false;
		return host_bits_clear(subnet->net.ipv4.address, subnet->net.ipv4.prefix_bits, 4);
	case SUBNET_IPV6:
		if(subnet->net.ipv6.prefix_bits < 0 || subnet->net.ipv6.prefix_bits > 128)
			return false;
		return host_bits_clear(subnet->net.ipv6.address, subnet->net.ipv6.prefix_bits, 16);
	default:
		return false;
	}
}

static int cmp_int(int a, int b) {
	return (a > b) - (a < b);
}

/* Unlike tinc, which treats a missing owner as "equal to any owner", an
 * ownerless subnet sorts before every owned one with the same fields, so the
 * comparison stays a total order that a sorted array can rely on. */
static int cmp_owner(const subnet_t *a, const subnet_t *b) {
	if(!a->owner || !b->owner)
		return cmp_int(a->owner != NULL, b->owner != NULL);
	return strcmp(a->owner->name, b->owner->name);
}

int subnet_cmp(const subnet_t *a, const subnet_t *b) {
	int result = cmp_int(a->type, b->type);
	if(result)
		return result;

	switch(a->type) {
	case SUBNET_MAC:
		result = memcmp(a->net.mac.address, b->net.mac.address, 6);
		break;
	case SUBNET_IPV4:
		/* longer prefixes first, so a walk meets the most specific match first */
		result = cmp_int(b->net.ipv4.prefix_bits, a->net.ipv4.prefix_bits);
		if(!result)
			result = memcmp(a->net.ipv4.address, b->net.ipv4.address, 4);
		break;
	case SUBNET_IPV6:
		result = cmp_int(b->net.ipv6.prefix_bits, a->net.ipv6.prefix_bits);
		if(!result)
			result = memcmp(a->net.ipv6.address, b->net.ipv6.address, 16);
		break;
	}
	if(result)
		return result;

	result = cmp_int(a->weight, b->weight);
	if(result)
		return result;
	return cmp_owner(a, b);
}
