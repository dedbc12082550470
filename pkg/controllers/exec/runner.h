/* The one step runner every controller uses (the loop around the pure
 * plans, common/PLANS.md). A controller exports a descriptor (struct
 * exec_desc): its name, the kind it reconciles and how other kinds map to
 * its keys, a job size, an optional asynchronous read before planning, its
 * snapshot-and-plan function, and its action table (action -> a Kubernetes
 * write, or a function that starts one AWS call or Secret copy). The runner
 * does the rest, once for every controller:
 *
 *   key -> cached object (gone: drop the key's observation) -> job with an
 *   owned copy of the object -> prepare? -> plan -> done (requeue as the
 *   plan says; also for an update whose object equals the cached one,
 *   which is not sent) | write (result -> requeue; conflict -> at once) | call
 *   (outcome stored as the key's observation, key requeued at once) ->
 *   Event of the step on success, log line on failure, reconcile metrics.
 *   With rd.chain the next pass after a kept write or a call runs from its
 *   callback instead of the queue, and the Events wait for the chain's end.
 *
 * The runner knows no controller: controllers include this header, never
 * the other way round. Every function returns 0 or a negative op_err
 * unless stated.
 */
#ifndef PKG_CONTROLLERS_EXEC_RUNNER_H
#define PKG_CONTROLLERS_EXEC_RUNNER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "controllers/common/opcfg.h"
#include "controllers/common/step.h"
#include "controllers/exec/exec.h"
#include "controllers/runtime/ctrl.h"
#include "controllers/runtime/manager.h"

struct exec_job;
struct exec_runner;
struct exec_shared;

/* What the runner does for an action. */
enum exec_kind {
  EXEC_INVALID = 0,   /* not in the table: OP_EINVAL */
  EXEC_UPDATE,        /* PUT object_new */
  EXEC_UPDATE_STATUS, /* PUT object_new to the status subresource */
  EXEC_CREATE,        /* POST object_new into step.target_ns */
  EXEC_DELETE,        /* DELETE step.target_ns/step.target_name */
  EXEC_UPDATE_DELETE, /* PUT object_new (finalizers), then DELETE it */
  EXEC_CALL,          /* start(): one AWS call or Secret copy */
};

struct exec_action {
  enum exec_kind kind;
  const struct k8s_gvr *gvr; /* writes */
  /* EXEC_CALL: start the work; 0 = exec_job_observed runs exactly once
   * (maybe before return), else a negative op_err (nothing runs). */
  int (*start)(struct exec_job *j);
  bool gone_ok; /* EXEC_DELETE: an object already gone is success */
};

/* The plan's step as the runner sees it (filled by desc->plan; the
 * pointers borrow from the controller's own step in the job). */
struct exec_step {
  bool done;          /* nothing to do: requeue after requeue_ms */
  int action;         /* index into desc->actions */
  const char *name;   /* the action's name, for logs */
  const char *why;    /* the plan's short reason */
  json_t *object_new; /* writes */
  const char *target_ns, *target_name; /* EXEC_CREATE / EXEC_DELETE */
  uint64_t requeue_ms;                 /* after a successful write */
  const struct plan_event *event;      /* recorded on success; may be NULL */
};

/* A source of keys besides the reconciled kind: an informer whose objects
 * map to keys (map, called with the controller's data) or whose
 * controlling owner of kind owner is the key. */
struct exec_watch {
  enum mgr_kind kind;
  ctrl_map_fn map;
  const struct ctrl_owner *owner;
};

#define EXEC_MAX_WATCHES 4

/* When the shared support re-queues every key of the controller. */
enum {
  EXEC_KICK_CFG = 1u << 0,     /* the ConfigMap changed */
  EXEC_KICK_SECRET = 1u << 1,  /* the credentials Secret changed */
  EXEC_KICK_WATCHER = 1u << 2, /* the account watcher's verdict changed */
};

struct exec_desc {
  const char *name;        /* controller label, log module */
  enum opcfg_ctrl cfg;     /* its MaxConcurrentReconciles key */
  enum mgr_kind kind;      /* the kind it reconciles */
  const char *api_version; /* set on the job's copy when a list item lacks */
  const char *kind_name;   /*   them (Events need both) */
  struct exec_watch watches[EXEC_MAX_WATCHES]; /* ends at map = owner = 0 */
  enum mgr_kind wait_for[EXEC_MAX_WATCHES];    /* ends at MGR_NKINDS */
  unsigned kick;                               /* EXEC_KICK_* */
  size_t job_size; /* >= sizeof(struct exec_job); the job struct starts
                      with a struct exec_job */
  size_t obs_size; /* 0 = the controller keeps no observations */
  const struct exec_action *actions;
  size_t nactions;

  /* The controller's state over the shared support, with its runner
   * (NULL = out of memory), and its release with the runner (after every
   * job ended). */
  void *(*new_ctl)(struct exec_shared *s, struct exec_runner **runner);
  void (*free_ctl)(void *ctl);
  /* Optional read before planning (e.g. does a Secret exist): 1 = none
   * needed, 0 = started (exec_job_prepared runs once), < 0 = error. */
  int (*prepare)(struct exec_job *j);
  /* Snapshot from the caches, the pure plan, the view of its step. */
  int (*plan)(struct exec_job *j, struct exec_step *out);
  /* Optional hooks. */
  void (*planned)(struct exec_job *j, int rc); /* after plan, any result */
  void (*starting)(struct exec_job *j);        /* before the step starts */
  /* after it started (its request is on its way; the job may have ended
   * already, hence no job): work beside it that must not delay it */
  void (*started)(void *ctl, const char *key);
  void (*written)(struct exec_job *j);      /* a write succeeded */
  void (*observed)(struct exec_job *j);     /* a call's outcome stored */
  void (*gone)(void *ctl, const char *key); /* the object is gone */
  void (*job_cleanup)(struct exec_job *j);  /* free the job's fields */
  /* Read-your-writes (written.h) when set: the reconciled kind's
   * resource. A successful update's answer is planned from until the
   * informer catches up, and the key is requeued at once. */
  const struct k8s_gvr *own_gvr;
  /* Its reconciles hold the priority gate (exec_runner_set_gate) while
   * in flight: the other controllers' queues wait, a bounded time, so
   * that its chained steps do not queue behind their CPU on the loop. */
  bool urgent;
};

#define EXEC_CHAIN_MAX 8

/* The header of every job (one reconcile of one key in flight). */
struct exec_job {
  struct exec_runner *r;
  void *ctl;     /* the controller's data */
  char key[256]; /* "ns/name" */
  json_t *obj;   /* the cached object (a reference): read only */
  struct exec_step step;
  bool exists;       /* exec_job_check_exists: the object is there */
  int result;        /* the call's outcome: 0 or a negative op_err */
  char aws_code[64]; /* the call's AWS error code, "" = none */
  double t0;
  unsigned chained; /* passes run in a row before this one (chain) */
  exec_done_fn done;
  void *arg;
};

struct exec_runner_deps {
  struct exec_kio kio;
  const struct store *objs;     /* the reconciled kind's cache (borrowed) */
  struct exec_metrics *metrics; /* optional: reconcile duration */
  /* Chain the key's next pass from the step's callback (a write kept for
   * read-your-writes, or a call's observation) instead of a requeue and a
   * queue hop: a job's steps follow one another without waiting behind
   * other work on the loop. At most EXEC_CHAIN_MAX passes in a row, then
   * the key goes back to the queue as before. */
  bool chain;
};

struct exec_runner *exec_runner_new(const struct exec_desc *d, void *ctl,
                                    const struct exec_runner_deps *rd);
/* Stop taking keys; cb(arg) once no job is in flight (may run before
 * return). The runner stays allocated: free it after. */
void exec_runner_close(struct exec_runner *r, void (*cb)(void *arg), void *arg);
void exec_runner_free(struct exec_runner *r);
/* The controller's own work outside a job (a read started ahead of the
 * step that takes it): close waits for it as for a job. hold: false when
 * closing (start nothing); every true hold is released once. */
bool exec_runner_hold(struct exec_runner *r);
void exec_runner_release(struct exec_runner *r);

/* One pass for key: 0 with *out filled, or CTRL_PENDING, after which
 * done(arg, key, res) runs exactly once. */
int exec_runner_reconcile(struct exec_runner *r, const char *key,
                          struct ctrl_result *out, exec_done_fn done,
                          void *arg);
/* The key's last observation (borrowed) or NULL; its aux value. */
const void *exec_runner_obs(const struct exec_runner *r, const char *key);
const json_t *exec_runner_obs_aux(const struct exec_runner *r, const char *key);

/* A controller for the manager: watches d->kind and d->watches, waits for
 * d->wait_for, max_concurrent reconciles (cm, wm may be NULL). */
int exec_runner_register(struct exec_runner *r, struct mgr *m, uv_loop_t *loop,
                         unsigned max_concurrent, struct ctrl_metrics *cm,
                         struct wq_metrics *wm);
/* The priority gate (workqueue.h): an urgent runner (desc->urgent) holds
 * it while a reconcile is in flight (exec_runner_reconcile), another
 * runner's queue yields to it (after exec_runner_register). g outlives
 * every reconcile of r. */
int exec_runner_set_gate(struct exec_runner *r, struct wq_gate *g);
struct ctrl *exec_runner_ctrl(const struct exec_runner *r);
/* Tests: a controller built apart, not registered with a manager (the
 * runner's queue moves go to it); the caller closes it. */
void exec_runner_use_ctrl(struct exec_runner *r, struct ctrl *c);
const struct exec_desc *exec_runner_desc(const struct exec_runner *r);
/* The runner's read-your-writes table (NULL unless desc->own_gvr): for
 * snapshots that read other kinds it wrote (exec_written_view). */
struct exec_written *exec_runner_written(const struct exec_runner *r);
/* Enqueue every cached object of the kind (arg: the runner). */
void exec_runner_kick_all(void *arg);

/* For desc->prepare: GET name in ns of g and set j->exists (NotFound is
 * no error); returns what prepare returns. */
int exec_job_check_exists(struct exec_job *j, const struct k8s_gvr *g,
                          const char *ns, const char *name);
/* desc->prepare's work ended: err < 0 ends the job with it. */
void exec_job_prepared(struct exec_job *j, int err);
/* A call ended: stores obs (obs_size bytes; aux_new stolen, may be NULL)
 * as the key's observation, records the step's Event (or logs the
 * failure), requeues the key at once. err and aws_code ("" or NULL) go to
 * the log and the reconcile metric. */
void exec_job_observed(struct exec_job *j, int err, const char *aws_code,
                       const void *obs, json_t *aux_new);
/* Store obs as the key's observation without a call (what the job's own
 * write taught); 0 or OP_ENOMEM. */
int exec_job_remember(struct exec_job *j, const void *obs);
/* End the job with res (frees it). */
void exec_job_finish(struct exec_job *j, const struct ctrl_result *res);

#endif
