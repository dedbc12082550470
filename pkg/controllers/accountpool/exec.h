/* AccountPool controller: its descriptor for the step runner
 * (controllers/exec/runner.h) and the state behind it: the pool gauges and
 * the expectations of the Accounts it created. Kubernetes I/O goes through
 * the exec_kio seam of controllers/exec/exec.h, so unit tests can replace
 * every write with a recording double. */
#ifndef PKG_CONTROLLERS_ACCOUNTPOOL_EXEC_H
#define PKG_CONTROLLERS_ACCOUNTPOOL_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "controllers/common/opcfg.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/runner.h"
#include "k8s/client.h"

struct store;
struct mgr;
struct k8s_recorder;
struct met_registry;

struct pool_exec_deps {
  struct exec_kio kio;
  const struct store *pools, *configmap;
  struct store *accounts; /* the executor adds its counting index */
  /* The parsed ConfigMap (e.g. exec_cfg_get); NULL = parse the configmap
   * store on every reconcile. */
  const struct opcfg *(*cfg_get)(void *arg);
  void *cfg_arg;
  exec_limit_fn limit;
  void *limit_arg;
  /* 6 random bytes for names_suffix; NULL = getrandom. */
  void (*rng)(void *arg, unsigned char out[6]);
  void *rng_arg;
  /* Wall clock in seconds; NULL = time(NULL). */
  time_t (*clock)(void *arg);
  void *clock_arg;
  struct met_registry *metrics; /* optional: pool gauges */
  const char *ns;               /* operator namespace */
};

struct pool_exec;
struct pool_exec *pool_exec_new(const struct pool_exec_deps *d);
void pool_exec_free(struct pool_exec *p);

/* One pass for key "ns/name": returns 0 with *out filled (done at once)
 * or CTRL_PENDING, after which done(arg, key, res) runs exactly once. */
int pool_exec_reconcile(struct pool_exec *p, const char *key,
                        struct ctrl_result *out, exec_done_fn done, void *arg);

/* The AccountPool controller for the runner: reconciles AccountPools and
 * the pools owning changed Accounts; waits for the ConfigMap informer;
 * re-run on ConfigMap and watcher changes. */
extern const struct exec_desc pool_desc;

#endif
