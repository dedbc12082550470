/* REST-XML request building (S3, Route 53): XML bodies with escaping,
 * query strings, Content-MD5. */
#ifndef PKG_AWS_PROTO_RESTXML_H
#define PKG_AWS_PROTO_RESTXML_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* Append s with &, <, >, ", ' and control characters escaped. */
int aws_xml_escape(struct buf *b, const char *s);
/* <name>escaped text</name>; nothing when text is NULL. */
int aws_xml_elem(struct buf *b, const char *name, const char *text);
int aws_xml_elem_ll(struct buf *b, const char *name, long long v);
/* Append "&key=value" (no '&' when b is empty), both RFC 3986-encoded;
 * nothing when value is NULL. Callers add keys in sorted order so the
 * string is already canonical. */
int aws_rest_query_add(struct buf *b, const char *key, const char *value);
/* Base64 of the MD5 of data into out (at least 25 bytes). */
void aws_content_md5(const void *data, size_t len, char out[25]);

#endif
