/* Every operator metric family the executors feed (upstream's names,
 * labels and buckets), registered once so no two executors register a name
 * twice (a duplicate family aborts). Every family carries the constant label
 * name="aws-account-operator".
 *
 * Account side:
 *   aws_account_operator_aws_accounts                  gauge (watcher)
 *   aws_account_operator_aws_account_limit             gauge (ConfigMap)
 *   aws_account_operator_account_crs{claimed,reused,state}      scrape-time
 *   aws_account_operator_account_ccs_crs{claimed,reused,state}  scrape-time
 *   aws_account_operator_aws_accounts_reusable{legal_id}        scrape-time
 *   aws_account_operator_iam_key_oldest_age_seconds             scrape-time
 *   aws_account_operator_iam_keys_over_max_age                  scrape-time
 *   aws_account_operator_account_ready_duration_seconds      60..36000
 *   aws_account_operator_account_ccs_ready_duration_seconds  5..600
 *   aws_account_operator_reconcile_duration_seconds
 *       {controller,error,error_source}                       0.001..20
 * The claim and pool families are registered by their controllers:
 * account_claim_crs, account_claim_*_duration_seconds,
 * account_reuse_cleanup_*, accounts_closed_total, the pool gauges.
 */
#ifndef PKG_CONTROLLERS_EXEC_METRICS_H
#define PKG_CONTROLLERS_EXEC_METRICS_H

#include <stdbool.h>

struct met_registry;
struct met_family;
struct opcfg;
struct store;
struct exec_cfg;

struct exec_metrics {
  struct met_family *aws_accounts;
  struct met_family *account_limit; /* ours: so alerts can compare */
  struct met_family *account_crs, *account_ccs_crs, *reusable;
  struct met_family *ready, *ccs_ready;
  struct met_family *reconcile;
  struct met_family *key_oldest, *keys_over_age;
  const struct store *accounts; /* for the scrape-time collector */
  /* Optional (borrowed): iam-key-max-age for keys_over_age. */
  const struct exec_cfg *cfg;
};

/* Register the families and the scrape-time collector over accounts
 * (borrowed store, may be NULL). NULL registry -> NULL. */
struct exec_metrics *exec_metrics_new(struct met_registry *r,
                                      const struct store *accounts);
void exec_metrics_free(struct exec_metrics *m);

/* Recount the Account gauges from the store (what the collector does). */
void exec_metrics_collect_accounts(struct exec_metrics *m);

/* One reconcile's duration; aws_code NULL/"" = no AWS error; err != 0
 * without aws_code -> error="{OTHER}", error_source="{OTHER}". */
void exec_metrics_reconcile(struct exec_metrics *m, const char *controller,
                            double seconds, int err, const char *aws_code);
/* The configured account-limit; 0 while none is configured (c NULL or
 * without one: creation is blocked then, and alerts on aws_accounts vs the
 * limit must not read 0 as a limit). */
void exec_metrics_account_limit(struct exec_metrics *m, const struct opcfg *c);
/* Creating -> Ready took seconds (ccs selects the CCS family). */
void exec_metrics_ready(struct exec_metrics *m, bool ccs, double seconds);

#endif
