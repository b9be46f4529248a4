/* Allocation that cannot fail: a daemon that is out of memory cannot do
 * anything sensible, so it logs and exits instead of limping on. */
#ifndef FQTINC_XALLOC_H
#define FQTINC_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xzalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Overwrite secrets before freeing them (OPENSSL_cleanse cannot be optimised away). */
void xfree_secret(void *p, size_t n);

#endif
