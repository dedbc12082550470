/* AWSFederatedRole controller: descriptor, snapshot and AWS actions
 * (exec.h, plan.h). */
#include "controllers/federatedrole/exec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/api.h"
#include "cache/store.h"
#include "controllers/common/names.h"
#include "controllers/common/obj.h"
#include "controllers/federatedrole/plan.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"

#define AAO_GROUP_S "aws.managed.openshift.io"

const struct k8s_gvr frole_gvr_roles = { AAO_GROUP_S, "v1alpha1",
                                         "awsfederatedroles", true };
const struct k8s_gvr frole_gvr_accesses = { AAO_GROUP_S, "v1alpha1",
                                            "awsfederatedaccountaccesses",
                                            true };

struct frole_exec {
  struct frole_exec_deps d;
  struct exec_runner *run;
  json_t *managed; /* name -> true; NULL before the first listing */
  time_t managed_at;
  unsigned lists;
  bool fedramp_said;
};

/* One reconcile in flight (base.obj: the owned copy of the role). */
struct frole_job {
  struct exec_job base;
  struct frole_exec *e;
  struct frole_step st;
  struct frole_obs last;
  struct aws_target t;
  json_t *acc;  /* CHECK_MANAGED: names listed so far */
  json_t *arns; /* CLEAN_PROBES: policies to delete */
  size_t next;  /* CLEAN_PROBES: index into arns */
  char *marker; /* the next page */
};

static time_t now_of(const struct frole_exec *e)
{
  return e->d.clock ? e->d.clock(e->d.clock_arg) : time(NULL);
}

/* ---- the outcome -------------------------------------------------------- */

static void finish(struct frole_job *j, int err, const struct aws_error *ae)
{
  struct frole_obs *o = &j->last;

  o->action = (int)j->st.action;
  o->result = err;
  str_copy(o->aws_code, err && ae ? ae->code : "", sizeof(o->aws_code));
  str_copy(o->message, err && ae ? ae->message : "", sizeof(o->message));
  str_copy(o->uid, j->st.uid, sizeof(o->uid));
  o->generation = j->st.generation;
  o->managed_ok = j->st.managed_ok;
  o->at = now_of(j->e);
  exec_job_observed(&j->base, err, o->aws_code, o, NULL);
}

/* ---- FROLE_CHECK_MANAGED ------------------------------------------------ */

static void managed_verdict(struct frole_job *j)
{
  const json_t *n;
  size_t i, len = 0;
  char *u = j->last.unknown;

  json_array_foreach(j->st.managed, i, n)
  {
    const char *s = json_string_value(n);

    if (!s || json_object_get(j->e->managed, s))
      continue;
    if (str_fmt(u + len, sizeof(j->last.unknown) - len, "%s%s", len ? ", " : "",
                s))
      break; /* truncated: the list is long enough to tell */
    len = strlen(u);
  }
  finish(j, 0, NULL);
}

static void add_names(json_t *acc, const struct aws_iam_policies_result *r)
{
  size_t i;

  for (i = 0; i < r->n; i++) {
    const char *name = r->v[i].policy_name, *path = r->v[i].path;
    char full[512];

    if (!name)
      continue;
    json_object_set_new(acc, name, json_true());
    /* "job-function/Billing": the name with its path */
    if (path && !str_eq(path, "/") &&
        str_fmt(full, sizeof(full), "%s%s", path + (path[0] == '/'), name) >= 0)
      json_object_set_new(acc, full, json_true());
  }
}

static int list_page(struct frole_job *j);

static void listed(int err, const struct aws_error *ae,
                   const struct aws_iam_policies_result *r, void *arg)
{
  struct frole_job *j = arg;
  int rc;

  if (err) {
    finish(j, err, ae);
    return;
  }
  add_names(j->acc, r);
  free(j->marker);
  j->marker = r->is_truncated && r->marker ? strdup(r->marker) : NULL;
  if (j->marker) {
    if ((rc = list_page(j)))
      finish(j, rc, NULL);
    return;
  }
  json_decref(j->e->managed);
  j->e->managed = j->acc;
  j->acc = NULL;
  j->e->managed_at = now_of(j->e);
  j->e->lists++;
  managed_verdict(j);
}

static int list_page(struct frole_job *j)
{
  struct aws_api *api = j->e->d.api;
  struct aws_list_policies_req rq = { .scope = "AWS",
                                      .marker = j->marker,
                                      .max_items = 1000 };

  return api->list_policies(api, &j->t, &rq, listed, j);
}

static int start_managed(struct frole_job *j)
{
  struct frole_exec *e = j->e;

  if (e->managed && now_of(e) - e->managed_at < FROLE_MANAGED_TTL_S) {
    managed_verdict(j);
    return 0;
  }
  if (!(j->acc = json_object()))
    return OP_ENOMEM;
  return list_page(j);
}

/* ---- FROLE_PROBE_POLICY ------------------------------------------------- */

static void probe_deleted(int err, const struct aws_error *ae,
                          const struct aws_empty_result *r, void *arg)
{
  (void)r;
  /* a failed delete leaves the probe: the next probe meets
   * EntityAlreadyExists and cleans it */
  finish(arg, err, ae);
}

static void probe_created(int err, const struct aws_error *ae,
                          const struct aws_iam_policy_result *r, void *arg)
{
  struct frole_job *j = arg;
  struct aws_api *api = j->e->d.api;
  struct aws_iam_policy_req rq = { r ? r->policy.arn : NULL };
  int rc;

  if (err || !rq.policy_arn) {
    finish(j, err ? err : OP_EPARSE, ae);
    return;
  }
  if ((rc = api->delete_policy(api, &j->t, &rq, probe_deleted, j)))
    finish(j, rc, NULL);
}

static int start_probe(struct frole_job *j)
{
  struct aws_api *api = j->e->d.api;
  struct aws_create_policy_req rq = {
    .policy_name = j->st.probe_name,
    .policy_document = j->st.doc,
    .description = "aws-account-operator: AWSFederatedRole validation probe",
    .path = FROLE_PROBE_PATH,
  };

  return api->create_policy(api, &j->t, &rq, probe_created, j);
}

/* ---- FROLE_CLEAN_PROBES ------------------------------------------------- */

static int clean_next(struct frole_job *j);
static void probes_listed(int err, const struct aws_error *ae,
                          const struct aws_iam_policies_result *r, void *arg);

static void cleaned_one(int err, const struct aws_error *ae,
                        const struct aws_empty_result *r, void *arg)
{
  struct frole_job *j = arg;
  int rc;

  (void)r;
  if (err && !str_eq(ae ? ae->code : "", "NoSuchEntity")) {
    finish(j, err, ae);
    return;
  }
  if ((rc = clean_next(j)))
    finish(j, rc, NULL);
}

static void probes_listed(int err, const struct aws_error *ae,
                          const struct aws_iam_policies_result *r, void *arg)
{
  struct frole_job *j = arg;
  size_t i;
  int rc;

  if (err) {
    finish(j, err, ae);
    return;
  }
  for (i = 0; i < r->n; i++) {
    if (r->v[i].arn && str_has_prefix(r->v[i].policy_name, j->st.probe_prefix))
      json_array_append_new(j->arns, json_string(r->v[i].arn));
  }
  free(j->marker);
  j->marker = r->is_truncated && r->marker ? strdup(r->marker) : NULL;
  rc = clean_next(j);
  if (rc)
    finish(j, rc, NULL);
}

static int clean_list(struct frole_job *j)
{
  struct aws_api *api = j->e->d.api;
  struct aws_list_policies_req rq = { .scope = "Local",
                                      .path_prefix = FROLE_PROBE_PATH,
                                      .marker = j->marker };

  json_array_clear(j->arns);
  j->next = 0;
  return api->list_policies(api, &j->t, &rq, probes_listed, j);
}

/* The next leftover of this page to delete, else the next page, else
 * done. */
static int clean_next(struct frole_job *j)
{
  struct aws_api *api = j->e->d.api;

  if (j->next < json_array_size(j->arns)) {
    struct aws_iam_policy_req rq = { json_string_value(
        json_array_get(j->arns, j->next++)) };

    return api->delete_policy(api, &j->t, &rq, cleaned_one, j);
  }
  if (j->marker)
    return clean_list(j);
  finish(j, 0, NULL);
  return 0;
}

static int start_clean(struct frole_job *j)
{
  if (!(j->arns = json_array()))
    return OP_ENOMEM;
  return clean_list(j);
}

/* ---- descriptor --------------------------------------------------------- */

static int start_aws(struct exec_job *b)
{
  struct frole_job *j = (struct frole_job *)b;
  struct frole_exec *e = j->e;
  struct aws_creds *mgmt =
      e->d.mgmt_creds ? e->d.mgmt_creds(e->d.creds_arg) : NULL;

  if (!mgmt || !e->d.api) {
    struct aws_error ae = { 0 };

    str_copy(ae.code, "NoCredentials", sizeof(ae.code));
    str_copy(ae.message, "the operator credentials Secret is missing",
             sizeof(ae.message));
    finish(j, OP_ENOTFOUND, &ae);
    return 0;
  }
  j->t = (struct aws_target){ .creds = mgmt, .controller = "awsfederatedrole" };
  switch (j->st.action) {
  case FROLE_CHECK_MANAGED:
    return start_managed(j);
  case FROLE_PROBE_POLICY:
    return start_probe(j);
  case FROLE_CLEAN_PROBES:
    return start_clean(j);
  default:
    return OP_EINVAL;
  }
}

#define IX_LABEL "frole.roleLabel"

/* The role name an access is labelled with. */
static void ix_label(const json_t *a, struct store_values *out, void *arg)
{
  const char *name = obj_label(a, FROLE_LABEL_ROLE);

  (void)arg;
  if (!str_empty(name))
    store_values_add(out, name);
}

static int add_indexes(struct store *s)
{
  int rc =
      s ? store_add_index(s, NAMES_IX_ACCESS_ROLE, names_ix_access_role, NULL)
        : 0;

  if (s && (!rc || rc == OP_EEXIST))
    rc = store_add_index(s, IX_LABEL, ix_label, NULL);
  return rc == OP_EEXIST ? 0 : rc;
}

/* The accesses the plan looks at: those naming the role or labelled with
 * its name (indexes, not every access). */
static const json_t **role_accesses(const struct frole_exec *e,
                                    const json_t *role, size_t *n)
{
  char key[STORE_KEY_MAX];
  bool keyed = !store_obj_key(role, key, sizeof(key));
  struct exec_ix q[] = { { keyed ? NAMES_IX_ACCESS_ROLE : NULL, key },
                         { obj_name(role) ? IX_LABEL : NULL, obj_name(role) } };

  return exec_store_by_index(e->d.accesses, q, 2, n);
}

static int plan(struct exec_job *b, struct exec_step *v)
{
  struct frole_job *j = (struct frole_job *)b;
  struct frole_exec *e = b->ctl;
  struct frole_snap sn = { 0 };
  struct opcfg cfg;
  int rc;

  j->e = e;
  sn.role = b->obj;
  sn.accesses = role_accesses(e, b->obj, &sn.naccesses);
  sn.cfg = exec_cfg_for_plan(e->d.cfg_get, e->d.cfg_arg, e->d.configmap, &cfg);
  sn.now = now_of(e);
  sn.obs = exec_runner_obs(e->run, b->key);
  if (sn.cfg && sn.cfg->fedramp && !e->fedramp_said) {
    e->fedramp_said = true;
    log_info("awsfederatedrole",
             "FedRAMP: the AWSFederatedRole controller is disabled (as "
             "upstream); roles get no status");
  }
  rc = sn.accesses ? frole_plan(&sn, &j->st) : OP_ENOMEM;
  free((void *)sn.accesses);
  exec_cfg_release(&cfg);
  *v = (struct exec_step){ .done = j->st.action == FROLE_DONE,
                           .action = (int)j->st.action,
                           .name = frole_action_name(j->st.action),
                           .why = j->st.why,
                           .object_new = j->st.object_new,
                           .target_ns = j->st.target_ns,
                           .target_name = j->st.target_name,
                           .requeue_ms = j->st.requeue_ms,
                           .event = &j->st.event };
  return rc;
}

static void job_cleanup(struct exec_job *b)
{
  struct frole_job *j = (struct frole_job *)b;

  frole_step_cleanup(&j->st);
  json_decref(j->acc);
  json_decref(j->arns);
  free(j->marker);
}

/* An access maps to the role its spec names. */
static void access_to_role(const json_t *a, struct ctrl_keys *out, void *arg)
{
  const char *n = obj_str(a, "spec.awsFederatedRole.name");
  const char *ns = obj_str(a, "spec.awsFederatedRole.namespace");
  char key[256];

  (void)arg;
  if (!str_empty(n) && !str_empty(ns) &&
      str_fmt(key, sizeof(key), "%s/%s", ns, n) >= 0)
    ctrl_keys_add(out, key);
}

struct frole_exec *frole_exec_new(const struct frole_exec_deps *d)
{
  struct frole_exec *e = calloc(1, sizeof(*e));
  struct exec_runner_deps rd = { .kio = d->kio, .objs = d->roles };

  if (!e)
    return NULL;
  e->d = *d;
  if (!(e->run = exec_runner_new(&frole_desc, e, &rd)) ||
      add_indexes(d->accesses)) {
    exec_runner_free(e->run);
    free(e);
    return NULL;
  }
  return e;
}

void frole_exec_free(struct frole_exec *e)
{
  if (!e)
    return;
  exec_runner_free(e->run);
  json_decref(e->managed);
  free(e);
}

int frole_exec_reconcile(struct frole_exec *e, const char *key,
                         struct ctrl_result *out, exec_done_fn done, void *arg)
{
  return exec_runner_reconcile(e->run, key, out, done, arg);
}

unsigned frole_exec_managed_lists(const struct frole_exec *e)
{
  return e->lists;
}

static void *new_ctl(struct exec_shared *s, struct exec_runner **run)
{
  struct frole_exec_deps d = {
    .kio = s->kio,
    .roles = exec_shared_store(s, MGR_FEDERATED_ROLES),
    .accesses = exec_shared_store(s, MGR_FEDERATED_ACCESSES),
    .configmap = exec_shared_store(s, MGR_CONFIGMAP),
    .cfg_get = exec_cfg_of,
    .cfg_arg = s->opcfg,
    .api = exec_aws_api(s->aws),
    .mgmt_creds = exec_aws_mgmt_cb,
    .creds_arg = s->aws,
  };
  struct frole_exec *e = frole_exec_new(&d);

  *run = e ? e->run : NULL;
  return e;
}

static void free_ctl(void *ctl)
{
  frole_exec_free(ctl);
}

#define WRITE(a, k, g) [a] = { .kind = k, .gvr = &g }
#define CALL(a) [a] = { .kind = EXEC_CALL, .start = start_aws }

static const struct exec_action actions[] = {
  WRITE(FROLE_UPDATE, EXEC_UPDATE, frole_gvr_roles),
  WRITE(FROLE_UPDATE_STATUS, EXEC_UPDATE_STATUS, frole_gvr_roles),
  WRITE(FROLE_REMOVE_FINALIZER, EXEC_UPDATE, frole_gvr_roles),
  WRITE(FROLE_STAMP_ACCESS, EXEC_UPDATE, frole_gvr_accesses),
  [FROLE_DELETE_ACCESS] = { .kind = EXEC_DELETE,
                            .gvr = &frole_gvr_accesses,
                            .gone_ok = true },
  CALL(FROLE_CHECK_MANAGED),
  CALL(FROLE_PROBE_POLICY),
  CALL(FROLE_CLEAN_PROBES),
};

const struct exec_desc frole_desc = {
  .name = "awsfederatedrole",
  .cfg = OPCFG_CTRL_AWSFEDERATEDROLE,
  .kind = MGR_FEDERATED_ROLES,
  .api_version = "aws.managed.openshift.io/v1alpha1",
  .kind_name = "AWSFederatedRole",
  .watches = { { .kind = MGR_FEDERATED_ACCESSES, .map = access_to_role } },
  .wait_for = { MGR_CONFIGMAP, MGR_FEDERATED_ACCESSES, MGR_NKINDS },
  .kick = EXEC_KICK_CFG | EXEC_KICK_SECRET,
  .job_size = sizeof(struct frole_job),
  .obs_size = sizeof(struct frole_obs),
  .actions = actions,
  .nactions = sizeof(actions) / sizeof(actions[0]),
  .new_ctl = new_ctl,
  .free_ctl = free_ctl,
  .plan = plan,
  .job_cleanup = job_cleanup,
};
