/* pkg/controllers/common/validate: the name and id shapes, each against
 * the server's own rule. */
#include <string.h>

#include "controllers/common/validate.h"
#include "testutil.h"

START_TEST(dns1123)
{
  char big[300];

  ck_assert(validate_dns1123_subdomain("aws"));
  ck_assert(validate_dns1123_subdomain("a.b-c.d0"));
  ck_assert(!validate_dns1123_subdomain("../../etc/passwd"));
  ck_assert(!validate_dns1123_subdomain(""));
  ck_assert(!validate_dns1123_subdomain(NULL));
  ck_assert(!validate_dns1123_subdomain("Upper"));
  ck_assert(!validate_dns1123_subdomain("-a"));
  ck_assert(!validate_dns1123_subdomain("a-"));
  ck_assert(!validate_dns1123_subdomain("a..b"));
  ck_assert(!validate_dns1123_subdomain("a/b"));
  memset(big, 'a', sizeof(big));
  big[253] = '\0';
  ck_assert(validate_dns1123_subdomain(big));
  big[253] = 'a';
  big[254] = '\0';
  ck_assert(!validate_dns1123_subdomain(big));
  big[63] = '\0';
  ck_assert(validate_dns1123_label(big));
  big[63] = 'a';
  big[64] = '\0';
  ck_assert(!validate_dns1123_label(big));
  ck_assert(!validate_dns1123_label("a.b"));
}
END_TEST

START_TEST(account_ids)
{
  ck_assert(validate_account_id("123456789012"));
  ck_assert(!validate_account_id("12345678901"));
  ck_assert(!validate_account_id("1234567890123"));
  ck_assert(!validate_account_id("12345678901a"));
  ck_assert(!validate_account_id(NULL));
}
END_TEST

START_TEST(regions)
{
  static const char *const good[] = { "us-east-1",      "us-gov-west-1",
                                      "cn-northwest-1", "ap-southeast-4",
                                      "us-iso-east-1",  "us-isob-east-1" };
  static const char *const bad[] = {
    "",           "us-east",
    "us-east-1a", "US-EAST-1",
    "us_east_1",  "evil.example/x",
    "u-east-1",   "us-east-1-",
    "us--1",      "us-eastwestnorthsouthcentral-123"
  };
  size_t i;

  for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    ck_assert_msg(validate_region(good[i]), "%s", good[i]);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_msg(!validate_region(bad[i]), "%s", bad[i]);
  ck_assert(!validate_region(NULL));
}
END_TEST

START_TEST(emails)
{
  ck_assert(validate_email("osd-creds+abc@redhat.com"));
  ck_assert(!validate_email("a@b.c d"));
  ck_assert(!validate_email("nobody"));
  ck_assert(!validate_email("a@@b.com"));
  ck_assert(!validate_email("@b.com"));
  ck_assert(!validate_email("ab@com."));
  ck_assert(!validate_email("ab@.com"));
  ck_assert(!validate_email("a@b.c")); /* shorter than 6 */
  ck_assert(!validate_email(
      "a-very-long-local-part-that-goes-on-and-on@example-domain.example.com"));
}
END_TEST

START_TEST(principal_arns)
{
  ck_assert(validate_principal_arn("arn:aws:iam::999999999999:user/fm", 255));
  ck_assert(validate_principal_arn("arn:aws:iam::999999999999:root", 255));
  ck_assert(validate_principal_arn(
      "arn:aws-us-gov:sts::999999999999:assumed-role/r/s", 255));
  ck_assert(!validate_principal_arn("not-an-arn", 255));
  ck_assert(!validate_principal_arn("arn:aws:s3:::bucket", 255));
  ck_assert(!validate_principal_arn("arn:aws:iam::9999:user/x", 255));
  ck_assert(!validate_principal_arn("arn:aws:iam::999999999999:", 255));
  ck_assert(!validate_principal_arn("arn:aws:iam::999999999999:user/a b", 255));
  ck_assert(!validate_principal_arn("arn:aws:iam::999999999999:user/fm", 20));
  ck_assert(!validate_principal_arn(NULL, 255));
}
END_TEST

START_TEST(lengths)
{
  char s[200];

  ck_assert(validate_len("x", 1, 128));
  ck_assert(!validate_len("", 1, 128));
  ck_assert(!validate_len(NULL, 0, 128));
  memset(s, 'x', 128);
  s[128] = '\0';
  ck_assert(validate_len(s, 1, 128));
  s[128] = 'x';
  s[129] = '\0';
  ck_assert(!validate_len(s, 1, 128));
  /* characters, not bytes: 64 two-byte characters fit 64 */
  for (int i = 0; i < 64; i++)
    memcpy(s + 2 * i, "\xc3\xa9", 2);
  s[128] = '\0';
  ck_assert(validate_len(s, 1, 64));
  ck_assert(!validate_len(s, 1, 63));
  ck_assert(!validate_len("\xff", 1, 5));  /* not UTF-8 */
  ck_assert(!validate_len("\xc3(", 1, 5)); /* cut sequence */
}
END_TEST

static Suite *validate_suite(void)
{
  Suite *s = suite_create("validate");
  TCase *tc = tcase_create("shapes");

  tcase_add_test(tc, dns1123);
  tcase_add_test(tc, account_ids);
  tcase_add_test(tc, regions);
  tcase_add_test(tc, emails);
  tcase_add_test(tc, principal_arns);
  tcase_add_test(tc, lengths);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(validate_suite)
