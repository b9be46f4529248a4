#include "util/compat.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "aqm/shaper.h"

#define NS_PER_SEC 1000000000ULL
/* 10 Tbit/s: beyond anything this daemon will push, and keeps
 * bytes * 8e9 + remainder far from overflowing. */
#define RATE_MAX 10000000000000ULL
/* 1 GiB: bytes * 8e9 must stay within 64 bits. */
#define BURST_MAX (1u << 30)

uint32_t shaper_default_burst(uint64_t rate_bps) {
	uint64_t per_ms = rate_bps / 8 / 1000;
	uint64_t b = MAX(per_ms, 2 * 1600ULL);
	return b > BURST_MAX ? BURST_MAX : (uint32_t)b;
}

/* Nanoseconds to send bytes at rate, rounded down (the caller keeps the rest). */
static uint64_t drain_ns(uint64_t bytes, uint64_t rate) {
	return bytes * 8 * NS_PER_SEC / rate;
}

void shaper_init(shaper_t *s, uint64_t rate_bps, uint32_t burst_bytes) {
	memset(s, 0, sizeof(*s));
	s->rate_bps = rate_bps > RATE_MAX ? RATE_MAX : rate_bps;
	s->burst_bytes = burst_bytes ? burst_bytes : shaper_default_burst(rate_bps);
	if(s->burst_bytes > BURST_MAX)
		s->burst_bytes = BURST_MAX;
	if(s->rate_bps)
		s->burst_ns = drain_ns(s->burst_bytes, s->rate_bps);
}

void shaper_set_overhead(shaper_t *s, uint32_t overhead, shaper_framing_t framing) {
	s->overhead = overhead;
	s->framing = framing;
}

uint64_t shaper_wire_bytes(const shaper_t *s, size_t len) {
	uint64_t n = (uint64_t)len + s->overhead;
	switch(s->framing) {
	case SHAPER_FRAMING_ETHERNET:
		return n + 38;
	case SHAPER_FRAMING_ATM:
		return (n + 47) / 48 * 53;
	default:
		return n;
	}
}

uint64_t shaper_next_time(const shaper_t *s, uint64_t now, size_t len) {
	if(!s->rate_bps || s->paid_until <= now)
		return now; /* bucket full: anything goes, even a packet larger than it */
	/* Tokens at time t are burst - (paid_until - t) * rate; the packet
	 * needs wire bytes of them. A packet larger than the bucket waits
	 * for a full bucket. */
	uint64_t cost = drain_ns(shaper_wire_bytes(s, len), s->rate_bps);
	uint64_t t = cost >= s->burst_ns ? s->paid_until : s->paid_until - (s->burst_ns - cost);
	return t > now ? t : now;
}

bool shaper_may_send(const shaper_t *s, uint64_t now, size_t len) {
	return shaper_next_time(s, now, len) <= now;
}

void shaper_account(shaper_t *s, uint64_t now, size_t len) {
	uint64_t wire = shaper_wire_bytes(s, len);
	s->packets++;
	s->wire_bytes += wire;
	if(!s->rate_bps)
		return;
	if(s->paid_until < now) {
		/* Idle long enough to drain: the carry drained with it. */
		s->paid_until = now;
		s->rem = 0;
	}
	/* Exact long-run rate: carry what the division leaves over. */
	uint64_t num = wire * 8 * NS_PER_SEC + s->rem;
	s->paid_until += num / s->rate_bps;
	s->rem = num % s->rate_bps;
}

const char *shaper_parse_rate(const char *text, uint64_t *bps) {
	if(!text)
		return "no rate given";
	const char *p = text;
	while(isspace((unsigned char)*p))
		p++;
	if(!*p)
		return "no rate given";
	if(!isdigit((unsigned char)*p) && *p != '.')
		return "a rate is a positive number of bits per second, like 19M, 500k or 1.5G";

	/* Integer and fraction digits, kept apart so "1.5G" is exact without
	 * floating point. */
	uint64_t whole = 0, frac = 0, frac_scale = 1;
	bool digits = false;
	for(; isdigit((unsigned char)*p); p++) {
		digits = true;
		if(whole > RATE_MAX)
			return "rate too large (at most 10T)";
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if(*p == '.') {
		p++;
		for(; isdigit((unsigned char)*p); p++) {
			digits = true;
			if(frac_scale < 1000000000000ULL) { /* finer than 1e-12 cannot matter */
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_scale *= 10;
			}
		}
	}
	if(!digits)
		return "a rate is a positive number of bits per second, like 19M, 500k or 1.5G";

	while(isspace((unsigned char)*p))
		p++;
	uint64_t mult = 1;
	switch(*p) {
	case 'k':
	case 'K':
		mult = 1000ULL;
		p++;
		break;
	case 'm':
	case 'M':
		mult = 1000000ULL;
		p++;
		break;
	case 'g':
	case 'G':
		mult = 1000000000ULL;
		p++;
		break;
	case 't':
	case 'T':
		mult = 1000000000000ULL;
		p++;
		break;
	default:
		break;
	}
	static const char *const units[] = {"bit/s", "bits/s", "bit", "bits", "bps", ""};
	size_t rest = strlen(p);
	while(rest && isspace((unsigned char)p[rest - 1]))
		rest--;
	bool unit_ok = false;
	for(size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if(strlen(units[i]) == rest && !strncasecmp(p, units[i], rest)) {
			unit_ok = true;
			break;
		}
	}
	if(!unit_ok) {
		if(rest && (p[0] == 'B' || (rest >= 4 && !strncasecmp(p, "byte", 4))))
			return "rates are in bits per second, not bytes (write 8M for 1 MB/s)";
		return "unknown unit after the number (use k, M, G or T, in bits per second)";
	}

	if(whole > RATE_MAX / mult)
		return "rate too large (at most 10T)";
	uint64_t v = whole * mult;
	/* frac / frac_scale * mult, without overflow: frac < frac_scale <= 1e12
	 * and mult <= 1e12, so split mult when needed. */
	if(frac) {
		uint64_t m = mult, fs = frac_scale;
		while(m % 10 == 0 && fs % 10 == 0 && fs > 1) {
			m /= 10;
			fs /= 10;
		}
		v += frac * m / fs;
	}
	if(v > RATE_MAX)
		return "rate too large (at most 10T)";
	if(!v)
		return "rate must be above zero";
	*bps = v;
	return NULL;
}
