/* AWSFederatedAccountAccess controller: its descriptor for the step
 * runner (controllers/exec/runner.h) and the state behind it. Before
 * planning, the access's credential Secret (only in the access's own
 * namespace) is read into a static credentials handle: the keys live only
 * in that handle, never in logs, events or observations. The plan
 * (plan.h) gets the access, its AWSFederatedRole from the cache, the
 * ConfigMap and the key's last observation; one step: a Kubernetes write,
 * the scan of the target account, or one IAM call. */
#ifndef PKG_CONTROLLERS_FEDERATEDACCESS_EXEC_H
#define PKG_CONTROLLERS_FEDERATEDACCESS_EXEC_H

#include <time.h>

#include "aws/api.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/runner.h"
#include "controllers/federatedaccess/plan.h"

struct fa_exec_deps {
  struct exec_kio kio;
  struct store *accesses; /* borrowed cache; an index added */
  const struct store *roles, *configmap;
  /* The parsed ConfigMap; NULL = parse the configmap store each time. */
  const struct opcfg *(*cfg_get)(void *arg);
  void *cfg_arg;
  struct aws_api *api; /* borrowed */
  /* Credentials of OrganizationAccountAccessRole in account_id from the
   * operator's (borrowed; the deletion fallback). */
  int (*org_role)(void *arg, const char *account_id, struct aws_creds **out);
  void *org_role_arg;
  time_t (*clock)(void *arg); /* NULL = time(NULL) */
  void *clock_arg;
};

struct fa_exec;
struct fa_exec *fa_exec_new(const struct fa_exec_deps *d);
void fa_exec_free(struct fa_exec *e);
/* One pass for key "ns/name" (runner.h's exec_runner_reconcile). */
int fa_exec_reconcile(struct fa_exec *e, const char *key,
                      struct ctrl_result *out, exec_done_fn done, void *arg);
const struct fa_obs *fa_exec_obs(const struct fa_exec *e, const char *key);

/* Reconciles AWSFederatedAccountAccesses; a changed AWSFederatedRole maps
 * to the accesses that reference it; waits for the ConfigMap and the
 * roles' informer. */
extern const struct exec_desc fa_desc;

#endif
