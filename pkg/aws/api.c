/* The interface table (aws_api_new): async glue generated from the AWS_OPS
 * table: encode the request, start the call, decode the response, hand the
 * typed result to the caller. */
#include "aws/api.h"

#include <stdlib.h>
#include <string.h>

#include "aws/ops_int.h"
#include "util/err.h"
#include "util/util.h"

typedef void (*aws_generic_fn)(void);

struct aws_op_desc {
  const char *service, *operation;
  enum aws_protocol proto;
  bool idempotent;
  int (*enc)(const void *rq, struct aws_wire *w);
  int (*dec)(const char *body, size_t len, void **out);
  void (*free_res)(void *res);
  void (*invoke)(aws_generic_fn cb, int err, const struct aws_error *aerr,
                 const void *res, void *arg);
};

struct aws_api_real {
  struct aws_api api; /* first: api->impl points back here */
  struct aws_client *client;
  aws_call_start_fn start;
};

struct aws_op_ctx {
  const struct aws_op_desc *desc;
  aws_generic_fn cb;
  void *arg;
  struct aws_wire wire;
};

static void op_done(int err, const struct aws_resp *resp,
                    const struct aws_error *aerr, void *arg)
{
  struct aws_op_ctx *ctx = arg;
  const struct aws_op_desc *d = ctx->desc;
  void *res = NULL;

  if (!err && (!resp || resp->status < 200 || resp->status > 299))
    err = OP_EHTTP;
  if (!err)
    err = d->dec(resp->body, resp->body_len, &res);
  d->invoke(ctx->cb, err, err ? aerr : NULL, err ? NULL : res, ctx->arg);
  if (res)
    d->free_res(res);
  aws_wire_cleanup(&ctx->wire);
  free(ctx);
}

static int op_start(struct aws_api *api, const struct aws_target *t,
                    const struct aws_op_desc *d, const void *rq,
                    aws_generic_fn cb, void *arg)
{
  struct aws_api_real *real = api->impl;
  struct aws_op_ctx *ctx;
  struct aws_call call;
  int rc;

  if (!t || !rq || !cb)
    return OP_EINVAL;
  ctx = util_xcalloc(1, sizeof(*ctx));
  ctx->desc = d;
  ctx->cb = cb;
  ctx->arg = arg;
  aws_wire_init(&ctx->wire);
  rc = d->enc(rq, &ctx->wire);
  if (!rc) {
    memset(&call, 0, sizeof(call));
    call.service = d->service;
    call.operation = d->operation;
    call.region = t->region;
    call.controller = t->controller;
    call.account = t->account;
    call.background = t->background;
    call.method = ctx->wire.method;
    call.path = ctx->wire.path;
    call.query = ctx->wire.query;
    call.headers = ctx->wire.headers;
    call.nheaders = ctx->wire.nheaders;
    call.body = ctx->wire.body.data ? ctx->wire.body.data : "";
    call.body_len = ctx->wire.body.len;
    call.protocol = d->proto;
    call.idempotent = d->idempotent;
    /* AssumeRoleWithWebIdentity authenticates with its token, unsigned. */
    call.unsigned_request =
        strcmp(d->operation, "AssumeRoleWithWebIdentity") == 0;
    rc = real->start(real->client, t->creds, &call, op_done, ctx);
  }
  if (rc) {
    aws_wire_cleanup(&ctx->wire);
    free(ctx);
  }
  return rc;
}

#define AWS_OP_GLUE(f, op, svc, proto, idem, req, res)                         \
  static int enc_##f(const void *rq, struct aws_wire *w)                       \
  {                                                                            \
    return aws_enc_##f(rq, w);                                                 \
  }                                                                            \
  static int dec_##f(const char *b, size_t n, void **out)                      \
  {                                                                            \
    struct aws_##res *r = NULL;                                                \
    int rc = aws_dec_##f(b, n, &r);                                            \
    *out = r;                                                                  \
    return rc;                                                                 \
  }                                                                            \
  static void free_##f(void *r)                                                \
  {                                                                            \
    aws_##res##_free(r);                                                       \
  }                                                                            \
  static void invoke_##f(aws_generic_fn cb, int err,                           \
                         const struct aws_error *aerr, const void *r,          \
                         void *arg)                                            \
  {                                                                            \
    ((aws_##f##_cb)cb)(err, aerr, r, arg);                                     \
  }                                                                            \
  static const struct aws_op_desc desc_##f = { svc,      #op,       proto,     \
                                               idem,     enc_##f,   dec_##f,   \
                                               free_##f, invoke_##f };         \
  static int real_##f(struct aws_api *api, const struct aws_target *t,         \
                      const struct aws_##req *rq, aws_##f##_cb cb, void *arg)  \
  {                                                                            \
    return op_start(api, t, &desc_##f, rq, (aws_generic_fn)cb, arg);           \
  }
AWS_OPS(AWS_OP_GLUE)
#undef AWS_OP_GLUE

struct aws_api *aws_api_new(struct aws_client *c, aws_call_start_fn start)
{
  struct aws_api_real *real = util_xcalloc(1, sizeof(*real));

  real->client = c;
  real->start = start;
  real->api.impl = real;
#define AWS_OP_SET(f, op, svc, proto, idem, req, res) real->api.f = real_##f;
  AWS_OPS(AWS_OP_SET)
#undef AWS_OP_SET
  return &real->api;
}

void aws_api_free(struct aws_api *api)
{
  free(api); /* api is the first member of its aws_api_real */
}
