/* AccountClaim controller: upstream's claim metrics, fed by the
 * descriptor's hooks. */
#include <stdlib.h>

#include "cache/informer.h"
#include "cache/store.h"
#include "controllers/accountclaim/exec_int.h"
#include "controllers/common/obj.h"
#include "metrics/metrics.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

static struct met_family *named(struct met_family *f)
{
  met_family_const_label(f, "name", "aws-account-operator");
  return f;
}

/* Claim counts by state, at scrape time: one pass per scrape instead of
 * one per reconcile. */
static void count_claims(struct met_registry *r, void *arg)
{
  struct claim_exec *e = arg;
  size_t it = 0;
  const char *key;
  const json_t *o;

  (void)r;
  met_family_reset(e->crs);
  while (e->d.claims && store_next(e->d.claims, &it, &key, &o)) {
    const char *s = obj_str(o, "status.state");

    met_inc(e->crs, MET_LV(str_empty(s) ? "" : s));
  }
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
  met_add_collector(r, count_claims, e);
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

/* Every reconcile: the Pending age. */
void claim__metrics_seen(struct exec_job *b, int rc)
{
  struct claim_exec *e = b->ctl;

  if (!e->crs)
    return;
  (void)rc;
  if (str_eq(obj_str(b->obj, "status.state"), "Pending"))
    met_observe(obj_bool(b->obj, "spec.byoc") ? e->ccs_pending : e->pending,
                NULL, age(b->obj));
}

void claim__metrics_written(struct exec_job *b)
{
  struct claim_job *j = (struct claim_job *)b;

  if (!j->e->ready || j->st.action != CLAIM_UPDATE_STATUS)
    return;
  if (str_eq(obj_str(j->st.object_new, "status.state"), "Ready") &&
      !str_eq(obj_str(b->obj, "status.state"), "Ready"))
    met_observe(obj_bool(b->obj, "spec.byoc") ? j->e->ccs_ready : j->e->ready,
                NULL, age(b->obj));
}

void claim__metrics_action(struct exec_job *b)
{
  struct claim_job *j = (struct claim_job *)b;
  const struct claim_obs *o = &j->last;

  if (!j->e->cleanup)
    return;
  if (j->st.action == CLAIM_CLOSE_ACCOUNT && o->result == 0 &&
      !str_eq(o->aws_code, "AccountAlreadyClosedException"))
    met_inc(j->e->closed, NULL);
  if (j->st.action != CLAIM_CLEANUP_REGION ||
      (o->result == 0 && o->next_stage[0]))
    return; /* the region is not done yet */
  met_observe(j->e->cleanup, NULL, difftime(time(NULL), j->st.region_started));
  if (o->result < 0)
    met_inc(j->e->cleanup_fail, NULL);
}
