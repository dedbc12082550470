/* pkg/workqueue: the client-go properties (fair, stingy, re-add while
 * processing), delayed adds, the rate limiter maths, shutdown, metrics. */
#include <stdio.h>
#include <string.h>

#include "metrics/metrics.h"
#include "testutil.h"
#include "util/err.h"
#include "workqueue/workqueue.h"

#define MS 1000000ull

struct fake_clock {
  uint64_t ns;
};

static uint64_t fake_now(void *arg)
{
  return ((struct fake_clock *)arg)->ns;
}

static uv_loop_t loop;
static struct fake_clock clk;

static struct wq *new_fake_queue(double qps)
{
  struct wq_opts o = { 0 };

  o.name = "test";
  o.clock = fake_now;
  o.clock_arg = &clk;
  o.qps = qps;
  return wq_new(&loop, &o);
}

static void setup(void)
{
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  clk.ns = 1000 * MS;
}

static void teardown(void)
{
  ASSERT_LOOP_CLEAN(&loop);
}

static void close_queue(struct wq *q)
{
  wq_close(q, NULL, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
}

static void expect_get(struct wq *q, const char *want)
{
  const char *k = NULL;

  ck_assert_int_eq(wq_get(q, &k), 0);
  ck_assert_str_eq(k, want);
}

static void expect_empty(struct wq *q)
{
  const char *k = NULL;

  ck_assert_int_eq(wq_get(q, &k), OP_ENOTFOUND);
}

START_TEST(dedup)
{
  struct wq *q = new_fake_queue(0);

  ck_assert_int_eq(wq_add(q, "ns/a"), 0);
  ck_assert_int_eq(wq_add(q, "ns/b"), 0);
  ck_assert_int_eq(wq_add(q, "ns/a"), 0);
  ck_assert_uint_eq(wq_len(q), 2);
  expect_get(q, "ns/a");
  expect_get(q, "ns/b");
  expect_empty(q);
  wq_done(q, "ns/a");
  wq_done(q, "ns/b");
  ck_assert_uint_eq(wq_processing(q), 0);
  close_queue(q);
}
END_TEST

START_TEST(stingy_readd_while_processing)
{
  struct wq *q = new_fake_queue(0);
  const char *k;

  wq_add(q, "ns/a");
  expect_get(q, "ns/a");
  ck_assert(wq_is_processing(q, "ns/a"));
  /* Re-added while processing: not handed out again until done. */
  wq_add(q, "ns/a");
  wq_add(q, "ns/a");
  ck_assert_uint_eq(wq_len(q), 0);
  expect_empty(q);
  wq_add(q, "ns/b");
  expect_get(q, "ns/b");
  wq_done(q, "ns/a");
  ck_assert_uint_eq(wq_len(q), 1);
  ck_assert_int_eq(wq_get(q, &k), 0);
  ck_assert_str_eq(k, "ns/a");
  wq_done(q, k);
  wq_done(q, "ns/b");
  /* Done without a re-add: gone for good. */
  expect_empty(q);
  ck_assert_uint_eq(wq_processing(q), 0);
  /* wq_done for an unknown key is harmless. */
  wq_done(q, "ns/nope");
  close_queue(q);
}
END_TEST

START_TEST(fair_fifo)
{
  struct wq *q = new_fake_queue(0);
  char key[16];
  int i;

  for (i = 0; i < 100; i++) {
    snprintf(key, sizeof(key), "ns/k%d", i);
    wq_add(q, key);
  }
  /* Duplicates of early keys do not move them. */
  wq_add(q, "ns/k0");
  wq_add(q, "ns/k50");
  for (i = 0; i < 100; i++) {
    snprintf(key, sizeof(key), "ns/k%d", i);
    expect_get(q, key);
    wq_done(q, key);
    if (i == 10)
      wq_add(q, "ns/k3"); /* done already: goes to the back */
  }
  expect_get(q, "ns/k3");
  wq_done(q, "ns/k3");
  expect_empty(q);
  close_queue(q);
}
END_TEST

/* wq_add_first: a new key, a waiting key (moved, not duplicated), a key
 * being processed (head after wq_done), a delayed key (head when due),
 * and the flag ends when the key is handed out. */
START_TEST(add_first)
{
  struct wq *q = new_fake_queue(0);

  wq_add(q, "ns/a");
  wq_add(q, "ns/b");
  wq_add(q, "ns/c");
  ck_assert_int_eq(wq_add_first(q, "ns/c"), 0); /* waiting: moved */
  ck_assert_int_eq(wq_add_first(q, "ns/d"), 0); /* new: at the head */
  ck_assert_uint_eq(wq_len(q), 4);
  expect_get(q, "ns/d");
  expect_get(q, "ns/c");
  expect_get(q, "ns/a");
  wq_add_first(q, "ns/a"); /* processing: to the head once done */
  wq_add(q, "ns/c");       /* processing: to the tail once done */
  wq_done(q, "ns/c");
  wq_done(q, "ns/a");
  expect_get(q, "ns/a");
  expect_get(q, "ns/b");
  expect_get(q, "ns/c");
  expect_empty(q);
  wq_done(q, "ns/a");
  wq_done(q, "ns/b");
  wq_done(q, "ns/c");
  wq_done(q, "ns/d");
  wq_add(q, "ns/a"); /* handed out since: back to plain FIFO order */
  wq_add(q, "ns/d");
  expect_get(q, "ns/a");
  expect_get(q, "ns/d");
  wq_done(q, "ns/a");
  wq_done(q, "ns/d");
  close_queue(q);
}
END_TEST

START_TEST(add_after_first)
{
  struct wq *q = new_fake_queue(0);

  wq_add(q, "ns/a");
  ck_assert_int_eq(wq_add_after_first(q, "ns/p", 100), 0);
  wq_add_after(q, "ns/p", 100); /* a plain requeue keeps the flag */
  wq_add_after(q, "ns/x", 100);
  wq_add(q, "ns/b");
  clk.ns += 50 * MS;
  wq_process_delayed(q);
  ck_assert_uint_eq(wq_len(q), 2); /* not due yet */
  clk.ns += 50 * MS;
  wq_process_delayed(q);
  expect_get(q, "ns/p");
  expect_get(q, "ns/a");
  expect_get(q, "ns/b");
  expect_get(q, "ns/x");
  expect_empty(q);
  wq_done(q, "ns/p");
  wq_done(q, "ns/a");
  wq_done(q, "ns/b");
  wq_done(q, "ns/x");
  /* a plain add meanwhile does not jump; the deadline still does */
  wq_add_after_first(q, "ns/p", 100);
  wq_add(q, "ns/a");
  wq_add(q, "ns/p");
  expect_get(q, "ns/a");
  expect_get(q, "ns/p");
  wq_add(q, "ns/b");
  wq_done(q, "ns/a");
  wq_done(q, "ns/p");
  clk.ns += 100 * MS;
  wq_process_delayed(q);
  expect_get(q, "ns/p");
  expect_get(q, "ns/b");
  wq_done(q, "ns/p");
  wq_done(q, "ns/b");
  close_queue(q);
}
END_TEST

START_TEST(add_first_grows_ring)
{
  struct wq *q = new_fake_queue(0);
  char k[16];
  int i;

  for (i = 0; i < 40; i++) {
    snprintf(k, sizeof(k), "ns/%02d", i);
    if (i % 2)
      wq_add_first(q, k);
    else
      wq_add(q, k);
  }
  ck_assert_uint_eq(wq_len(q), 40);
  for (i = 39; i >= 1; i -= 2) {
    snprintf(k, sizeof(k), "ns/%02d", i);
    expect_get(q, k);
  }
  for (i = 0; i < 40; i += 2) {
    snprintf(k, sizeof(k), "ns/%02d", i);
    expect_get(q, k);
  }
  expect_empty(q);
  for (i = 0; i < 40; i++) {
    snprintf(k, sizeof(k), "ns/%02d", i);
    wq_done(q, k);
  }
  close_queue(q);
}
END_TEST

START_TEST(delayed_order)
{
  struct wq *q = new_fake_queue(0);

  wq_add_after(q, "ns/c", 30);
  wq_add_after(q, "ns/a", 10);
  wq_add_after(q, "ns/b", 20);
  wq_add_after(q, "ns/a", 50); /* later: the earlier deadline wins */
  wq_add_after(q, "ns/d", 20); /* same deadline as b: insertion order */
  ck_assert_uint_eq(wq_delayed(q), 4);
  ck_assert_uint_eq(wq_len(q), 0);
  clk.ns += 9 * MS;
  wq_process_delayed(q);
  expect_empty(q);
  clk.ns += 1 * MS;
  wq_process_delayed(q);
  expect_get(q, "ns/a");
  clk.ns += 20 * MS;
  wq_process_delayed(q);
  ck_assert_uint_eq(wq_len(q), 3);
  expect_get(q, "ns/b");
  expect_get(q, "ns/d");
  expect_get(q, "ns/c");
  ck_assert_uint_eq(wq_delayed(q), 0);
  /* Zero delay is an immediate add. */
  wq_add_after(q, "ns/e", 0);
  expect_get(q, "ns/e");
  /* A delayed key that is processing is only marked dirty when due. */
  wq_add_after(q, "ns/a", 5);
  clk.ns += 5 * MS;
  wq_process_delayed(q);
  expect_empty(q);
  wq_done(q, "ns/a");
  expect_get(q, "ns/a");
  close_queue(q);
}
END_TEST

static int ready_calls;

static void on_ready(struct wq *q, void *arg)
{
  (void)q;
  (void)arg;
  ready_calls++;
}

START_TEST(delayed_real_timer_and_ready_cb)
{
  struct wq *q = wq_new(&loop, NULL);
  int i;

  ready_calls = 0;
  wq_set_ready_cb(q, on_ready, NULL);
  wq_add(q, "ns/now");
  /* Never called from inside wq_add. */
  ck_assert_int_eq(ready_calls, 0);
  ck_assert(test_run_until(&loop, &ready_calls, 1000));
  expect_get(q, "ns/now");
  wq_done(q, "ns/now");
  for (i = 0; i < 5; i++)
    wq_add_after(q, i % 2 ? "ns/odd" : "ns/even", 20 + 5 * i);
  ready_calls = 0;
  ck_assert(test_run_until(&loop, &ready_calls, 2000));
  expect_get(q, "ns/even");
  ready_calls = 0;
  /* On a slow run both may have come due in one timer tick (one ready
   * call); else odd's own tick calls again. */
  ck_assert(wq_len(q) > 0 || test_run_until(&loop, &ready_calls, 2000));
  expect_get(q, "ns/odd");
  ck_assert_uint_eq(wq_delayed(q), 0);
  close_queue(q);
}
END_TEST

/* A queue yielding to a held gate hands nothing out (its keys stay
 * queued); the release calls its ready callback and it hands out again.
 * A queue that does not yield is not held back. */
START_TEST(gate_holds_yielding_queues_until_released)
{
  struct wq_gate *g = wq_gate_new(&loop, 1000, fake_now, &clk);
  struct wq *low = new_fake_queue(0), *free_q = new_fake_queue(0);

  ck_assert_int_eq(wq_set_gate(low, g), 0);
  ready_calls = 0;
  wq_set_ready_cb(low, on_ready, NULL);
  wq_gate_hold(g);
  wq_gate_hold(g); /* nested */
  wq_add(low, "ns/acct");
  wq_add(free_q, "ns/other");
  ck_assert(wq_gate_blocks(g));
  expect_empty(low);
  ck_assert_uint_eq(wq_len(low), 1);
  expect_get(free_q, "ns/other");
  wq_done(free_q, "ns/other");
  wq_gate_release(g);
  expect_empty(low); /* one hold left */
  uv_run(&loop, UV_RUN_NOWAIT);
  ready_calls = 0;
  wq_gate_release(g);
  ck_assert(!wq_gate_blocks(g));
  ck_assert(test_run_until(&loop, &ready_calls, 1000));
  expect_get(low, "ns/acct");
  wq_done(low, "ns/acct");
  wq_gate_close(g);
  wq_close(free_q, NULL, NULL);
  close_queue(low);
}
END_TEST

/* A busy period holds the queues back at most max_hold_ms: after that
 * they hand out although the gate is still held, and its timer tells
 * them to pull. Closing the gate frees the queues of it. */
START_TEST(gate_hold_expires)
{
  struct wq_gate *g = wq_gate_new(&loop, 20, NULL, NULL);
  struct wq *low = wq_new(&loop, NULL);

  ck_assert_int_eq(wq_set_gate(low, g), 0);
  ready_calls = 0;
  wq_set_ready_cb(low, on_ready, NULL);
  wq_gate_hold(g);
  wq_add(low, "ns/acct");
  expect_empty(low);
  uv_run(&loop, UV_RUN_NOWAIT); /* the add's ready call */
  ready_calls = 0;
  ck_assert(test_run_until(&loop, &ready_calls, 2000)); /* expiry */
  ck_assert(!wq_gate_blocks(g));
  expect_get(low, "ns/acct");
  wq_done(low, "ns/acct");
  wq_add(low, "ns/b");
  wq_gate_release(g);
  wq_gate_hold(g); /* a new busy period */
  expect_empty(low);
  wq_gate_close(g);
  expect_get(low, "ns/b");
  wq_done(low, "ns/b");
  close_queue(low);
}
END_TEST

static uint64_t gate_ns; /* the gate's clock, set by the test */

static uint64_t gate_clock(void *arg)
{
  (void)arg;
  return gate_ns;
}

/* The hold's timer runs on the loop's clock: when it fires before the
 * gate's own clock says the hold expired, it waits for the rest; waking
 * the queues then left them blocked until the holder let go. */
START_TEST(gate_timer_early_waits_for_the_rest)
{
  struct wq_gate *g = wq_gate_new(&loop, 20, gate_clock, NULL);
  struct wq *low = wq_new(&loop, NULL);

  gate_ns = 0;
  ck_assert_int_eq(wq_set_gate(low, g), 0);
  wq_set_ready_cb(low, on_ready, NULL);
  wq_gate_hold(g);
  wq_add(low, "ns/acct");
  uv_run(&loop, UV_RUN_NOWAIT);
  ready_calls = 0;
  /* the loop's 20 ms pass; the gate's clock stands still: no wake */
  ck_assert(!test_run_until(&loop, &ready_calls, 60));
  ck_assert(wq_gate_blocks(g));
  gate_ns = 25 * 1000000ull; /* now the hold has expired */
  ck_assert(test_run_until(&loop, &ready_calls, 2000));
  ck_assert(!wq_gate_blocks(g));
  expect_get(low, "ns/acct");
  wq_done(low, "ns/acct");
  wq_gate_close(g);
  close_queue(low);
}
END_TEST

START_TEST(backoff_sequence_and_forget)
{
  struct wq *q = new_fake_queue(-1); /* per-key backoff only */
  uint64_t want = 5, d;
  int i;

  for (i = 0; i < 30; i++) {
    d = wq_when(q, "ns/a");
    ck_assert_uint_eq(d, want);
    want = want * 2 > 1000000 ? 1000000 : want * 2;
  }
  ck_assert_uint_eq(d, 1000000); /* 1000 s cap */
  ck_assert_uint_eq(wq_num_requeues(q, "ns/a"), 30);
  /* Keys back off independently. */
  ck_assert_uint_eq(wq_when(q, "ns/b"), 5);
  wq_forget(q, "ns/a");
  ck_assert_uint_eq(wq_num_requeues(q, "ns/a"), 0);
  ck_assert_uint_eq(wq_when(q, "ns/a"), 5);
  ck_assert_uint_eq(wq_when(q, "ns/a"), 10);
  /* wq_add_rate_limited uses it as a delayed add. */
  wq_add_rate_limited(q, "ns/a");
  ck_assert_uint_eq(wq_delayed(q), 1);
  clk.ns += 19 * MS;
  wq_process_delayed(q);
  expect_empty(q);
  clk.ns += 1 * MS;
  wq_process_delayed(q);
  expect_get(q, "ns/a");
  wq_done(q, "ns/a");
  wq_forget(q, "ns/a");
  wq_forget(q, "ns/b");
  close_queue(q);
}
END_TEST

START_TEST(token_bucket)
{
  struct wq *q = new_fake_queue(0); /* defaults: 10 qps, burst 100 */
  char key[16];
  int i;

  /* The burst: distinct keys only see their own 5 ms. */
  for (i = 0; i < 100; i++) {
    snprintf(key, sizeof(key), "ns/k%d", i);
    ck_assert_uint_eq(wq_when(q, key), 5);
  }
  /* Then one token per 100 ms. */
  ck_assert_uint_eq(wq_when(q, "ns/x1"), 100);
  ck_assert_uint_eq(wq_when(q, "ns/x2"), 200);
  ck_assert_uint_eq(wq_when(q, "ns/x3"), 300);
  /* 1 s later: 10 tokens refilled, 3 owed -> 7 free. */
  clk.ns += 1000 * MS;
  for (i = 0; i < 7; i++) {
    snprintf(key, sizeof(key), "ns/y%d", i);
    ck_assert_uint_eq(wq_when(q, key), 5);
  }
  ck_assert_uint_eq(wq_when(q, "ns/y7"), 100);
  /* Half a token later: 50 ms wait. */
  clk.ns += 150 * MS;
  ck_assert_uint_eq(wq_when(q, "ns/y8"), 50);
  /* The max of both: a key deep in backoff wins over the bucket. */
  for (i = 0; i < 10; i++)
    wq_when(q, "ns/deep");
  clk.ns += 100000 * MS;
  ck_assert_uint_eq(wq_when(q, "ns/deep"), 5 << 10);
  /* The bucket never holds more than the burst (ns/deep took one). */
  for (i = 0; i < 99; i++) {
    snprintf(key, sizeof(key), "ns/z%d", i);
    ck_assert_uint_eq(wq_when(q, key), 5);
  }
  ck_assert_uint_eq(wq_when(q, "ns/z99"), 100);
  close_queue(q);
}
END_TEST

START_TEST(shutdown_drains)
{
  struct wq *q = new_fake_queue(0);
  const char *k;

  ready_calls = 0;
  wq_set_ready_cb(q, on_ready, NULL);
  wq_add(q, "ns/a");
  wq_add(q, "ns/b");
  wq_add_after(q, "ns/later", 10);
  expect_get(q, "ns/a");
  wq_shutdown(q);
  ck_assert(wq_shutting_down(q));
  ck_assert_int_eq(wq_add(q, "ns/c"), OP_ESHUTDOWN);
  ck_assert_int_eq(wq_add_after(q, "ns/c", 5), OP_ESHUTDOWN);
  ck_assert_int_eq(wq_add_rate_limited(q, "ns/c"), OP_ESHUTDOWN);
  ck_assert_uint_eq(wq_delayed(q), 0);
  /* Consumers are woken, drain what was queued, then see shutdown. */
  ck_assert(test_run_until(&loop, &ready_calls, 1000));
  expect_get(q, "ns/b");
  ck_assert_int_eq(wq_get(q, &k), OP_ESHUTDOWN);
  wq_done(q, "ns/b");
  /* ns/a still processing: close drops it without leaking. */
  close_queue(q);
}
END_TEST

static int closed;

static void on_closed(void *arg)
{
  *(int *)arg = 1;
}

START_TEST(close_releases_timers)
{
  struct wq *q = wq_new(&loop, NULL);
  int i;
  char key[16];

  for (i = 0; i < 50; i++) {
    snprintf(key, sizeof(key), "ns/k%d", i);
    wq_add_after(q, key, 100000 + (uint64_t)i);
    wq_add_rate_limited(q, key);
  }
  wq_add(q, "ns/q");
  closed = 0;
  wq_close(q, on_closed, &closed);
  ck_assert_int_eq(closed, 0); /* freed in the close callbacks */
  ck_assert(test_run_until(&loop, &closed, 1000));
}
END_TEST

START_TEST(metrics_values)
{
  struct met_registry *r = met_registry_new();
  struct wq_metrics *m = wq_metrics_new(r);
  struct wq_opts o = {
    .name = "accounts", .metrics = m, .clock = fake_now, .clock_arg = &clk
  };
  struct wq *q = wq_new(&loop, &o);
  const char *const *lv = MET_LV("accounts");
  struct buf out;

  wq_add(q, "ns/a");
  wq_add(q, "ns/a"); /* collapsed: not an add */
  wq_add(q, "ns/b");
  ck_assert(met_value(m->adds, lv) == 2);
  ck_assert(met_value(m->depth, lv) == 2);
  clk.ns += 2 * MS;
  expect_get(q, "ns/a");
  ck_assert(met_value(m->depth, lv) == 1);
  ck_assert(met_value(m->queue_lat, lv) == 1); /* histogram count */
  clk.ns += 3000 * MS;
  wq_update_metrics(q);
  ck_assert(met_value(m->unfinished, lv) == 3.0);
  ck_assert(met_value(m->longest, lv) == 3.0);
  wq_add_rate_limited(q, "ns/c");
  ck_assert(met_value(m->retries, lv) == 1);
  wq_done(q, "ns/a");
  ck_assert(met_value(m->work_dur, lv) == 1);
  wq_update_metrics(q);
  ck_assert(met_value(m->unfinished, lv) == 0);
  /* Buckets as controller-runtime: 1e-8 x10, 10 buckets; 2 ms lands in
   * le=0.01. */
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(met_render(r, &out), 0);
  ck_assert_ptr_nonnull(strstr(buf_str(&out),
                               "workqueue_queue_duration_seconds_bucket{name="
                               "\"accounts\",le=\"0.01\"} 1"));
  ck_assert_ptr_nonnull(strstr(buf_str(&out),
                               "workqueue_queue_duration_seconds_bucket{name="
                               "\"accounts\",le=\"0.001\"} 0"));
  ck_assert_ptr_nonnull(strstr(buf_str(&out), "le=\"1e-08\""));
  ck_assert_ptr_nonnull(strstr(buf_str(&out), "le=\"10\""));
  buf_cleanup(&out);
  close_queue(q);
  wq_metrics_free(m);
  met_registry_free(r);
}
END_TEST

static Suite *workqueue_suite(void)
{
  Suite *s = suite_create("workqueue");
  TCase *tc = tcase_create("core");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, dedup);
  tcase_add_test(tc, stingy_readd_while_processing);
  tcase_add_test(tc, fair_fifo);
  tcase_add_test(tc, add_first);
  tcase_add_test(tc, add_after_first);
  tcase_add_test(tc, add_first_grows_ring);
  tcase_add_test(tc, delayed_order);
  tcase_add_test(tc, delayed_real_timer_and_ready_cb);
  tcase_add_test(tc, gate_holds_yielding_queues_until_released);
  tcase_add_test(tc, gate_hold_expires);
  tcase_add_test(tc, gate_timer_early_waits_for_the_rest);
  tcase_add_test(tc, backoff_sequence_and_forget);
  tcase_add_test(tc, token_bucket);
  tcase_add_test(tc, shutdown_drains);
  tcase_add_test(tc, close_releases_timers);
  tcase_add_test(tc, metrics_values);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(workqueue_suite)
