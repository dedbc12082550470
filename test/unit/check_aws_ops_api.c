/* pkg/aws operations, the async glue: the interface table bound to a
 * recording aws_call_start double. Checks what reaches the transport
 * (service, operation, protocol, idempotency, method, path, headers, body)
 * and what reaches the typed callback (result, error, aws_error), and that
 * a table can be replaced wholesale by a test double. */
#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "aws/core/errors.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

/* ---- the recording starter ---------------------------------------------- */

static struct {
  int calls;
  int fail_with; /* returned by the starter when non-zero */
  char service[32], operation[64], method[8], path[128], query[256];
  char body[2048];
  char target[128];
  enum aws_protocol protocol;
  bool idempotent, unsigned_request;
  const char *region, *controller, *account;
  aws_call_cb cb;
  void *arg;
} rec;

static int fake_start(struct aws_client *c, struct aws_creds *cr,
                      const struct aws_call *call, aws_call_cb cb, void *arg)
{
  size_t i;

  rec.calls++;
  if (rec.fail_with)
    return rec.fail_with;
  str_copy(rec.service, call->service, sizeof(rec.service));
  str_copy(rec.operation, call->operation, sizeof(rec.operation));
  str_copy(rec.method, call->method, sizeof(rec.method));
  str_copy(rec.path, call->path, sizeof(rec.path));
  str_copy(rec.query, call->query ? call->query : "", sizeof(rec.query));
  ck_assert_uint_lt(call->body_len, sizeof(rec.body));
  memcpy(rec.body, call->body, call->body_len);
  rec.body[call->body_len] = '\0';
  rec.target[0] = '\0';
  for (i = 0; i < call->nheaders; i++)
    if (str_eq(call->headers[i].name, "X-Amz-Target"))
      str_copy(rec.target, call->headers[i].value, sizeof(rec.target));
  rec.protocol = call->protocol;
  rec.idempotent = call->idempotent;
  rec.unsigned_request = call->unsigned_request;
  rec.region = call->region;
  rec.controller = call->controller;
  rec.account = call->account;
  rec.cb = cb;
  rec.arg = arg;
  return 0;
}

/* Finish the recorded call as the transport would. */
static void complete(int err, long status, const char *body,
                     const struct aws_error *aerr)
{
  struct aws_resp resp = { .status = status,
                           .body = body,
                           .body_len = body ? strlen(body) : 0,
                           .request_id = "req-1" };
  aws_call_cb cb = rec.cb;

  ck_assert_ptr_nonnull(cb);
  rec.cb = NULL;
  cb(err, status ? &resp : NULL, aerr, rec.arg);
}

static struct aws_api *api;
static const struct aws_target target = { .region = "us-east-1",
                                          .controller = "account",
                                          .account = "111111111111" };

static void setup(void)
{
  memset(&rec, 0, sizeof(rec));
  api = aws_api_new(NULL, fake_start);
}

static void teardown(void)
{
  aws_api_free(api);
}

/* ---- callbacks ---------------------------------------------------------- */

static struct {
  int calls, err;
  const struct aws_error *aerr;
  char text[128];
} got;

static void user_cb(int err, const struct aws_error *aerr,
                    const struct aws_iam_user_result *res, void *arg)
{
  got.calls++;
  got.err = err;
  got.aerr = aerr;
  ck_assert_ptr_eq(arg, &got);
  ck_assert(err ? res == NULL : res != NULL);
  if (res)
    str_copy(got.text, res->user.user_name, sizeof(got.text));
}

static void car_cb(int err, const struct aws_error *aerr,
                   const struct aws_car_status_result *res, void *arg)
{
  got.calls++;
  got.err = err;
  got.aerr = aerr;
  if (res)
    str_copy(got.text, res->status.id, sizeof(got.text));
}

static void creds_cb(int err, const struct aws_error *aerr,
                     const struct aws_sts_creds_result *res, void *arg)
{
  got.calls++;
  got.err = err;
  if (res)
    str_copy(got.text, res->creds.access_key_id, sizeof(got.text));
}

/* ---- tests -------------------------------------------------------------- */

START_TEST(query_call_reaches_transport_and_decodes)
{
  struct aws_iam_user_req rq = { "osd-admin" };

  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(api->get_user(api, &target, &rq, user_cb, &got), 0);
  ck_assert_int_eq(rec.calls, 1);
  ck_assert_int_eq(got.calls, 0); /* never synchronously */
  ck_assert_str_eq(rec.service, "iam");
  ck_assert_str_eq(rec.operation, "GetUser");
  ck_assert_str_eq(rec.method, "POST");
  ck_assert_str_eq(rec.path, "/");
  ck_assert_str_eq(rec.body,
                   "Action=GetUser&Version=2010-05-08&UserName=osd-admin");
  ck_assert_int_eq(rec.protocol, AWS_PROTO_QUERY);
  ck_assert(rec.idempotent);
  ck_assert(!rec.unsigned_request);
  ck_assert_str_eq(rec.region, "us-east-1");
  ck_assert_str_eq(rec.controller, "account");
  ck_assert_str_eq(rec.account, "111111111111");

  complete(0, 200,
           "<GetUserResponse><GetUserResult><User><UserName>osd-admin"
           "</UserName></User></GetUserResult></GetUserResponse>",
           NULL);
  ck_assert_int_eq(got.calls, 1);
  ck_assert_int_eq(got.err, 0);
  ck_assert_str_eq(got.text, "osd-admin");
}
END_TEST

START_TEST(json_call_not_idempotent)
{
  struct aws_create_account_req rq = { .email = "a@b.c",
                                       .account_name = "osd-a" };

  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(api->create_account(api, &target, &rq, car_cb, &got), 0);
  ck_assert_str_eq(rec.service, "organizations");
  ck_assert_str_eq(rec.target, "AWSOrganizationsV20161128.CreateAccount");
  ck_assert_int_eq(rec.protocol, AWS_PROTO_JSON11);
  ck_assert(!rec.idempotent);
  complete(0, 200,
           "{\"CreateAccountStatus\":{\"Id\":\"car-1\","
           "\"State\":\"IN_PROGRESS\"}}",
           NULL);
  ck_assert_int_eq(got.err, 0);
  ck_assert_str_eq(got.text, "car-1");
}
END_TEST

START_TEST(aws_error_passes_through)
{
  struct aws_iam_user_req rq = { "gone" };
  struct aws_error e;

  memset(&e, 0, sizeof(e));
  e.cls = AWS_ERR_NOTFOUND;
  str_copy(e.code, "NoSuchEntity", sizeof(e.code));
  e.http_status = 404;
  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(api->get_user(api, &target, &rq, user_cb, &got), 0);
  complete(OP_ENOTFOUND, 404, "<ErrorResponse/>", &e);
  ck_assert_int_eq(got.calls, 1);
  ck_assert_int_eq(got.err, OP_ENOTFOUND);
  ck_assert_ptr_eq(got.aerr, &e);
}
END_TEST

START_TEST(malformed_success_is_eparse)
{
  struct aws_iam_user_req rq = { "u" };

  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(api->get_user(api, &target, &rq, user_cb, &got), 0);
  complete(0, 200, "<GetUserResponse><GetUserResult>", NULL);
  ck_assert_int_eq(got.calls, 1);
  ck_assert_int_eq(got.err, OP_EPARSE);
  ck_assert_ptr_null(got.aerr);
}
END_TEST

START_TEST(start_failures_never_call_back)
{
  struct aws_iam_user_req rq = { "u" };
  struct aws_iam_user_req bad = { NULL };

  memset(&got, 0, sizeof(got));
  rec.fail_with = OP_ESHUTDOWN;
  ck_assert_int_eq(api->get_user(api, &target, &rq, user_cb, &got),
                   OP_ESHUTDOWN);
  rec.fail_with = 0;
  ck_assert_int_eq(api->get_user(api, &target, &bad, user_cb, &got), OP_EINVAL);
  ck_assert_int_eq(rec.calls, 1); /* the invalid one never got there */
  ck_assert_int_eq(api->get_user(api, NULL, &rq, user_cb, &got), OP_EINVAL);
  ck_assert_int_eq(got.calls, 0);
}
END_TEST

START_TEST(web_identity_is_unsigned)
{
  struct aws_assume_role_wi_req rq = { "arn:aws:iam::1:role/r", "s", "tok", 0 };

  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(
      api->assume_role_with_web_identity(api, &target, &rq, creds_cb, &got), 0);
  ck_assert_str_eq(rec.service, "sts");
  ck_assert(rec.unsigned_request);
  complete(
      0, 200,
      "<AssumeRoleWithWebIdentityResponse>"
      "<AssumeRoleWithWebIdentityResult><Credentials>"
      "<AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
      "</Credentials></AssumeRoleWithWebIdentityResult>"
      "</AssumeRoleWithWebIdentityResponse>",
      NULL);
  ck_assert_int_eq(got.err, 0);
  ck_assert_str_eq(got.text, "ASIA1");
}
END_TEST

static void empty_cb(int err, const struct aws_error *aerr,
                     const struct aws_empty_result *res, void *arg)
{
  got.calls++;
  got.err = err;
}

START_TEST(rest_calls_carry_path_and_query)
{
  struct aws_s3_bucket_req db = { "logs" };
  struct aws_region_opt_req er = { "af-south-1", NULL };

  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(api->delete_bucket(api, &target, &db, empty_cb, &got), 0);
  ck_assert_str_eq(rec.method, "DELETE");
  ck_assert_str_eq(rec.path, "/logs");
  ck_assert_int_eq(rec.protocol, AWS_PROTO_RESTXML);
  complete(0, 204, NULL, NULL);
  ck_assert_int_eq(got.err, 0);

  ck_assert_int_eq(api->enable_region(api, &target, &er, empty_cb, &got), 0);
  ck_assert_str_eq(rec.service, "account");
  ck_assert_str_eq(rec.path, "/enableRegion");
  ck_assert_int_eq(rec.protocol, AWS_PROTO_RESTJSON);
  complete(0, 200, "", NULL);
  ck_assert_int_eq(got.err, 0);
  ck_assert_int_eq(got.calls, 2);
}
END_TEST

/* Every table entry is filled and every operation refuses a NULL request
 * without reaching the transport. */
START_TEST(table_complete)
{
  rec.calls = 0;
#define CHECK_FIELD(f, op, svc, proto, idem, req, res)                         \
  ck_assert_ptr_nonnull(api->f);                                               \
  ck_assert_int_eq(api->f(api, &target, NULL, (aws_##f##_cb)NULL, NULL),       \
                   OP_EINVAL);
  AWS_OPS(CHECK_FIELD)
#undef CHECK_FIELD
  ck_assert_int_eq(rec.calls, 0);
}
END_TEST

/* What a controller test does: its own table, its own impl. */
struct fake_iam {
  int get_user_calls;
};

static int fake_get_user(struct aws_api *a, const struct aws_target *t,
                         const struct aws_iam_user_req *rq, aws_get_user_cb cb,
                         void *arg)
{
  struct fake_iam *f = a->impl;
  struct aws_iam_user_result r = { .user = { .user_name = "fake" } };

  f->get_user_calls++;
  cb(0, NULL, &r, arg);
  return 0;
}

START_TEST(table_is_replaceable)
{
  struct fake_iam f = { 0 };
  struct aws_api fake = { .impl = &f, .get_user = fake_get_user };
  struct aws_iam_user_req rq = { "u" };

  memset(&got, 0, sizeof(got));
  ck_assert_int_eq(fake.get_user(&fake, &target, &rq, user_cb, &got), 0);
  ck_assert_int_eq(f.get_user_calls, 1);
  ck_assert_str_eq(got.text, "fake");
}
END_TEST

static Suite *aws_ops_api_suite(void)
{
  Suite *s = suite_create("aws_ops_api");
  TCase *tc = tcase_create("api");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, query_call_reaches_transport_and_decodes);
  tcase_add_test(tc, json_call_not_idempotent);
  tcase_add_test(tc, aws_error_passes_through);
  tcase_add_test(tc, malformed_success_is_eparse);
  tcase_add_test(tc, start_failures_never_call_back);
  tcase_add_test(tc, web_identity_is_unsigned);
  tcase_add_test(tc, rest_calls_carry_path_and_query);
  tcase_add_test(tc, table_complete);
  tcase_add_test(tc, table_is_replaceable);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(aws_ops_api_suite)
