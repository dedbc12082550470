/* The operator metric families fed by the executors (metrics.h). */
#include <stdlib.h>

#include "cache/store.h"
#include "controllers/account/plan.h"
#include "controllers/common/obj.h"
#include "controllers/common/opcfg.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/metrics.h"
#include "metrics/metrics.h"
#include "util/str.h"

#define OPNAME "aws-account-operator"

static struct met_family *named(struct met_family *f)
{
  met_family_const_label(f, "name", OPNAME);
  return f;
}

static void collect(struct met_registry *r, void *arg)
{
  (void)r;
  exec_metrics_collect_accounts(arg);
}

struct exec_metrics *exec_metrics_new(struct met_registry *r,
                                      const struct store *accounts)
{
  static const char *const crs_l[] = { "claimed", "reused", "state", NULL };
  static const char *const legal_l[] = { "legal_id", NULL };
  static const char *const rec_l[] = { "controller", "error", "error_source",
                                       NULL };
  static const double ready_b[] = { 60,   180,  300,   600,   1200,  1800,
                                    3600, 7200, 14400, 18000, 28800, 36000 };
  static const double ccs_b[] = { 5, 10, 20, 30, 60, 120, 240, 300, 480, 600 };
  static const double rec_b[] = { 0.001, 0.01, 0.1, 1, 5, 10, 20 };
  struct exec_metrics *m;

  if (!r || !(m = calloc(1, sizeof(*m))))
    return NULL;
  m->accounts = accounts;
  m->aws_accounts = named(met_gauge(r, "aws_account_operator_aws_accounts",
                                    "Accounts in the AWS organization (ACTIVE "
                                    "plus being created)",
                                    NULL));
  m->account_limit =
      named(met_gauge(r, "aws_account_operator_aws_account_limit",
                      "The ConfigMap's account-limit (0 while unset)", NULL));
  m->account_crs = named(met_gauge(r, "aws_account_operator_account_crs",
                                   "Non-CCS Account CRs", crs_l));
  m->account_ccs_crs = named(met_gauge(
      r, "aws_account_operator_account_ccs_crs", "CCS Account CRs", crs_l));
  m->reusable = named(
      met_gauge(r, "aws_account_operator_aws_accounts_reusable",
                "Ready, unclaimed, reused accounts per legal entity", legal_l));
  m->ready = named(
      met_histogram(r, "aws_account_operator_account_ready_duration_seconds",
                    "Time for a non-CCS Account CR to become Ready", ready_b,
                    sizeof(ready_b) / sizeof(ready_b[0]), NULL));
  m->ccs_ready = named(met_histogram(
      r, "aws_account_operator_account_ccs_ready_duration_seconds",
      "Time for a CCS Account CR to become Ready", ccs_b,
      sizeof(ccs_b) / sizeof(ccs_b[0]), NULL));
  m->reconcile =
      named(met_histogram(r, "aws_account_operator_reconcile_duration_seconds",
                          "Duration of one reconcile", rec_b,
                          sizeof(rec_b) / sizeof(rec_b[0]), rec_l));
  m->key_oldest = named(met_gauge(
      r, "aws_account_operator_iam_key_oldest_age_seconds",
      "Age of the oldest IAM access key vended to a non-CCS account", NULL));
  m->keys_over_age = named(
      met_gauge(r, "aws_account_operator_iam_keys_over_max_age",
                "Vended IAM access keys older than iam-key-max-age", NULL));
  met_add_collector(r, collect, m);
  return m;
}

void exec_metrics_free(struct exec_metrics *m)
{
  free(m);
}

static void count_account(struct exec_metrics *m, const json_t *a)
{
  bool ccs = obj_bool(a, "spec.byoc");
  const char *claimed = obj_bool(a, "status.claimed") ? "true" : "false";
  const char *reused = obj_bool(a, "status.reused") ? "true" : "false";
  const char *state = obj_str0(a, "status.state");
  const char *legal = obj_str0(a, "spec.legalEntity.id");

  met_inc(ccs ? m->account_ccs_crs : m->account_crs,
          MET_LV(claimed, reused, state));
  if (!ccs && str_eq(state, "Ready") && !obj_bool(a, "status.claimed") &&
      obj_bool(a, "status.reused"))
    met_inc(m->reusable, MET_LV(legal));
}

/* Key ages from ACCT_ANN_KEY (when the operator vended or first saw the
 * key): no per-account label, only the oldest and the count past the
 * maximum age. */
static void key_ages(struct exec_metrics *m, time_t now)
{
  const struct opcfg *c = m->cfg ? exec_cfg_get(m->cfg) : NULL;
  long long max = c ? c->iam_key_max_age_s : 0;
  double oldest = 0, over = 0;
  size_t it = 0;
  const char *key;
  const json_t *a;
  time_t t;

  while (m->accounts && store_next(m->accounts, &it, &key, &a)) {
    if (obj_bool(a, "spec.byoc") || !acct_key_ann(a, NULL, 0, &t))
      continue;
    if (now - t > oldest)
      oldest = (double)(now - t);
    if (max > 0 && now - t >= max)
      over++;
  }
  met_set(m->key_oldest, NULL, oldest);
  met_set(m->keys_over_age, NULL, over);
}

void exec_metrics_collect_accounts(struct exec_metrics *m)
{
  size_t it = 0;
  const char *key;
  const json_t *a;

  if (!m)
    return;
  met_family_reset(m->account_crs);
  met_family_reset(m->account_ccs_crs);
  met_family_reset(m->reusable);
  while (m->accounts && store_next(m->accounts, &it, &key, &a))
    count_account(m, a);
  key_ages(m, time(NULL));
}

void exec_metrics_reconcile(struct exec_metrics *m, const char *controller,
                            double seconds, int err, const char *aws_code)
{
  const char *e = "", *src = "";

  if (!m)
    return;
  if (!str_empty(aws_code)) {
    e = aws_code;
    src = "aws";
  } else if (err) {
    e = src = "{OTHER}";
  }
  met_observe(m->reconcile, MET_LV(controller, e, src), seconds);
}

void exec_metrics_account_limit(struct exec_metrics *m, const struct opcfg *c)
{
  if (!m)
    return;
  met_set(m->account_limit, NULL,
          c && c->has_account_limit ? (double)c->account_limit : 0);
}

void exec_metrics_ready(struct exec_metrics *m, bool ccs, double seconds)
{
  if (m)
    met_observe(ccs ? m->ccs_ready : m->ready, NULL, seconds);
}
