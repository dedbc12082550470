/* One encoded request, and the building blocks every protocol's encoders
 * and decoders share: growing result arrays and freeing their strings.
 *
 * Every operation <f> has a pure encoder and a pure decoder (declared in
 * aws/ops_int.h), both tested without a network:
 *   int aws_enc_<f>(const struct aws_<req> *rq, struct aws_wire *w);
 *   int aws_dec_<f>(const char *body, size_t len, struct aws_<res> **out);
 */
#ifndef PKG_AWS_PROTO_WIRE_H
#define PKG_AWS_PROTO_WIRE_H

#include <stddef.h>

#include "aws/core/transport.h"
#include "aws/proto/shapes.h"
#include "util/buf.h"

#define AWS_WIRE_MAXH 6
#define AWS_BODY_MAX (8 * 1024 * 1024)

/* One encoded request: everything aws_call needs besides service,
 * operation, region and protocol. Owned strings. */
struct aws_wire {
  const char *method; /* static */
  char *path;         /* "/" when unset */
  char *query;        /* canonical-ready "a=b&c=d" or NULL */
  struct buf body;
  struct aws_header headers[AWS_WIRE_MAXH]; /* names static, values owned */
  size_t nheaders;
};

void aws_wire_init(struct aws_wire *w);
void aws_wire_cleanup(struct aws_wire *w);
/* Value is copied. OP_ETOOBIG when the header slots are full. */
int aws_wire_header(struct aws_wire *w, const char *static_name,
                    const char *value);
/* Header value by name (case-sensitive), NULL when absent. */
const char *aws_wire_get_header(const struct aws_wire *w, const char *name);

/* ---- arrays ----------------------------------------------------------- */

/* Grow *v (elements of size sz, count *n) by one zeroed element, capped at
 * AWS_MAX_ITEMS (OP_ETOOBIG). *slot receives the new element. */
#define AWS_MAX_ITEMS 100000
int aws_arr_push(void **v, size_t *n, size_t sz, void **slot);
void aws_strs_cleanup(struct aws_strs *s);
void aws_rtags_free(struct aws_rtag *t, size_t n);
/* Free and NULL a string. */
void aws_str_free(char **s);

/* Empty result of a REST call without a body: anything decodes. */
int aws_dec_empty_any(const char *body, size_t len,
                      struct aws_empty_result **out);

#endif
