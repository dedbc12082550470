/* pkg/aws/core/creds: static, AssumeRole (single in-flight refresh, refresh
 * before expiry, chaining cap), web identity, failure handling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws/core/creds.h"
#include "aws/core/transport.h"
#include "http/httpc.h"
#include "support/testsrv.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

#define WAIT_MS 10000

static time_t fake_now;

static time_t test_now(void)
{
  return fake_now;
}

struct fx {
  uv_loop_t loop;
  struct httpc *http;
  struct testsrv *s;
  struct aws_client *c;
  int c_closed, h_closed, s_closed;
};

static void set_flag(void *arg)
{
  *(int *)arg = 1;
}

static void fx_setup(struct fx *f)
{
  struct aws_client_opts o = { .backoff_base_ms = 1, .rng_seed = 5 };
  char url[128];

  memset(f, 0, sizeof(*f));
  ck_assert_int_eq(uv_loop_init(&f->loop), 0);
  ck_assert_int_eq(httpc_new(&f->loop, NULL, &f->http), 0);
  ck_assert_int_eq(testsrv_new(&f->loop, &f->s), 0);
  testsrv_url(f->s, "", url, sizeof(url));
  o.endpoint_url = url;
  ck_assert_int_eq(aws_client_new(&f->loop, f->http, &o, &f->c), 0);
  fake_now = time(NULL);
  aws__creds_now = test_now;
}

static void fx_teardown(struct fx *f)
{
  aws__creds_now = NULL;
  aws_client_close(f->c, set_flag, &f->c_closed);
  ck_assert(test_run_until(&f->loop, &f->c_closed, WAIT_MS));
  httpc_close(f->http, set_flag, &f->h_closed);
  testsrv_close(f->s, set_flag, &f->s_closed);
  ck_assert(test_run_until(&f->loop, &f->h_closed, WAIT_MS));
  ck_assert(test_run_until(&f->loop, &f->s_closed, WAIT_MS));
  ASSERT_LOOP_CLEAN(&f->loop);
}

static void route_sts(struct fx *f, const char *op, const char *akid,
                      time_t expiry)
{
  char exp[TIME_RFC3339_LEN], *body;

  time_rfc3339(expiry, exp);
  body = str_printf_new(
      "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
      "<%sResult><Credentials><AccessKeyId>%s</AccessKeyId>"
      "<SecretAccessKey>sk-%s</SecretAccessKey>"
      "<SessionToken>tok-%s</SessionToken>"
      "<Expiration>%s</Expiration></Credentials>"
      "<AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn>"
      "</AssumedRoleUser></%sResult><ResponseMetadata><RequestId>x"
      "</RequestId></ResponseMetadata></%sResponse>",
      op, op, akid, akid, akid, exp, op, op);
  testsrv_route_fixed(f->s, "/", 200, NULL, body, strlen(body));
  free(body);
}

struct got {
  int done, err;
  char akid[64], secret[64], token[64];
};

static void on_creds(int err, const struct sigv4_creds *v, void *arg)
{
  struct got *g = arg;

  g->done++;
  g->err = err;
  if (v) {
    str_copy(g->akid, v->access_key_id, sizeof(g->akid));
    str_copy(g->secret, v->secret_access_key, sizeof(g->secret));
    str_copy(g->token, v->session_token ? v->session_token : "",
             sizeof(g->token));
  }
}

START_TEST(static_and_env)
{
  struct aws_creds *c = aws_creds_static_new("AKID", "SK", NULL);
  struct got g = { 0 };

  ck_assert_ptr_nonnull(c);
  ck_assert_int_eq(aws_creds_get(c, on_creds, &g), 0);
  ck_assert_int_eq(g.done, 1); /* synchronous when fresh */
  ck_assert_str_eq(g.akid, "AKID");
  ck_assert_str_eq(g.token, "");
  ck_assert(!aws_creds_is_role_session(c));
  ck_assert_str_eq(aws_creds_label(c), "AKID");
  aws_creds_ref(c);
  aws_creds_unref(c);
  aws_creds_unref(c);
  ck_assert_ptr_null(aws_creds_static_new("AKID", "", NULL));
  setenv("AWS_ACCESS_KEY_ID", "EK", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "ES", 1);
  setenv("AWS_SESSION_TOKEN", "ET", 1);
  ck_assert_int_eq(aws_creds_from_env(&c), 0);
  ck_assert(aws_creds_is_role_session(c));
  aws_creds_unref(c);
  unsetenv("AWS_ACCESS_KEY_ID");
  ck_assert_int_eq(aws_creds_from_env(&c), OP_ENOTFOUND);
  ck_assert_str_eq(AWS_SECRET_KEY_ID, "aws_access_key_id");
  ck_assert_str_eq(AWS_SECRET_KEY_SECRET, "aws_secret_access_key");
  ck_assert_str_eq(AWS_SECRET_KEY_TOKEN, "aws_session_token");
}
END_TEST

START_TEST(assume_role_single_refresh_and_expiry)
{
  struct aws_assume_role_opts o = { .role_arn = "arn:aws:iam::1:role/R",
                                    .external_id = "ext id" };
  struct aws_creds *src = aws_creds_static_new("SRC", "SRCSK", NULL), *c;
  struct got g[3];
  const struct testsrv_req *seen;
  struct fx f;
  int i;

  fx_setup(&f);
  route_sts(&f, "AssumeRole", "ASIA1", fake_now + 3600);
  ck_assert_int_eq(aws_creds_assume_role_new(f.c, src, &o, &c), 0);
  aws_creds_unref(src); /* c holds its own reference */
  memset(g, 0, sizeof(g));
  for (i = 0; i < 3; i++)
    ck_assert_int_eq(aws_creds_get(c, on_creds, &g[i]), 0);
  ck_assert_int_eq(g[0].done, 0); /* queued behind the refresh */
  ck_assert(test_run_until(&f.loop, &g[2].done, WAIT_MS));
  for (i = 0; i < 3; i++) {
    ck_assert_int_eq(g[i].done, 1);
    ck_assert_int_eq(g[i].err, 0);
    ck_assert_str_eq(g[i].akid, "ASIA1");
    ck_assert_str_eq(g[i].token, "tok-ASIA1");
  }
  ck_assert_uint_eq(testsrv_requests(f.s), 1); /* one refresh for three */
  seen = testsrv_last(f.s);
  ck_assert_ptr_nonnull(strstr(buf_str(&seen->body), "Action=AssumeRole&"));
  ck_assert_ptr_nonnull(strstr(buf_str(&seen->body),
                               "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2FR"));
  ck_assert_ptr_nonnull(strstr(buf_str(&seen->body), "ExternalId=ext%20id"));
  ck_assert_ptr_nonnull(
      strstr(buf_str(&seen->body), "RoleSessionName=awsAccountOperator"));
  ck_assert_ptr_nonnull(
      strstr(testsrv_req_header(seen, "Authorization"), "Credential=SRC/"));
  /* Still fresh 54 minutes later: no call. */
  fake_now += 54 * 60;
  memset(g, 0, sizeof(g));
  aws_creds_get(c, on_creds, &g[0]);
  ck_assert_int_eq(g[0].done, 1);
  ck_assert_uint_eq(testsrv_requests(f.s), 1);
  /* Within five minutes of expiry: refreshed. */
  fake_now += 2 * 60;
  route_sts(&f, "AssumeRole", "ASIA2", fake_now + 3600);
  aws_creds_get(c, on_creds, &g[1]);
  ck_assert(test_run_until(&f.loop, &g[1].done, WAIT_MS));
  ck_assert_str_eq(g[1].akid, "ASIA2");
  ck_assert_uint_eq(testsrv_requests(f.s), 2);
  ck_assert(aws_creds_expiry(c) == fake_now + 3600);
  aws_creds_unref(c);
  fx_teardown(&f);
}
END_TEST

START_TEST(refresh_failure)
{
  static const char denied[] =
      "<ErrorResponse><Error><Code>AccessDenied</Code><Message>no"
      "</Message></Error></ErrorResponse>";
  struct aws_assume_role_opts o = { .role_arn = "arn:aws:iam::1:role/R" };
  struct aws_creds *src = aws_creds_static_new("SRC", "SRCSK", NULL), *c;
  struct got g = { 0 };
  struct fx f;

  fx_setup(&f);
  testsrv_route_fixed(f.s, "/", 403, NULL, denied, sizeof(denied) - 1);
  ck_assert_int_eq(aws_creds_assume_role_new(f.c, src, &o, &c), 0);
  aws_creds_get(c, on_creds, &g);
  ck_assert(test_run_until(&f.loop, &g.done, WAIT_MS));
  ck_assert_int_eq(g.err, OP_EAUTH);
  ck_assert_uint_eq(testsrv_requests(f.s), 1); /* auth errors: no retry */
  /* Garbage answer: a parse error, not a crash. */
  testsrv_route_fixed(f.s, "/", 200, NULL, "<x>", 3);
  g.done = 0;
  aws_creds_get(c, on_creds, &g);
  ck_assert(test_run_until(&f.loop, &g.done, WAIT_MS));
  ck_assert_int_eq(g.err, OP_EPARSE);
  aws_creds_unref(c);
  aws_creds_unref(src);
  fx_teardown(&f);
}
END_TEST

START_TEST(chaining_caps_duration)
{
  struct aws_assume_role_opts o = { .role_arn = "arn:aws:iam::1:role/R",
                                    .duration_s = 43200 };
  struct aws_creds *user = aws_creds_static_new("AKIA", "S", NULL);
  struct aws_creds *sess = aws_creds_static_new("ASIA", "S", "T");
  struct aws_creds *a, *b, *d;
  struct got g = { 0 };
  struct fx f;

  fx_setup(&f);
  ck_assert_int_eq(aws_creds_assume_role_new(f.c, user, &o, &a), 0);
  ck_assert_int_eq(aws__creds_duration(a), 43200); /* user -> role */
  ck_assert_int_eq(aws_creds_assume_role_new(f.c, sess, &o, &b), 0);
  ck_assert_int_eq(aws__creds_duration(b), 3600); /* session -> role */
  ck_assert_int_eq(aws_creds_assume_role_new(f.c, a, &o, &d), 0);
  ck_assert_int_eq(aws__creds_duration(d), 3600); /* role -> role */
  /* The chained refresh goes through a's refresh first, and asks for 1 h. */
  route_sts(&f, "AssumeRole", "ASIAX", fake_now + 3600);
  aws_creds_get(d, on_creds, &g);
  ck_assert(test_run_until(&f.loop, &g.done, WAIT_MS));
  ck_assert_int_eq(g.err, 0);
  ck_assert_uint_eq(testsrv_requests(f.s), 2);
  ck_assert_ptr_nonnull(
      strstr(buf_str(&testsrv_last(f.s)->body), "DurationSeconds=3600"));
  o.duration_s = 0;
  aws_creds_unref(d);
  aws_creds_unref(a);
  aws_creds_unref(b);
  aws_creds_unref(user);
  aws_creds_unref(sess);
  fx_teardown(&f);
}
END_TEST

START_TEST(web_identity_unsigned)
{
  char path[] = "/tmp/aao-wi-XXXXXX";
  struct aws_creds *c;
  const struct testsrv_req *seen;
  struct got g = { 0 };
  struct fx f;
  int fd;

  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, "eyJ.tok.en\n", 11), 11);
  close(fd);
  fx_setup(&f);
  unsetenv("AWS_ROLE_ARN");
  ck_assert_int_eq(aws_creds_web_identity_new(f.c, NULL, path, NULL, &c),
                   OP_ENOTFOUND);
  setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/irsa", 1);
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
  ck_assert_int_eq(aws_creds_web_identity_new(f.c, NULL, NULL, NULL, &c), 0);
  route_sts(&f, "AssumeRoleWithWebIdentity", "ASIAW", fake_now + 3600);
  aws_creds_get(c, on_creds, &g);
  ck_assert(test_run_until(&f.loop, &g.done, WAIT_MS));
  ck_assert_int_eq(g.err, 0);
  ck_assert_str_eq(g.akid, "ASIAW");
  seen = testsrv_last(f.s);
  ck_assert_ptr_null(testsrv_req_header(seen, "Authorization"));
  ck_assert_ptr_nonnull(
      strstr(buf_str(&seen->body), "WebIdentityToken=eyJ.tok.en"));
  ck_assert(aws_creds_is_role_session(c));
  aws_creds_unref(c);
  unlink(path);
  unsetenv("AWS_ROLE_ARN");
  unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
  fx_teardown(&f);
}
END_TEST

static Suite *aws_creds_suite(void)
{
  Suite *s = suite_create("aws_creds");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, static_and_env);
  tcase_add_test(tc, assume_role_single_refresh_and_expiry);
  tcase_add_test(tc, refresh_failure);
  tcase_add_test(tc, chaining_caps_duration);
  tcase_add_test(tc, web_identity_unsigned);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(aws_creds_suite)
