/* k8s_watch_start/stop (k8s.h) on an httpc stream. Watches bypass the
 * client's token bucket (client-go does not rate limit them either). */
#include <stdlib.h>
#include <string.h>

#include "k8s/jparse.h"
#include "k8s/k8s_int.h"
#include "k8s/watch.h"
#include "log/log.h"
#include "util/str.h"
#include "util/util.h"

#define WATCH_PATH_MAX (16 * 1024)
#define WATCH_SAFETY_S 30 /* client ceiling above the server timeout */

/* Owns: path, last_rv, dec. Freed after done_cb returns. */
struct k8s_watch {
  struct k8s_client *c;
  struct k8s__active act;
  struct k8s_watch_decoder dec;
  char *path;
  char *last_rv;
  long timeout_s;
  k8s_watch_event_cb ev_cb;
  k8s_watch_done_cb done_cb;
  void *arg;
  int final_err; /* decided by the stream (EGONE, EPARSE, ...) */
  struct op_error detail;
  bool stopping; /* k8s_watch_stop was called */
  bool aborting; /* httpc will report the end (cancel or data-cb abort) */
  bool in_data;  /* inside the httpc data callback */
  bool auth_retried;
};

const char *k8s_watch_last_rv(const struct k8s_watch *w)
{
  return w->last_rv ? w->last_rv : "";
}

static void note_rv(struct k8s_watch *w, json_t *obj)
{
  const char *rv = k8s_obj_rv(obj);

  if (!rv || str_eq(rv, w->last_rv))
    return;
  free(w->last_rv);
  w->last_rv = util_xstrdup(rv);
}

static int on_event(enum k8s_event_type type, json_t *obj, void *arg)
{
  struct k8s_watch *w = arg;

  if (w->stopping)
    return OP_ECANCELED;
  if (type == K8S_EV_ERROR) {
    w->ev_cb(type, obj, w->arg);
    w->final_err = k8s_status_to_err(0, obj, &w->detail);
    return w->final_err;
  }
  note_rv(w, obj);
  w->ev_cb(type, obj, w->arg);
  return w->stopping ? OP_ECANCELED : 0;
}

static int on_data(struct httpc_req *hr, const char *data, size_t len,
                   void *arg)
{
  struct k8s_watch *w = arg;
  int rc;

  (void)hr;
  if (w->aborting || w->stopping)
    return 1;
  w->in_data = true;
  rc = k8s_watch_decoder_feed(&w->dec, data, len);
  w->in_data = false;
  if (rc == 0 && !w->stopping)
    return 0;
  if (rc && rc != OP_ECANCELED && !w->final_err) {
    w->final_err = rc;
    op_error_set(&w->detail, rc, "watch %s: %s", w->path, w->dec.errmsg);
  }
  w->aborting = true;
  return 1;
}

static void watch_cancel(struct k8s__active *a)
{
  struct k8s_watch *w = container_of(a, struct k8s_watch, act);

  w->stopping = true;
  if (!w->aborting && !w->in_data) {
    w->aborting = true;
    httpc_req_cancel(a->hr);
  }
}

void k8s_watch_stop(struct k8s_watch *w)
{
  if (w && !w->stopping)
    watch_cancel(&w->act);
}

static int watch_send(struct k8s_watch *w);

/* The error the watch ends with, filled into w->detail. */
static int end_error(struct k8s_watch *w, int err,
                     const struct httpc_resp *resp)
{
  json_t *st;
  int code;

  if (w->stopping)
    return op_error_set(&w->detail, OP_ECANCELED, "watch stopped");
  if (w->final_err)
    return w->final_err;
  if (err)
    return op_error_set(&w->detail, err, "watch %s: %s", w->path,
                        resp && resp->errmsg[0] ? resp->errmsg
                                                : op_strerror(err));
  if (resp->status >= 200 && resp->status < 300) {
    code = k8s_watch_decoder_finish(&w->dec);
    if (code && !w->final_err)
      op_error_set(&w->detail, code, "watch %s: %s", w->path, w->dec.errmsg);
    return w->final_err ? w->final_err : code;
  }
  st = k8s__body_json_new(resp, 0);
  code = k8s_status_to_err(resp->status, st, &w->detail);
  json_decref(st);
  return code;
}

static void on_done(struct httpc_req *hr, int err,
                    const struct httpc_resp *resp, void *arg)
{
  struct k8s_watch *w = arg;
  struct k8s_client *c = w->c;
  int code;

  (void)hr;
  k8s__active_del(c, &w->act);
  code = end_error(w, err, resp);
  if (code == OP_EUNAUTHORIZED && !w->auth_retried && !c->closing) {
    w->auth_retried = true;
    if (k8s__auth_refresh(c) && watch_send(w) == 0)
      return;
  }
  w->done_cb(code, code ? &w->detail : NULL, w->arg);
  k8s_watch_decoder_cleanup(&w->dec);
  free(w->path);
  free(w->last_rv);
  free(w);
  k8s__done_one(c);
}

static int watch_send(struct k8s_watch *w)
{
  struct httpc_req *hr = k8s__http_new(w->c, "GET", w->path);
  int rc;

  if (!hr)
    return OP_ENOMEM;
  httpc_req_stream(hr, on_data, w);
  httpc_req_timeout_ms(hr, (w->timeout_s + WATCH_SAFETY_S) * 1000);
  w->act.hr = hr;
  w->act.cancel = watch_cancel;
  w->aborting = false;
  w->final_err = 0;
  rc = httpc_req_start(hr, on_done, w);
  if (rc == 0)
    k8s__active_add(w->c, &w->act);
  return rc;
}

static int watch_path(struct k8s_client *c, const struct k8s_gvr *gvr,
                      const struct k8s_watch_opts *o, long timeout_s,
                      struct buf *p)
{
  char ts[24];
  int rc = k8s_path_build(p, gvr, o->namespace, NULL, NULL);

  if (!rc)
    rc = k8s_query_add(p, "watch", "1");
  if (!rc)
    rc = k8s__query_selectors(p, o->label_selector, o->field_selector);
  if (!rc && !str_empty(o->resource_version))
    rc = k8s_query_add(p, "resourceVersion", o->resource_version);
  if (!rc && o->allow_bookmarks)
    rc = k8s_query_add(p, "allowWatchBookmarks", "true");
  if (!rc && o->send_initial_events)
    rc = k8s_query_add(p, "sendInitialEvents", "true");
  if (!rc && o->send_initial_events)
    rc = k8s_query_add(p, "resourceVersionMatch", "NotOlderThan");
  str_fmt(ts, sizeof(ts), "%ld", timeout_s);
  if (!rc)
    rc = k8s_query_add(p, "timeoutSeconds", ts);
  (void)c;
  return rc;
}

int k8s_watch_start(struct k8s_client *c, const struct k8s_gvr *gvr,
                    const struct k8s_watch_opts *opts,
                    k8s_watch_event_cb event_cb, k8s_watch_done_cb done_cb,
                    void *arg, struct k8s_watch **out)
{
  struct k8s_watch_opts none = { 0 };
  struct k8s_watch *w;
  struct buf p;
  int rc;

  if (!c || !event_cb || !done_cb)
    return OP_EINVAL;
  if (c->closing)
    return OP_ESHUTDOWN;
  if (!opts)
    opts = &none;
  w = util_xcalloc(1, sizeof(*w));
  w->c = c;
  w->timeout_s = opts->timeout_seconds > 0
                     ? opts->timeout_seconds
                     : 300 + (long)rng_below(&c->rng, 301);
  buf_init(&p, WATCH_PATH_MAX);
  rc = watch_path(c, gvr, opts, w->timeout_s, &p);
  if (rc) {
    buf_cleanup(&p);
    free(w);
    return rc;
  }
  w->path = buf_take(&p, NULL);
  w->ev_cb = event_cb;
  w->done_cb = done_cb;
  w->arg = arg;
  k8s_watch_decoder_init(&w->dec, opts->max_event_bytes, on_event, w);
  if (opts->drop_managed_fields)
    w->dec.parse_flags = JPARSE_DROP_MANAGED;
  if ((rc = watch_send(w))) {
    k8s_watch_decoder_cleanup(&w->dec);
    free(w->path);
    free(w);
    return rc;
  }
  c->pending++;
  if (out)
    *out = w;
  return 0;
}
