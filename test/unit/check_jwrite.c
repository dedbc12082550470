/* pkg/cache/jwrite: the compact store's encoder writes the very text
 * json_dumps(v, JSON_COMPACT) writes, for chosen and random values (every
 * control character, NUL inside strings, UTF-8, reals of every magnitude,
 * the integer limits, nesting, key order). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cache/jwrite.h"
#include "testutil.h"
#include "util/rng.h"

static void same_as_jansson(const json_t *v)
{
  char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  size_t n = 0;
  char *got = jwrite_compact(v, &n);

  ck_assert_ptr_nonnull(want);
  ck_assert_ptr_nonnull(got);
  ck_assert_str_eq(got, want);
  ck_assert_uint_eq(n, strlen(want));
  free(want);
  free(got);
}

START_TEST(chosen_values)
{
  static const double reals[] = { 0.0,
                                  -0.0,
                                  1.0,
                                  -2.5,
                                  1e20,
                                  1e-5,
                                  1e300,
                                  -1e-300,
                                  0.1,
                                  1.0 / 3,
                                  123456.0,
                                  5e-324,
                                  1.7976931348623157e308 };
  json_t *o =
      json_pack("{s:s, s:[i,i,i], s:{}, s:[], s:b, s:b, s:n}", "name",
                "caf\xc3\xa9 \xf0\x9f\x98\x80 \"q\" \\ / \x7f", "ints",
                (json_int_t)0, (json_int_t)INT64_MAX, (json_int_t)INT64_MIN,
                "empty", "arr", "t", 1, "f", 0, "nil");
  char ctl[32];
  size_t i;

  for (i = 0; i < 31; i++)
    ctl[i] = (char)(i + 1);
  json_object_set_new(o, "ctl", json_stringn(ctl, 31));
  json_object_set_new(o, "nul", json_stringn("a\0b", 3));
  json_object_set_new(o, "key \"with\"\n escapes", json_true());
  for (i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
    json_array_append_new(json_object_get(o, "arr"), json_real(reals[i]));
  same_as_jansson(o);
  same_as_jansson(json_object_get(o, "name"));
  json_decref(o);
  ck_assert_ptr_null(jwrite_compact(NULL, NULL));
}
END_TEST

static json_t *random_string(struct rng *r)
{
  static const char *const utf8[] = { "\xc3\xa9", "\xe2\x82\xac",
                                      "\xf0\x9f\x98\x80" };
  char b[64];
  size_t n = 0, len = rng_below(r, 12), i;

  for (i = 0; i < len; i++) {
    if (rng_below(r, 5) == 0) {
      const char *u = utf8[rng_below(r, 3)];
      memcpy(b + n, u, strlen(u));
      n += strlen(u);
    } else {
      b[n++] = (char)rng_below(r, 0x80); /* NUL and controls included */
    }
  }
  return json_stringn(b, n);
}

static json_t *random_value(struct rng *r, int depth)
{
  json_t *v;
  uint64_t bits;
  double d;
  size_t i, n;

  switch (depth > 4 ? 2 + rng_below(r, 5) : rng_below(r, 7)) {
  case 0:
    v = json_object();
    n = rng_below(r, 5);
    for (i = 0; i < n; i++) {
      json_t *k = random_string(r);
      if (!memchr(json_string_value(k), 0, json_string_length(k)))
        json_object_set_new(v, json_string_value(k),
                            random_value(r, depth + 1));
      json_decref(k);
    }
    return v;
  case 1:
    v = json_array();
    n = rng_below(r, 5);
    for (i = 0; i < n; i++)
      json_array_append_new(v, random_value(r, depth + 1));
    return v;
  case 2:
    return random_string(r);
  case 3:
    return json_integer((json_int_t)rng_next(r));
  case 4:
    do {
      bits = rng_next(r);
      memcpy(&d, &bits, sizeof(d));
    } while (!isfinite(d));
    return json_real(d);
  case 5:
    return json_real((double)(int)rng_below(r, 2000) / 8 - 100);
  default:
    return rng_below(r, 2) ? json_null() : json_boolean(rng_below(r, 2));
  }
}

START_TEST(random_values)
{
  struct rng r;
  json_t *v;
  int i;

  rng_seed(&r, 7);
  for (i = 0; i < 3000; i++) {
    v = random_value(&r, 0);
    same_as_jansson(v);
    json_decref(v);
  }
}
END_TEST

static Suite *jwrite_suite(void)
{
  Suite *s = suite_create("jwrite");
  TCase *tc = tcase_create("jwrite");

  tcase_add_test(tc, chosen_values);
  tcase_add_test(tc, random_values);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(jwrite_suite)
