/* REST verbs: one k8s__req per call, queued behind the token bucket,
 * started on httpc, retried on 429 (Retry-After) and once on 401 (after a
 * token re-read), completed through k8s_obj_cb. */
#include <stdlib.h>
#include <string.h>

#include "k8s/jparse.h"
#include "k8s/k8s_int.h"
#include "log/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

#define PATH_MAX_LEN (16 * 1024)

/* Owns: method, path, body, ctype (freed in req_free). */
struct k8s__req {
  struct k8s_client *c;
  struct k8s__req *next; /* queue link */
  struct k8s__active act;
  char *method, *path, *body, *ctype;
  k8s_obj_cb cb;
  void *arg;
  uint64_t not_before; /* loop ms */
  unsigned throttled;
  bool auth_retried;
  size_t parse_flags; /* for the response body (jparse.h) */
};

static void pump(struct k8s_client *c);

static void req_free(struct k8s__req *r)
{
  free(r->method);
  free(r->path);
  free(r->body);
  free(r->ctype);
  free(r);
}

static void finish(struct k8s__req *r, int err, json_t *obj,
                   const struct op_error *detail)
{
  struct k8s_client *c = r->c;

  r->cb(err, err ? NULL : obj, err ? detail : NULL, r->arg);
  req_free(r);
  k8s__done_one(c);
}

static void enqueue(struct k8s__req *r, uint64_t delay_ms)
{
  struct k8s_client *c = r->c;

  r->not_before = uv_now(c->loop) + delay_ms;
  r->next = NULL;
  if (c->q_tail)
    c->q_tail->next = r;
  else
    c->q_head = r;
  c->q_tail = r;
  pump(c);
}

void k8s__rest_cancel_queued(struct k8s_client *c)
{
  struct k8s__req *r;
  struct op_error e;

  op_error_set(&e, OP_ECANCELED, "k8s client closed");
  while ((r = c->q_head)) {
    c->q_head = r->next;
    if (!c->q_head)
      c->q_tail = NULL;
    finish(r, OP_ECANCELED, NULL, &e);
  }
}

static void on_wake(uv_timer_t *t)
{
  pump(t->data);
}

static bool should_retry(struct k8s__req *r, const struct httpc_resp *resp,
                         uint64_t *delay)
{
  struct k8s_client *c = r->c;
  long long ra;

  *delay = 0;
  if (c->closing)
    return false;
  if (resp->status == 401 && !r->auth_retried) {
    r->auth_retried = true;
    return k8s__auth_refresh(c);
  }
  if (resp->status != 429 || r->throttled >= c->opts.max_throttle_retries)
    return false;
  r->throttled++;
  ra = k8s_retry_after_ms(httpc_resp_header(resp, "Retry-After"),
                          (long long)(time_wall_ms() / 1000));
  *delay = ra < 0 ? c->opts.default_retry_after_ms : (uint64_t)ra;
  if (*delay > c->opts.max_retry_after_ms)
    *delay = c->opts.max_retry_after_ms;
  log_debug("k8s", "%s %s: 429, retry %u in %llu ms", r->method, r->path,
            r->throttled, (unsigned long long)*delay);
  return true;
}

static void on_http_done(struct httpc_req *hr, int err,
                         const struct httpc_resp *resp, void *arg)
{
  struct k8s__req *r = arg;
  struct op_error e;
  uint64_t delay;
  json_t *obj;
  int code;

  (void)hr;
  k8s__active_del(r->c, &r->act);
  if (r->c->opts.on_request)
    r->c->opts.on_request(r->method, err || !resp ? 0 : resp->status,
                          resp ? resp->total_s : 0, r->c->opts.on_request_arg);
  if (err) {
    op_error_set(&e, err, "%s %s: %s", r->method, r->path,
                 resp && resp->errmsg[0] ? resp->errmsg : op_strerror(err));
    finish(r, err, NULL, &e);
    return;
  }
  if (should_retry(r, resp, &delay)) {
    enqueue(r, delay);
    return;
  }
  obj = k8s__body_json_new(resp, r->parse_flags);
  if (resp->status >= 200 && resp->status < 300) {
    if (!obj && resp->body.len) {
      op_error_set(&e, OP_EPARSE, "%s %s: response is not JSON", r->method,
                   r->path);
      finish(r, OP_EPARSE, NULL, &e);
    } else {
      finish(r, 0, obj ? obj : json_null(), NULL);
    }
  } else {
    code = k8s_status_to_err(resp->status, obj, &e);
    finish(r, code, NULL, &e);
  }
  json_decref(obj);
}

static int start_one(struct k8s__req *r)
{
  struct k8s_client *c = r->c;
  struct httpc_req *hr = k8s__http_new(c, r->method, r->path);
  int rc;

  if (!hr)
    return OP_ENOMEM;
  if (r->body) {
    httpc_req_header(hr, "Content-Type", r->ctype);
    httpc_req_body(hr, r->body, strlen(r->body));
  }
  httpc_req_timeout_ms(hr, c->opts.request_timeout_ms);
  r->act.hr = hr;
  rc = httpc_req_start(hr, on_http_done, r);
  if (rc == 0)
    k8s__active_add(c, &r->act);
  return rc;
}

/* Unlink and start every due request a token allows; re-arm the timer. */
static void pump(struct k8s_client *c)
{
  struct k8s__req **pp = &c->q_head, *r, *prev = NULL;
  uint64_t now = uv_now(c->loop), wait = UINT64_MAX, w;
  struct op_error e;
  int rc;

  /* closing first: a callback may have closed the client and emptied
   * the queue under pp */
  while (!c->closing && (r = *pp)) {
    if (r->not_before > now) {
      wait = UTIL_MIN(wait, r->not_before - now);
      prev = r;
      pp = &r->next;
      continue;
    }
    if ((w = k8s_tbucket_take(&c->tb, now)) > 0) {
      wait = UTIL_MIN(wait, w);
      break;
    }
    *pp = r->next;
    if (c->q_tail == r)
      c->q_tail = prev;
    if ((rc = start_one(r)) != 0) {
      op_error_set(&e, rc, "%s %s: cannot start request", r->method, r->path);
      finish(r, rc, NULL, &e);
    }
  }
  if (!c->closing && wait != UINT64_MAX)
    uv_timer_start(&c->wake, on_wake, wait, 0);
}

static int submit_flags(struct k8s_client *c, const char *method,
                        struct buf *path, json_t *body, const char *ctype,
                        size_t parse_flags, k8s_obj_cb cb, void *arg)
{
  struct k8s__req *r;

  if (c->closing) {
    buf_cleanup(path);
    return OP_ESHUTDOWN;
  }
  r = util_xcalloc(1, sizeof(*r));
  r->c = c;
  r->method = util_xstrdup(method);
  r->path = buf_take(path, NULL);
  if (body) {
    r->body = json_dumps(body, JSON_COMPACT);
    if (!r->body) {
      req_free(r);
      return OP_EINVAL;
    }
    r->ctype = util_xstrdup(ctype ? ctype : "application/json");
  }
  r->cb = cb;
  r->arg = arg;
  r->parse_flags = parse_flags;
  c->pending++;
  /* Never start from inside the call: the queue runs from the timer so
   * cb is always invoked from the loop. */
  r->not_before = 0;
  r->next = NULL;
  if (c->q_tail)
    c->q_tail->next = r;
  else
    c->q_head = r;
  c->q_tail = r;
  uv_timer_start(&c->wake, on_wake, 0, 0);
  return 0;
}

static int submit(struct k8s_client *c, const char *method, struct buf *path,
                  json_t *body, const char *ctype, k8s_obj_cb cb, void *arg)
{
  return submit_flags(c, method, path, body, ctype, 0, cb, arg);
}

int k8s_get(struct k8s_client *c, const struct k8s_gvr *gvr, const char *ns,
            const char *name, k8s_obj_cb cb, void *arg)
{
  struct buf p;
  int rc;

  buf_init(&p, PATH_MAX_LEN);
  if (!cb || (rc = k8s_path_build(&p, gvr, ns, name, NULL))) {
    buf_cleanup(&p);
    return cb ? rc : OP_EINVAL;
  }
  return submit(c, "GET", &p, NULL, NULL, cb, arg);
}

static int list_query(struct buf *p, const struct k8s_list_opts *o)
{
  char lim[32];
  int rc = 0;

  if (!o)
    return 0;
  rc = k8s__query_selectors(p, o->label_selector, o->field_selector);
  if (!rc && o->resource_version)
    rc = k8s_query_add(p, "resourceVersion", o->resource_version);
  if (!rc && o->limit > 0) {
    str_fmt(lim, sizeof(lim), "%ld", o->limit);
    rc = k8s_query_add(p, "limit", lim);
  }
  if (!rc && !str_empty(o->continue_token))
    rc = k8s_query_add(p, "continue", o->continue_token);
  return rc;
}

int k8s_list(struct k8s_client *c, const struct k8s_gvr *gvr,
             const struct k8s_list_opts *opts, k8s_list_cb cb, void *arg)
{
  struct buf p;
  int rc;

  buf_init(&p, PATH_MAX_LEN);
  rc = cb ? k8s_path_build(&p, gvr, opts ? opts->namespace : NULL, NULL, NULL)
          : OP_EINVAL;
  if (!rc)
    rc = list_query(&p, opts);
  if (rc) {
    buf_cleanup(&p);
    return rc;
  }
  return submit_flags(
      c, "GET", &p, NULL, NULL,
      opts && opts->drop_managed_fields ? JPARSE_DROP_MANAGED : 0, cb, arg);
}

int k8s_create(struct k8s_client *c, const struct k8s_gvr *gvr, const char *ns,
               json_t *obj, k8s_obj_cb cb, void *arg)
{
  struct buf p;
  int rc;

  if (!cb || !json_is_object(obj))
    return OP_EINVAL;
  buf_init(&p, PATH_MAX_LEN);
  rc = k8s_path_build(&p, gvr, ns ? ns : k8s_obj_namespace(obj), NULL, NULL);
  if (rc) {
    buf_cleanup(&p);
    return rc;
  }
  return submit(c, "POST", &p, obj, NULL, cb, arg);
}

static int update_sub(struct k8s_client *c, const struct k8s_gvr *gvr,
                      json_t *obj, const char *sub, k8s_obj_cb cb, void *arg)
{
  struct buf p;
  int rc;

  if (!cb || !json_is_object(obj) || !k8s_obj_name(obj))
    return OP_EINVAL;
  buf_init(&p, PATH_MAX_LEN);
  rc = k8s_path_build(&p, gvr, k8s_obj_namespace(obj), k8s_obj_name(obj), sub);
  if (rc) {
    buf_cleanup(&p);
    return rc;
  }
  return submit(c, "PUT", &p, obj, NULL, cb, arg);
}

int k8s_update(struct k8s_client *c, const struct k8s_gvr *gvr, json_t *obj,
               k8s_obj_cb cb, void *arg)
{
  return update_sub(c, gvr, obj, NULL, cb, arg);
}

int k8s_update_status(struct k8s_client *c, const struct k8s_gvr *gvr,
                      json_t *obj, k8s_obj_cb cb, void *arg)
{
  return update_sub(c, gvr, obj, "status", cb, arg);
}

static int patch_sub(struct k8s_client *c, const struct k8s_gvr *gvr,
                     const char *ns, const char *name, const char *sub,
                     enum k8s_patch_type type, json_t *patch, k8s_obj_cb cb,
                     void *arg)
{
  const char *ct = type == K8S_PATCH_JSON ? "application/json-patch+json"
                                          : "application/merge-patch+json";
  struct buf p;
  int rc;

  if (!cb || !patch || (type == K8S_PATCH_JSON && !json_is_array(patch)) ||
      (type == K8S_PATCH_MERGE && !json_is_object(patch)))
    return OP_EINVAL;
  buf_init(&p, PATH_MAX_LEN);
  rc = k8s_path_build(&p, gvr, ns, name, sub);
  if (!rc && !name)
    rc = OP_EINVAL;
  if (rc) {
    buf_cleanup(&p);
    return rc;
  }
  return submit(c, "PATCH", &p, patch, ct, cb, arg);
}

int k8s_patch(struct k8s_client *c, const struct k8s_gvr *gvr, const char *ns,
              const char *name, enum k8s_patch_type type, json_t *patch,
              k8s_obj_cb cb, void *arg)
{
  return patch_sub(c, gvr, ns, name, NULL, type, patch, cb, arg);
}

int k8s_patch_status(struct k8s_client *c, const struct k8s_gvr *gvr,
                     const char *ns, const char *name, enum k8s_patch_type type,
                     json_t *patch, k8s_obj_cb cb, void *arg)
{
  return patch_sub(c, gvr, ns, name, "status", type, patch, cb, arg);
}

static json_t *delete_body(const struct k8s_delete_opts *o)
{
  static const char *const prop[] = { NULL, "Background", "Foreground",
                                      "Orphan" };
  json_t *b, *pre;

  if (!o)
    return NULL;
  b = json_pack("{s:s, s:s}", "apiVersion", "v1", "kind", "DeleteOptions");
  if (o->precondition_uid || o->precondition_resource_version) {
    pre = json_object();
    if (o->precondition_uid)
      json_object_set_new(pre, "uid", json_string(o->precondition_uid));
    if (o->precondition_resource_version)
      json_object_set_new(pre, "resourceVersion",
                          json_string(o->precondition_resource_version));
    json_object_set_new(b, "preconditions", pre);
  }
  if (o->propagation > K8S_PROPAGATION_DEFAULT &&
      o->propagation <= K8S_PROPAGATION_ORPHAN)
    json_object_set_new(b, "propagationPolicy",
                        json_string(prop[o->propagation]));
  return b;
}

int k8s_delete(struct k8s_client *c, const struct k8s_gvr *gvr, const char *ns,
               const char *name, const struct k8s_delete_opts *opts,
               k8s_obj_cb cb, void *arg)
{
  json_t *body;
  struct buf p;
  int rc;

  if (!cb || !name)
    return OP_EINVAL;
  buf_init(&p, PATH_MAX_LEN);
  if ((rc = k8s_path_build(&p, gvr, ns, name, NULL))) {
    buf_cleanup(&p);
    return rc;
  }
  body = delete_body(opts);
  rc = submit(c, "DELETE", &p, body, NULL, cb, arg);
  json_decref(body);
  return rc;
}
