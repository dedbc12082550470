#include "k8s/jparse.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Below jansson's limit on purpose: jansson counts every value's depth,
 * we count containers; anything deeper is left to jansson to judge. */
#define MAX_NEST 1000
/* Longer number tokens are left to jansson (a stack copy for strtod). */
#define NUM_MAX 64

/* The cursor, and a scratch buffer for strings with escapes. Owner: the
 * jparse call. */
struct jp {
  const unsigned char *p, *end;
  char *buf;
  size_t cap;
  int depth;
  bool drop_managed;
};

/* The value of a member named "metadata": its managedFields may go. */
enum ctx { CTX_PLAIN, CTX_META };

static json_t *value(struct jp *s, enum ctx ctx);

static bool str_is_metadata(const char *k)
{
  return strcmp(k, "metadata") == 0;
}
static bool skip_value(struct jp *s);

static void skip_ws(struct jp *s)
{
  while (s->p < s->end &&
         (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t'))
    s->p++;
}

/* A UTF-8 sequence starting at p (lead byte >= 0x80), as jansson's
 * utf8_check_full accepts it: its length, or 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
  unsigned c = p[0];
  size_t n, i;
  uint32_t v;

  if (c >= 0xC2 && c <= 0xDF)
    n = 2, v = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF)
    n = 3, v = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    n = 4, v = c & 0x07;
  else
    return 0;
  if ((size_t)(end - p) < n)
    return 0;
  for (i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    v = (v << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10FFFF ||
      (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  return n;
}

static bool buf_put(struct jp *s, size_t *len, const void *src, size_t n)
{
  if (n == 0)
    return true; /* the buffer may not exist yet */
  if (*len + n > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    char *b;

    while (cap < *len + n)
      cap *= 2;
    if (!(b = realloc(s->buf, cap)))
      return false;
    s->buf = b;
    s->cap = cap;
  }
  memcpy(s->buf + *len, src, n);
  *len += n;
  return true;
}

static int hex4(const unsigned char *p)
{
  int v = 0, i;

  for (i = 0; i < 4; i++) {
    int c = p[i], d;

    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return -1;
    v = v * 16 + d;
  }
  return v;
}

/* "\uXXXX" (and its low surrogate) at s->p (past the "\u"): the code
 * point, or -1 (bad hex, lone surrogate, U+0000: jansson refuses NUL
 * without JSON_ALLOW_NUL). */
static long unicode_escape(struct jp *s)
{
  long v, lo;

  if (s->end - s->p < 4 || (v = hex4(s->p)) < 0)
    return -1;
  s->p += 4;
  if (v >= 0xDC00 && v <= 0xDFFF)
    return -1;
  if (v >= 0xD800 && v <= 0xDBFF) {
    if (s->end - s->p < 6 || s->p[0] != '\\' || s->p[1] != 'u' ||
        (lo = hex4(s->p + 2)) < 0xDC00 || lo > 0xDFFF)
      return -1;
    s->p += 6;
    v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
  }
  return v ? v : -1;
}

static size_t utf8_put(long v, unsigned char *o)
{
  if (v < 0x80) {
    o[0] = (unsigned char)v;
    return 1;
  }
  if (v < 0x800) {
    o[0] = (unsigned char)(0xC0 | (v >> 6));
    o[1] = (unsigned char)(0x80 | (v & 0x3F));
    return 2;
  }
  if (v < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (v >> 12));
    o[1] = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (v & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (v >> 18));
  o[1] = (unsigned char)(0x80 | ((v >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((v >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (v & 0x3F));
  return 4;
}

/* One escape at s->p (past the backslash), appended to the buffer. */
static bool escape(struct jp *s, size_t *len)
{
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  unsigned char u[4];
  const char *k;
  long v;

  if (s->p >= s->end)
    return false;
  if (*s->p == 'u') {
    s->p++;
    return (v = unicode_escape(s)) >= 0 && buf_put(s, len, u, utf8_put(v, u));
  }
  if (!*s->p || !(k = strchr(from, *s->p)))
    return false;
  s->p++;
  return buf_put(s, len, &to[k - from], 1);
}

/* The string at s->p (past the opening quote): its bytes in *out (the
 * input itself when it has no escape, else the scratch buffer). */
static bool string(struct jp *s, const char **out, size_t *outlen, bool *in_buf)
{
  const unsigned char *start = s->p;
  size_t len = 0, n;
  bool copied = false;

  while (s->p < s->end) {
    unsigned c = *s->p;

    if (c == '"') {
      if (copied && !buf_put(s, &len, start, (size_t)(s->p - start)))
        return false;
      *out = copied ? s->buf : (const char *)start;
      *outlen = copied ? len : (size_t)(s->p - start);
      if (in_buf)
        *in_buf = copied;
      s->p++;
      return true;
    }
    if (c < 0x20)
      return false;
    if (c < 0x80) {
      s->p++;
    } else if ((n = utf8_len(s->p, s->end))) {
      s->p += n;
    } else {
      return false;
    }
    if (c == '\\') {
      if (!buf_put(s, &len, start, (size_t)(s->p - 1 - start)) ||
          !escape(s, &len))
        return false;
      copied = true;
      start = s->p;
    }
  }
  return false;
}

static bool is_digit(const unsigned char *p, const unsigned char *end)
{
  return p < end && *p >= '0' && *p <= '9';
}

/* The number token at s->p per RFC 8259 (s->p moves past it): false when
 * malformed; *real when it has a fraction or an exponent. */
static bool number_scan(struct jp *s, bool *real)
{
  const unsigned char *p = s->p, *end = s->end;

  *real = false;
  if (p < end && *p == '-')
    p++;
  if (!is_digit(p, end) || (*p == '0' && is_digit(p + 1, end)))
    return false;
  while (is_digit(p, end))
    p++;
  if (p < end && *p == '.') {
    *real = true;
    if (!is_digit(++p, end))
      return false;
    while (is_digit(p, end))
      p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    *real = true;
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    if (!is_digit(p, end))
      return false;
    while (is_digit(p, end))
      p++;
  }
  s->p = p;
  return true;
}

/* A number: an integer unless it has a fraction or an exponent
 * (jansson's rule), NULL on overflow (jansson's errors). */
static json_t *number(struct jp *s)
{
  const unsigned char *start = s->p;
  bool real;
  char tok[NUM_MAX];
  size_t n;

  if (!number_scan(s, &real))
    return NULL;
  n = (size_t)(s->p - start);
  if (n >= sizeof(tok))
    return NULL;
  memcpy(tok, start, n);
  tok[n] = '\0';
  errno = 0;
  if (!real) {
    long long v = strtoll(tok, NULL, 10);
    return errno == ERANGE ? NULL : json_integer((json_int_t)v);
  } else {
    double d = strtod(tok, NULL);
    return isinf(d) ? NULL : json_real(d);
  }
}

static json_t *array(struct jp *s)
{
  json_t *a = json_array(), *v;

  skip_ws(s);
  if (a && s->p < s->end && *s->p == ']') {
    s->p++;
    return a;
  }
  while (a) {
    if (!(v = value(s, CTX_PLAIN)) || json_array_append_new(a, v))
      break;
    skip_ws(s);
    if (s->p >= s->end)
      break;
    if (*s->p == ']') {
      s->p++;
      return a;
    }
    if (*s->p++ != ',')
      break;
  }
  json_decref(a);
  return NULL;
}

static json_t *object(struct jp *s, enum ctx ctx)
{
  json_t *o = json_object(), *v;
  const char *k;
  char *own;
  size_t kn;
  bool in_buf;

  skip_ws(s);
  if (o && s->p < s->end && *s->p == '}') {
    s->p++;
    return o;
  }
  while (o) {
    skip_ws(s);
    if (s->p >= s->end || *s->p++ != '"' || !string(s, &k, &kn, &in_buf))
      break;
    /* a key with escapes sits in the scratch buffer, which the value
     * may reuse: copied (rare); otherwise it points into the input */
    own = in_buf ? strndup(k, kn) : NULL;
    if (in_buf && !own)
      break;
    if (own)
      k = own;
    skip_ws(s);
    if (s->p >= s->end || *s->p++ != ':') {
      free(own);
      break;
    }
    if (ctx == CTX_META && s->drop_managed && kn == 13 &&
        !memcmp(k, "managedFields", 13)) {
      free(own);
      if (!skip_value(s))
        break;
    } else {
      v = value(s, kn == 8 && !memcmp(k, "metadata", 8) ? CTX_META : CTX_PLAIN);
      if (!v || json_object_setn_new_nocheck(o, k, kn, v)) {
        free(own);
        break;
      }
      free(own);
    }
    skip_ws(s);
    if (s->p >= s->end)
      break;
    if (*s->p == '}') {
      s->p++;
      return o;
    }
    if (*s->p++ != ',')
      break;
  }
  json_decref(o);
  return NULL;
}

static json_t *literal(struct jp *s, const char *word, json_t *v)
{
  size_t n = strlen(word);

  if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
    return NULL;
  s->p += n;
  return v;
}

static json_t *container(struct jp *s, bool is_array, enum ctx ctx)
{
  json_t *v;

  if (++s->depth > MAX_NEST)
    return NULL;
  v = is_array ? array(s) : object(s, ctx);
  s->depth--;
  return v;
}

/* The members or elements of a container at s->p (past its opener),
 * validated as value() would, nothing built. */
static bool skip_items(struct jp *s, bool is_array)
{
  const char *k;
  size_t kn;

  skip_ws(s);
  if (s->p < s->end && *s->p == (is_array ? ']' : '}')) {
    s->p++;
    return true;
  }
  for (;;) {
    if (!is_array) {
      skip_ws(s);
      if (s->p >= s->end || *s->p++ != '"' || !string(s, &k, &kn, NULL))
        return false;
      skip_ws(s);
      if (s->p >= s->end || *s->p++ != ':')
        return false;
    }
    if (!skip_value(s))
      return false;
    skip_ws(s);
    if (s->p >= s->end)
      return false;
    if (*s->p == (is_array ? ']' : '}')) {
      s->p++;
      return true;
    }
    if (*s->p++ != ',')
      return false;
  }
}

/* A value validated as value() would decode it, without building it (a
 * dropped managedFields). */
static bool skip_value(struct jp *s)
{
  const char *str;
  size_t n;
  bool real, ok;
  json_t *v;

  skip_ws(s);
  if (s->p >= s->end)
    return false;
  switch (*s->p) {
  case '{':
  case '[':
    if (++s->depth > MAX_NEST)
      return false;
    ok = skip_items(s, *s->p++ == '[');
    s->depth--;
    return ok;
  case '"':
    s->p++;
    return string(s, &str, &n, NULL);
  case 't':
  case 'f':
  case 'n':
    return (v = value(s, CTX_PLAIN)) != NULL; /* singletons: nothing built */
  default:
    /* jansson's overflow checks need the conversion: numbers are rare
     * in managedFields */
    str = (const char *)s->p;
    if (!number_scan(s, &real))
      return false;
    s->p = (const unsigned char *)str;
    v = number(s);
    json_decref(v);
    return v != NULL;
  }
}

static json_t *value(struct jp *s, enum ctx ctx)
{
  const char *str;
  size_t n;

  skip_ws(s);
  if (s->p >= s->end)
    return NULL;
  switch (*s->p) {
  case '{':
  case '[':
    return container(s, *s->p++ == '[', ctx);
  case '"':
    s->p++;
    return string(s, &str, &n, NULL) ? json_stringn_nocheck(str, n) : NULL;
  case 't':
    return literal(s, "true", json_true());
  case 'f':
    return literal(s, "false", json_false());
  case 'n':
    return literal(s, "null", json_null());
  default:
    return number(s);
  }
}

json_t *jparse(const char *p, size_t n, size_t flags)
{
  struct jp s = { 0 };
  json_t *v = NULL;

  /* other jansson flags change what is accepted: jansson's to apply */
  if (!p || (flags & ~(size_t)(JSON_DECODE_ANY | JPARSE_DROP_MANAGED)))
    return NULL;
  s.p = (const unsigned char *)p;
  s.drop_managed = flags & JPARSE_DROP_MANAGED;
  s.end = s.p + n;
  skip_ws(&s);
  if ((flags & JSON_DECODE_ANY) ||
      (s.p < s.end && (*s.p == '{' || *s.p == '[')))
    v = value(&s, CTX_PLAIN);
  skip_ws(&s);
  if (v && s.p != s.end) {
    json_decref(v);
    v = NULL;
  }
  free(s.buf);
  return v;
}

/* JPARSE_DROP_MANAGED on a value json_loadb built (the rule jparse
 * applies while decoding). Depth: bounded by jansson's parser limit. */
static void drop_managed(json_t *v, enum ctx ctx)
{
  const char *k;
  json_t *x;
  size_t i;

  if (json_is_array(v)) {
    json_array_foreach(v, i, x)
    {
      drop_managed(x, CTX_PLAIN);
    }
    return;
  }
  if (ctx == CTX_META)
    json_object_del(v, "managedFields");
  json_object_foreach(v, k, x)
  {
    drop_managed(x, str_is_metadata(k) ? CTX_META : CTX_PLAIN);
  }
}

json_t *k8s_json_loadb(const char *p, size_t n, size_t flags, json_error_t *err)
{
  json_error_t local;
  json_t *v = jparse(p, n, flags);

  if (v)
    return v;
  v = json_loadb(p, n, flags & ~(size_t)JPARSE_DROP_MANAGED,
                 err ? err : &local);
  if (v && (flags & JPARSE_DROP_MANAGED))
    drop_managed(v, CTX_PLAIN);
  return v;
}
