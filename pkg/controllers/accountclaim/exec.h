/* AccountClaim controller: its descriptor for the step runner
 * (controllers/exec/runner.h) and the state behind it. Snapshot (claim,
 * Accounts, the credentials Secret's existence by GET, ConfigMap, the key's
 * last observation), claim_plan, one step: Kubernetes writes, Organizations OU
 * placement, credentials Secret copy, per-region cleanup in the claimed
 * account, CloseAccount. AWS outcomes go to the executor's observation
 * table; secret material never leaves the Secret objects. */
#ifndef PKG_CONTROLLERS_ACCOUNTCLAIM_EXEC_H
#define PKG_CONTROLLERS_ACCOUNTCLAIM_EXEC_H

#include <uv.h>

#include "aws/api.h"
#include "controllers/accountclaim/plan.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/runner.h"

struct claim_exec_deps {
  struct exec_kio kio;
  struct store *claims, *accounts; /* borrowed caches; indexes added */
  const struct store *configmap;
  /* AccountPools (optional, synced): a claim naming a missing one gets a
   * condition instead of waiting silently. */
  const struct store *pools;
  /* The parsed ConfigMap (e.g. exec_cfg_get); NULL = parse the configmap
   * store on every reconcile. */
  const struct opcfg *(*cfg_get)(void *arg);
  void *cfg_arg;
  struct aws_api *api; /* borrowed */
  /* The management credentials (borrowed, NULL while the operator Secret
   * is missing: AWS steps then fail with OP_ENOTFOUND and are retried). */
  struct aws_creds *(*mgmt_creds)(void *arg);
  /* Optional: the process-wide session in a member account (borrowed;
   * exec_aws_account_creds), so a release reuses the Account controller's
   * AssumeRole; NULL = CLEANUP_REGION assumes the role itself. */
  int (*account_creds)(void *arg, const char *account_id,
                       struct aws_creds **out);
  void *creds_arg;
  struct met_registry *metrics; /* optional: claim metrics */
  const char *ns;               /* operator namespace (Accounts, Secrets) */
  /* A claim's steps follow one another from their callbacks (runner.h,
   * chain): the operator sets it; a test may step one pass at a time. */
  bool chain;
};

struct claim_exec;
struct claim_exec *claim_exec_new(const struct claim_exec_deps *d);
void claim_exec_free(struct claim_exec *e);

/* One pass for key "ns/name": 0 with *out filled, or CTRL_PENDING, after
 * which done(arg, key, res) runs exactly once. */
int claim_exec_reconcile(struct claim_exec *e, const char *key,
                         struct ctrl_result *out, exec_done_fn done, void *arg);

/* The key's last observation (borrowed) or NULL. */
const struct claim_obs *claim_exec_obs(const struct claim_exec *e,
                                       const char *key);
/* Its read-your-writes table (exec/written.h), borrowed. */
struct exec_written *claim_exec_written(const struct claim_exec *e);

/* The AccountClaim controller for the runner: reconciles AccountClaims;
 * an Account maps to the claim it links and to the claims waiting for an
 * account; waits for the ConfigMap informer. */
extern const struct exec_desc claim_desc;

/* ---- internal to the executor files ---------------------------------- */

typedef void (*claim_aws_done)(void *arg, const struct claim_obs *o);

/* Run step's AWS action (ENSURE_OU, MOVE_ACCOUNT, CLOSE_ACCOUNT); done() gets
 * the observation (at is set by the caller). Returns 0 (done will run) or a
 * negative op_err. */
int claim__exec_aws(struct aws_api *api, struct aws_creds *mgmt,
                    const struct claim_step *st, claim_aws_done done,
                    void *arg);
/* CLAIM_CLEANUP_REGION with d's api and sessions (exec_cleanup.c). */
int claim__exec_cleanup(const struct claim_exec_deps *d, struct aws_creds *mgmt,
                        const struct claim_step *st, claim_aws_done done,
                        void *arg);

#endif
