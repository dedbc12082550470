/* pkg/util: buffers, strings, map, backoff, time, errors, rng. */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/backoff.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/map.h"
#include "util/rng.h"
#include "util/str.h"
#include "util/uri.h"
#include "util/timeutil.h"
#include "util/util.h"

START_TEST(buf_bounded_append)
{
  struct buf b;

  buf_init(&b, 8);
  ck_assert_int_eq(buf_append_str(&b, "abcd"), 0);
  ck_assert_int_eq(buf_append_str(&b, "efgh"), 0);
  ck_assert_str_eq(buf_str(&b), "abcdefgh");
  /* One byte over the cap fails and clears (no half state). */
  ck_assert_int_eq(buf_append_char(&b, 'x'), OP_ETOOBIG);
  ck_assert_uint_eq(b.len, 0);
  ck_assert_str_eq(buf_str(&b), "");
  buf_cleanup(&b);
}
END_TEST

START_TEST(buf_printf_consume_take)
{
  struct buf b;
  size_t n;
  char *p;

  buf_init(&b, 1024);
  ck_assert_int_eq(buf_printf(&b, "%s=%d;", "a", 42), 0);
  ck_assert_int_eq(buf_printf(&b, "%05.1f", 2.5), 0);
  ck_assert_str_eq(buf_str(&b), "a=42;002.5");
  buf_consume(&b, 5);
  ck_assert_str_eq(buf_str(&b), "002.5");
  buf_consume(&b, 99);
  ck_assert_uint_eq(b.len, 0);
  buf_append_str(&b, "xyz");
  p = buf_take(&b, &n);
  ck_assert_str_eq(p, "xyz");
  ck_assert_uint_eq(n, 3);
  ck_assert_ptr_null(b.data);
  free(p);
  /* Growing far beyond the first allocation keeps content intact. */
  buf_init_secret(&b, 1 << 20);
  for (n = 0; n < 10000; n++)
    ck_assert_int_eq(buf_append_char(&b, (char)('a' + n % 26)), 0);
  ck_assert_int_eq(b.data[9999], 'a' + 9999 % 26);
  buf_cleanup(&b);
}
END_TEST

START_TEST(str_helpers)
{
  char small[4], s[] = "  Hi There \n";
  long long v;
  bool t;

  ck_assert_uint_eq(str_copy(small, "abcdef", sizeof(small)), 6);
  ck_assert_str_eq(small, "abc");
  ck_assert_int_eq(str_fmt(small, sizeof(small), "%d", 123), 0);
  ck_assert_int_eq(str_fmt(small, sizeof(small), "%d", 1234), OP_ETOOBIG);
  ck_assert_str_eq(str_trim(s), "Hi There");
  ck_assert(str_has_prefix("osd-creds", "osd-"));
  ck_assert(!str_has_prefix("os", "osd-"));
  ck_assert(str_has_suffix("a.yaml", ".yaml"));
  ck_assert(str_eq(NULL, NULL) && !str_eq("a", NULL));
  ck_assert(str_case_eq("ABC", "abc"));
  ck_assert_int_eq(str_to_ll("42", 0, 100, &v), 0);
  ck_assert_int_eq(v, 42);
  ck_assert_int_eq(str_to_ll("42x", 0, 100, &v), OP_EINVAL);
  ck_assert_int_eq(str_to_ll("", 0, 100, &v), OP_EINVAL);
  ck_assert_int_eq(str_to_ll(" 1", 0, 100, &v), OP_EINVAL);
  ck_assert_int_eq(str_to_ll("101", 0, 100, &v), OP_ERANGE);
  ck_assert_int_eq(str_to_ll("99999999999999999999", 0, 100, &v), OP_ERANGE);
  ck_assert_int_eq(str_to_bool("TRUE", &t), 0);
  ck_assert(t);
  ck_assert_int_eq(str_to_bool("off", &t), 0);
  ck_assert(!t);
  ck_assert_int_eq(str_to_bool("maybe", &t), OP_EINVAL);
}
END_TEST

START_TEST(map_put_get_del_grow)
{
  struct map m;
  char key[32];
  void *old;
  const char *k;
  size_t i, it = 0, seen = 0;

  map_init(&m);
  ck_assert_ptr_null(map_get(&m, "missing"));
  for (i = 0; i < 5000; i++) {
    str_fmt(key, sizeof(key), "ns/obj-%zu", i);
    map_put(&m, key, (void *)(i + 1), &old);
    ck_assert_ptr_null(old);
  }
  ck_assert_uint_eq(map_len(&m), 5000);
  map_put(&m, "ns/obj-7", (void *)99, &old);
  ck_assert_ptr_eq(old, (void *)8);
  ck_assert_ptr_eq(map_get(&m, "ns/obj-7"), (void *)99);
  /* Delete every other key; the rest must stay reachable past the
   * tombstones. */
  for (i = 0; i < 5000; i += 2) {
    str_fmt(key, sizeof(key), "ns/obj-%zu", i);
    ck_assert_ptr_nonnull(map_del(&m, key));
  }
  ck_assert_uint_eq(map_len(&m), 2500);
  for (i = 1; i < 5000; i += 2) {
    str_fmt(key, sizeof(key), "ns/obj-%zu", i);
    ck_assert(map_has(&m, key));
  }
  ck_assert(!map_has(&m, "ns/obj-0"));
  ck_assert_ptr_null(map_del(&m, "ns/obj-0"));
  while (map_next(&m, &it, &k, &old))
    seen++;
  ck_assert_uint_eq(seen, 2500);
  /* Churn: re-adding deleted keys must not grow without bound. */
  for (i = 0; i < 20000; i++) {
    map_put(&m, "churn", (void *)1, NULL);
    map_del(&m, "churn");
  }
  ck_assert_uint_le(m.cap, 16384);
  map_cleanup(&m, NULL, NULL);
}
END_TEST

/* Index key sets are maps of one or two keys, tens of thousands of them
 * with a fleet of 10,000: their table must stay small. */
START_TEST(map_small_first_table)
{
  struct map m;
  int i;

  map_init(&m);
  map_put(&m, "ns/only", (void *)1, NULL);
  ck_assert_uint_le(m.cap, 4);
  for (i = 0; i < 3; i++)
    map_put(&m, i ? (i == 1 ? "b" : "c") : "a", (void *)2, NULL);
  ck_assert_uint_eq(map_len(&m), 4);
  ck_assert_ptr_eq(map_get(&m, "ns/only"), (void *)1);
  ck_assert_ptr_eq(map_get(&m, "c"), (void *)2);
  map_cleanup(&m, NULL, NULL);
}
END_TEST

START_TEST(backoff_growth_cap_jitter)
{
  struct backoff b;
  struct rng r;
  uint64_t d;
  int i;

  rng_seed(&r, 1);
  backoff_init(&b, 800, 30000, 2.0, 0);
  ck_assert_uint_eq(backoff_next(&b, &r), 800);
  ck_assert_uint_eq(backoff_next(&b, &r), 1600);
  ck_assert_uint_eq(backoff_next(&b, &r), 3200);
  for (i = 0; i < 100; i++)
    d = backoff_next(&b, &r);
  ck_assert_uint_eq(d, 30000);
  backoff_reset(&b);
  ck_assert_uint_eq(backoff_next(&b, &r), 800);
  /* jitter 1.0: within [d, 2d). */
  backoff_init(&b, 800, 30000, 2.0, 1.0);
  for (i = 0; i < 200; i++) {
    b.attempts = 0;
    d = backoff_next(&b, &r);
    ck_assert_uint_ge(d, 800);
    ck_assert_uint_lt(d, 1600);
  }
  /* Full jitter: within [0, d), and not constant. */
  backoff_init(&b, 1000, 20000, 2.0, BACKOFF_FULL_JITTER);
  {
    uint64_t lo = UINT64_MAX, hi = 0;
    for (i = 0; i < 200; i++) {
      b.attempts = 3;
      d = backoff_next(&b, &r);
      ck_assert_uint_lt(d, 8000);
      lo = d < lo ? d : lo;
      hi = d > hi ? d : hi;
    }
    ck_assert_uint_lt(lo, 2000);
    ck_assert_uint_gt(hi, 6000);
  }
}
END_TEST

START_TEST(rng_uniform_below)
{
  struct rng r;
  int counts[10] = { 0 }, i;

  rng_seed(&r, 42);
  for (i = 0; i < 100000; i++)
    counts[rng_below(&r, 10)]++;
  for (i = 0; i < 10; i++) {
    ck_assert_int_gt(counts[i], 9000);
    ck_assert_int_lt(counts[i], 11000);
  }
  for (i = 0; i < 1000; i++) {
    double d = rng_double(&r);
    ck_assert(d >= 0.0 && d < 1.0);
  }
}
END_TEST

START_TEST(time_rfc3339_roundtrip)
{
  char out[TIME_RFC3339_LEN];
  time_t t;

  time_rfc3339(1440938160, out);
  ck_assert_str_eq(out, "2015-08-30T12:36:00Z");
  ck_assert_int_eq(time_parse_rfc3339("2015-08-30T12:36:00Z", &t), 0);
  ck_assert_int_eq(t, 1440938160);
  ck_assert_int_eq(time_parse_rfc3339("2015-08-30T14:36:00.123+02:00", &t), 0);
  ck_assert_int_eq(t, 1440938160);
  ck_assert_int_eq(time_parse_rfc3339("2015-08-30 12:36:00", &t), OP_EPARSE);
  ck_assert_int_eq(time_parse_rfc3339("2015-08-30T12:36:00", &t), OP_EPARSE);
  ck_assert_int_eq(time_parse_rfc3339("2015-08-30T12:36:00Zjunk", &t),
                   OP_EPARSE);
  ck_assert_int_eq(time_parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT", &t),
                   0);
  ck_assert_int_eq(t, 1440938160);
  ck_assert_uint_ge(time_mono_ms() + 1, time_mono_ms());
}
END_TEST

START_TEST(time_duration_parse)
{
  static const struct {
    const char *in;
    int rc;
    long long want;
  } cases[] = {
    { "10m", 0, 600 },
    { "1m30s", 0, 90 },
    { "2h", 0, 7200 },
    { "1h1m1s", 0, 3661 },
    { "45s", 0, 45 },
    { "0090s", 0, 90 },
    { "1s", 0, 1 },
    { "24h", 0, 86400 },
    { "", OP_EINVAL, 0 },
    { "10", OP_EINVAL, 0 },    /* a unit is required */
    { "1.5m", OP_EINVAL, 0 },  /* whole numbers only */
    { "500ms", OP_EINVAL, 0 }, /* below a second is meaningless here */
    { "-5s", OP_EINVAL, 0 },
    { " 5s", OP_EINVAL, 0 },
    { "5s ", OP_EINVAL, 0 },
    { "m", OP_EINVAL, 0 },
    { "5d", OP_EINVAL, 0 },
    { "0s", OP_ERANGE, 0 },                       /* below min 1 */
    { "24h1s", OP_ERANGE, 0 },                    /* above max 1 day */
    { "99999999999999999999999h", OP_ERANGE, 0 }, /* no overflow */
  };
  size_t i;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    long long got = -1;
    int rc = time_parse_duration(cases[i].in, 1, 86400, &got);

    ck_assert_msg(rc == cases[i].rc, "\"%s\": rc %d, want %d", cases[i].in, rc,
                  cases[i].rc);
    ck_assert_msg(rc || got == cases[i].want, "\"%s\": %lld, want %lld",
                  cases[i].in, got, cases[i].want);
    ck_assert_msg(!rc || got == -1, "\"%s\": output written on error",
                  cases[i].in);
  }
  ck_assert_int_eq(time_parse_duration(NULL, 1, 10, NULL), OP_EINVAL);
}
END_TEST

START_TEST(err_names_and_messages)
{
  struct op_error e;

  ck_assert_str_eq(op_err_name(OP_ENOMEM), "ENOMEM");
  ck_assert_str_eq(op_err_name(OP_ECONFLICT), "ECONFLICT");
  ck_assert_str_eq(op_err_name(0), "OK");
  ck_assert_str_eq(op_err_name(-9999), "EUNKNOWN");
  ck_assert_str_eq(op_strerror(OP_ETIMEDOUT), "timed out");
  ck_assert_str_eq(op_strerror(-9999), "unknown error");
  ck_assert_int_eq(op_error_set(&e, OP_EINVAL, "bad %s", "flag"), OP_EINVAL);
  ck_assert_int_eq(e.code, OP_EINVAL);
  ck_assert_str_eq(e.msg, "bad flag");
  ck_assert_int_eq(op_error_set(NULL, OP_EIO, "x"), OP_EIO);
}
END_TEST

/* One encoder for every protocol and for SigV4: RFC 3986 unreserved bytes
 * kept, everything else %XX upper-case, whatever the locale says a letter
 * is (a Latin-1 locale calls 0xE9 alphanumeric). */
START_TEST(uri_encode_decode)
{
  struct buf b;
  char *d;
  char all[256];
  size_t i, escaped = 0;

  setlocale(LC_CTYPE, "");
  buf_init(&b, 4096);
  ck_assert_int_eq(uri_encode(&b, "a-Z_0.~/ +%\xe9", 12, false), 0);
  ck_assert_str_eq(buf_str(&b), "a-Z_0.~%2F%20%2B%25%E9");
  buf_reset(&b);
  ck_assert_int_eq(uri_encode(&b, "k/e y", 5, true), 0);
  ck_assert_str_eq(buf_str(&b), "k/e%20y");
  for (i = 0; i < 256; i++)
    all[i] = (char)i;
  buf_reset(&b);
  ck_assert_int_eq(uri_encode(&b, all, 256, false), 0);
  for (i = 0; i < b.len; i++)
    escaped += b.data[i] == '%';
  /* kept: 26 + 26 + 10 + "-_.~" = 66 bytes; the other 190 escaped */
  ck_assert_uint_eq(escaped, 190);
  ck_assert_uint_eq(b.len, 66 + 3 * 190);
  /* lenient decode (SigV4 normalisation): a stray % stays */
  buf_reset(&b);
  ck_assert_int_eq(uri_decode(&b, "a%2Fb%zz+%4", 11), 0);
  ck_assert_str_eq(buf_str(&b), "a/b%zz+%4");
  buf_cleanup(&b);
  /* strict decode (form bodies): a stray % is an error */
  d = uri_decode_new("%7B%22a%22%3A1%7D+x", false);
  ck_assert_str_eq(d, "{\"a\":1}+x");
  free(d);
  d = uri_decode_new("a+b", true);
  ck_assert_str_eq(d, "a b");
  free(d);
  ck_assert_ptr_null(uri_decode_new("bad%2", false));
  ck_assert_ptr_null(uri_decode_new("bad%zz", false));
  setlocale(LC_CTYPE, "C");
}
END_TEST

static Suite *util_suite(void)
{
  Suite *s = suite_create("util");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, buf_bounded_append);
  tcase_add_test(tc, uri_encode_decode);
  tcase_add_test(tc, buf_printf_consume_take);
  tcase_add_test(tc, str_helpers);
  tcase_add_test(tc, map_put_get_del_grow);
  tcase_add_test(tc, map_small_first_table);
  tcase_add_test(tc, backoff_growth_cap_jitter);
  tcase_add_test(tc, rng_uniform_below);
  tcase_add_test(tc, time_rfc3339_roundtrip);
  tcase_add_test(tc, time_duration_parse);
  tcase_add_test(tc, err_names_and_messages);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(util_suite)
