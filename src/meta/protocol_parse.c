/* Pure helpers of the meta-protocol: splitting request lines into fields,
 * parsing numeric fields without sscanf's silent truncation and overflow,
 * the option-bit rules of ACK (protocol.md §3.8) and nonce generation (protocol.md §3.6). */
#include "util/compat.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "util/hex.h"
#include "meta/protocol.h"

static const char *const request_names[REQ_LAST] = {
	"ID", "METAKEY", "CHALLENGE", "CHAL_REPLY", "ACK",
	"STATUS", "ERROR", "TERMREQ",
	"PING", "PONG",
	"ADD_SUBNET", "DEL_SUBNET",
	"ADD_EDGE", "DEL_EDGE",
	"KEY_CHANGED", "REQ_KEY", "ANS_KEY", "PACKET",
	"CONTROL", "REQ_PUBKEY", "ANS_PUBKEY", "SPTPS_PACKET", "UDP_INFO", "MTU_INFO",
};

const char *request_name(int request) {
	if(request < 0 || request >= REQ_LAST)
		return "UNKNOWN";
	return request_names[request];
}

/* ---- fields ---- */

/* The separators of sscanf's %s conversion. */
static bool is_field_space(char c) {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

split_result_t request_split(request_fields_t *rf, const char *line) {
	rf->count = 0;
	size_t len = strnlen(line, sizeof(rf->buf));
	if(len >= sizeof(rf->buf))
		return SPLIT_TOO_LONG;
	memcpy(rf->buf, line, len + 1);

	char *p = rf->buf;
	while(rf->count < REQ_MAX_FIELDS) {
		while(*p && is_field_space(*p))
			p++;
		if(!*p)
			break;
		char *start = p;
		while(*p && !is_field_space(*p))
			p++;
		/* sscanf with a width would silently split an overlong field into
		 * two; a peer that sends one is broken or hostile, so refuse. */
		if((size_t)(p - start) > MAX_FIELD_LEN)
			return SPLIT_FIELD_TOO_LONG;
		rf->f[rf->count++] = start;
		if(*p)
			*p++ = '\0';
	}
	return SPLIT_OK;
}

/* Accumulate decimal digits into *value; false on overflow beyond limit or
 * when no digit is present. *end points past the last digit. */
static bool decimal_digits(const char *s, unsigned long long limit, unsigned long long *value,
                           const char **end) {
	unsigned long long v = 0;
	const char *p = s;
	if(*p < '0' || *p > '9')
		return false;
	for(; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if(v > limit)
			return false;
	}
	*value = v;
	*end = p;
	return true;
}

bool parse_int_field(const char *s, int *out) {
	bool negative = false;
	if(*s == '+' || *s == '-') {
		negative = *s == '-';
		s++;
	}
	unsigned long long v;
	const char *end;
	unsigned long long limit = negative ? (unsigned long long)INT_MAX + 1 : (unsigned long long)INT_MAX;
	if(!decimal_digits(s, limit, &v, &end) || *end)
		return false;
	*out = negative ? (int)(-(long long)v) : (int)v;
	return true;
}


bool parse_hex32_field(const char *s, uint32_t *out) {
	if(s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hex_digit_value(s[2]) >= 0)
		s += 2;
	if(!*s)
		return false;
	uint64_t v = 0;
	for(; *s; s++) {
		int d = hex_digit_value(*s);
		if(d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
		if(v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

bool parse_request_number(const char *s, int *out) {
	unsigned long long v;
	const char *end;
	if(!decimal_digits(s, INT_MAX, &v, &end) || *end)
		return false;
	*out = (int)v;
	return true;
}

bool parse_version_field(const char *s, int *major, int *minor) {
	unsigned long long v;
	const char *end;
	if(!decimal_digits(s, INT_MAX, &v, &end))
		return false;
	*major = (int)v;
	*minor = 0;
	if(!*end)
		return true;
	/* tinc 1.1 sends "17.MINOR"; only the major number is compared. */
	if(*end != '.')
		return false;
	const char *m = end + 1;
	if(decimal_digits(m, INT_MAX, &v, &end) && !*end)
		*minor = (int)v;
	return true;
}

uint16_t parse_ack_port(const char *s) {
	unsigned long long v;
	const char *end;
	while(is_field_space(*s))
		s++;
	if(*s == '+')
		s++;
	if(!decimal_digits(s, 65535, &v, &end))
		return 0;
	return (uint16_t)v;
}

/* ---- option bits ---- */

uint32_t ack_options_ours(uint32_t own, int peer_indirect, int peer_tcponly, int peer_clampmss) {
	uint32_t o = 0;
	if(peer_indirect == OPT_YES || (own & OPTION_INDIRECT))
		o |= OPTION_INDIRECT;
	if(peer_tcponly == OPT_YES || (own & OPTION_TCPONLY))
		o |= OPTION_TCPONLY | OPTION_INDIRECT;
	if((own & OPTION_PMTU_DISCOVERY) && !(o & OPTION_TCPONLY))
		o |= OPTION_PMTU_DISCOVERY;
	bool clamp = own & OPTION_CLAMP_MSS;
	if(peer_clampmss != OPT_UNSET)
		clamp = peer_clampmss == OPT_YES;
	if(clamp)
		o |= OPTION_CLAMP_MSS;
	return o;
}

uint32_t ack_options_announce(uint32_t ours) {
	return ours | OPTION_ECN_RFC6040 | OPTION_ECN_PATH_PROBES | OPTION_UDP_PORTS;
}

uint32_t ack_options_merge(uint32_t ours, uint32_t theirs, int peer_clampmss) {
	/* Our own capability bits must never describe us on our own edge. */
	ours &= ~(uint32_t)(OPTION_ECN_RFC6040 | OPTION_ECN_PATH_PROBES | OPTION_UDP_PORTS);
	if(!(ours & theirs & OPTION_PMTU_DISCOVERY)) {
		ours &= ~(uint32_t)OPTION_PMTU_DISCOVERY;
		theirs &= ~(uint32_t)OPTION_PMTU_DISCOVERY;
	}
	uint32_t o = ours | theirs;
	if(peer_clampmss == OPT_YES)
		o |= OPTION_CLAMP_MSS;
	else if(peer_clampmss == OPT_NO)
		o &= ~(uint32_t)OPTION_CLAMP_MSS;
	return o;
}

/* ---- nonces ---- */

#define NONCE_MASK 0x7fffffffU

void nonce_gen_seed(nonce_gen_t *g, uint32_t start, uint32_t step) {
	g->next = start & NONCE_MASK;
	/* An odd step walks through all 2^31 values before repeating. */
	g->step = (step | 1) & NONCE_MASK;
	g->seeded = true;
}

/* A fixed bijection on 31-bit values, so that the counter above does not
 * show on the wire as an arithmetic progression. Each step is invertible:
 * xor with a right shift, and multiplication by an odd constant mod 2^31. */
static uint32_t scramble31(uint32_t x) {
	x &= NONCE_MASK;
	x ^= x >> 16;
	x = (x * 0x45d9f3bU) & NONCE_MASK;
	x ^= x >> 13;
	x = (x * 0x2c1b3c6dU) & NONCE_MASK;
	x ^= x >> 15;
	return x;
}

uint32_t nonce_gen_next(nonce_gen_t *g) {
	uint32_t v = g->next;
	g->next = (g->next + g->step) & NONCE_MASK;
	return scramble31(v);
}

uint32_t request_nonce(void) {
	static nonce_gen_t gen;
	if(!gen.seeded) {
		uint32_t seed[2];
		if(getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
			/* Nonces carry no security; only distinctness matters. */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			seed[0] = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16;
			seed[1] = (uint32_t)ts.tv_sec * 2654435761U ^ (uint32_t)getpid();
		}
		nonce_gen_seed(&gen, seed[0], seed[1]);
	}
	return nonce_gen_next(&gen);
}
