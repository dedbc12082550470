/* Shared executor support (common/PLANS.md: the loop around the pure
 * plans). Knows no controller.
 *
 *   exec_kio      the Kubernetes I/O seam (writes + events) every executor
 *                 uses, replaceable by a recording double in tests.
 *   exec_obs      the per-key observation table ("Observation lifetime").
 *   exec_cfg      the operator ConfigMap from its informer: parsed with
 *                 opcfg on every change; NULL while missing; an invalid
 *                 one leaves the last valid one in force (error log and
 *                 Warning event on the ConfigMap naming the bad key).
 *   exec_aws      the AWS side: one aws_client (--aws-endpoint-url,
 *                 AWS_REGION, metrics) and its aws_api table, the
 *                 management credentials from the Secret
 *                 aws-account-operator-credentials (rebuilt when it
 *                 changes, NULL while missing), and AssumeRole credentials
 *                 into an account's OrganizationAccountAccessRole (cached
 *                 per account).
 *   exec_watcher  the total-account watcher (as upstream): every 5 min,
 *                 at start and on ConfigMap changes, ListAccounts (ACTIVE)
 *                 + ListCreateAccountStatus IN_PROGRESS, all pages.
 *   exec_shared   all of the above, built once, and the controllers
 *                 added to it from their descriptors (runner.h).
 *
 * Every function returns 0 or a negative op_err unless stated. Nothing
 * here logs secret material.
 */
#ifndef PKG_CONTROLLERS_EXEC_EXEC_H
#define PKG_CONTROLLERS_EXEC_EXEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "controllers/common/opcfg.h"
#include "controllers/runtime/ctrl.h"
#include "controllers/runtime/manager.h"
#include "k8s/client.h"

struct aws_api;
struct aws_client;
struct aws_creds;
struct cfg;
struct ctrl_metrics;
struct httpc;
struct loop;
struct wq_metrics;
struct inf;
struct k8s_recorder;
struct met_registry;
struct mgr;
struct store;
struct exec_metrics;

/* ---- Kubernetes I/O seam --------------------------------------------- */

extern const struct k8s_gvr exec_gvr_accounts;
extern const struct k8s_gvr exec_gvr_pools;
extern const struct k8s_gvr exec_gvr_claims;
extern const struct k8s_gvr exec_gvr_secrets;

/* Follow one named object of an informer (the operator's ConfigMap, its
 * credentials Secret): fn(arg, obj) when it is added or changes,
 * fn(arg, NULL) when it is deleted. The caller owns the struct and keeps
 * it until exec_follow_stop. */
typedef void (*exec_follow_fn)(void *arg, const json_t *obj_or_null);
struct exec_follower {
  const char *name;
  exec_follow_fn fn;
  void *arg;
  struct inf *inf; /* set by exec_follow_start */
  int id;
};
/* i NULL: nothing to follow (0). */
int exec_follow_start(struct exec_follower *f, struct inf *i);
void exec_follow_stop(struct exec_follower *f);

/* Same contract as k8s/client.h: 0 = cb runs exactly once, later. */
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

/* The real seam over a client and recorder (both borrowed; rec may be
 * NULL). */
struct exec_kio_real {
  struct k8s_client *client;
  struct k8s_recorder *rec;
};
void exec_kio_real_init(struct exec_kio *k, struct exec_kio_real *r);

/* Map a write's completion to the controller result: OP_ECONFLICT ->
 * requeue after 1 ms (at once, no backoff), other errors -> err (rate
 * limited), success -> requeue_after requeue_ms (0 = done). */
void exec_write_result(int err, uint64_t requeue_ms, struct ctrl_result *out);

/* Borrowed objects of a store as an array (free the array only; never
 * NULL unless out of memory). */
const json_t **exec_store_objs(const struct store *s, size_t *n);
/* The objects under each (index, value) pair (index NULL: skipped),
 * concatenated; an object may appear twice. A new array (free it only),
 * never NULL but on ENOMEM; *n its length. */
struct exec_ix {
  const char *index, *value;
};
const json_t **exec_store_by_index(const struct store *s,
                                   const struct exec_ix *q, size_t nq,
                                   size_t *n);

/* Parse the operator ConfigMap from a store holding it. 0, or
 * OP_ENOTFOUND / OP_ECONFIG (*c cleaned). */
int exec_cfg_load(const struct store *cm, struct opcfg *c);

/* The configuration a snapshot reads: get(arg) when get is set, else the
 * ConfigMap in store cm parsed into *tmp; NULL when missing or invalid.
 * Release with exec_cfg_release(tmp) after the plan. */
const struct opcfg *exec_cfg_for_plan(const struct opcfg *(*get)(void *arg),
                                      void *arg, const struct store *cm,
                                      struct opcfg *tmp);
void exec_cfg_release(struct opcfg *tmp);

typedef void (*exec_done_fn)(void *arg, const char *key,
                             const struct ctrl_result *res);

/* The account watcher's verdict as pool_snap wants it. */
typedef void (*exec_limit_fn)(void *arg, bool *allows, bool *has_total,
                              long long *total);

/* ---- observation table ------------------------------------------------ */

/* key -> a fixed-size observation struct (copied in), plus an optional
 * owned JSON value (e.g. acct_obs.regions points into it). Only AWS
 * actions put; Kubernetes writes leave entries alone. */
struct exec_obs;
struct exec_obs *exec_obs_new(size_t obs_size);
void exec_obs_free(struct exec_obs *t);
/* Copy obs in; aux_new (may be NULL) is stolen and released when the
 * entry is replaced or dropped. */
int exec_obs_put(struct exec_obs *t, const char *key, const void *obs,
                 json_t *aux_new);
/* Borrowed (valid until the next put/drop of key) or NULL. */
const void *exec_obs_get(const struct exec_obs *t, const char *key);
const json_t *exec_obs_aux(const struct exec_obs *t, const char *key);
void exec_obs_drop(struct exec_obs *t, const char *key);
size_t exec_obs_len(const struct exec_obs *t);

/* ---- operator config ---------------------------------------------------- */

struct exec_cfg;
typedef void (*exec_cfg_changed_fn)(void *arg);
/* Watch the ConfigMap informer (borrowed; NULL = always missing). kio is
 * used for the Warning event (may be NULL). */
struct exec_cfg *exec_cfg_new(struct inf *cm, const struct exec_kio *kio);
void exec_cfg_free(struct exec_cfg *c);
/* Stop following the ConfigMap informer (shutdown: before the informer is
 * freed); the configuration in force stays readable until exec_cfg_free. */
void exec_cfg_detach(struct exec_cfg *c);
/* Apply a ConfigMap object (NULL = deleted). What the informer handler
 * calls; public for tests. */
void exec_cfg_apply(struct exec_cfg *c, const json_t *cm);
/* The configuration in force: the last valid ConfigMap parsed, NULL when
 * none was valid yet or the ConfigMap is deleted (borrowed; valid until
 * the next change). */
const struct opcfg *exec_cfg_get(const struct exec_cfg *c);
/* Bumped on every successful parse. */
unsigned exec_cfg_generation(const struct exec_cfg *c);
/* Called after every change (parsed, invalid or deleted). Up to 8. */
int exec_cfg_on_change(struct exec_cfg *c, exec_cfg_changed_fn fn, void *arg);

/* ---- AWS access --------------------------------------------------------- */

struct exec_aws_opts {
  const char *endpoint_url; /* --aws-endpoint-url or NULL */
  const char *region;       /* AWS_REGION or NULL */
  unsigned create_account_cap;
  struct met_registry *metrics; /* optional */
  struct inf *secret;           /* the credentials Secret informer */
  struct aws_api *api;          /* tests: replacement table (borrowed) */
  /* tests: build account creds without STS (NULL = AssumeRole) */
  int (*assume)(void *arg, const char *account_id, struct aws_creds **out);
  void *assume_arg;
};

struct exec_aws;
/* httpc may be NULL only when o->api is set (tests). */
int exec_aws_new(uv_loop_t *loop, struct httpc *h,
                 const struct exec_aws_opts *o, struct exec_aws **out);
/* Stop following the Secret informer (shutdown: before it is freed). */
void exec_aws_detach(struct exec_aws *a);
/* Detach, close the client (cb when done; may run before return). */
void exec_aws_close(struct exec_aws *a, void (*cb)(void *arg), void *arg);

/* The ConfigMap's partition ("aws", or "aws-us-gov" with fedramp): the
 * client follows it (endpoints, signing regions, the AssumeRole ARN) and
 * cached account sessions are dropped. Nothing without a real client. */
void exec_aws_set_partition(struct exec_aws *a, const char *partition);
struct aws_api *exec_aws_api(struct exec_aws *a);
struct aws_client *exec_aws_client(struct exec_aws *a); /* NULL in tests */
/* Management-account credentials (borrowed) or NULL while the Secret is
 * missing or incomplete. */
struct aws_creds *exec_aws_mgmt(struct exec_aws *a);
/* Same, with the signature claim_exec_deps.mgmt_creds expects. */
struct aws_creds *exec_aws_mgmt_cb(void *arg);
/* Secret data[key], base64-decoded with trailing newlines cut, or NULL;
 * the caller wipes and frees it. */
char *exec_secret_field(const json_t *secret, const char *key);
/* Apply a Secret object (NULL = deleted); what the informer handler calls. */
void exec_aws_apply_secret(struct exec_aws *a, const json_t *secret);
/* Credentials of OrganizationAccountAccessRole in account_id, assumed
 * from the management credentials (borrowed, cached per account).
 * OP_ENOTFOUND while the management credentials are missing. */
int exec_aws_account_creds(struct exec_aws *a, const char *account_id,
                           struct aws_creds **out);
void exec_aws_forget_account(struct exec_aws *a, const char *account_id);
/* arn:<partition>:iam::<id>:role/OrganizationAccountAccessRole */
int exec_role_arn(const char *partition, const char *account_id,
                  const char *role, char *out, size_t outsz);

/* ---- total-account watcher ---------------------------------------------- */

#define EXEC_WATCH_INTERVAL_MS (5u * 60u * 1000u)
/* after a failed poll (no credentials yet, throttled, ...) */
#define EXEC_WATCH_RETRY_MS (30u * 1000u)

struct exec_watcher_opts {
  struct exec_aws *aws;         /* api + management creds */
  struct exec_cfg *cfg;         /* account-limit; polls on change */
  struct exec_metrics *metrics; /* optional: the aws_accounts gauge */
  unsigned create_cap;          /* --create-account-concurrency; 0 = 5 */
  uint64_t interval_ms;         /* 0 = EXEC_WATCH_INTERVAL_MS */
};

struct exec_watcher;
struct exec_watcher *exec_watcher_new(uv_loop_t *loop,
                                      const struct exec_watcher_opts *o);
/* Poll now and then every interval. */
int exec_watcher_start(struct exec_watcher *w);
/* Start a poll unless one is running (a running one is followed by
 * another when it ends). */
void exec_watcher_poll(struct exec_watcher *w);
void exec_watcher_close(struct exec_watcher *w);

/* false until the first successful poll and after any error. */
bool exec_watcher_limit_allows(const struct exec_watcher *w);
bool exec_watcher_has_total(const struct exec_watcher *w);
/* The listed total plus CreateAccount calls sent since that listing. */
long long exec_watcher_total(const struct exec_watcher *w);
long long exec_watcher_in_progress(const struct exec_watcher *w);
/* Polls completed (ok or failed); tests wait on it. */
unsigned exec_watcher_polls(const struct exec_watcher *w);
/* ms until the timer's next listing (a failed one's early retry, else the
 * interval); 0 when the timer is not running. */
uint64_t exec_watcher_next_poll_ms(const struct exec_watcher *w);
/* The latest complete listing (borrowed JSON array of {"id","email",
 * "status"}) and the wall time its poll started; NULL before the first. */
const json_t *exec_watcher_accounts(const struct exec_watcher *w,
                                    time_t *started);
/* exec_limit_fn over a watcher. */
void exec_watcher_limit(void *arg, bool *allows, bool *has_total,
                        long long *total);

/* Our own CreateAccount requests in flight: sent at the call (it also
 * counts in the total until the next listing), begin when a request is
 * found IN_PROGRESS (after a restart), end when DescribeCreateAccountStatus
 * sees it leave IN_PROGRESS or the call failed; succeeded when it is seen
 * SUCCEEDED. An end frees the slot at once and calls the on_slot function.
 * Once none is in flight the organization is listed again unless the
 * total is exact already (every request since the last listing SUCCEEDED,
 * none failed, ended unseen or was sent while that listing ran). */
void exec_watcher_create_sent(struct exec_watcher *w, const char *key);
void exec_watcher_create_begin(struct exec_watcher *w, const char *key);
void exec_watcher_create_end(struct exec_watcher *w, const char *key);
void exec_watcher_create_succeeded(struct exec_watcher *w, const char *key);
void exec_watcher_on_slot(struct exec_watcher *w, void (*fn)(void *arg),
                          void *arg);
/* A creation took secs (AWS's CompletedTimestamp - RequestedTimestamp);
 * the estimate is the median of the latest EXEC_WATCH_DURATIONS, 0 before
 * the first: when to look at a new request. */
#define EXEC_WATCH_DURATIONS 8
void exec_watcher_create_took(struct exec_watcher *w, double secs);
double exec_watcher_create_estimate(const struct exec_watcher *w);
unsigned exec_watcher_own_in_flight(const struct exec_watcher *w);
/* Our own in flight + the watcher's IN_PROGRESS < create_cap. */
bool exec_watcher_create_slot_free(const struct exec_watcher *w);

/* Add a listener called after a poll that changed limit_allows, the
 * total or the IN_PROGRESS count (e.g. to requeue Accounts or pools waiting for
 * the limit). Up to EXEC_WATCH_MAX_LISTENERS; fn NULL removes them all. */
#define EXEC_WATCH_MAX_LISTENERS 4
void exec_watcher_on_change(struct exec_watcher *w, void (*fn)(void *arg),
                            void *arg);

/* Pure maths (exposed for tests). */
bool exec_limit_allows(bool polled_ok, long long total, const struct opcfg *c);
bool exec_slot_free(unsigned own, long long in_progress, unsigned cap);

/* ---- everything shared ------------------------------------------------- */

struct exec_desc;
struct exec_runner;

#define EXEC_MAX_CONTROLLERS 8

/* One controller on the shared support: its descriptor, its state, its
 * runner. */
struct exec_unit {
  const struct exec_desc *desc;
  void *ctl;
  struct exec_runner *run;
};

/* How long a busy period of the urgent controllers may hold the others
 * back (workqueue.h's gate): a claim is served in tens of ms, and a
 * stuck call must not stall the Account controller for longer. */
#define EXEC_URGENT_MAX_MS 250

struct exec_shared {
  struct loop *loop;
  struct mgr *mgr;
  const struct cfg *cfg;
  const char *ns;
  struct met_registry *registry; /* NULL without metrics */
  struct exec_kio kio;
  struct exec_kio_real kio_real;
  struct exec_cfg *opcfg;
  struct exec_aws *aws;
  struct exec_watcher *watcher;
  struct exec_metrics *metrics; /* NULL without a registry */
  /* controller_runtime_* and workqueue_* families, shared by every
   * controller (NULL without a registry) */
  struct ctrl_metrics *ctrl_metrics;
  struct wq_metrics *wq_metrics;
  /* urgent controllers (the claim's) hold it, the others yield to it */
  struct wq_gate *gate;
  struct exec_unit units[EXEC_MAX_CONTROLLERS];
  size_t nunits;
  struct exec_follower secret; /* the credentials Secret */
  unsigned closing;            /* parts still closing at shutdown */
  bool stopping;               /* stopping: the listeners do nothing */
};

/* Build the shared pieces over the manager (after mgr_new, before
 * mgr_start): the kio seam, the ConfigMap holder, the AWS client, the
 * account watcher, the metric families. Released by a loop stop hook once
 * every controller's jobs ended. *out = NULL (and 0) for a disabled
 * manager. */
int exec_shared_new(struct mgr *m, struct loop *loop, const struct cfg *c,
                    struct met_registry *r, struct exec_shared **out);
/* Build a controller from its descriptor and register it with the
 * manager, at the concurrency the ConfigMap gives. */
int exec_shared_add(struct exec_shared *s, const struct exec_desc *d);
/* Follow the ConfigMap, the Secret and the watcher (re-queue per each
 * descriptor's kick flags; concurrency follows the ConfigMap), then start
 * the watcher. */
int exec_shared_start(struct exec_shared *s);
/* A kind's cache (borrowed) or NULL. */
struct store *exec_shared_store(struct exec_shared *s, enum mgr_kind k);
/* exec_cfg_get as a callback (arg: the exec_cfg). */
const struct opcfg *exec_cfg_of(void *arg);

/* The max concurrency for a controller: opcfg's MaxConcurrentReconciles
 * (default 1). */
unsigned exec_max_concurrent(const struct exec_shared *s, enum opcfg_ctrl i);

#endif
