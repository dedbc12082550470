/* pkg/controllers/exec/written: read-your-writes. A kept answer is the
 * view while its resourceVersion is newer than the informer's (compared
 * as integers); older or equal, a deleted object, a drop (conflict) and
 * the TTL each remove it. */
#include <string.h>

#include "controllers/common/obj.h"
#include "controllers/exec/written.h"
#include "testutil.h"
#include "util/err.h"

static json_t *obj(const char *name, const char *rv)
{
  json_t *o = json_pack("{s:{s:s,s:s,s:s}}", "metadata", "name", name,
                        "namespace", "ns", "resourceVersion", rv);

  ck_assert_ptr_nonnull(o);
  return o;
}

static struct exec_written *w;

static void setup(void)
{
  w = exec_written_new(30.0);
  ck_assert_ptr_nonnull(w);
}

static void teardown(void)
{
  exec_written_free(w);
}

/* Integers, not strings: "10" is newer than "9". */
START_TEST(newer_write_is_the_view)
{
  json_t *mine = obj("a", "10"), *cached = obj("a", "9");
  const json_t *v;

  ck_assert_int_eq(exec_written_put(w, "accounts", mine, 100.0), 0);
  v = exec_written_view(w, "accounts", "ns", "a", cached);
  ck_assert_ptr_ne(v, cached);
  ck_assert_str_eq(obj_str(v, "metadata.resourceVersion"), "10");
  /* a copy: the caller's object may go */
  ck_assert_ptr_ne(v, mine);
  /* another kind or name is not overlaid */
  ck_assert_ptr_eq(exec_written_view(w, "accountclaims", "ns", "a", cached),
                   cached);
  ck_assert_ptr_eq(exec_written_view(w, "accounts", "ns", "b", cached), cached);
  ck_assert_uint_eq(exec_written_len(w), 1);
  json_decref(mine);
  json_decref(cached);
}
END_TEST

START_TEST(informer_catching_up_drops_the_entry)
{
  json_t *mine = obj("a", "10"), *same = obj("a", "10"),
         *later = obj("a", "11");

  ck_assert_int_eq(exec_written_put(w, "accounts", mine, 100.0), 0);
  ck_assert_ptr_eq(exec_written_view(w, "accounts", "ns", "a", same), same);
  ck_assert_uint_eq(exec_written_len(w), 0);
  ck_assert_int_eq(exec_written_put(w, "accounts", mine, 100.0), 0);
  ck_assert_ptr_eq(exec_written_view(w, "accounts", "ns", "a", later), later);
  ck_assert_uint_eq(exec_written_len(w), 0);
  json_decref(mine);
  json_decref(same);
  json_decref(later);
}
END_TEST

/* A finalizer removal that let the server delete the object answers at
 * the version the informer already holds (with the finalizer): the answer
 * is the view, or the removal is planned and written again (a 404). Once
 * the informer shows the object gone too, or never deleting, it is not. */
START_TEST(finalizer_removal_answer_is_the_view)
{
  json_t *mine = obj("a", "526"), *cached = obj("a", "526"),
         *plain = obj("a", "526");
  const json_t *v;

  json_object_set_new(json_object_get(mine, "metadata"), "deletionTimestamp",
                      json_string("2026-12-07T02:44:35Z"));
  json_object_set(
      json_object_get(cached, "metadata"), "deletionTimestamp",
      json_object_get(json_object_get(mine, "metadata"), "deletionTimestamp"));
  obj_add_finalizer(cached, "finalizer.aws.managed.openshift.io");
  ck_assert_int_eq(exec_written_put(w, "accountclaims", mine, 100.0), 0);
  v = exec_written_view(w, "accountclaims", "ns", "a", cached);
  ck_assert_ptr_ne(v, cached);
  ck_assert_uint_eq(obj_finalizer_count(v), 0);
  /* the same answer against a copy with no finalizer: caught up */
  ck_assert_ptr_eq(exec_written_view(w, "accountclaims", "ns", "a", mine),
                   mine);
  ck_assert_uint_eq(exec_written_len(w), 0);
  /* an ordinary answer at an equal version is not newer */
  ck_assert_int_eq(exec_written_put(w, "accountclaims", plain, 100.0), 0);
  ck_assert_ptr_eq(exec_written_view(w, "accountclaims", "ns", "a", cached),
                   cached);
  json_decref(mine);
  json_decref(cached);
  json_decref(plain);
}
END_TEST

START_TEST(deleted_object_drops_the_entry)
{
  json_t *mine = obj("a", "10");

  ck_assert_int_eq(exec_written_put(w, "accounts", mine, 100.0), 0);
  ck_assert_ptr_null(exec_written_view(w, "accounts", "ns", "a", NULL));
  ck_assert_uint_eq(exec_written_len(w), 0);
  json_decref(mine);
}
END_TEST

START_TEST(drop_and_ttl_remove_the_entry)
{
  json_t *mine = obj("a", "10"), *other = obj("b", "12"),
         *cached = obj("a", "9");

  ck_assert_int_eq(exec_written_put(w, "accounts", mine, 100.0), 0);
  exec_written_drop(w, "accounts", "ns", "a");
  ck_assert_ptr_eq(exec_written_view(w, "accounts", "ns", "a", cached), cached);
  ck_assert_int_eq(exec_written_put(w, "accounts", mine, 100.0), 0);
  ck_assert_int_eq(exec_written_put(w, "accounts", other, 120.0), 0);
  exec_written_prune(w, 129.9);
  ck_assert_uint_eq(exec_written_len(w), 2);
  ck_assert_ptr_ne(exec_written_view(w, "accounts", "ns", "a", cached), cached);
  exec_written_prune(w, 130.0); /* a is 30 s old, b 10 s */
  ck_assert_uint_eq(exec_written_len(w), 1);
  ck_assert_ptr_eq(exec_written_view(w, "accounts", "ns", "a", cached), cached);
  json_decref(mine);
  json_decref(other);
  json_decref(cached);
}
END_TEST

/* A cached object without an integer version is the informer's word. */
START_TEST(odd_versions)
{
  json_t *mine = obj("a", "10"), *bad = obj("a", "x1"), *cached = obj("a", "9");
  unsigned long long rv = 0;

  ck_assert_int_eq(exec_written_put(w, "accounts", bad, 1.0), OP_EINVAL);
  ck_assert_int_eq(exec_written_put(w, "accounts", mine, 1.0), 0);
  ck_assert_ptr_eq(exec_written_view(w, "accounts", "ns", "a", bad), bad);
  ck_assert(!exec_written_rv(bad, &rv));
  ck_assert(exec_written_rv(cached, &rv));
  ck_assert_uint_eq(rv, 9);
  ck_assert_ptr_eq(exec_written_view(NULL, "accounts", "ns", "a", cached),
                   cached);
  json_decref(mine);
  json_decref(bad);
  json_decref(cached);
}
END_TEST

START_TEST(next_walks_one_kind)
{
  json_t *a = obj("a", "10"), *b = obj("b", "11");
  const json_t *o;
  size_t it = 0, n = 0;

  ck_assert_int_eq(exec_written_put(w, "accounts", a, 1.0), 0);
  ck_assert_int_eq(exec_written_put(w, "accountclaims", b, 1.0), 0);
  while (exec_written_next(w, "accounts", &it, &o)) {
    ck_assert_str_eq(obj_name(o), "a");
    n++;
  }
  ck_assert_uint_eq(n, 1);
  json_decref(a);
  json_decref(b);
}
END_TEST

static Suite *written_suite(void)
{
  Suite *s = suite_create("written");
  TCase *tc = tcase_create("core");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, newer_write_is_the_view);
  tcase_add_test(tc, informer_catching_up_drops_the_entry);
  tcase_add_test(tc, finalizer_removal_answer_is_the_view);
  tcase_add_test(tc, deleted_object_drops_the_entry);
  tcase_add_test(tc, drop_and_ttl_remove_the_entry);
  tcase_add_test(tc, odd_versions);
  tcase_add_test(tc, next_walks_one_kind);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(written_suite)
