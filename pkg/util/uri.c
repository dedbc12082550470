/* Percent-encoding (see uri.h). */
#include "util/uri.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static bool unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

int uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  int rc = 0;

  for (i = 0; i < n && rc == 0; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c) || (keep_slash && c == '/')) {
      rc = buf_append_char(out, (char)c);
    } else {
      char e[3] = { '%', hex[c >> 4], hex[c & 15] };
      rc = buf_append(out, e, 3);
    }
  }
  return rc;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* The byte a "%XX" at s[i] stands for, or -1. */
static int escape_at(const char *s, size_t n, size_t i)
{
  int hi, lo;

  if (s[i] != '%' || i + 2 >= n)
    return -1;
  hi = hexval(s[i + 1]);
  lo = hexval(s[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

int uri_decode(struct buf *out, const char *s, size_t n)
{
  size_t i;
  int rc = 0;

  for (i = 0; i < n && rc == 0; i++) {
    int v = escape_at(s, n, i);

    if (v >= 0) {
      rc = buf_append_char(out, (char)v);
      i += 2;
    } else {
      rc = buf_append_char(out, s[i]);
    }
  }
  return rc;
}

char *uri_decode_new(const char *s, bool plus_space)
{
  size_t n = strlen(s), i, o = 0;
  char *out = util_xmalloc(n + 1);

  for (i = 0; i < n; i++) {
    int v = escape_at(s, n, i);

    if (s[i] == '%' && v < 0) {
      free(out);
      return NULL;
    }
    if (v >= 0) {
      out[o++] = (char)v;
      i += 2;
    } else {
      out[o++] = plus_space && s[i] == '+' ? ' ' : s[i];
    }
  }
  out[o] = '\0';
  return out;
}
