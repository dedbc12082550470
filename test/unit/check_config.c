/* pkg/config: flags, environment, defaults, errors. */
#include <string.h>

#include "config/config.h"
#include "log/log.h"
#include "testutil.h"
#include "util/err.h"

static const char *env_vals[16][2];

static const char *fake_env(const char *name)
{
  int i;

  for (i = 0; i < 16 && env_vals[i][0]; i++) {
    if (!strcmp(env_vals[i][0], name))
      return env_vals[i][1];
  }
  return NULL;
}

static void setup(void)
{
  memset(env_vals, 0, sizeof(env_vals));
  log_reset();
}

static int parse(struct cfg *c, char *err, int argc, char *const *argv)
{
  return cfg_parse(c, argc, argv, fake_env, err, 256);
}

START_TEST(defaults)
{
  char *argv[] = { "op" }, err[256];
  struct cfg c;

  ck_assert_int_eq(parse(&c, err, 1, argv), 0);
  ck_assert_str_eq(c.namespace, "aws-account-operator");
  ck_assert_str_eq(c.metrics_bind, ":8080");
  ck_assert_str_eq(c.health_bind, ":8081");
  ck_assert(!c.leader_elect);
  ck_assert_ptr_null(c.kubeconfig);
  ck_assert_ptr_null(c.aws_endpoint_url);
  ck_assert_ptr_null(c.subcommand);
  ck_assert_int_eq(c.create_account_concurrency, 5);
  ck_assert_int_eq(c.support_case_poll_s, 600);   /* upstream's 10 minutes */
  ck_assert_int_eq(c.validation_interval_s, 600); /* upstream's requeue */
  cfg_cleanup(&c);
}
END_TEST

START_TEST(support_case_poll_interval)
{
  char *flag[] = { "op", "--support-case-poll-interval", "1m30s" };
  char *flag_eq[] = { "op", "--support-case-poll-interval=5s" };
  char *none[] = { "op" };
  char err[256];
  struct cfg c;

  ck_assert_int_eq(parse(&c, err, 3, flag), 0);
  ck_assert_int_eq(c.support_case_poll_s, 90);
  cfg_cleanup(&c);
  env_vals[0][0] = "SUPPORT_CASE_POLL_INTERVAL";
  env_vals[0][1] = "2h";
  ck_assert_int_eq(parse(&c, err, 1, none), 0);
  ck_assert_int_eq(c.support_case_poll_s, 7200); /* env beats default */
  cfg_cleanup(&c);
  ck_assert_int_eq(parse(&c, err, 2, flag_eq), 0);
  ck_assert_int_eq(c.support_case_poll_s, 5); /* flag beats env */
  cfg_cleanup(&c);
  env_vals[0][1] = "soon";
  ck_assert_int_eq(parse(&c, err, 1, none), OP_EINVAL);
  ck_assert_msg(strstr(err, "environment variable SUPPORT_CASE_POLL_INTERVAL"),
                "%s", err);
  ck_assert_msg(strstr(err, "expected a duration"), "%s", err);
}
END_TEST

START_TEST(validation_interval)
{
  char *flag[] = { "op", "--validation-interval=2s" };
  char *bad[] = { "op", "--validation-interval", "0s" };
  char *none[] = { "op" };
  char err[256];
  struct cfg c;

  ck_assert_int_eq(parse(&c, err, 2, flag), 0);
  ck_assert_int_eq(c.validation_interval_s, 2);
  cfg_cleanup(&c);
  env_vals[0][0] = "VALIDATION_INTERVAL";
  env_vals[0][1] = "1h";
  ck_assert_int_eq(parse(&c, err, 1, none), 0);
  ck_assert_int_eq(c.validation_interval_s, 3600);
  cfg_cleanup(&c);
  ck_assert_int_eq(parse(&c, err, 3, bad), OP_EINVAL);
  ck_assert_msg(strstr(err, "validation-interval"), "%s", err);
}
END_TEST

START_TEST(flags_both_forms_and_env_precedence)
{
  char *argv[] = { "op",
                   "--namespace",
                   "ns1",
                   "--metrics-bind-address=127.0.0.1:18080",
                   "--leader-elect",
                   "--aws-endpoint-url",
                   "http://127.0.0.1:5000",
                   "--log-format=json" };
  char err[256];
  struct cfg c;

  env_vals[0][0] = "OPERATOR_NAMESPACE";
  env_vals[0][1] = "from-env";
  env_vals[1][0] = "HEALTH_PROBE_BIND_ADDRESS";
  env_vals[1][1] = ":9999";
  env_vals[2][0] = "AWS_DEFAULT_REGION";
  env_vals[2][1] = "eu-west-1";
  ck_assert_int_eq(parse(&c, err, 8, argv), 0);
  ck_assert_str_eq(c.namespace, "ns1");     /* flag beats env */
  ck_assert_str_eq(c.health_bind, ":9999"); /* env beats default */
  ck_assert_str_eq(c.metrics_bind, "127.0.0.1:18080");
  ck_assert(c.leader_elect);
  ck_assert_str_eq(c.aws_endpoint_url, "http://127.0.0.1:5000");
  ck_assert_str_eq(c.aws_region, "eu-west-1");
  ck_assert_str_eq(c.log_format, "json");
  cfg_cleanup(&c);
}
END_TEST

START_TEST(bad_input_is_reported)
{
  static const struct {
    int argc;
    char *argv[3];
    const char *want;
  } cases[] = {
    { 2, { "op", "--bogus" }, "unknown flag --bogus" },
    { 2, { "op", "-x" }, "unknown flag -x" },
    { 2, { "op", "--namespace" }, "needs a value" },
    { 2, { "op", "--leader-elect=maybe" }, "invalid value \"maybe\"" },
    { 2, { "op", "--log-level=loud" }, "invalid --log-level" },
    { 2, { "op", "--log-format=xml" }, "invalid --log-format" },
    { 2, { "op", "--create-account-concurrency=6" }, "invalid value \"6\"" },
    { 2, { "op", "--kube-api-qps=abc" }, "invalid value \"abc\"" },
    { 2, { "op", "--aws-endpoint-url=ftp://x" }, "must be an http(s) URL" },
    { 2,
      { "op", "--support-case-poll-interval=10" },
      "invalid value \"10\" for --support-case-poll-interval (expected a "
      "duration" },
    { 2,
      { "op", "--support-case-poll-interval=0s" },
      "invalid value \"0s\" for --support-case-poll-interval" },
    { 2,
      { "op", "--support-case-poll-interval=25h" },
      "invalid value \"25h\" for --support-case-poll-interval" },
    { 2,
      { "op", "--support-case-poll-interval=1.5m" },
      "invalid value \"1.5m\" for --support-case-poll-interval" },
    { 2, { "op", "--support-case-poll-interval" }, "needs a value" },
    { 2, { "op", "--namespace=" }, "must not be empty" },
    { 2, { "op", "--namespace=../x" }, "invalid --namespace \"../x\"" },
    { 2, { "op", "--namespace=Ops" }, "invalid --namespace" },
    { 2, { "op", "--aws-region=../../x" }, "invalid --aws-region \"../../x\"" },
    { 2, { "op", "--aws-region=us-east" }, "invalid --aws-region" },
    { 2, { "op", "--kube-api-qps=-5" }, "invalid value \"-5\"" },
    { 2, { "op", "--kube-api-burst=99999999999999999999" }, "invalid value" },
    { 2, { "op", "--create-account-concurrency=0" }, "invalid value \"0\"" },
    { 2, { "op", "--validation-interval=-5m" }, "invalid value \"-5m\"" },
    { 2, { "op", "frobnicate" }, "unknown command \"frobnicate\"" },
    { 3, { "op", "aws-check", "extra" }, "unexpected argument" },
  };
  char err[256];
  struct cfg c;
  size_t i;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    ck_assert_int_eq(parse(&c, err, cases[i].argc, cases[i].argv), OP_EINVAL);
    ck_assert_msg(strstr(err, cases[i].want), "case %zu: got \"%s\"", i, err);
  }
  env_vals[0][0] = "LEADER_ELECT";
  env_vals[0][1] = "perhaps";
  {
    char *argv[] = { "op" };
    ck_assert_int_eq(parse(&c, err, 1, argv), OP_EINVAL);
    ck_assert_msg(strstr(err, "environment variable LEADER_ELECT"), "%s", err);
  }
}
END_TEST

START_TEST(subcommand_help_version)
{
  char *argv[] = { "op", "aws-check", "--log-level=debug" };
  char *argv2[] = { "op", "--version", "--help" };
  char err[256];
  struct cfg c;
  FILE *f;
  char *text = NULL;
  size_t len = 0;

  ck_assert_int_eq(parse(&c, err, 3, argv), 0);
  ck_assert_str_eq(c.subcommand, "aws-check");
  cfg_cleanup(&c);
  ck_assert_int_eq(parse(&c, err, 3, argv2), 0);
  ck_assert(c.show_version && c.show_help);
  cfg_cleanup(&c);
  f = open_memstream(&text, &len);
  cfg_usage(f, "aws-account-operator");
  fclose(f);
  ck_assert_ptr_nonnull(strstr(text, "--metrics-bind-address"));
  ck_assert_ptr_nonnull(strstr(text, "METRICS_BIND_ADDRESS"));
  ck_assert_ptr_nonnull(strstr(text, "aws-check"));
  ck_assert_ptr_nonnull(strstr(text, "--support-case-poll-interval"));
  ck_assert_ptr_nonnull(
      strstr(text, "SUPPORT_CASE_POLL_INTERVAL] default 10m"));
  free(text);
}
END_TEST

static Suite *config_suite(void)
{
  Suite *s = suite_create("config");
  TCase *tc = tcase_create("core");

  tcase_add_checked_fixture(tc, setup, NULL);
  tcase_add_test(tc, defaults);
  tcase_add_test(tc, flags_both_forms_and_env_precedence);
  tcase_add_test(tc, bad_input_is_reported);
  tcase_add_test(tc, support_case_poll_interval);
  tcase_add_test(tc, validation_interval);
  tcase_add_test(tc, subcommand_help_version);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(config_suite)
