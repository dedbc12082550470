/* The priority gate (workqueue.h). */
#include <stdlib.h>

#include "util/util.h"
#include "workqueue/workqueue.h"
#include "workqueue/workqueue_int.h"

#define NS_PER_MS 1000000ull

/* Owner: whoever called wq_gate_new, until wq_gate_close; then the close
 * callback of its timer. Queues are borrowed (each unregisters itself). */
struct wq_gate {
  uv_timer_t timer; /* wakes the yielding queues when a hold expires */
  unsigned held;
  uint64_t since_ns, max_ns;
  wq_clock_fn clock;
  void *clock_arg;
  struct wq *q[WQ_GATE_MAX];
  size_t nq;
  bool closing;
};

static uint64_t gate_now(const struct wq_gate *g)
{
  return g->clock ? g->clock(g->clock_arg) : uv_hrtime();
}

struct wq_gate *wq_gate_new(uv_loop_t *loop, uint64_t max_hold_ms,
                            wq_clock_fn clock, void *clock_arg)
{
  struct wq_gate *g = util_xcalloc(1, sizeof(*g));

  uv_timer_init(loop, &g->timer);
  g->timer.data = g;
  g->max_ns = max_hold_ms * NS_PER_MS;
  g->clock = clock;
  g->clock_arg = clock_arg;
  return g;
}

static void wake_all(struct wq_gate *g)
{
  size_t i;

  for (i = 0; i < g->nq; i++)
    wq__gate_opened(g->q[i]);
}

/* The timer runs on the loop's cached clock, which lags the gate's
 * (uv_hrtime, read at the hold): it can fire while the hold still blocks,
 * and the queues woken then would stay blocked until the holder released.
 * Re-armed for what is left instead. */
static void on_expired(uv_timer_t *t)
{
  struct wq_gate *g = t->data;

  if (wq_gate_blocks(g)) /* held for less than max_ns by the gate's clock */
    uv_timer_start(&g->timer, on_expired,
                   (g->max_ns - (gate_now(g) - g->since_ns)) / NS_PER_MS + 1,
                   0);
  else
    wake_all(g);
}

static void on_closed(uv_handle_t *h)
{
  free(h->data);
}

void wq_gate_close(struct wq_gate *g)
{
  size_t i;

  if (!g || g->closing)
    return;
  g->closing = true;
  for (i = 0; i < g->nq; i++)
    wq__gate_detach(g->q[i]);
  wake_all(g); /* nothing waits for a gate that is gone */
  g->nq = 0;
  uv_close((uv_handle_t *)&g->timer, on_closed);
}

void wq_gate_hold(struct wq_gate *g)
{
  if (!g || g->closing || g->held++)
    return;
  g->since_ns = gate_now(g);
  uv_timer_start(&g->timer, on_expired, g->max_ns / NS_PER_MS, 0);
}

void wq_gate_release(struct wq_gate *g)
{
  if (!g || g->closing || !g->held || --g->held)
    return;
  uv_timer_stop(&g->timer);
  wake_all(g);
}

bool wq_gate_blocks(const struct wq_gate *g)
{
  return g && !g->closing && g->held && gate_now(g) - g->since_ns < g->max_ns;
}

int wq_gate_add(struct wq_gate *g, struct wq *q)
{
  if (g->closing)
    return OP_ESTATE;
  if (g->nq == WQ_GATE_MAX)
    return OP_ELIMIT;
  g->q[g->nq++] = q;
  return 0;
}

void wq_gate_remove(struct wq_gate *g, struct wq *q)
{
  size_t i;

  for (i = 0; i < g->nq; i++) {
    if (g->q[i] == q) {
      g->q[i] = g->q[--g->nq];
      return;
    }
  }
}
