/* Small helpers every module may use: allocation that aborts on OOM
 * (h2o's h2o_mem_alloc -> h2o_fatal: a pod restart is a cleaner recovery
 * than half-handled OOM paths), container_of, array sizes, secure wiping.
 * Sizes driven by remote input never go through these unchecked: they are
 * capped first and reported as OP_ETOOBIG.
 */
#ifndef PKG_UTIL_UTIL_H
#define PKG_UTIL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define UTIL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member)                                        \
  ((type *)((char *)(ptr)-offsetof(type, member)))
#define UTIL_MIN(a, b) ((a) < (b) ? (a) : (b))
#define UTIL_MAX(a, b) ((a) > (b) ? (a) : (b))

void *util_xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *util_xcalloc(size_t nmemb, size_t n)
    __attribute__((malloc, returns_nonnull));
void *util_xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
char *util_xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
char *util_xstrndup(const char *s, size_t n)
    __attribute__((malloc, returns_nonnull));

/* Print the message and abort. Used for broken invariants and OOM. */
void util_fatal(const char *fmt, ...)
    __attribute__((noreturn, format(printf, 1, 2)));

/* Zero memory in a way the compiler may not elide (OpenSSL_cleanse). */
void util_wipe(void *p, size_t n);
/* Wipe a NUL-terminated string then free it; NULL is fine. */
void util_free_secret(char *s);

#define UTIL_ASSERT(cond)                                                      \
  do {                                                                         \
    if (!(cond))                                                               \
      util_fatal("%s:%d: assertion failed: %s", __FILE__, __LINE__, #cond);    \
  } while (0)

#endif
