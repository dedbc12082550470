#include "controllers/runtime/ctrl.h"

#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "metrics/metrics.h"
#include "util/map.h"
#include "util/str.h"
#include "util/util.h"

/* Keys produced by a mapping (owned strings). */
struct ctrl_keys {
  char **v;
  size_t n, cap;
};

enum src_kind { SRC_FOR, SRC_OWNED, SRC_MAP, SRC_GATE };

/* One informer the controller reads. Owner: the controller's list. */
struct ctrl_src {
  struct ctrl_src *next;
  struct ctrl *c;
  struct inf *inf; /* borrowed */
  enum src_kind kind;
  int handler_id;          /* 0 = none */
  struct ctrl_owner owner; /* strings owned (SRC_OWNED) */
  ctrl_map_fn fn;
  void *fn_arg;
};

/* A key being reconciled. Owner: the runs map. */
struct ctrl_run {
  uint64_t id, start_ns;
  bool pending; /* reconcile returned CTRL_PENDING */
  bool in_call; /* reconcile has not returned yet */
  bool early;   /* ctrl_complete ran inside the reconcile */
  struct ctrl_result early_res;
};

struct ctrl_ctx {
  struct ctrl *c;
};

/* Owner of every pointer member: the controller; metrics borrowed. */
struct ctrl {
  uv_loop_t *loop;
  char *name;
  const char *lv1[2]; /* { name, NULL } */
  ctrl_reconcile_fn reconcile;
  void *data;
  unsigned max, active;
  struct ctrl_metrics *m;
  struct wq *q;
  wq_clock_fn clock;
  void *clock_arg;
  struct ctrl_src *srcs;
  struct map runs; /* key -> struct ctrl_run * */
  uint64_t next_id;
  struct ctrl_ctx ctx;
  bool started, paused, closing, queue_closed, kick_closed;
  uv_idle_t kick;
  ctrl_close_cb close_cb;
  void *close_arg;
};

static const char *const results[] = { "success", "error", "requeue",
                                       "requeue_after" };

static uint64_t default_clock(void *arg)
{
  (void)arg;
  return uv_hrtime();
}

/* ---- metrics --------------------------------------------------------- */

struct ctrl_metrics *ctrl_metrics_new(struct met_registry *r)
{
  static const char *const l1[] = { "controller", NULL };
  static const char *const l2[] = { "controller", "result", NULL };
  /* controller-runtime's reconcile_time_seconds buckets */
  static const double b[] = { 0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2, 0.25,
                              0.3,   0.35, 0.4,   0.45, 0.5,  0.6,  0.7, 0.8,
                              0.9,   1.0,  1.25,  1.5,  1.75, 2.0,  2.5, 3.0,
                              3.5,   4.0,  4.5,   5,    6,    7,    8,   9,
                              10,    15,   20,    25,   30,   40,   50,  60 };
  struct ctrl_metrics *m = util_xcalloc(1, sizeof(*m));

  m->total = met_counter(r, "controller_runtime_reconcile_total",
                         "Total number of reconciliations per controller", l2);
  m->errors = met_counter(r, "controller_runtime_reconcile_errors_total",
                          "Total number of reconciliation errors per "
                          "controller",
                          l1);
  m->time = met_histogram(r, "controller_runtime_reconcile_time_seconds",
                          "Length of time per reconciliation per "
                          "controller",
                          b, UTIL_ARRAY_SIZE(b), l1);
  m->active = met_gauge(r, "controller_runtime_active_workers",
                        "Number of currently used workers per controller", l1);
  m->max = met_gauge(r, "controller_runtime_max_concurrent_reconciles",
                     "Maximum number of concurrent reconciles per "
                     "controller",
                     l1);
  return m;
}

void ctrl_metrics_free(struct ctrl_metrics *m)
{
  free(m);
}

static void set_active(struct ctrl *c)
{
  if (c->m)
    met_set(c->m->active, c->lv1, c->active);
}

static void count_result(struct ctrl *c, int which)
{
  if (!c->m)
    return;
  met_inc(c->m->total, MET_LV(c->name, results[which]));
  if (which == 1)
    met_inc(c->m->errors, c->lv1);
}

/* ---- keys from objects ----------------------------------------------- */

/* No duplicate check: the workqueue drops a key already queued, and a
 * scan here would make a mapping to k keys cost k^2. */
void ctrl_keys_add(struct ctrl_keys *k, const char *key)
{
  if (str_empty(key))
    return;
  if (k->n == k->cap) {
    k->cap = k->cap ? k->cap * 2 : 4;
    k->v = util_xrealloc(k->v, k->cap * sizeof(*k->v));
  }
  k->v[k->n++] = util_xstrdup(key);
}

static void keys_cleanup(struct ctrl_keys *k)
{
  size_t i;

  for (i = 0; i < k->n; i++)
    free(k->v[i]);
  free(k->v);
}

size_t ctrl_map_keys(ctrl_map_fn fn, void *fn_arg, const json_t *obj,
                     void (*each)(const char *key, void *arg), void *arg)
{
  struct ctrl_keys k = { 0 };
  size_t i, n;

  fn(obj, &k, fn_arg);
  for (i = 0; each && i < k.n; i++)
    each(k.v[i], arg);
  n = k.n;
  keys_cleanup(&k);
  return n;
}

/* "group/version" -> does group match? Core objects say just "v1". */
static bool group_matches(const char *api_version, const char *group)
{
  const char *slash = api_version ? strchr(api_version, '/') : NULL;

  if (!api_version)
    return false;
  if (str_empty(group))
    return !slash;
  return slash && (size_t)(slash - api_version) == strlen(group) &&
         strncmp(api_version, group, strlen(group)) == 0;
}

static void owner_keys(const json_t *obj, const struct ctrl_owner *o,
                       struct ctrl_keys *out)
{
  const json_t *meta = json_object_get(obj, "metadata");
  const char *ns = json_string_value(json_object_get(meta, "namespace"));
  char key[STORE_KEY_MAX];
  size_t i;
  json_t *r;

  json_array_foreach(json_object_get(meta, "ownerReferences"), i, r)
  {
    const char *name = json_string_value(json_object_get(r, "name"));
    if (!str_eq(json_string_value(json_object_get(r, "kind")), o->kind) ||
        !group_matches(json_string_value(json_object_get(r, "apiVersion")),
                       o->group) ||
        str_empty(name))
      continue;
    if (!o->any_owner && !json_is_true(json_object_get(r, "controller")))
      continue;
    if (o->cluster_scoped || str_empty(ns)) {
      ctrl_keys_add(out, name);
    } else if (!str_fmt(key, sizeof(key), "%s/%s", ns, name)) {
      ctrl_keys_add(out, key);
    }
  }
}

int ctrl_owner_key(const json_t *obj, const struct ctrl_owner *owner, char *out,
                   size_t outsize)
{
  struct ctrl_keys k = { 0 };
  int err = OP_ENOTFOUND;

  owner_keys(obj, owner, &k);
  if (k.n)
    err = str_copy(out, k.v[0], outsize) < outsize ? 0 : OP_ETOOBIG;
  keys_cleanup(&k);
  return err;
}

static void src_keys(struct ctrl_src *s, const json_t *obj,
                     struct ctrl_keys *out)
{
  char key[STORE_KEY_MAX];

  switch (s->kind) {
  case SRC_FOR:
    if (!store_obj_key(obj, key, sizeof(key)))
      ctrl_keys_add(out, key);
    break;
  case SRC_OWNED:
    owner_keys(obj, &s->owner, out);
    break;
  case SRC_MAP:
    s->fn(obj, out, s->fn_arg);
    break;
  case SRC_GATE:
    break;
  }
}

static void enqueue_for(struct ctrl_src *s, const json_t *a, const json_t *b)
{
  struct ctrl_keys k = { 0 };
  size_t i;

  src_keys(s, a, &k);
  if (b)
    src_keys(s, b, &k);
  for (i = 0; i < k.n; i++)
    wq_add(s->c->q, k.v[i]);
  keys_cleanup(&k);
}

/* ---- informer handlers ----------------------------------------------- */

static void schedule_kick(struct ctrl *c);

static void on_add(const json_t *obj, void *arg)
{
  enqueue_for(arg, obj, NULL);
}

static void on_update(const json_t *o, const json_t *n, void *arg)
{
  enqueue_for(arg, n, o);
}

static void on_delete(const json_t *obj, bool unknown, void *arg)
{
  (void)unknown;
  enqueue_for(arg, obj, NULL);
}

static void on_synced(void *arg)
{
  struct ctrl_src *s = arg;

  schedule_kick(s->c);
}

static int add_src(struct ctrl *c, struct inf *i, struct ctrl_src *s)
{
  struct inf_handler h = { on_add, on_update, on_delete, on_synced, s };

  if (c->closing) {
    free(s);
    return OP_ESTATE;
  }
  s->c = c;
  s->inf = i;
  if (s->kind == SRC_GATE)
    h.on_add = NULL, h.on_update = NULL, h.on_delete = NULL;
  s->next = c->srcs;
  c->srcs = s;
  s->handler_id = inf_add_handler(i, &h);
  return 0;
}

static struct ctrl_src *src_new(enum src_kind kind)
{
  struct ctrl_src *s = util_xcalloc(1, sizeof(*s));

  s->kind = kind;
  return s;
}

int ctrl_watch(struct ctrl *c, struct inf *i)
{
  return add_src(c, i, src_new(SRC_FOR));
}

int ctrl_watch_owned(struct ctrl *c, struct inf *i,
                     const struct ctrl_owner *owner)
{
  struct ctrl_src *s;

  if (!owner || str_empty(owner->kind))
    return OP_EINVAL;
  s = src_new(SRC_OWNED);
  s->owner = *owner;
  s->owner.group = util_xstrdup(owner->group ? owner->group : "");
  s->owner.kind = util_xstrdup(owner->kind);
  return add_src(c, i, s);
}

int ctrl_watch_map(struct ctrl *c, struct inf *i, ctrl_map_fn fn, void *arg)
{
  struct ctrl_src *s;

  if (!fn)
    return OP_EINVAL;
  s = src_new(SRC_MAP);
  s->fn = fn;
  s->fn_arg = arg;
  return add_src(c, i, s);
}

int ctrl_wait_for(struct ctrl *c, struct inf *i)
{
  return add_src(c, i, src_new(SRC_GATE));
}

bool ctrl_synced(const struct ctrl *c)
{
  const struct ctrl_src *s;

  for (s = c->srcs; s; s = s->next) {
    if (!inf_has_synced(s->inf))
      return false;
  }
  return true;
}

static void srcs_free(struct ctrl *c, bool detach)
{
  struct ctrl_src *s;

  while ((s = c->srcs)) {
    c->srcs = s->next;
    if (detach && s->handler_id)
      inf_remove_handler(s->inf, s->handler_id);
    if (s->kind == SRC_OWNED) {
      free((char *)s->owner.group);
      free((char *)s->owner.kind);
    }
    free(s);
  }
}

/* ---- dispatch and completion ----------------------------------------- */

static void close_now(struct ctrl *c);

/* One debug line per reconcile, with controller-runtime's reconcileID. */
static void log_result(const struct ctrl *c, const char *key,
                       const struct ctrl_run *r, int which, uint64_t now,
                       int err)
{
  char id[24];

  if (!log_enabled(LOG_DEBUG, "ctrl"))
    return;
  str_fmt(id, sizeof(id), "%llu", (unsigned long long)r->id);
  log_emit(LOG_DEBUG, "ctrl",
           LOG_KV({ "controller", c->name }, { "key", key },
                  { "reconcileID", id }, { "result", results[which] },
                  { "error", err < 0 ? op_err_name(err) : "" }),
           "reconcile finished in %.3fs", (double)(now - r->start_ns) / 1e9);
}

static void finish(struct ctrl *c, const char *key, struct ctrl_run *r,
                   const struct ctrl_result *res)
{
  uint64_t now = c->clock(c->clock_arg);
  int which;

  if (c->m)
    met_observe(c->m->time, c->lv1, (double)(now - r->start_ns) / 1e9);
  if (res->err < 0) {
    which = 1;
    wq_add_rate_limited(c->q, key);
  } else if (res->requeue_after_ms) {
    which = 3;
    wq_forget(c->q, key);
    wq_add_after(c->q, key, res->requeue_after_ms);
  } else if (res->requeue) {
    which = 2;
    wq_add_rate_limited(c->q, key);
  } else {
    which = 0;
    wq_forget(c->q, key);
  }
  count_result(c, which);
  log_result(c, key, r, which, now, res->err);
  free(map_del(&c->runs, key));
  wq_done(c->q, key); /* key may die here: not used after */
  c->active--;
  set_active(c);
  if (c->closing && !c->active)
    close_now(c);
  else
    schedule_kick(c);
}

static void dispatch(struct ctrl *c, const char *key)
{
  struct ctrl_run *r = util_xcalloc(1, sizeof(*r));
  struct ctrl_result res = { 0 };
  int rc;

  r->id = ++c->next_id;
  r->start_ns = c->clock(c->clock_arg);
  r->in_call = true;
  map_put(&c->runs, key, r, NULL);
  c->active++;
  set_active(c);
  rc = c->reconcile(&c->ctx, key, &res);
  r->in_call = false;
  if (rc == CTRL_PENDING) {
    r->pending = true;
    if (r->early) /* completed before the reconcile returned */
      finish(c, key, r, &r->early_res);
    return;
  }
  if (rc < 0 && !res.err)
    res.err = rc;
  finish(c, key, r, &res);
}

static bool can_run(const struct ctrl *c)
{
  return c->started && !c->paused && !c->closing && ctrl_synced(c);
}

/* Reconciles started per pump pass. A reconcile that changes nothing
 * finishes synchronously, so without a bound one pass would drain the whole
 * queue (a resync of the fleet) in one loop iteration: every object it
 * decoded from a compact cache stays alive until the loop turns, and timers
 * and I/O wait behind it. */
#define CTRL_PUMP_BATCH 64

static void schedule_kick(struct ctrl *c);

/* Release what the reconcile that just returned decoded from the compact
 * caches of its sources. Freed one reconcile at a time, its objects are
 * still in the CPU caches and glibc's per-size caches take the chunks
 * back; freed a batch at a time (the prepare-phase trim) they were
 * thousands of chunks, and glibc malloc/free took ~40 % of a no-op
 * resync's CPU (perf, 5,000 of each). Only loop callbacks trim
 * (from_loop): there no borrowed reference is left. */
static void trim_sources(struct ctrl *c)
{
  struct ctrl_src *s;

  for (s = c->srcs; s; s = s->next)
    inf_trim(s->inf);
}

static void pump(struct ctrl *c, bool from_loop)
{
  const char *key;
  int n = 0;

  while (can_run(c) && c->active < c->max) {
    if (n++ == CTRL_PUMP_BATCH) {
      schedule_kick(c); /* the rest in the next loop iteration */
      break;
    }
    if (wq_get(c->q, &key))
      break;
    dispatch(c, key);
    if (from_loop)
      trim_sources(c);
  }
}

static void on_kick(uv_idle_t *h)
{
  uv_idle_stop(h);
  pump(h->data, true);
}

/* Pump from the loop, never from the caller's stack. */
static void schedule_kick(struct ctrl *c)
{
  if (!c->closing)
    uv_idle_start(&c->kick, on_kick);
}

static void on_queue_ready(struct wq *q, void *arg)
{
  (void)q;
  pump(arg, true); /* from the queue's idle handle */
}

int ctrl_complete(struct ctrl_ctx *ctx, const char *key,
                  const struct ctrl_result *res)
{
  static const struct ctrl_result ok = { 0 };
  struct ctrl *c = ctx->c;
  struct ctrl_run *r = map_get(&c->runs, key);

  if (!r || r->early || (!r->pending && !r->in_call))
    return OP_ENOTFOUND;
  if (r->in_call) {
    r->early = true;
    r->early_res = res ? *res : ok;
    return 0;
  }
  finish(c, key, r, res ? res : &ok);
  return 0;
}

/* ---- lifecycle ------------------------------------------------------- */

static void configure_queue(struct ctrl *c, const struct ctrl_opts *o)
{
  struct wq_opts q = { 0 };

  if (o->queue)
    q = *o->queue;
  q.name = c->name;
  q.metrics = o->wq_metrics;
  c->clock = q.clock ? q.clock : default_clock;
  c->clock_arg = q.clock_arg;
  c->q = wq_new(c->loop, &q);
  wq_set_ready_cb(c->q, on_queue_ready, c);
}

struct ctrl *ctrl_new(uv_loop_t *loop, const struct ctrl_opts *o)
{
  struct ctrl *c = util_xcalloc(1, sizeof(*c));
  size_t k;

  UTIL_ASSERT(o && o->reconcile);
  c->loop = loop;
  c->name = util_xstrdup(o->name ? o->name : "controller");
  c->lv1[0] = c->name;
  c->reconcile = o->reconcile;
  c->data = o->data;
  c->max = o->max_concurrent ? o->max_concurrent : 1;
  c->m = o->metrics;
  c->ctx.c = c;
  map_init(&c->runs);
  configure_queue(c, o);
  uv_idle_init(loop, &c->kick);
  c->kick.data = c;
  if (c->m) {
    met_set(c->m->max, c->lv1, c->max);
    set_active(c);
    for (k = 0; k < UTIL_ARRAY_SIZE(results); k++)
      met_add(c->m->total, MET_LV(c->name, results[k]), 0);
    met_add(c->m->errors, c->lv1, 0);
  }
  return c;
}

int ctrl_start(struct ctrl *c)
{
  if (c->closing)
    return OP_ESTATE;
  c->started = true;
  log_info("ctrl", "%s: starting (max %u concurrent reconciles)%s", c->name,
           c->max, ctrl_synced(c) ? "" : ", waiting for caches to sync");
  schedule_kick(c);
  return 0;
}

void ctrl_pause(struct ctrl *c)
{
  c->paused = true;
}

void ctrl_resume(struct ctrl *c)
{
  c->paused = false;
  schedule_kick(c);
}

bool ctrl_paused(const struct ctrl *c)
{
  return c->paused;
}

static void maybe_free(struct ctrl *c)
{
  ctrl_close_cb cb = c->close_cb;
  void *arg = c->close_arg;

  if (!c->queue_closed || !c->kick_closed)
    return;
  map_cleanup(&c->runs, NULL, NULL); /* empty: nothing is pending */
  free(c->name);
  free(c);
  if (cb)
    cb(arg);
}

static void on_queue_closed(void *arg)
{
  struct ctrl *c = arg;

  c->queue_closed = true;
  maybe_free(c);
}

static void on_kick_closed(uv_handle_t *h)
{
  struct ctrl *c = h->data;

  c->kick_closed = true;
  maybe_free(c);
}

static void close_now(struct ctrl *c)
{
  wq_close(c->q, on_queue_closed, c);
  uv_close((uv_handle_t *)&c->kick, on_kick_closed);
}

void ctrl_close(struct ctrl *c, ctrl_close_cb cb, void *arg)
{
  if (c->closing)
    return;
  c->closing = true;
  c->close_cb = cb;
  c->close_arg = arg;
  srcs_free(c, true);
  uv_idle_stop(&c->kick);
  wq_shutdown(c->q);
  if (c->active)
    log_info("ctrl", "%s: waiting for %u pending reconciles", c->name,
             c->active);
  else
    close_now(c);
}

/* ---- small accessors ------------------------------------------------- */

int ctrl_enqueue(struct ctrl *c, const char *key)
{
  return wq_add(c->q, key);
}

struct ctrl *ctrl_ctx_ctrl(struct ctrl_ctx *ctx)
{
  return ctx->c;
}

void *ctrl_ctx_data(const struct ctrl_ctx *ctx)
{
  return ctx->c->data;
}

const char *ctrl_ctx_name(const struct ctrl_ctx *ctx)
{
  return ctx->c->name;
}

uint64_t ctrl_ctx_reconcile_id(const struct ctrl_ctx *ctx, const char *key)
{
  const struct ctrl_run *r = map_get(&ctx->c->runs, key);

  return r ? r->id : 0;
}

struct wq *ctrl_queue(struct ctrl *c)
{
  return c->q;
}

const char *ctrl_name(const struct ctrl *c)
{
  return c->name;
}

void ctrl_set_max_concurrent(struct ctrl *c, unsigned n)
{
  n = n ? n : 1;
  if (n == c->max)
    return;
  log_info("controller", "%s: max concurrent reconciles %u -> %u", c->name,
           c->max, n);
  c->max = n;
  if (c->m)
    met_set(c->m->max, c->lv1, c->max);
  pump(c, false); /* from a ConfigMap handler: objects may be borrowed */
}

unsigned ctrl_active(const struct ctrl *c)
{
  return c->active;
}

bool ctrl_is_pending(const struct ctrl *c, const char *key)
{
  const struct ctrl_run *r = map_get(&c->runs, key);

  return r && r->pending;
}
