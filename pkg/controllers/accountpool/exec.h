/* AccountPool executor (PLANS.md "The loop, per key") and the small
 * Kubernetes I/O seam both the pool and the claim executors use, so unit
 * tests can replace every write with a recording double.
 *
 * The executors never sleep: Kubernetes writes complete through the
 * callback, then the step's event is recorded and the result handed to
 * done(). On OP_ECONFLICT the key is requeued at once (1 ms). */
#ifndef PKG_CONTROLLERS_ACCOUNTPOOL_EXEC_H
#define PKG_CONTROLLERS_ACCOUNTPOOL_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "controllers/common/opcfg.h"
#include "controllers/runtime/ctrl.h"
#include "k8s/client.h"

struct store;
struct mgr;
struct k8s_recorder;
struct met_registry;

extern const struct k8s_gvr exec_gvr_accounts;
extern const struct k8s_gvr exec_gvr_pools;
extern const struct k8s_gvr exec_gvr_claims;
extern const struct k8s_gvr exec_gvr_secrets;

/* Kubernetes I/O. Same contract as k8s/client.h: 0 = cb runs once. */
struct exec_kio {
  void *arg;
  int (*get)(void *arg, const struct k8s_gvr *g, const char *ns,
             const char *name, k8s_obj_cb cb, void *cbarg);
  int (*create)(void *arg, const struct k8s_gvr *g, const char *ns, json_t *obj,
                k8s_obj_cb cb, void *cbarg);
  int (*update)(void *arg, const struct k8s_gvr *g, json_t *obj, k8s_obj_cb cb,
                void *cbarg);
  int (*update_status)(void *arg, const struct k8s_gvr *g, json_t *obj,
                       k8s_obj_cb cb, void *cbarg);
  int (*del)(void *arg, const struct k8s_gvr *g, const char *ns,
             const char *name, k8s_obj_cb cb, void *cbarg);
  /* Record an event (message never holds secret material). */
  void (*event)(void *arg, json_t *obj, const char *type, const char *reason,
                const char *msg);
};

/* The real seam over a client and recorder (both borrowed). */
struct exec_kio_real {
  struct k8s_client *client;
  struct k8s_recorder *rec;
};
void exec_kio_real_init(struct exec_kio *k, struct exec_kio_real *r);

/* Parse the operator ConfigMap from a store holding it (the manager's
 * MGR_CONFIGMAP informer). 0, or OP_ENOTFOUND / OP_ECONFIG (*c cleaned). */
int exec_cfg_load(const struct store *cm, struct opcfg *c);

/* Map a write's completion to the controller result (409 -> 1 ms). */
void exec_write_result(int err, uint64_t requeue_ms, struct ctrl_result *out);

/* Borrowed objects of a store as an array (free the array only). */
const json_t **exec_store_objs(const struct store *s, size_t *n);

typedef void (*exec_done_fn)(void *arg, const char *key,
                             const struct ctrl_result *res);

/* The account watcher's verdict (acctexec): limit_allows, has_total and
 * total as pool_snap wants them. NULL = creation blocked. */
typedef void (*exec_limit_fn)(void *arg, bool *allows, bool *has_total,
                              long long *total);

struct pool_exec_deps {
  struct exec_kio kio;
  const struct store *pools, *accounts, *configmap;
  exec_limit_fn limit;
  void *limit_arg;
  /* 6 random bytes for names_suffix; NULL = getrandom. */
  void (*rng)(void *arg, unsigned char out[6]);
  void *rng_arg;
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
 * concurrency MaxConcurrentReconciles.accountpool (default 1). */
int pool_exec_register(struct mgr *m, uv_loop_t *loop, struct pool_exec *p,
                       unsigned max_concurrent);

#endif
