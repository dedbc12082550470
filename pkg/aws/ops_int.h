/* Shared machinery of the per-service operation files (not for callers).
 *
 * Every operation <f> has a pure encoder and a pure decoder, both tested
 * without a network:
 *   int aws_enc_<f>(const struct aws_<req> *rq, struct aws_wire *w);
 *   int aws_dec_<f>(const char *body, size_t len, struct aws_<res> **out);
 * api.c generates the async glue from the AWS_OPS table.
 */
#ifndef PKG_AWS_OPS_INT_H
#define PKG_AWS_OPS_INT_H

#include <stddef.h>

#include "aws/api.h"
#include "aws/proto/json11.h"
#include "aws/proto/wire.h"
#include "aws/proto/xml_dec.h"

#define AWS_OPS_DECL(f, op, svc, proto, idem, req, res)                        \
  int aws_enc_##f(const struct aws_##req *rq, struct aws_wire *w);             \
  int aws_dec_##f(const char *body, size_t len, struct aws_##res **out);
AWS_OPS(AWS_OPS_DECL)
#undef AWS_OPS_DECL

#endif
