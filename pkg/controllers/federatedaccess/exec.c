/* AWSFederatedAccountAccess controller: the descriptor, the Secret read
 * before planning, the snapshot (exec.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/core/creds.h"
#include "cache/store.h"
#include "controllers/common/names.h"
#include "controllers/common/obj.h"
#include "controllers/federatedaccess/exec_int.h"
#include "k8s/config.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

static const struct k8s_gvr gvr_access = {
  "aws.managed.openshift.io", "v1alpha1", "awsfederatedaccountaccesses", true
};

time_t fa__now(const struct fa_exec *e)
{
  return e->d.clock ? e->d.clock(e->d.clock_arg) : time(NULL);
}

struct fa_exec *fa_exec_new(const struct fa_exec_deps *d)
{
  struct fa_exec *e = calloc(1, sizeof(*e));
  struct exec_runner_deps rd = { .kio = d->kio, .objs = d->accesses };
  int rc;

  if (!e)
    return NULL;
  e->d = *d;
  e->run = exec_runner_new(&fa_desc, e, &rd);
  rc = d->accesses ? store_add_index(d->accesses, NAMES_IX_ACCESS_ROLE,
                                     names_ix_access_role, NULL)
                   : 0;
  if (!e->run || (rc && rc != OP_EEXIST)) {
    exec_runner_free(e->run);
    free(e);
    return NULL;
  }
  return e;
}

void fa_exec_free(struct fa_exec *e)
{
  if (!e)
    return;
  exec_runner_free(e->run);
  free(e);
}

int fa_exec_reconcile(struct fa_exec *e, const char *key,
                      struct ctrl_result *out, exec_done_fn done, void *arg)
{
  return exec_runner_reconcile(e->run, key, out, done, arg);
}

const struct fa_obs *fa_exec_obs(const struct fa_exec *e, const char *key)
{
  return exec_runner_obs(e->run, key);
}

/* base64 data[key] into a wiped string, or NULL. */
static char *field(const json_t *s, const char *key)
{
  const char *b64 =
      json_string_value(json_object_get(json_object_get(s, "data"), key));
  char *out = NULL;
  size_t len = 0;

  if (!b64 || k8s_base64_decode_new(b64, &out, &len))
    return NULL;
  while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
    out[--len] = 0;
  return out;
}

static void secret_got(int err, json_t *obj, const struct op_error *det,
                       void *arg)
{
  struct fa_job *j = arg;
  char *id, *key, *tok;

  (void)det;
  if (err && err != OP_ENOTFOUND) {
    exec_job_prepared(&j->base, err);
    return;
  }
  if (!err) {
    id = field(obj, AWS_SECRET_KEY_ID);
    key = field(obj, AWS_SECRET_KEY_SECRET);
    tok = field(obj, AWS_SECRET_KEY_TOKEN);
    j->secret = aws_creds_static_new(id, key, str_empty(tok) ? NULL : tok);
    util_free_secret(id);
    util_free_secret(key);
    util_free_secret(tok);
  }
  exec_job_prepared(&j->base, 0);
}

/* The Secret, only from the access's own namespace. */
static int prepare(struct exec_job *b)
{
  struct fa_job *j = (struct fa_job *)b;
  const struct exec_kio *k;
  const char *ns = obj_namespace(b->obj);
  const char *name = obj_str(b->obj, "spec.awsCustomerCredentialSecret.name");

  j->e = b->ctl;
  k = &j->e->d.kio;
  if (str_empty(name) ||
      !str_eq(obj_str(b->obj, "spec.awsCustomerCredentialSecret.namespace"),
              ns))
    return 1;
  return k->get(k->arg, &exec_gvr_secrets, ns, name, secret_got, j);
}

static const json_t *role_of(const struct fa_exec *e, const json_t *a)
{
  const char *n = obj_str(a, "spec.awsFederatedRole.name");
  const char *ns = obj_str(a, "spec.awsFederatedRole.namespace");
  char key[STORE_KEY_MAX];

  if (str_empty(ns))
    ns = obj_namespace(a);
  if (!e->d.roles || str_empty(n) ||
      str_fmt(key, sizeof(key), "%s/%s", ns, n) < 0)
    return NULL;
  return store_get(e->d.roles, key);
}

static int snap_plan(struct exec_job *b, struct exec_step *v)
{
  struct fa_job *j = (struct fa_job *)b;
  struct fa_exec *e = b->ctl;
  struct fa_snap sn = { 0 };
  struct opcfg cfg;
  int rc;

  j->e = e;
  sn.access = b->obj;
  sn.role = role_of(e, b->obj);
  sn.cfg = exec_cfg_for_plan(e->d.cfg_get, e->d.cfg_arg, e->d.configmap, &cfg);
  sn.secret_ok = j->secret != NULL;
  sn.obs = exec_runner_obs(e->run, b->key);
  sn.scan = exec_runner_obs_aux(e->run, b->key);
  sn.now = fa__now(e);
  rc = fa_plan(&sn, &j->st);
  exec_cfg_release(&cfg);
  *v = (struct exec_step){ .done = j->st.action == FA_DONE,
                           .action = (int)j->st.action,
                           .name = fa_action_name(j->st.action),
                           .why = j->st.why,
                           .object_new = j->st.object_new,
                           .requeue_ms = j->st.requeue_ms,
                           .event = &j->st.event };
  return rc;
}

static void job_cleanup(struct exec_job *b)
{
  struct fa_job *j = (struct fa_job *)b;

  fa_step_cleanup(&j->st);
  aws_creds_unref(j->secret);
  json_decref(j->scan);
  j->secret = NULL;
  j->scan = NULL;
}

/* A changed role re-plans the accesses that reference it (an index: no
 * scan of every access per role event). */
static void role_to_accesses(const json_t *r, struct ctrl_keys *out, void *arg)
{
  struct fa_exec *e = arg;
  char key[STORE_KEY_MAX];
  const json_t **v = NULL;
  size_t i, n = 0;

  if (!store_obj_key(r, key, sizeof(key)))
    v = store_by_index_new(e->d.accesses, NAMES_IX_ACCESS_ROLE, key, &n);
  for (i = 0; i < n; i++)
    if (!store_obj_key(v[i], key, sizeof(key)))
      ctrl_keys_add(out, key);
  free((void *)v);
}

static int org_role(void *arg, const char *account_id, struct aws_creds **out)
{
  return exec_aws_account_creds(arg, account_id, out);
}

static void *new_ctl(struct exec_shared *s, struct exec_runner **run)
{
  struct fa_exec_deps d = {
    .kio = s->kio,
    .accesses = exec_shared_store(s, MGR_FEDERATED_ACCESSES),
    .roles = exec_shared_store(s, MGR_FEDERATED_ROLES),
    .configmap = exec_shared_store(s, MGR_CONFIGMAP),
    .cfg_get = exec_cfg_of,
    .cfg_arg = s->opcfg,
    .api = exec_aws_api(s->aws),
    .org_role = org_role,
    .org_role_arg = s->aws,
  };
  struct fa_exec *e = fa_exec_new(&d);

  *run = e ? e->run : NULL;
  return e;
}

static void free_ctl(void *ctl)
{
  fa_exec_free(ctl);
}

#define WRITE(a, k) [a] = { .kind = k, .gvr = &gvr_access }
#define CALL(a) [a] = { .kind = EXEC_CALL, .start = fa__start_aws }

static const struct exec_action actions[] = {
  WRITE(FA_UPDATE, EXEC_UPDATE),
  WRITE(FA_UPDATE_STATUS, EXEC_UPDATE_STATUS),
  WRITE(FA_REMOVE_FINALIZER, EXEC_UPDATE),
  CALL(FA_SCAN),
  CALL(FA_CREATE_POLICY),
  CALL(FA_CREATE_POLICY_VER),
  CALL(FA_DELETE_POLICY_VER),
  CALL(FA_DELETE_POLICY),
  CALL(FA_CREATE_ROLE),
  CALL(FA_UPDATE_TRUST),
  CALL(FA_ATTACH),
  CALL(FA_DETACH),
  CALL(FA_DELETE_ROLE),
};

const struct exec_desc fa_desc = {
  .name = "awsfederatedaccountaccess",
  .cfg = OPCFG_CTRL_AWSFEDERATEDACCOUNTACCESS,
  .kind = MGR_FEDERATED_ACCESSES,
  .api_version = "aws.managed.openshift.io/v1alpha1",
  .kind_name = "AWSFederatedAccountAccess",
  .watches = { { .kind = MGR_FEDERATED_ROLES, .map = role_to_accesses } },
  .wait_for = { MGR_CONFIGMAP, MGR_FEDERATED_ROLES, MGR_NKINDS },
  .kick = EXEC_KICK_CFG,
  .job_size = sizeof(struct fa_job),
  .obs_size = sizeof(struct fa_obs),
  .actions = actions,
  .nactions = sizeof(actions) / sizeof(actions[0]),
  .new_ctl = new_ctl,
  .free_ctl = free_ctl,
  .prepare = prepare,
  .plan = snap_plan,
  .job_cleanup = job_cleanup,
};
