/* Portability in one place: everything that differs between Linux and
 * other systems is decided here, so the rest of the code can assume one API. */
#ifndef FQTINC_COMPAT_H
#define FQTINC_COMPAT_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(__linux__)
#error "fqtinc currently supports Linux only (epoll, signalfd, tun); see src/compat.h"
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ATTR_NORETURN __attribute__((noreturn))
#define ATTR_WARN_UNUSED __attribute__((warn_unused_result))

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif

/* Hand freed heap memory back to the system now. glibc keeps it for reuse
 * (malloc_trim releases it); allocators without the call (musl) return large
 * freed blocks by themselves. */
static inline void compat_release_free_memory(void) {
#ifdef HAVE_MALLOC_TRIM
	malloc_trim(0);
#endif
}

#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

#endif
