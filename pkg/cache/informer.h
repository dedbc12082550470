/* Informer: one per resource type (client-go's reflector + shared
 * informer), on one libuv loop.
 *
 * Lifecycle (curl's explicit state machine):
 *   LISTING  pages of limit/continue, consistent (resourceVersion
 *            unset: the watch cache's "0" ignores limit, so a large fleet
 *            would arrive in one response).
 *            When the last page arrives the store is replaced; keys that
 *            vanished are reported to handlers as deletions with
 *            final_state_unknown (DeletedFinalStateUnknown).
 *   WATCHING from the list's resourceVersion with bookmarks. Bookmarks only
 *            advance the resourceVersion. A clean server close re-watches
 *            at once (unless the watch lasted under a second without an
 *            event: client-go's "very short watch", handled as an error); 410
 * (at start or in-stream) relists; any other error waits in BACKOFF and
 * re-watches from the last resourceVersion. BACKOFF  800 ms doubling to 30 s
 * with jitter 1.0; the backoff resets when no failure happened for 2 minutes
 * (client-go's backoff manager). STOPPED  after inf_stop.
 *
 * Handlers run on the loop after the store was updated: on_add(obj),
 * on_update(old, new) (skipped when the resourceVersion did not change,
 * e.g. on a relist that found the object unchanged), on_delete(obj,
 * final_state_unknown). Objects are BORROWED for the duration of the call.
 * has_synced turns true after the first complete list, then on_synced runs
 * once per handler.
 *
 * The list/watch calls go through an ops table (struct inf_source): the
 * Kubernetes client in production (inf_new in informer_k8s.c), a fake in
 * tests (inf_new_source).
 */
#ifndef PKG_CACHE_INFORMER_H
#define PKG_CACHE_INFORMER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cache/store.h"
#include "k8s/k8s.h"

struct inf;

/* The list/watch seam; the functions have k8s_list/k8s_watch_start/
 * k8s_watch_stop's contracts, with src in place of the client. */
struct inf_source {
  int (*list)(void *src, const struct k8s_gvr *gvr,
              const struct k8s_list_opts *opts, k8s_list_cb cb, void *arg);
  int (*watch_start)(void *src, const struct k8s_gvr *gvr,
                     const struct k8s_watch_opts *opts,
                     k8s_watch_event_cb event_cb, k8s_watch_done_cb done_cb,
                     void *arg, struct k8s_watch **out);
  void (*watch_stop)(void *src, struct k8s_watch *w);
};

typedef uint64_t (*inf_clock_fn)(void *arg); /* monotonic ns */

struct inf_opts {
  struct k8s_gvr gvr;          /* strings borrowed: must outlive the inf */
  const char *namespace;       /* NULL/"" = all namespaces; copied */
  const char *label_selector;  /* copied */
  const char *field_selector;  /* copied */
  long page_size;              /* 0 = 500 */
  unsigned store_flags;        /* STORE_KEEP_LAST_APPLIED, STORE_COMPACT */
  uint64_t backoff_initial_ms; /* 0 = 800 */
  uint64_t backoff_max_ms;     /* 0 = 30000 */
  uint64_t backoff_reset_ms;   /* 0 = 120000 */
  uint64_t rng_seed;           /* 0 = from the OS */
  /* The first list streams (a watch with sendInitialEvents, see
   * k8s_watch_opts); lists in pages if the server refuses or the stream
   * ends before its initial events do. Relists are always in pages. */
  bool watch_list;
  inf_clock_fn clock; /* NULL = uv_hrtime */
  void *clock_arg;
};

struct inf_handler {
  void (*on_add)(const json_t *obj, void *arg);
  void (*on_update)(const json_t *old_obj, const json_t *new_obj, void *arg);
  void (*on_delete)(const json_t *obj, bool final_state_unknown, void *arg);
  void (*on_synced)(void *arg);
  void *arg;
};

enum inf_state {
  INF_IDLE,
  INF_LISTING,
  INF_WATCHING,
  INF_BACKOFF,
  INF_STOPPED
};

typedef void (*inf_close_cb)(void *arg);

/* Production constructor: list/watch through the Kubernetes client
 * (informer_k8s.c). */
struct k8s_client;
/* Compact stores: free heap pages are handed back to the system after a
 * list, and after INF_RELEASE_AFTER objects were decoded and trimmed (a
 * burst of reads), INF_RELEASE_DELAY_MS later. */
#define INF_RELEASE_AFTER 1024
#define INF_RELEASE_DELAY_MS 1000
/* How many times this informer released them (for tests). */
size_t inf_pages_released(const struct inf *i);

struct inf *inf_new(uv_loop_t *loop, struct k8s_client *client,
                    const struct inf_opts *opts);
/* Any source (tests). src is borrowed. Never returns NULL. */
struct inf *inf_new_source(uv_loop_t *loop, const struct inf_source *ops,
                           void *src, const struct inf_opts *opts);

/* Register a handler (copied). On an informer that already listed, the
 * current objects are replayed as on_add and on_synced follows, as
 * client-go does for late handlers. Returns a handle id (> 0). */
int inf_add_handler(struct inf *i, const struct inf_handler *h);
/* Safe from inside a handler. */
void inf_remove_handler(struct inf *i, int id);

/* The store, for reads and for store_add_index before inf_start. */
struct store *inf_store(struct inf *i);
/* STORE_COMPACT: release what was decoded so far (store_trim), counted
 * as the prepare-phase trim counts it. Only from a loop callback that
 * holds no borrowed object, e.g. between two reconciles: a no-op
 * reconcile's objects are then freed while still in the CPU's caches,
 * instead of a whole batch's at the end of the loop iteration. */
void inf_trim(struct inf *i);

int inf_start(struct inf *i);
/* Stop listing and watching (idempotent); the store keeps its contents. */
void inf_stop(struct inf *i);
/* Stop, wait for the in-flight list/watch and the timer to finish, free,
 * then call cb (may be NULL). */
void inf_close(struct inf *i, inf_close_cb cb, void *arg);

bool inf_has_synced(const struct inf *i);
enum inf_state inf_state(const struct inf *i);
/* The last resourceVersion seen (list, event or bookmark); borrowed. */
const char *inf_resource_version(const struct inf *i);
/* The delay chosen for the current/last backoff wait, in ms. */
uint64_t inf_backoff_ms(const struct inf *i);
/* Skip the current backoff wait (tests; an operator's "retry now"). */
void inf_retry_now(struct inf *i);

#endif
