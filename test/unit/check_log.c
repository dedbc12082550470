/* pkg/log: levels, module overrides, kv and JSON lines, redaction. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/log.h"
#include "testutil.h"
#include "util/buf.h"
#include "util/err.h"

static char *out_text;
static size_t out_len;
static FILE *out;

static void setup(void)
{
  log_reset();
  out = open_memstream(&out_text, &out_len);
  log_set_output(out);
}

static void teardown(void)
{
  log_reset();
  fclose(out);
  free(out_text);
}

/* Everything logged so far. */
static const char *logged(void)
{
  fflush(out);
  return out_text ? out_text : "";
}

START_TEST(levels_and_overrides)
{
  ck_assert_int_eq(log_configure("warn,httpc=debug", NULL), 0);
  log_info("k8s", "hidden info");
  log_warn("k8s", "shown warn");
  log_debug("httpc", "shown debug");
  ck_assert_ptr_null(strstr(logged(), "hidden"));
  ck_assert_ptr_nonnull(strstr(logged(), "msg=\"shown warn\""));
  ck_assert_ptr_nonnull(strstr(logged(), "level=debug mod=httpc"));
  /* A bad spec changes nothing. */
  ck_assert_int_eq(log_configure("info,=debug", NULL), OP_EINVAL);
  ck_assert_int_eq(log_configure("chatty", NULL), OP_EINVAL);
  ck_assert_int_eq(log_configure(NULL, "xml"), OP_EINVAL);
  ck_assert(!log_enabled(LOG_INFO, "k8s"));
  ck_assert(log_enabled(LOG_DEBUG, "httpc"));
}
END_TEST

START_TEST(kv_quoting)
{
  log_at(LOG_INFO, "ctl",
         LOG_KV({ "key", "ns/name" }, { "note", "has space \"q\"" },
                { "empty", "" }),
         "reconciled");
  ck_assert_ptr_nonnull(strstr(logged(), "key=ns/name"));
  ck_assert_ptr_nonnull(strstr(logged(), "note=\"has space \\\"q\\\"\""));
  ck_assert_ptr_nonnull(strstr(logged(), "empty=\"\""));
  ck_assert_ptr_nonnull(strstr(logged(), "msg=reconciled"));
  ck_assert_int_eq(logged()[strlen(logged()) - 1], '\n');
}
END_TEST

START_TEST(json_lines_parse)
{
  json_error_t e;
  json_t *j;

  ck_assert_int_eq(log_configure(NULL, "json"), 0);
  log_at(LOG_ERROR, "aws", LOG_KV({ "code", "Throttling" }),
         "call failed: \"%s\"\n", "x");
  j = json_loads(logged(), 0, &e);
  ck_assert_msg(j != NULL, "not JSON: %s", logged());
  ck_assert_str_eq(json_string_value(json_object_get(j, "level")), "error");
  ck_assert_str_eq(json_string_value(json_object_get(j, "mod")), "aws");
  ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "Throttling");
  ck_assert_str_eq(json_string_value(json_object_get(j, "msg")),
                   "call failed: \"x\"\n");
  json_decref(j);
}
END_TEST

START_TEST(redaction)
{
  struct buf b;

  log_at(LOG_INFO, "k8s",
         LOG_KV({ "Authorization", "Bearer abc.def" },
                { "aws_secret_access_key", "wJalr/SECRET" },
                { "url", "https://x/?X-Amz-Signature=deadbeef&a=b" }),
         "sent Authorization: Bearer tok123 with Signature=cafe01, ok");
  ck_assert_ptr_null(strstr(logged(), "abc.def"));
  ck_assert_ptr_null(strstr(logged(), "SECRET"));
  ck_assert_ptr_null(strstr(logged(), "deadbeef"));
  ck_assert_ptr_null(strstr(logged(), "tok123"));
  ck_assert_ptr_null(strstr(logged(), "cafe01"));
  ck_assert_ptr_nonnull(strstr(logged(), "a=b"));
  ck_assert_ptr_nonnull(strstr(logged(), ", ok"));
  buf_init(&b, 1024);
  log_redact("aws_session_token=AQoD; keep", &b);
  ck_assert_str_eq(buf_str(&b), "aws_session_token=[REDACTED]; keep");
  buf_cleanup(&b);
  ck_assert(log_key_is_secret("x-amz-security-token"));
  ck_assert(!log_key_is_secret("namespace"));
}
END_TEST

static Suite *log_suite(void)
{
  Suite *s = suite_create("log");
  TCase *tc = tcase_create("core");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, levels_and_overrides);
  tcase_add_test(tc, kv_quoting);
  tcase_add_test(tc, json_lines_parse);
  tcase_add_test(tc, redaction);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(log_suite)
