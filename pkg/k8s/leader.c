/* Lease-based leader election; see leader.h. One attempt is in flight at a
 * time; a 409 on create/update re-GETs at once (bounded to one extra round
 * per attempt) and compares again. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s/leader.h"
#include "log/log.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

static const struct k8s_gvr lease_gvr = { "coordination.k8s.io", "v1", "leases",
                                          true };

/* Owns: ns, name, id, obs_key, lease (json ref). Freed in the last timer
 * close callback. */
struct k8s_leader {
  uv_loop_t *loop;
  struct k8s_client *c;
  struct k8s_leader_opts o;
  struct k8s_lease_ops ops;
  void *ops_arg;
  char *ns, *name, *id;
  uv_timer_t tick, deadline;
  json_t *lease;   /* last lease we read or wrote */
  char *obs_key;   /* holder|renewTime|rv of the last observed record */
  uint64_t obs_ms; /* loop time when obs_key last changed */
  char *last_holder;
  bool leading, busy, closing, released;
  int conflict_rounds, open_handles;
  void (*close_cb)(void *arg);
  void *close_arg;
};

static void attempt(struct k8s_leader *le);
static void finish_close(struct k8s_leader *le);

void k8s_microtime(int64_t wall_ms, char out[32])
{
  char s[TIME_RFC3339_LEN];

  time_rfc3339((time_t)(wall_ms / 1000), s);
  s[19] = '\0'; /* drop the Z */
  str_fmt(out, 32, "%s.%06dZ", s, (int)(wall_ms % 1000) * 1000);
}

/* ---- default ops over the client --------------------------------------- */

static int c_get(void *a, const char *ns, const char *name, k8s_obj_cb cb,
                 void *arg)
{
  return k8s_get(a, &lease_gvr, ns, name, cb, arg);
}

static int c_create(void *a, const char *ns, json_t *l, k8s_obj_cb cb,
                    void *arg)
{
  return k8s_create(a, &lease_gvr, ns, l, cb, arg);
}

static int c_update(void *a, json_t *l, k8s_obj_cb cb, void *arg)
{
  return k8s_update(a, &lease_gvr, l, cb, arg);
}

static const struct k8s_lease_ops client_ops = { c_get, c_create, c_update };

/* ---- state changes ------------------------------------------------------ */

static void lose(struct k8s_leader *le, const char *why)
{
  if (!le->leading)
    return;
  le->leading = false;
  uv_timer_stop(&le->deadline);
  log_warn("k8s", "leader election: stopped leading %s/%s: %s", le->ns,
           le->name, why);
  if (le->o.on_stopped_leading)
    le->o.on_stopped_leading(le->o.arg);
}

static void on_deadline(uv_timer_t *t)
{
  lose(t->data, "no successful renewal within the renew deadline");
}

static void note_holder(struct k8s_leader *le, const char *holder)
{
  if (str_empty(holder) || str_eq(holder, le->last_holder))
    return;
  free(le->last_holder);
  le->last_holder = util_xstrdup(holder);
  if (le->o.on_new_leader)
    le->o.on_new_leader(holder, le->o.arg);
}

static void renewed(struct k8s_leader *le, json_t *lease)
{
  json_decref(le->lease);
  le->lease = json_incref(lease);
  uv_timer_start(&le->deadline, on_deadline, le->o.renew_deadline_ms, 0);
  note_holder(le, le->id);
  if (le->leading)
    return;
  le->leading = true;
  log_info("k8s", "leader election: %s now leads %s/%s", le->id, le->ns,
           le->name);
  if (le->o.on_started_leading)
    le->o.on_started_leading(le->o.arg);
}

static void attempt_done(struct k8s_leader *le)
{
  le->busy = false;
  if (le->closing)
    finish_close(le);
}

/* ---- the attempt: get, then create or update ----------------------------- */

static json_t *spec_for(struct k8s_leader *le, json_t *old)
{
  char now[32];
  json_t *spec = json_object_get(old, "spec");
  const char *holder =
      json_string_value(json_object_get(spec, "holderIdentity"));
  json_int_t trans =
      json_integer_value(json_object_get(spec, "leaseTransitions"));
  const char *acq = json_string_value(json_object_get(spec, "acquireTime"));
  json_t *s;

  k8s_microtime(time_wall_ms(), now);
  s = json_pack(
      "{s:s, s:I, s:s}", "holderIdentity", le->id, "leaseDurationSeconds",
      (json_int_t)((le->o.lease_duration_ms + 999) / 1000), "renewTime", now);
  if (str_eq(holder, le->id) && acq) {
    json_object_set_new(s, "acquireTime", json_string(acq));
  } else {
    json_object_set_new(s, "acquireTime", json_string(now));
    if (!str_empty(holder) || old)
      trans += old ? 1 : 0;
  }
  json_object_set_new(s, "leaseTransitions", json_integer(trans));
  return s;
}

static void on_written(int err, json_t *obj, const struct op_error *d,
                       void *arg);

static void write_lease(struct k8s_leader *le, json_t *old)
{
  json_t *l;
  int rc;

  if (old) {
    l = json_deep_copy(old);
    json_object_set_new(l, "spec", spec_for(le, old));
    rc = le->ops.update(le->ops_arg, l, on_written, le);
  } else {
    l = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion",
                  "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name",
                  le->name, "namespace", le->ns);
    json_object_set_new(l, "spec", spec_for(le, NULL));
    rc = le->ops.create(le->ops_arg, le->ns, l, on_written, le);
  }
  json_decref(l);
  if (rc) {
    log_warn("k8s", "leader election: cannot send lease: %s", op_strerror(rc));
    attempt_done(le);
  }
}

/* True when another holder's lease is still valid by our observation. */
static bool held_by_other(struct k8s_leader *le, json_t *lease)
{
  json_t *spec = json_object_get(lease, "spec");
  const char *holder =
      json_string_value(json_object_get(spec, "holderIdentity"));
  const char *renew = json_string_value(json_object_get(spec, "renewTime"));
  json_int_t dur =
      json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
  char *key =
      str_printf_new("%s|%s|%s", holder ? holder : "", renew ? renew : "",
                     k8s_obj_rv(lease) ? k8s_obj_rv(lease) : "");
  uint64_t now = uv_now(le->loop);
  uint64_t dur_ms = dur > 0 ? (uint64_t)dur * 1000 : le->o.lease_duration_ms;

  if (!str_eq(key, le->obs_key)) {
    free(le->obs_key);
    le->obs_key = key;
    le->obs_ms = now;
  } else {
    free(key);
  }
  note_holder(le, holder);
  return !str_empty(holder) && !str_eq(holder, le->id) &&
         le->obs_ms + dur_ms > now;
}

static void on_got(int err, json_t *obj, const struct op_error *d, void *arg)
{
  struct k8s_leader *le = arg;

  if (le->closing) {
    attempt_done(le);
    return;
  }
  if (err == OP_ENOTFOUND) {
    write_lease(le, NULL);
    return;
  }
  if (err) {
    log_warn("k8s", "leader election: get lease: %s", d ? d->msg : "");
    attempt_done(le);
    return;
  }
  if (held_by_other(le, obj)) {
    lose(le, "the lease is held by another replica");
    attempt_done(le);
    return;
  }
  write_lease(le, obj);
}

static void on_written(int err, json_t *obj, const struct op_error *d,
                       void *arg)
{
  struct k8s_leader *le = arg;

  if (!err && !le->closing) {
    renewed(le, obj);
  } else if ((err == OP_ECONFLICT || err == OP_EEXIST) && !le->closing &&
             le->conflict_rounds++ < 1) {
    /* someone else wrote it meanwhile: read it again and compare */
    if (le->ops.get(le->ops_arg, le->ns, le->name, on_got, le) == 0)
      return;
  } else if (err) {
    log_warn("k8s", "leader election: write lease: %s", d ? d->msg : "");
  }
  attempt_done(le);
}

static void attempt(struct k8s_leader *le)
{
  if (le->busy || le->closing)
    return;
  le->busy = true;
  le->conflict_rounds = 0;
  if (le->ops.get(le->ops_arg, le->ns, le->name, on_got, le))
    le->busy = false;
}

static void on_tick(uv_timer_t *t)
{
  attempt(t->data);
}

/* ---- lifecycle ----------------------------------------------------------- */

static char *default_identity(void)
{
  const char *pod = getenv("POD_NAME");
  char host[256];

  if (!str_empty(pod))
    return util_xstrdup(pod);
  if (gethostname(host, sizeof(host)) != 0)
    str_copy(host, "unknown", sizeof(host));
  host[sizeof(host) - 1] = '\0';
  return str_printf_new("%s_%ld", host, (long)getpid());
}

int k8s_leader_new(uv_loop_t *loop, struct k8s_client *c,
                   const struct k8s_leader_opts *opts, struct k8s_leader **out)
{
  struct k8s_leader *le;

  *out = NULL;
  if (!loop || !opts || str_empty(opts->namespace) || (!c && !opts->ops))
    return OP_EINVAL;
  le = util_xcalloc(1, sizeof(*le));
  le->loop = loop;
  le->c = c;
  le->o = *opts;
  le->ops = opts->ops ? *opts->ops : client_ops;
  le->ops_arg = opts->ops ? opts->ops_arg : c;
  le->ns = util_xstrdup(opts->namespace);
  le->name =
      util_xstrdup(opts->name ? opts->name : "aws-account-operator-lock");
  le->id = opts->identity ? util_xstrdup(opts->identity) : default_identity();
  le->o.lease_duration_ms =
      opts->lease_duration_ms ? opts->lease_duration_ms : 15000;
  le->o.renew_deadline_ms =
      opts->renew_deadline_ms ? opts->renew_deadline_ms : 10000;
  le->o.retry_period_ms = opts->retry_period_ms ? opts->retry_period_ms : 2000;
  uv_timer_init(loop, &le->tick);
  uv_timer_init(loop, &le->deadline);
  le->tick.data = le->deadline.data = le;
  le->open_handles = 2;
  *out = le;
  return 0;
}

int k8s_leader_start(struct k8s_leader *le)
{
  if (le->closing)
    return OP_ESHUTDOWN;
  uv_timer_start(&le->tick, on_tick, 0, le->o.retry_period_ms);
  return 0;
}

bool k8s_leader_is_leader(const struct k8s_leader *le)
{
  return le->leading;
}

const char *k8s_leader_identity(const struct k8s_leader *le)
{
  return le->id;
}

static void on_closed(uv_handle_t *h)
{
  struct k8s_leader *le = h->data;
  void (*cb)(void *) = le->close_cb;
  void *arg = le->close_arg;

  if (--le->open_handles)
    return;
  json_decref(le->lease);
  free(le->ns);
  free(le->name);
  free(le->id);
  free(le->obs_key);
  free(le->last_holder);
  free(le);
  if (cb)
    cb(arg);
}

static void on_released(int err, json_t *obj, const struct op_error *d,
                        void *arg)
{
  struct k8s_leader *le = arg;

  (void)obj;
  if (err)
    log_warn("k8s", "leader election: release failed: %s", d ? d->msg : "");
  else
    log_info("k8s", "leader election: released %s/%s", le->ns, le->name);
  uv_close((uv_handle_t *)&le->tick, on_closed);
  uv_close((uv_handle_t *)&le->deadline, on_closed);
}

/* Once nothing is in flight: release if we held the lease, then close. */
static void finish_close(struct k8s_leader *le)
{
  json_t *l, *spec;
  char now[32];

  if (le->released)
    return;
  le->released = true;
  if (le->lease && le->ops.update) {
    l = json_deep_copy(le->lease);
    spec = json_object_get(l, "spec");
    k8s_microtime(time_wall_ms(), now);
    json_object_set_new(spec, "holderIdentity", json_string(""));
    json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
    json_object_set_new(spec, "renewTime", json_string(now));
    json_object_set_new(spec, "acquireTime", json_string(now));
    if (le->ops.update(le->ops_arg, l, on_released, le) == 0) {
      json_decref(l);
      return;
    }
    json_decref(l);
  }
  on_released(0, NULL, NULL, le);
}

void k8s_leader_close(struct k8s_leader *le, void (*cb)(void *arg), void *arg)
{
  bool was = le->leading;

  if (le->closing)
    return;
  le->closing = true;
  le->close_cb = cb;
  le->close_arg = arg;
  uv_timer_stop(&le->tick);
  lose(le, "shutting down");
  if (!was) {
    json_decref(le->lease);
    le->lease = NULL; /* not ours: never release someone else's lease */
  }
  if (!le->busy)
    finish_close(le);
}
