/* pkg/k8s/jparse: the fast decoder must build exactly what json_loadb
 * builds, and decline (NULL) whatever json_loadb rejects: valid texts of
 * every kind, hostile ones (bad UTF-8, escapes, numbers, nesting, every
 * truncation of a document), random mutations, and the fallback. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/jparse.h"
#include "testutil.h"
#include "util/rng.h"

/* jparse and json_loadb agree on t: both decline, or both decode the same
 * values in the same key order. Returns whether it decoded. */
static bool agree(const char *t, size_t n, size_t flags)
{
  json_error_t e;
  json_t *ours = jparse(t, n, flags);
  json_t *ref = json_loadb(t, n, flags, &e);
  char *a, *b;

  if (ours) {
    ck_assert_msg(ref, "jparse accepted what jansson rejects: %.*s (%s)",
                  (int)(n > 200 ? 200 : n), t, e.text);
    ck_assert_msg(json_equal(ours, ref), "values differ: %.*s", (int)n, t);
    a = json_dumps(ours, JSON_COMPACT | JSON_ENCODE_ANY);
    b = json_dumps(ref, JSON_COMPACT | JSON_ENCODE_ANY);
    ck_assert_str_eq(a, b); /* key order too */
    free(a);
    free(b);
  }
  json_decref(ours);
  json_decref(ref);
  return ours != NULL;
}

static const char *const valid[] = {
  "{}",
  "[]",
  " \t\r\n{ \"a\" : [ 1 , 2.5 , -3 , true , false , null ] } \n",
  "{\"metadata\":{\"name\":\"x\",\"labels\":{\"k\":\"v\"}},\"spec\":{}}",
  "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
  "[\"\\u00e9\\u20AC\\ud83d\\ude00 caf\xc3\xa9 \xe2\x82\xac "
  "\xf0\x9f\x98\x80\"]",
  "{\"k\\u0041y\":1,\"\\n\":\"v\\u0041\"}",
  "{\"a\":1,\"a\":2,\"b\":{\"a\":3}}",
  "[0,-0,1e5,1E+5,1e-5,-1.25e2,0.5,123456789012345678,"
  "9223372036854775807,-9223372036854775808,1e-400]",
  "[[[[[[[[[[{\"x\":[[]]}]]]]]]]]]]",
  "{\"z\":1,\"y\":2,\"x\":3,\"w\":4,\"v\":5,\"u\":6,\"t\":7,\"s\":8,\"r\":9}",
  "[\"\",\"\\u0001\",\"\x7f\"]",
};

START_TEST(valid_texts_decode_as_jansson_does)
{
  size_t i;

  for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
    ck_assert_msg(agree(valid[i], strlen(valid[i]), 0), "declined: %s",
                  valid[i]);
  ck_assert(agree("5", 1, JSON_DECODE_ANY));
  ck_assert(agree("\"s\"", 3, JSON_DECODE_ANY));
  ck_assert(agree(" null ", 6, JSON_DECODE_ANY));
}
END_TEST

static const char *const hostile[] = {
  "",
  " ",
  "{",
  "[1,]",
  "{\"a\":1,}",
  "{\"a\" 1}",
  "{a:1}",
  "{\"a\":1}x",
  "{\"a\":1}{}",
  "[\"unterminated]",
  "[\"ctl\x01\"]",
  "[\"tab\there\"]",
  "[\"\\x\"]",
  "[\"\\u12\"]",
  "[\"\\u12g4\"]",
  "[\"\\ud83d\"]",
  "[\"\\ud83dx\"]",
  "[\"\\ud83d\\u0041\"]",
  "[\"\\ude00\"]",
  "[\"\\u0000\"]",
  "[\"\xc0\xaf\"]",
  "[\"\xc3\"]",
  "[\"\xe0\x80\xaf\"]",
  "[\"\xed\xa0\x80\"]",
  "[\"\xf4\x90\x80\x80\"]",
  "[\"\xf5\x80\x80\x80\"]",
  "[\"\x80\"]",
  "[\"\xff\"]",
  "[01]",
  "[-]",
  "[1.]",
  "[.5]",
  "[1e]",
  "[1e+]",
  "[+1]",
  "[0x10]",
  "[9223372036854775808]",
  "[-9223372036854775809]",
  "[1e400]",
  "[-1e400]",
  "[tru]",
  "[truex]",
  "[nul]",
  "[NaN]",
  "[Infinity]",
  "\"top-level string without DECODE_ANY\"",
  "5",
};

START_TEST(hostile_texts_are_declined)
{
  size_t i;

  for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
    ck_assert_ptr_null(jparse(hostile[i], strlen(hostile[i]), 0));
    agree(hostile[i], strlen(hostile[i]), 0);
  }
  /* a NUL byte inside the buffer, in a string and between tokens */
  ck_assert_ptr_null(jparse("[\"a\0b\"]", 7, 0));
  ck_assert_ptr_null(jparse("[1,\0 2]", 7, 0));
  ck_assert_ptr_null(jparse(NULL, 0, 0));
  /* jansson's other flags are left to jansson */
  ck_assert_ptr_null(jparse("{\"a\":1,\"a\":2}", 13, JSON_REJECT_DUPLICATES));
  ck_assert_ptr_null(jparse("[1] x", 5, JSON_DISABLE_EOF_CHECK));
}
END_TEST

START_TEST(every_truncation_agrees)
{
  size_t i, n;

  for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
    n = strlen(valid[i]);
    while (n-- > 0)
      agree(valid[i], n, 0);
  }
}
END_TEST

/* Random byte mutations of valid documents: whatever jparse accepts,
 * jansson accepts with the same values. */
START_TEST(random_mutations_never_disagree)
{
  static const char alphabet[] = "{}[]\",:\\u0123456789abcdefEe+-.tnrl \x80"
                                 "\xc3\xed\xf0\x01";
  struct rng r;
  char buf[512];
  size_t i, k, n, pos;
  unsigned accepted = 0;

  rng_seed(&r, 42);
  for (i = 0; i < 20000; i++) {
    const char *src = valid[rng_below(&r, sizeof(valid) / sizeof(valid[0]))];
    n = strlen(src);
    memcpy(buf, src, n);
    for (k = 0; k < 1 + rng_below(&r, 3); k++) {
      pos = rng_below(&r, n);
      buf[pos] = alphabet[rng_below(&r, sizeof(alphabet) - 1)];
    }
    accepted += agree(buf, n, 0);
  }
  ck_assert_uint_gt(accepted, 0); /* some mutations stay valid */
}
END_TEST

/* Deeper than jparse goes (but within jansson's limit): declined, and
 * k8s_json_loadb still decodes it through json_loadb. */
START_TEST(deep_nesting_falls_back)
{
  size_t depth = 1500, i;
  char *t = malloc(2 * depth + 1);
  json_error_t e;
  json_t *v;

  for (i = 0; i < depth; i++) {
    t[i] = '[';
    t[2 * depth - 1 - i] = ']';
  }
  ck_assert_ptr_null(jparse(t, 2 * depth, 0));
  v = k8s_json_loadb(t, 2 * depth, 0, &e);
  ck_assert_ptr_nonnull(v);
  json_decref(v);
  /* and the error of a bad text is jansson's */
  ck_assert_ptr_null(k8s_json_loadb("[1,]", 4, 0, &e));
  ck_assert_int_gt((int)strlen(e.text), 0);
  free(t);
}
END_TEST

/* JPARSE_DROP_MANAGED: every metadata's managedFields left out, nothing
 * else; validated all the same; the fallback drops them the same way. */
START_TEST(managed_fields_dropped)
{
  static const char page[] =
      "{\"metadata\":{\"resourceVersion\":\"9\",\"managedFields\":1},"
      "\"items\":[{\"metadata\":{\"name\":\"a\",\"managedFields\":[{"
      "\"manager\":\"k\",\"fieldsV1\":{\"f:spec\":{\"f:x\":{}}},\"n\":-1.5e3,"
      "\"t\":true,\"u\":null,\"s\":\"\\u00e9\\\"\"}],\"uid\":\"u1\"},"
      "\"spec\":{\"managedFields\":\"kept\",\"metadata\":{\"managedFields\":"
      "[],\"k\":1}}},{\"metadata\":{\"name\":\"b\"}}]}";
  static const char want[] =
      "{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[{\"metadata\":{"
      "\"name\":\"a\",\"uid\":\"u1\"},\"spec\":{\"managedFields\":\"kept\","
      "\"metadata\":{\"k\":1}}},{\"metadata\":{\"name\":\"b\"}}]}";
  static const char *const bad[] = {
    "{\"metadata\":{\"managedFields\":[01]}}",
    "{\"metadata\":{\"managedFields\":[\"\\x\"]}}",
    "{\"metadata\":{\"managedFields\":[1,]}}",
    "{\"metadata\":{\"managedFields\":{\"a\" 1}}}",
    "{\"metadata\":{\"managedFields\":[\"\xc3\"]}}",
    "{\"metadata\":{\"managedFields\":[1e400]}}",
    "{\"metadata\":{\"managedFields\":[tru]}}",
    "{\"metadata\":{\"managedFields\":",
  };
  json_t *got = jparse(page, strlen(page), JPARSE_DROP_MANAGED);
  json_t *exp = json_loads(want, 0, NULL);
  char *deep;
  size_t i, d = 1500, n;

  ck_assert_ptr_nonnull(got);
  ck_assert(json_equal(got, exp));
  json_decref(got);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ck_assert_ptr_null(jparse(bad[i], strlen(bad[i]), JPARSE_DROP_MANAGED));
    ck_assert_ptr_null(
        k8s_json_loadb(bad[i], strlen(bad[i]), JPARSE_DROP_MANAGED, NULL));
  }
  /* without the flag nothing is dropped */
  got = jparse(page, strlen(page), 0);
  ck_assert_ptr_nonnull(json_object_get(
      json_object_get(json_array_get(json_object_get(got, "items"), 0),
                      "metadata"),
      "managedFields"));
  json_decref(got);
  /* the fallback (nesting jparse declines) drops them the same way */
  n = strlen(page) - 1; /* without its closing brace */
  deep = malloc(n + 5 + 2 * d + 2);
  memcpy(deep, page, n);
  memcpy(deep + n, ",\"x\":", 5);
  n += 5;
  memset(deep + n, '[', d);
  memset(deep + n + d, ']', d);
  n += 2 * d;
  deep[n++] = '}';
  ck_assert_ptr_null(jparse(deep, n, JPARSE_DROP_MANAGED));
  got = k8s_json_loadb(deep, n, JPARSE_DROP_MANAGED, NULL);
  ck_assert_ptr_nonnull(got);
  json_object_del(got, "x");
  ck_assert(json_equal(got, exp));
  json_decref(got);
  json_decref(exp);
  free(deep);
}
END_TEST

static Suite *jparse_suite(void)
{
  Suite *s = suite_create("jparse");
  TCase *tc = tcase_create("jparse");

  tcase_add_test(tc, valid_texts_decode_as_jansson_does);
  tcase_add_test(tc, hostile_texts_are_declined);
  tcase_add_test(tc, every_truncation_agrees);
  tcase_add_test(tc, random_mutations_never_disagree);
  tcase_add_test(tc, deep_nesting_falls_back);
  tcase_add_test(tc, managed_fields_dropped);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(jparse_suite)
