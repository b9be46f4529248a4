#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "util/sset.h"
#include "util/xalloc.h"

void sset_init(sset_t *s, sset_cmp_t cmp) {
	s->items = NULL;
	s->count = 0;
	s->capacity = 0;
	s->cmp = cmp;
}

void sset_clear(sset_t *s, void (*free_item)(void *)) {
	if(free_item)
		for(size_t i = 0; i < s->count; i++)
			free_item(s->items[i]);
	free(s->items);
	s->items = NULL;
	s->count = s->capacity = 0;
}

size_t sset_lower_bound(const sset_t *s, const void *key) {
	size_t lo = 0, hi = s->count;
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if(s->cmp(s->items[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *sset_find(const sset_t *s, const void *key) {
	size_t i = sset_lower_bound(s, key);
	if(i < s->count && s->cmp(s->items[i], key) == 0)
		return s->items[i];
	return NULL;
}

bool sset_insert(sset_t *s, void *item) {
	size_t i = sset_lower_bound(s, item);
	if(i < s->count && s->cmp(s->items[i], item) == 0)
		return false;
	if(s->count == s->capacity) {
		s->capacity = s->capacity ? s->capacity * 2 : 8;
		s->items = xrealloc(s->items, s->capacity * sizeof(void *));
	}
	memmove(&s->items[i + 1], &s->items[i], (s->count - i) * sizeof(void *));
	s->items[i] = item;
	s->count++;
	return true;
}

bool sset_remove(sset_t *s, const void *item) {
	size_t i = sset_lower_bound(s, item);
	for(; i < s->count && s->cmp(s->items[i], item) == 0; i++) {
		if(s->items[i] == item) {
			memmove(&s->items[i], &s->items[i + 1], (s->count - i - 1) * sizeof(void *));
			s->count--;
			return true;
		}
	}
	return false;
}
