/* Event recorder; see events.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s/events.h"
#include "log/log.h"
#include "util/map.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

#define MSG_MAX 1024

static const struct k8s_gvr event_gvr = { "", "v1", "events", true };

/* Owns name and ns. */
struct agg {
  char *name, *ns;
  long count;
  uint64_t last_ms;
};

struct limiter {
  struct k8s_tbucket tb;
};

/* Owns component, instance, the maps' values. Freed when closed and
 * nothing is in flight. */
struct k8s_recorder {
  uv_loop_t *loop;
  struct k8s_recorder_opts o;
  struct k8s_event_sink sink;
  void *sink_arg;
  char *component, *instance;
  struct map aggs;   /* correlation key -> struct agg */
  struct map limits; /* object key -> struct limiter */
  struct k8s_recorder_stats st;
  unsigned long seq;
  size_t inflight;
  bool closed;
};

/* ---- default sink -------------------------------------------------------- */

static int c_create(void *a, const char *ns, json_t *ev, k8s_obj_cb cb,
                    void *arg)
{
  return k8s_create(a, &event_gvr, ns, ev, cb, arg);
}

static int c_patch(void *a, const char *ns, const char *name, json_t *p,
                   k8s_obj_cb cb, void *arg)
{
  return k8s_patch(a, &event_gvr, ns, name, K8S_PATCH_MERGE, p, cb, arg);
}

static const struct k8s_event_sink client_sink = { c_create, c_patch };

/* ---- lifecycle ----------------------------------------------------------- */

int k8s_recorder_new(uv_loop_t *loop, struct k8s_client *c,
                     const struct k8s_recorder_opts *opts,
                     struct k8s_recorder **out)
{
  struct k8s_recorder_opts none = { 0 };
  struct k8s_recorder *r;
  char host[256];

  *out = NULL;
  if (!opts)
    opts = &none;
  if (!loop || (!c && !opts->sink))
    return OP_EINVAL;
  r = util_xcalloc(1, sizeof(*r));
  r->loop = loop;
  r->o = *opts;
  r->sink = opts->sink ? *opts->sink : client_sink;
  r->sink_arg = opts->sink ? opts->sink_arg : c;
  r->component =
      util_xstrdup(opts->component ? opts->component : "aws-account-operator");
  if (gethostname(host, sizeof(host)) != 0)
    str_copy(host, "unknown", sizeof(host));
  host[sizeof(host) - 1] = '\0';
  r->instance =
      util_xstrdup(opts->reporting_instance ? opts->reporting_instance : host);
  r->o.cache_size = opts->cache_size ? opts->cache_size : 4096;
  r->o.aggregate_window_ms =
      opts->aggregate_window_ms ? opts->aggregate_window_ms : 600000;
  r->o.burst = opts->burst > 0 ? opts->burst : 25;
  r->o.qps = opts->qps > 0 ? opts->qps : 1.0 / 300.0;
  map_init(&r->aggs);
  map_init(&r->limits);
  *out = r;
  return 0;
}

static void free_agg(void *v, void *arg)
{
  struct agg *a = v;

  (void)arg;
  free(a->name);
  free(a->ns);
  free(a);
}

static void free_val(void *v, void *arg)
{
  (void)arg;
  free(v);
}

static void maybe_free(struct k8s_recorder *r)
{
  if (!r->closed || r->inflight)
    return;
  map_cleanup(&r->aggs, free_agg, NULL);
  map_cleanup(&r->limits, free_val, NULL);
  free(r->component);
  free(r->instance);
  free(r);
}

void k8s_recorder_free(struct k8s_recorder *r)
{
  if (!r)
    return;
  r->closed = true;
  maybe_free(r);
}

void k8s_recorder_stats(const struct k8s_recorder *r,
                        struct k8s_recorder_stats *out)
{
  *out = r->st;
}

/* ---- bounded maps: evict the least recently used when full --------------- */

static void evict_oldest_agg(struct k8s_recorder *r)
{
  const char *k, *oldest = NULL;
  uint64_t best = UINT64_MAX;
  size_t i = 0;
  void *v;

  while (map_next(&r->aggs, &i, &k, &v)) {
    if (((struct agg *)v)->last_ms < best) {
      best = ((struct agg *)v)->last_ms;
      oldest = k;
    }
  }
  if (oldest)
    free_agg(map_del(&r->aggs, oldest), NULL);
}

static void evict_oldest_limit(struct k8s_recorder *r)
{
  const char *k, *oldest = NULL;
  uint64_t best = UINT64_MAX;
  size_t i = 0;
  void *v;

  while (map_next(&r->limits, &i, &k, &v)) {
    if (((struct limiter *)v)->tb.last_ms < best) {
      best = ((struct limiter *)v)->tb.last_ms;
      oldest = k;
    }
  }
  if (oldest)
    free(map_del(&r->limits, oldest));
}

static bool allow(struct k8s_recorder *r, const char *objkey, uint64_t now)
{
  struct limiter *l = map_get(&r->limits, objkey);

  if (!l) {
    if (map_len(&r->limits) >= r->o.cache_size)
      evict_oldest_limit(r);
    l = util_xcalloc(1, sizeof(*l));
    k8s_tbucket_init(&l->tb, r->o.qps, r->o.burst, now);
    map_put(&r->limits, objkey, l, NULL);
  }
  return k8s_tbucket_take(&l->tb, now) == 0;
}

/* ---- sending ---------------------------------------------------------------
 */

struct sent {
  struct k8s_recorder *r;
  char *key; /* aggregation key, to forget it on failure */
  bool patch;
};

static void on_sent(int err, json_t *obj, const struct op_error *d, void *arg)
{
  struct sent *s = arg;
  struct k8s_recorder *r = s->r;
  void *a;

  (void)obj;
  r->inflight--;
  if (err) {
    r->st.failed++;
    log_debug("k8s", "event %s failed: %s", s->patch ? "patch" : "create",
              d ? d->msg : op_strerror(err));
    if (!r->closed && (a = map_del(&r->aggs, s->key)))
      free_agg(a, NULL);
  }
  free(s->key);
  free(s);
  maybe_free(r);
}

static struct sent *sent_new(struct k8s_recorder *r, const char *key,
                             bool patch)
{
  struct sent *s = util_xcalloc(1, sizeof(*s));

  s->r = r;
  s->key = util_xstrdup(key);
  s->patch = patch;
  r->inflight++;
  return s;
}

static void send_patch(struct k8s_recorder *r, struct agg *a, const char *key,
                       const char *msg)
{
  char now[TIME_RFC3339_LEN];
  struct sent *s = sent_new(r, key, true);
  json_t *p;

  time_rfc3339((time_t)(time_wall_ms() / 1000), now);
  p = json_pack("{s:I, s:s, s:s}", "count", (json_int_t)a->count,
                "lastTimestamp", now, "message", msg);
  if (r->sink.patch(r->sink_arg, a->ns, a->name, p, on_sent, s) == 0)
    r->st.patched++;
  else
    on_sent(OP_EIO, NULL, NULL, s);
  json_decref(p);
}

static json_t *involved(json_t *obj)
{
  json_t *io = json_object();
  const char *f[] = { "namespace", "name", "uid", "resourceVersion" };
  const char *v;
  size_t i;

  json_object_set_new(io, "apiVersion",
                      json_string(k8s_obj_str(obj, NULL, "apiVersion")));
  json_object_set_new(io, "kind", json_string(k8s_obj_str(obj, NULL, "kind")));
  for (i = 0; i < UTIL_ARRAY_SIZE(f); i++) {
    if ((v = k8s_obj_str(obj, "metadata", f[i])))
      json_object_set_new(io, f[i], json_string(v));
  }
  return io;
}

static void send_create(struct k8s_recorder *r, struct agg *a, const char *key,
                        json_t *obj, const char *type, const char *reason,
                        const char *msg)
{
  char now[TIME_RFC3339_LEN];
  struct sent *s = sent_new(r, key, false);
  json_t *ev;

  time_rfc3339((time_t)(time_wall_ms() / 1000), now);
  ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:s, s:i, s:s, "
                 "s:s, s:{s:s}, s:s, s:s}",
                 "apiVersion", "v1", "kind", "Event", "metadata", "name",
                 a->name, "namespace", a->ns, "involvedObject", involved(obj),
                 "reason", reason, "message", msg, "type", type, "count", 1,
                 "firstTimestamp", now, "lastTimestamp", now, "source",
                 "component", r->component, "reportingComponent", r->component,
                 "reportingInstance", r->instance);
  if (!ev || r->sink.create(r->sink_arg, a->ns, ev, on_sent, s) != 0)
    on_sent(OP_EIO, NULL, NULL, s);
  else
    r->st.created++;
  json_decref(ev);
}

static struct agg *agg_new(struct k8s_recorder *r, const char *key, json_t *obj)
{
  const char *ns = k8s_obj_namespace(obj);
  struct agg *a = util_xcalloc(1, sizeof(*a));

  if (map_len(&r->aggs) >= r->o.cache_size)
    evict_oldest_agg(r);
  a->ns = util_xstrdup(str_empty(ns) ? "default" : ns);
  a->name =
      str_printf_new("%s.%llx%04lx", k8s_obj_name(obj),
                     (unsigned long long)time_wall_ms(), (r->seq++) & 0xffff);
  map_put(&r->aggs, key, a, NULL);
  return a;
}

static void record(struct k8s_recorder *r, json_t *obj, const char *type,
                   const char *reason, const char *msg)
{
  uint64_t now = uv_now(r->loop);
  char *objkey, *key;
  struct agg *a;

  objkey = str_printf_new("%s/%s/%s/%s", k8s_obj_str(obj, NULL, "kind"),
                          k8s_obj_namespace(obj) ? k8s_obj_namespace(obj) : "",
                          k8s_obj_name(obj),
                          k8s_obj_uid(obj) ? k8s_obj_uid(obj) : "");
  key = str_printf_new("%s|%s|%s|%s", objkey, type, reason, msg);
  if (!allow(r, objkey, now)) {
    r->st.dropped++;
    log_debug("k8s", "event dropped (rate limit) for %s: %s", objkey, reason);
  } else if ((a = map_get(&r->aggs, key)) &&
             now - a->last_ms < r->o.aggregate_window_ms) {
    a->count++;
    a->last_ms = now;
    send_patch(r, a, key, msg);
  } else {
    if (a)
      free_agg(map_del(&r->aggs, key), NULL);
    a = agg_new(r, key, obj);
    a->count = 1;
    a->last_ms = now;
    send_create(r, a, key, obj, type, reason, msg);
  }
  free(objkey);
  free(key);
}

void k8s_event(struct k8s_recorder *r, json_t *obj, const char *type,
               const char *reason, const char *fmt, ...)
{
  char msg[MSG_MAX];
  va_list ap;

  if (!r || r->closed || !json_is_object(obj) || !k8s_obj_name(obj) ||
      !k8s_obj_str(obj, NULL, "kind") || str_empty(reason))
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  record(r, obj,
         str_eq(type, K8S_EVENT_WARNING) ? K8S_EVENT_WARNING : K8S_EVENT_NORMAL,
         reason, msg);
}
