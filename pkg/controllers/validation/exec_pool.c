/* AccountPoolValidation controller: its descriptor for the step runner,
 * the snapshot and plan, the REPORT action (exec.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/store.h"
#include "controllers/common/obj.h"
#include "controllers/validation/exec.h"
#include "util/err.h"
#include "util/str.h"

struct pv_exec {
  struct pv_exec_deps d;
  struct exec_runner *run;
};

struct pv_job {
  struct exec_job base;
  struct pv_step st;
};

struct pv_exec *pv_exec_new(const struct pv_exec_deps *d)
{
  struct pv_exec *e = calloc(1, sizeof(*e));
  struct exec_runner_deps rd = { .kio = d->kio, .objs = d->pools };

  if (!e)
    return NULL;
  e->d = *d;
  e->run = exec_runner_new(&pv_desc, e, &rd);
  if (!e->run) {
    free(e);
    return NULL;
  }
  return e;
}

void pv_exec_free(struct pv_exec *e)
{
  if (!e)
    return;
  exec_runner_free(e->run);
  free(e);
}

int pv_exec_reconcile(struct pv_exec *e, const char *key,
                      struct ctrl_result *out, exec_done_fn done, void *arg)
{
  return exec_runner_reconcile(e->run, key, out, done, arg);
}

static int snap_plan(struct exec_job *b, struct exec_step *v)
{
  struct pv_job *j = (struct pv_job *)b;
  struct pv_exec *e = b->ctl;
  struct pv_snap sn = { 0 };
  struct opcfg cfg;
  int rc = OP_ENOMEM;

  pv_step_init(&j->st);
  sn.pool = b->obj;
  sn.accounts = exec_store_objs(e->d.accounts, &sn.naccounts);
  sn.cfg = exec_cfg_for_plan(e->d.cfg_get, e->d.cfg_arg, e->d.configmap, &cfg);
  sn.obs = exec_runner_obs(e->run, b->key);
  if (sn.accounts)
    rc = pv_plan(&sn, &j->st);
  free((void *)sn.accounts);
  exec_cfg_release(&cfg);
  *v = (struct exec_step){ .done = j->st.action == PV_DONE,
                           .action = (int)j->st.action,
                           .name = pv_action_name(j->st.action),
                           .why = j->st.why,
                           .object_new = j->st.object_new,
                           .requeue_ms = j->st.requeue_ms,
                           .event = &j->st.event };
  return rc;
}

/* REPORT: remember the drift reported, so it is reported once. */
static int start_report(struct exec_job *b)
{
  struct pv_job *j = (struct pv_job *)b;
  struct pv_obs o = { .sig = j->st.sig, .at = time(NULL) };

  exec_job_observed(b, 0, NULL, &o, NULL);
  return 0;
}

/* An Account maps to its pool: the controlling AccountPool, else
 * spec.accountPool (pools live in the Accounts' namespace). */
static void account_to_pool(const json_t *a, struct ctrl_keys *out, void *arg)
{
  const char *p = obj_owner_name(a, "AccountPool");
  char key[300];

  (void)arg;
  if (str_empty(p))
    p = obj_str(a, "spec.accountPool");
  if (!str_empty(p) &&
      str_fmt(key, sizeof(key), "%s/%s", obj_namespace(a), p) >= 0)
    ctrl_keys_add(out, key);
}

static void job_cleanup(struct exec_job *b)
{
  pv_step_cleanup(&((struct pv_job *)b)->st);
}

static void *new_ctl(struct exec_shared *s, struct exec_runner **run)
{
  struct pv_exec_deps d = { .kio = s->kio,
                            .pools = exec_shared_store(s, MGR_ACCOUNT_POOLS),
                            .accounts = exec_shared_store(s, MGR_ACCOUNTS),
                            .configmap = exec_shared_store(s, MGR_CONFIGMAP),
                            .cfg_get = exec_cfg_of,
                            .cfg_arg = s->opcfg };
  struct pv_exec *e = pv_exec_new(&d);

  *run = e ? e->run : NULL;
  return e;
}

static void free_ctl(void *ctl)
{
  pv_exec_free(ctl);
}

static const struct exec_action actions[] = {
  [PV_ACCOUNT_UPDATE] = { .kind = EXEC_UPDATE, .gvr = &exec_gvr_accounts },
  [PV_ACCOUNT_RESET] = { .kind = EXEC_UPDATE_STATUS,
                         .gvr = &exec_gvr_accounts },
  [PV_REPORT] = { .kind = EXEC_CALL, .start = start_report },
};

const struct exec_desc pv_desc = {
  .name = "accountpoolvalidation",
  .cfg = OPCFG_CTRL_ACCOUNTPOOLVALIDATION,
  .kind = MGR_ACCOUNT_POOLS,
  .api_version = "aws.managed.openshift.io/v1alpha1",
  .kind_name = "AccountPool",
  .watches = { { .kind = MGR_ACCOUNTS, .map = account_to_pool } },
  .wait_for = { MGR_CONFIGMAP, MGR_ACCOUNTS, MGR_NKINDS },
  .kick = EXEC_KICK_CFG,
  .job_size = sizeof(struct pv_job),
  .obs_size = sizeof(struct pv_obs),
  .actions = actions,
  .nactions = sizeof(actions) / sizeof(actions[0]),
  .new_ctl = new_ctl,
  .free_ctl = free_ctl,
  .plan = snap_plan,
  .job_cleanup = job_cleanup,
};
