/* Account controller executor (PLANS.md): snapshot from the caches, the
 * observation table, the account watcher and the clock; acct_plan; one
 * step: Kubernetes writes, or AWS actions whose outcome is stored as the
 * key's observation before the key is requeued at once. Secret material
 * (the new IAM access key) never leaves the Secret object it is written
 * to: not in logs, events, observations or status. */
#ifndef PKG_CONTROLLERS_ACCOUNT_EXEC_H
#define PKG_CONTROLLERS_ACCOUNT_EXEC_H

#include <time.h>
#include <uv.h>

#include "controllers/account/plan.h"
#include "controllers/exec/exec.h"

struct acct_exec_deps {
  struct exec_kio kio;
  const struct store *accounts, *claims; /* borrowed caches */
  struct exec_cfg *cfg;
  struct exec_aws *aws;
  struct exec_watcher *watcher; /* NULL: limit closed, no slot */
  struct exec_metrics *metrics; /* optional */
  const char *ns;               /* operator namespace */
  unsigned case_poll_s;         /* acct_snap.case_poll_s; 0 = upstream's */
  time_t (*now)(void *arg);     /* NULL = time(NULL) */
  void *now_arg;
};

struct acct_exec;
struct acct_exec *acct_exec_new(const struct acct_exec_deps *d);
void acct_exec_free(struct acct_exec *e);
/* Shutdown: stop reading cfg/watcher, free once no job is in flight, then
 * cb(arg) (may run before return). */
void acct_exec_close(struct acct_exec *e, void (*cb)(void *arg), void *arg);

/* One pass for key "ns/name": 0 with *out filled, or CTRL_PENDING, after
 * which done(arg, key, res) runs exactly once. */
int acct_exec_reconcile(struct acct_exec *e, const char *key,
                        struct ctrl_result *out, exec_done_fn done, void *arg);

/* The key's last observation (borrowed) or NULL. */
const struct acct_obs *acct_exec_obs(const struct acct_exec *e,
                                     const char *key);

/* Register with the manager: watches Accounts, and AccountClaims mapped
 * to their spec.accountLink; waits for the ConfigMap and Secret
 * informers. */
int acct_exec_register(struct mgr *m, uv_loop_t *loop, struct acct_exec *e,
                       unsigned max_concurrent, struct ctrl_metrics *cm,
                       struct wq_metrics *wm);

/* Enqueue every Account (the watcher's verdict changed). */
void acct_exec_kick_all(void *arg);

#endif
