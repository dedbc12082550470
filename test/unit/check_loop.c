/* pkg/loop: duties, deferred work, stop hooks, signals, deadline. */
#include <signal.h>
#include <string.h>

#include "loop/loop.h"
#include "testutil.h"
#include "util/err.h"
#include "util/timeutil.h"

struct ctx {
  struct loop *l;
  int duty_runs, fast_runs, deferred, order[4], norder;
  uv_timer_t worker; /* stands for a module's handle */
  bool close_worker;
};

static void fast_duty(void *arg)
{
  struct ctx *c = arg;

  if (++c->fast_runs == 6)
    loop_request_stop(c->l, "test done");
}

static void slow_duty(void *arg)
{
  ((struct ctx *)arg)->duty_runs++;
}

static void hook_a(void *arg)
{
  struct ctx *c = arg;

  c->order[c->norder++] = 1;
}

static void hook_b(void *arg)
{
  struct ctx *c = arg;

  c->order[c->norder++] = 2;
  if (c->close_worker)
    uv_close((uv_handle_t *)&c->worker, NULL);
}

static void noop_timer(uv_timer_t *t)
{
  (void)t;
}

static void setup_ctx(struct ctx *c, struct loop *l)
{
  memset(c, 0, sizeof(*c));
  c->l = l;
  ck_assert_int_eq(loop_init(l, 10), 0);
  /* A referenced handle keeps the loop running, like a listening socket. */
  uv_timer_init(&l->uv, &c->worker);
  uv_timer_start(&c->worker, noop_timer, 100000, 0);
  loop_on_stop(l, hook_a, c);
  loop_on_stop(l, hook_b, c);
}

START_TEST(duties_and_stop_order)
{
  struct loop l;
  struct ctx c;

  setup_ctx(&c, &l);
  c.close_worker = true;
  loop_add_duty(&l, "fast", 10, fast_duty, &c);
  loop_add_duty(&l, "slow", 1000000, slow_duty, &c);
  ck_assert_int_eq(loop_run(&l), 0);
  ck_assert_int_eq(c.fast_runs, 6);
  ck_assert_int_eq(c.duty_runs, 0);
  /* Newest hook first. */
  ck_assert_int_eq(c.norder, 2);
  ck_assert_int_eq(c.order[0], 2);
  ck_assert_int_eq(c.order[1], 1);
  ck_assert_int_eq(loop_cleanup(&l), 0);
}
END_TEST

static void deferred_fn(void *p)
{
  struct ctx *c = p;

  if (++c->deferred == 1)
    loop_defer(c->l, deferred_fn, c); /* deferring from deferred work */
  else
    loop_request_stop(c->l, "deferred done");
}

START_TEST(deferred_runs_after_iteration)
{
  struct loop l;
  struct ctx c;

  setup_ctx(&c, &l);
  c.close_worker = true;
  loop_defer(&l, deferred_fn, &c);
  ck_assert_int_eq(c.deferred, 0); /* not synchronous */
  ck_assert_int_eq(loop_run(&l), 0);
  ck_assert_int_eq(c.deferred, 2);
  ck_assert_int_eq(loop_cleanup(&l), 0);
}
END_TEST

static void send_sigterm(uv_timer_t *t)
{
  (void)t;
  raise(SIGTERM);
}

START_TEST(sigterm_starts_orderly_shutdown)
{
  struct loop l;
  struct ctx c;
  uv_timer_t kick;

  setup_ctx(&c, &l);
  c.close_worker = true;
  ck_assert_int_eq(loop_handle_signals(&l), 0);
  uv_timer_init(&l.uv, &kick);
  uv_timer_start(&kick, send_sigterm, 5, 0);
  uv_unref((uv_handle_t *)&kick);
  ck_assert_int_eq(loop_run(&l), 0);
  ck_assert(l.stopping);
  ck_assert_int_eq(l.signo, SIGTERM);
  ck_assert_int_eq(c.norder, 2);
  ck_assert_int_eq(loop_cleanup(&l), 0);
}
END_TEST

/* A stop hook whose work is still going when more signals arrive. */
static void hook_more_signals(void *arg)
{
  struct ctx *c = arg;

  c->deferred++;
}

static void late_signals(uv_timer_t *t)
{
  struct ctx *c = t->data;

  raise(SIGTERM); /* after the watchers are closed: must not kill us */
  raise(SIGINT);
  raise(SIGPIPE); /* a peer that hung up */
  uv_close((uv_handle_t *)&c->worker, NULL);
  uv_close((uv_handle_t *)t, NULL);
}

/* A second SIGTERM or SIGINT during the clean shutdown (a Ctrl-C that
 * also makes a wrapper send SIGTERM) does not cut it short. */
START_TEST(second_signal_does_not_kill_a_clean_shutdown)
{
  struct loop l;
  struct ctx c;
  uv_timer_t kick, late;

  setup_ctx(&c, &l);
  loop_on_stop(&l, hook_more_signals, &c);
  ck_assert_int_eq(loop_handle_signals(&l), 0);
  uv_timer_init(&l.uv, &kick);
  uv_timer_start(&kick, send_sigterm, 5, 0);
  uv_unref((uv_handle_t *)&kick);
  uv_timer_init(&l.uv, &late);
  late.data = &c;
  uv_timer_start(&late, late_signals, 50, 0);
  ck_assert_int_eq(loop_run(&l), 0);
  ck_assert_int_eq(c.deferred, 1);
  ck_assert_int_eq(c.norder, 2); /* every hook ran, and we are alive */
  ck_assert_int_eq(loop_cleanup(&l), 0);
}
END_TEST

START_TEST(deadline_bounds_a_stuck_shutdown)
{
  struct loop l;
  struct ctx c;
  uint64_t t0;

  setup_ctx(&c, &l);
  c.close_worker = false; /* a module that forgets to close its handle */
  loop_set_deadline(&l, 50);
  loop_add_duty(&l, "fast", 10, fast_duty, &c);
  t0 = time_mono_ms();
  ck_assert_int_eq(loop_run(&l), OP_ETIMEDOUT);
  ck_assert_uint_lt(time_mono_ms() - t0, 5000);
  /* cleanup still closes everything. */
  ck_assert_int_eq(loop_cleanup(&l), 0);
}
END_TEST

static Suite *loop_suite(void)
{
  Suite *s = suite_create("loop");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, duties_and_stop_order);
  tcase_add_test(tc, deferred_runs_after_iteration);
  tcase_add_test(tc, sigterm_starts_orderly_shutdown);
  tcase_add_test(tc, deadline_bounds_a_stuck_shutdown);
  tcase_add_test(tc, second_signal_does_not_kill_a_clean_shutdown);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(loop_suite)
