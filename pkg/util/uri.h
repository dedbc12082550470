/* RFC 3986 percent-encoding, the one encoder for every AWS protocol and
 * for SigV4 (canonical URI, canonical query, presigned parameters). The
 * unreserved set is tested byte by byte in ASCII, never with <ctype.h>:
 * isalnum depends on the locale, and a byte >= 0x80 taken as a letter
 * would be sent raw and break the signature. */
#ifndef PKG_UTIL_URI_H
#define PKG_UTIL_URI_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Append s[0..n) to out, every byte but A-Z a-z 0-9 - _ . ~ (and '/'
 * when keep_slash) as %XX with upper-case hex. 0 or an op_err. */
int uri_encode(struct buf *out, const char *s, size_t n, bool keep_slash);

/* Append s[0..n) percent-decoded to out; a '%' not followed by two hex
 * digits is kept as it is, '+' stays '+' (what SigV4 normalisation
 * wants). 0 or an op_err. */
int uri_decode(struct buf *out, const char *s, size_t n);

/* s percent-decoded into a new string ('+' as a space when plus_space,
 * the form encoding); NULL on a malformed escape. Free with free(). */
char *uri_decode_new(const char *s, bool plus_space);

#endif
