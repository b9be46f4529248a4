/* Fuzz subnet_parse: whatever parses must print and re-parse to the same subnet,
 * since peers receive our subnet_format() output and parse it with their subnet_parse. */
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
	if(subnet_parse(&a, str)) {
		char out[SUBNET_TEXT_MAX], noweight[SUBNET_TEXT_MAX];
		if(!subnet_format(out, sizeof(out), &a) || !subnet_format_without_weight(noweight, sizeof(noweight), &a))
			abort();
		if(strncmp(out, noweight, strlen(noweight)) || out[strlen(noweight)] != '#')
			abort();
		if(!subnet_parse(&b, out) || subnet_cmp(&a, &b) != 0)
			abort();
		if(a.type != b.type || a.weight != b.weight)
			abort();
		/* The printed form is canonical: printing again gives the same text. */
		char again[SUBNET_TEXT_MAX];
		if(!subnet_format(again, sizeof(again), &b) || strcmp(out, again))
			abort();
		subnet_hostbits_zero(&a);
	}
	free(str);
	return 0;
}
