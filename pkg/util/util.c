#include "util/util.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void util_fatal(const char *fmt, ...)
{
  va_list ap;

  fputs("fatal: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

void *util_xmalloc(size_t n)
{
  void *p = malloc(n ? n : 1);

  if (!p)
    util_fatal("out of memory allocating %zu bytes", n);
  return p;
}

void *util_xcalloc(size_t nmemb, size_t n)
{
  void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);

  if (!p)
    util_fatal("out of memory allocating %zu x %zu bytes", nmemb, n);
  return p;
}

void *util_xrealloc(void *p, size_t n)
{
  void *q = realloc(p, n ? n : 1);

  if (!q)
    util_fatal("out of memory reallocating %zu bytes", n);
  return q;
}

char *util_xstrdup(const char *s)
{
  return util_xstrndup(s, strlen(s));
}

char *util_xstrndup(const char *s, size_t n)
{
  char *p = util_xmalloc(n + 1);

  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void util_wipe(void *p, size_t n)
{
  if (p && n)
    OPENSSL_cleanse(p, n);
}

void util_free_secret(char *s)
{
  if (!s)
    return;
  util_wipe(s, strlen(s));
  free(s);
}
