/* The transport seam the operations are written against.
 *
 * pkg/aws/transport.h (branch awscore) owns these declarations. Until it is
 * merged, this header repeats the agreed seam so the operations compile; once
 * transport.h exists it is used instead and this copy is ignored. Only
 * pointers to aws_client, aws_creds and aws_error cross this boundary.
 */
#ifndef PKG_AWS_OPS_SEAM_H
#define PKG_AWS_OPS_SEAM_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__has_include)
#if __has_include("aws/transport.h")
#include "aws/transport.h"
#define AWS_OPS_HAVE_TRANSPORT 1
#endif
#endif

#ifndef AWS_OPS_HAVE_TRANSPORT
struct aws_client;
struct aws_creds;
struct aws_error;
struct httpc_resp;

enum aws_protocol {
  AWS_PROTO_JSON11,
  AWS_PROTO_QUERY,
  AWS_PROTO_EC2,
  AWS_PROTO_RESTXML,
  AWS_PROTO_RESTJSON
};
struct aws_header {
  const char *name;
  const char *value;
};
struct aws_call {
  const char *service;
  const char *operation;
  const char *region;
  const char *method, *path, *query;
  const struct aws_header *headers;
  size_t nheaders;
  const void *body;
  size_t body_len;
  enum aws_protocol protocol;
  bool idempotent;
};
struct aws_resp {
  long status;
  const char *body;
  size_t body_len;
  const char *request_id;
  const struct httpc_resp *http;
};
typedef void (*aws_call_cb)(int err, const struct aws_resp *resp,
                            const struct aws_error *aerr, void *arg);
int aws_call_start(struct aws_client *c, struct aws_creds *creds,
                   const struct aws_call *call, aws_call_cb cb, void *arg);
#endif

#endif
