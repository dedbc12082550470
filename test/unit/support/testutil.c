#include "testutil.h"

#include <stdio.h>
#include <unistd.h>

void test_close_walk_cb(uv_handle_t *h, void *arg)
{
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

static void on_deadline(uv_timer_t *t)
{
  *(int *)t->data = 1;
}

int test_run_until(uv_loop_t *loop, const volatile int *flag,
                   unsigned timeout_ms)
{
  uv_timer_t deadline;
  int expired = 0;

  uv_timer_init(loop, &deadline);
  deadline.data = &expired;
  uv_timer_start(&deadline, on_deadline, timeout_ms, 0);
  while (!*flag && !expired) {
    if (!uv_run(loop, UV_RUN_ONCE) && !*flag && !expired)
      break; /* nothing left that could set the flag */
  }
  uv_timer_stop(&deadline);
  uv_close((uv_handle_t *)&deadline, NULL);
  uv_run(loop, UV_RUN_NOWAIT);
  return *flag != 0;
}

const char *test_shared_dir(void)
{
  static const char *const cands[] = { "../shared", "../../shared",
                                       "../../../shared" };
  const char *env = getenv("AAO_SHARED");
  size_t i;

  if (env && *env)
    return env;
  for (i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
    if (access(cands[i], R_OK) == 0)
      return cands[i];
  }
  return "../shared";
}
