/* The event loop: one uv_loop_t, SIGTERM/SIGINT, a periodic duty timer
 * (redis's serverCron), a deferred-free list drained after each iteration
 * (redis's freeClientAsync), and orderly shutdown.
 *
 * Shutdown: a signal (or loop_request_stop) sets `stopping`, then calls the
 * registered stop hooks newest first. Each hook must stop taking work,
 * cancel what is in flight and uv_close its handles. The loop's own handles
 * are closed too, so uv_run returns once every close callback has run.
 * A deadline (default 5 s) bounds the whole thing: loop_run returns
 * OP_ETIMEDOUT if handles are still open then.
 *
 * struct loop is caller-allocated (libuv style). Lifecycle:
 *   loop_init -> (register hooks, duties, start modules) -> loop_run ->
 *   loop_cleanup (asserts uv_loop_close == 0).
 */
#ifndef PKG_LOOP_LOOP_H
#define PKG_LOOP_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef void (*loop_fn)(void *arg);

struct loop_hook;
struct loop_duty;
struct loop_deferred;

struct loop {
  uv_loop_t uv; /* public: modules init their handles on &l->uv */
  bool stopping;
  /* private */
  uv_signal_t sigterm, sigint;
  uv_timer_t cron, deadline;
  uv_check_t check;
  uint64_t cron_ms, deadline_ms;
  struct loop_hook *hooks;
  struct loop_duty *duties;
  struct loop_deferred *deferred;
  bool timed_out, closing;
  int signo; /* the signal that started shutdown, or 0 */
};

/* cron_ms: period of the duty timer (0 = 250 ms). */
int loop_init(struct loop *l, uint64_t cron_ms);
/* Install SIGTERM and SIGINT handlers that start shutdown. */
int loop_handle_signals(struct loop *l);
/* Called on shutdown, newest first. */
void loop_on_stop(struct loop *l, loop_fn fn, void *arg);
/* Run fn every period_ms (rounded to the cron period) until shutdown.
 * name is for logs; it must outlive the loop (a literal). */
void loop_add_duty(struct loop *l, const char *name, uint64_t period_ms,
                   loop_fn fn, void *arg);
/* Call fn(p) after the current loop iteration: for objects that cannot be
 * freed while the current call stack still uses them. */
void loop_defer(struct loop *l, loop_fn fn, void *p);
/* Begin orderly shutdown (idempotent). */
void loop_request_stop(struct loop *l, const char *why);
/* Shutdown deadline in ms (default 5000). */
void loop_set_deadline(struct loop *l, uint64_t ms);
/* Run until every handle is closed. Returns 0, or OP_ETIMEDOUT when the
 * shutdown deadline passed with handles still open. */
int loop_run(struct loop *l);
/* Free the loop's memory; returns 0 or OP_EBUSY if handles remain. */
int loop_cleanup(struct loop *l);

#endif
