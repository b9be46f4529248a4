#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "mesh/edge.h"
#include "util/log.h"
#include "mesh/node.h"
#include "util/xalloc.h"

sset_t edges_by_weight;

/* The MST must come out the same on every node of the VPN, so the order is
 * total and uses only what every node knows: weight, then both names. */
static int edge_weight_cmp(const void *a, const void *b) {
	const edge_t *x = a, *y = b;
	if(x->weight != y->weight)
		return x->weight < y->weight ? -1 : 1;
	int r = strcmp(x->from->name, y->from->name);
	return r ? r : strcmp(x->to->name, y->to->name);
}

void edge_table_init(void) {
	sset_init(&edges_by_weight, edge_weight_cmp);
}

void edge_table_exit(void) {
	while(edges_by_weight.count)
		edge_unlink(edges_by_weight.items[edges_by_weight.count - 1]);
	sset_clear(&edges_by_weight, NULL);
}

edge_t *edge_new(void) {
	return xzalloc(sizeof(edge_t));
}

void edge_free(edge_t *e) {
	if(!e)
		return;
	free(e->address_str);
	free(e->port_str);
	free(e);
}

/* Remove e from s by pointer. The ordered removal relies on the fields the
 * comparator reads; if those were changed while e was linked (e.g. a weight
 * updated in place), scan instead of leaving a dangling pointer behind. */
static void remove_ptr(sset_t *s, const edge_t *e) {
	if(sset_remove(s, e))
		return;
	for(size_t i = 0; i < s->count; i++) {
		if(s->items[i] == e) {
			memmove(&s->items[i], &s->items[i + 1], (s->count - i - 1) * sizeof(void *));
			s->count--;
			return;
		}
	}
}

/* A node's own edges, by destination name (edge_find relies on it). */
static int edge_to_name_cmp(const void *a, const void *b) {
	const edge_t *x = a, *y = b;
	return strcmp(x->to->name, y->to->name);
}

void edge_link(edge_t *e) {
	if(e->from == e->to) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Bug: an edge from %s to itself", e->from->name);
		return;
	}
	if(edge_find(e->from, e->to)) {
		logger(VERBOSITY_ERRORS, LOG_ERR, "Bug: the edge from %s to %s was added twice",
		       e->from->name, e->to->name);
		return;
	}
	e->from->edges.cmp = edge_to_name_cmp;
	sset_insert(&e->from->edges, e);
	sset_insert(&edges_by_weight, e);
	e->reverse = edge_find(e->to, e->from);
	if(e->reverse)
		e->reverse->reverse = e;
}

void edge_unlink(edge_t *e) {
	if(!e)
		return;
	if(e->reverse && e->reverse->reverse == e)
		e->reverse->reverse = NULL;
	remove_ptr(&e->from->edges, e);
	remove_ptr(&edges_by_weight, e);
	/* Other objects keep plain pointers to edges; do not let them dangle
	 * until the next graph run. (The meta layer unhooks its connection
	 * before it deletes an edge of ours.) */
	if(e->to->parent_edge == e)
		e->to->parent_edge = NULL;
	edge_free(e);
}

edge_t *edge_find(node_t *from, node_t *to) {
	if(!from || !to)
		return NULL;
	const sset_t *s = &from->edges;
	size_t lo = 0, hi = s->count;
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(((edge_t *)s->items[mid])->to->name, to->name);
		if(r == 0)
			return s->items[mid];
		if(r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
