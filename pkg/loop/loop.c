#include "loop/loop.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "util/err.h"
#include "util/timeutil.h"
#include "util/util.h"

struct loop_hook {
  struct loop_hook *next;
  loop_fn fn;
  void *arg;
};

struct loop_duty {
  struct loop_duty *next;
  const char *name;
  uint64_t period_ms, due_ms;
  loop_fn fn;
  void *arg;
};

struct loop_deferred {
  struct loop_deferred *next;
  loop_fn fn;
  void *p;
};

static void drain_deferred(struct loop *l)
{
  while (l->deferred) {
    struct loop_deferred *list = l->deferred, *d;
    l->deferred = NULL;
    /* Callbacks may defer more; those run in the next pass. */
    while ((d = list)) {
      list = d->next;
      d->fn(d->p);
      free(d);
    }
  }
}

static void on_check(uv_check_t *h)
{
  drain_deferred(container_of(h, struct loop, check));
}

static void on_cron(uv_timer_t *h)
{
  struct loop *l = container_of(h, struct loop, cron);
  uint64_t now = time_mono_ms();
  struct loop_duty *d;

  for (d = l->duties; d && !l->stopping; d = d->next) {
    if (now < d->due_ms)
      continue;
    d->due_ms = now + d->period_ms;
    d->fn(d->arg);
  }
}

static void on_signal(uv_signal_t *h, int signo)
{
  struct loop *l = h->data;

  l->signo = signo;
  loop_request_stop(l, signo == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void on_deadline(uv_timer_t *h)
{
  struct loop *l = container_of(h, struct loop, deadline);

  log_error("loop", "shutdown deadline of %llu ms passed, stopping anyway",
            (unsigned long long)l->deadline_ms);
  l->timed_out = true;
  uv_stop(&l->uv);
}

int loop_init(struct loop *l, uint64_t cron_ms)
{
  int rc;

  memset(l, 0, sizeof(*l));
  l->cron_ms = cron_ms ? cron_ms : 250;
  l->deadline_ms = 5000;
  rc = uv_loop_init(&l->uv);
  if (rc)
    return OP_ESYS;
  uv_timer_init(&l->uv, &l->cron);
  uv_timer_init(&l->uv, &l->deadline);
  uv_check_init(&l->uv, &l->check);
  uv_check_start(&l->check, on_check);
  uv_unref((uv_handle_t *)&l->check);
  uv_timer_start(&l->cron, on_cron, l->cron_ms, l->cron_ms);
  uv_unref((uv_handle_t *)&l->cron);
  uv_signal_init(&l->uv, &l->sigterm);
  uv_signal_init(&l->uv, &l->sigint);
  l->sigterm.data = l->sigint.data = l;
  return 0;
}

int loop_handle_signals(struct loop *l)
{
  /* A peer that hangs up (a scrape cut short, a stand-in or API server
   * going away) must cost a write error, not the process: SIGPIPE's
   * default action would kill the daemon without a word. */
  if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
    return OP_ESYS;
  if (uv_signal_start(&l->sigterm, on_signal, SIGTERM) ||
      uv_signal_start(&l->sigint, on_signal, SIGINT))
    return OP_ESYS;
  /* Signal watchers alone must not keep the loop alive. */
  uv_unref((uv_handle_t *)&l->sigterm);
  uv_unref((uv_handle_t *)&l->sigint);
  return 0;
}

void loop_on_stop(struct loop *l, loop_fn fn, void *arg)
{
  struct loop_hook *h = util_xcalloc(1, sizeof(*h));

  h->fn = fn;
  h->arg = arg;
  h->next = l->hooks;
  l->hooks = h;
}

void loop_add_duty(struct loop *l, const char *name, uint64_t period_ms,
                   loop_fn fn, void *arg)
{
  struct loop_duty *d = util_xcalloc(1, sizeof(*d)), **pp = &l->duties;

  d->name = name;
  d->period_ms = period_ms;
  d->due_ms = time_mono_ms() + period_ms;
  d->fn = fn;
  d->arg = arg;
  while (*pp)
    pp = &(*pp)->next;
  *pp = d;
}

void loop_defer(struct loop *l, loop_fn fn, void *p)
{
  struct loop_deferred *d = util_xcalloc(1, sizeof(*d));

  d->fn = fn;
  d->p = p;
  d->next = l->deferred;
  l->deferred = d;
  /* Make sure an iteration happens even if nothing else is pending. */
  uv_ref((uv_handle_t *)&l->check);
  uv_stop(&l->uv);
}

void loop_set_deadline(struct loop *l, uint64_t ms)
{
  l->deadline_ms = ms;
}

static void close_own_handles(struct loop *l)
{
  uv_handle_t *hs[] = { (uv_handle_t *)&l->sigterm, (uv_handle_t *)&l->sigint,
                        (uv_handle_t *)&l->cron };
  size_t i;

  bool handled = uv_is_active((uv_handle_t *)&l->sigterm);

  for (i = 0; i < UTIL_ARRAY_SIZE(hs); i++) {
    if (!uv_is_closing(hs[i]))
      uv_close(hs[i], NULL);
  }
  /* Closing a signal watcher restores the default action, under which a
   * second SIGTERM or SIGINT (a Ctrl-C that also reaches a wrapper script
   * which then sends SIGTERM) would kill the process in the middle of its
   * clean shutdown; the deadline bounds that shutdown instead. */
  if (handled) {
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
  }
}

void loop_request_stop(struct loop *l, const char *why)
{
  struct loop_hook *h;

  if (l->stopping)
    return;
  l->stopping = true;
  log_info("loop", "shutting down: %s", why ? why : "requested");
  uv_timer_start(&l->deadline, on_deadline, l->deadline_ms, 0);
  uv_unref((uv_handle_t *)&l->deadline);
  for (h = l->hooks; h; h = h->next)
    h->fn(h->arg);
  close_own_handles(l);
}

/* True when only our own unref'd housekeeping handles remain. */
static void count_handle(uv_handle_t *h, void *arg)
{
  if (!uv_is_closing(h) && uv_has_ref(h))
    ++*(int *)arg;
}

int loop_run(struct loop *l)
{
  int live;

  for (;;) {
    uv_unref((uv_handle_t *)&l->check);
    uv_run(&l->uv, UV_RUN_DEFAULT);
    drain_deferred(l);
    if (l->timed_out)
      return OP_ETIMEDOUT;
    live = 0;
    uv_walk(&l->uv, count_handle, &live);
    if (!uv_loop_alive(&l->uv) && !l->deferred && live == 0)
      break;
  }
  return 0;
}

static void close_any(uv_handle_t *h, void *arg)
{
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

int loop_cleanup(struct loop *l)
{
  struct loop_hook *h;
  struct loop_duty *d;
  int rc;

  /* Close what is left of our own (deadline, check, unused signals). */
  uv_walk(&l->uv, close_any, NULL);
  uv_run(&l->uv, UV_RUN_DEFAULT);
  drain_deferred(l);
  rc = uv_loop_close(&l->uv);
  while ((h = l->hooks)) {
    l->hooks = h->next;
    free(h);
  }
  while ((d = l->duties)) {
    l->duties = d->next;
    free(d);
  }
  return rc ? OP_EBUSY : 0;
}
