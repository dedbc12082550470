/* Kubernetes REST client over httpc: async verbs on json_t objects, Status
 * decoding into op_err, a client-side token bucket, automatic retry of 429
 * (honouring Retry-After) and of 401 after re-reading the token file.
 *
 * Every verb follows the k8s.h contract: returns 0 and calls cb exactly
 * once later (from the loop, never from inside the call), or returns an
 * error and never calls cb. cb's obj is BORROWED (valid during the callback
 * only) and NULL on error; detail is NULL on success.
 *
 * Ownership: verbs never take ownership of obj/patch (they serialise it
 * before returning). The client copies the config.
 */
#ifndef PKG_K8S_CLIENT_H
#define PKG_K8S_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "k8s/config.h"
#include "k8s/k8s.h"
#include "util/buf.h"

struct httpc;

struct k8s_client_opts {
  /* Client-side rate limit for non-watch requests. Defaults 100 QPS,
   * burst 200: client-go's 5/10 (rest.DefaultQPS/DefaultBurst) starves an
   * operator writing status for hundreds of Accounts (aws-limits.md), while
   * API Priority and Fairness protects the server anyway. 50/100 capped a
   * pool fill at T = 1 s: 5 creations a second need at least 10 writes
   * each (docs/benchmarks.md, figure 6), 11.5 measured, so the writes
   * alone ran at the limit and every reconcile waited for tokens. 100/200
   * still bounds a runaway reconcile loop. Watches are not rate limited. */
  double qps;
  double burst;
  unsigned max_throttle_retries; /* 429 retries before OP_ETHROTTLED; 0 = 3 */
  uint64_t max_retry_after_ms;   /* cap on an honoured Retry-After; 0 = 30 s */
  uint64_t default_retry_after_ms; /* 429 without Retry-After; 0 = 1 s */
  uint64_t token_reload_ms;        /* re-read token_file; 0 = 60 s */
  long request_timeout_ms;         /* non-watch requests; 0 = 30 s */
  /* Optional metrics hook, called once per HTTP attempt of a non-watch
   * request (client-go's rest_client_requests_total and
   * rest_client_request_duration_seconds): status 0 = transport error. */
  void (*on_request)(const char *method, long status, double seconds,
                     void *arg);
  void *on_request_arg;
  /* User-Agent of every request (copied); NULL = httpc's default. The
   * operator puts its identity in it so replicas can be told apart. */
  const char *user_agent;
};

/* Copies cfg. Starts the token-reload timer when cfg->token_file is set. */
int k8s_client_new(uv_loop_t *loop, struct httpc *h,
                   const struct k8s_config *cfg,
                   const struct k8s_client_opts *opts, struct k8s_client **out);
/* Cancel everything: queued requests complete with OP_ECANCELED right
 * away, in-flight ones and watches when httpc reports them; then the timers
 * are closed and cb(arg) (may be NULL) runs once the memory is released. */
void k8s_client_close(struct k8s_client *c, void (*cb)(void *arg), void *arg);

/* The config in use (borrowed; the token may change on reload). */
const struct k8s_config *k8s_client_config(const struct k8s_client *c);
/* Requests started (or queued) and not yet completed, watches included. */
size_t k8s_client_pending(const struct k8s_client *c);

typedef void (*k8s_obj_cb)(int err, json_t *obj, const struct op_error *detail,
                           void *arg);

int k8s_get(struct k8s_client *c, const struct k8s_gvr *gvr, const char *ns,
            const char *name, k8s_obj_cb cb, void *arg);
/* POST to the collection of obj's namespace (ns overrides when not NULL);
 * metadata.generateName is honoured by the server. */
int k8s_create(struct k8s_client *c, const struct k8s_gvr *gvr, const char *ns,
               json_t *obj, k8s_obj_cb cb, void *arg);
/* PUT obj (its metadata.resourceVersion makes it a compare-and-swap:
 * OP_ECONFLICT when stale). Namespace and name come from obj. */
int k8s_update(struct k8s_client *c, const struct k8s_gvr *gvr, json_t *obj,
               k8s_obj_cb cb, void *arg);
int k8s_update_status(struct k8s_client *c, const struct k8s_gvr *gvr,
                      json_t *obj, k8s_obj_cb cb, void *arg);

enum k8s_patch_type {
  K8S_PATCH_MERGE, /* application/merge-patch+json (RFC 7386) */
  K8S_PATCH_JSON   /* application/json-patch+json (RFC 6902) */
};
int k8s_patch(struct k8s_client *c, const struct k8s_gvr *gvr, const char *ns,
              const char *name, enum k8s_patch_type type, json_t *patch,
              k8s_obj_cb cb, void *arg);
int k8s_patch_status(struct k8s_client *c, const struct k8s_gvr *gvr,
                     const char *ns, const char *name, enum k8s_patch_type type,
                     json_t *patch, k8s_obj_cb cb, void *arg);

enum k8s_propagation {
  K8S_PROPAGATION_DEFAULT = 0,
  K8S_PROPAGATION_BACKGROUND,
  K8S_PROPAGATION_FOREGROUND,
  K8S_PROPAGATION_ORPHAN
};
struct k8s_delete_opts {
  const char *precondition_uid;              /* NULL = none */
  const char *precondition_resource_version; /* NULL = none */
  enum k8s_propagation propagation;
};
/* opts may be NULL. obj in cb is what the server returned (the object
 * being finalised, or a Status). */
int k8s_delete(struct k8s_client *c, const struct k8s_gvr *gvr, const char *ns,
               const char *name, const struct k8s_delete_opts *opts,
               k8s_obj_cb cb, void *arg);

/* ---- update with retry on conflict (client-go retry.RetryOnConflict) ---- */

/* Edit obj (a private copy: first of the object given to k8s_update_retry,
 * after a conflict of a fresh GET) in place. Return 0 to write it,
 * K8S_MUTATE_SKIP to stop without writing, or a negative op_err to give
 * up with it. The first call happens inside k8s_update_retry, which then
 * returns what mutate returned (cb is not called); on later calls cb gets
 * 0 and the unchanged fresh object (skip) or the error. */
#define K8S_MUTATE_SKIP 1
typedef int (*k8s_mutate_fn)(json_t *obj, void *arg);

struct k8s_retry_opts {
  unsigned attempts; /* writes in all; 0 = 5 (client-go DefaultRetry) */
  bool status;       /* write the status subresource (k8s_update_status) */
};

/* mutate(copy of obj), then PUT it; on OP_ECONFLICT GET the object afresh
 * (namespace and name from obj), mutate that and PUT again, up to
 * o->attempts writes. The re-read is the back-off (client-go waits 10 ms
 * more). cb gets the server's object, or the last error (OP_ECONFLICT when
 * every attempt conflicted). obj is borrowed (copied before returning); o
 * may be NULL. Returns 0 (cb will run once), K8S_MUTATE_SKIP or an error
 * (cb never runs). */
int k8s_update_retry(struct k8s_client *c, const struct k8s_gvr *gvr,
                     json_t *obj, const struct k8s_retry_opts *o,
                     k8s_mutate_fn mutate, void *mutate_arg, k8s_obj_cb cb,
                     void *arg);

/* ---- pure helpers (exposed for tests and other modules) ---------------- */

/* "/api/v1/namespaces/ns/pods/name/status" with each segment escaped.
 * ns/name/sub may be NULL. OP_EINVAL for "", "." or ".." segments. */
int k8s_path_build(struct buf *out, const struct k8s_gvr *gvr, const char *ns,
                   const char *name, const char *sub);
/* Append "?k=v" or "&k=v" with v percent-escaped (RFC 3986 unreserved kept).
 */
int k8s_query_add(struct buf *out, const char *key, const char *value);
/* Percent-escape everything except RFC 3986 unreserved characters. */
int k8s_escape(struct buf *out, const char *s);

/* Map an HTTP status and its (optional) Status body to an op_err, filling e
 * (may be NULL) with code, http_status, reason (code_str) and message. */
int k8s_status_to_err(long http_status, json_t *status, struct op_error *e);

/* Parse Retry-After (delta seconds or HTTP-date) into ms; -1 if absent or
 * unparseable. now_s is the current wall time for dates. */
long long k8s_retry_after_ms(const char *value, long long now_s);

/* Token bucket (client-go flowcontrol.NewTokenBucketRateLimiter). */
struct k8s_tbucket {
  double qps, burst, tokens;
  uint64_t last_ms;
};
void k8s_tbucket_init(struct k8s_tbucket *tb, double qps, double burst,
                      uint64_t now_ms);
/* Take one token: returns 0 when taken, else the ms until one is available
 * (nothing taken). */
uint64_t k8s_tbucket_take(struct k8s_tbucket *tb, uint64_t now_ms);

/* Object accessors (borrowed strings or NULL). */
const char *k8s_obj_str(json_t *obj, const char *section, const char *key);
const char *k8s_obj_name(json_t *obj);
const char *k8s_obj_namespace(json_t *obj);
const char *k8s_obj_rv(json_t *obj);
const char *k8s_obj_uid(json_t *obj);

#endif
