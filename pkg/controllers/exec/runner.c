/* The one step runner (runner.h). */
#include <stdlib.h>
#include <string.h>

#include "cache/informer.h"
#include "cache/store.h"
#include "controllers/common/obj.h"
#include "controllers/exec/metrics.h"
#include "controllers/exec/runner.h"
#include "controllers/exec/written.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"

struct exec_runner {
  const struct exec_desc *d;
  void *ctl;
  struct exec_runner_deps rd;
  struct exec_obs *obs; /* NULL when d->obs_size is 0 */
  struct ctrl *ctrl;    /* set by exec_runner_register */
  unsigned jobs;
  /* A finished job kept for the next one: jobs are KiBs (plan steps,
   * buffers), and a calloc and free of that size per reconcile made glibc
   * consolidate its fast bins every time. */
  struct exec_job *spare;
  bool closing;
  void (*close_cb)(void *arg);
  void *close_arg;
  struct exec_written *written; /* NULL unless d->own_gvr */
  struct wq_gate *gate;         /* held by reconciles (d->urgent) */
  /* rd.chain: the Events of chained passes, sent when a chain ends (after
   * the writes the user waits for, which they would slow down) */
  struct held_event {
    json_t *obj;
    struct plan_event ev;
  } held[2 * EXEC_CHAIN_MAX];
  size_t nheld;
};

struct exec_runner *exec_runner_new(const struct exec_desc *d, void *ctl,
                                    const struct exec_runner_deps *rd)
{
  struct exec_runner *r = calloc(1, sizeof(*r));

  if (!r)
    return NULL;
  r->d = d;
  r->ctl = ctl;
  r->rd = *rd;
  if (d->obs_size) {
    r->obs = exec_obs_new(d->obs_size);
    if (!r->obs) {
      free(r);
      return NULL;
    }
  }
  if (d->own_gvr && !(r->written = exec_written_new(EXEC_WRITTEN_TTL_S))) {
    exec_runner_free(r);
    return NULL;
  }
  return r;
}

void exec_runner_free(struct exec_runner *r)
{
  if (!r)
    return;
  while (r->nheld)
    json_decref(r->held[--r->nheld].obj);
  exec_obs_free(r->obs);
  exec_written_free(r->written);
  free(r->spare);
  free(r);
}

static void maybe_closed(struct exec_runner *r)
{
  void (*cb)(void *) = r->close_cb;

  if (!r->closing || r->jobs || !cb)
    return;
  r->close_cb = NULL;
  cb(r->close_arg);
}

void exec_runner_close(struct exec_runner *r, void (*cb)(void *arg), void *arg)
{
  r->closing = true;
  r->close_cb = cb;
  r->close_arg = arg;
  maybe_closed(r);
}

bool exec_runner_hold(struct exec_runner *r)
{
  if (r->closing)
    return false;
  r->jobs++;
  return true;
}

void exec_runner_release(struct exec_runner *r)
{
  r->jobs--;
  maybe_closed(r);
}

const void *exec_runner_obs(const struct exec_runner *r, const char *key)
{
  return r->obs ? exec_obs_get(r->obs, key) : NULL;
}

const json_t *exec_runner_obs_aux(const struct exec_runner *r, const char *key)
{
  return r->obs ? exec_obs_aux(r->obs, key) : NULL;
}

struct ctrl *exec_runner_ctrl(const struct exec_runner *r)
{
  return r->ctrl;
}

const struct exec_desc *exec_runner_desc(const struct exec_runner *r)
{
  return r->d;
}

struct exec_written *exec_runner_written(const struct exec_runner *r)
{
  return r->written;
}

/* ---- jobs --------------------------------------------------------------- */

/* The job's object: the cached one itself (a reference: jobs only read
 * it, and a copy per reconcile was most of a no-op resync's cost), or a
 * copy when apiVersion or kind must be added (Events need them). */
static json_t *job_obj(const struct exec_desc *d, const json_t *obj)
{
  json_t *o;

  if ((!d->api_version || obj_str(obj, "apiVersion")) &&
      (!d->kind_name || obj_str(obj, "kind")))
    return json_incref((json_t *)obj);
  o = obj_copy_new(obj);
  if (d->api_version && !obj_str(o, "apiVersion"))
    obj_set_str(o, "apiVersion", d->api_version);
  if (d->kind_name && !obj_str(o, "kind"))
    obj_set_str(o, "kind", d->kind_name);
  return o;
}

static struct exec_job *job_new(struct exec_runner *r, const char *key,
                                const json_t *obj, exec_done_fn done, void *arg)
{
  struct exec_job *j = r->spare;

  if (j) {
    r->spare = NULL;
    memset(j, 0, r->d->job_size);
  } else if (!(j = calloc(1, r->d->job_size))) {
    return NULL;
  }
  r->jobs++;
  j->r = r;
  j->ctl = r->ctl;
  j->obj = job_obj(r->d, obj);
  str_copy(j->key, key, sizeof(j->key));
  j->done = done;
  j->arg = arg;
  j->t0 = time_mono_s();
  return j;
}

static void job_free(struct exec_job *j)
{
  struct exec_runner *r = j->r;

  if (r->d->job_cleanup)
    r->d->job_cleanup(j);
  json_decref(j->obj);
  if (r->spare)
    free(j);
  else
    r->spare = j;
  r->jobs--;
  maybe_closed(r);
}

static void job_metrics(const struct exec_job *j, const struct ctrl_result *res)
{
  const struct exec_runner *r = j->r;
  const char *code = j->result < 0 && j->aws_code[0] ? j->aws_code : NULL;

  exec_metrics_reconcile(r->rd.metrics, r->d->name, time_mono_s() - j->t0,
                         res->err, code);
}

static void send_event(struct exec_runner *r, json_t *obj,
                       const struct plan_event *ev)
{
  const struct exec_kio *k = &r->rd.kio;

  k->event(k->arg, obj, ev->type[0] ? ev->type : "Normal", ev->reason,
           ev->message);
}

static void send_held(struct exec_runner *r)
{
  size_t i, n = r->nheld;

  r->nheld = 0;
  for (i = 0; i < n; i++) {
    send_event(r, r->held[i].obj, &r->held[i].ev);
    json_decref(r->held[i].obj);
  }
}

void exec_job_finish(struct exec_job *j, const struct ctrl_result *res)
{
  job_metrics(j, res);
  send_held(j->r); /* a chain ends here */
  j->done(j->arg, j->key, res);
  job_free(j);
}

static int runner_pass(struct exec_runner *r, const char *key,
                       struct ctrl_result *out, exec_done_fn done, void *arg,
                       unsigned chained);

/* rd.chain: end this pass and run the key's next one now, from the
 * step's callback; the worker stays taken and done() runs once, for the
 * last pass. false = not chained (the caller requeues as before). */
static bool chain_pass(struct exec_job *j, const struct ctrl_result *res)
{
  struct exec_runner *r = j->r;
  exec_done_fn done = j->done;
  void *arg = j->arg;
  unsigned n = j->chained + 1;
  struct ctrl_result out;
  char key[sizeof(j->key)];
  int rc;

  if (!r->rd.chain || r->closing || n >= EXEC_CHAIN_MAX || res->err)
    return false;
  str_copy(key, j->key, sizeof(key));
  job_metrics(j, res);
  job_free(j);
  rc = runner_pass(r, key, &out, done, arg, n);
  if (rc == CTRL_PENDING)
    return true;
  if (rc < 0 && !out.err)
    out.err = rc;
  done(arg, key, &out);
  return true;
}

static void record_event(struct exec_job *j)
{
  struct exec_runner *r = j->r;
  const struct plan_event *ev = j->step.event;

  if (!ev || !ev->reason[0] || !r->rd.kio.event)
    return;
  if (!r->rd.chain || r->nheld == sizeof(r->held) / sizeof(r->held[0])) {
    send_event(r, j->obj, ev);
    return;
  }
  r->held[r->nheld].obj = json_incref(j->obj);
  r->held[r->nheld++].ev = *ev;
}

void exec_job_observed(struct exec_job *j, int err, const char *aws_code,
                       const void *obs, json_t *aux_new)
{
  struct exec_runner *r = j->r;
  struct ctrl_result res = { .requeue_after_ms = 1 };

  j->result = err;
  str_copy(j->aws_code, err && aws_code ? aws_code : "", sizeof(j->aws_code));
  if (r->obs && obs && exec_obs_put(r->obs, j->key, obs, aux_new))
    res.err = OP_ENOMEM;
  else if (!r->obs || !obs)
    json_decref(aux_new);
  if (err)
    log_info(r->d->name, "%s: %s failed: %s%s%s", j->key, j->step.name,
             op_strerror(err), j->aws_code[0] ? " " : "", j->aws_code);
  else
    record_event(j);
  if (r->d->observed)
    r->d->observed(j);
  if (!chain_pass(j, &res))
    exec_job_finish(j, &res);
}

int exec_job_remember(struct exec_job *j, const void *obs)
{
  struct exec_runner *r = j->r;

  return r->obs && obs ? exec_obs_put(r->obs, j->key, obs, NULL) : 0;
}

/* ---- writes ------------------------------------------------------------- */

/* Read-your-writes: keep an update's answer; true = plan again at once. */
static bool own_write_done(struct exec_job *j, const json_t *obj,
                           const struct ctrl_result *res)
{
  struct exec_runner *r = j->r;
  const struct exec_action *a = &r->d->actions[j->step.action];

  if (!r->written || !obj ||
      (a->kind != EXEC_UPDATE && a->kind != EXEC_UPDATE_STATUS) ||
      exec_written_put(r->written, a->gvr->resource, obj, time_mono_s()))
    return false;
  return !res->requeue_after_ms;
}

/* The next pass at once: chained, or queued again while the key is being
 * processed (it runs right after this job, without the delay timer's loop
 * turn). */
static void again_now(struct exec_job *j, struct ctrl_result *res)
{
  struct exec_runner *r = j->r;

  if (chain_pass(j, res))
    return;
  if (!r->ctrl || ctrl_enqueue(r->ctrl, j->key))
    res->requeue_after_ms = 1;
  exec_job_finish(j, res);
}

/* A conflict: the kept answer is no newer than the server's object. */
static void own_write_failed(struct exec_job *j, int err)
{
  struct exec_runner *r = j->r;
  const struct exec_action *a = &r->d->actions[j->step.action];
  const json_t *o = j->step.object_new;

  if (r->written && err == OP_ECONFLICT && a->gvr && o)
    exec_written_drop(r->written, a->gvr->resource, obj_namespace(o),
                      obj_name(o));
}

static void write_done(int err, json_t *obj, const struct op_error *det,
                       void *arg)
{
  struct exec_job *j = arg;
  const struct exec_desc *d = j->r->d;
  struct ctrl_result res;
  bool now = false;

  if (err == OP_ENOTFOUND && d->actions[j->step.action].gone_ok)
    err = 0;
  exec_write_result(err, j->step.requeue_ms, &res);
  if (err) {
    log_info(d->name, "%s: %s failed: %s", j->key, j->step.name,
             det && det->msg[0] ? det->msg : op_strerror(err));
    own_write_failed(j, err);
  } else {
    now = own_write_done(j, obj, &res);
    record_event(j);
    if (d->written)
      d->written(j);
  }
  if (now)
    again_now(j, &res);
  else
    exec_job_finish(j, &res);
}

static void delete_after_update(int err, json_t *obj,
                                const struct op_error *det, void *arg)
{
  struct exec_job *j = arg;
  const struct exec_kio *k = &j->r->rd.kio;
  const struct exec_action *a = &j->r->d->actions[j->step.action];
  int rc;

  if (err)
    return write_done(err, obj, det, arg);
  rc = k->del(k->arg, a->gvr, obj_namespace(j->step.object_new),
              obj_name(j->step.object_new), write_done, j);
  if (rc)
    write_done(rc, NULL, NULL, j);
}

static int start_action(struct exec_job *j, const struct exec_action *a)
{
  const struct exec_kio *k = &j->r->rd.kio;
  json_t *o = j->step.object_new;

  switch (a->kind) {
  case EXEC_UPDATE:
    return k->update(k->arg, a->gvr, o, write_done, j);
  case EXEC_UPDATE_STATUS:
    return k->update_status(k->arg, a->gvr, o, write_done, j);
  case EXEC_CREATE:
    return k->create(k->arg, a->gvr, j->step.target_ns, o, write_done, j);
  case EXEC_DELETE:
    return k->del(k->arg, a->gvr, j->step.target_ns, j->step.target_name,
                  write_done, j);
  case EXEC_UPDATE_DELETE:
    return k->update(k->arg, a->gvr, o, delete_after_update, j);
  case EXEC_CALL:
    return a->start ? a->start(j) : OP_EINVAL;
  default:
    return OP_EINVAL;
  }
}

/* ---- one pass ----------------------------------------------------------- */

/* An update whose object equals the cached one would change nothing on
 * the server (nor send a watch event): not sent, no Event. */
static bool write_changes_nothing(const struct exec_job *j,
                                  const struct exec_action *a)
{
  return (a->kind == EXEC_UPDATE || a->kind == EXEC_UPDATE_STATUS) &&
         j->step.object_new && json_equal(j->step.object_new, j->obj);
}

/* The step with its hooks: CTRL_PENDING or a negative op_err. */
static int start_step(struct exec_job *j, const struct exec_action *a)
{
  const struct exec_desc *d = j->r->d;
  void *ctl = j->ctl;
  char key[sizeof(j->key)];
  int rc;

  if (d->starting)
    d->starting(j);
  str_copy(key, j->key, sizeof(key)); /* j may end inside start_action */
  rc = start_action(j, a);
  if (rc < 0)
    return rc;
  if (d->started)
    d->started(ctl, key);
  return CTRL_PENDING;
}

/* Plan and start the step; 0 = finished synchronously into *out. */
static int plan_run(struct exec_job *j, struct ctrl_result *out)
{
  const struct exec_desc *d = j->r->d;
  int rc = d->plan(j, &j->step);

  if (d->planned)
    d->planned(j, rc);
  if (rc < 0)
    return rc;
  log_debug(d->name, "%s: %s (%s)", j->key, j->step.name ? j->step.name : "",
            j->step.why ? j->step.why : "");
  if (j->step.done) {
    /* a plan that refuses input says why where a user looks */
    if (j->step.event && j->step.event->reason[0]) {
      log_info(d->name, "%s: %s: %s", j->key, j->step.event->reason,
               j->step.event->message);
      record_event(j);
    }
    *out = (struct ctrl_result){ .requeue_after_ms = j->step.requeue_ms };
    return 0;
  }
  if (j->step.action < 0 || (size_t)j->step.action >= d->nactions)
    return OP_EINVAL;
  if (write_changes_nothing(j, &d->actions[j->step.action])) {
    log_debug(d->name, "%s: %s changes nothing: not sent", j->key,
              j->step.name ? j->step.name : "");
    *out = (struct ctrl_result){ .requeue_after_ms = j->step.requeue_ms };
    return 0;
  }
  return start_step(j, &d->actions[j->step.action]);
}

/* Run the plan after the prepare step (or without one); the job ends here
 * unless a step is pending. */
static void plan_and_finish(struct exec_job *j)
{
  struct ctrl_result res = { 0 };
  int rc = plan_run(j, &res);

  if (rc == CTRL_PENDING)
    return;
  if (rc < 0)
    res.err = rc;
  exec_job_finish(j, &res);
}

static void exists_checked(int err, json_t *obj, const struct op_error *det,
                           void *arg)
{
  struct exec_job *j = arg;

  (void)obj;
  (void)det;
  j->exists = err == 0;
  exec_job_prepared(j, err && err != OP_ENOTFOUND ? err : 0);
}

int exec_job_check_exists(struct exec_job *j, const struct k8s_gvr *g,
                          const char *ns, const char *name)
{
  const struct exec_kio *k = &j->r->rd.kio;

  return k->get(k->arg, g, ns, name, exists_checked, j);
}

void exec_job_prepared(struct exec_job *j, int err)
{
  struct ctrl_result res = { .err = err };

  if (err < 0)
    exec_job_finish(j, &res);
  else
    plan_and_finish(j);
}

/* A reconcile that ends before returning must not call done(): the
 * caller gets the result from *out instead. */
static void sync_done(void *arg, const char *key, const struct ctrl_result *r)
{
  (void)key;
  *(struct ctrl_result *)arg = *r;
}

/* The object to plan from: the informer's, or the runner's own newer
 * write of it (written.h). */
static const json_t *own_view(struct exec_runner *r, const char *key,
                              const json_t *cached)
{
  char ns[256];
  const char *slash = strchr(key, '/');

  if (!r->written)
    return cached;
  exec_written_prune(r->written, time_mono_s());
  if (!slash || (size_t)(slash - key) >= sizeof(ns))
    return cached;
  memcpy(ns, key, (size_t)(slash - key));
  ns[slash - key] = '\0';
  return exec_written_view(r->written, r->d->own_gvr->resource, ns, slash + 1,
                           cached);
}

static int runner_pass(struct exec_runner *r, const char *key,
                       struct ctrl_result *out, exec_done_fn done, void *arg,
                       unsigned chained)
{
  const json_t *obj = own_view(r, key, store_get(r->rd.objs, key));
  struct exec_job *j;
  int rc;

  *out = (struct ctrl_result){ 0 };
  if (!obj) {
    if (r->obs)
      exec_obs_drop(r->obs, key);
    if (r->d->gone)
      r->d->gone(r->ctl, key);
    return 0;
  }
  j = job_new(r, key, obj, done, arg);
  if (!j)
    return OP_ENOMEM;
  j->chained = chained;
  rc = r->d->prepare ? r->d->prepare(j) : 1;
  if (rc == 0)
    return CTRL_PENDING;
  if (rc < 0) {
    job_free(j);
    return rc;
  }
  rc = plan_run(j, out);
  if (rc == CTRL_PENDING)
    return rc;
  j->done = sync_done;
  j->arg = out;
  if (rc < 0)
    out->err = rc;
  exec_job_finish(j, out);
  return out->err < 0 ? out->err : 0;
}

/* An urgent runner's reconcile in flight: the caller's done, after the
 * gate's release (the other controllers' queues may pull again). */
struct gated {
  struct exec_runner *r;
  exec_done_fn done;
  void *arg;
};

static void gated_done(void *p, const char *key, const struct ctrl_result *res)
{
  struct gated g = *(struct gated *)p;

  free(p);
  wq_gate_release(g.r->gate);
  g.done(g.arg, key, res);
}

int exec_runner_reconcile(struct exec_runner *r, const char *key,
                          struct ctrl_result *out, exec_done_fn done, void *arg)
{
  struct gated *g;
  int rc;

  if (!r->gate)
    return runner_pass(r, key, out, done, arg, 0);
  if (!(g = malloc(sizeof(*g))))
    return OP_ENOMEM;
  *g = (struct gated){ r, done, arg };
  wq_gate_hold(r->gate);
  rc = runner_pass(r, key, out, gated_done, g, 0);
  if (rc != CTRL_PENDING) { /* only a pending pass calls gated_done */
    wq_gate_release(r->gate);
    free(g);
  }
  return rc;
}

/* ---- the controller ------------------------------------------------------ */

static void ctrl_done(void *arg, const char *key, const struct ctrl_result *r)
{
  ctrl_complete(arg, key, r);
}

static int runner_reconcile(struct ctrl_ctx *ctx, const char *key,
                            struct ctrl_result *out)
{
  return exec_runner_reconcile(ctrl_ctx_data(ctx), key, out, ctrl_done, ctx);
}

int exec_runner_set_gate(struct exec_runner *r, struct wq_gate *g)
{
  if (r->d->urgent) {
    r->gate = g;
    return 0;
  }
  return r->ctrl ? wq_set_gate(ctrl_queue(r->ctrl), g) : OP_ESTATE;
}

static int add_sources(struct exec_runner *r, struct ctrl *c, struct mgr *m)
{
  const struct exec_desc *d = r->d;
  int rc = ctrl_watch(c, mgr_informer(m, d->kind));
  size_t i;

  for (i = 0; !rc && i < EXEC_MAX_WATCHES; i++) {
    const struct exec_watch *w = &d->watches[i];

    if (w->map)
      rc = ctrl_watch_map(c, mgr_informer(m, w->kind), w->map, r->ctl);
    else if (w->owner)
      rc = ctrl_watch_owned(c, mgr_informer(m, w->kind), w->owner);
  }
  for (i = 0; !rc && i < EXEC_MAX_WATCHES && d->wait_for[i] != MGR_NKINDS; i++)
    rc = ctrl_wait_for(c, mgr_informer(m, d->wait_for[i]));
  return rc;
}

int exec_runner_register(struct exec_runner *r, struct mgr *m, uv_loop_t *loop,
                         unsigned max_concurrent, struct ctrl_metrics *cm,
                         struct wq_metrics *wm)
{
  struct ctrl_opts o = { .name = r->d->name,
                         .reconcile = runner_reconcile,
                         .data = r,
                         .max_concurrent = max_concurrent,
                         .metrics = cm,
                         .wq_metrics = wm };
  struct ctrl *c = ctrl_new(loop, &o);
  int rc;

  if (!c)
    return OP_ENOMEM;
  rc = add_sources(r, c, m);
  if (!rc)
    rc = mgr_add_controller(m, c);
  if (!rc)
    r->ctrl = c;
  return rc;
}

void exec_runner_use_ctrl(struct exec_runner *r, struct ctrl *c)
{
  r->ctrl = c;
}

void exec_runner_kick_all(void *arg)
{
  struct exec_runner *r = arg;
  size_t it = 0;
  const char *key;

  if (!r || !r->ctrl || r->closing)
    return;
  /* keys only: a compact store would decode every object */
  while (r->rd.objs && store_next(r->rd.objs, &it, &key, NULL))
    ctrl_enqueue(r->ctrl, key);
}
