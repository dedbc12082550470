/* AccountClaim executor: the claim metrics of upstream-behaviour.md
 * section 4, and the controller registration. */
#include "util/util.h"
#include <stdlib.h>

#include "cache/informer.h"
#include "cache/store.h"
#include "controllers/accountclaim/exec_int.h"
#include "controllers/common/obj.h"
#include "controllers/manager.h"
#include "metrics/metrics.h"
#include "util/err.h"
#include "util/str.h"

static struct met_family *named(struct met_family *f)
{
  met_family_const_label(f, "name", "aws-account-operator");
  return f;
}

void claim__metrics_init(struct claim_exec *e, struct met_registry *r)
{
  static const double ready_b[] = { 1, 5, 10, 20, 30, 45, 60, 120 };
  static const double pending_b[] = { 60, 120, 240, 300, 600 };
  static const double cleanup_b[] = { 1, 3, 5, 10, 15, 20, 30 };
  static const double ccs_b[] = { 5, 10, 20, 30, 60, 120, 240, 300, 480, 600 };
  static const char *const st[] = { "state", NULL };

  e->crs = named(met_gauge(r, "aws_account_operator_account_claim_crs",
                           "AccountClaim CRs by state", st));
  e->ready = named(met_histogram(
      r, "aws_account_operator_account_claim_ready_duration_seconds",
      "Time from creation to Claimed (non-CCS)", ready_b,
      UTIL_ARRAY_SIZE(ready_b), NULL));
  e->pending = named(met_histogram(
      r, "aws_account_operator_account_claim_pending_duration_seconds",
      "Age of Pending claims, observed each reconcile", pending_b,
      UTIL_ARRAY_SIZE(pending_b), NULL));
  e->cleanup = named(met_histogram(
      r, "aws_account_operator_account_reuse_cleanup_duration_seconds",
      "Reuse cleanup time of one region", cleanup_b, UTIL_ARRAY_SIZE(cleanup_b),
      NULL));
  e->ccs_ready = named(met_histogram(
      r, "aws_account_operator_account_claim_ccs_ready_duration_seconds",
      "Time from creation to Claimed (CCS)", ccs_b, UTIL_ARRAY_SIZE(ccs_b),
      NULL));
  e->ccs_pending = named(met_histogram(
      r, "aws_account_operator_account_claim_ccs_pending_duration_seconds",
      "Age of Pending CCS claims, observed each reconcile", pending_b,
      UTIL_ARRAY_SIZE(pending_b), NULL));
  e->closed = named(met_counter(r, "aws_account_operator_accounts_closed_total",
                                "Accounts closed via CloseAccount", NULL));
  e->cleanup_fail = named(met_counter(
      r, "aws_account_operator_account_reuse_cleanup_failures_total",
      "Reuse cleanup failures", NULL));
}

static double age(const json_t *o)
{
  time_t t;

  if (obj_creation_time(o, &t) < 0)
    return 0;
  return difftime(time(NULL), t);
}

/* Every reconcile: claim counts by state, Pending age. */
void claim__metrics_seen(struct claim_job *j)
{
  struct claim_exec *e = j->e;
  size_t it = 0;
  const char *key;
  const json_t *o;

  if (!e->crs)
    return;
  met_family_reset(e->crs);
  while (store_next(e->d.claims, &it, &key, &o)) {
    const char *s = obj_str(o, "status.state");

    met_inc(e->crs, MET_LV(str_empty(s) ? "" : s));
  }
  if (str_eq(obj_str(j->claim, "status.state"), "Pending"))
    met_observe(e->pending, NULL, age(j->claim));
}

void claim__metrics_written(struct claim_job *j)
{
  if (!j->e->ready || j->st.action != CLAIM_UPDATE_STATUS)
    return;
  if (str_eq(obj_str(j->st.object_new, "status.state"), "Ready") &&
      !str_eq(obj_str(j->claim, "status.state"), "Ready"))
    met_observe(j->e->ready, NULL, age(j->claim));
}

void claim__metrics_action(struct claim_job *j, const struct claim_obs *o)
{
  if (!j->e->cleanup)
    return;
  if (j->st.action == CLAIM_CLOSE_ACCOUNT && o->result == 0 &&
      !str_eq(o->aws_code, "AccountAlreadyClosedException"))
    met_inc(j->e->closed, NULL);
  if (j->st.action != CLAIM_CLEANUP_REGION)
    return;
  met_observe(j->e->cleanup, NULL, difftime(time(NULL), j->started));
  if (o->result < 0)
    met_inc(j->e->cleanup_fail, NULL);
}

/* ---- registration ---------------------------------------------------------
 */

static void ctrl_done(void *arg, const char *key, const struct ctrl_result *r)
{
  ctrl_complete(arg, key, r);
}

static int claim_reconcile(struct ctrl_ctx *ctx, const char *key,
                           struct ctrl_result *out)
{
  return claim_exec_reconcile(ctrl_ctx_data(ctx), key, out, ctrl_done, ctx);
}

/* A changed Account may satisfy a Pending claim: enqueue the claims that
 * have no account yet, and the claims linked to it by spec.accountLink
 * (the Account's claimLink is cleared before the claim lets go of it). */
static void account_to_waiting(const json_t *a, struct ctrl_keys *out,
                               void *arg)
{
  struct claim_exec *e = arg;
  size_t it = 0;
  const char *key;
  const json_t *c;

  while (store_next(e->d.claims, &it, &key, &c)) {
    const char *link = obj_str(c, "spec.accountLink");

    if (str_empty(link) || str_eq(link, obj_name(a)))
      ctrl_keys_add(out, key);
  }
}

/* An Account maps to the claim it is linked to. */
static void account_to_claim(const json_t *a, struct ctrl_keys *out, void *arg)
{
  const char *n = obj_str(a, "spec.claimLink");
  const char *ns = obj_str(a, "spec.claimLinkNamespace");
  char key[256];

  account_to_waiting(a, out, arg);
  if (str_empty(n) || str_empty(ns))
    return;
  if (str_fmt(key, sizeof(key), "%s/%s", ns, n) >= 0)
    ctrl_keys_add(out, key);
}

int claim_exec_register(struct mgr *m, uv_loop_t *loop, struct claim_exec *e,
                        unsigned max_concurrent, struct ctrl_metrics *cm,
                        struct wq_metrics *wm)
{
  struct ctrl_opts o = { .name = "accountclaim",
                         .reconcile = claim_reconcile,
                         .data = e,
                         .max_concurrent = max_concurrent,
                         .metrics = cm,
                         .wq_metrics = wm };
  struct ctrl *c = ctrl_new(loop, &o);
  struct inf *accts = mgr_informer(m, MGR_ACCOUNTS);
  int rc;

  if (!c)
    return OP_ENOMEM;
  rc = ctrl_watch(c, mgr_informer(m, MGR_ACCOUNT_CLAIMS));
  if (!rc)
    rc = ctrl_watch_map(c, accts, account_to_claim, e);
  if (!rc)
    rc = ctrl_wait_for(c, mgr_informer(m, MGR_CONFIGMAP));
  if (!rc)
    rc = mgr_add_controller(m, c);
  return rc;
}
