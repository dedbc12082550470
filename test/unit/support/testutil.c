#include "testutil.h"

#include <stdio.h>
#include <unistd.h>

void test_close_walk_cb(uv_handle_t *h, void *arg)
{
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

struct run_until {
  const volatile int *flag;
  int expired;
};

static void on_deadline(uv_timer_t *t)
{
  ((struct run_until *)t->data)->expired = 1;
}

/* A flag set by a timer callback would otherwise be noticed only after the
 * same iteration's poll phase, which blocks until the next event (here: the
 * deadline). uv_stop from the prepare phase makes that poll non-blocking. */
static void on_prepare(uv_prepare_t *p)
{
  struct run_until *ru = p->data;

  if (*ru->flag || ru->expired)
    uv_stop(p->loop);
}

int test_run_until(uv_loop_t *loop, const volatile int *flag,
                   unsigned timeout_ms)
{
  struct run_until ru = { flag, 0 };
  uv_timer_t deadline;
  uv_prepare_t prep;

  uv_timer_init(loop, &deadline);
  deadline.data = &ru;
  /* The loop's clock stopped when it last ran: count from now, or a slow
   * step between two waits (valgrind, a loaded machine) eats the timeout. */
  uv_update_time(loop);
  uv_timer_start(&deadline, on_deadline, timeout_ms, 0);
  uv_prepare_init(loop, &prep);
  prep.data = &ru;
  uv_prepare_start(&prep, on_prepare);
  while (!*flag && !ru.expired) {
    if (!uv_run(loop, UV_RUN_ONCE) && !*flag && !ru.expired)
      break; /* nothing left that could set the flag */
  }
  uv_timer_stop(&deadline);
  uv_close((uv_handle_t *)&deadline, NULL);
  uv_close((uv_handle_t *)&prep, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return *flag != 0;
}

const char *test_data_dir(void)
{
  const char *env = getenv("AAO_TESTDATA");

  return env && *env ? env : "test/testdata";
}

unsigned test_ms(unsigned ms)
{
  const char *s = getenv("AAO_TEST_TIME_SCALE");
  long k = s ? strtol(s, NULL, 10) : 1;

  return ms * (unsigned)(k > 0 && k <= 100 ? k : 1);
}
