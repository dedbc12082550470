#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/util.h"

void buf_init(struct buf *b, size_t max)
{
  memset(b, 0, sizeof(*b));
  b->max = max;
}

void buf_init_secret(struct buf *b, size_t max)
{
  buf_init(b, max);
  b->secret = 1;
}

void buf_cleanup(struct buf *b)
{
  if (b->data && b->secret)
    util_wipe(b->data, b->cap);
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

void buf_reset(struct buf *b)
{
  if (b->data && b->secret)
    util_wipe(b->data, b->len);
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

/* Make room for n more bytes plus the terminator. */
static int grow(struct buf *b, size_t n)
{
  size_t need, cap;
  char *p;

  if (n > b->max || b->len > b->max - n) {
    buf_cleanup(b);
    return OP_ETOOBIG;
  }
  need = b->len + n + 1;
  if (need <= b->cap)
    return 0;
  cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  if (b->secret) {
    /* realloc could leave a copy of the secret behind: move by hand. */
    p = util_xmalloc(cap);
    if (b->data) {
      memcpy(p, b->data, b->len + 1);
      util_wipe(b->data, b->cap);
      free(b->data);
    }
  } else {
    p = util_xrealloc(b->data, cap);
  }
  b->data = p;
  b->cap = cap;
  return 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
  int rc = grow(b, n);

  if (rc)
    return rc;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
  return buf_append(b, s, strlen(s));
}

int buf_append_char(struct buf *b, char c)
{
  return buf_append(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
  va_list ap2;
  int n, rc;

  va_copy(ap2, ap);
  n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return OP_EINVAL;
  rc = grow(b, (size_t)n);
  if (rc)
    return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
  va_list ap;
  int rc;

  va_start(ap, fmt);
  rc = buf_vprintf(b, fmt, ap);
  va_end(ap);
  return rc;
}

void buf_consume(struct buf *b, size_t n)
{
  if (n >= b->len) {
    buf_reset(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  if (b->secret)
    util_wipe(b->data + b->len, n);
  b->data[b->len] = '\0';
}

char *buf_take(struct buf *b, size_t *len)
{
  char *p = b->data ? b->data : util_xstrdup("");

  if (len)
    *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}

const char *buf_str(const struct buf *b)
{
  return b->data ? b->data : "";
}
