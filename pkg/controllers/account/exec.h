/* Account controller: its descriptor for the step runner
 * (controllers/exec/runner.h) and the state behind it. Snapshot from the
 * caches, the observation table, the account watcher and the clock;
 * acct_plan; one step: Kubernetes writes, or AWS actions whose outcome is
 * stored as the key's observation before the key is requeued at once. Secret
 * material (the new IAM access key) never leaves the Secret object it is
 * written to: not in logs, events, observations or status. */
#ifndef PKG_CONTROLLERS_ACCOUNT_EXEC_H
#define PKG_CONTROLLERS_ACCOUNT_EXEC_H

#include <time.h>
#include <uv.h>

#include "controllers/account/plan.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/runner.h"

struct acct_exec_deps {
  struct exec_kio kio;
  struct store *accounts, *claims; /* borrowed caches; indexes added */
  struct exec_cfg *cfg;
  struct exec_aws *aws;
  struct exec_watcher *watcher; /* NULL: limit closed, no slot */
  struct exec_metrics *metrics; /* optional */
  const char *ns;               /* operator namespace */
  unsigned case_poll_s;         /* acct_snap.case_poll_s; 0 = upstream's */
  time_t (*now)(void *arg);     /* NULL = time(NULL) */
  void *now_arg;
};

/* The index counting accounts that opt in to regions (acct_opting_in);
 * acct_exec_new installs it, other readers may too (idempotent). */
int acct_index_install(struct store *accounts);
unsigned acct_count_opting_in(const struct store *accounts);

struct acct_exec;
struct acct_exec *acct_exec_new(const struct acct_exec_deps *d);
void acct_exec_free(struct acct_exec *e);

/* One pass for key "ns/name": 0 with *out filled, or CTRL_PENDING, after
 * which done(arg, key, res) runs exactly once. */
int acct_exec_reconcile(struct acct_exec *e, const char *key,
                        struct ctrl_result *out, exec_done_fn done, void *arg);

/* The key's last observation (borrowed) or NULL. */
const struct acct_obs *acct_exec_obs(const struct acct_exec *e,
                                     const char *key);

/* The Account controller for the runner: reconciles Accounts; an
 * AccountClaim maps to its spec.accountLink; waits for the ConfigMap and
 * Secret informers; re-run on ConfigMap, Secret and watcher changes. */
extern const struct exec_desc acct_desc;

#endif
