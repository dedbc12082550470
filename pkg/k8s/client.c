/* k8s_client lifecycle: config copy, token reload timer, in-flight list,
 * asynchronous close. */
#include <stdlib.h>
#include <string.h>

#include "k8s/k8s_int.h"
#include "log/log.h"
#include "util/str.h"
#include "util/util.h"
#include "k8s/jparse.h"

#define DEF_QPS 100.0
#define DEF_BURST 200.0

static void on_reload(uv_timer_t *t)
{
  struct k8s_client *c = t->data;
  struct op_error e;
  bool changed = false;

  if (k8s_config_reload_token(c->cfg, &changed, &e))
    log_warn("k8s", "token reload failed: %s", e.msg);
  else if (changed)
    log_info("k8s", "service-account token rotated");
}

static void apply_defaults(struct k8s_client_opts *o)
{
  if (o->qps <= 0)
    o->qps = DEF_QPS;
  if (o->burst < 1)
    o->burst = DEF_BURST;
  if (!o->max_throttle_retries)
    o->max_throttle_retries = 3;
  if (!o->max_retry_after_ms)
    o->max_retry_after_ms = 30000;
  if (!o->default_retry_after_ms)
    o->default_retry_after_ms = 1000;
  if (!o->token_reload_ms)
    o->token_reload_ms = 60000;
  if (!o->request_timeout_ms)
    o->request_timeout_ms = 30000;
}

int k8s_client_new(uv_loop_t *loop, struct httpc *h,
                   const struct k8s_config *cfg,
                   const struct k8s_client_opts *opts, struct k8s_client **out)
{
  struct k8s_client *c;

  *out = NULL;
  if (!loop || !h || !cfg || str_empty(cfg->server))
    return OP_EINVAL;
  c = util_xcalloc(1, sizeof(*c));
  c->loop = loop;
  c->h = h;
  c->cfg = k8s_config_dup(cfg);
  if (opts)
    c->opts = *opts;
  c->opts.user_agent =
      opts && opts->user_agent ? util_xstrdup(opts->user_agent) : NULL;
  apply_defaults(&c->opts);
  k8s_tbucket_init(&c->tb, c->opts.qps, c->opts.burst, uv_now(loop));
  c->active.next = c->active.prev = &c->active;
  rng_seed_os(&c->rng);
  uv_timer_init(loop, &c->wake);
  uv_timer_init(loop, &c->reload);
  c->wake.data = c->reload.data = c;
  c->open_handles = 2;
  if (c->cfg->token_file) {
    uv_timer_start(&c->reload, on_reload, c->opts.token_reload_ms,
                   c->opts.token_reload_ms);
    uv_unref((uv_handle_t *)&c->reload);
  }
  *out = c;
  return 0;
}

const struct k8s_config *k8s_client_config(const struct k8s_client *c)
{
  return c->cfg;
}

size_t k8s_client_pending(const struct k8s_client *c)
{
  return c->pending;
}

static void maybe_free(struct k8s_client *c)
{
  void (*cb)(void *) = c->close_cb;
  void *arg = c->close_arg;

  if (!c->closing || c->open_handles || c->pending)
    return;
  k8s_config_free(c->cfg);
  free((char *)c->opts.user_agent);
  free(c);
  if (cb)
    cb(arg);
}

static void on_handle_closed(uv_handle_t *hd)
{
  struct k8s_client *c = hd->data;

  c->open_handles--;
  maybe_free(c);
}

void k8s__done_one(struct k8s_client *c)
{
  UTIL_ASSERT(c->pending > 0);
  c->pending--;
  maybe_free(c);
}

void k8s_client_close(struct k8s_client *c, void (*cb)(void *arg), void *arg)
{
  struct k8s__active *a;

  if (c->closing)
    return;
  c->closing = true;
  c->close_cb = cb;
  c->close_arg = arg;
  c->pending++; /* hold the client while callbacks run */
  k8s__rest_cancel_queued(c);
  for (a = c->active.next; a != &c->active; a = a->next) {
    if (a->cancel)
      a->cancel(a);
    else
      httpc_req_cancel(a->hr);
  }
  uv_close((uv_handle_t *)&c->wake, on_handle_closed);
  uv_close((uv_handle_t *)&c->reload, on_handle_closed);
  k8s__done_one(c);
}

void k8s__active_add(struct k8s_client *c, struct k8s__active *a)
{
  a->next = &c->active;
  a->prev = c->active.prev;
  c->active.prev->next = a;
  c->active.prev = a;
}

void k8s__active_del(struct k8s_client *c, struct k8s__active *a)
{
  (void)c;
  a->prev->next = a->next;
  a->next->prev = a->prev;
  a->next = a->prev = NULL;
}

bool k8s__auth_refresh(struct k8s_client *c)
{
  struct op_error e;
  bool changed = false;

  if (!c->cfg->token_file)
    return false;
  if (k8s_config_reload_token(c->cfg, &changed, &e)) {
    log_warn("k8s", "token re-read after 401 failed: %s", e.msg);
    return false;
  }
  log_info("k8s", "401 from the API server: token re-read (%s)",
           changed ? "changed" : "unchanged");
  return true;
}

static void set_tls(struct k8s_client *c, struct httpc_req *r)
{
  const struct k8s_config *k = c->cfg;
  struct httpc_tls tls = {
    .ca_file = k->ca_file,
    .ca_pem = k->ca_pem,
    .cert_file = k->cert_file,
    .cert_pem = k->cert_pem,
    .key_file = k->key_file,
    .key_pem = k->key_pem,
    .insecure_skip_verify = k->insecure_skip_verify,
  };

  if (str_has_prefix(k->server, "https://"))
    httpc_req_tls(r, &tls);
}

struct httpc_req *k8s__http_new(struct k8s_client *c, const char *method,
                                const char *path_query)
{
  char *url = str_printf_new("%s%s", c->cfg->server, path_query);
  struct httpc_req *r = httpc_req_new(c->h, method, url);

  free(url);
  if (!r)
    return NULL;
  httpc_req_header(r, "Accept", "application/json");
  if (c->opts.user_agent)
    httpc_req_header(r, "User-Agent", c->opts.user_agent);
  if (!str_empty(c->cfg->token))
    httpc_req_bearer(r, c->cfg->token);
  set_tls(c, r);
  return r;
}

json_t *k8s__body_json_new(const struct httpc_resp *resp, size_t flags)
{
  if (!resp || resp->body.len == 0)
    return NULL;
  return k8s_json_loadb(resp->body.data, resp->body.len, flags, NULL);
}
