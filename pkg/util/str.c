#include "util/str.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "util/util.h"

size_t str_copy(char *dst, const char *src, size_t dstsize)
{
  size_t n = strlen(src);

  if (dstsize) {
    size_t c = n < dstsize - 1 ? n : dstsize - 1;
    memcpy(dst, src, c);
    dst[c] = '\0';
  }
  return n;
}

int str_fmt(char *dst, size_t dstsize, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(dst, dstsize, fmt, ap);
  va_end(ap);
  if (n < 0)
    return OP_EINVAL;
  return (size_t)n >= dstsize ? OP_ETOOBIG : 0;
}

char *str_printf_new(const char *fmt, ...)
{
  va_list ap;
  char *p;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    util_fatal("str_printf_new: bad format %s", fmt);
  p = util_xmalloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

bool str_has_prefix(const char *s, const char *prefix)
{
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);

  return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

bool str_eq(const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return strcmp(a, b) == 0;
}

bool str_case_eq(const char *a, const char *b)
{
  if (!a || !b)
    return a == b;
  return strcasecmp(a, b) == 0;
}

bool str_empty(const char *s)
{
  return !s || !*s;
}

char *str_trim(char *s)
{
  char *e;

  while (*s && isspace((unsigned char)*s))
    s++;
  e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1]))
    e--;
  *e = '\0';
  return s;
}

void str_lower(char *s)
{
  for (; *s; s++)
    *s = (char)tolower((unsigned char)*s);
}

int str_to_ll(const char *s, long long min, long long max, long long *out)
{
  char *end;
  long long v;

  if (str_empty(s) || isspace((unsigned char)*s))
    return OP_EINVAL;
  errno = 0;
  v = strtoll(s, &end, 10);
  if (*end != '\0')
    return OP_EINVAL;
  if (errno == ERANGE || v < min || v > max)
    return OP_ERANGE;
  *out = v;
  return 0;
}

int str_to_bool(const char *s, bool *out)
{
  static const char *const yes[] = { "true", "1", "yes", "on" };
  static const char *const no[] = { "false", "0", "no", "off" };
  size_t i;

  if (!s)
    return OP_EINVAL;
  for (i = 0; i < UTIL_ARRAY_SIZE(yes); i++) {
    if (str_case_eq(s, yes[i])) {
      *out = true;
      return 0;
    }
    if (str_case_eq(s, no[i])) {
      *out = false;
      return 0;
    }
  }
  return OP_EINVAL;
}

void str_hex(const unsigned char *in, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 0xf];
  }
  out[2 * n] = '\0';
}
