/* AccountClaim controller: its descriptor for the step runner, the
 * snapshot and plan (exec.h). The Organizations and cleanup actions live
 * in exec_aws.c / exec_cleanup.c, the Secret actions in exec_secret.c, the
 * metrics in exec_metrics.c. */
#include <stdlib.h>
#include <string.h>

#include "cache/store.h"
#include "controllers/accountclaim/exec.h"
#include "controllers/accountclaim/exec_int.h"
#include "controllers/common/obj.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"

struct claim_exec *claim_exec_new(const struct claim_exec_deps *d)
{
  struct claim_exec *e = calloc(1, sizeof(*e));
  struct exec_runner_deps rd = { .kio = d->kio,
                                 .objs = d->claims,
                                 .chain = d->chain };

  if (!e)
    return NULL;
  e->d = *d;
  str_copy(e->ns, d->ns ? d->ns : OBJ_NAMESPACE, sizeof(e->ns));
  e->d.ns = e->ns;
  map_init(&e->pre);
  e->run = exec_runner_new(&claim_desc, e, &rd);
  if (!e->run || claim__index_install(d->claims, d->accounts)) {
    exec_runner_free(e->run);
    free(e);
    return NULL;
  }
  if (d->metrics)
    claim__metrics_init(e, d->metrics);
  return e;
}

void claim_exec_free(struct claim_exec *e)
{
  if (!e)
    return;
  exec_runner_free(e->run);
  claim__pre_free_all(e);
  free(e);
}

const struct claim_obs *claim_exec_obs(const struct claim_exec *e,
                                       const char *key)
{
  return exec_runner_obs(e->run, key);
}

struct exec_written *claim_exec_written(const struct claim_exec *e)
{
  return exec_runner_written(e->run);
}

int claim_exec_reconcile(struct claim_exec *e, const char *key,
                         struct ctrl_result *out, exec_done_fn done, void *arg)
{
  return exec_runner_reconcile(e->run, key, out, done, arg);
}

/* An AWS (or Secret) action finished: the runner stores the observation
 * and requeues. */
void claim__action_done(void *arg, const struct claim_obs *o)
{
  struct claim_job *j = arg;

  j->last = *o;
  j->last.action = j->st.action;
  j->last.at = time(NULL);
  exec_job_observed(&j->base, j->last.result, j->last.aws_code, &j->last, NULL);
}

void claim__kio_done(int err, json_t *obj, const struct op_error *det,
                     void *arg)
{
  struct claim_obs o = { 0 };

  (void)obj;
  (void)det;
  o.result = err;
  claim__action_done(arg, &o);
}

int claim__start_aws(struct exec_job *b)
{
  struct claim_job *j = (struct claim_job *)b;
  struct claim_exec *e = j->e;
  struct aws_creds *mgmt =
      e->d.mgmt_creds ? e->d.mgmt_creds(e->d.creds_arg) : NULL;

  if (j->st.action == CLAIM_CLEANUP_REGION)
    return claim__exec_cleanup(&e->d, mgmt, &j->st, claim__action_done, j);
  if (j->st.action == CLAIM_ENSURE_OU && !claim__pre_take_ou(j))
    return 0;
  return claim__exec_aws(e->d.api, mgmt, &j->st, claim__action_done, j);
}

int claim__start_secret(struct exec_job *b)
{
  return claim__exec_secret((struct claim_job *)b);
}

/* Whether the claim's AccountPool exists in the operator namespace. */
static void pool_lookup(const struct claim_exec *e, struct claim_snap *sn)
{
  const char *name = claim_pool_name(sn->claim, sn->cfg);
  char key[512];

  if (!e->d.pools || str_empty(name) || str_empty(e->d.ns) ||
      str_fmt(key, sizeof(key), "%s/%s", e->d.ns, name) < 0)
    return;
  sn->pool_checked = true;
  sn->pool_exists = store_get(e->d.pools, key) != NULL;
}

/* Snapshot and plan into j->st; the credentials Secret as read, or
 * unknown. */
static int snap_plan(struct claim_job *j, bool secret_unknown)
{
  struct exec_job *b = &j->base;
  struct claim_exec *e = j->e;
  struct claim_snap sn = { 0 };
  struct opcfg cfg;
  int rc;

  claim_step_cleanup(&j->st);
  sn.claim = b->obj;
  sn.cfg = exec_cfg_for_plan(e->d.cfg_get, e->d.cfg_arg, e->d.configmap, &cfg);
  rc = claim__snap_accounts(e, &sn); /* reads sn.claim and sn.cfg */
  sn.now = time(NULL);
  sn.secret_exists = b->exists;
  sn.secret_unknown = secret_unknown;
  sn.byoc_secret_exists = j->byoc_exists;
  sn.byoc_secret_finalized = j->byoc_finalized;
  sn.obs = exec_runner_obs(e->run, b->key);
  if (!rc) {
    pool_lookup(e, &sn);
    rc = claim_plan(&sn, &j->st);
  }
  free((void *)sn.accounts);
  exec_cfg_release(&cfg);
  return rc;
}

int claim__plan(struct exec_job *b, struct exec_step *v)
{
  struct claim_job *j = (struct claim_job *)b;
  struct claim_exec *e = j->e;
  int rc = j->planned ? j->plan_rc : snap_plan(j, false);

  *v = (struct exec_step){ .done = j->st.action == CLAIM_DONE,
                           .action = (int)j->st.action,
                           .name = claim_action_name(j->st.action),
                           .why = j->st.why,
                           .object_new = j->st.object_new,
                           .target_ns = e->ns,
                           .target_name = j->st.account_name,
                           .requeue_ms = j->st.requeue_ms,
                           .event = &j->st.event };
  return rc;
}

/* Plan with the credentials Secret unknown first: only a plan that asks
 * for it costs a GET (a satisfied claim never does). */
int claim__prepare_cred(struct exec_job *b)
{
  struct claim_job *j = (struct claim_job *)b;
  const char *name = obj_str(b->obj, "spec.awsCredentialSecret.name");
  const char *ns = obj_str(b->obj, "spec.awsCredentialSecret.namespace");

  if (str_empty(name))
    return 1;
  j->plan_rc = snap_plan(j, true);
  j->planned = j->plan_rc < 0 || !j->st.need_secret;
  if (j->planned)
    return 1;
  if (str_empty(ns))
    ns = obj_namespace(b->obj);
  return exec_job_check_exists(b, &exec_gvr_secrets, ns, name);
}

/* CCS claims read their BYOC Secret first (exec_ccs.c). */
int claim__prepare(struct exec_job *b)
{
  struct claim_job *j = (struct claim_job *)b;

  j->e = b->ctl;
  claim_step_init(&j->st);
  if (obj_bool(b->obj, "spec.byoc") && !obj_bool(b->obj, "spec.manualSTSMode"))
    return claim__prepare_ccs(j);
  return claim__prepare_cred(b);
}

void claim__job_cleanup(struct exec_job *b)
{
  struct claim_job *j = (struct claim_job *)b;

  claim_step_cleanup(&j->st);
  json_decref(j->src_data);
  j->src_data = NULL;
}
