/* Account executor core: snapshot, plan, Kubernetes writes, observations,
 * registration (exec.h). AWS actions live in exec_aws.c, exec_iam.c,
 * exec_keysecret.c, exec_ec2.c and exec_quota.c. */
#include <stdlib.h>
#include <string.h>

#include "aws/core/creds.h"
#include "cache/informer.h"
#include "cache/store.h"
#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "controllers/exec/metrics.h"
#include "controllers/manager.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

#define MOD "account"

time_t acct__now(const struct acct_exec *e)
{
  return e->d.now ? e->d.now(e->d.now_arg) : time(NULL);
}

struct acct_exec *acct_exec_new(const struct acct_exec_deps *d)
{
  struct acct_exec *e = calloc(1, sizeof(*e));

  if (!e)
    return NULL;
  e->d = *d;
  str_copy(e->ns, d->ns ? d->ns : "aws-account-operator", sizeof(e->ns));
  e->d.ns = e->ns;
  e->obs = exec_obs_new(sizeof(struct acct_obs));
  if (!e->obs) {
    free(e);
    return NULL;
  }
  return e;
}

void acct_exec_free(struct acct_exec *e)
{
  if (!e)
    return;
  exec_obs_free(e->obs);
  free(e);
}

const struct acct_obs *acct_exec_obs(const struct acct_exec *e, const char *key)
{
  return exec_obs_get(e->obs, key);
}

static void maybe_closed(struct acct_exec *e)
{
  void (*cb)(void *) = e->close_cb;
  void *arg = e->close_arg;

  if (!e->closing || e->jobs)
    return;
  acct_exec_free(e);
  if (cb)
    cb(arg);
}

void acct_exec_close(struct acct_exec *e, void (*cb)(void *arg), void *arg)
{
  e->closing = true;
  e->close_cb = cb;
  e->close_arg = arg;
  e->d.cfg = NULL;
  e->d.watcher = NULL;
  maybe_closed(e);
}

static void job_free(struct acct_job *j)
{
  struct acct_exec *e = j->e;

  json_decref(j->account);
  json_decref(j->aux);
  json_decref(j->list);
  json_decref(j->inner);
  acct_step_cleanup(&j->st);
  if (j->creds)
    aws_creds_unref(j->creds);
  util_free_secret(j->secret_key);
  free(j);
  e->jobs--;
  maybe_closed(e);
}

void acct__job_finish(struct acct_job *j, const struct ctrl_result *r)
{
  const char *code = j->obs.result < 0 ? j->obs.aws_code : NULL;

  exec_metrics_reconcile(j->e->d.metrics, MOD, time_mono_s() - j->t0, r->err,
                         code);
  j->done(j->arg, j->key, r);
  job_free(j);
}

static void record_event(struct acct_job *j)
{
  const struct plan_event *ev = &j->st.event;
  const struct exec_kio *k = &j->e->d.kio;

  if (ev->reason[0] && k->event)
    k->event(k->arg, j->account, ev->type[0] ? ev->type : "Normal", ev->reason,
             ev->message);
}

bool acct__code_is(const struct aws_error *ae, const char *code)
{
  return ae && str_eq(ae->code, code);
}

void acct__aws_finish(struct acct_job *j, int err, const struct aws_error *ae)
{
  struct ctrl_result res = { .requeue_after_ms = 1 };

  j->obs.action = j->st.action;
  j->obs.result = err;
  str_copy(j->obs.region, j->st.region, sizeof(j->obs.region));
  if (j->st.action == ACCT_QUOTA)
    str_copy(j->obs.quota_code, j->st.quota_code, sizeof(j->obs.quota_code));
  if (err && ae)
    str_copy(j->obs.aws_code, ae->code, sizeof(j->obs.aws_code));
  j->obs.at = acct__now(j->e);
  j->obs.regions = j->aux;
  if (exec_obs_put(j->e->obs, j->key, &j->obs, json_incref(j->aux)))
    res.err = OP_ENOMEM;
  if (err)
    log_info(MOD, "%s: %s failed: %s%s%s", j->key,
             acct_action_name(j->st.action), op_strerror(err),
             ae && ae->code[0] ? " " : "", ae ? ae->code : "");
  else
    record_event(j);
  acct__job_finish(j, &res);
}

static void write_done(int err, json_t *obj, const struct op_error *det,
                       void *arg)
{
  struct acct_job *j = arg;
  struct ctrl_result res;

  (void)obj;
  exec_write_result(err, j->st.requeue_ms, &res);
  if (err)
    log_info(MOD, "%s: %s failed: %s", j->key, acct_action_name(j->st.action),
             det && det->msg[0] ? det->msg : op_strerror(err));
  else
    record_event(j);
  acct__job_finish(j, &res);
}

static void delete_after_update(int err, json_t *obj,
                                const struct op_error *det, void *arg)
{
  struct acct_job *j = arg;
  const struct exec_kio *k = &j->e->d.kio;
  int rc;

  if (err)
    return write_done(err, obj, det, arg);
  rc = k->del(k->arg, &exec_gvr_accounts, obj_namespace(j->account),
              obj_name(j->account), write_done, j);
  if (rc)
    write_done(rc, NULL, NULL, j);
}

static int start_write(struct acct_job *j)
{
  const struct exec_kio *k = &j->e->d.kio;
  json_t *o = j->st.object_new;

  switch (j->st.action) {
  case ACCT_UPDATE:
  case ACCT_REMOVE_FINALIZER:
    return k->update(k->arg, &exec_gvr_accounts, o, write_done, j);
  case ACCT_UPDATE_STATUS:
    return k->update_status(k->arg, &exec_gvr_accounts, o, write_done, j);
  case ACCT_DELETE:
    return k->update(k->arg, &exec_gvr_accounts, o, delete_after_update, j);
  case ACCT_CLAIM_UPDATE_STATUS:
    return k->update_status(k->arg, &exec_gvr_claims, o, write_done, j);
  default:
    return OP_EINVAL;
  }
}

static bool is_write(enum acct_action a)
{
  return a == ACCT_UPDATE || a == ACCT_UPDATE_STATUS || a == ACCT_DELETE ||
         a == ACCT_REMOVE_FINALIZER || a == ACCT_CLAIM_UPDATE_STATUS;
}

/* Ready transitions feed the ready-duration histogram. */
static void observe_ready(struct acct_job *j)
{
  const json_t *n = j->st.object_new;
  time_t created;

  if (j->st.action != ACCT_UPDATE_STATUS ||
      !str_eq(obj_str(n, "status.state"), ACCT_ST_READY) ||
      str_eq(obj_str(j->account, "status.state"), ACCT_ST_READY) ||
      obj_bool(j->account, "status.reused") ||
      obj_creation_time(j->account, &created))
    return;
  exec_metrics_ready(j->e->d.metrics, obj_bool(n, "spec.byoc"),
                     (double)(acct__now(j->e) - created));
}

static int start_step(struct acct_job *j)
{
  struct exec_aws *aws = j->e->d.aws;

  if (is_write(j->st.action)) {
    observe_ready(j);
    return start_write(j);
  }
  j->mgmt_t.creds = aws ? exec_aws_mgmt(aws) : NULL;
  j->mgmt_t.controller = MOD;
  if (!j->mgmt_t.creds) {
    log_warn(MOD,
             "%s: %s waits for the AWS credentials Secret %s in namespace %s",
             j->key, acct_action_name(j->st.action), MGR_SECRET_NAME, j->e->ns);
    return OP_ENOTFOUND;
  }
  return acct__exec_aws(j);
}

static unsigned count_opting_in(const struct store *s)
{
  size_t it = 0;
  const char *k;
  const json_t *a;
  unsigned n = 0;

  while (s && store_next(s, &it, &k, &a))
    if (str_eq(obj_str(a, "status.state"), ACCT_ST_OPTING_IN))
      n++;
  return n;
}

static const json_t *linked_claim(const struct acct_exec *e, const json_t *a)
{
  const char *n = obj_str(a, "spec.claimLink");
  const char *ns = obj_str(a, "spec.claimLinkNamespace");
  char key[STORE_KEY_MAX];

  if (!e->d.claims || str_empty(n) || str_empty(ns) ||
      str_fmt(key, sizeof(key), "%s/%s", ns, n) < 0)
    return NULL;
  return store_get(e->d.claims, key);
}

static int snap_plan(struct acct_job *j)
{
  struct acct_exec *e = j->e;
  struct acct_snap sn = { 0 };

  sn.account = j->account;
  sn.claim = linked_claim(e, j->account);
  sn.cfg = exec_cfg_get(e->d.cfg);
  sn.now = acct__now(e);
  sn.limit_allows = e->d.watcher && exec_watcher_limit_allows(e->d.watcher);
  sn.create_slot_free =
      e->d.watcher && exec_watcher_create_slot_free(e->d.watcher);
  sn.iam_secret_exists = j->secret_exists;
  sn.accounts_opting_in = count_opting_in(e->d.accounts);
  sn.case_poll_s = e->d.case_poll_s;
  sn.obs = exec_obs_get(e->obs, j->key);
  return acct_plan(&sn, &j->st);
}

static int plan_run(struct acct_job *j, struct ctrl_result *out)
{
  int rc = snap_plan(j);

  if (rc < 0)
    return rc;
  log_debug(MOD, "%s: %s (%s)", j->key, acct_action_name(j->st.action),
            j->st.why);
  if (j->st.action == ACCT_DONE) {
    *out = (struct ctrl_result){ .requeue_after_ms = j->st.requeue_ms };
    return 0;
  }
  rc = start_step(j);
  return rc < 0 ? rc : CTRL_PENDING;
}

static void secret_checked(int err, json_t *obj, const struct op_error *det,
                           void *arg)
{
  struct acct_job *j = arg;
  struct ctrl_result res = { 0 };
  int rc;

  (void)obj;
  (void)det;
  if (err && err != OP_ENOTFOUND) {
    res.err = err;
    return acct__job_finish(j, &res);
  }
  j->secret_exists = err == 0;
  rc = plan_run(j, &res);
  if (rc == CTRL_PENDING)
    return;
  if (rc < 0)
    res.err = rc;
  acct__job_finish(j, &res);
}

static struct acct_job *job_new(struct acct_exec *e, const char *key,
                                const json_t *a, exec_done_fn done, void *arg)
{
  struct acct_job *j = calloc(1, sizeof(*j));

  if (!j)
    return NULL;
  e->jobs++;
  j->e = e;
  j->account = obj_copy(a);
  /* list items may lack them; events need both */
  if (!obj_str(j->account, "apiVersion"))
    obj_set_str(j->account, "apiVersion", "aws.managed.openshift.io/v1alpha1");
  if (!obj_str(j->account, "kind"))
    obj_set_str(j->account, "kind", "Account");
  j->done = done;
  j->arg = arg;
  j->t0 = time_mono_s();
  acct_step_init(&j->st);
  str_copy(j->key, key, sizeof(j->key));
  return j;
}

/* The IAM Secret name: "<account name>-secret", lowercased. */
static void secret_name(const json_t *a, char *out, size_t n)
{
  if (str_fmt(out, n, "%s-secret", obj_name(a)) < 0)
    out[0] = 0;
  str_lower(out);
}

int acct_exec_reconcile(struct acct_exec *e, const char *key,
                        struct ctrl_result *out, exec_done_fn done, void *arg)
{
  const json_t *a = store_get(e->d.accounts, key);
  struct acct_job *j;
  char name[300];
  int rc;

  *out = (struct ctrl_result){ 0 };
  if (!a) {
    exec_obs_drop(e->obs, key);
    if (e->d.watcher)
      exec_watcher_create_end(e->d.watcher, key);
    return 0;
  }
  j = job_new(e, key, a, done, arg);
  if (!j)
    return OP_ENOMEM;
  secret_name(a, name, sizeof(name));
  rc = e->d.kio.get(e->d.kio.arg, &exec_gvr_secrets, obj_namespace(a), name,
                    secret_checked, j);
  if (rc == 0)
    return CTRL_PENDING;
  job_free(j);
  return rc;
}
