/* The AWS call seam: governor -> credentials -> sign -> httpc -> decode ->
 * retry. See transport.h. */
#include "aws/core/transport.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/core/endpoints.h"
#include "aws/core/governor.h"
#include "aws/core/sigv4.h"
#include "aws/core/transport_int.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

#define MOD "aws"

static uint64_t now_ms(const struct aws_client *c)
{
  return c->o.clock ? c->o.clock(c->o.clock_arg) : time_mono_ms();
}

/* ---- call lifecycle ---- */

static void call_free_cb(uv_handle_t *h)
{
  struct aws_call_st *k = h->data;
  struct aws_client *c = k->c;
  size_t i;

  for (i = 0; i < k->call.nheaders; i++) {
    free((char *)k->call.headers[i].name);
    free((char *)k->call.headers[i].value);
  }
  free((void *)k->call.headers);
  free((char *)k->call.service);
  free((char *)k->call.operation);
  free((char *)k->call.region);
  free((char *)k->call.method);
  free((char *)k->call.path);
  free((char *)k->call.query);
  free((char *)k->call.controller);
  free((char *)k->call.account);
  /* Bodies may carry secrets (web identity tokens, passwords). */
  if (k->call.body)
    util_wipe((void *)k->call.body, k->call.body_len);
  free((void *)k->call.body);
  free(k);
  c->handles--;
  aws__client_maybe_freed(c);
}

static void list_remove(struct aws_client *c, struct aws_call_st *k)
{
  if (k->prev)
    k->prev->next = k->next;
  else
    c->calls = k->next;
  if (k->next)
    k->next->prev = k->prev;
  k->prev = k->next = NULL;
}

static void finish(struct aws_call_st *k, int err, const struct aws_resp *resp,
                   const struct aws_error *aerr)
{
  struct aws_client *c = k->c;

  k->phase = CALL_DONE;
  aws__metrics_call(c, k, err, resp, aerr);
  log_at(err ? LOG_INFO : LOG_DEBUG, MOD,
         LOG_KV({ "service", k->call.service },
                { "operation", k->call.operation },
                { "code", aerr ? aerr->code : "" },
                { "request_id", resp && resp->request_id ? resp->request_id
                                : aerr                   ? aerr->request_id
                                                         : "" }),
         "AWS call done: %s after %u attempt(s), %llu ms", op_err_name(err),
         k->attempt, (unsigned long long)(time_mono_ms() - k->t0));
  list_remove(c, k);
  aws__gov_release(k);
  c->inflight--;
  if (k->cb)
    k->cb(err, resp, aerr, k->arg);
  aws_creds_unref(k->creds);
  k->creds = NULL;
  uv_close((uv_handle_t *)&k->timer, call_free_cb);
}

static void finish_err(struct aws_call_st *k, int err, const char *detail)
{
  struct aws_error e;

  aws_error_from_transport(err, detail, &e);
  finish(k, err, NULL, &e);
}

static char *dup_or_null_new(const char *s)
{
  return s ? util_xstrdup(s) : NULL;
}

static void copy_call(struct aws_call_st *k, const struct aws_call *in)
{
  struct aws_header *hs = util_xcalloc(in->nheaders + 1, sizeof(*hs));
  size_t i;

  k->call = *in;
  for (i = 0; i < in->nheaders; i++) {
    hs[i].name = util_xstrdup(in->headers[i].name);
    hs[i].value = util_xstrdup(in->headers[i].value);
  }
  k->call.headers = hs;
  k->call.service = util_xstrdup(in->service);
  k->call.operation = util_xstrdup(in->operation ? in->operation : "");
  k->call.region = dup_or_null_new(in->region);
  k->call.method = util_xstrdup(in->method ? in->method : "POST");
  k->call.path = util_xstrdup(str_empty(in->path) ? "/" : in->path);
  k->call.query = dup_or_null_new(in->query);
  k->call.controller =
      util_xstrdup(in->controller ? in->controller : "{OTHER}");
  k->call.account = dup_or_null_new(in->account);
  k->call.body = NULL;
  if (in->body_len) {
    k->call.body = util_xmalloc(in->body_len);
    memcpy((void *)k->call.body, in->body, in->body_len);
  }
}

int aws_call_start(struct aws_client *c, struct aws_creds *creds,
                   const struct aws_call *call, aws_call_cb cb, void *arg)
{
  struct aws_endpoint ep;
  struct aws_call_st *k;
  int rc;

  if (c->closing)
    return OP_ESHUTDOWN;
  if (!call || !call->service || !cb || (!creds && !call->unsigned_request))
    return OP_EINVAL;
  rc = aws_endpoint_resolve(c->ep, call->service,
                            call->region ? call->region : c->default_region,
                            &ep);
  if (rc)
    return rc;
  k = util_xcalloc(1, sizeof(*k));
  k->c = c;
  k->ep = ep;
  k->cb = cb;
  k->arg = arg;
  k->creds = creds ? aws_creds_ref(creds) : NULL;
  k->t0 = time_mono_ms();
  copy_call(k, call);
  uv_timer_init(c->loop, &k->timer);
  k->timer.data = k;
  c->handles++;
  k->next = c->calls;
  if (c->calls)
    c->calls->prev = k;
  c->calls = k;
  c->inflight++;
  aws__gov_enter(k);
  return 0;
}

/* ---- send ---- */

static void on_http_done(struct httpc_req *r, int err,
                         const struct httpc_resp *resp, void *arg);

static void add_signed_headers(struct aws_call_st *k, struct httpc_req *r,
                               const struct sigv4_out *o)
{
  httpc_req_header(r, "X-Amz-Date", o->amz_date);
  if (o->token_header)
    httpc_req_header(r, "X-Amz-Security-Token", o->token_header);
  if (o->content_sha256[0])
    httpc_req_header(r, "X-Amz-Content-Sha256", o->content_sha256);
  httpc_req_header(r, "Authorization", o->authorization);
}

static int sign_into(struct aws_call_st *k, struct httpc_req *r,
                     const struct sigv4_creds *v)
{
  struct aws_client *c = k->c;
  const struct aws_call *call = &k->call;
  struct sigv4_header *hs = util_xcalloc(call->nheaders + 1, sizeof(*hs));
  struct sigv4_params p = { 0 };
  struct sigv4_req sr;
  struct sigv4_out o;
  size_t i;
  int rc;

  for (i = 0; i < call->nheaders; i++)
    hs[i] =
        (struct sigv4_header){ call->headers[i].name, call->headers[i].value };
  hs[i] = (struct sigv4_header){ "Host", k->ep.host };
  sr = (struct sigv4_req){
    call->method,       call->path, call->query,    hs,
    call->nheaders + 1, call->body, call->body_len, NULL
  };
  p.region = k->ep.signing_region;
  p.service = k->ep.signing_name;
  p.now = time(NULL) + c->skew_s;
  if (strcmp(call->service, "s3") == 0) {
    p.uri_mode = SIGV4_URI_S3;
    p.content_sha256_header = true;
  }
  rc = sigv4_sign(c->kc, &sr, &p, v, &o);
  if (rc == 0)
    add_signed_headers(k, r, &o);
  sigv4_out_cleanup(&o);
  free(hs);
  return rc;
}

void aws__send(struct aws_call_st *k, const struct sigv4_creds *v)
{
  struct aws_client *c = k->c;
  const struct aws_call *call = &k->call;
  struct httpc_req *r;
  size_t i;
  char *url;
  int rc = 0;

  k->attempt++;
  if (c->o.attempt_hook)
    c->o.attempt_hook(c->o.attempt_hook_arg, call, k->attempt);
  url = str_printf_new("%s%s%s%s", k->ep.url, call->path,
                       str_empty(call->query) ? "" : "?",
                       str_empty(call->query) ? "" : call->query);
  r = httpc_req_new(c->http, call->method, url);
  free(url);
  for (i = 0; i < call->nheaders && rc == 0; i++)
    rc = httpc_req_header(r, call->headers[i].name, call->headers[i].value);
  if (rc == 0 && !call->unsigned_request)
    rc = sign_into(k, r, v);
  if (rc) {
    httpc_req_free(r);
    finish_err(k, rc, "cannot build the request");
    return;
  }
  if (call->body_len || strcmp(call->method, "GET") != 0)
    httpc_req_body(r, call->body, call->body_len);
  httpc_req_timeout_ms(r, c->o.timeout_ms);
  k->phase = CALL_HTTP;
  k->req = r;
  rc = httpc_req_start(r, on_http_done, k);
  if (rc) {
    k->req = NULL;
    aws__after_transport_error(k, rc, "httpc refused the request");
  }
}

/* A credentials refresh that was throttled or met a transient failure
 * (AssumeRole under load) says nothing about the credentials: keep its
 * class, so that callers retry; anything else is an authentication error. */
static int creds_err_class(int err, int *cls)
{
  if (err == OP_ETHROTTLED) {
    *cls = AWS_ERR_THROTTLED;
    return err;
  }
  if (err == OP_ETRANSIENT || err == OP_ETIMEDOUT || err == OP_ECONNREFUSED ||
      err == OP_ECONNECT || err == OP_EIO) {
    *cls = AWS_ERR_TRANSIENT;
    return OP_ETRANSIENT;
  }
  *cls = AWS_ERR_AUTH;
  return OP_EAUTH;
}

static void on_creds(int err, const struct sigv4_creds *v, void *arg)
{
  struct aws_call_st *k = arg;

  if (k->c->closing) {
    finish_err(k, OP_ESHUTDOWN, "client closing");
    return;
  }
  if (err) {
    struct aws_error e;
    aws_error_from_transport(err, "no credentials", &e);
    str_copy(e.code, "CredentialsUnavailable", sizeof(e.code));
    finish(k, creds_err_class(err, &e.cls), NULL, &e);
    return;
  }
  aws__send(k, v);
}

/* The governor let the call go: get credentials, then send. */
void aws__call_go(struct aws_call_st *k)
{
  int rc;

  if (k->call.unsigned_request) {
    aws__send(k, NULL);
    return;
  }
  k->phase = CALL_CREDS;
  rc = aws_creds_get(k->creds, on_creds, k);
  if (rc)
    finish_err(k, rc, "credentials unavailable");
}

/* ---- completion and retries ---- */

static void backoff_cb(uv_timer_t *t)
{
  struct aws_call_st *k = t->data;

  aws__gov_enter(k);
}

/* Retry after delay_ms if attempts and budget allow; else finish. */
static void retry_or_finish(struct aws_call_st *k, unsigned cost,
                            uint64_t delay_ms, int err,
                            const struct aws_resp *resp,
                            const struct aws_error *aerr)
{
  struct aws_client *c = k->c;

  if (c->closing || k->attempt >= c->o.max_attempts ||
      (cost && !aws_retry_budget_take(&c->budget, cost))) {
    if (cost && k->attempt < c->o.max_attempts && !c->closing)
      log_warn(MOD, "%s %s: retry budget exhausted", k->call.service,
               k->call.operation);
    finish(k, err, resp, aerr);
    return;
  }
  k->last_cost = cost;
  aws__metrics_retry(c, k);
  log_debug(MOD, "%s %s: retry %u in %llu ms (%s)", k->call.service,
            k->call.operation, k->attempt, (unsigned long long)delay_ms,
            aerr ? aerr->code : "");
  k->phase = CALL_BACKOFF;
  uv_timer_start(&k->timer, backoff_cb, delay_ms, 0);
}

static uint64_t delay_for(struct aws_call_st *k)
{
  struct aws_client *c = k->c;

  return aws_retry_delay_ms(k->attempt, c->o.backoff_base_ms,
                            c->o.backoff_cap_ms, &c->rng);
}

/* The request never reached a server (nothing could have been done). */
static int never_sent(int err)
{
  return err == OP_ECONNREFUSED || err == OP_ECONNECT;
}

void aws__after_transport_error(struct aws_call_st *k, int err,
                                const char *detail)
{
  struct aws_error e;
  unsigned cost = err == OP_ETIMEDOUT ? AWS_RETRY_TIMEOUT_COST : AWS_RETRY_COST;

  aws_error_from_transport(err, detail, &e);
  if (e.cls == AWS_ERR_TRANSIENT && (k->call.idempotent || never_sent(err)))
    retry_or_finish(k, cost, delay_for(k), err, NULL, &e);
  else
    finish(k, err, NULL, &e);
}

static void on_success(struct aws_call_st *k, const struct httpc_resp *resp)
{
  struct aws_client *c = k->c;
  struct aws_resp r;

  aws_gov_on_success(&k->gov->b);
  aws_retry_budget_refund(&c->budget, k->last_cost ? k->last_cost
                                                   : AWS_RETRY_NO_RETRY_REFUND);
  r.status = resp->status;
  r.body = buf_str(&resp->body);
  r.body_len = resp->body.len;
  r.request_id = httpc_resp_header(resp, "x-amzn-RequestId");
  if (!r.request_id)
    r.request_id = httpc_resp_header(resp, "x-amz-request-id");
  r.http = resp;
  finish(k, 0, &r, NULL);
}

/* A clock-skew answer: learn the offset from Date and retry at once
 * (once per call). Returns 1 when a retry was scheduled. */
static int fix_skew(struct aws_call_st *k, const struct httpc_resp *resp)
{
  const char *date = httpc_resp_header(resp, "Date");
  time_t server;

  if (k->skew_retried || !date || time_parse_http_date(date, &server) != 0)
    return 0;
  k->skew_retried = true;
  k->c->skew_s = (long)(server - time(NULL));
  log_warn(MOD, "clock skew: server time differs by %ld s; correcting",
           k->c->skew_s);
  return 1;
}

static int is_expired_token(const struct aws_error *e)
{
  return str_eq(e->code, "ExpiredToken") ||
         str_eq(e->code, "ExpiredTokenException");
}

static void on_error_resp(struct aws_call_st *k, const struct httpc_resp *resp)
{
  struct aws_client *c = k->c;
  struct aws_error e;
  struct aws_resp r = { resp->status, buf_str(&resp->body), resp->body.len,
                        NULL, resp };
  int err = aws_error_decode(k->call.protocol, resp->status, r.body, r.body_len,
                             httpc_resp_header(resp, "x-amzn-ErrorType"),
                             httpc_resp_header(resp, "x-amzn-RequestId")
                                 ? httpc_resp_header(resp, "x-amzn-RequestId")
                                 : httpc_resp_header(resp, "x-amz-request-id"),
                             &e);

  r.request_id = e.request_id;
  if (e.cls == AWS_ERR_THROTTLED) {
    aws_gov_on_throttle(&k->gov->b, now_ms(c));
    aws__metrics_throttle(c, k);
    retry_or_finish(k, AWS_RETRY_COST, delay_for(k), err, &r, &e);
  } else if (e.cls == AWS_ERR_TRANSIENT && k->call.idempotent) {
    retry_or_finish(k, AWS_RETRY_COST, delay_for(k), err, &r, &e);
  } else if (e.cls == AWS_ERR_CLOCK_SKEW && fix_skew(k, resp)) {
    retry_or_finish(k, 0, 0, err, &r, &e);
  } else if (is_expired_token(&e) && !k->token_retried && k->creds &&
             aws_creds_kind(k->creds) != AWS_CREDS_STATIC) {
    k->token_retried = true;
    aws_creds_invalidate(k->creds);
    retry_or_finish(k, 0, 0, err, &r, &e);
  } else {
    finish(k, err, &r, &e);
  }
}

static void on_http_done(struct httpc_req *req, int err,
                         const struct httpc_resp *resp, void *arg)
{
  struct aws_call_st *k = arg;

  k->req = NULL;
  if (err == OP_ECANCELED && k->c->closing)
    finish_err(k, OP_ECANCELED, "client closing");
  else if (err)
    aws__after_transport_error(k, err, resp ? resp->errmsg : NULL);
  else if (resp->status >= 200 && resp->status < 300)
    on_success(k, resp);
  else
    on_error_resp(k, resp);
}

/* ---- closing ---- */

void aws__calls_cancel(struct aws_client *c)
{
  struct aws_call_st *k = c->calls, *next;

  for (; k; k = next) {
    next = k->next;
    switch (k->phase) {
    case CALL_GOV:
      aws__gov_dequeue(k);
      finish_err(k, OP_ESHUTDOWN, "client closing");
      break;
    case CALL_BACKOFF:
      uv_timer_stop(&k->timer);
      finish_err(k, OP_ESHUTDOWN, "client closing");
      break;
    case CALL_HTTP:
      if (k->req)
        httpc_req_cancel(k->req);
      break;
    default:
      break; /* CALL_CREDS: its callback sees `closing` */
    }
  }
}
