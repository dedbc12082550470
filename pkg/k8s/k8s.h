/* Kubernetes REST client core: the seam between pkg/k8s (which implements
 * it) and pkg/cache (informers, which consume list and watch).
 *
 * Objects are jansson values. Callbacks receive BORROWED references valid
 * only for the duration of the callback; keep one with json_incref.
 * Callback contract as everywhere: if a function taking a callback returns
 * an error, the callback is never called; if it returns 0, the completion
 * callback is called exactly once (watch: done_cb exactly once).
 */
#ifndef PKG_K8S_K8S_H
#define PKG_K8S_K8S_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct k8s_client;
struct k8s_watch;

/* A resource type: group "" for the core API ("/api/v1"), else
 * "/apis/<group>/<version>". */
struct k8s_gvr {
  const char *group;
  const char *version;
  const char *resource; /* plural, e.g. "accounts" */
  bool namespaced;
};

struct k8s_list_opts {
  const char *namespace;        /* NULL or "" = all namespaces */
  const char *label_selector;   /* NULL = none */
  const char *field_selector;   /* NULL = none */
  const char *resource_version; /* NULL = consistent read; "0" = any */
  long limit;                   /* 0 = server default (no paging) */
  const char *continue_token;   /* from the previous page */
  /* Leave out the items' metadata.managedFields while decoding (a cache
   * drops them anyway; they are a third of a listed object's bytes). */
  bool drop_managed_fields;
};

/* err: 0 on success (list is the decoded List object: .items,
 * .metadata.resourceVersion, .metadata.continue), else OP_ENOTFOUND,
 * OP_EGONE (expired continue token or too old resourceVersion),
 * OP_ETHROTTLED (429), OP_ECONFLICT, OP_EINVALIDOBJ, OP_EUNAUTHORIZED,
 * OP_EFORBIDDEN, OP_EHTTP, transport errors. detail (may be NULL on
 * success) carries the Status message and HTTP code. */
typedef void (*k8s_list_cb)(int err, json_t *list,
                            const struct op_error *detail, void *arg);

/* One page of a list. */
int k8s_list(struct k8s_client *c, const struct k8s_gvr *gvr,
             const struct k8s_list_opts *opts, k8s_list_cb cb, void *arg);

enum k8s_event_type {
  K8S_EV_ADDED,
  K8S_EV_MODIFIED,
  K8S_EV_DELETED,
  K8S_EV_BOOKMARK,
  K8S_EV_ERROR
};

struct k8s_watch_opts {
  const char *namespace;
  const char *label_selector;
  const char *field_selector;
  const char *resource_version; /* start after this version */
  bool allow_bookmarks;
  int timeout_seconds;      /* server-side timeout; 0 = random 300..600 */
  size_t max_event_bytes;   /* framing cap per event line; 0 = 4 MiB */
  bool drop_managed_fields; /* as in k8s_list_opts, for each event */
  /* A streaming list (WatchList): ADDED for every current object first,
   * then a BOOKMARK annotated K8S_INITIAL_EVENTS_END, then the changes
   * (sendInitialEvents=true, resourceVersionMatch=NotOlderThan; with
   * resource_version unset: at least as new as a consistent read). Served
   * from the API server's watch cache, object by object. */
  bool send_initial_events;
};

#define K8S_INITIAL_EVENTS_END "k8s.io/initial-events-end"

/* One decoded event. For K8S_EV_ERROR, obj is the Status object; the watch
 * then ends with done_cb(OP_EGONE) when its code is 410. */
typedef void (*k8s_watch_event_cb)(enum k8s_event_type type, json_t *obj,
                                   void *arg);
/* The watch ended: 0 = the server closed it cleanly (timeout), OP_EGONE =
 * 410 (relist needed), OP_ECANCELED = k8s_watch_stop, OP_EPARSE /
 * OP_ETOOBIG = bad framing, else HTTP or transport errors. */
typedef void (*k8s_watch_done_cb)(int err, const struct op_error *detail,
                                  void *arg);

int k8s_watch_start(struct k8s_client *c, const struct k8s_gvr *gvr,
                    const struct k8s_watch_opts *opts,
                    k8s_watch_event_cb event_cb, k8s_watch_done_cb done_cb,
                    void *arg, struct k8s_watch **out);
/* Safe from inside the watch's own callbacks; done_cb then runs once with
 * OP_ECANCELED, later, from a safe point. */
void k8s_watch_stop(struct k8s_watch *w);

#endif
