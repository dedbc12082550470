/* String helpers. No sprintf/strcpy/strcat anywhere in the project: these
 * are the bounded replacements. */
#ifndef PKG_UTIL_STR_H
#define PKG_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>

/* Copy at most dstsize-1 bytes and NUL-terminate. Returns strlen(src), so
 * truncation happened when the result is >= dstsize (BSD strlcpy). */
size_t str_copy(char *dst, const char *src, size_t dstsize);
/* snprintf into a fixed buffer; returns 0 or OP_ETOOBIG on truncation. */
int str_fmt(char *dst, size_t dstsize, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Allocating printf; aborts on OOM. Caller frees. */
char *str_printf_new(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), malloc));

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
bool str_eq(const char *a, const char *b);      /* NULL-safe */
bool str_case_eq(const char *a, const char *b); /* ASCII, NULL-safe */
bool str_empty(const char *s);                  /* NULL or "" */

/* Trim ASCII whitespace in place; returns s advanced past leading space. */
char *str_trim(char *s);
/* Lowercase ASCII in place. */
void str_lower(char *s);

/* Parse a whole decimal integer (optional sign, no trailing garbage) into
 * *out within [min, max]. Returns 0, OP_EINVAL or OP_ERANGE. */
int str_to_ll(const char *s, long long min, long long max, long long *out);
/* Parse "true"/"false" (case-insensitive, also 1/0, yes/no). */
int str_to_bool(const char *s, bool *out);

/* Hex-encode n bytes into out (2n+1 bytes). */
void str_hex(const unsigned char *in, size_t n, char *out);

#endif
