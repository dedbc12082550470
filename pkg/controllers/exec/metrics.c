/* The operator metric families fed by the executors (metrics.h). */
#include <stdlib.h>
#include <string.h>

#include "cache/informer.h"
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
  exec_metrics_key_ages(arg, time(NULL));
}

struct exec_metrics *exec_metrics_new(struct met_registry *r)
{
  static const char *const crs_l[] = { "claimed", "reused", "state", NULL };
  static const char *const legal_l[] = { "legal_id", NULL };
  static const char *const state_l[] = { "state", NULL };
  static const char *const rec_l[] = { "controller", "error", "error_source",
                                       NULL };
  static const double ready_b[] = { 60,   180,  300,   600,   1200,  1800,
                                    3600, 7200, 14400, 18000, 28800, 36000 };
  static const double ccs_b[] = { 5, 10, 20, 30, 60, 120, 240, 300, 480, 600 };
  static const double rec_b[] = { 0.001, 0.01, 0.1, 1, 5, 10, 20 };
  struct exec_metrics *m;

  if (!r || !(m = calloc(1, sizeof(*m))))
    return NULL;
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
  m->claim_crs = named(met_gauge(r, "aws_account_operator_account_claim_crs",
                                 "AccountClaim CRs by state", state_l));
  met_add_collector(r, collect, m);
  return m;
}

void exec_metrics_free(struct exec_metrics *m)
{
  if (!m)
    return;
  exec_metrics_unfollow(m);
  free(m->key_times);
  free(m);
}

/* First index whose time is > t (upper bound) in the ascending array. */
static size_t keys_after(const struct exec_metrics *m, long long t)
{
  size_t lo = 0, hi = m->nkeys;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (m->key_times[mid] <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Insert (delta > 0) or remove one vending time, keeping the order. The
 * memmove is at most 80 KB at 10,000 accounts, and only on a key change. */
static void key_time(struct exec_metrics *m, long long t, double delta)
{
  size_t i = keys_after(m, t);
  long long *grown;

  if (delta < 0) {
    if (i == 0 || m->key_times[i - 1] != t)
      return; /* never counted (e.g. added before an allocation failure) */
    memmove(m->key_times + i - 1, m->key_times + i,
            (m->nkeys - i) * sizeof(*m->key_times));
    m->nkeys--;
    return;
  }
  if (m->nkeys == m->cap_keys) {
    size_t cap = m->cap_keys ? 2 * m->cap_keys : 64;

    if (!(grown = realloc(m->key_times, cap * sizeof(*grown))))
      return; /* the gauge undercounts rather than the daemon failing */
    m->key_times = grown;
    m->cap_keys = cap;
  }
  memmove(m->key_times + i + 1, m->key_times + i,
          (m->nkeys - i) * sizeof(*m->key_times));
  m->key_times[i] = t;
  m->nkeys++;
}

static void count_account(struct exec_metrics *m, const json_t *a, double d)
{
  bool ccs = obj_bool(a, "spec.byoc");
  const char *claimed = obj_bool(a, "status.claimed") ? "true" : "false";
  const char *reused = obj_bool(a, "status.reused") ? "true" : "false";
  const char *state = obj_str0(a, "status.state");
  const char *legal = obj_str0(a, "spec.legalEntity.id");
  time_t t;

  met_count(ccs ? m->account_ccs_crs : m->account_crs,
            MET_LV(claimed, reused, state), d);
  if (!ccs && str_eq(state, "Ready") && !obj_bool(a, "status.claimed") &&
      obj_bool(a, "status.reused"))
    met_count(m->reusable, MET_LV(legal), d);
  if (!ccs && acct_key_ann(a, NULL, 0, &t))
    key_time(m, (long long)t, d);
}

void exec_metrics_account(struct exec_metrics *m, const json_t *old_obj,
                          const json_t *new_obj)
{
  if (!m)
    return;
  if (old_obj)
    count_account(m, old_obj, -1);
  if (new_obj)
    count_account(m, new_obj, 1);
}

/* Key ages (ACCT_ANN_KEY: when the operator vended or first saw the key):
 * no per-account label, only the oldest and the count past the maximum
 * age. */
void exec_metrics_key_ages(struct exec_metrics *m, time_t now)
{
  const struct opcfg *c;
  long long max;

  if (!m)
    return;
  c = m->cfg ? exec_cfg_get(m->cfg) : NULL;
  max = c ? c->iam_key_max_age_s : 0;
  met_set(m->key_oldest, NULL,
          m->nkeys && now > m->key_times[0] ? (double)(now - m->key_times[0])
                                            : 0);
  met_set(m->keys_over_age, NULL,
          max > 0 ? (double)keys_after(m, (long long)now - max) : 0);
}

void exec_metrics_claim(struct exec_metrics *m, const json_t *old_obj,
                        const json_t *new_obj)
{
  if (!m)
    return;
  if (old_obj)
    met_count(m->claim_crs, MET_LV(obj_str0(old_obj, "status.state")), -1);
  if (new_obj)
    met_count(m->claim_crs, MET_LV(obj_str0(new_obj, "status.state")), 1);
}

/* Informer handlers; arg is the follower, which names the counter. */
static void f_add(const json_t *o, void *arg)
{
  struct exec_metrics_follower *f = arg;

  f->count(f->m, NULL, o);
}

static void f_update(const json_t *old_obj, const json_t *new_obj, void *arg)
{
  struct exec_metrics_follower *f = arg;

  f->count(f->m, old_obj, new_obj);
}

static void f_delete(const json_t *o, bool unknown, void *arg)
{
  struct exec_metrics_follower *f = arg;

  (void)unknown;
  f->count(f->m, o, NULL);
}

static int follow(struct exec_metrics *m, struct exec_metrics_follower *f,
                  struct inf *i, exec_metrics_count_fn count)
{
  struct inf_handler h = { f_add, f_update, f_delete, NULL, f };
  int rc;

  f->m = m;
  f->count = count;
  if (!i || (rc = inf_add_handler(i, &h)) <= 0)
    return i ? rc : 0;
  f->inf = i;
  f->id = rc;
  return 0;
}

static void unfollow(struct exec_metrics_follower *f)
{
  if (f->inf && f->id > 0)
    inf_remove_handler(f->inf, f->id);
  f->inf = NULL;
  f->id = 0;
}

int exec_metrics_follow(struct exec_metrics *m, struct inf *accounts,
                        struct inf *claims)
{
  int rc;

  if (!m)
    return 0;
  rc = follow(m, &m->accounts_f, accounts, exec_metrics_account);
  return rc ? rc : follow(m, &m->claims_f, claims, exec_metrics_claim);
}

void exec_metrics_unfollow(struct exec_metrics *m)
{
  if (!m)
    return;
  unfollow(&m->accounts_f);
  unfollow(&m->claims_f);
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
