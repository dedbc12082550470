/* pkg/aws/core/transport + governor: the call seam against testsrv (signing,
 * retries, budget, skew, closing), governor maths, CreateAccount cap. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aws/core/creds.h"
#include "aws/core/governor.h"
#include "aws/core/sigv4.h"
#include "aws/core/transport.h"
#include "aws/core/transport_int.h" /* bucket table size */
#include "http/httpc.h"
#include "metrics/metrics.h"
#include "support/testsrv.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

#define WAIT_MS 10000
#define AKID "AKIDTEST"
#define SECRET "secret/for+tests"

struct fx {
  uv_loop_t loop;
  struct httpc *http;
  struct testsrv *s;
  struct aws_client *c;
  struct met_registry *reg;
  struct aws_creds *creds;
  int c_closed, h_closed, s_closed;
  /* attempt hook: switch the route to 200 at this attempt (0 = never) */
  unsigned ok_at;
  const char *ok_path, *ok_body;
  unsigned attempts;
  int expired_mode; /* see expired_token_refetches_credentials */
  unsigned sts_calls, org_calls;
};

static void set_flag(void *arg)
{
  *(int *)arg = 1;
}

static void route_str(struct fx *f, int status, const char *body)
{
  testsrv_route_fixed(f->s, "/", status, NULL, body, strlen(body));
}

/* STS answers AssumeRole; Organizations says ExpiredTokenException the
 * first time, then succeeds. */
static void expired_hook(struct fx *f, const struct aws_call *call)
{
  char exp[TIME_RFC3339_LEN], *b;

  if (strcmp(call->service, "sts") == 0) {
    f->sts_calls++;
    time_rfc3339(time(NULL) + 3600, exp);
    b = str_printf_new("<AssumeRoleResponse><AssumeRoleResult><Credentials>"
                       "<AccessKeyId>ASIA%u</AccessKeyId><SecretAccessKey>s"
                       "</SecretAccessKey><SessionToken>t</SessionToken>"
                       "<Expiration>%s</Expiration></Credentials>"
                       "</AssumeRoleResult></AssumeRoleResponse>",
                       f->sts_calls, exp);
    route_str(f, 200, b);
    free(b);
  } else if (++f->org_calls == 1) {
    route_str(f, 400, "{\"__type\":\"ExpiredTokenException\"}");
  } else {
    route_str(f, 200, "{}");
  }
}

static void hook(void *arg, const struct aws_call *call, unsigned attempt)
{
  struct fx *f = arg;

  f->attempts++;
  if (f->expired_mode) {
    expired_hook(f, call);
    return;
  }
  if (f->ok_at && attempt == f->ok_at)
    testsrv_route_fixed(f->s, f->ok_path, 200, NULL, f->ok_body,
                        strlen(f->ok_body));
}

static void fx_setup_opts(struct fx *f, struct aws_client_opts *o)
{
  char url[128];

  memset(f, 0, sizeof(*f));
  ck_assert_int_eq(uv_loop_init(&f->loop), 0);
  ck_assert_int_eq(httpc_new(&f->loop, NULL, &f->http), 0);
  ck_assert_int_eq(testsrv_new(&f->loop, &f->s), 0);
  testsrv_url(f->s, "", url, sizeof(url));
  f->reg = met_registry_new();
  o->endpoint_url = url;
  o->metrics = f->reg;
  o->attempt_hook = hook;
  o->attempt_hook_arg = f;
  if (!o->backoff_base_ms)
    o->backoff_base_ms = 1;
  if (!o->rng_seed)
    o->rng_seed = 7;
  ck_assert_int_eq(aws_client_new(&f->loop, f->http, o, &f->c), 0);
  f->creds = aws_creds_static_new(AKID, SECRET, "tok+en/1");
}

static void fx_setup(struct fx *f)
{
  struct aws_client_opts o = { 0 };

  fx_setup_opts(f, &o);
}

static void fx_teardown(struct fx *f)
{
  aws_creds_unref(f->creds);
  aws_client_close(f->c, set_flag, &f->c_closed);
  ck_assert(test_run_until(&f->loop, &f->c_closed, WAIT_MS));
  httpc_close(f->http, set_flag, &f->h_closed);
  testsrv_close(f->s, set_flag, &f->s_closed);
  ck_assert(test_run_until(&f->loop, &f->h_closed, WAIT_MS));
  ck_assert(test_run_until(&f->loop, &f->s_closed, WAIT_MS));
  met_registry_free(f->reg);
  ASSERT_LOOP_CLEAN(&f->loop);
}

struct res {
  int done, err;
  long status;
  char body[512];
  struct aws_error aerr;
  int have_aerr;
  unsigned order; /* completion order stamp */
};

static unsigned order_seq;

static void on_call(int err, const struct aws_resp *resp,
                    const struct aws_error *aerr, void *arg)
{
  struct res *r = arg;

  r->done++;
  r->err = err;
  r->order = ++order_seq;
  if (resp) {
    r->status = resp->status;
    str_copy(r->body, resp->body ? resp->body : "", sizeof(r->body));
  }
  if (aerr) {
    r->aerr = *aerr;
    r->have_aerr = 1;
  }
}

static const struct aws_header json_hdr[] = {
  { "Content-Type", "application/x-amz-json-1.1" },
  { "X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization" },
};

static struct aws_call orgs_call(bool idempotent)
{
  struct aws_call c = { 0 };

  c.service = "organizations";
  c.operation = "DescribeOrganization";
  c.method = "POST";
  c.path = "/";
  c.headers = json_hdr;
  c.nheaders = 2;
  c.body = "{}";
  c.body_len = 2;
  c.protocol = AWS_PROTO_JSON11;
  c.idempotent = idempotent;
  c.controller = "account";
  return c;
}

static void run_call(struct fx *f, const struct aws_call *call, struct res *r)
{
  memset(r, 0, sizeof(*r));
  ck_assert_int_eq(aws_call_start(f->c, f->creds, call, on_call, r), 0);
  ck_assert_msg(test_run_until(&f->loop, &r->done, WAIT_MS), "no answer");
  ck_assert_int_eq(r->done, 1);
}

static double metric(struct fx *f, const char *name, const char *op)
{
  const char *fam = name;
  struct buf out;
  char needle[256];
  const char *p;
  double v = 0;

  buf_init(&out, 1 << 20);
  met_render(f->reg, &out);
  str_fmt(needle, sizeof(needle),
          "%s{name=\"aws-account-operator\","
          "service=\"organizations\",operation=\"%s\"} ",
          fam, op);
  p = strstr(buf_str(&out), needle);
  if (p)
    v = strtod(p + strlen(needle), NULL);
  buf_cleanup(&out);
  return v;
}

/* ---- signing ---- */

START_TEST(signs_every_request)
{
  const struct testsrv_req *seen;
  struct sigv4_header hs[8];
  struct sigv4_req sr;
  struct buf creq, sts;
  struct aws_call call;
  const char *authz, *date, *sig;
  char scope[128], d8[9], mine[SIGV4_HASH_HEX], host[64];
  unsigned char key[32];
  struct res r;
  struct fx f;

  fx_setup(&f);
  testsrv_route_echo(f.s, "/");
  call = orgs_call(true);
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, 0);
  seen = testsrv_last(f.s);
  authz = testsrv_req_header(seen, "Authorization");
  date = testsrv_req_header(seen, "X-Amz-Date");
  ck_assert_ptr_nonnull(authz);
  ck_assert_ptr_nonnull(date);
  ck_assert_str_eq(testsrv_req_header(seen, "X-Amz-Security-Token"),
                   "tok+en/1");
  str_copy(d8, date, sizeof(d8));
  str_fmt(scope, sizeof(scope), "%s/us-east-1/organizations/aws4_request", d8);
  ck_assert_ptr_nonnull(strstr(authz, scope));
  ck_assert_ptr_nonnull(
      strstr(authz, "SignedHeaders=content-type;host;x-amz-date;"
                    "x-amz-security-token;x-amz-target, Signature="));
  /* Recompute the signature from what the server received. */
  str_fmt(host, sizeof(host), "127.0.0.1:%d", testsrv_port(f.s));
  hs[0] = (struct sigv4_header){ "content-type",
                                 testsrv_req_header(seen, "Content-Type") };
  hs[1] = (struct sigv4_header){ "host", testsrv_req_header(seen, "Host") };
  hs[2] = (struct sigv4_header){ "x-amz-date", date };
  hs[3] = (struct sigv4_header){ "x-amz-security-token", "tok+en/1" };
  hs[4] = (struct sigv4_header){ "x-amz-target",
                                 testsrv_req_header(seen, "X-Amz-Target") };
  ck_assert_str_eq(hs[1].value, host);
  sr = (struct sigv4_req){ "POST", "/", NULL, hs, 5, "{}", 2, NULL };
  buf_init(&creq, 1 << 16);
  buf_init(&sts, 1 << 16);
  sigv4_canonical_request(&sr, SIGV4_URI_STD, &creq, NULL);
  sigv4_string_to_sign(date, scope, buf_str(&creq), &sts);
  sigv4_signing_key(NULL, SECRET, d8, "us-east-1", "organizations", key);
  sigv4_hmac_hex(key, buf_str(&sts), mine);
  sig = strstr(authz, "Signature=") + 10;
  ck_assert_str_eq(sig, mine);
  buf_cleanup(&creq);
  buf_cleanup(&sts);
  fx_teardown(&f);
  /* Regional services without a region use the client default region
   * (FedRAMP: us-gov-east-1) in the credential scope. */
  {
    struct aws_client_opts o = { .partition = "aws-us-gov",
                                 .default_region = "us-gov-east-1" };
    fx_setup_opts(&f, &o);
    testsrv_route_echo(f.s, "/");
    call.service = "sts";
    run_call(&f, &call, &r);
    ck_assert_ptr_nonnull(
        strstr(testsrv_req_header(testsrv_last(f.s), "Authorization"),
               "/us-gov-east-1/sts/aws4_request"));
    call.service = "organizations";
    run_call(&f, &call, &r);
    ck_assert_ptr_nonnull(
        strstr(testsrv_req_header(testsrv_last(f.s), "Authorization"),
               "/us-gov-west-1/organizations/aws4_request"));
    ck_assert_str_eq(aws_client_partition(f.c), "aws-us-gov");
    fx_teardown(&f);
  }
}
END_TEST

START_TEST(request_duration_metric_labels)
{
  struct aws_call call = orgs_call(true);
  char want[512];
  struct buf out;
  struct res r;
  struct fx f;

  fx_setup(&f);
  testsrv_route_fixed(f.s, "/", 404, NULL,
                      "{\"__type\":\"AccountNotFoundException\"}", 37);
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, OP_ENOTFOUND);
  buf_init(&out, 1 << 20);
  met_render(f.reg, &out);
  str_fmt(want, sizeof(want),
          "aws_account_operator_api_request_duration_seconds_bucket{name="
          "\"aws-account-operator\",controller=\"account\",method=\""
          "DescribeOrganization\",resource=\"127.0.0.1:%d\",status=\"404\","
          "error=\"AccountNotFoundException\",error_source=\"aws\",le=\"1\"} "
          "1",
          testsrv_port(f.s));
  ck_assert_msg(strstr(buf_str(&out), want), "missing %s in\n%s", want,
                buf_str(&out));
  ck_assert_ptr_nonnull(strstr(buf_str(&out), "le=\"+Inf\"} 1"));
  buf_cleanup(&out);
  fx_teardown(&f);
}
END_TEST

START_TEST(expired_token_refetches_credentials)
{
  struct aws_assume_role_opts ar = { .role_arn = "arn:aws:iam::1:role/R" };
  struct aws_call call = orgs_call(false);
  struct aws_creds *role;
  struct res r;
  struct fx f;

  fx_setup(&f);
  f.expired_mode = 1;
  ck_assert_int_eq(aws_creds_assume_role_new(f.c, f.creds, &ar, &role), 0);
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(aws_call_start(f.c, role, &call, on_call, &r), 0);
  ck_assert(test_run_until(&f.loop, &r.done, WAIT_MS));
  ck_assert_int_eq(r.err, 0);
  ck_assert_uint_eq(f.sts_calls, 2); /* initial + after ExpiredToken */
  ck_assert_uint_eq(f.org_calls, 2);
  ck_assert_ptr_nonnull(
      strstr(testsrv_req_header(testsrv_last(f.s), "Authorization"),
             "Credential=ASIA2/"));
  aws_creds_unref(role);
  fx_teardown(&f);
}
END_TEST

/* STS refusing AssumeRole with body: the call that needed the session
 * fails with code CredentialsUnavailable, and err and class tell whether
 * it is worth retrying (throttled) or not (refused). */
static void creds_failure_case(const char *body, int want_err, int want_cls)
{
  struct aws_assume_role_opts ar = { .role_arn = "arn:aws:iam::1:role/R" };
  struct aws_client_opts o = { .max_attempts = 1 };
  struct aws_call call = orgs_call(false);
  struct aws_creds *role;
  struct res r;
  struct fx f;

  fx_setup_opts(&f, &o);
  route_str(&f, 400, body);
  ck_assert_int_eq(aws_creds_assume_role_new(f.c, f.creds, &ar, &role), 0);
  memset(&r, 0, sizeof(r));
  ck_assert_int_eq(aws_call_start(f.c, role, &call, on_call, &r), 0);
  ck_assert(test_run_until(&f.loop, &r.done, WAIT_MS));
  ck_assert_int_eq(r.err, want_err);
  ck_assert(r.have_aerr);
  ck_assert_str_eq(r.aerr.code, "CredentialsUnavailable");
  ck_assert_int_eq(r.aerr.cls, want_cls);
  aws_creds_unref(role);
  fx_teardown(&f);
}

START_TEST(throttled_assume_role_is_not_an_auth_failure)
{
  creds_failure_case("<ErrorResponse><Error><Code>Throttling</Code>"
                     "<Message>Rate exceeded</Message></Error></ErrorResponse>",
                     OP_ETHROTTLED, AWS_ERR_THROTTLED);
  creds_failure_case("<ErrorResponse><Error><Code>AccessDenied</Code>"
                     "<Message>no</Message></Error></ErrorResponse>",
                     OP_EAUTH, AWS_ERR_AUTH);
}
END_TEST

/* ---- retries ---- */

static const char throttle_body[] =
    "{\"__type\":\"TooManyRequestsException\",\"Message\":\"slow down\"}";

START_TEST(retries_throttling_then_succeeds)
{
  struct aws_call call = orgs_call(false); /* throttling: always safe */
  struct res r;
  struct fx f;

  fx_setup(&f);
  testsrv_route_fixed(f.s, "/", 400, NULL, throttle_body,
                      strlen(throttle_body));
  f.ok_at = 3;
  f.ok_path = "/";
  f.ok_body = "{\"Organization\":{}}";
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, 0);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(testsrv_requests(f.s), 3);
  ck_assert(metric(&f, "aws_account_operator_api_throttles_total",
                   "DescribeOrganization") == 2);
  ck_assert(metric(&f, "aws_account_operator_api_retries_total",
                   "DescribeOrganization") == 2);
  fx_teardown(&f);
}
END_TEST

START_TEST(throttled_until_attempts_run_out)
{
  struct aws_call call = orgs_call(true);
  struct res r;
  struct fx f;

  fx_setup(&f);
  testsrv_route_fixed(f.s, "/", 400, "x-amzn-RequestId: rid-7\r\n",
                      throttle_body, strlen(throttle_body));
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, OP_ETHROTTLED);
  ck_assert_int_eq(r.status, 400);
  ck_assert(r.have_aerr);
  ck_assert_str_eq(r.aerr.code, "TooManyRequestsException");
  ck_assert_str_eq(r.aerr.request_id, "rid-7");
  ck_assert_uint_eq(testsrv_requests(f.s), 3); /* default max attempts */
  fx_teardown(&f);
}
END_TEST

/* An answer over the HTTP client's cap (16 MiB) is refused as it
 * arrives, never buffered whole, and not retried: the same call would get
 * the same answer. */
START_TEST(oversized_answer_is_refused_once)
{
  struct aws_call call = orgs_call(true);
  size_t n = (16u << 20) + 4096;
  char *big = util_xmalloc(n);
  struct res r;
  struct fx f;

  memset(big, ' ', n);
  big[0] = '{';
  big[n - 1] = '}';
  fx_setup(&f);
  testsrv_route_fixed(f.s, "/", 200, NULL, big, n);
  free(big);
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, OP_ETOOBIG);
  ck_assert_uint_eq(testsrv_requests(f.s), 1);
  fx_teardown(&f);
}
END_TEST

static const char internal_body[] =
    "{\"__type\":\"ServiceException\",\"Message\":\"internal\"}";

START_TEST(no_retry_of_non_idempotent_500)
{
  struct aws_call call = orgs_call(false);
  struct res r;
  struct fx f;

  fx_setup(&f);
  testsrv_route_fixed(f.s, "/", 500, NULL, internal_body,
                      strlen(internal_body));
  call.operation = "CreateAccount";
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, OP_ETRANSIENT);
  ck_assert_uint_eq(testsrv_requests(f.s), 1);
  /* The idempotent version is retried. */
  call = orgs_call(true);
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, OP_ETRANSIENT);
  ck_assert_uint_eq(testsrv_requests(f.s), 4);
  fx_teardown(&f);
}
END_TEST

START_TEST(retry_budget_exhaustion)
{
  struct aws_client_opts o = { .retry_tokens = 12, .max_attempts = 10 };
  struct aws_call call = orgs_call(true);
  struct res r;
  struct fx f;

  fx_setup_opts(&f, &o);
  testsrv_route_fixed(f.s, "/", 400, NULL, throttle_body,
                      strlen(throttle_body));
  /* 12 tokens: two retries at 5 each, then the budget says no. */
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, OP_ETHROTTLED);
  ck_assert_uint_eq(testsrv_requests(f.s), 3);
  /* 2 tokens left: no retry at all now. */
  run_call(&f, &call, &r);
  ck_assert_uint_eq(testsrv_requests(f.s), 4);
  /* A success refunds one token (no retry needed): 3 left, still < 5. */
  testsrv_route_fixed(f.s, "/", 200, NULL, "{}", 2);
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, 0);
  fx_teardown(&f);
}
END_TEST

START_TEST(refused_connection_is_retried_even_if_not_idempotent)
{
  struct aws_client_opts o = { 0 };
  struct aws_call call = orgs_call(false);
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t len = sizeof(a);
  char url[64];
  struct res r;
  struct fx f;
  int fd;

  /* A port nobody listens on: bind, read the port, close. */
  fd = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  getsockname(fd, (struct sockaddr *)&a, &len);
  close(fd);
  fx_setup_opts(&f, &o);
  aws_client_close(f.c, set_flag, &f.c_closed);
  ck_assert(test_run_until(&f.loop, &f.c_closed, WAIT_MS));
  f.c_closed = 0;
  str_fmt(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
  o.endpoint_url = url;
  o.metrics = NULL;
  ck_assert_int_eq(aws_client_new(&f.loop, f.http, &o, &f.c), 0);
  call.operation = "CreateAccount";
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, OP_ECONNREFUSED);
  ck_assert_uint_eq(f.attempts, 3);
  ck_assert_int_eq(r.aerr.cls, AWS_ERR_TRANSIENT);
  fx_teardown(&f);
}
END_TEST

/* ---- clock skew ---- */

START_TEST(clock_skew_is_corrected)
{
  static const char skew_body[] =
      "<ErrorResponse><Error><Code>RequestTimeTooSkewed</Code><Message>"
      "The difference between the request time and the current time is too "
      "large.</Message></Error></ErrorResponse>";
  struct aws_call call = orgs_call(false);
  char hdr[128], date[64];
  time_t ahead = time(NULL) + 3600, sent;
  struct tm tm;
  struct res r;
  struct fx f;
  const char *xd;

  fx_setup(&f);
  gmtime_r(&ahead, &tm);
  strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  str_fmt(hdr, sizeof(hdr), "Date: %s\r\n", date);
  testsrv_route_fixed(f.s, "/", 403, hdr, skew_body, strlen(skew_body));
  call.service = "sts";
  call.protocol = AWS_PROTO_QUERY;
  f.ok_at = 2;
  f.ok_path = "/";
  f.ok_body = "<GetCallerIdentityResponse/>";
  run_call(&f, &call, &r);
  ck_assert_int_eq(r.err, 0);
  ck_assert_uint_eq(testsrv_requests(f.s), 2);
  ck_assert_int_ge(aws_client_skew(f.c), 3590);
  ck_assert_int_le(aws_client_skew(f.c), 3610);
  /* The retry was signed with the corrected clock. */
  xd = testsrv_req_header(testsrv_last(f.s), "X-Amz-Date");
  {
    struct tm t2 = { 0 };
    ck_assert_ptr_nonnull(strptime(xd, "%Y%m%dT%H%M%SZ", &t2));
    sent = timegm(&t2);
  }
  ck_assert_int_ge((long)(sent - time(NULL)), 3590);
  fx_teardown(&f);
}
END_TEST

/* ---- closing ---- */

START_TEST(close_cancels_inflight)
{
  struct aws_call call = orgs_call(true);
  struct res r1, r2;
  struct fx f;

  fx_setup(&f);
  testsrv_route_hang(f.s, "/");
  memset(&r1, 0, sizeof(r1));
  memset(&r2, 0, sizeof(r2));
  ck_assert_int_eq(aws_call_start(f.c, f.creds, &call, on_call, &r1), 0);
  ck_assert_int_eq(aws_call_start(f.c, f.creds, &call, on_call, &r2), 0);
  while (testsrv_requests(f.s) < 2 && uv_run(&f.loop, UV_RUN_ONCE))
    ;
  ck_assert_uint_eq(aws_client_inflight(f.c), 2);
  aws_client_close(f.c, set_flag, &f.c_closed);
  ck_assert(test_run_until(&f.loop, &f.c_closed, WAIT_MS));
  ck_assert_int_eq(r1.done, 1);
  ck_assert_int_eq(r2.done, 1);
  ck_assert_int_eq(r1.err, OP_ECANCELED);
  /* fx_teardown closes again: make a fresh client for it. */
  {
    struct aws_client_opts o = { 0 };
    f.c_closed = 0;
    ck_assert_int_eq(aws_client_new(&f.loop, f.http, &o, &f.c), 0);
  }
  ck_assert_int_eq(aws_call_start(f.c, NULL, &call, on_call, &r1), OP_EINVAL);
  fx_teardown(&f);
}
END_TEST

/* ---- governor ---- */

START_TEST(governor_aimd_maths)
{
  struct aws_gov_bucket b;
  int i;

  aws_gov_bucket_init(&b, 10, 0.5, 10, 1000);
  for (i = 0; i < 10; i++)
    ck_assert_uint_eq(aws_gov_take(&b, 1000), 0);
  ck_assert_uint_eq(aws_gov_take(&b, 1000), 100); /* 1 token at 10/s */
  ck_assert_uint_eq(aws_gov_take(&b, 1050), 50);
  ck_assert_uint_eq(aws_gov_take(&b, 1100), 0);
  /* Multiplicative decrease, with a floor. */
  aws_gov_on_throttle(&b, 1100);
  ck_assert(b.rate == 5);
  ck_assert_uint_eq(aws_gov_take(&b, 1100), 200);
  for (i = 0; i < 10; i++)
    aws_gov_on_throttle(&b, 1100);
  ck_assert(b.rate == 0.5);
  ck_assert_uint_eq(aws_gov_take(&b, 1100), 2000);
  /* Additive recovery: max/20 per success, capped at the max. */
  aws_gov_on_success(&b);
  ck_assert(b.rate == 1.0);
  for (i = 0; i < 100; i++)
    aws_gov_on_success(&b);
  ck_assert(b.rate == 10);
  /* A throttle caps saved-up tokens at one. */
  ck_assert_uint_eq(aws_gov_take(&b, 100000), 0);
  aws_gov_on_throttle(&b, 100000);
  ck_assert(b.tokens <= 1.0);
}
END_TEST

START_TEST(retry_budget_and_delay_maths)
{
  struct aws_retry_budget b;
  struct rng r;
  uint64_t d, hi = 0;
  int i;

  aws_retry_budget_init(&b, 0);
  ck_assert_uint_eq(b.tokens, 500);
  for (i = 0; i < 100; i++)
    ck_assert(aws_retry_budget_take(&b, AWS_RETRY_COST));
  ck_assert(!aws_retry_budget_take(&b, AWS_RETRY_COST));
  aws_retry_budget_refund(&b, 7);
  ck_assert(aws_retry_budget_take(&b, AWS_RETRY_COST));
  ck_assert(!aws_retry_budget_take(&b, AWS_RETRY_TIMEOUT_COST));
  aws_retry_budget_refund(&b, 10000);
  ck_assert_uint_eq(b.tokens, 500);
  rng_seed(&r, 3);
  for (i = 0; i < 1000; i++) {
    d = aws_retry_delay_ms(1, 100, 20000, &r);
    ck_assert_uint_lt(d, 100);
    d = aws_retry_delay_ms(30, 100, 20000, &r);
    ck_assert_uint_lt(d, 20000);
    hi = d > hi ? d : hi;
  }
  ck_assert_uint_gt(hi, 15000);
}
END_TEST

START_TEST(governor_queues_in_order)
{
  struct aws_client_opts o = { .governor_rate = 50, .governor_burst = 1 };
  struct aws_call call = orgs_call(true);
  struct res r[5];
  uint64_t t0;
  int i, all = 0;

  struct fx f;
  fx_setup_opts(&f, &o);
  testsrv_route_fixed(f.s, "/", 200, NULL, "{}", 2);
  order_seq = 0;
  memset(r, 0, sizeof(r));
  t0 = uv_now(&f.loop);
  for (i = 0; i < 5; i++)
    ck_assert_int_eq(aws_call_start(f.c, f.creds, &call, on_call, &r[i]), 0);
  while (!all) {
    ck_assert(test_run_until(&f.loop, &r[4].done, WAIT_MS));
    all = r[0].done && r[1].done && r[2].done && r[3].done;
  }
  uv_update_time(&f.loop);
  /* Burst 1 at 50/s: the last of five leaves >= 4 * 20 ms after the
   * first. (A lower bound only: a slow machine cannot break it.) */
  ck_assert_uint_ge(uv_now(&f.loop) - t0, 75);
  for (i = 0; i < 5; i++)
    ck_assert_uint_eq(r[i].order, (unsigned)i + 1);
  fx_teardown(&f);
}
END_TEST

/* The governor's clock for the two tests below: the real one plus a skip
 * forward the test decides. */
static uint64_t clock_skip_ms;

static uint64_t skipping_clock(void *arg)
{
  (void)arg;
  return time_mono_ms() + clock_skip_ms;
}

/* Starts n calls (bg[i]: a background poll's call) on a bucket of one
 * token at 50/s, skipping the governor's clock skip_ms forward once the
 * second call has started; out: the completion order as call indexes. */
static void run_classes(const bool *bg, int n, uint64_t skip_ms, char *out)
{
  struct aws_client_opts o = { .governor_rate = 50,
                               .governor_burst = 1,
                               .clock = skipping_clock };
  struct aws_call call = orgs_call(true);
  struct res r[8];
  int i, j;

  struct fx f;
  clock_skip_ms = 0;
  fx_setup_opts(&f, &o);
  testsrv_route_fixed(f.s, "/", 200, NULL, "{}", 2);
  order_seq = 0;
  memset(r, 0, sizeof(r));
  for (i = 0; i < n; i++) {
    call.background = bg[i];
    ck_assert_int_eq(aws_call_start(f.c, f.creds, &call, on_call, &r[i]), 0);
    if (i == 1)
      clock_skip_ms = skip_ms;
  }
  for (i = 0; i < n; i++)
    ck_assert(test_run_until(&f.loop, &r[i].done, WAIT_MS));
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++)
      if (r[j].order == (unsigned)i + 1)
        out[i] = (char)('0' + j);
  out[n] = 0;
  fx_teardown(&f);
}

START_TEST(governor_background_calls_wait_behind_reconciles)
{
  /* 0 takes the token; 1 and 2 (background) queue; 3 and 4 pass them. */
  static const bool bg[] = { true, true, true, false, false };
  char order[8];

  run_classes(bg, 5, 0, order);
  ck_assert_str_eq(order, "03412");
}
END_TEST

START_TEST(governor_background_call_waits_at_most_its_limit)
{
  /* 1 (background) queued, then the clock passes its limit (and refills
   * the token, which 2 takes on arrival): 1 goes before 3, queued behind
   * it, as in a FIFO; within its limit it would go last ("0231"). */
  static const bool bg[] = { false, true, false, false };
  char order[8];

  run_classes(bg, 4, AWS_GOV_BACKGROUND_WAIT_MS + 500, order);
  ck_assert_str_eq(order, "0213");
  run_classes(bg, 4, 0, order);
  ck_assert_str_eq(order, "0231");
}
END_TEST

START_TEST(idle_governor_buckets_are_evicted)
{
  struct aws_call call = orgs_call(true);
  struct res r[300];
  char acct[300][16];
  int i, n;

  struct fx f;
  fx_setup(&f);
  testsrv_route_fixed(f.s, "/", 200, NULL, "{}", 2);
  memset(r, 0, sizeof(r));
  for (i = 0; i < 300; i++) {
    str_fmt(acct[i], sizeof(acct[i]), "%012d", i);
    call.account = acct[i];
    ck_assert_int_eq(aws_call_start(f.c, f.creds, &call, on_call, &r[i]), 0);
  }
  for (i = 0; i < 300; i++)
    ck_assert(test_run_until(&f.loop, &r[i].done, WAIT_MS));
  ck_assert_uint_eq(map_len(&f.c->govs), 300); /* all were live at once */
  /* The next call finds them idle and drops them. */
  call.account = "fresh";
  run_call(&f, &call, &r[0]);
  n = (int)map_len(&f.c->govs);
  ck_assert_int_eq(n, 1);
  fx_teardown(&f);
}
END_TEST

/* ---- CreateAccount cap ---- */

struct slot_rec {
  struct fx *f;
  int granted, cancelled;
  unsigned seq;
  struct aws_create_slot *slot;
};

static unsigned max_in_use, grant_seq;

static void on_slot(int err, struct aws_create_slot *s, void *arg)
{
  struct slot_rec *sr = arg;
  unsigned used = aws_create_slots_in_use(sr->f->c);

  if (err) {
    sr->cancelled = 1;
    return;
  }
  sr->granted = 1;
  sr->seq = ++grant_seq;
  sr->slot = s;
  max_in_use = used > max_in_use ? used : max_in_use;
  ck_assert_uint_le(used, 5);
}

START_TEST(create_account_cap_never_exceeded)
{
  struct slot_rec rec[20];
  struct aws_create_slot *h;
  struct fx f;
  int i, released = 0, round;

  fx_setup(&f);
  max_in_use = grant_seq = 0;
  for (i = 0; i < 20; i++) {
    rec[i] = (struct slot_rec){ .f = &f };
    ck_assert_int_eq(aws_create_slot_acquire(f.c, on_slot, &rec[i], &h), 0);
    ck_assert_ptr_nonnull(h);
    if (!rec[i].granted)
      rec[i].slot = h; /* waiting handle, for cancellation */
  }
  ck_assert_uint_eq(aws_create_slots_in_use(f.c), 5);
  ck_assert_uint_eq(aws_create_slots_waiting(f.c), 15);
  {
    struct buf out;
    buf_init(&out, 1 << 20);
    met_render(f.reg, &out);
    ck_assert_ptr_nonnull(strstr(buf_str(&out),
                                 "aws_account_operator_create_account_in_"
                                 "flight{name=\"aws-account-operator\"} 5"));
    buf_cleanup(&out);
  }
  /* Cancel one waiter (number 12). */
  aws_create_slot_release(rec[12].slot);
  ck_assert(rec[12].cancelled);
  ck_assert_uint_eq(aws_create_slots_waiting(f.c), 14);
  /* Release held slots in a shuffled order, a few per round. */
  for (round = 0; released < 19; round++) {
    for (i = (round * 7) % 20; i < 20; i += 3) {
      if (rec[i].granted && rec[i].slot) {
        aws_create_slot_release(rec[i].slot);
        rec[i].slot = NULL;
        released++;
        ck_assert_uint_le(aws_create_slots_in_use(f.c), 5);
      }
    }
  }
  ck_assert_uint_eq(max_in_use, 5);
  ck_assert_uint_eq(aws_create_slots_in_use(f.c), 0);
  /* FIFO: waiters were granted in arrival order. */
  for (i = 5; i < 19; i++)
    if (i != 12 && i + 1 != 12)
      ck_assert_uint_lt(rec[i].seq, rec[i + 1].seq);
  /* At close a queued waiter is cancelled, and the client stays alive
   * until the held slots are released. */
  for (i = 0; i < 6; i++) {
    rec[i].granted = rec[i].cancelled = 0;
    aws_create_slot_acquire(f.c, on_slot, &rec[i], &h);
  }
  ck_assert_uint_eq(aws_create_slots_waiting(f.c), 1);
  aws_client_close(f.c, set_flag, &f.c_closed);
  ck_assert(rec[5].cancelled);
  uv_run(&f.loop, UV_RUN_NOWAIT);
  ck_assert(!f.c_closed);
  for (i = 0; i < 5; i++)
    aws_create_slot_release(rec[i].slot);
  ck_assert(test_run_until(&f.loop, &f.c_closed, WAIT_MS));
  {
    struct aws_client_opts o = { 0 };
    f.c_closed = 0;
    ck_assert_int_eq(aws_client_new(&f.loop, f.http, &o, &f.c), 0);
  }
  fx_teardown(&f);
}
END_TEST

static Suite *aws_transport_suite(void)
{
  Suite *s = suite_create("aws_transport");
  TCase *tc = tcase_create("core");

  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, signs_every_request);
  tcase_add_test(tc, request_duration_metric_labels);
  tcase_add_test(tc, expired_token_refetches_credentials);
  tcase_add_test(tc, throttled_assume_role_is_not_an_auth_failure);
  tcase_add_test(tc, retries_throttling_then_succeeds);
  tcase_add_test(tc, throttled_until_attempts_run_out);
  tcase_add_test(tc, no_retry_of_non_idempotent_500);
  tcase_add_test(tc, oversized_answer_is_refused_once);
  tcase_add_test(tc, retry_budget_exhaustion);
  tcase_add_test(tc, refused_connection_is_retried_even_if_not_idempotent);
  tcase_add_test(tc, clock_skew_is_corrected);
  tcase_add_test(tc, close_cancels_inflight);
  tcase_add_test(tc, governor_aimd_maths);
  tcase_add_test(tc, retry_budget_and_delay_maths);
  tcase_add_test(tc, governor_queues_in_order);
  tcase_add_test(tc, governor_background_calls_wait_behind_reconciles);
  tcase_add_test(tc, governor_background_call_waits_at_most_its_limit);
  tcase_add_test(tc, idle_governor_buckets_are_evicted);
  tcase_add_test(tc, create_account_cap_never_exceeded);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(aws_transport_suite)
