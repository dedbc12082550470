/* Every operator metric family the executors feed (upstream's names,
 * labels and buckets), registered once so no two executors register a name
 * twice (a duplicate family aborts). Every family carries the constant label
 * name="aws-account-operator".
 *
 * Account side:
 *   aws_account_operator_aws_accounts                  gauge (watcher)
 *   aws_account_operator_aws_account_limit             gauge (ConfigMap)
 *   aws_account_operator_account_crs{claimed,reused,state}      events
 *   aws_account_operator_account_ccs_crs{claimed,reused,state}  events
 *   aws_account_operator_aws_accounts_reusable{legal_id}        events
 *   aws_account_operator_iam_key_oldest_age_seconds             scrape-time
 *   aws_account_operator_iam_keys_over_max_age                  scrape-time
 * ("events": counted from the Account informer's add/update/delete, so a
 * scrape costs the same at 10 and at 10,000 Accounts; the key ages come
 * from a sorted array of the vending times, kept the same way.)
 *   aws_account_operator_account_ready_duration_seconds      60..36000
 *   aws_account_operator_account_ccs_ready_duration_seconds  5..600
 *   aws_account_operator_reconcile_duration_seconds
 *       {controller,error,error_source}                       0.001..20
 * Claim side, here for the same reason:
 *   aws_account_operator_account_claim_crs{state}               events
 * The other claim and pool families are registered by their controllers:
 * account_claim_*_duration_seconds,
 * account_reuse_cleanup_*, accounts_closed_total, the pool gauges.
 */
#ifndef PKG_CONTROLLERS_EXEC_METRICS_H
#define PKG_CONTROLLERS_EXEC_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

struct met_registry;
struct met_family;
struct opcfg;
struct exec_cfg;
struct inf;

struct exec_metrics;
typedef void (*exec_metrics_count_fn)(struct exec_metrics *m,
                                      const json_t *old_obj,
                                      const json_t *new_obj);
struct exec_metrics_follower {
  struct exec_metrics *m;
  exec_metrics_count_fn count;
  struct inf *inf;
  int id;
};

struct exec_metrics {
  struct met_family *aws_accounts;
  struct met_family *account_limit; /* ours: so alerts can compare */
  struct met_family *account_crs, *account_ccs_crs, *reusable;
  struct met_family *ready, *ccs_ready;
  struct met_family *reconcile;
  struct met_family *key_oldest, *keys_over_age;
  struct met_family *claim_crs;
  /* Optional (borrowed): iam-key-max-age for keys_over_age. */
  const struct exec_cfg *cfg;
  /* Vending times of the plain accounts' keys, ascending. */
  long long *key_times;
  size_t nkeys, cap_keys;
  struct exec_metrics_follower accounts_f, claims_f;
};

/* Register the families and the scrape-time collector. NULL registry ->
 * NULL. */
struct exec_metrics *exec_metrics_new(struct met_registry *r);
void exec_metrics_free(struct exec_metrics *m);

/* Count the Accounts and AccountClaims of these informers (either may be
 * NULL) from their events (current objects are replayed at once);
 * unfollow before the informers go. */
int exec_metrics_follow(struct exec_metrics *m, struct inf *accounts,
                        struct inf *claims);
void exec_metrics_unfollow(struct exec_metrics *m);
/* One Account (AccountClaim) change, as the informer reports it: old NULL
 * = added, new NULL = deleted. */
void exec_metrics_account(struct exec_metrics *m, const json_t *old_obj,
                          const json_t *new_obj);
void exec_metrics_claim(struct exec_metrics *m, const json_t *old_obj,
                        const json_t *new_obj);
/* Set the key-age gauges for now (what the scrape-time collector does). */
void exec_metrics_key_ages(struct exec_metrics *m, time_t now);

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
