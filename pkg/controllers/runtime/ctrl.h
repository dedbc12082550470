/* Controller runtime: informer events -> keys -> work queue -> reconcile,
 * controller-runtime's contract on one libuv loop.
 *
 * Sources: ctrl_watch(inf) enqueues the object's own key (For()),
 * ctrl_watch_owned(inf, owner) the key of its controlling owner from
 * metadata.ownerReferences (Owns()), ctrl_watch_map(inf, fn) whatever keys
 * fn yields (EnqueueRequestsFromMapFunc); on updates both the old and the
 * new object are mapped. Every watched informer, plus those named with
 * ctrl_wait_for, must have synced before the first reconcile; events that
 * arrive earlier are queued.
 *
 * Reconcile: int reconcile(ctx, key, out) runs for one key at a time
 * (stingy) and either
 *   - finishes: returns 0 with *out (zeroed before the call) saying done,
 *     requeue, requeue after N ms or err; or a negative op_err (= error);
 *   - or returns CTRL_PENDING after starting asynchronous work; the key
 *     stays in the queue's processing set (events only mark it dirty) until
 *     the work calls ctrl_complete(ctx, key, result) exactly once.
 * Result handling (controller-runtime reconcileHandler): error ->
 * rate-limited requeue; requeue_after -> forget, then add after the delay;
 * requeue -> rate-limited requeue; success -> forget. Then wq_done, which
 * requeues the key if an event marked it dirty meanwhile.
 *
 * Concurrency: at most max_concurrent keys reconciling or pending at once
 * (MaxConcurrentReconciles); the runtime pulls from the queue only while
 * below it.
 *
 * Leader election: ctrl_pause stops starting reconciles at once (a pending
 * one still completes and its result is applied); informers keep running
 * and the queue keeps collecting keys; ctrl_resume carries on.
 *
 * Metrics (optional): controller_runtime_reconcile_total{controller,result}
 * (success|error|requeue|requeue_after), controller_runtime_reconcile_
 * errors_total{controller}, controller_runtime_reconcile_time_seconds
 * {controller} (from dispatch to completion, async time included),
 * controller_runtime_active_workers{controller} (keys reconciling or
 * pending), controller_runtime_max_concurrent_reconciles{controller}; and
 * the queue's workqueue_* series under name=<controller>.
 */
#ifndef PKG_CONTROLLERS_RUNTIME_CTRL_H
#define PKG_CONTROLLERS_RUNTIME_CTRL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cache/informer.h"
#include "workqueue/workqueue.h"

struct ctrl;
struct ctrl_ctx;
struct ctrl_keys;
struct met_registry;
struct met_family;

#define CTRL_PENDING 1

struct ctrl_result {
  int err;                   /* 0, or a negative op_err: error */
  bool requeue;              /* rate-limited requeue without error */
  uint64_t requeue_after_ms; /* > 0: forget, then requeue after this */
};

typedef int (*ctrl_reconcile_fn)(struct ctrl_ctx *ctx, const char *key,
                                 struct ctrl_result *out);
typedef void (*ctrl_close_cb)(void *arg);
/* Map an object to 0..N keys with ctrl_keys_add. */
typedef void (*ctrl_map_fn)(const json_t *obj, struct ctrl_keys *out,
                            void *arg);
void ctrl_keys_add(struct ctrl_keys *k, const char *key);
/* Run a mapping outside a controller (tests, benchmarks): each(key, arg)
 * per key produced (duplicates included); returns how many. */
size_t ctrl_map_keys(ctrl_map_fn fn, void *fn_arg, const json_t *obj,
                     void (*each)(const char *key, void *arg), void *arg);

/* The controller_runtime_* families (borrowed from the registry). */
struct ctrl_metrics {
  struct met_family *total, *errors, *time, *active, *max;
};
struct ctrl_metrics *ctrl_metrics_new(struct met_registry *r);
void ctrl_metrics_free(struct ctrl_metrics *m);

struct ctrl_opts {
  const char *name; /* controller label, queue name; copied */
  ctrl_reconcile_fn reconcile;
  void *data;                    /* for the reconciler: ctrl_ctx_data */
  unsigned max_concurrent;       /* 0 = 1 */
  struct ctrl_metrics *metrics;  /* may be NULL */
  struct wq_metrics *wq_metrics; /* may be NULL */
  /* Rate limiter and clock of the queue (name and metrics are set from
   * the fields above); NULL = client-go defaults. The clock also times
   * reconciles. */
  const struct wq_opts *queue;
};

/* How to recognise the owner in metadata.ownerReferences. */
struct ctrl_owner {
  const char *group; /* API group of the owner ("" = core) */
  const char *kind;
  bool cluster_scoped; /* owner key is "name", not "namespace/name" */
  bool any_owner;      /* also non-controller references */
};

struct ctrl *ctrl_new(uv_loop_t *loop, const struct ctrl_opts *opts);
/* Stop starting reconciles, detach from the informers, wait until every
 * pending reconcile was completed, close the queue, free, then call cb.
 * Close controllers before the informers they watch. */
void ctrl_close(struct ctrl *c, ctrl_close_cb cb, void *arg);

int ctrl_watch(struct ctrl *c, struct inf *i);
int ctrl_watch_owned(struct ctrl *c, struct inf *i,
                     const struct ctrl_owner *owner);
int ctrl_watch_map(struct ctrl *c, struct inf *i, ctrl_map_fn fn, void *arg);
/* An informer the reconciler reads without watching: only gates start. */
int ctrl_wait_for(struct ctrl *c, struct inf *i);

int ctrl_start(struct ctrl *c);
void ctrl_pause(struct ctrl *c);
void ctrl_resume(struct ctrl *c);
bool ctrl_paused(const struct ctrl *c);
/* Every informer the controller reads has synced. */
bool ctrl_synced(const struct ctrl *c);

/* Finish a reconcile that returned CTRL_PENDING. res may be NULL
 * (success). Returns 0, or OP_ENOTFOUND when key is not pending. May be
 * called from inside the reconcile itself (before it returns). */
int ctrl_complete(struct ctrl_ctx *ctx, const char *key,
                  const struct ctrl_result *res);

/* Enqueue a key by hand (e.g. a periodic resync). */
int ctrl_enqueue(struct ctrl *c, const char *key);

struct ctrl *ctrl_ctx_ctrl(struct ctrl_ctx *ctx);
void *ctrl_ctx_data(const struct ctrl_ctx *ctx);
const char *ctrl_ctx_name(const struct ctrl_ctx *ctx);
/* A per-reconcile id for logs (controller-runtime's reconcileID), or 0
 * when key is not being reconciled. */
uint64_t ctrl_ctx_reconcile_id(const struct ctrl_ctx *ctx, const char *key);

struct wq *ctrl_queue(struct ctrl *c);
unsigned ctrl_active(const struct ctrl *c);
const char *ctrl_name(const struct ctrl *c);
/* Change the concurrency limit while running (0 = 1): a higher limit
 * starts queued keys at once; a lower one lets the reconciles in flight
 * finish and starts no new one until fewer than n run. */
void ctrl_set_max_concurrent(struct ctrl *c, unsigned n);
bool ctrl_is_pending(const struct ctrl *c, const char *key);

/* The key of obj's owner per spec, into out[STORE_KEY_MAX]: 0, or
 * OP_ENOTFOUND. (What ctrl_watch_owned enqueues; public for tests.) */
int ctrl_owner_key(const json_t *obj, const struct ctrl_owner *owner, char *out,
                   size_t outsize);

#endif
