/* The address-to-sender cache (see sender_cache.h). */
#include "util/compat.h"

#include <string.h>

#include "datapath/sender_cache.h"
#include "mesh/options.h"

/* Address and port in a fixed 20 bytes, so that a slot costs 32 bytes
 * rather than a whole sockaddr_storage. */
typedef struct cache_key {
	uint8_t addr[16];
	uint16_t port;  /* network order, as in the sockaddr */
	uint8_t family; /* 0: empty slot */
	uint8_t pad;
} cache_key_t;

typedef struct cache_entry {
	cache_key_t key;
	struct node *node;
} cache_entry_t;

static cache_entry_t sets[SENDER_CACHE_SETS][SENDER_CACHE_WAYS];
/* per set: the way used last, so the other one gives way */
static uint8_t last_used[SENDER_CACHE_SETS];
static size_t held;

static bool make_key(const sockaddr_u *sa, cache_key_t *k) {
	memset(k, 0, sizeof(*k));
	if(sa->sa.sa_family == AF_INET) {
		memcpy(k->addr, &sa->in.sin_addr, 4);
		k->port = sa->in.sin_port;
	} else if(sa->sa.sa_family == AF_INET6) {
		memcpy(k->addr, &sa->in6.sin6_addr, 16);
		k->port = sa->in6.sin6_port;
	} else {
		return false;
	}
	k->family = (uint8_t)sa->sa.sa_family;
	return true;
}

static uint32_t set_of(const cache_key_t *k) {
	uint64_t h = 0x9ae16a3b2f90404fULL;
	for(size_t i = 0; i < 16; i += 8) {
		uint64_t w;
		memcpy(&w, k->addr + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	h = (h ^ ((uint64_t)k->port << 8 | k->family)) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 32;
	return (uint32_t)(h & (SENDER_CACHE_SETS - 1));
}

static cache_entry_t *lookup(const cache_key_t *k, uint32_t set) {
	for(int w = 0; w < SENDER_CACHE_WAYS; w++)
		if(sets[set][w].key.family && !memcmp(&sets[set][w].key, k, sizeof(*k))) {
			last_used[set] = (uint8_t)w;
			return &sets[set][w];
		}
	return NULL;
}

struct node *sender_cache_find(const sockaddr_u *from) {
	cache_key_t k;
	if(!make_key(from, &k))
		return NULL;
	cache_entry_t *e = lookup(&k, set_of(&k));
	return e ? e->node : NULL;
}

void sender_cache_put(const sockaddr_u *from, struct node *n) {
	cache_key_t k;
	if(!n || !make_key(from, &k))
		return;
	uint32_t set = set_of(&k);
	cache_entry_t *e = lookup(&k, set);
	if(!e) {
		int way = -1;
		for(int w = 0; w < SENDER_CACHE_WAYS && way < 0; w++)
			if(!sets[set][w].key.family)
				way = w;
		if(way < 0)
			way = !last_used[set]; /* both taken: the one not used last */
		else
			held++;
		e = &sets[set][way];
		e->key = k;
		last_used[set] = (uint8_t)way;
	}
	e->node = n;
}

static void clear_entry(cache_entry_t *e) {
	if(e->key.family)
		held--;
	memset(e, 0, sizeof(*e));
}

void sender_cache_drop(const sockaddr_u *from) {
	cache_key_t k;
	if(!make_key(from, &k))
		return;
	cache_entry_t *e = lookup(&k, set_of(&k));
	if(e)
		clear_entry(e);
}

void sender_cache_forget(const struct node *n) {
	if(!held)
		return;
	for(uint32_t s = 0; s < SENDER_CACHE_SETS; s++)
		for(int w = 0; w < SENDER_CACHE_WAYS; w++)
			if(sets[s][w].key.family && sets[s][w].node == n)
				clear_entry(&sets[s][w]);
}

void sender_cache_clear(void) {
	memset(sets, 0, sizeof(sets));
	memset(last_used, 0, sizeof(last_used));
	held = 0;
}

size_t sender_cache_count(void) {
	return held;
}

bool sender_address_follows(uint32_t peer_options, bool probe) {
	bool spreads = (peer_options & OPTION_UDP_PORTS) && (peer_options & OPTION_PMTU_DISCOVERY);
	return !spreads || probe;
}
