/* The sorted pointer set under the node, edge and subnet tables. */
#include "util/compat.h"

#include <stdlib.h>

#include "util/sset.h"
#include "unit.h"

static int cmp_int(const void *a, const void *b) {
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int main(void) {
	sset_t s;
	sset_init(&s, cmp_int);
	int v[] = {5, 1, 9, 3, 7, 3};
	CHECK(sset_insert(&s, &v[0]));
	CHECK(sset_insert(&s, &v[1]));
	CHECK(sset_insert(&s, &v[2]));
	CHECK(sset_insert(&s, &v[3]));
	CHECK(sset_insert(&s, &v[4]));
	CHECK(!sset_insert(&s, &v[5])); /* equal to 3: refused */
	CHECK_EQ_INT(s.count, 5);

	/* iteration is in order */
	int expect[] = {1, 3, 5, 7, 9};
	size_t k = 0;
	sset_foreach(int, p, &s) {
		CHECK_EQ_INT(*p, expect[k]);
		k++;
	}
	CHECK_EQ_INT(k, 5);

	int key = 7;
	CHECK(sset_find(&s, &key) == &v[4]);
	key = 4;
	CHECK(sset_find(&s, &key) == NULL);
	CHECK_EQ_INT(sset_lower_bound(&s, &key), 2); /* first item >= 4 is 5, at index 2 */
	key = 100;
	CHECK_EQ_INT(sset_lower_bound(&s, &key), 5);

	/* removal is by pointer: an equal but different object is not removed */
	CHECK(!sset_remove(&s, &v[5]));
	CHECK(sset_remove(&s, &v[3]));
	CHECK_EQ_INT(s.count, 4);
	key = 3;
	CHECK(sset_find(&s, &key) == NULL);

	/* growth past the initial capacity keeps order */
	sset_t big;
	sset_init(&big, cmp_int);
	int *vals = malloc(1000 * sizeof(int));
	for(int i = 0; i < 1000; i++) {
		vals[i] = (i * 7919) % 1000; /* a permutation of 0..999 */
		CHECK(sset_insert(&big, &vals[i]) || 0);
	}
	CHECK_EQ_INT(big.count, 1000);
	bool sorted = true;
	for(size_t i = 0; i < big.count; i++)
		if(*(int *)big.items[i] != (int)i)
			sorted = false;
	CHECK(sorted);
	sset_clear(&big, NULL);
	CHECK_EQ_INT(big.count, 0);
	free(vals);
	sset_clear(&s, NULL);
	return unit_done();
}
