#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "mesh/node.h"
#include "mesh/subnet.h"
#include "util/xalloc.h"

sset_t subnets_all;

/* ---- lookup cache ----
 *
 * Traffic tends to go to a handful of destinations, so remembering the last
 * two answers per family saves most walks. Entries hold subnet pointers and
 * answers depend on reachability, so every table or graph change flushes. */

#define CACHE_SLOTS 2

typedef struct cache_ipv4 {
	bool valid;
	uint8_t address[4];
	subnet_t *result;
} cache_ipv4_t;

typedef struct cache_ipv6 {
	bool valid;
	uint8_t address[16];
	subnet_t *result;
} cache_ipv6_t;

typedef struct cache_mac {
	bool valid;
	const node_t *owner; /* the owner filter of the query, NULL = any */
	uint8_t address[6];
	subnet_t *result;
} cache_mac_t;

static cache_ipv4_t cache4[CACHE_SLOTS];
static cache_ipv6_t cache6[CACHE_SLOTS];
static cache_mac_t cachemac[CACHE_SLOTS];
static unsigned next4, next6, nextmac; /* round-robin replacement */

void subnet_lookup_cache_clear(void) {
	for(int i = 0; i < CACHE_SLOTS; i++) {
		cache4[i].valid = false;
		cache6[i].valid = false;
		cachemac[i].valid = false;
	}
}

/* ---- index of prefix-length runs ----
 *
 * Within one IP type the table is ordered by prefix length, longest first, so
 * the entries of each length form a run. The lookups visit the runs in order
 * and enter each one by binary search; the run boundaries are recomputed,
 * lazily, only after the table changed. */

typedef struct prefix_run {
	int prefix;
	size_t start, end; /* [start, end) in subnets_all */
} prefix_run_t;

typedef struct run_index {
	prefix_run_t *runs;
	size_t count, capacity;
	bool stale;
} run_index_t;

static run_index_t runs4 = {.stale = true};
static run_index_t runs6 = {.stale = true};

static void run_index_free(run_index_t *ri) {
	free(ri->runs);
	*ri = (run_index_t){.stale = true};
}

/* Every change of the table goes through here. The runs hold positions in
 * subnets_all, and an insertion or removal of any type shifts the positions
 * of all later types, so both indexes go stale. */
static void table_changed(void) {
	subnet_lookup_cache_clear();
	runs4.stale = true;
	runs6.stale = true;
}

/* ---- the tables ---- */

static int subnet_item_cmp(const void *a, const void *b) {
	return subnet_cmp(a, b);
}

subnet_t *subnet_new(void) {
	subnet_t *s = xzalloc(sizeof(*s));
	s->weight = DEFAULT_WEIGHT;
	return s;
}

void subnet_free(subnet_t *subnet) {
	free(subnet);
}

void subnet_table_init(void) {
	sset_init(&subnets_all, subnet_item_cmp);
	table_changed();
}

/* Remove s from set by pointer; scan if the ordered removal misses (a field
 * the comparator reads was changed while s was linked, or s is not there). */
static void remove_ptr(sset_t *set, const subnet_t *s) {
	if(sset_remove(set, s))
		return;
	for(size_t i = 0; i < set->count; i++) {
		if(set->items[i] == s) {
			memmove(&set->items[i], &set->items[i + 1], (set->count - i - 1) * sizeof(void *));
			set->count--;
			return;
		}
	}
}

void subnet_table_exit(void) {
	while(subnets_all.count) {
		subnet_t *s = subnets_all.items[subnets_all.count - 1];
		subnets_all.count--;
		if(s->owner)
			remove_ptr(&s->owner->subnets, s);
		subnet_free(s);
	}
	sset_clear(&subnets_all, NULL);
	run_index_free(&runs4);
	run_index_free(&runs6);
	table_changed();
}

void subnet_attach(node_t *owner, subnet_t *subnet) {
	subnet->owner = owner;
	owner->subnets.cmp = subnet_item_cmp;
	if(!sset_insert(&owner->subnets, subnet)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Bug: the same subnet was added twice to %s", owner->name);
		return;
	}
	sset_insert(&subnets_all, subnet);
	table_changed();
}

void subnet_detach(node_t *owner, subnet_t *subnet) {
	if(!subnet)
		return;
	if(!owner)
		owner = subnet->owner;
	if(owner)
		remove_ptr(&owner->subnets, subnet);
	remove_ptr(&subnets_all, subnet);
	table_changed();
	subnet_free(subnet);
}

subnet_t *subnet_find(const node_t *owner, const subnet_t *subnet) {
	if(!owner || !subnet)
		return NULL;
	/* Every entry of owner->subnets has this owner, so with the owner set on
	 * the key the order reduces to type, address, prefix and weight. */
	subnet_t key = *subnet;
	key.owner = (node_t *)owner;
	return sset_find(&owner->subnets, &key);
}

/* ---- data-path lookups ---- */

static inline bool owner_reachable(const node_t *n) {
	return n && (n == local_node || n->status.reachable);
}

/* Index of the first subnet of this type in set: the order is by type first,
 * so the other types can be skipped with one binary search. */
static size_t first_of_type(const sset_t *set, subnet_kind_t type) {
	size_t lo = 0, hi = set->count;
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if(((const subnet_t *)set->items[mid])->type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Address and prefix of an IP subnet, so IPv4 and IPv6 share one walk. */
static inline const uint8_t *ip_address(const subnet_t *s) {
	return s->type == SUBNET_IPV4 ? s->net.ipv4.address : s->net.ipv6.address;
}

static inline int ip_prefix(const subnet_t *s) {
	return s->type == SUBNET_IPV4 ? s->net.ipv4.prefix_bits : s->net.ipv6.prefix_bits;
}

static inline int clamp_prefix(int prefix, size_t len) {
	if(prefix < 0)
		return 0;
	return prefix > (int)(len * 8) ? (int)(len * 8) : prefix;
}

/* Do a and b agree on their first prefix bits? */
static inline bool prefix_equal(const uint8_t *a, const uint8_t *b, int prefix) {
	int full = prefix / 8, rest = prefix % 8;
	if(memcmp(a, b, (size_t)full))
		return false;
	if(!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((a[full] ^ b[full]) & mask) == 0;
}

static void run_index_rebuild(run_index_t *ri, subnet_kind_t type) {
	ri->count = 0;
	size_t i = first_of_type(&subnets_all, type);
	while(i < subnets_all.count && ((const subnet_t *)subnets_all.items[i])->type == type) {
		int prefix = ip_prefix(subnets_all.items[i]);
		size_t end = i + 1;
		while(end < subnets_all.count) {
			const subnet_t *s = subnets_all.items[end];
			if(s->type != type || ip_prefix(s) != prefix)
				break;
			end++;
		}
		if(ri->count == ri->capacity) {
			ri->capacity = ri->capacity ? ri->capacity * 2 : 8;
			ri->runs = xrealloc(ri->runs, ri->capacity * sizeof(*ri->runs));
		}
		ri->runs[ri->count++] = (prefix_run_t){prefix, i, end};
		i = end;
	}
	ri->stale = false;
}

/* The walk of protocol.md §6.5 visits the table in order: longest
 * prefix, then address, then lowest weight, then owner name, and stops at
 * the first match with a reachable owner; if no owner is reachable the last
 * match is the answer, so that the caller can say "unreachable" rather than
 * "unknown". Visiting every entry costs about a microsecond per thousand
 * subnets, so each prefix-length run is entered by binary search instead:
 * inside a run the entries are in address (byte) order, and those that match
 * form one contiguous stretch starting at the first entry not below the query
 * address with its host bits cleared. The matches are seen in exactly the
 * order of the full walk. */
static subnet_t *lookup_ip(run_index_t *ri, subnet_kind_t type, const uint8_t *address, size_t len) {
	if(ri->stale)
		run_index_rebuild(ri, type);

	subnet_t *found = NULL;
	for(size_t r = 0; r < ri->count; r++) {
		const prefix_run_t *run = &ri->runs[r];
		int prefix = clamp_prefix(run->prefix, len);

		uint8_t key[16];
		memset(key, 0, sizeof(key));
		memcpy(key, address, (size_t)prefix / 8);
		if(prefix % 8)
			key[prefix / 8] = (uint8_t)(address[prefix / 8] & (0xff << (8 - prefix % 8)));

		size_t lo = run->start, hi = run->end;
		while(lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if(memcmp(ip_address(subnets_all.items[mid]), key, len) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}

		for(; lo < run->end; lo++) {
			subnet_t *s = subnets_all.items[lo];
			if(!prefix_equal(ip_address(s), address, prefix))
				break;
			found = s;
			if(owner_reachable(s->owner))
				return found;
		}
	}
	return found;
}

subnet_t *subnet_match_ipv4(const uint8_t address[4]) {
	for(int i = 0; i < CACHE_SLOTS; i++)
		if(cache4[i].valid && !memcmp(cache4[i].address, address, 4))
			return cache4[i].result;

	subnet_t *found = lookup_ip(&runs4, SUBNET_IPV4, address, 4);

	cache_ipv4_t *c = &cache4[next4++ % CACHE_SLOTS];
	c->valid = true;
	memcpy(c->address, address, 4);
	c->result = found;
	return found;
}

subnet_t *subnet_match_ipv6(const uint8_t address[16]) {
	for(int i = 0; i < CACHE_SLOTS; i++)
		if(cache6[i].valid && !memcmp(cache6[i].address, address, 16))
			return cache6[i].result;

	subnet_t *found = lookup_ip(&runs6, SUBNET_IPV6, address, 16);

	cache_ipv6_t *c = &cache6[next6++ % CACHE_SLOTS];
	c->valid = true;
	memcpy(c->address, address, 16);
	c->result = found;
	return found;
}

subnet_t *subnet_match_mac(const node_t *owner, const uint8_t mac[6]) {
	for(int i = 0; i < CACHE_SLOTS; i++)
		if(cachemac[i].valid && cachemac[i].owner == owner && !memcmp(cachemac[i].address, mac, 6))
			return cachemac[i].result;

	/* With an owner the search stays within its own table. MAC entries are
	 * ordered by address, then weight, then owner: the matches form one run,
	 * found by binary search, in the order the walk of protocol.md §6.5 would see them. */
	const sset_t *set = owner ? &owner->subnets : &subnets_all;
	size_t lo = first_of_type(set, SUBNET_MAC), hi = set->count;
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const subnet_t *s = set->items[mid];
		if(s->type == SUBNET_MAC && memcmp(s->net.mac.address, mac, 6) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}

	subnet_t *found = NULL;
	for(; lo < set->count; lo++) {
		subnet_t *s = set->items[lo];
		if(s->type != SUBNET_MAC || memcmp(s->net.mac.address, mac, 6))
			break;
		found = s;
		if(owner_reachable(s->owner))
			break;
	}

	cache_mac_t *c = &cachemac[nextmac++ % CACHE_SLOTS];
	c->valid = true;
	c->owner = owner;
	memcpy(c->address, mac, 6);
	c->result = found;
	return found;
}
