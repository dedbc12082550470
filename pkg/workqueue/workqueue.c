#include "workqueue/workqueue.h"
#include "workqueue/workqueue_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/map.h"
#include "util/util.h"

#define NOT_WAITING ((size_t)-1)
#define NS_PER_MS 1000000ull
#define METRICS_PERIOD_MS 500

/* One key known to the queue. It lives while it is dirty (queued or to be
 * requeued), processing, waiting for a deadline or has failures; then it is
 * freed. Owner: the queue's items map; key is owned by the item. */
struct wq_item {
  char *key;
  bool dirty, processing, in_fifo;
  bool first;     /* goes to the FIFO's head, not its tail (wq_add_first) */
  bool due_first; /* its deadline makes it first (wq_add_after_first) */
  unsigned failures;
  uint64_t added_ns;   /* when it entered the FIFO (queue duration) */
  uint64_t started_ns; /* when wq_get handed it out (work duration) */
  uint64_t due_ns;     /* deadline while waiting */
  uint64_t seq;        /* insertion order among equal deadlines */
  size_t heap_idx;     /* NOT_WAITING unless in the delay heap */
};

/* Owner of everything below: the queue. Handles are freed by wq_close. */
struct wq {
  uv_loop_t *loop;
  char *name;
  const char *labels[2]; /* { name, NULL }: metric label values */
  struct wq_metrics *m;  /* borrowed */
  struct map items;      /* key -> struct wq_item * */
  struct wq_item **fifo; /* ring buffer */
  size_t fifo_head, fifo_len, fifo_cap;
  struct wq_item **heap; /* min-heap on (due_ns, seq) */
  size_t heap_len, heap_cap;
  uint64_t seq;
  size_t nprocessing;
  uint64_t base_ns, max_ns;
  double qps, burst, tokens;
  uint64_t bucket_last_ns;
  bool bucket_init;
  wq_clock_fn clock;
  void *clock_arg;
  wq_ready_cb ready_cb;
  void *ready_arg;
  bool shutting_down, closing;
  uv_timer_t delay_timer, metrics_timer;
  uv_idle_t notify;
  int open_handles;
  wq_close_cb close_cb;
  void *close_arg;
  struct wq_gate *gate; /* borrowed: the gate this queue yields to */
};

static uint64_t default_clock(void *arg)
{
  (void)arg;
  return uv_hrtime();
}

static uint64_t now_ns(const struct wq *q)
{
  return q->clock(q->clock_arg);
}

static const char *const *lv(const struct wq *q)
{
  return q->labels;
}

/* ---- metrics -------------------------------------------------------- */

struct wq_metrics *wq_metrics_new(struct met_registry *r)
{
  static const char *const lbl[] = { "name", NULL };
  struct wq_metrics *m = util_xcalloc(1, sizeof(*m));
  double b[10];

  met_buckets_exponential(1e-8, 10, 10, b);
  m->depth = met_gauge(r, "workqueue_depth", "Current depth of workqueue", lbl);
  m->adds = met_counter(r, "workqueue_adds_total",
                        "Total number of adds handled by workqueue", lbl);
  m->queue_lat = met_histogram(r, "workqueue_queue_duration_seconds",
                               "How long in seconds an item stays in "
                               "workqueue before being requested",
                               b, 10, lbl);
  m->work_dur = met_histogram(r, "workqueue_work_duration_seconds",
                              "How long in seconds processing an item "
                              "from workqueue takes",
                              b, 10, lbl);
  m->retries = met_counter(r, "workqueue_retries_total",
                           "Total number of retries handled by workqueue", lbl);
  m->unfinished = met_gauge(
      r, "workqueue_unfinished_work_seconds",
      "How many seconds of work has been done that is in progress and "
      "hasn't been observed by work_duration. Large values indicate stuck "
      "threads. One can deduce the number of stuck threads by observing "
      "the rate at which this increases.",
      lbl);
  m->longest = met_gauge(r, "workqueue_longest_running_processor_seconds",
                         "How many seconds has the longest running "
                         "processor for workqueue been running.",
                         lbl);
  return m;
}

void wq_metrics_free(struct wq_metrics *m)
{
  free(m); /* the families belong to the registry */
}

static void set_depth(struct wq *q)
{
  if (q->m)
    met_set(q->m->depth, lv(q), (double)q->fifo_len);
}

void wq_update_metrics(struct wq *q)
{
  uint64_t now, total = 0, longest = 0;
  const char *k;
  void *v;
  size_t i = 0;

  if (!q->m || q->closing)
    return;
  now = now_ns(q);
  while (q->nprocessing && map_next(&q->items, &i, &k, &v)) {
    struct wq_item *it = v;
    uint64_t d;
    if (!it->processing)
      continue;
    d = now > it->started_ns ? now - it->started_ns : 0;
    total += d;
    longest = UTIL_MAX(longest, d);
  }
  met_set(q->m->unfinished, lv(q), (double)total / 1e9);
  met_set(q->m->longest, lv(q), (double)longest / 1e9);
}

static void on_metrics_timer(uv_timer_t *t)
{
  wq_update_metrics(t->data);
}

/* ---- items and the FIFO ---------------------------------------------- */

static struct wq_item *item_get(struct wq *q, const char *key, bool create)
{
  struct wq_item *it = map_get(&q->items, key);

  if (it || !create)
    return it;
  it = util_xcalloc(1, sizeof(*it));
  it->key = util_xstrdup(key);
  it->heap_idx = NOT_WAITING;
  map_put(&q->items, key, it, NULL);
  return it;
}

/* Free the item once nothing refers to it any more. */
static void item_maybe_free(struct wq *q, struct wq_item *it)
{
  if (it->dirty || it->processing || it->in_fifo ||
      it->heap_idx != NOT_WAITING || it->failures)
    return;
  map_del(&q->items, it->key);
  free(it->key);
  free(it);
}

static void item_free_cb(void *val, void *arg)
{
  struct wq_item *it = val;

  (void)arg;
  free(it->key);
  free(it);
}

static void on_notify(uv_idle_t *h)
{
  struct wq *q = h->data;

  uv_idle_stop(h);
  if (q->ready_cb && !q->closing)
    q->ready_cb(q, q->ready_arg);
}

/* Tell the consumer, from the loop and not from this call stack, that it
 * may pull. */
static void schedule_notify(struct wq *q)
{
  if (q->ready_cb && !q->closing)
    uv_idle_start(&q->notify, on_notify);
}

/* Grow the ring (full), keeping its order from index 0. */
static void fifo_grow(struct wq *q)
{
  size_t ncap = q->fifo_cap ? q->fifo_cap * 2 : 16, i;
  struct wq_item **n = util_xmalloc(ncap * sizeof(*n));

  for (i = 0; i < q->fifo_len; i++)
    n[i] = q->fifo[(q->fifo_head + i) % q->fifo_cap];
  free(q->fifo);
  q->fifo = n;
  q->fifo_cap = ncap;
  q->fifo_head = 0;
}

static void fifo_push(struct wq *q, struct wq_item *it)
{
  if (q->fifo_len == q->fifo_cap)
    fifo_grow(q);
  q->fifo[(q->fifo_head + q->fifo_len) % q->fifo_cap] = it;
  q->fifo_len++;
  it->in_fifo = true;
  it->added_ns = now_ns(q);
  set_depth(q);
  schedule_notify(q);
}

/* Put it at the head (taking it out of the FIFO first if it is there),
 * keeping its added_ns when it was already waiting. */
static void fifo_push_front(struct wq *q, struct wq_item *it)
{
  size_t i, n = q->fifo_len;

  for (i = 0; it->in_fifo && i < n; i++)
    if (q->fifo[(q->fifo_head + i) % q->fifo_cap] == it)
      break;
  if (it->in_fifo && i < n) { /* shift the ones before it back by one */
    for (; i > 0; i--)
      q->fifo[(q->fifo_head + i) % q->fifo_cap] =
          q->fifo[(q->fifo_head + i - 1) % q->fifo_cap];
    q->fifo[q->fifo_head] = it;
    schedule_notify(q);
    return;
  }
  if (q->fifo_len == q->fifo_cap)
    fifo_grow(q);
  q->fifo_head = (q->fifo_head + q->fifo_cap - 1) % q->fifo_cap;
  q->fifo[q->fifo_head] = it;
  q->fifo_len++;
  it->in_fifo = true;
  it->added_ns = now_ns(q);
  set_depth(q);
  schedule_notify(q);
}

/* Where a key that becomes ready goes. */
static void fifo_enter(struct wq *q, struct wq_item *it)
{
  if (it->first)
    fifo_push_front(q, it);
  else
    fifo_push(q, it);
}

static struct wq_item *fifo_pop(struct wq *q)
{
  struct wq_item *it;

  if (!q->fifo_len)
    return NULL;
  it = q->fifo[q->fifo_head];
  q->fifo_head = (q->fifo_head + 1) % q->fifo_cap;
  q->fifo_len--;
  it->in_fifo = false;
  set_depth(q);
  return it;
}

/* ---- the delay heap -------------------------------------------------- */

static bool heap_less(const struct wq_item *a, const struct wq_item *b)
{
  if (a->due_ns != b->due_ns)
    return a->due_ns < b->due_ns;
  return a->seq < b->seq;
}

static void heap_set(struct wq *q, size_t i, struct wq_item *it)
{
  q->heap[i] = it;
  it->heap_idx = i;
}

static void heap_up(struct wq *q, size_t i)
{
  struct wq_item *it = q->heap[i];

  while (i > 0 && heap_less(it, q->heap[(i - 1) / 2])) {
    heap_set(q, i, q->heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  heap_set(q, i, it);
}

static void heap_down(struct wq *q, size_t i)
{
  struct wq_item *it = q->heap[i];

  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= q->heap_len)
      break;
    if (c + 1 < q->heap_len && heap_less(q->heap[c + 1], q->heap[c]))
      c++;
    if (!heap_less(q->heap[c], it))
      break;
    heap_set(q, i, q->heap[c]);
    i = c;
  }
  heap_set(q, i, it);
}

static void heap_push(struct wq *q, struct wq_item *it)
{
  if (q->heap_len == q->heap_cap) {
    q->heap_cap = q->heap_cap ? q->heap_cap * 2 : 16;
    q->heap = util_xrealloc(q->heap, q->heap_cap * sizeof(*q->heap));
  }
  q->heap_len++;
  heap_set(q, q->heap_len - 1, it);
  heap_up(q, q->heap_len - 1);
}

static struct wq_item *heap_pop(struct wq *q)
{
  struct wq_item *top = q->heap[0];

  q->heap_len--;
  if (q->heap_len) {
    heap_set(q, 0, q->heap[q->heap_len]);
    heap_down(q, 0);
  }
  top->heap_idx = NOT_WAITING;
  return top;
}

static void on_delay_timer(uv_timer_t *t);

/* Point the single timer at the earliest deadline. */
static void arm_delay_timer(struct wq *q)
{
  uint64_t now, due, ms;

  if (q->closing)
    return;
  if (!q->heap_len) {
    uv_timer_stop(&q->delay_timer);
    return;
  }
  now = now_ns(q);
  due = q->heap[0]->due_ns;
  ms = due > now ? (due - now + NS_PER_MS - 1) / NS_PER_MS : 0;
  uv_timer_start(&q->delay_timer, on_delay_timer, ms, 0);
}

/* ---- lifecycle ------------------------------------------------------- */

static void apply_opts(struct wq *q, const struct wq_opts *o)
{
  q->name = util_xstrdup(o && o->name ? o->name : "");
  q->labels[0] = q->name;
  q->m = o ? o->metrics : NULL;
  q->base_ns =
      (o && o->base_delay_ms ? o->base_delay_ms : WQ_DEFAULT_BASE_DELAY_MS) *
      NS_PER_MS;
  q->max_ns =
      (o && o->max_delay_ms ? o->max_delay_ms : WQ_DEFAULT_MAX_DELAY_MS) *
      NS_PER_MS;
  q->qps = o && o->qps ? o->qps : WQ_DEFAULT_QPS;
  q->burst = o && o->burst ? o->burst : WQ_DEFAULT_BURST;
  q->clock = o && o->clock ? o->clock : default_clock;
  q->clock_arg = o ? o->clock_arg : NULL;
}

struct wq *wq_new(uv_loop_t *loop, const struct wq_opts *opts)
{
  struct wq *q = util_xcalloc(1, sizeof(*q));

  q->loop = loop;
  apply_opts(q, opts);
  map_init(&q->items);
  uv_timer_init(loop, &q->delay_timer);
  uv_timer_init(loop, &q->metrics_timer);
  uv_idle_init(loop, &q->notify);
  q->delay_timer.data = q->metrics_timer.data = q->notify.data = q;
  if (q->m) {
    uv_timer_start(&q->metrics_timer, on_metrics_timer, METRICS_PERIOD_MS,
                   METRICS_PERIOD_MS);
    /* Housekeeping must not keep the loop alive on its own. */
    uv_unref((uv_handle_t *)&q->metrics_timer);
    set_depth(q);
  }
  return q;
}

/* Drop every delayed add (client-go's delaying queue stops its waiter). */
static void drop_delayed(struct wq *q)
{
  while (q->heap_len)
    item_maybe_free(q, heap_pop(q));
  if (!q->closing)
    uv_timer_stop(&q->delay_timer);
}

void wq_shutdown(struct wq *q)
{
  if (q->shutting_down)
    return;
  q->shutting_down = true;
  drop_delayed(q);
  schedule_notify(q); /* consumers learn of it through wq_get */
}

bool wq_shutting_down(const struct wq *q)
{
  return q->shutting_down;
}

static void on_handle_closed(uv_handle_t *h)
{
  struct wq *q = h->data;
  wq_close_cb cb;
  void *arg;

  if (--q->open_handles > 0)
    return;
  cb = q->close_cb;
  arg = q->close_arg;
  map_cleanup(&q->items, item_free_cb, NULL);
  free(q->fifo);
  free(q->heap);
  free(q->name);
  free(q);
  if (cb)
    cb(arg);
}

int wq_set_gate(struct wq *q, struct wq_gate *g)
{
  int rc = g ? wq_gate_add(g, q) : 0;

  if (rc)
    return rc;
  if (q->gate)
    wq_gate_remove(q->gate, q);
  q->gate = g;
  return 0;
}

void wq__gate_detach(struct wq *q)
{
  q->gate = NULL;
}

void wq__gate_opened(struct wq *q)
{
  if (q->fifo_len)
    schedule_notify(q);
}

void wq_close(struct wq *q, wq_close_cb cb, void *arg)
{
  if (q->closing)
    return;
  wq_set_gate(q, NULL);
  wq_shutdown(q);
  q->closing = true;
  q->close_cb = cb;
  q->close_arg = arg;
  q->open_handles = 3;
  uv_close((uv_handle_t *)&q->delay_timer, on_handle_closed);
  uv_close((uv_handle_t *)&q->metrics_timer, on_handle_closed);
  uv_close((uv_handle_t *)&q->notify, on_handle_closed);
}

void wq_set_ready_cb(struct wq *q, wq_ready_cb cb, void *arg)
{
  q->ready_cb = cb;
  q->ready_arg = arg;
  if (q->fifo_len || q->shutting_down)
    schedule_notify(q);
}

/* ---- adding and handing out ----------------------------------------- */

int wq_add(struct wq *q, const char *key)
{
  struct wq_item *it;

  if (q->shutting_down)
    return OP_ESHUTDOWN;
  it = item_get(q, key, true);
  if (it->dirty)
    return 0; /* already queued, or queued again after wq_done */
  it->dirty = true;
  if (q->m)
    met_inc(q->m->adds, lv(q));
  if (!it->processing)
    fifo_enter(q, it);
  return 0;
}

int wq_add_first(struct wq *q, const char *key)
{
  struct wq_item *it;

  if (q->shutting_down)
    return OP_ESHUTDOWN;
  it = item_get(q, key, true);
  it->first = true;
  if (it->in_fifo) {
    fifo_push_front(q, it);
    return 0;
  }
  return wq_add(q, key); /* processing: wq_done puts it at the head */
}

int wq_add_after_first(struct wq *q, const char *key, uint64_t delay_ms)
{
  int rc;

  if (!delay_ms)
    return wq_add_first(q, key);
  rc = wq_add_after(q, key, delay_ms);
  if (rc == 0)
    item_get(q, key, true)->due_first = true;
  return rc;
}

int wq_add_after(struct wq *q, const char *key, uint64_t delay_ms)
{
  struct wq_item *it;
  uint64_t due;

  if (q->shutting_down)
    return OP_ESHUTDOWN;
  if (!delay_ms)
    return wq_add(q, key);
  due = now_ns(q) + delay_ms * NS_PER_MS;
  it = item_get(q, key, true);
  if (it->heap_idx != NOT_WAITING) {
    if (due < it->due_ns) { /* keep the earlier deadline */
      it->due_ns = due;
      heap_up(q, it->heap_idx);
    }
  } else {
    it->due_ns = due;
    it->seq = q->seq++;
    heap_push(q, it);
  }
  if (q->heap[0] == it)
    arm_delay_timer(q);
  return 0;
}

void wq_process_delayed(struct wq *q)
{
  uint64_t now;

  if (q->closing)
    return;
  now = now_ns(q);
  while (q->heap_len && q->heap[0]->due_ns <= now) {
    struct wq_item *it = heap_pop(q);
    if (it->due_first) {
      it->due_first = false;
      wq_add_first(q, it->key); /* keeps the item alive (dirty) */
    } else {
      wq_add(q, it->key);
    }
    item_maybe_free(q, it);
  }
  arm_delay_timer(q);
}

static void on_delay_timer(uv_timer_t *t)
{
  wq_process_delayed(t->data);
}

int wq_get(struct wq *q, const char **key_out)
{
  struct wq_item *it;
  uint64_t now;

  /* yielding: the gate's opening calls the ready callback again */
  if (q->gate && q->fifo_len && !q->shutting_down && wq_gate_blocks(q->gate))
    return OP_ENOTFOUND;
  it = fifo_pop(q);
  if (!it)
    return q->shutting_down ? OP_ESHUTDOWN : OP_ENOTFOUND;
  now = now_ns(q);
  if (q->m)
    met_observe(q->m->queue_lat, lv(q), (double)(now - it->added_ns) / 1e9);
  it->dirty = false;
  it->first = false;
  it->processing = true;
  it->started_ns = now;
  q->nprocessing++;
  *key_out = it->key;
  return 0;
}

void wq_done(struct wq *q, const char *key)
{
  struct wq_item *it = map_get(&q->items, key);

  if (!it || !it->processing)
    return;
  if (q->m)
    met_observe(q->m->work_dur, lv(q),
                (double)(now_ns(q) - it->started_ns) / 1e9);
  it->processing = false;
  q->nprocessing--;
  if (it->dirty && !q->closing)
    fifo_enter(q, it);
  else
    item_maybe_free(q, it); /* key may point into it: not used after */
}

/* ---- rate limiting --------------------------------------------------- */

/* Per-key exponential backoff: base * 2^failures, capped. */
static uint64_t item_delay_ns(struct wq *q, struct wq_item *it)
{
  double d = (double)q->base_ns * ldexp(1.0, (int)UTIL_MIN(it->failures, 64));

  if (it->failures < 1000)
    it->failures++;
  return d > (double)q->max_ns ? q->max_ns : (uint64_t)d;
}

/* Token bucket (golang.org/x/time/rate Reserve): refill at qps up to burst,
 * take one token; a negative balance is the wait. */
static uint64_t bucket_delay_ns(struct wq *q)
{
  uint64_t now = now_ns(q);

  if (q->qps < 0)
    return 0;
  if (!q->bucket_init) {
    q->bucket_init = true;
    q->tokens = q->burst;
    q->bucket_last_ns = now;
  }
  if (now > q->bucket_last_ns) {
    q->tokens += (double)(now - q->bucket_last_ns) / 1e9 * q->qps;
    if (q->tokens > q->burst)
      q->tokens = q->burst;
    q->bucket_last_ns = now;
  }
  q->tokens -= 1.0;
  if (q->tokens >= 0)
    return 0;
  return (uint64_t)ceil(-q->tokens / q->qps * 1e9);
}

uint64_t wq_when(struct wq *q, const char *key)
{
  struct wq_item *it = item_get(q, key, true);
  uint64_t a = item_delay_ns(q, it), b = bucket_delay_ns(q);

  return (UTIL_MAX(a, b) + NS_PER_MS - 1) / NS_PER_MS;
}

int wq_add_rate_limited(struct wq *q, const char *key)
{
  if (q->shutting_down)
    return OP_ESHUTDOWN;
  if (q->m)
    met_inc(q->m->retries, lv(q));
  return wq_add_after(q, key, wq_when(q, key));
}

void wq_forget(struct wq *q, const char *key)
{
  struct wq_item *it = map_get(&q->items, key);

  if (!it)
    return;
  it->failures = 0;
  item_maybe_free(q, it);
}

unsigned wq_num_requeues(const struct wq *q, const char *key)
{
  const struct wq_item *it = map_get(&q->items, key);

  return it ? it->failures : 0;
}

/* ---- introspection --------------------------------------------------- */

size_t wq_len(const struct wq *q)
{
  return q->fifo_len;
}

size_t wq_processing(const struct wq *q)
{
  return q->nprocessing;
}

size_t wq_delayed(const struct wq *q)
{
  return q->heap_len;
}

bool wq_is_processing(const struct wq *q, const char *key)
{
  const struct wq_item *it = map_get(&q->items, key);

  return it && it->processing;
}
