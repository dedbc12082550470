/* pkg/aws/core/check: the aws-check diagnosis mapping, and the two-call flow
 * against testsrv. */
#include <stdlib.h>
#include <string.h>

#include "aws/core/check.h"
#include "http/httpc.h"
#include "support/testsrv.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define WAIT_MS 10000

static struct aws_error mk(const char *code, long status)
{
  struct aws_error e;

  aws_error_clear(&e);
  str_copy(e.code, code, sizeof(e.code));
  e.http_status = status;
  e.cls = aws_error_classify(code, status);
  return e;
}

START_TEST(diagnosis_mapping)
{
  static const struct {
    const char *code;
    long status;
    enum aws_check_diag d;
  } t[] = {
    { "InvalidClientTokenId", 403, AWS_CHECK_UNKNOWN_KEY },
    { "UnrecognizedClientException", 400, AWS_CHECK_UNKNOWN_KEY },
    { "SignatureDoesNotMatch", 403, AWS_CHECK_BAD_SIGNATURE },
    { "InvalidSignatureException", 400, AWS_CHECK_BAD_SIGNATURE },
    { "RequestTimeTooSkewed", 403, AWS_CHECK_CLOCK_SKEW },
    { "ExpiredToken", 403, AWS_CHECK_EXPIRED_TOKEN },
    { "ExpiredTokenException", 400, AWS_CHECK_EXPIRED_TOKEN },
    { "AccessDenied", 403, AWS_CHECK_ACCESS_DENIED },
    { "AccessDeniedException", 400, AWS_CHECK_ACCESS_DENIED },
    { "AWSOrganizationsNotInUseException", 400, AWS_CHECK_NOT_IN_ORG },
    { "TooManyRequestsException", 400, AWS_CHECK_THROTTLED },
    { "ServiceException", 500, AWS_CHECK_OTHER },
  };
  struct aws_error e;
  size_t i;

  for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    e = mk(t[i].code, t[i].status);
    ck_assert_msg(aws_check_diagnose(aws_error_op(&e), &e) == t[i].d, "%s",
                  t[i].code);
  }
  /* A SignatureDoesNotMatch that says "expired" is clock skew. */
  {
    static const char b[] = "<ErrorResponse><Error><Code>SignatureDoesNotMatch"
                            "</Code><Message>Signature expired: x is now "
                            "earlier than y</Message></Error></ErrorResponse>";
    aws_error_decode(AWS_PROTO_QUERY, 403, b, sizeof(b) - 1, NULL, NULL, &e);
    ck_assert_int_eq(aws_check_diagnose(OP_EAUTH, &e), AWS_CHECK_CLOCK_SKEW);
  }
  aws_error_from_transport(OP_ECONNREFUSED, "refused", &e);
  ck_assert_int_eq(aws_check_diagnose(OP_ECONNREFUSED, &e),
                   AWS_CHECK_UNREACHABLE);
  aws_error_from_transport(OP_ETLS, "bad cert", &e);
  ck_assert_int_eq(aws_check_diagnose(OP_ETLS, &e), AWS_CHECK_UNREACHABLE);
  aws_error_from_transport(OP_EAUTH, "no credentials", &e);
  str_copy(e.code, "CredentialsUnavailable", sizeof(e.code));
  ck_assert_int_eq(aws_check_diagnose(OP_EAUTH, &e), AWS_CHECK_NO_CREDENTIALS);
  ck_assert_int_eq(aws_check_diagnose(0, NULL), AWS_CHECK_OK);
  ck_assert_str_eq(aws_check_diag_name(AWS_CHECK_BAD_SIGNATURE),
                   "bad_signature");
  ck_assert_ptr_nonnull(
      strstr(aws_check_diag_advice(AWS_CHECK_CLOCK_SKEW), "clock"));
}
END_TEST

/* ---- the flow ---- */

struct fx {
  uv_loop_t loop;
  struct httpc *http;
  struct testsrv *s;
  struct aws_client *c;
  int c_closed, h_closed, s_closed;
  const char *sts_body, *org_body;
  int sts_status, org_status;
};

static void set_flag(void *arg)
{
  *(int *)arg = 1;
}

/* Both calls go to POST / on the same override: answer per service. */
static void hook(void *arg, const struct aws_call *call, unsigned attempt)
{
  struct fx *f = arg;
  int sts = strcmp(call->service, "sts") == 0;
  const char *b = sts ? f->sts_body : f->org_body;

  testsrv_route_fixed(f->s, "/", sts ? f->sts_status : f->org_status, NULL, b,
                      strlen(b));
}

static void fx_setup(struct fx *f)
{
  struct aws_client_opts o = { .backoff_base_ms = 1,
                               .rng_seed = 9,
                               .max_attempts = 1 };
  char url[128];

  memset(f, 0, sizeof(*f));
  ck_assert_int_eq(uv_loop_init(&f->loop), 0);
  ck_assert_int_eq(httpc_new(&f->loop, NULL, &f->http), 0);
  ck_assert_int_eq(testsrv_new(&f->loop, &f->s), 0);
  testsrv_url(f->s, "", url, sizeof(url));
  o.endpoint_url = url;
  o.attempt_hook = hook;
  o.attempt_hook_arg = f;
  ck_assert_int_eq(aws_client_new(&f->loop, f->http, &o, &f->c), 0);
}

static void fx_teardown(struct fx *f)
{
  aws_client_close(f->c, set_flag, &f->c_closed);
  ck_assert(test_run_until(&f->loop, &f->c_closed, WAIT_MS));
  httpc_close(f->http, set_flag, &f->h_closed);
  testsrv_close(f->s, set_flag, &f->s_closed);
  ck_assert(test_run_until(&f->loop, &f->h_closed, WAIT_MS));
  ck_assert(test_run_until(&f->loop, &f->s_closed, WAIT_MS));
  ASSERT_LOOP_CLEAN(&f->loop);
}

struct out {
  int done;
  struct aws_check_result r;
};

static void on_check(const struct aws_check_result *r, void *arg)
{
  struct out *o = arg;

  o->done++;
  o->r = *r;
}

static const char ident[] =
    "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/"
    "2011-06-15/\"><GetCallerIdentityResult><Arn>arn:aws-us-gov:iam::"
    "123456789012:user/ops</Arn><UserId>AIDAX</UserId><Account>"
    "123456789012</Account></GetCallerIdentityResult><ResponseMetadata>"
    "<RequestId>r1</RequestId></ResponseMetadata>"
    "</GetCallerIdentityResponse>";
static const char org[] =
    "{\"Organization\":{\"Id\":\"o-abc123\",\"MasterAccountId\":"
    "\"123456789012\",\"FeatureSet\":\"ALL\"}}";

static void run_check(struct fx *f, struct aws_creds *cr, struct out *o)
{
  memset(o, 0, sizeof(*o));
  ck_assert_int_eq(aws_check_start(f->c, cr, on_check, o), 0);
  ck_assert(test_run_until(&f->loop, &o->done, WAIT_MS));
}

START_TEST(check_flow)
{
  static const char badsig[] =
      "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>The "
      "request signature we calculated does not match</Message></Error>"
      "<RequestId>rq</RequestId></ErrorResponse>";
  static const char notinorg[] =
      "{\"__type\":\"AWSOrganizationsNotInUseException\",\"Message\":\"not "
      "in org\"}";
  struct aws_creds *cr = aws_creds_static_new("AKID", "SK", NULL);
  struct buf txt;
  struct out o;
  struct fx f;

  fx_setup(&f);
  buf_init(&txt, 1 << 16);
  f.sts_body = ident;
  f.sts_status = 200;
  f.org_body = org;
  f.org_status = 200;
  run_check(&f, cr, &o);
  ck_assert_int_eq(o.r.rc, 0);
  ck_assert_str_eq(o.r.account, "123456789012");
  ck_assert_str_eq(o.r.partition, "aws-us-gov");
  ck_assert_str_eq(o.r.org_id, "o-abc123");
  ck_assert_str_eq(o.r.mgmt_account, "123456789012");
  aws_check_format(&o.r, &txt);
  ck_assert_ptr_nonnull(strstr(buf_str(&txt), "aws-check: OK"));
  /* Wrong secret. */
  f.sts_body = badsig;
  f.sts_status = 403;
  run_check(&f, cr, &o);
  ck_assert_int_eq(o.r.rc, OP_EAUTH);
  ck_assert_int_eq(o.r.diag, AWS_CHECK_BAD_SIGNATURE);
  ck_assert_str_eq(o.r.failed_call, "sts:GetCallerIdentity");
  buf_reset(&txt);
  aws_check_format(&o.r, &txt);
  ck_assert_ptr_nonnull(strstr(buf_str(&txt), "secret access key is wrong"));
  ck_assert_ptr_nonnull(strstr(buf_str(&txt), "request: rq"));
  /* Identity fine, not in an organization. */
  f.sts_body = ident;
  f.sts_status = 200;
  f.org_body = notinorg;
  f.org_status = 400;
  run_check(&f, cr, &o);
  ck_assert_int_ne(o.r.rc, 0);
  ck_assert_int_eq(o.r.diag, AWS_CHECK_NOT_IN_ORG);
  ck_assert_str_eq(o.r.account, "123456789012");
  /* Garbage success body: a parse failure, not a crash. */
  f.org_body = "{\"Organization\":7}";
  f.org_status = 200;
  run_check(&f, cr, &o);
  ck_assert_int_eq(o.r.rc, OP_EPARSE);
  /* No credentials at all. */
  run_check(&f, NULL, &o);
  ck_assert_int_eq(o.r.diag, AWS_CHECK_NO_CREDENTIALS);
  buf_cleanup(&txt);
  aws_creds_unref(cr);
  fx_teardown(&f);
}
END_TEST

static Suite *aws_check_suite(void)
{
  Suite *s = suite_create("aws_check");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, diagnosis_mapping);
  tcase_add_test(tc, check_flow);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(aws_check_suite)
