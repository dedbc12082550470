/* Shared helpers for the Check suites: a main() per suite binary, typed
 * assertions in the spirit of libuv's test/task.h, and a loop teardown that
 * proves every handle was closed (MAKE_VALGRIND_HAPPY). */
#ifndef TEST_UNIT_TESTUTIL_H
#define TEST_UNIT_TESTUTIL_H

#include <check.h>
#include <stdlib.h>
#include <uv.h>

/* Each check_<module>.c defines `Suite *<module>_suite(void)` and ends with
 * TEST_MAIN(<module>_suite). */
#define TEST_MAIN(suite_fn)                                                    \
  int main(void)                                                               \
  {                                                                            \
    SRunner *sr = srunner_create(suite_fn());                                  \
    int nf;                                                                    \
    srunner_run_all(sr, CK_NORMAL);                                            \
    nf = srunner_ntests_failed(sr);                                            \
    srunner_free(sr);                                                          \
    return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;                              \
  }

/* Close every handle on the loop, run it until the close callbacks ran, and
 * assert the loop closes cleanly. */
#define ASSERT_LOOP_CLEAN(uvloop)                                              \
  do {                                                                         \
    uv_walk((uvloop), test_close_walk_cb, NULL);                               \
    uv_run((uvloop), UV_RUN_DEFAULT);                                          \
    ck_assert_int_eq(uv_loop_close(uvloop), 0);                                \
  } while (0)

void test_close_walk_cb(uv_handle_t *h, void *arg);

/* Run the loop until *flag becomes non-zero or timeout_ms passes (a
 * condition wait, never a sleep). Returns 1 if the flag was set. */
int test_run_until(uv_loop_t *loop, const volatile int *flag,
                   unsigned timeout_ms);

/* ms times AAO_TEST_TIME_SCALE (a positive integer, default 1): for suites
 * whose timers race real time, run slower under valgrind (run.sh sets it). */
unsigned test_ms(unsigned ms);

/* Path of the repository's test/testdata (vectors and oracles copied in
 * with their licences): AAO_TESTDATA, else relative to the repository root,
 * where the suites run (as the fixtures under test/unit/fixtures). */
const char *test_data_dir(void);

#endif
