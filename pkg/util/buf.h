/* Bounded growable byte buffer (curl's dynbuf, docs/internals/DYNBUF.md).
 *
 * Every buffer has a maximum size fixed at init. An append that would pass
 * it fails with OP_ETOOBIG and leaves the buffer cleared (so a failed append
 * never leaves a half state). The data is always NUL-terminated for
 * convenience; the terminator is not counted in len.
 *
 * Owner: whoever embeds the struct; buf_cleanup frees data.
 */
#ifndef PKG_UTIL_BUF_H
#define PKG_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
  char *data; /* NULL until the first append; owned */
  size_t len; /* bytes used, excluding the NUL */
  size_t cap; /* bytes allocated */
  size_t max; /* hard limit on len */
  int secret; /* wipe on free and on every reallocation */
};

void buf_init(struct buf *b, size_t max);
/* Like buf_init, but the contents are wiped before memory is released. */
void buf_init_secret(struct buf *b, size_t max);
void buf_cleanup(struct buf *b);
/* Forget the contents, keep the allocation. */
void buf_reset(struct buf *b);

int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Drop the first n bytes, moving the rest to the front. */
void buf_consume(struct buf *b, size_t n);
/* Transfer ownership of the data (NUL-terminated, never NULL) to the caller;
 * the buffer is left empty. */
char *buf_take(struct buf *b, size_t *len);
/* Read-only view, never NULL (points at "" when empty). */
const char *buf_str(const struct buf *b);

#endif
