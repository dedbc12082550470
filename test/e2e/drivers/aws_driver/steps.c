/* aws_driver: output, the step machine and the all-ops sequence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/core/xml.h"
#include "driver_int.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

/* ---- output -------------------------------------------------------------- */

void print_json(json_t *o)
{
  json_dumpf(o, stdout, JSON_COMPACT);
  fputc('\n', stdout);
  fflush(stdout);
  json_decref(o);
}

void emit(struct drv *d, const char *op, const char *svc, int err,
          const struct aws_error *aerr, bool seed)
{
  json_t *o =
      json_pack("{s:s,s:s,s:b,s:I}", "op", op, "service", svc, "ok", err == 0,
                "ms", (json_int_t)(time_mono_ms() - d->t_call));

  if (seed)
    json_object_set_new(o, "seed", json_true());
  if (err) {
    json_object_set_new(
        o, "class",
        json_string(aerr ? aws_error_class_name(aerr->cls) : op_err_name(err)));
    json_object_set_new(o, "err", json_string(op_err_name(err)));
    if (aerr) {
      json_object_set_new(o, "code", json_string(aerr->code));
      json_object_set_new(o, "http", json_integer(aerr->http_status));
      json_object_set_new(o, "message", json_string(aerr->message));
    }
  }
  d->calls++;
  if (err)
    d->failed++;
  else
    d->ok++;
  if (err && aerr && aerr->cls == AWS_ERR_AUTH)
    d->auth++;
  print_json(o);
}

/* ---- the step machine (all-ops) ------------------------------------------ */

static void on_repeat(uv_timer_t *t)
{
  run_steps(t->data);
}

static void step_done(struct drv *d, const char *op, const char *svc, int err,
                      const struct aws_error *aerr, const void *res)
{
  int rc = 0;

  if (d->finishing)
    return;
  emit(d, op, svc, err, aerr, false);
  if (d->o.mode != M_ALL) {
    if (d->calls == d->o.n)
      finish(d);
    return;
  }
  d->repeat_ms = 0;
  if (err == 0 && d->after)
    rc = d->after(d, res);
  if (err || rc) {
    fprintf(stderr, "aws_driver: stopping after %s\n", op);
    d->exit_code = 1;
    finish(d);
  } else if (d->repeat_ms && ++d->polls < MAX_POLLS) {
    uv_timer_start(&d->timer, on_repeat, d->repeat_ms, 0);
  } else if (d->repeat_ms) {
    fprintf(stderr, "aws_driver: %s never reached its state\n", op);
    d->exit_code = 1;
    finish(d);
  } else {
    d->polls = 0;
    d->cur++;
    run_steps(d);
  }
}

#define DRV_THUNK(f, op, svc, proto, idem, req, res)                           \
  void on_##f(int err, const struct aws_error *aerr,                           \
              const struct aws_##res *r, void *arg)                            \
  {                                                                            \
    step_done(arg, #op, svc, err, aerr, r);                                    \
  }
AWS_OPS(DRV_THUNK)
#undef DRV_THUNK

void run_steps(struct drv *d)
{
  while (!d->finishing && d->cur < d->nsteps) {
    int rc = d->steps[d->cur](d);

    if (rc == 0)
      return;
    fprintf(stderr, "aws_driver: step %zu could not start: %s\n", d->cur,
            op_strerror(rc));
    d->exit_code = 1;
    break;
  }
  finish(d);
}

/* ---- raw calls for set-up the table does not cover ----------------------- */

/* A raw call in flight: named for the output line. */
struct raw_ctx {
  struct drv *d;
  const char *op, *svc;
};

static void on_raw_named(int err, const struct aws_resp *resp,
                         const struct aws_error *aerr, void *arg)
{
  struct raw_ctx *x = arg;
  struct drv *d = x->d;
  int rc = 0;

  if (!d->finishing) {
    emit(d, x->op, x->svc, err, aerr, true);
    if (err == 0)
      rc = d->after_raw(d, resp->body, resp->body_len);
    if (err || rc) {
      d->exit_code = 1;
      finish(d);
    } else {
      d->cur++;
      run_steps(d);
    }
  }
  free(x);
}

static int raw_call(struct drv *d, const struct aws_call *call,
                    int (*after)(struct drv *, const char *, size_t))
{
  struct raw_ctx *x = util_xcalloc(1, sizeof(*x));
  int rc;

  x->d = d;
  x->op = call->operation;
  x->svc = call->service;
  d->after_raw = after;
  d->t_call = time_mono_ms();
  rc = aws_call_start(d->c, d->member, call, on_raw_named, x);
  if (rc)
    free(x);
  return rc;
}

int ec2_raw(struct drv *d, const char *op, const char *body,
            int (*after)(struct drv *, const char *, size_t))
{
  static const struct aws_header h[] = {
    { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
  };
  struct aws_call call = { .service = "ec2",
                           .operation = op,
                           .region = "us-east-1",
                           .method = "POST",
                           .path = "/",
                           .headers = h,
                           .nheaders = 1,
                           .body = body,
                           .body_len = strlen(body),
                           .protocol = AWS_PROTO_EC2,
                           .account = d->id.acct };

  return raw_call(d, &call, after);
}

/* Copy the text at path of the response document into out. */
int xml_pick(const char *body, size_t len, const char *path, char *out,
             size_t n)
{
  struct aws_xml *x;
  int rc = aws_xml_parse(body, len, &x);

  if (rc == 0) {
    rc = aws_xml_copy(aws_xml_root(x), path, out, n);
    aws_xml_free(x);
  }
  return rc;
}

int copy_id(char *out, size_t n, const char *v)
{
  if (str_empty(v))
    return OP_EPARSE;
  str_copy(out, v, n);
  return 0;
}

/* ---- the all-ops sequence ------------------------------------------------ */

static const step_fn all_ops[] = {
#define DRV_STEP_ENTRY(step) step,
  DRV_ALL_OPS(DRV_STEP_ENTRY)
#undef DRV_STEP_ENTRY
};

int start_all_ops(struct drv *d)
{
  if (str_empty(d->o.web_token))
    return OP_EINVAL;
  str_fmt(d->id.email, sizeof(d->id.email), "aint-%ld-%lld@aint.example.com",
          (long)getpid(), (long long)time_wall_ms());
  d->steps = all_ops;
  d->nsteps = UTIL_ARRAY_SIZE(all_ops);
  run_steps(d);
  return 0;
}
