/* Account controller: its descriptor for the step runner, the snapshot
 * and plan, and the bookkeeping of its AWS actions (exec.h). The AWS
 * actions live in exec_aws.c, exec_iam.c, exec_keysecret.c, exec_ec2.c,
 * exec_quota.c and exec_cleanup.c. */
#include <stdlib.h>
#include <string.h>

#include "aws/core/creds.h"
#include "cache/store.h"
#include "controllers/account/exec_int.h"
#include "controllers/common/cond.h"
#include "controllers/common/obj.h"
#include "controllers/exec/metrics.h"
#include "controllers/runtime/manager.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define MOD "account"

time_t acct__now(const struct acct_exec *e)
{
  return e->d.now ? e->d.now(e->d.now_arg) : time(NULL);
}

/* With an injected clock (tests) its seconds, else the wall clock in ms. */
uint64_t acct__now_ms(const struct acct_exec *e)
{
  struct timespec ts;

  if (e->d.now || clock_gettime(CLOCK_REALTIME, &ts) != 0)
    return (uint64_t)acct__now(e) * 1000u;
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct acct_exec *acct_exec_new(const struct acct_exec_deps *d)
{
  struct acct_exec *e = calloc(1, sizeof(*e));
  struct exec_runner_deps rd = { .kio = d->kio,
                                 .objs = d->accounts,
                                 .metrics = d->metrics };

  if (!e)
    return NULL;
  e->d = *d;
  map_init(&e->ccs);
  map_init(&e->slot_waiters);
  map_init(&e->regions);
  map_init(&e->soft);
  map_init(&e->fresh);
  e->init_types = json_object();
  str_copy(e->ns, d->ns ? d->ns : "aws-account-operator", sizeof(e->ns));
  e->d.ns = e->ns;
  e->run = exec_runner_new(&acct_desc, e, &rd);
  if (!e->run || acct_index_install(d->accounts)) {
    exec_runner_free(e->run);
    free(e);
    return NULL;
  }
  return e;
}

static void regions_free(void *v, void *arg)
{
  (void)arg;
  json_decref(v);
}

void acct__regions_forget(struct acct_exec *e, const char *key)
{
  json_decref(map_del(&e->regions, key));
}

void acct_exec_free(struct acct_exec *e)
{
  if (!e)
    return;
  exec_runner_free(e->run);
  acct__ccs_free_all(e);
  map_cleanup(&e->slot_waiters, NULL, NULL);
  map_cleanup(&e->regions, regions_free, NULL);
  map_cleanup(&e->soft, acct__soft_free, NULL);
  map_cleanup(&e->fresh, acct__fresh_free, NULL);
  json_decref(e->init_types);
  free(e);
}

const struct acct_obs *acct_exec_obs(const struct acct_exec *e, const char *key)
{
  return exec_runner_obs(e->run, key);
}

int acct_exec_reconcile(struct acct_exec *e, const char *key,
                        struct ctrl_result *out, exec_done_fn done, void *arg)
{
  return exec_runner_reconcile(e->run, key, out, done, arg);
}

void acct__job_cleanup(struct exec_job *b)
{
  struct acct_job *j = (struct acct_job *)b;

  json_decref(j->aux);
  json_decref(j->list);
  json_decref(j->inner);
  json_decref(j->view);
  acct_step_cleanup(&j->st);
  if (j->creds)
    aws_creds_unref(j->creds);
  if (j->byoc)
    aws_creds_unref(j->byoc);
  util_free_secret(j->secret_key);
  free(j->marker);
}

bool acct__code_is(const struct aws_error *ae, const char *code)
{
  return ae && str_eq(ae->code, code);
}

void acct__aws_finish(struct acct_job *j, int err, const struct aws_error *ae)
{
  j->obs.action = j->st.action;
  j->obs.result = err;
  str_copy(j->obs.region, j->st.region, sizeof(j->obs.region));
  if (j->st.action == ACCT_QUOTA)
    str_copy(j->obs.quota_code, j->st.quota_code, sizeof(j->obs.quota_code));
  if (err && ae)
    str_copy(j->obs.aws_code, ae->code, sizeof(j->obs.aws_code));
  j->obs.at = acct__now(j->e);
  j->obs.at_ms = acct__now_ms(j->e);
  if (j->st.action == ACCT_CLEANUP_IAM || j->st.action == ACCT_CLEANUP_IAM_STEP)
    j->obs.work = j->aux;
  else
    j->obs.regions = j->aux;
  exec_job_observed(&j->base, err, ae ? ae->code : NULL, &j->obs,
                    json_incref(j->aux));
}

/* When the account started Creating: the Creating condition's transition,
 * else (an object written before conditions) its creation time. */
static int creating_since(const json_t *a, time_t *out)
{
  const json_t *c =
      cond_find(obj_get(a, "status.conditions"), ACCT_ST_CREATING);

  if (c && obj_time(c, "lastTransitionTime", out) == 0)
    return 0;
  return obj_creation_time(a, out);
}

/* Ready transitions feed the ready-duration histogram: from Creating to
 * Ready, as upstream measures it. */
void acct__starting(struct exec_job *b)
{
  struct acct_job *j = (struct acct_job *)b;
  const json_t *n = j->st.object_new;
  time_t created;

  if (j->st.action != ACCT_UPDATE_STATUS ||
      !str_eq(obj_str(n, "status.state"), ACCT_ST_READY) ||
      str_eq(obj_str(b->obj, "status.state"), ACCT_ST_READY) ||
      obj_bool(b->obj, "status.reused") || creating_since(b->obj, &created))
    return;
  exec_metrics_ready(j->e->d.metrics, obj_bool(n, "spec.byoc"),
                     (double)(acct__now(j->e) - created));
}

/* Every AWS action starts here: the management credentials first. */
int acct__start_aws(struct exec_job *b)
{
  struct acct_job *j = (struct acct_job *)b;
  struct exec_aws *aws = j->e->d.aws;

  j->mgmt_t.creds = aws ? exec_aws_mgmt(aws) : NULL;
  j->mgmt_t.controller = MOD;
  if (!j->mgmt_t.creds) {
    log_warn(MOD,
             "%s: %s waits for the AWS credentials Secret %s in namespace %s",
             b->key, acct_action_name(j->st.action), MGR_SECRET_NAME, j->e->ns);
    return OP_ENOTFOUND;
  }
  return acct__is_key_action(j->st.action) ? acct__exec_keys(j)
                                           : acct__exec_aws(j);
}
/* Snapshot and plan into j->st; the IAM Secret as read, or unknown. */
static int plan_once(struct acct_job *j, bool secret_unknown, bool byoc_unknown)
{
  struct exec_job *b = &j->base;
  struct acct_exec *e = j->e;
  struct acct_snap sn = { 0 };

  acct_step_cleanup(&j->st);
  json_decref(j->view);
  j->view = acct__soft_apply(e, b->key, b->obj);
  sn.account = j->view ? j->view : b->obj;
  sn.claim = acct__claim_of(e, b->obj);
  sn.cfg = exec_cfg_get(e->d.cfg);
  sn.now = acct__now(e);
  sn.now_ms = acct__now_ms(e);
  sn.create_estimate_s = exec_watcher_create_estimate(e->d.watcher);
  sn.limit_allows = e->d.watcher && exec_watcher_limit_allows(e->d.watcher);
  sn.create_slot_free =
      e->d.watcher && exec_watcher_create_slot_free(e->d.watcher);
  sn.iam_secret_exists = b->exists;
  sn.iam_secret_unknown = secret_unknown;
  sn.accounts_opting_in = acct_count_opting_in(e->d.accounts);
  sn.case_poll_s = e->d.case_poll_s;
  sn.obs = exec_runner_obs(e->run, b->key);
  sn.regions_mem = map_get(&e->regions, b->key);
  sn.fresh_launched = acct__fresh(e, b->key, b->obj);
  sn.fresh = sn.fresh_launched != NULL;
  sn.byoc_creds = j->byoc != NULL;
  sn.byoc_unknown = byoc_unknown;
  return acct_plan(&sn, &j->st);
}

/* A soft annotation step: remember it instead of writing it. */
static int soft_keep(struct acct_job *j)
{
  return acct__soft_keep(j->e, j->base.key, j->view ? j->view : j->base.obj,
                         j->st.object_new);
}

/* The region map in memory once the Account's own annotation caught up
 * with it (a durable write), or never set: dropped. */
static void regions_settle(struct acct_job *j)
{
  struct acct_exec *e = j->e;
  json_t *mem = map_get(&e->regions, j->base.key), *dur;
  const char *txt;

  if (!mem)
    return;
  txt = acct__soft_annotation(e, j->base.key, ACCT_ANN_REGIONS);
  if (!txt) /* the list not written yet is in memory too */
    txt = obj_annotation(j->base.obj, ACCT_ANN_REGIONS);
  dur = txt ? json_loads(txt, 0, NULL) : NULL;
  if (!txt || json_equal(dur, mem))
    json_decref(map_del(&e->regions, j->base.key));
  json_decref(dur);
}

/* A soft region step: keep its map in memory (acct_step.regions_soft). */
static int regions_keep(struct acct_job *j)
{
  const char *txt = obj_annotation(j->st.object_new, ACCT_ANN_REGIONS);
  json_t *map = txt ? json_loads(txt, 0, NULL) : NULL;
  void *old = NULL;

  if (!json_is_object(map)) {
    json_decref(map);
    return OP_EINVAL;
  }
  map_put(&j->e->regions, j->base.key, map, &old);
  json_decref(old);
  return 0;
}

#define SOFT_STEPS_MAX 64

static int plan_soft(struct acct_job *j, bool secret_unknown, bool byoc_unknown)
{
  int rc, n = 0;

  while ((rc = plan_once(j, secret_unknown, byoc_unknown)) == 0 &&
         n++ < SOFT_STEPS_MAX &&
         ((j->st.regions_soft && regions_keep(j) == 0) ||
          (j->st.ann_soft && soft_keep(j) == 0)))
    ;
  return rc;
}

/* Snapshot and plan into j->st; the IAM Secret as read, or unknown.
 * Region progress that needs no write is applied in memory and planned
 * again, up to SOFT_STEPS_MAX times (then it is written). Progress in
 * memory that leads to a write the Account already shows is stale: it is
 * dropped and the Account's own record planned from. */
static int snap_plan(struct acct_job *j, bool secret_unknown, bool byoc_unknown)
{
  int rc;

  acct__soft_settle(j->e, j->base.key, j->base.obj);
  regions_settle(j);
  rc = plan_soft(j, secret_unknown, byoc_unknown);
  if (rc == 0 && j->st.action == ACCT_UPDATE &&
      map_get(&j->e->regions, j->base.key) &&
      json_equal(j->st.object_new, j->base.obj)) {
    log_debug(MOD, "%s: region progress in memory is stale: dropped",
              j->base.key);
    json_decref(map_del(&j->e->regions, j->base.key));
    rc = plan_soft(j, secret_unknown, byoc_unknown);
  }
  /* a written region map is also the one in memory: regions_settle
   * drops it once the Account shows it */
  if (rc == 0 && j->st.action == ACCT_UPDATE &&
      map_get(&j->e->regions, j->base.key) &&
      obj_annotation(j->st.object_new, ACCT_ANN_REGIONS))
    regions_keep(j);
  return rc;
}

int acct__plan(struct exec_job *b, struct exec_step *v)
{
  struct acct_job *j = (struct acct_job *)b;
  int rc = j->planned ? j->plan_rc : snap_plan(j, false, false);

  *v = (struct exec_step){ .done = j->st.action == ACCT_DONE,
                           .action = (int)j->st.action,
                           .name = acct_action_name(j->st.action),
                           .why = j->st.why,
                           .object_new = j->st.object_new,
                           .requeue_ms = j->st.requeue_ms,
                           .event = &j->st.event };
  return rc;
}

/* The IAM Secret name: "<account name>-secret", lowercased. */
static void secret_name(const json_t *a, char *out, size_t n)
{
  if (str_fmt(out, n, "%s-secret", obj_name(a)) < 0)
    out[0] = 0;
  str_lower(out);
}

/* Plan with the IAM Secret unknown first: only a plan that asks for it
 * costs a GET (most reconciles, e.g. of a Ready account, never do). */
int acct__prepare_iam(struct exec_job *b)
{
  struct acct_job *j = (struct acct_job *)b;
  char name[300];

  j->plan_rc = snap_plan(j, true, false);
  j->planned = j->plan_rc < 0 || !j->st.need_iam_secret;
  if (j->planned)
    return 1;
  secret_name(b->obj, name, sizeof(name));
  return exec_job_check_exists(b, &exec_gvr_secrets, obj_namespace(b->obj),
                               name);
}

/* CCS accounts (not STS) read the claim's BYOC Secret first, unless a
 * plan without it (and without the IAM Secret) ends done: any step may
 * sign with the BYOC keys, so every other outcome reads it. */
int acct__prepare(struct exec_job *b)
{
  struct acct_job *j = (struct acct_job *)b;
  const json_t *c;

  j->e = b->ctl;
  acct_step_init(&j->st);
  if (!obj_bool(b->obj, "spec.byoc") ||
      obj_bool(b->obj, "spec.manualSTSMode") ||
      !(c = acct__claim_of(j->e, b->obj)))
    return acct__prepare_iam(b);
  j->plan_rc = snap_plan(j, true, true);
  j->planned = j->plan_rc < 0 || (j->st.action == ACCT_DONE &&
                                  !j->st.need_byoc && !j->st.need_iam_secret);
  return j->planned ? 1 : acct__prepare_ccs(j, c);
}
