/* Rate-limited work queue with client-go semantics (util/workqueue), for one
 * single-threaded libuv loop.
 *
 * Keys are strings ("namespace/name"), copied on add. Properties:
 *  - fair: keys are handed out in the order they were first added (FIFO),
 *    except those added with wq_add_first (the head);
 *  - stingy: a key is never handed out twice at once, and adding a key that
 *    is already waiting in the queue is a no-op (duplicate adds collapse);
 *  - a key added while it is being processed is marked dirty and queued
 *    again by wq_done;
 *  - wq_add_after: delayed adds, kept in one min-heap served by a single
 *    uv timer; re-adding a waiting key keeps the earlier deadline;
 *  - wq_add_rate_limited: delay = max(per-key exponential backoff
 *    base * 2^failures capped at max, overall token bucket (qps, burst)),
 *    like client-go's DefaultControllerRateLimiter (5 ms .. 1000 s, 10 qps,
 *    burst 100). wq_forget resets a key's failures.
 *
 * Consumer model: there are no threads to block, so the consumer pulls.
 * wq_get hands out the next key (borrowed, valid until wq_done for it).
 * A consumer that wants to be told when to pull registers a ready callback:
 * it is called from the loop (never from inside wq_add) whenever keys are
 * waiting in the FIFO, and the consumer then calls wq_get as long as it has
 * capacity. This is how the controller runtime bounds concurrency: it stops
 * pulling when full and pulls again after each wq_done.
 *
 * Shutdown: wq_shutdown refuses new adds (OP_ESHUTDOWN), drops delayed adds,
 * keeps handing out what is already queued, then wq_get returns
 * OP_ESHUTDOWN; the ready callback runs once more so consumers notice.
 * wq_close shuts down, closes the uv handles and frees the queue in their
 * close callbacks (libuv's rule), then calls cb.
 *
 * Metrics (optional) are controller-runtime's workqueue_* families, label
 * "name"; create the families once per registry with wq_metrics_new and
 * share them among queues.
 */
#ifndef PKG_WORKQUEUE_WORKQUEUE_H
#define PKG_WORKQUEUE_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util/err.h"

struct wq;
struct met_registry;
struct met_family;

/* The workqueue_* families (borrowed from the registry); public so tests
 * and collectors can read series with met_value. */
struct wq_metrics {
  struct met_family *depth, *adds, *queue_lat, *work_dur, *retries;
  struct met_family *unfinished, *longest;
};

/* A monotonic clock in nanoseconds (default: uv_hrtime). */
typedef uint64_t (*wq_clock_fn)(void *arg);
typedef void (*wq_ready_cb)(struct wq *q, void *arg);
typedef void (*wq_close_cb)(void *arg);

struct wq_opts {
  const char *name;           /* metrics label and logs; copied */
  struct wq_metrics *metrics; /* borrowed, may be NULL */
  uint64_t base_delay_ms;     /* 0 = 5 */
  uint64_t max_delay_ms;      /* 0 = 1000 s */
  double qps;                 /* 0 = 10; negative = no token bucket */
  unsigned burst;             /* 0 = 100 */
  wq_clock_fn clock;          /* NULL = uv_hrtime */
  void *clock_arg;
};

#define WQ_DEFAULT_BASE_DELAY_MS 5
#define WQ_DEFAULT_MAX_DELAY_MS 1000000
#define WQ_DEFAULT_QPS 10.0
#define WQ_DEFAULT_BURST 100

/* Register the workqueue_* families on r (once per registry). */
struct wq_metrics *wq_metrics_new(struct met_registry *r);
void wq_metrics_free(struct wq_metrics *m);

/* opts may be NULL (defaults, no metrics). Never returns NULL. */
struct wq *wq_new(uv_loop_t *loop, const struct wq_opts *opts);
/* Shut down, close the handles, free the queue, then call cb (may be NULL).
 * Keys still being processed are dropped: do not call wq_done afterwards. */
void wq_close(struct wq *q, wq_close_cb cb, void *arg);
void wq_shutdown(struct wq *q);
bool wq_shutting_down(const struct wq *q);

/* 0, or OP_ESHUTDOWN. */
int wq_add(struct wq *q, const char *key);
int wq_add_after(struct wq *q, const char *key, uint64_t delay_ms);
/* As wq_add and wq_add_after, but the key goes to the FIFO's head when it
 * becomes ready (moved there when already waiting in the FIFO; after
 * wq_done when being processed): for the few keys whose turn frees or
 * takes a scarce resource, e.g. an org-wide CreateAccount slot. The flag
 * holds until the key is handed out. */
int wq_add_first(struct wq *q, const char *key);
int wq_add_after_first(struct wq *q, const char *key, uint64_t delay_ms);
/* Add after the rate limiter's delay for key (counts one more failure). */
int wq_add_rate_limited(struct wq *q, const char *key);
/* The rate limiter alone: returns the delay in ms for key and counts one
 * more failure (client-go's RateLimiter.When). */
uint64_t wq_when(struct wq *q, const char *key);
/* Reset key's failure count. */
void wq_forget(struct wq *q, const char *key);
unsigned wq_num_requeues(const struct wq *q, const char *key);

/* Hand out the next key: 0 and *key_out (borrowed, valid until wq_done for
 * that key), OP_ENOTFOUND when nothing is queued, OP_ESHUTDOWN when shut
 * down and drained. */
int wq_get(struct wq *q, const char **key_out);
/* Finish processing key; a key re-added meanwhile is queued again. */
void wq_done(struct wq *q, const char *key);

void wq_set_ready_cb(struct wq *q, wq_ready_cb cb, void *arg);

/* A priority gate, for one loop: a queue set to yield to it hands out
 * nothing while it is held, so that the holder's work (a claim being
 * served: its steps chain from their callbacks) is not delayed behind
 * other controllers' reconciles on the one loop thread. Holds nest (a
 * count). A busy period (held from 0 until back to 0) holds the queues
 * back for at most max_hold_ms: after that they run as usual, so no
 * holder can starve them. When the gate opens (released to 0, expired,
 * or closed) the yielding queues with keys waiting call their ready
 * callback again. clock may be NULL (uv_hrtime). */
struct wq_gate;
#define WQ_GATE_MAX 16 /* queues yielding to one gate */
struct wq_gate *wq_gate_new(uv_loop_t *loop, uint64_t max_hold_ms,
                            wq_clock_fn clock, void *clock_arg);
/* The queues yield no more; freed once its timer closed. NULL is fine. */
void wq_gate_close(struct wq_gate *g);
void wq_gate_hold(struct wq_gate *g);    /* NULL is fine */
void wq_gate_release(struct wq_gate *g); /* NULL is fine */
bool wq_gate_blocks(const struct wq_gate *g);
/* q yields to g from now on (NULL: to none). 0, or OP_ELIMIT. */
int wq_set_gate(struct wq *q, struct wq_gate *g);

size_t wq_len(const struct wq *q);        /* keys waiting in the FIFO */
size_t wq_processing(const struct wq *q); /* keys handed out, not done */
size_t wq_delayed(const struct wq *q);    /* keys waiting for a deadline */
bool wq_is_processing(const struct wq *q, const char *key);

/* Move delayed keys whose deadline passed into the FIFO. The timer does it;
 * tests with an injected clock call it after advancing the clock. */
void wq_process_delayed(struct wq *q);
/* Refresh workqueue_unfinished_work_seconds and
 * workqueue_longest_running_processor_seconds (a 500 ms timer does it). */
void wq_update_metrics(struct wq *q);

#endif
