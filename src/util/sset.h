/* A sorted set of pointers in a growable array.
 *
 * tinc's tables (nodes, edges, subnets, connections) are small (tens to a few
 * thousand entries) and mostly read; a sorted array gives ordered iteration,
 * O(log n) lookup and cache-friendly scans with very little code. */
#ifndef FQTINC_SSET_H
#define FQTINC_SSET_H

#include <stdbool.h>
#include <stddef.h>

typedef int (*sset_cmp_t)(const void *a, const void *b);

typedef struct sset {
	void **items;
	size_t count;
	size_t capacity;
	sset_cmp_t cmp;
} sset_t;

void sset_init(sset_t *s, sset_cmp_t cmp);
/* Frees the array only; the caller owns the items (free_item may be NULL). */
void sset_clear(sset_t *s, void (*free_item)(void *));
/* Insert; returns false (and does nothing) if an equal item exists. */
bool sset_insert(sset_t *s, void *item);
/* Remove this exact pointer (found via cmp, then pointer equality). */
bool sset_remove(sset_t *s, const void *item);
/* Find an item comparing equal to key. */
void *sset_find(const sset_t *s, const void *key);
/* Index of the first item >= key. */
size_t sset_lower_bound(const sset_t *s, const void *key);

#define sset_foreach(type, var, set)                                           \
	for(size_t var##_i = 0; var##_i < (set)->count; var##_i++)                 \
		for(type *var = (set)->items[var##_i]; var; var = NULL)

#endif
