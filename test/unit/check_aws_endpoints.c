/* pkg/aws/core/endpoints: partitions, per-service hosts and signing regions,
 * overrides, ARN helpers. */
#include <string.h>

#include "aws/core/endpoints.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

static const char *fake_env(const char *name)
{
  if (strcmp(name, "AWS_ENDPOINT_URL_STS") == 0)
    return "http://localhost:4566/";
  if (strcmp(name, "AWS_ENDPOINT_URL_SERVICE_QUOTAS") == 0)
    return "https://quotas.internal:8443";
  return NULL;
}

static const char *no_env(const char *name)
{
  (void)name;
  return NULL;
}

static void expect(struct aws_endpoints *e, const char *svc, const char *region,
                   const char *url, const char *sreg)
{
  struct aws_endpoint ep;

  ck_assert_int_eq(aws_endpoint_resolve(e, svc, region, &ep), 0);
  ck_assert_msg(strcmp(ep.url, url) == 0, "%s: %s != %s", svc, ep.url, url);
  ck_assert_str_eq(ep.signing_region, sreg);
}

START_TEST(partitions_and_services)
{
  struct aws_endpoints *e;
  struct aws_endpoint ep;

  ck_assert_int_eq(aws_endpoints_new(NULL, NULL, no_env, &e), 0);
  expect(e, "organizations", "eu-west-1",
         "https://organizations.us-east-1.amazonaws.com", "us-east-1");
  expect(e, "iam", NULL, "https://iam.amazonaws.com", "us-east-1");
  expect(e, "sts", "eu-west-1", "https://sts.eu-west-1.amazonaws.com",
         "eu-west-1");
  expect(e, "sts", NULL, "https://sts.us-east-1.amazonaws.com", "us-east-1");
  expect(e, "support", "ap-south-1", "https://support.us-east-1.amazonaws.com",
         "us-east-1");
  expect(e, "ec2", "ca-central-1", "https://ec2.ca-central-1.amazonaws.com",
         "ca-central-1");
  expect(e, "s3", "us-west-2", "https://s3.us-west-2.amazonaws.com",
         "us-west-2");
  expect(e, "route53", NULL, "https://route53.amazonaws.com", "us-east-1");
  expect(e, "servicequotas", "eu-central-1",
         "https://servicequotas.eu-central-1.amazonaws.com", "eu-central-1");
  expect(e, "account", NULL, "https://account.us-east-1.amazonaws.com",
         "us-east-1");
  ck_assert_int_eq(aws_endpoint_resolve(e, "lambda", NULL, &ep), OP_EINVAL);
  ck_assert_int_eq(aws_endpoint_resolve(e, "ec2", "a/b", &ep), OP_EINVAL);
  aws_endpoint_resolve(e, "iam", NULL, &ep);
  ck_assert_str_eq(ep.signing_name, "iam");
  ck_assert_str_eq(ep.host, "iam.amazonaws.com");
  aws_endpoints_free(e);

  ck_assert_int_eq(aws_endpoints_new("aws-us-gov", NULL, no_env, &e), 0);
  expect(e, "organizations", NULL,
         "https://organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1");
  expect(e, "iam", NULL, "https://iam.us-gov.amazonaws.com", "us-gov-west-1");
  expect(e, "ec2", NULL, "https://ec2.us-gov-west-1.amazonaws.com",
         "us-gov-west-1");
  aws_endpoints_free(e);

  ck_assert_int_eq(aws_endpoints_new("aws-cn", NULL, no_env, &e), 0);
  expect(e, "organizations", NULL,
         "https://organizations.cn-northwest-1.amazonaws.com.cn",
         "cn-northwest-1");
  expect(e, "sts", "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn",
         "cn-north-1");
  aws_endpoints_free(e);
  ck_assert_int_eq(aws_endpoints_new("aws-mars", NULL, no_env, &e), OP_EINVAL);
}
END_TEST

START_TEST(overrides)
{
  struct aws_endpoints *e;
  struct aws_endpoint ep;

  /* Global override, a more specific environment override per service;
   * the signing region and name never change. */
  ck_assert_int_eq(
      aws_endpoints_new(NULL, "http://127.0.0.1:9000", fake_env, &e), 0);
  expect(e, "organizations", NULL, "http://127.0.0.1:9000", "us-east-1");
  expect(e, "ec2", "eu-west-3", "http://127.0.0.1:9000", "eu-west-3");
  aws_endpoint_resolve(e, "sts", "eu-west-1", &ep);
  ck_assert_str_eq(ep.url, "http://localhost:4566");
  ck_assert_str_eq(ep.host, "localhost:4566");
  ck_assert_str_eq(ep.signing_region, "eu-west-1");
  ck_assert_str_eq(ep.signing_name, "sts");
  aws_endpoint_resolve(e, "servicequotas", NULL, &ep);
  ck_assert_str_eq(ep.host, "quotas.internal:8443");
  ck_assert_str_eq(ep.signing_name, "servicequotas");
  aws_endpoints_free(e);
  ck_assert_int_eq(aws_endpoints_new(NULL, "ftp://x", no_env, &e), OP_ECONFIG);
  ck_assert_int_eq(aws_endpoints_new(NULL, "http://x/prefix", no_env, &e),
                   OP_ECONFIG);
  ck_assert_int_eq(aws_endpoints_new(NULL, "http://", no_env, &e), OP_ECONFIG);
}
END_TEST

START_TEST(arn_and_partition_helpers)
{
  char out[32];

  ck_assert_int_eq(
      aws_arn_partition("arn:aws-us-gov:iam::123:role/x", out, sizeof(out)), 0);
  ck_assert_str_eq(out, "aws-us-gov");
  ck_assert_int_eq(aws_arn_account("arn:aws:sts::123456789012:assumed-role/"
                                   "r/s",
                                   out, sizeof(out)),
                   0);
  ck_assert_str_eq(out, "123456789012");
  ck_assert_int_eq(aws_arn_account("arn:aws:s3:::bucket", out, sizeof(out)),
                   OP_EINVAL);
  ck_assert_int_eq(aws_arn_partition("nope", out, sizeof(out)), OP_EINVAL);
  ck_assert_int_eq(aws_arn_partition("arn:", out, sizeof(out)), OP_EINVAL);
  ck_assert_str_eq(aws_partition_of_region("cn-north-1"), "aws-cn");
  ck_assert_str_eq(aws_partition_of_region("us-gov-east-1"), "aws-us-gov");
  ck_assert_str_eq(aws_partition_of_region("eu-west-1"), "aws");
  ck_assert_str_eq(aws_partition_default_region("aws-us-gov"), "us-gov-west-1");
  ck_assert_str_eq(aws_partition_dns_suffix("aws-cn"), "amazonaws.com.cn");
  ck_assert_ptr_null(aws_partition_default_region("x"));
}
END_TEST

START_TEST(arn_fmt_per_partition)
{
  char out[96];

  ck_assert_int_eq(aws_arn_fmt(out, sizeof(out), "aws-us-gov", "iam", "123",
                               "role/OrganizationAccountAccessRole"),
                   0);
  ck_assert_str_eq(
      out, "arn:aws-us-gov:iam::123:role/OrganizationAccountAccessRole");
  ck_assert_int_eq(aws_arn_fmt(out, sizeof(out), NULL, "iam", "aws",
                               "policy/AdministratorAccess"),
                   0);
  ck_assert_str_eq(out, "arn:aws:iam::aws:policy/AdministratorAccess");
  ck_assert_int_eq(aws_arn_fmt(out, sizeof(out), "aws", "iam", "", "role/x"),
                   OP_EINVAL);
  ck_assert_str_eq(out, "");
  ck_assert_int_eq(aws_arn_fmt(out, 16, "aws", "iam", "123", "role/long-name"),
                   OP_ETOOBIG);
}
END_TEST

/* The ConfigMap's fedramp switches a live table: global services follow,
 * overrides stay, regional services keep the region they are given. */
START_TEST(partition_switch)
{
  struct aws_endpoints *e;

  ck_assert_int_eq(aws_endpoints_new(NULL, NULL, no_env, &e), 0);
  ck_assert_int_eq(aws_endpoints_set_partition(e, "aws-us-gov"), 0);
  ck_assert_str_eq(aws_endpoints_partition(e), "aws-us-gov");
  expect(e, "iam", NULL, "https://iam.us-gov.amazonaws.com", "us-gov-west-1");
  expect(e, "sts", NULL, "https://sts.us-gov-west-1.amazonaws.com",
         "us-gov-west-1");
  expect(e, "ec2", "us-gov-east-1", "https://ec2.us-gov-east-1.amazonaws.com",
         "us-gov-east-1");
  ck_assert_int_eq(aws_endpoints_set_partition(e, "aws-x"), OP_EINVAL);
  ck_assert_int_eq(aws_endpoints_set_partition(e, "aws"), 0);
  expect(e, "iam", NULL, "https://iam.amazonaws.com", "us-east-1");
  aws_endpoints_free(e);
  ck_assert_int_eq(aws_endpoints_new(NULL, "http://127.0.0.1:9000", no_env, &e),
                   0);
  ck_assert_int_eq(aws_endpoints_set_partition(e, "aws-us-gov"), 0);
  expect(e, "organizations", NULL, "http://127.0.0.1:9000", "us-gov-west-1");
  aws_endpoints_free(e);
}
END_TEST

static Suite *aws_endpoints_suite(void)
{
  Suite *s = suite_create("aws_endpoints");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, partitions_and_services);
  tcase_add_test(tc, overrides);
  tcase_add_test(tc, arn_and_partition_helpers);
  tcase_add_test(tc, arn_fmt_per_partition);
  tcase_add_test(tc, partition_switch);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(aws_endpoints_suite)
