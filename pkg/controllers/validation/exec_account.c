/* AccountValidation controller: its descriptor for the step runner, the
 * snapshot and plan, the OU id cache, the REPORT action (exec.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/store.h"
#include "config/config.h"
#include "controllers/account/exec.h"
#include "controllers/account/plan.h"
#include "controllers/common/obj.h"
#include "controllers/validation/exec_int.h"
#include "util/err.h"
#include "util/str.h"

time_t val__now(const struct val_exec *e)
{
  return e->d.clock ? e->d.clock(e->d.clock_arg) : time(NULL);
}

/* FNV-1a of the key scaled to [0, 1): stable across restarts, so one
 * account keeps its slot in the period. */
double val_phase(const char *key)
{
  uint64_t h = 1469598103934665603ull;

  for (; key && *key; key++)
    h = (h ^ (unsigned char)*key) * 1099511628211ull;
  /* splitmix64's finalizer: FNV's high bits barely move for keys that
   * differ in their last characters (osd-creds-mgmt-<suffix>) */
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  return (double)(h >> 11) / (double)(1ull << 53);
}

struct val_exec *val_exec_new(const struct val_exec_deps *d)
{
  struct val_exec *e = calloc(1, sizeof(*e));
  struct exec_runner_deps rd = { .kio = d->kio, .objs = d->accounts };

  if (!e)
    return NULL;
  e->d = *d;
  if (!e->d.period_ms)
    e->d.period_ms = VAL_DEFAULT_PERIOD_MS;
  e->ou_ids = json_object();
  e->run = exec_runner_new(&val_desc, e, &rd);
  if (!e->run || !e->ou_ids || acct_index_install(d->accounts)) {
    json_decref(e->ou_ids);
    exec_runner_free(e->run);
    free(e);
    return NULL;
  }
  return e;
}

void val_exec_free(struct val_exec *e)
{
  if (!e)
    return;
  exec_runner_free(e->run);
  json_decref(e->ou_ids);
  free(e);
}

int val_exec_reconcile(struct val_exec *e, const char *key,
                       struct ctrl_result *out, exec_done_fn done, void *arg)
{
  return exec_runner_reconcile(e->run, key, out, done, arg);
}

const struct val_obs *val_exec_obs(const struct val_exec *e, const char *key)
{
  return exec_runner_obs(e->run, key);
}

static void ou_key(const char *base, const char *name, char *out, size_t n)
{
  snprintf(out, n, "%s/%s", base, name);
}

const char *val__ou_get(struct val_exec *e, const char *base, const char *name)
{
  char k[256];

  ou_key(base, name, k, sizeof(k));
  return json_string_value(json_object_get(e->ou_ids, k));
}

void val__ou_put(struct val_exec *e, const char *base, const char *name,
                 const char *id)
{
  char k[256];

  ou_key(base, name, k, sizeof(k));
  json_object_set_new(e->ou_ids, k, json_string(id));
}

/* A failed move may mean a stale id (OU deleted and re-created). */
void val__ou_forget(struct val_exec *e)
{
  json_object_clear(e->ou_ids);
}

static int snap_plan(struct exec_job *b, struct exec_step *v)
{
  struct val_job *j = (struct val_job *)b;
  struct val_exec *e = b->ctl;
  struct val_snap sn = { 0 };
  struct opcfg cfg;
  int rc;

  sn.account = b->obj;
  sn.cfg = exec_cfg_for_plan(e->d.cfg_get, e->d.cfg_arg, e->d.configmap, &cfg);
  sn.obs = exec_runner_obs(e->run, b->key);
  sn.obs_tags = exec_runner_obs_aux(e->run, b->key);
  sn.now = val__now(e);
  /* The first pass starts with the first reconcile, once the caches
   * synced: from the process start, the keys whose slot passed while the
   * fleet was listed (seconds at 10,000) would all be due at once and
   * queue behind each other's reads. */
  if (!e->start)
    e->start = sn.now;
  sn.start = e->start;
  sn.period_ms = e->d.period_ms;
  sn.phase = val_phase(b->key);
  sn.naccounts = store_len(e->d.accounts);
  sn.accounts_opting_in = acct_count_opting_in(e->d.accounts);
  rc = val_plan(&sn, &j->st);
  exec_cfg_release(&cfg);
  *v = (struct exec_step){ .done = j->st.action == VAL_DONE,
                           .action = (int)j->st.action,
                           .name = val_action_name(j->st.action),
                           .why = j->st.why,
                           .object_new = j->st.object_new,
                           .target_ns = j->st.target_ns,
                           .target_name = j->st.target_name,
                           .requeue_ms = j->st.requeue_ms,
                           .event = &j->st.event };
  return rc;
}

/* REPORT: nothing changes in AWS; the observation keeps the last READ
 * (so the report is made once per read) and the runner records the
 * step's Event. */
static int start_report(struct exec_job *b)
{
  struct val_exec *e = b->ctl;
  const struct val_obs *cur = exec_runner_obs(e->run, b->key);
  const json_t *tags = exec_runner_obs_aux(e->run, b->key);
  struct val_obs o = { 0 };

  if (cur)
    o = *cur;
  o.action = VAL_REPORT;
  o.result = 0;
  o.aws_code[0] = '\0';
  o.at = val__now(e);
  exec_job_observed(b, 0, NULL, &o, tags ? json_deep_copy(tags) : NULL);
  return 0;
}

static void job_cleanup(struct exec_job *b)
{
  val_step_cleanup(&((struct val_job *)b)->st);
}

static void *new_ctl(struct exec_shared *s, struct exec_runner **run)
{
  struct val_exec_deps d = {
    .kio = s->kio,
    .accounts = exec_shared_store(s, MGR_ACCOUNTS),
    .configmap = exec_shared_store(s, MGR_CONFIGMAP),
    .cfg_get = exec_cfg_of,
    .cfg_arg = s->opcfg,
    .api = exec_aws_api(s->aws),
    .mgmt_creds = exec_aws_mgmt_cb,
    .creds_arg = s->aws,
    .period_ms = (uint64_t)s->cfg->validation_interval_s * 1000u,
  };
  struct val_exec *e = val_exec_new(&d);

  *run = e ? e->run : NULL;
  return e;
}

static void free_ctl(void *ctl)
{
  val_exec_free(ctl);
}

static const struct exec_action actions[] = {
  [VAL_DELETE] = { .kind = EXEC_DELETE,
                   .gvr = &exec_gvr_accounts,
                   .gone_ok = true },
  [VAL_READ] = { .kind = EXEC_CALL, .start = val__start_aws },
  [VAL_MOVE] = { .kind = EXEC_CALL, .start = val__start_aws },
  [VAL_TAG] = { .kind = EXEC_CALL, .start = val__start_aws },
  [VAL_REPORT] = { .kind = EXEC_CALL, .start = start_report },
  [VAL_SCRUB] = { .kind = EXEC_UPDATE_STATUS, .gvr = &exec_gvr_accounts },
  [VAL_SEED] = { .kind = EXEC_UPDATE_STATUS, .gvr = &exec_gvr_accounts },
};

const struct exec_desc val_desc = {
  .name = "accountvalidation",
  .cfg = OPCFG_CTRL_ACCOUNTVALIDATION,
  .kind = MGR_ACCOUNTS,
  .api_version = "aws.managed.openshift.io/v1alpha1",
  .kind_name = "Account",
  .wait_for = { MGR_CONFIGMAP, MGR_NKINDS },
  .kick = EXEC_KICK_CFG,
  .job_size = sizeof(struct val_job),
  .obs_size = sizeof(struct val_obs),
  .actions = actions,
  .nactions = sizeof(actions) / sizeof(actions[0]),
  .new_ctl = new_ctl,
  .free_ctl = free_ctl,
  .plan = snap_plan,
  .job_cleanup = job_cleanup,
};
