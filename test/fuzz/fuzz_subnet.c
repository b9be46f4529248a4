/* Fuzz str2net: whatever parses must print and re-parse to the same subnet,
 * since peers receive our net2str() output and parse it with their str2net. */
#include "util/compat.h"

#include <stdlib.h>
#include <string.h>

#include "mesh/subnet.h"
#include "util/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
	char *str = xmalloc(size + 1);
	memcpy(str, data, size);
	str[size] = '\0';

	subnet_t a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	if(str2net(&a, str)) {
		char out[MAXNETSTR], noweight[MAXNETSTR];
		if(!net2str(out, sizeof(out), &a) || !net2str_noweight(noweight, sizeof(noweight), &a))
			abort();
		if(strncmp(out, noweight, strlen(noweight)) || out[strlen(noweight)] != '#')
			abort();
		if(!str2net(&b, out) || subnet_compare(&a, &b) != 0)
			abort();
		if(a.type != b.type || a.weight != b.weight)
			abort();
		/* The printed form is canonical: printing again gives the same text. */
		char again[MAXNETSTR];
		if(!net2str(again, sizeof(again), &b) || strcmp(out, again))
			abort();
		subnet_hostbits_zero(&a);
	}
	free(str);
	return 0;
}
