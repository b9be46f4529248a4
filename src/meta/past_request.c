/* The past-request cache (protocol.md §3.6): flooded requests are remembered by
 * their entire line so that a request reaching us along several paths is
 * processed and forwarded once.
 *
 * Lines come from peers, so the table is a hash set with a secret SipHash
 * key (no bucket can be targeted) and a hard cap on its size (no memory can
 * be exhausted). Entries are also chained in arrival order, which is their
 * age order: aging and eviction only ever remove from the old end. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "meta/protocol.h"
#include "util/xalloc.h"

/* ---- SipHash-2-4 ---- */

static inline uint64_t rotl64(uint64_t x, int b) {
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p) {
	uint64_t v = 0;
	for(int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND                                                               \
	do {                                                                       \
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);          \
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                               \
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                               \
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);          \
	} while(0)

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len) {
	const uint8_t *in = data;
	uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
	uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k1 ^ 0x7465646279746573ULL;

	size_t whole = len & ~(size_t)7;
	for(size_t i = 0; i < whole; i += 8) {
		uint64_t m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}

	uint64_t last = (uint64_t)len << 56;
	for(size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)in[whole + i] << (8 * i);
	v3 ^= last;
	SIPROUND;
	SIPROUND;
	v0 ^= last;

	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the cache ---- */

typedef struct past_entry {
	struct past_entry *chain; /* next in the same bucket */
	struct past_entry *newer; /* next in arrival order */
	uint64_t seen;
	uint64_t hash;
	char line[];
} past_entry_t;

struct past_cache {
	past_entry_t **buckets;
	size_t nbuckets; /* power of two */
	size_t count, cap;
	past_entry_t *oldest, *newest;
	uint8_t key[16];
};

#define INITIAL_BUCKETS 256

past_cache_t *past_cache_new(size_t cap) {
	past_cache_t *pc = xzalloc(sizeof(*pc));
	pc->cap = cap ? cap : 1;
	pc->nbuckets = INITIAL_BUCKETS;
	pc->buckets = xzalloc(pc->nbuckets * sizeof(*pc->buckets));
	if(getrandom(pc->key, sizeof(pc->key), GRND_NONBLOCK) != (ssize_t)sizeof(pc->key)) {
		/* Without kernel randomness a weaker but still per-process key. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t a = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)pc;
		uint64_t b = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts;
		memcpy(pc->key, &a, 8);
		memcpy(pc->key + 8, &b, 8);
	}
	return pc;
}

void past_cache_free(past_cache_t *pc) {
	if(!pc)
		return;
	for(past_entry_t *e = pc->oldest, *next; e; e = next) {
		next = e->newer;
		free(e);
	}
	free(pc->buckets);
	free(pc);
}

size_t past_cache_count(const past_cache_t *pc) {
	return pc ? pc->count : 0;
}

static void grow(past_cache_t *pc) {
	size_t n = pc->nbuckets * 2;
	past_entry_t **b = xzalloc(n * sizeof(*b));
	for(size_t i = 0; i < pc->nbuckets; i++) {
		for(past_entry_t *e = pc->buckets[i], *next; e; e = next) {
			next = e->chain;
			size_t j = e->hash & (n - 1);
			e->chain = b[j];
			b[j] = e;
		}
	}
	free(pc->buckets);
	pc->buckets = b;
	pc->nbuckets = n;
}

/* Remove the oldest entry (the head of the arrival list). */
static void drop_oldest(past_cache_t *pc) {
	past_entry_t *e = pc->oldest;
	if(!e)
		return;
	past_entry_t **pp = &pc->buckets[e->hash & (pc->nbuckets - 1)];
	while(*pp && *pp != e)
		pp = &(*pp)->chain;
	if(*pp)
		*pp = e->chain;
	pc->oldest = e->newer;
	if(!pc->oldest)
		pc->newest = NULL;
	pc->count--;
	free(e);
}

bool past_cache_seen(past_cache_t *pc, const char *line, uint64_t now) {
	size_t len = strlen(line);
	uint64_t h = siphash24(pc->key, line, len);
	for(past_entry_t *e = pc->buckets[h & (pc->nbuckets - 1)]; e; e = e->chain)
		if(e->hash == h && !strcmp(e->line, line))
			return true;

	while(pc->count >= pc->cap)
		drop_oldest(pc);
	if(pc->count >= pc->nbuckets)
		grow(pc);

	past_entry_t *e = xmalloc(sizeof(*e) + len + 1);
	memcpy(e->line, line, len + 1);
	e->hash = h;
	e->seen = now;
	e->newer = NULL;
	size_t i = h & (pc->nbuckets - 1);
	e->chain = pc->buckets[i];
	pc->buckets[i] = e;
	if(pc->newest)
		pc->newest->newer = e;
	else
		pc->oldest = e;
	pc->newest = e;
	pc->count++;
	return false;
}

size_t past_cache_age(past_cache_t *pc, uint64_t now, uint64_t max_age) {
	size_t dropped = 0;
	while(pc->oldest && pc->oldest->seen + max_age <= now) {
		drop_oldest(pc);
		dropped++;
	}
	return dropped;
}
