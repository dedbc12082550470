/* AccountClaim executor: snapshot, claim_plan, one step (PLANS.md). The
 * Kubernetes steps and the bookkeeping live here; the Organizations and
 * cleanup actions in exec_aws.c / exec_cleanup.c, the Secret actions in
 * exec_secret.c. */
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

  if (!e)
    return NULL;
  e->d = *d;
  str_copy(e->ns, d->ns ? d->ns : OBJ_NAMESPACE, sizeof(e->ns));
  e->d.ns = e->ns;
  if (d->metrics)
    claim__metrics_init(e, d->metrics);
  return e;
}

void claim_exec_free(struct claim_exec *e)
{
  struct claim_obs_ent *o, *n;

  if (!e)
    return;
  for (o = e->obs; o; o = n) {
    n = o->next;
    free(o);
  }
  free(e);
}

static struct claim_obs_ent **obs_find(struct claim_exec *e, const char *key)
{
  struct claim_obs_ent **p = &e->obs;

  while (*p && !str_eq((*p)->key, key))
    p = &(*p)->next;
  return p;
}

const struct claim_obs *claim_exec_obs(const struct claim_exec *e,
                                       const char *key)
{
  struct claim_obs_ent **p = obs_find((struct claim_exec *)e, key);

  return *p ? &(*p)->obs : NULL;
}

void claim__obs_put(struct claim_exec *e, const char *key,
                    const struct claim_obs *o)
{
  struct claim_obs_ent **p = obs_find(e, key);

  if (!*p) {
    *p = calloc(1, sizeof(**p));
    if (!*p)
      return;
    str_copy((*p)->key, key, sizeof((*p)->key));
  }
  (*p)->obs = *o;
}

static void obs_drop(struct claim_exec *e, const char *key)
{
  struct claim_obs_ent **p = obs_find(e, key), *o = *p;

  if (o) {
    *p = o->next;
    free(o);
  }
}

void claim__job_free(struct claim_job *j)
{
  json_decref(j->claim);
  claim_step_cleanup(&j->st);
  free(j);
}

void claim__finish(struct claim_job *j, const struct ctrl_result *r)
{
  j->done(j->arg, j->key, r);
  claim__job_free(j);
}

static void record_event(struct claim_job *j)
{
  const struct plan_event *ev = &j->st.event;

  if (ev->reason[0])
    j->e->d.kio.event(j->e->d.kio.arg, j->claim, ev->type, ev->reason,
                      ev->message);
}

/* A Kubernetes write of the step finished. */
static void write_done(int err, json_t *obj, const struct op_error *det,
                       void *arg)
{
  struct claim_job *j = arg;
  struct ctrl_result res;

  (void)obj;
  if (err == OP_ENOTFOUND && j->st.action == CLAIM_ACCOUNT_DELETE)
    err = 0;
  exec_write_result(err, j->st.requeue_ms, &res);
  if (err) {
    log_info("accountclaim", "%s: %s failed: %s", j->key,
             claim_action_name(j->st.action),
             det && det->msg[0] ? det->msg : op_strerror(err));
  } else {
    record_event(j);
    claim__metrics_written(j);
  }
  claim__finish(j, &res);
}

/* An AWS (or Secret) action finished: store the observation, requeue. */
void claim__action_done(void *arg, const struct claim_obs *o)
{
  struct claim_job *j = arg;
  struct claim_obs obs = *o;
  struct ctrl_result res = { .requeue_after_ms = 1 };

  obs.action = j->st.action;
  obs.at = time(NULL);
  claim__obs_put(j->e, j->key, &obs);
  claim__metrics_action(j, &obs);
  if (obs.result == 0)
    record_event(j);
  else
    log_info("accountclaim", "%s: %s failed: %s %s", j->key,
             claim_action_name(j->st.action), op_strerror(obs.result),
             obs.aws_code);
  claim__finish(j, &res);
}

static int start_write(struct claim_job *j)
{
  const struct exec_kio *k = &j->e->d.kio;
  json_t *o = j->st.object_new;

  switch (j->st.action) {
  case CLAIM_UPDATE:
  case CLAIM_REMOVE_FINALIZER:
    return k->update(k->arg, &exec_gvr_claims, o, write_done, j);
  case CLAIM_UPDATE_STATUS:
    return k->update_status(k->arg, &exec_gvr_claims, o, write_done, j);
  case CLAIM_ACCOUNT_UPDATE:
    return k->update(k->arg, &exec_gvr_accounts, o, write_done, j);
  case CLAIM_ACCOUNT_UPDATE_STATUS:
    return k->update_status(k->arg, &exec_gvr_accounts, o, write_done, j);
  case CLAIM_ACCOUNT_DELETE:
    return k->del(k->arg, &exec_gvr_accounts, j->e->ns, j->st.account_name,
                  write_done, j);
  default:
    return OP_EINVAL;
  }
}

static int start_step(struct claim_job *j)
{
  struct claim_exec *e = j->e;
  struct aws_creds *mgmt;

  switch (j->st.action) {
  case CLAIM_WRITE_SECRET:
  case CLAIM_WRITE_FAKE_SECRET:
  case CLAIM_DELETE_SECRET:
    return claim__exec_secret(j);
  case CLAIM_ENSURE_OU:
  case CLAIM_MOVE_ACCOUNT:
  case CLAIM_CLEANUP_REGION:
  case CLAIM_CLOSE_ACCOUNT:
    mgmt = e->d.mgmt_creds ? e->d.mgmt_creds(e->d.creds_arg) : NULL;
    if (j->st.action == CLAIM_CLEANUP_REGION)
      j->started = time(NULL);
    return claim__exec_aws(e->d.api, mgmt, &j->st, claim__action_done, j);
  default:
    return start_write(j);
  }
}

static int snap_plan(struct claim_job *j)
{
  struct claim_exec *e = j->e;
  struct claim_snap sn = { 0 };
  struct opcfg cfg;
  bool have_cfg = !e->d.cfg_get && exec_cfg_load(e->d.configmap, &cfg) == 0;
  int rc;

  sn.claim = j->claim;
  sn.accounts = exec_store_objs(e->d.accounts, &sn.naccounts);
  sn.cfg = have_cfg ? &cfg : NULL;
  if (e->d.cfg_get)
    sn.cfg = e->d.cfg_get(e->d.cfg_arg);
  sn.now = time(NULL);
  sn.secret_exists = j->secret_exists;
  sn.obs = claim_exec_obs(e, j->key);
  rc = sn.accounts ? claim_plan(&sn, &j->st) : OP_ENOMEM;
  free((void *)sn.accounts);
  if (have_cfg)
    opcfg_cleanup(&cfg);
  return rc;
}

/* Plan and start the step; 0 = finished synchronously into *out. */
static int plan_run(struct claim_job *j, struct ctrl_result *out)
{
  int rc = snap_plan(j);

  claim__metrics_seen(j);
  if (rc < 0)
    return rc;
  log_debug("accountclaim", "%s: %s (%s)", j->key,
            claim_action_name(j->st.action), j->st.why);
  if (j->st.action == CLAIM_DONE) {
    *out = (struct ctrl_result){ .requeue_after_ms = j->st.requeue_ms };
    return 0;
  }
  rc = start_step(j);
  return rc < 0 ? rc : CTRL_PENDING;
}

static void secret_checked(int err, json_t *obj, const struct op_error *det,
                           void *arg)
{
  struct claim_job *j = arg;
  struct ctrl_result res = { 0 };
  int rc;

  (void)obj;
  (void)det;
  if (err && err != OP_ENOTFOUND) {
    res.err = err;
    claim__finish(j, &res);
    return;
  }
  j->secret_exists = err == 0;
  rc = plan_run(j, &res);
  if (rc == CTRL_PENDING)
    return;
  if (rc < 0)
    res.err = rc;
  claim__finish(j, &res);
}

int claim_exec_reconcile(struct claim_exec *e, const char *key,
                         struct ctrl_result *out, exec_done_fn done, void *arg)
{
  const json_t *c = store_get(e->d.claims, key);
  const char *name, *ns;
  struct claim_job *j;
  int rc;

  *out = (struct ctrl_result){ 0 };
  if (!c) {
    obs_drop(e, key);
    return 0;
  }
  j = calloc(1, sizeof(*j));
  if (!j)
    return OP_ENOMEM;
  j->e = e;
  j->claim = obj_copy(c);
  j->done = done;
  j->arg = arg;
  claim_step_init(&j->st);
  str_copy(j->key, key, sizeof(j->key));
  name = obj_str(c, "spec.awsCredentialSecret.name");
  ns = obj_str(c, "spec.awsCredentialSecret.namespace");
  if (str_empty(ns))
    ns = obj_namespace(c);
  if (!str_empty(name)) {
    rc = e->d.kio.get(e->d.kio.arg, &exec_gvr_secrets, ns, name, secret_checked,
                      j);
    if (rc == 0)
      return CTRL_PENDING;
  } else {
    rc = plan_run(j, out);
    if (rc == CTRL_PENDING)
      return rc;
  }
  claim__job_free(j);
  return rc;
}
