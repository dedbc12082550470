/* Delta encoding against a dictionary (delta.h). */
#include "cache/delta.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/util.h"

#define HBITS 12
#define HSIZE (1u << HBITS)
#define MIN_MATCH 6 /* shorter runs cost as much as their literals */
#define MAX_CHAIN 32
#define VARINT_MAX 10

/* Owner of text and both tables. head and prev hold position + 1 (0 =
 * none): the chain of dictionary positions whose first 4 bytes hash
 * alike, most recent first. */
struct delta_dict {
  char *text;
  size_t len;
  uint32_t *head, *prev;
};

static unsigned hash4(const char *p)
{
  uint32_t v;

  memcpy(&v, p, sizeof(v));
  return (v * 2654435761u) >> (32 - HBITS);
}

struct delta_dict *delta_dict_new(const char *text, size_t len)
{
  struct delta_dict *d = util_xcalloc(1, sizeof(*d));
  size_t p;

  d->text = util_xmalloc(len + 1);
  memcpy(d->text, text, len);
  d->len = len;
  d->head = util_xcalloc(HSIZE, sizeof(*d->head));
  d->prev = util_xcalloc(len + 1, sizeof(*d->prev));
  for (p = 0; p + 4 <= len; p++) {
    unsigned h = hash4(text + p);
    d->prev[p] = d->head[h];
    d->head[h] = (uint32_t)(p + 1);
  }
  return d;
}

void delta_dict_free(struct delta_dict *d)
{
  if (!d)
    return;
  free(d->text);
  free(d->head);
  free(d->prev);
  free(d);
}

static size_t put_varint(unsigned char *out, size_t v)
{
  size_t n = 0;

  while (v >= 0x80) {
    out[n++] = (unsigned char)(v | 0x80);
    v >>= 7;
  }
  out[n++] = (unsigned char)v;
  return n;
}

/* Read a varint at *pos; false past end or when too long. */
static bool get_varint(const unsigned char *in, size_t len, size_t *pos,
                       size_t *v)
{
  size_t shift = 0;

  *v = 0;
  while (*pos < len && shift < 64) { /* at most VARINT_MAX bytes */
    unsigned char b = in[(*pos)++];
    *v |= (size_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return true;
    shift += 7;
  }
  return false;
}

/* The longest run of text[pos..len) found in the dictionary. */
static size_t best_match(const struct delta_dict *d, const char *text,
                         size_t pos, size_t len, size_t *off)
{
  uint32_t c = d->head[hash4(text + pos)];
  size_t best = 0, chain = 0, room = len - pos;

  for (; c && chain < MAX_CHAIN; c = d->prev[c - 1], chain++) {
    size_t at = c - 1, n = 0, lim = d->len - at < room ? d->len - at : room;
    while (n < lim && d->text[at + n] == text[pos + n])
      n++;
    if (n > best) {
      best = n;
      *off = at;
    }
  }
  return best;
}

static size_t varint_len(size_t v)
{
  size_t n = 1;

  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

static size_t put_literals(unsigned char *out, const char *lit, size_t n)
{
  size_t w = put_varint(out, n);

  memcpy(out + w, lit, n);
  return w + n;
}

unsigned char *delta_encode(const struct delta_dict *d, const char *text,
                            size_t len, size_t *out_len)
{
  /* A match is taken only when it saves at least what its varints cost,
   * so the output is at most the text plus the header and one literal
   * count. */
  unsigned char *out = util_xmalloc(len + 2 * VARINT_MAX);
  size_t w = put_varint(out, len), pos = 0, lit = 0, off = 0, m;

  while (d->len >= 4 && pos + 4 <= len) {
    m = best_match(d, text, pos, len, &off);
    if (m < MIN_MATCH ||
        m < varint_len(pos - lit) + varint_len(m) + varint_len(off)) {
      pos++;
      continue;
    }
    w += put_literals(out + w, text + lit, pos - lit);
    w += put_varint(out + w, m);
    w += put_varint(out + w, off);
    pos += m;
    lit = pos;
  }
  if (lit < len)
    w += put_literals(out + w, text + lit, len - lit);
  *out_len = w;
  return util_xrealloc(out, w);
}

size_t delta_raw_len(const unsigned char *enc, size_t enc_len)
{
  size_t pos = 0, v;

  return get_varint(enc, enc_len, &pos, &v) ? v : (size_t)-1;
}

int delta_decode(const struct delta_dict *d, const unsigned char *enc,
                 size_t enc_len, char *out)
{
  size_t pos = 0, raw, done = 0, n, off;

  if (!get_varint(enc, enc_len, &pos, &raw))
    return OP_EINVAL;
  while (done < raw) {
    if (!get_varint(enc, enc_len, &pos, &n) || n > enc_len - pos ||
        n > raw - done)
      return OP_EINVAL;
    memcpy(out + done, enc + pos, n);
    pos += n;
    done += n;
    if (done == raw)
      break;
    if (!get_varint(enc, enc_len, &pos, &n) ||
        !get_varint(enc, enc_len, &pos, &off) || !n || off > d->len ||
        n > d->len - off || n > raw - done)
      return OP_EINVAL;
    memcpy(out + done, d->text + off, n);
    done += n;
  }
  return pos == enc_len ? 0 : OP_EINVAL;
}
