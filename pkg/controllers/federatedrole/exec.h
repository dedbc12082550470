/* AWSFederatedRole controller: its descriptor for the step runner
 * (controllers/exec/runner.h) and the state behind it: the process-wide
 * list of AWS managed policy names (ListPolicies Scope=AWS, every page;
 * kept FROLE_MANAGED_TTL_S, shared by every role) and the one-time FedRAMP
 * log line. AWS calls use the management credentials. */
#ifndef PKG_CONTROLLERS_FEDERATEDROLE_EXEC_H
#define PKG_CONTROLLERS_FEDERATEDROLE_EXEC_H

#include <jansson.h>
#include <time.h>

#include "controllers/common/opcfg.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/runner.h"

struct aws_api;
struct aws_creds;
struct store;

#define FROLE_MANAGED_TTL_S 3600

extern const struct k8s_gvr frole_gvr_roles;
extern const struct k8s_gvr frole_gvr_accesses;

struct frole_exec_deps {
  struct exec_kio kio;
  struct store *accesses; /* borrowed cache; indexes added */
  const struct store *roles, *configmap;
  const struct opcfg *(*cfg_get)(void *arg); /* NULL: parse configmap */
  void *cfg_arg;
  struct aws_api *api;
  struct aws_creds *(*mgmt_creds)(void *arg); /* NULL result: not yet */
  void *creds_arg;
  time_t (*clock)(void *arg); /* NULL = time(NULL) */
  void *clock_arg;
};

struct frole_exec;
struct frole_exec *frole_exec_new(const struct frole_exec_deps *d);
void frole_exec_free(struct frole_exec *e);
/* One pass for key "ns/name" (runner semantics). */
int frole_exec_reconcile(struct frole_exec *e, const char *key,
                         struct ctrl_result *out, exec_done_fn done, void *arg);
/* ListPolicies Scope=AWS listings made so far (tests). */
unsigned frole_exec_managed_lists(const struct frole_exec *e);

/* The controller: reconciles AWSFederatedRoles and the role each changed
 * access names; waits for the ConfigMap; re-run on ConfigMap and
 * credentials changes. */
extern const struct exec_desc frole_desc;

#endif
