/* pkg/aws/core/xml and errors: safe XML reading, error decoding per
 * protocol, classification by code, hostile and malformed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core/errors.h"
#include "aws/core/xml.h"
#include "testutil.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define FIX "test/unit/fixtures/aws/core/"

static char *fixture(const char *name, size_t *len)
{
  char path[512];
  struct buf b;
  char tmp[4096];
  size_t n;
  FILE *f;

  str_fmt(path, sizeof(path), FIX "%s", name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "missing fixture %s", path);
  buf_init(&b, 1 << 20);
  while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
    buf_append(&b, tmp, n);
  fclose(f);
  return buf_take(&b, len);
}

static int decode_fixture(enum aws_protocol p, long status, const char *name,
                          const char *hdr_type, const char *hdr_rid,
                          struct aws_error *e)
{
  size_t len;
  char *body = fixture(name, &len);
  int rc = aws_error_decode(p, status, body, len, hdr_type, hdr_rid, e);

  free(body);
  return rc;
}

START_TEST(xml_walk_lists)
{
  const struct aws_xml_node *root, *m;
  struct aws_xml *x;
  char out[8];
  size_t len;
  char *body = fixture("iam_list_users.xml", &len);
  int n = 0;

  ck_assert_int_eq(aws_xml_parse(body, len, &x), 0);
  root = aws_xml_root(x);
  ck_assert_str_eq(aws_xml_name(root), "ListUsersResponse");
  ck_assert_uint_eq(
      aws_xml_count(aws_xml_path(root, "ListUsersResult/Users"), "member"), 3);
  for (m = aws_xml_path(root, "ListUsersResult/Users/member"); m;
       m = aws_xml_next(m))
    n++;
  ck_assert_int_eq(n, 3);
  m = aws_xml_next(aws_xml_path(root, "ListUsersResult/Users/member"));
  ck_assert_str_eq(aws_xml_child_text(m, "UserName"), "b & c");
  ck_assert_str_eq(aws_xml_child_text(m, "Arn"),
                   "arn:aws:iam::123456789012:user/b");
  ck_assert_ptr_null(aws_xml_child_text(aws_xml_next(m), "Arn"));
  ck_assert_str_eq(aws_xml_child_text(root, "ResponseMetadata/RequestId"),
                   "7a62c49f");
  ck_assert_int_eq(
      aws_xml_copy(root, "ListUsersResult/IsTruncated", out, sizeof(out)), 0);
  ck_assert_str_eq(out, "false");
  ck_assert_int_eq(aws_xml_copy(root, "ResponseMetadata/RequestId", out, 4),
                   OP_ETOOBIG);
  ck_assert_str_eq(out, "7a6");
  ck_assert_int_eq(aws_xml_copy(root, "Nope", out, sizeof(out)), OP_ENOTFOUND);
  ck_assert_ptr_null(aws_xml_path(NULL, "a"));
  ck_assert_ptr_null(aws_xml_next(NULL));
  aws_xml_free(x);
  free(body);
}
END_TEST

START_TEST(xml_hostile)
{
  static const char *const bad[] = { "billion_laughs.xml", "xxe_passwd.xml",
                                     "xxe_lowercase_doctype.xml",
                                     "truncated.xml", "two_roots.xml" };
  struct aws_xml *x = (void *)1;
  struct buf deep;
  size_t i, len;

  for (i = 0; i < UTIL_ARRAY_SIZE(bad); i++) {
    char *body = fixture(bad[i], &len);
    ck_assert_msg(aws_xml_parse(body, len, &x) == OP_EPARSE, "%s", bad[i]);
    ck_assert_ptr_null(x);
    free(body);
  }
  ck_assert_int_eq(aws_xml_parse("", 0, &x), OP_EPARSE);
  ck_assert_int_eq(aws_xml_parse("\0\0\0", 3, &x), OP_EPARSE);
  ck_assert_int_eq(aws_xml_parse("<a>", 3, &x), OP_EPARSE);
  /* Deep nesting: over our cap (64) is refused, far over libxml2's own
   * limit too, and neither crashes. */
  buf_init(&deep, 1 << 22);
  for (i = 0; i < 65; i++)
    buf_append_str(&deep, "<a>");
  for (i = 0; i < 65; i++)
    buf_append_str(&deep, "</a>");
  ck_assert_int_eq(aws_xml_parse(deep.data, deep.len, &x), OP_ETOOBIG);
  buf_reset(&deep);
  for (i = 0; i < 100000; i++)
    buf_append_str(&deep, "<a>");
  ck_assert_int_ne(aws_xml_parse(deep.data, deep.len, &x), 0);
  buf_reset(&deep);
  for (i = 0; i < 64; i++)
    buf_append_str(&deep, "<a>");
  for (i = 0; i < 64; i++)
    buf_append_str(&deep, "</a>");
  ck_assert_int_eq(aws_xml_parse(deep.data, deep.len, &x), 0);
  aws_xml_free(x);
  /* Over the size cap. */
  buf_cleanup(&deep);
  buf_init(&deep, AWS_XML_MAX_SIZE + 100);
  buf_append_str(&deep, "<a>");
  while (deep.len < AWS_XML_MAX_SIZE)
    buf_append_str(&deep, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  buf_append_str(&deep, "</a>");
  ck_assert_int_eq(aws_xml_parse(deep.data, deep.len, &x), OP_ETOOBIG);
  buf_cleanup(&deep);
}
END_TEST

START_TEST(decode_protocols)
{
  struct aws_error e;

  ck_assert_int_eq(decode_fixture(AWS_PROTO_QUERY, 403, "sts_query_error.xml",
                                  NULL, NULL, &e),
                   OP_EAUTH);
  ck_assert_str_eq(e.code, "InvalidClientTokenId");
  ck_assert_str_eq(e.request_id, "4a2c5b9e-1111-2222-3333-444455556666");
  ck_assert_int_eq(e.http_status, 403);
  ck_assert_int_eq(decode_fixture(AWS_PROTO_QUERY, 400, "iam_throttling.xml",
                                  NULL, "hdr-rid", &e),
                   OP_ETHROTTLED);
  ck_assert_str_eq(e.message, "Rate exceeded");
  ck_assert_str_eq(e.request_id, "hdr-rid"); /* header wins */
  ck_assert_int_eq(
      decode_fixture(AWS_PROTO_EC2, 503, "ec2_error.xml", NULL, NULL, &e),
      OP_ETHROTTLED);
  ck_assert_str_eq(e.code, "RequestLimitExceeded");
  ck_assert_str_eq(e.request_id, "ec2-req-9");
  ck_assert_int_eq(
      decode_fixture(AWS_PROTO_RESTXML, 404, "s3_error.xml", NULL, NULL, &e),
      OP_ENOTFOUND);
  ck_assert_str_eq(e.request_id, "S3REQ");
  ck_assert_int_eq(decode_fixture(AWS_PROTO_RESTXML, 404, "route53_error.xml",
                                  NULL, NULL, &e),
                   OP_ENOTFOUND);
  ck_assert_str_eq(e.code, "NoSuchHostedZone");
  ck_assert_int_eq(decode_fixture(AWS_PROTO_JSON11, 400, "orgs_constraint.json",
                                  NULL, NULL, &e),
                   OP_ELIMIT);
  ck_assert_str_eq(e.code, "ConstraintViolationException");
  ck_assert_str_eq(e.reason, "ACCOUNT_NUMBER_LIMIT_EXCEEDED");
  ck_assert_int_eq(decode_fixture(AWS_PROTO_JSON11, 400, "orgs_toomany.json",
                                  NULL, NULL, &e),
                   OP_ETHROTTLED);
  ck_assert_int_eq(e.cls, AWS_ERR_THROTTLED);
  ck_assert_int_eq(decode_fixture(AWS_PROTO_RESTJSON, 403,
                                  "account_restjson.json", NULL, NULL, &e),
                   OP_EAUTH);
  ck_assert_str_eq(e.message, "The request is not authorized");
  /* x-amzn-ErrorType header wins, with its ":url" suffix stripped. */
  ck_assert_int_eq(
      aws_error_decode(AWS_PROTO_RESTJSON, 404, "{}", 2,
                       "ResourceNotFoundException:http://internal.amazon.com/",
                       "rid", &e),
      OP_ENOTFOUND);
  ck_assert_str_eq(e.code, "ResourceNotFoundException");
  ck_assert_str_eq(e.request_id, "rid");
}
END_TEST

START_TEST(decode_malformed)
{
  struct aws_error e;
  struct buf big;
  size_t i;

  /* Unparseable bodies: classified by status, never a crash. */
  ck_assert_int_eq(
      decode_fixture(AWS_PROTO_JSON11, 400, "truncated.json", NULL, NULL, &e),
      OP_EAWS);
  ck_assert_str_eq(e.code, "");
  ck_assert_int_eq(
      decode_fixture(AWS_PROTO_QUERY, 503, "truncated.xml", NULL, NULL, &e),
      OP_ETRANSIENT);
  ck_assert_int_eq(decode_fixture(AWS_PROTO_QUERY, 400, "billion_laughs.xml",
                                  NULL, NULL, &e),
                   OP_EAWS);
  ck_assert_int_eq(
      decode_fixture(AWS_PROTO_QUERY, 400, "xxe_passwd.xml", NULL, NULL, &e),
      OP_EAWS);
  ck_assert_ptr_null(strstr(e.message, "root:"));
  ck_assert_int_eq(
      aws_error_decode(AWS_PROTO_JSON11, 500, NULL, 0, NULL, NULL, &e),
      OP_ETRANSIENT);
  ck_assert_int_eq(
      aws_error_decode(AWS_PROTO_JSON11, 400, "[1,2]", 5, NULL, NULL, &e),
      OP_EAWS);
  ck_assert_int_eq(aws_error_decode(AWS_PROTO_JSON11, 400,
                                    "{\"__type\":7,\"message\":[]}", 25, NULL,
                                    NULL, &e),
                   OP_EAWS);
  /* Huge values are truncated into the fixed fields. */
  buf_init(&big, 1 << 22);
  buf_append_str(&big, "{\"__type\":\"");
  for (i = 0; i < 100000; i++)
    buf_append_char(&big, 'T');
  buf_append_str(&big, "\",\"message\":\"");
  for (i = 0; i < 200000; i++)
    buf_append_char(&big, 'm');
  buf_append_str(&big, "\"}");
  ck_assert_int_eq(aws_error_decode(AWS_PROTO_JSON11, 400, big.data, big.len,
                                    NULL, NULL, &e),
                   OP_EAWS);
  ck_assert_uint_eq(strlen(e.code), sizeof(e.code) - 1);
  ck_assert_uint_eq(strlen(e.message), sizeof(e.message) - 1);
  buf_cleanup(&big);
}
END_TEST

START_TEST(classify_codes)
{
  static const struct {
    const char *code;
    long status;
    int cls;
  } t[] = {
    { "Throttling", 400, AWS_ERR_THROTTLED },
    { "ThrottlingException", 400, AWS_ERR_THROTTLED },
    { "TooManyRequestsException", 400, AWS_ERR_THROTTLED },
    { "RequestLimitExceeded", 503, AWS_ERR_THROTTLED },
    { "SlowDown", 503, AWS_ERR_THROTTLED },
    { "RequestThrottled", 400, AWS_ERR_THROTTLED },
    { "PriorRequestNotComplete", 400, AWS_ERR_THROTTLED },
    { "InternalError", 500, AWS_ERR_TRANSIENT },
    { "ServiceUnavailable", 503, AWS_ERR_TRANSIENT },
    { "InternalFailure", 500, AWS_ERR_TRANSIENT },
    { "ServiceException", 500, AWS_ERR_TRANSIENT },
    { "", 502, AWS_ERR_TRANSIENT },
    { "SomethingNew", 503, AWS_ERR_TRANSIENT },
    { "InvalidClientTokenId", 403, AWS_ERR_AUTH },
    { "AccessDenied", 403, AWS_ERR_AUTH },
    { "AccessDeniedException", 400, AWS_ERR_AUTH },
    { "UnrecognizedClientException", 400, AWS_ERR_AUTH },
    { "ExpiredToken", 400, AWS_ERR_AUTH },
    { "ExpiredTokenException", 400, AWS_ERR_AUTH },
    { "AuthFailure", 401, AWS_ERR_AUTH },
    { "SignatureDoesNotMatch", 403, AWS_ERR_AUTH },
    { "InvalidSignatureException", 400, AWS_ERR_AUTH },
    { "UnauthorizedOperation", 403, AWS_ERR_AUTH },
    { "RequestTimeTooSkewed", 403, AWS_ERR_CLOCK_SKEW },
    { "NoSuchEntity", 404, AWS_ERR_NOTFOUND },
    { "AccountNotFoundException", 400, AWS_ERR_NOTFOUND },
    { "InvalidGroup.NotFound", 400, AWS_ERR_NOTFOUND },
    { "NoSuchBucket", 404, AWS_ERR_NOTFOUND },
    { "ConcurrentModificationException", 400, AWS_ERR_CONFLICT },
    { "EntityAlreadyExists", 409, AWS_ERR_CONFLICT },
    { "BucketAlreadyOwnedByYou", 409, AWS_ERR_CONFLICT },
    { "DuplicateAccountException", 400, AWS_ERR_CONFLICT },
    { "ConstraintViolationException", 400, AWS_ERR_LIMIT },
    { "LimitExceeded", 409, AWS_ERR_LIMIT },
    { "ValidationException", 400, AWS_ERR_INVALID },
    { "ValidationError", 400, AWS_ERR_INVALID },
    { "InvalidParameterValue", 400, AWS_ERR_INVALID },
    { "InvalidParameterCombination", 400, AWS_ERR_INVALID },
    { "MalformedPolicyDocument", 400, AWS_ERR_INVALID },
    { "AWSOrganizationsNotInUseException", 400, AWS_ERR_OTHER },
    { "", 400, AWS_ERR_OTHER },
    { "", 429, AWS_ERR_THROTTLED },
  };
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(t); i++)
    ck_assert_msg(
        (int)aws_error_classify(t[i].code, t[i].status) == t[i].cls,
        "%s/%ld -> %s", t[i].code, t[i].status,
        aws_error_class_name(aws_error_classify(t[i].code, t[i].status)));
  ck_assert_int_eq(aws_error_class_op(AWS_ERR_THROTTLED), OP_ETHROTTLED);
  ck_assert_int_eq(aws_error_class_op(AWS_ERR_CLOCK_SKEW), OP_EAUTH);
  ck_assert_int_eq(aws_error_class_op(AWS_ERR_OTHER), OP_EAWS);
}
END_TEST

START_TEST(skew_and_transport)
{
  static const char body[] =
      "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>"
      "Signature expired: 20150830T123600Z is now earlier than "
      "20150830T125100Z (20150830T130100Z - 10 min.)</Message></Error>"
      "</ErrorResponse>";
  struct aws_error e;

  aws_error_decode(AWS_PROTO_QUERY, 403, body, strlen(body), NULL, NULL, &e);
  ck_assert_int_eq(e.cls, AWS_ERR_CLOCK_SKEW);
  ck_assert_int_eq(aws_error_from_transport(OP_ECONNREFUSED, "refused", &e),
                   OP_ECONNREFUSED);
  ck_assert_int_eq(e.cls, AWS_ERR_TRANSIENT);
  ck_assert_str_eq(e.code, "ECONNREFUSED");
  aws_error_from_transport(OP_ECANCELED, NULL, &e);
  ck_assert_int_eq(e.cls, AWS_ERR_OTHER);
}
END_TEST

static Suite *aws_errors_suite(void)
{
  Suite *s = suite_create("aws_errors");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, xml_walk_lists);
  tcase_add_test(tc, xml_hostile);
  tcase_add_test(tc, decode_protocols);
  tcase_add_test(tc, decode_malformed);
  tcase_add_test(tc, classify_codes);
  tcase_add_test(tc, skew_and_transport);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(aws_errors_suite)
