/* AccountPool executor (PLANS.md "The loop, per key"). Kubernetes I/O goes
 * through the exec_kio seam of controllers/exec/exec.h, so unit tests can
 * replace every write with a recording double.
 *
 * The executors never sleep: Kubernetes writes complete through the
 * callback, then the step's event is recorded and the result handed to
 * done(). On OP_ECONFLICT the key is requeued at once (1 ms). */
#ifndef PKG_CONTROLLERS_ACCOUNTPOOL_EXEC_H
#define PKG_CONTROLLERS_ACCOUNTPOOL_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "controllers/common/opcfg.h"
#include "controllers/exec/exec.h"
#include "controllers/manager.h"
#include "controllers/runtime/ctrl.h"
#include "k8s/client.h"

struct store;
struct mgr;
struct k8s_recorder;
struct met_registry;

struct pool_exec_deps {
  struct exec_kio kio;
  const struct store *pools, *accounts, *configmap;
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

/* Register the AccountPool controller with the manager: watches
 * AccountPools and owned Accounts, waits for the ConfigMap informer;
 * concurrency MaxConcurrentReconciles.accountpool (default 1); cm and wm
 * (the shared controller_runtime_* / workqueue_* families) may be NULL. */
int pool_exec_register(struct mgr *m, uv_loop_t *loop, struct pool_exec *p,
                       unsigned max_concurrent, struct ctrl_metrics *cm,
                       struct wq_metrics *wm);

/* Enqueue every AccountPool now (arg: the pool_exec). For the account
 * watcher's verdict changes (limit_allows) and ConfigMap changes, so a
 * pool blocked by the limit does not wait out its 5-minute requeue. */
void pool_exec_kick_all(void *arg);

/* Build the pool executor over the shared support (stores from the
 * manager's informers, exec_cfg, the account watcher, the shared kio) and
 * register it; metrics registry r may be NULL. The caller frees *out with
 * pool_exec_free after the controllers closed. (exec_setup.c) */
struct exec_shared;
int pool_exec_setup(struct exec_shared *s, struct met_registry *r,
                    struct pool_exec **out);
/* Shared by both setups: exec_cfg_get as a callback; a kind's store. */
const struct opcfg *exec__cfg_of(void *arg);
const struct store *exec__store_of(struct exec_shared *s, enum mgr_kind k);

#endif
