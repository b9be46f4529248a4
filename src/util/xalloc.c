#include "util/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "util/xalloc.h"

static void out_of_memory(size_t n) {
	fprintf(stderr, "fqtinc: out of memory: %zu bytes could not be allocated\n", n);
	abort();
}

void *xmalloc(size_t n) {
	void *p = malloc(n ? n : 1);
	if(!p)
		out_of_memory(n);
	return p;
}

void *xzalloc(size_t n) {
	void *p = calloc(1, n ? n : 1);
	if(!p)
		out_of_memory(n);
	return p;
}

void *xrealloc(void *p, size_t n) {
	void *q = realloc(p, n ? n : 1);
	if(!q)
		out_of_memory(n);
	return q;
}

char *xstrdup(const char *s) {
	char *p = strdup(s ? s : "");
	if(!p)
		out_of_memory(strlen(s));
	return p;
}

char *xasprintf(const char *fmt, ...) {
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if(n < 0)
		out_of_memory(0);
	return s;
}

void xfree_secret(void *p, size_t n) {
	if(!p)
		return;
	OPENSSL_cleanse(p, n);
	free(p);
}
