#include "cache/jwrite.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Output buffer; ok turns false on the first failed allocation. */
struct jw {
  char *p;
  size_t len, cap;
  bool ok;
};

static bool grow(struct jw *w, size_t n)
{
  size_t cap = w->cap ? w->cap : 1024;
  char *p;

  if (!w->ok)
    return false;
  while (cap < w->len + n + 1)
    cap *= 2;
  if (cap == w->cap)
    return true;
  if (!(p = realloc(w->p, cap))) {
    w->ok = false;
    return false;
  }
  w->p = p;
  w->cap = cap;
  return true;
}

static void put(struct jw *w, const char *s, size_t n)
{
  if (w->len + n + 1 > w->cap && !grow(w, n))
    return;
  memcpy(w->p + w->len, s, n);
  w->len += n;
}

/* A JSON string as jansson writes it without flags: '"', '\\' and control
 * characters escaped (\b \f \n \r \t, else \u00XX), the rest as is. */
static void put_string(struct jw *w, const char *s, size_t n)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t i, run = 0;
  char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

  put(w, "\"", 1);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *e = NULL;
    size_t en = 2;

    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    put(w, s + run, i - run);
    run = i + 1;
    switch (c) {
    case '"':
      e = "\\\"";
      break;
    case '\\':
      e = "\\\\";
      break;
    case '\b':
      e = "\\b";
      break;
    case '\f':
      e = "\\f";
      break;
    case '\n':
      e = "\\n";
      break;
    case '\r':
      e = "\\r";
      break;
    case '\t':
      e = "\\t";
      break;
    default:
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      e = esc;
      en = 6;
    }
    put(w, e, en);
  }
  put(w, s + run, n - run);
  put(w, "\"", 1);
}

/* jansson's real format: "%.17g", with ".0" when it would read back as an
 * integer, no '+' and no leading zeros in the exponent. */
static void put_real(struct jw *w, double d)
{
  char b[64], *e, *q;
  int n = snprintf(b, sizeof(b), "%.17g", d);

  if (n < 0 || (size_t)n >= sizeof(b) - 3)
    return (void)(w->ok = false);
  if (!strchr(b, '.') && !strchr(b, 'e')) {
    memcpy(b + n, ".0", 3);
    n += 2;
  }
  if ((e = strchr(b, 'e'))) {
    q = e + 1;
    if (*q == '-')
      q++;
    e = q;
    while (*q == '+' || *q == '0')
      q++;
    if (!*q)
      q--; /* an exponent of zero keeps one digit */
    memmove(e, q, strlen(q) + 1);
    n = (int)strlen(b);
  }
  put(w, b, (size_t)n);
}

static void put_value(struct jw *w, const json_t *v)
{
  char num[32];
  const char *k;
  json_t *x;
  size_t i;
  int n;

  switch (json_typeof(v)) {
  case JSON_OBJECT:
    put(w, "{", 1);
    i = 0;
    json_object_foreach((json_t *)v, k, x)
    {
      if (i++)
        put(w, ",", 1);
      put_string(w, k, json_object_iter_key_len(json_object_key_to_iter(k)));
      put(w, ":", 1);
      put_value(w, x);
    }
    put(w, "}", 1);
    break;
  case JSON_ARRAY:
    put(w, "[", 1);
    for (i = 0; i < json_array_size(v); i++) {
      if (i)
        put(w, ",", 1);
      put_value(w, json_array_get(v, i));
    }
    put(w, "]", 1);
    break;
  case JSON_STRING:
    put_string(w, json_string_value(v), json_string_length(v));
    break;
  case JSON_INTEGER:
    n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
    put(w, num, (size_t)n);
    break;
  case JSON_REAL:
    put_real(w, json_real_value(v));
    break;
  case JSON_TRUE:
    put(w, "true", 4);
    break;
  case JSON_FALSE:
    put(w, "false", 5);
    break;
  case JSON_NULL:
    put(w, "null", 4);
    break;
  }
}

char *jwrite_compact(const json_t *v, size_t *len)
{
  struct jw w = { NULL, 0, 0, true };

  if (!v || !grow(&w, 1024))
    return NULL;
  put_value(&w, v);
  if (!w.ok) {
    free(w.p);
    return NULL;
  }
  w.p[w.len] = '\0';
  if (len)
    *len = w.len;
  return w.p;
}
