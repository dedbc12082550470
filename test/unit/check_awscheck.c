/* pkg/awscheck: the aws-check run as a module: where the credentials come
 * from, the exit status for a diagnosis and for a check that cannot run,
 * and that no secret reaches either stream. The calls themselves (and
 * every failure class against a live endpoint) are covered by
 * check_aws_check.c and the e2e suite (test_aws_integration.py). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awscheck/awscheck.h"
#include "testutil.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

static char *out_s, *err_s;
static size_t out_n, err_n;

static int run(const struct awscheck_opts *o)
{
  FILE *out = open_memstream(&out_s, &out_n);
  FILE *err = open_memstream(&err_s, &err_n);
  int rc;

  ck_assert_ptr_nonnull(out);
  ck_assert_ptr_nonnull(err);
  rc = awscheck_run(o, out, err);
  fclose(out);
  fclose(err);
  return rc;
}

static void setup(void)
{
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  unsetenv("AWS_SESSION_TOKEN");
  unsetenv("AWS_ROLE_ARN");
  unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void teardown(void)
{
  free(out_s);
  free(err_s);
  out_s = err_s = NULL;
  curl_global_cleanup();
}

/* A refused port: the check never leaves the machine. */
static const struct awscheck_opts offline = { .endpoint_url =
                                                  "http://127.0.0.1:1",
                                              .region = "us-east-1" };

/* Nothing configured: a diagnosis (exit 1) naming the missing
 * credentials, and no call made. */
START_TEST(no_credentials_is_a_diagnosis)
{
  ck_assert_int_eq(run(&offline), AWSCHECK_DIAGNOSIS);
  ck_assert_ptr_nonnull(strstr(out_s, "aws-check: FAILED (no_credentials)"));
  ck_assert_ptr_nonnull(strstr(out_s, "credentials:        none\n"));
}
END_TEST

/* Keys from the environment, endpoint refused: the report says where the
 * keys came from and that the endpoint is unreachable; the secret key
 * appears nowhere. */
START_TEST(environment_keys_unreachable_endpoint)
{
  setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
  ck_assert_int_eq(run(&offline), AWSCHECK_DIAGNOSIS);
  ck_assert_ptr_nonnull(strstr(out_s, "aws-check: FAILED (unreachable)"));
  ck_assert_ptr_nonnull(strstr(out_s, "sts:GetCallerIdentity"));
  ck_assert_ptr_nonnull(
      strstr(out_s, "credentials:        environment (AWS_ACCESS_KEY_ID)"));
  ck_assert_ptr_null(strstr(out_s, SECRET));
  ck_assert_ptr_null(strstr(err_s, SECRET));
}
END_TEST

/* A kubeconfig that cannot be read: no report at all (exit 2), and the
 * reason on err, naming the file; environment keys are not a fallback
 * (the operator would not use them either). */
START_TEST(unreadable_kubeconfig_cannot_run)
{
  struct awscheck_opts o = offline;

  setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
  o.kubeconfig = "/nonexistent/kubeconfig";
  o.namespace = "aws-account-operator";
  ck_assert_int_eq(run(&o), AWSCHECK_CANNOT_RUN);
  ck_assert_str_eq(out_s, "");
  ck_assert_ptr_nonnull(strstr(err_s, "--kubeconfig /nonexistent/kubeconfig"));
  ck_assert_ptr_null(strstr(err_s, SECRET));
}
END_TEST

static Suite *awscheck_suite(void)
{
  Suite *s = suite_create("awscheck");
  TCase *tc = tcase_create("run");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, no_credentials_is_a_diagnosis);
  tcase_add_test(tc, environment_keys_unreachable_endpoint);
  tcase_add_test(tc, unreadable_kubeconfig_cannot_run);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(awscheck_suite)
