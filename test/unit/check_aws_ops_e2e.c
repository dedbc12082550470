/* pkg/aws operations end to end: the real interface table over the real
 * transport (SigV4, httpc, libcurl) against the Python AWS stand-in
 * (test/fakes/aws_api.py, which verifies every signature with botocore and
 * validates every request against botocore's service models).
 *
 * The stand-in is found at $AAO_AWS_FAKE or test/fakes/aws_api.py; when it
 * does not start, every test fails: a skipped scenario proves nothing. */
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws/api.h"
#include "aws/core/creds.h"
#include "aws/core/errors.h"
#include "aws/core/transport.h"
#include "http/httpc.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

/* ---- the stand-in process ----------------------------------------------- */

static struct {
  pid_t pid;
  int port;
  char mgmt[32], key_id[64], secret[128];
} fake;

static const char *fake_path(void)
{
  const char *p = getenv("AAO_AWS_FAKE");

  if (!str_empty(p))
    return p;
  return access("test/fakes/aws_api.py", R_OK) == 0 ? "test/fakes/aws_api.py"
                                                    : NULL;
}

/* Start the stand-in and read its banner up to "ready". */
static int fake_start(const char *path)
{
  int fds[2];
  char line[256];
  FILE *out;

  ck_assert_int_eq(pipe(fds), 0);
  fake.pid = fork();
  ck_assert_int_ge(fake.pid, 0);
  if (fake.pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl("/usr/bin/python3", "python3", path, "--port", "0",
          "--create-account-seconds", "0.2", "--case-resolve-seconds", "0.2",
          "--instance-running-seconds", "0.2", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  out = fdopen(fds[0], "r");
  while (fgets(line, sizeof(line), out)) {
    if (sscanf(line, "port: %d", &fake.port) == 1)
      continue;
    if (sscanf(line, "management-account: %31s", fake.mgmt) == 1)
      continue;
    if (sscanf(line, "credentials: %63s %127s", fake.key_id, fake.secret) == 2)
      continue;
    if (str_has_prefix(line, "ready"))
      break;
  }
  fclose(out);
  return fake.port > 0 && fake.key_id[0] ? 0 : -1;
}

static void fake_stop(void)
{
  if (fake.pid > 0) {
    kill(fake.pid, SIGTERM);
    waitpid(fake.pid, NULL, 0);
    fake.pid = 0;
  }
}

/* ---- synchronous calls over the loop ------------------------------------ */

static uv_loop_t loop;
static struct httpc *http;
static struct aws_client *client;
static struct aws_api *api;

static volatile int done;
static int last_err;
static char last_code[64];
/* Copies what the step needs out of the (borrowed) result. */
static void (*inspect)(const void *res);

#define E2E_CB(f, op, svc, proto, idem, req, res)                              \
  static __attribute__((unused)) void cb_##f(                                  \
      int err, const struct aws_error *aerr, const struct aws_##res *r,        \
      void *arg)                                                               \
  {                                                                            \
    last_err = err;                                                            \
    str_copy(last_code, aerr ? aerr->code : "", sizeof(last_code));            \
    if (!err && inspect)                                                       \
      inspect(r);                                                              \
    done = 1;                                                                  \
  }
AWS_OPS(E2E_CB)
#undef E2E_CB

/* Wait for the call started with result rc; returns the callback's err. */
static int run_call(int rc, const char *name)
{
  ck_assert_msg(rc == 0, "%s did not start: %d", name, rc);
  ck_assert_msg(test_run_until(&loop, &done, 20000), "%s timed out", name);
  return last_err;
}

/* Run api-><f> to completion; evaluates to the callback's err. */
#define CALL(f, tgt, rq, fn)                                                   \
  (done = 0, last_err = -999, inspect = (fn),                                  \
   run_call(api->f(api, (tgt), (rq), cb_##f, NULL), #f))

#define CALL_OK(f, tgt, rq, fn)                                                \
  ck_assert_msg(CALL(f, tgt, rq, fn) == 0, "%s: %d %s", #f, last_err, last_code)

static void closed_cb(void *arg)
{
  (*(int *)arg)++;
}

static struct aws_creds *mgmt_creds;

static void setup(void)
{
  struct aws_client_opts o;
  char url[64];
  const char *path = fake_path();

  memset(&fake, 0, sizeof(fake));
  if (!path)
    return;
  ck_assert_int_eq(fake_start(path), 0);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(httpc_new(&loop, NULL, &http), 0);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d", fake.port);
  memset(&o, 0, sizeof(o));
  o.endpoint_url = url;
  o.default_region = "us-east-1";
  ck_assert_int_eq(aws_client_new(&loop, http, &o, &client), 0);
  api = aws_api_real_new(client);
  mgmt_creds = aws_creds_static_new(fake.key_id, fake.secret, NULL);
  ck_assert_ptr_nonnull(mgmt_creds);
}

static void teardown(void)
{
  int closed = 0;

  if (!fake.pid)
    return;
  aws_api_free(api);
  aws_creds_unref(mgmt_creds);
  aws_client_close(client, closed_cb, &closed);
  httpc_close(http, closed_cb, &closed);
  while (closed < 2)
    uv_run(&loop, UV_RUN_ONCE);
  ASSERT_LOOP_CLEAN(&loop);
  fake_stop();
}

#define REQUIRE_FAKE()                                                         \
  do {                                                                         \
    if (!fake.pid)                                                             \
      ck_abort_msg("%s: the AWS stand-in did not start (AAO_AWS_FAKE or "      \
                   "test/fakes/aws_api.py)",                                   \
                   __func__);                                                  \
  } while (0)

/* ---- scenario state ----------------------------------------------------- */

static char s_account[32], s_car[64], s_state[32], s_root[64], s_ou[64];
static char s_text[256];
static size_t s_count;
static char s_ak[64], s_sk[128], s_tok[2048];

static void keep_caller(const void *res)
{
  const struct aws_caller_identity_result *r = res;
  str_copy(s_text, r->account, sizeof(s_text));
}

static void keep_car(const void *res)
{
  const struct aws_car_status_result *r = res;
  str_copy(s_car, r->status.id, sizeof(s_car));
  str_copy(s_state, r->status.state, sizeof(s_state));
  str_copy(s_account, r->status.account_id ? r->status.account_id : "",
           sizeof(s_account));
}

static void keep_accounts(const void *res)
{
  const struct aws_org_accounts_result *r = res;
  size_t i;

  s_count = 0;
  for (i = 0; i < r->n; i++)
    if (str_eq(r->v[i].id, s_account))
      s_count++;
}

static void keep_parent(const void *res)
{
  const struct aws_org_refs_result *r = res;
  ck_assert_uint_eq(r->n, 1);
  str_copy(s_root, r->v[0].id, sizeof(s_root));
}

static void keep_ou(const void *res)
{
  const struct aws_org_ou_result *r = res;
  str_copy(s_ou, r->ou.id, sizeof(s_ou));
}

static void keep_children(const void *res)
{
  const struct aws_org_refs_result *r = res;
  s_count = r->n;
  if (r->n)
    str_copy(s_text, r->v[0].id, sizeof(s_text));
}

static void keep_tags(const void *res)
{
  const struct aws_tags_result *r = res;
  s_count = r->n;
}

/* Organizations: create an account, wait for it, place it in an OU, tag. */
START_TEST(organizations_flow)
{
  struct aws_target t = { .creds = mgmt_creds, .controller = "e2e" };
  struct aws_sts_none_req none = { 0 };
  struct aws_create_account_req ca = { .email = "osd-creds-mgmt+e2e@redhat.com",
                                       .account_name = "osd-creds-mgmt-e2e" };
  struct aws_describe_car_status_req dc = { s_car };
  struct aws_org_page_req la = { 0 };
  struct aws_list_parents_req lp = { .child_id = s_account };
  struct aws_create_ou_req co = { .parent_id = s_root, .name = "le-e2e" };
  struct aws_move_account_req mv = { s_account, s_root, s_ou };
  struct aws_list_children_req lc = { .parent_id = s_ou,
                                      .child_type = "ACCOUNT" };
  static const struct aws_tag tags[] = { { "owner", "shard-e2e" } };
  struct aws_org_tag_req tr = { s_account, tags, 1 };
  struct aws_org_list_tags_req lt = { .resource_id = s_account };
  int polls = 0;

  REQUIRE_FAKE();
  CALL_OK(get_caller_identity, &t, &none, keep_caller);
  ck_assert_str_eq(s_text, fake.mgmt);

  CALL_OK(create_account, &t, &ca, keep_car);
  ck_assert(str_has_prefix(s_car, "car-"));
  while (str_eq(s_state, "IN_PROGRESS") && polls++ < 100) {
    usleep(50 * 1000);
    CALL_OK(describe_create_account_status, &t, &dc, keep_car);
  }
  ck_assert_str_eq(s_state, "SUCCEEDED");
  ck_assert_uint_eq(strlen(s_account), 12);

  CALL_OK(list_accounts, &t, &la, keep_accounts);
  ck_assert_uint_eq(s_count, 1);
  CALL_OK(list_parents, &t, &lp, keep_parent);
  ck_assert(str_has_prefix(s_root, "r-"));
  CALL_OK(create_organizational_unit, &t, &co, keep_ou);
  ck_assert(str_has_prefix(s_ou, "ou-"));
  CALL_OK(move_account, &t, &mv, NULL);
  CALL_OK(list_children, &t, &lc, keep_children);
  ck_assert_uint_eq(s_count, 1);
  ck_assert_str_eq(s_text, s_account);
  /* Moving again from the root: the caller branches on this error. */
  ck_assert_int_ne(CALL(move_account, &t, &mv, NULL), 0);
  ck_assert_str_ne(last_code, "");
  CALL_OK(org_tag_resource, &t, &tr, NULL);
  CALL_OK(org_list_tags_for_resource, &t, &lt, keep_tags);
  ck_assert_uint_ge(s_count, 1);
  fprintf(stderr, "e2e: account %s in %s under %s\n", s_account, s_ou, s_root);
}
END_TEST

static void keep_sts(const void *res)
{
  const struct aws_sts_creds_result *r = res;
  str_copy(s_ak, r->creds.access_key_id, sizeof(s_ak));
  str_copy(s_sk, r->creds.secret_access_key, sizeof(s_sk));
  str_copy(s_tok, r->creds.session_token ? r->creds.session_token : "",
           sizeof(s_tok));
  str_copy(s_text, r->assumed_role_id ? r->assumed_role_id : "",
           sizeof(s_text));
}

static void keep_user(const void *res)
{
  const struct aws_iam_user_result *r = res;
  str_copy(s_text, r->user.arn, sizeof(s_text));
}

static void keep_key(const void *res)
{
  const struct aws_iam_access_key_result *r = res;
  ck_assert_ptr_nonnull(r->key.secret_access_key);
  str_copy(s_text, r->key.access_key_id, sizeof(s_text));
}

static void keep_keys(const void *res)
{
  const struct aws_iam_access_keys_result *r = res;
  s_count = r->n;
}

static void keep_attached(const void *res)
{
  const struct aws_iam_attached_result *r = res;
  s_count = r->n;
  if (r->n)
    str_copy(s_text, r->v[0].policy_arn, sizeof(s_text));
}

static void keep_regions(const void *res)
{
  const struct aws_ec2_regions_result *r = res;
  s_count = r->n;
}

/* Create a member account, assume its OrganizationAccountAccessRole and
 * bootstrap IAM in it, then look at EC2 there. */
START_TEST(member_account_iam_and_ec2)
{
  struct aws_target t = { .creds = mgmt_creds, .controller = "e2e" };
  struct aws_create_account_req ca = { .email = "osd-creds-mgmt+m@redhat.com",
                                       .account_name = "osd-creds-mgmt-m" };
  struct aws_describe_car_status_req dc = { s_car };
  char role_arn[128];
  struct aws_assume_role_req ar = { .role_arn = role_arn,
                                    .role_session_name = "awsAccountOperator",
                                    .duration_seconds = 3600 };
  struct aws_creds *member;
  struct aws_target mt;
  static const struct aws_tag tags[] = { { "clusterAccountName", "m" } };
  struct aws_create_user_req cu = { .user_name = "osdManagedAdmin-e2e",
                                    .tags = tags,
                                    .ntags = 1 };
  struct aws_iam_user_req gu = { "osdManagedAdmin-e2e" };
  struct aws_iam_user_policy_req ap = {
    "osdManagedAdmin-e2e", "arn:aws:iam::aws:policy/AdministratorAccess"
  };
  struct aws_iam_user_page_req lk = { .user_name = "osdManagedAdmin-e2e" };
  struct aws_iam_delete_access_key_req dk = { "osdManagedAdmin-e2e", s_text };
  struct aws_describe_regions_req dr = { 0 };
  struct aws_iam_user_req missing = { "nobody" };
  int polls = 0;

  REQUIRE_FAKE();
  CALL_OK(create_account, &t, &ca, keep_car);
  do {
    usleep(50 * 1000);
    CALL_OK(describe_create_account_status, &t, &dc, keep_car);
  } while (str_eq(s_state, "IN_PROGRESS") && polls++ < 100);
  ck_assert_str_eq(s_state, "SUCCEEDED");
  snprintf(role_arn, sizeof(role_arn),
           "arn:aws:iam::%s:role/OrganizationAccountAccessRole", s_account);
  CALL_OK(assume_role, &t, &ar, keep_sts);
  ck_assert(strstr(s_text, ":awsAccountOperator") != NULL);
  member = aws_creds_static_new(s_ak, s_sk, s_tok);
  mt = (struct aws_target){ .creds = member,
                            .controller = "e2e",
                            .account = s_account };

  ck_assert_int_eq(CALL(get_user, &mt, &missing, NULL), OP_ENOTFOUND);
  ck_assert_str_eq(last_code, "NoSuchEntity");
  CALL_OK(create_user, &mt, &cu, keep_user);
  ck_assert(strstr(s_text, s_account) != NULL);
  CALL_OK(get_user, &mt, &gu, keep_user);
  CALL_OK(attach_user_policy, &mt, &ap, NULL);
  CALL_OK(list_attached_user_policies, &mt, &lk, keep_attached);
  ck_assert_uint_eq(s_count, 1);
  CALL_OK(create_access_key, &mt, &gu, keep_key);
  CALL_OK(list_access_keys, &mt, &lk, keep_keys);
  ck_assert_uint_eq(s_count, 1);
  CALL_OK(delete_access_key, &mt, &dk, NULL);
  CALL_OK(list_access_keys, &mt, &lk, keep_keys);
  ck_assert_uint_eq(s_count, 0);

  mt.region = "us-east-1";
  CALL_OK(describe_regions, &mt, &dr, keep_regions);
  ck_assert_uint_gt(s_count, 1);
  aws_creds_unref(member);
}
END_TEST

/* Create a member account and return credentials of its
 * OrganizationAccountAccessRole (s_account holds its ID). */
static struct aws_creds *new_member(const char *name)
{
  struct aws_target t = { .creds = mgmt_creds, .controller = "e2e" };
  char email[128], role_arn[128];
  struct aws_create_account_req ca = { .email = email, .account_name = name };
  struct aws_describe_car_status_req dc = { s_car };
  struct aws_assume_role_req ar = { .role_arn = role_arn,
                                    .role_session_name = "awsAccountOperator" };
  int polls = 0;

  snprintf(email, sizeof(email), "osd-creds-mgmt+%s@redhat.com", name);
  CALL_OK(create_account, &t, &ca, keep_car);
  do {
    usleep(50 * 1000);
    CALL_OK(describe_create_account_status, &t, &dc, keep_car);
  } while (str_eq(s_state, "IN_PROGRESS") && polls++ < 100);
  ck_assert_str_eq(s_state, "SUCCEEDED");
  snprintf(role_arn, sizeof(role_arn),
           "arn:aws:iam::%s:role/OrganizationAccountAccessRole", s_account);
  CALL_OK(assume_role, &t, &ar, keep_sts);
  return aws_creds_static_new(s_ak, s_sk, s_tok);
}

static void keep_role(const void *res)
{
  const struct aws_iam_role_result *r = res;
  str_copy(s_text, r->role.role_id, sizeof(s_text));
  ck_assert_ptr_nonnull(r->role.assume_role_policy_document);
  ck_assert(strstr(r->role.assume_role_policy_document, "sts:AssumeRole"));
}

static void keep_names(const void *res)
{
  const struct aws_iam_names_result *r = res;
  s_count = r->names.n;
}

static char s_policy_arn[256];

static void keep_policy(const void *res)
{
  const struct aws_iam_policy_result *r = res;
  str_copy(s_policy_arn, r->policy.arn, sizeof(s_policy_arn));
  str_copy(s_text, r->policy.default_version_id, sizeof(s_text));
}

static void keep_version(const void *res)
{
  const struct aws_iam_policy_version_result *r = res;
  str_copy(s_text, r->version.version_id, sizeof(s_text));
  if (r->version.document)
    ck_assert(strstr(r->version.document, "\"Version\"") != NULL);
}

static void keep_versions(const void *res)
{
  const struct aws_iam_policy_versions_result *r = res;
  s_count = r->n;
}

static void keep_policies(const void *res)
{
  const struct aws_iam_policies_result *r = res;
  size_t i;

  s_count = 0;
  for (i = 0; i < r->n; i++)
    if (str_eq(r->v[i].policy_name, "AdministratorAccess"))
      s_count++;
  str_copy(s_text, r->is_truncated && r->marker ? r->marker : "",
           sizeof(s_text));
}

static void keep_users(const void *res)
{
  const struct aws_iam_users_result *r = res;
  s_count = r->n;
}

static void keep_roles(const void *res)
{
  const struct aws_iam_roles_result *r = res;
  s_count = r->n;
}

#define TRUST                                                                  \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","          \
  "\"Principal\":{\"AWS\":\"arn:aws:iam::123456789012:root\"},"                \
  "\"Action\":\"sts:AssumeRole\"}]}"
#define POLICY                                                                 \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","          \
  "\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"

/* IAM roles and policies as the federation and Fleet Manager paths use
 * them, in a member account. */
START_TEST(iam_roles_and_policies)
{
  struct aws_creds *member;
  struct aws_target mt;
  static const struct aws_tag tags[] = { { "clusterAccountName", "p" },
                                         { "clusterNamespace", "ns" } };
  struct aws_create_role_req cr = { .role_name = "managed-sts-role",
                                    .assume_role_policy_document = TRUST,
                                    .description = "Managed by AAO",
                                    .tags = tags,
                                    .ntags = 2 };
  struct aws_iam_role_req rr = { "managed-sts-role" };
  struct aws_iam_role_policy_req ap = {
    "managed-sts-role", "arn:aws:iam::aws:policy/AdministratorAccess"
  };
  struct aws_iam_role_page_req rp = { .role_name = "managed-sts-role" };
  struct aws_put_role_policy_req pr = { "managed-sts-role", "AAO-CustomPolicy",
                                        POLICY };
  struct aws_delete_role_policy_req dp = { "managed-sts-role",
                                           "AAO-CustomPolicy" };
  struct aws_create_policy_req cp = { .policy_name = "custom-e2e",
                                      .policy_document = POLICY };
  struct aws_iam_policy_req gp = { s_policy_arn };
  struct aws_create_policy_version_req cv = { s_policy_arn, POLICY, true };
  struct aws_iam_policy_page_req lv = { .policy_arn = s_policy_arn };
  struct aws_iam_policy_version_req v1 = { s_policy_arn, "v1" };
  struct aws_iam_policy_version_req v2 = { s_policy_arn, "v2" };
  struct aws_list_policies_req lp = { .scope = "AWS", .max_items = 1000 };
  struct aws_iam_list_req lr = { 0 };
  struct aws_iam_tag_role_req tr = { "managed-sts-role", tags, 1 };
  struct aws_iam_tag_user_req tu = { "u-e2e", tags, 2 };
  struct aws_create_user_req cu = { .user_name = "u-e2e" };
  struct aws_iam_user_page_req ut = { .user_name = "u-e2e" };
  struct aws_iam_user_req du = { "u-e2e" };

  REQUIRE_FAKE();
  member = new_member("iam");
  mt = (struct aws_target){ .creds = member,
                            .controller = "e2e",
                            .account = s_account };

  CALL_OK(create_role, &mt, &cr, keep_role);
  ck_assert(str_has_prefix(s_text, "AROA"));
  ck_assert_int_ne(CALL(create_role, &mt, &cr, NULL), 0);
  ck_assert_str_eq(last_code, "EntityAlreadyExists");
  CALL_OK(get_role, &mt, &rr, keep_role);
  CALL_OK(tag_role, &mt, &tr, NULL);
  CALL_OK(list_role_tags, &mt, &rp, keep_tags);
  ck_assert_uint_eq(s_count, 2);
  CALL_OK(attach_role_policy, &mt, &ap, NULL);
  CALL_OK(list_attached_role_policies, &mt, &rp, keep_attached);
  ck_assert_uint_eq(s_count, 1);
  CALL_OK(put_role_policy, &mt, &pr, NULL);
  CALL_OK(list_role_policies, &mt, &rp, keep_names);
  ck_assert_uint_eq(s_count, 1);
  CALL_OK(list_roles, &mt, &lr, keep_roles);
  ck_assert_uint_ge(s_count, 2);
  CALL_OK(delete_role_policy, &mt, &dp, NULL);
  CALL_OK(detach_role_policy, &mt, &ap, NULL);
  CALL_OK(delete_role, &mt, &rr, NULL);
  ck_assert_int_eq(CALL(get_role, &mt, &rr, NULL), OP_ENOTFOUND);

  CALL_OK(create_policy, &mt, &cp, keep_policy);
  ck_assert_str_eq(s_text, "v1");
  CALL_OK(get_policy, &mt, &gp, keep_policy);
  CALL_OK(create_policy_version, &mt, &cv, keep_version);
  ck_assert_str_eq(s_text, "v2");
  CALL_OK(list_policy_versions, &mt, &lv, keep_versions);
  ck_assert_uint_eq(s_count, 2);
  CALL_OK(get_policy_version, &mt, &v2, keep_version);
  CALL_OK(delete_policy_version, &mt, &v1, NULL);
  CALL_OK(delete_policy, &mt, &gp, NULL);
  CALL_OK(list_policies, &mt, &lp, keep_policies);
  ck_assert_uint_eq(s_count, 1);

  CALL_OK(create_user, &mt, &cu, keep_user);
  CALL_OK(tag_user, &mt, &tu, NULL);
  CALL_OK(list_user_tags, &mt, &ut, keep_tags);
  ck_assert_uint_eq(s_count, 2);
  CALL_OK(list_users, &mt, &lr, keep_users);
  ck_assert_uint_ge(s_count, 1);
  CALL_OK(delete_user, &mt, &du, NULL);
  aws_creds_unref(member);
}
END_TEST

static char s_ids[4][64];

static void keep_objects(const void *res)
{
  const struct aws_s3_objects_result *r = res;
  size_t i;

  s_count = r->n;
  for (i = 0; i < r->n && i < 4; i++)
    str_copy(s_ids[i], r->v[i].key, sizeof(s_ids[i]));
  str_copy(s_text,
           r->is_truncated && r->next_continuation_token
               ? r->next_continuation_token
               : "",
           sizeof(s_text));
}

static void keep_deleted(const void *res)
{
  const struct aws_s3_delete_result *r = res;
  s_count = r->deleted.n + r->nerrors * 100;
}

static void keep_buckets(const void *res)
{
  const struct aws_s3_buckets_result *r = res;
  s_count = r->n;
}

/* S3 cleanup as claim reuse does it: list (paginated), batch-delete,
 * delete the bucket. */
START_TEST(s3_cleanup)
{
  struct aws_creds *member;
  struct aws_target mt;
  struct aws_create_bucket_req cb = { "e2e-logs", NULL };
  struct aws_put_object_req p1 = { "e2e-logs", "a/1.txt", "one", 3 };
  struct aws_put_object_req p2 = { "e2e-logs", "b & c.txt", "two", 3 };
  struct aws_s3_none_req none = { 0 };
  struct aws_list_objects_req lo = { .bucket = "e2e-logs", .max_keys = 1 };
  const char *keys[2];
  struct aws_delete_objects_req del = { "e2e-logs", keys, 2, false };
  struct aws_s3_bucket_req db = { "e2e-logs" };
  char first[64];

  REQUIRE_FAKE();
  member = new_member("s3");
  mt = (struct aws_target){ .creds = member,
                            .region = "us-east-1",
                            .controller = "e2e",
                            .account = s_account };
  CALL_OK(create_bucket, &mt, &cb, NULL);
  CALL_OK(put_object, &mt, &p1, NULL);
  CALL_OK(put_object, &mt, &p2, NULL);
  CALL_OK(list_buckets, &mt, &none, keep_buckets);
  ck_assert_uint_eq(s_count, 1);
  ck_assert_int_ne(CALL(delete_bucket, &mt, &db, NULL), 0);
  ck_assert_str_eq(last_code, "BucketNotEmpty");

  CALL_OK(list_objects_v2, &mt, &lo, keep_objects);
  ck_assert_uint_eq(s_count, 1);
  str_copy(first, s_ids[0], sizeof(first));
  lo.continuation_token = s_text;
  ck_assert(!str_empty(s_text));
  CALL_OK(list_objects_v2, &mt, &lo, keep_objects);
  ck_assert_uint_eq(s_count, 1);
  ck_assert_str_eq(s_text, ""); /* last page */
  keys[0] = first;
  keys[1] = s_ids[0];
  ck_assert_str_ne(keys[0], keys[1]);
  CALL_OK(delete_objects, &mt, &del, keep_deleted);
  ck_assert_uint_eq(s_count, 2);
  CALL_OK(delete_bucket, &mt, &db, NULL);
  CALL_OK(list_buckets, &mt, &none, keep_buckets);
  ck_assert_uint_eq(s_count, 0);
  aws_creds_unref(member);
}
END_TEST

static void keep_images(const void *res)
{
  const struct aws_ec2_images_result *r = res;
  s_count = r->n;
  if (r->n)
    str_copy(s_ids[0], r->v[0].image_id, sizeof(s_ids[0]));
}

static void keep_snapshots(const void *res)
{
  const struct aws_ec2_snapshots_result *r = res;
  s_count = r->n;
  if (r->n)
    str_copy(s_ids[1], r->v[0].snapshot_id, sizeof(s_ids[1]));
}

static void keep_ids(const void *res)
{
  const struct aws_ec2_ids_result *r = res;
  s_count = r->ids.n;
  if (r->ids.n)
    str_copy(s_ids[1], r->ids.v[0], sizeof(s_ids[1]));
}

static void keep_run(const void *res)
{
  const struct aws_ec2_instances_result *r = res;
  ck_assert_uint_eq(r->n, 1);
  str_copy(s_ids[2], r->v[0].instance_id, sizeof(s_ids[2]));
}

static void keep_states(const void *res)
{
  const struct aws_ec2_instance_states_result *r = res;
  s_count = r->n;
  str_copy(s_state, r->n ? r->v[0].state_name : "", sizeof(s_state));
}

static void keep_instances(const void *res)
{
  const struct aws_ec2_instances_result *r = res;
  s_count = r->n;
}

/* Region initialization: pick type and AMI, launch tagged, wait for
 * running, terminate; then the reuse cleanup listings. */
START_TEST(ec2_region_init)
{
  struct aws_creds *member;
  struct aws_target mt;
  static const char *const owners[] = { "309956199498" };
  static const char *const all[] = { "all" };
  static const char *const arch[] = { "x86_64" };
  static const struct aws_ec2_filter f[] = { { "architecture", arch, 1 } };
  struct aws_describe_images_req im = { .owners = owners,
                                        .nowners = 1,
                                        .executable_users = all,
                                        .nexecutable_users = 1,
                                        .filters = { f, 1 } };
  static const char *const types[] = { "t3.micro" };
  struct aws_describe_instance_types_req it = { .instance_types = types,
                                                .ninstance_types = 1 };
  static const struct aws_tag tags[] = { { "Name", "red-hat-region-init" } };
  static const struct aws_ec2_tag_spec specs[] = { { "instance", tags, 1 },
                                                   { "volume", tags, 1 } };
  struct aws_run_instances_req ri = { .image_id = s_ids[0],
                                      .instance_type = "t3.micro",
                                      .min_count = 1,
                                      .max_count = 1,
                                      .tag_specs = specs,
                                      .ntag_specs = 2,
                                      .device_name = "/dev/sda1",
                                      .volume_size_gib = 10,
                                      .volume_type = "gp2",
                                      .encrypted = true,
                                      .delete_on_termination = true };
  const char *ids[1] = { s_ids[2] };
  struct aws_describe_instance_status_req st = {
    .instance_ids = ids, .ninstance_ids = 1, .include_all_instances = true
  };
  struct aws_ec2_instance_ids_req ti = { ids, 1, false };
  struct aws_describe_instances_req di = { .dry_run = true };
  struct aws_describe_instances_req dl = { .instance_ids = ids,
                                           .ninstance_ids = 1 };
  static const char *const self[] = { "self" };
  struct aws_ec2_page_req ds = { .owner_ids = self, .nowner_ids = 1 };
  struct aws_ec2_page_req dv = { 0 };
  struct aws_ec2_service_ids_req vs = { 0 };
  int polls = 0;

  REQUIRE_FAKE();
  member = new_member("ec2");
  mt = (struct aws_target){ .creds = member,
                            .region = "us-east-1",
                            .controller = "e2e",
                            .account = s_account };
  /* A dry run answers with the DryRunOperation "error". */
  ck_assert_int_ne(CALL(describe_instances, &mt, &di, NULL), 0);
  ck_assert_str_eq(last_code, "DryRunOperation");
  CALL_OK(describe_instance_types, &mt, &it, keep_ids);
  ck_assert_uint_eq(s_count, 1);
  CALL_OK(describe_images, &mt, &im, keep_images);
  ck_assert_uint_ge(s_count, 1);
  CALL_OK(run_instances, &mt, &ri, keep_run);
  ck_assert(str_has_prefix(s_ids[2], "i-"));
  do {
    usleep(50 * 1000);
    CALL_OK(describe_instance_status, &mt, &st, keep_states);
  } while (!str_eq(s_state, "running") && polls++ < 100);
  ck_assert_str_eq(s_state, "running");
  CALL_OK(describe_instances, &mt, &dl, keep_instances);
  ck_assert_uint_eq(s_count, 1);
  CALL_OK(terminate_instances, &mt, &ti, keep_states);
  ck_assert_uint_eq(s_count, 1);
  CALL_OK(describe_snapshots, &mt, &ds, keep_snapshots);
  CALL_OK(describe_volumes, &mt, &dv, keep_ids);
  CALL_OK(describe_vpc_endpoint_service_configurations, &mt, &vs, keep_ids);
  aws_creds_unref(member);
}
END_TEST

static void keep_case(const void *res)
{
  const struct aws_create_case_result *r = res;
  str_copy(s_text, r->case_id, sizeof(s_text));
}

static void keep_cases(const void *res)
{
  const struct aws_describe_cases_result *r = res;
  s_count = r->n;
  str_copy(s_state, r->n ? r->v[0].status : "", sizeof(s_state));
}

static void keep_quota(const void *res)
{
  const struct aws_service_quota_result *r = res;
  ck_assert(r->has_value);
  s_count = (size_t)r->value;
}

static void keep_change(const void *res)
{
  const struct aws_quota_change_result *r = res;
  str_copy(s_state, r->change.status, sizeof(s_state));
}

static void keep_changes(const void *res)
{
  const struct aws_quota_changes_result *r = res;
  s_count = r->n;
}

static void keep_opt(const void *res)
{
  const struct aws_region_opt_result *r = res;
  str_copy(s_state, r->region_opt_status, sizeof(s_state));
}

static void keep_zones(const void *res)
{
  const struct aws_r53_zones_result *r = res;
  s_count = r->n;
}

/* PendingVerification and opt-in: support case, quotas, region opt-in;
 * then the account's end of life. */
START_TEST(verification_and_close)
{
  struct aws_target t = { .creds = mgmt_creds, .controller = "e2e" };
  struct aws_creds *member;
  struct aws_target mt;
  char subject[128];
  struct aws_create_case_req cc = { .subject = subject,
                                    .communication_body = "Please enable",
                                    .service_code = "customer-account",
                                    .severity_code = "high",
                                    .category_code = "other-account-issues",
                                    .language = "en",
                                    .issue_type = "customer-service" };
  const char *case_ids[1] = { s_text };
  struct aws_describe_cases_req dc = { case_ids, 1, true, NULL };
  struct aws_quota_req gq = { "ec2", "L-1216C47A" };
  struct aws_quota_increase_req qi = { "ec2", "L-1216C47A", 100 };
  struct aws_quota_history_req qh = { "ec2", "L-1216C47A", NULL, NULL };
  struct aws_region_opt_req ro = { "af-south-1", NULL };
  struct aws_r53_page_req lz = { 0 };
  struct aws_org_account_id_req acct = { s_account };
  struct aws_org_none_req none = { 0 };
  struct aws_list_ous_req lo = { .parent_id = s_root };
  struct aws_list_car_status_req lc = { 0 };
  struct aws_federation_token_req ft = { .name = "Bob",
                                         .duration_seconds = 900 };
  static const char *const keys[] = { "owner" };
  static const struct aws_tag tags[] = { { "owner", "x" } };
  struct aws_org_tag_req tr = { s_account, tags, 1 };
  struct aws_org_untag_req ut = { s_account, keys, 1 };
  struct aws_list_parents_req lp = { .child_id = s_account };
  int polls = 0;

  REQUIRE_FAKE();
  member = new_member("verify");
  mt = (struct aws_target){ .creds = member,
                            .region = "us-east-1",
                            .controller = "e2e",
                            .account = s_account };
  snprintf(subject, sizeof(subject), "Add account %s to Enterprise Support",
           s_account);
  CALL_OK(create_case, &t, &cc, keep_case);
  do {
    usleep(100 * 1000);
    CALL_OK(describe_cases, &t, &dc, keep_cases);
  } while (!str_eq(s_state, "resolved") && polls++ < 50);
  ck_assert_str_eq(s_state, "resolved");

  CALL_OK(get_service_quota, &mt, &gq, keep_quota);
  CALL_OK(request_service_quota_increase, &mt, &qi, keep_change);
  CALL_OK(list_quota_change_history_by_quota, &mt, &qh, keep_changes);
  ck_assert_uint_eq(s_count, 1);

  CALL_OK(get_region_opt_status, &mt, &ro, keep_opt);
  ck_assert_str_ne(s_state, "");
  if (str_eq(s_state, "DISABLED"))
    CALL_OK(enable_region, &mt, &ro, NULL);
  CALL_OK(list_hosted_zones, &mt, &lz, keep_zones);
  ck_assert_uint_eq(s_count, 0);

  CALL_OK(describe_organization, &t, &none, NULL);
  CALL_OK(list_parents, &t, &lp, keep_parent);
  CALL_OK(list_organizational_units_for_parent, &t, &lo, NULL);
  CALL_OK(list_create_account_status, &t, &lc, NULL);
  CALL_OK(org_tag_resource, &t, &tr, NULL);
  CALL_OK(org_untag_resource, &t, &ut, NULL);
  CALL_OK(get_federation_token, &t, &ft, keep_sts);
  ck_assert(str_has_prefix(s_ak, "ASIA"));
  CALL_OK(close_account, &t, &acct, NULL);
  CALL_OK(describe_account, &t, &acct, NULL);
  aws_creds_unref(member);
}
END_TEST

static void keep_zone(const void *res)
{
  const struct aws_r53_zone_result *r = res;
  str_copy(s_text, r->zone.id, sizeof(s_text));
}

/* Up to 8 record sets kept from the listing, for the DELETE batch. */
static struct {
  char name[8][128], type[8][16], value[8][256];
  long long ttl[8];
  size_t n;
} s_rr;
static char s_next_name[128], s_next_type[16];

static void keep_rrsets(const void *res)
{
  const struct aws_r53_rrsets_result *r = res;
  size_t i;

  for (i = 0; i < r->n && s_rr.n < 8; i++) {
    if (str_eq(r->v[i].type, "NS") || str_eq(r->v[i].type, "SOA"))
      continue;
    str_copy(s_rr.name[s_rr.n], r->v[i].name, sizeof(s_rr.name[0]));
    str_copy(s_rr.type[s_rr.n], r->v[i].type, sizeof(s_rr.type[0]));
    ck_assert_uint_eq(r->v[i].records.n, 1);
    str_copy(s_rr.value[s_rr.n], r->v[i].records.v[0], sizeof(s_rr.value[0]));
    s_rr.ttl[s_rr.n++] = r->v[i].ttl;
  }
  s_next_name[0] = s_next_type[0] = '\0';
  if (r->is_truncated) {
    str_copy(s_next_name, r->next_record_name, sizeof(s_next_name));
    str_copy(s_next_type, r->next_record_type, sizeof(s_next_type));
  }
}

/* Route 53 cleanup as claim reuse does it: list every record set page by
 * page, delete all but NS/SOA in one batch, delete the zone. */
START_TEST(route53_cleanup)
{
  struct aws_creds *member;
  struct aws_target mt;
  char zone_id[128];
  struct aws_r53_create_zone_req cz = { "e2e.example.com.", "ref-e2e", NULL };
  char *txt_v[] = { "\"owner=e2e\"" }, *a_v[] = { "192.0.2.10" };
  struct aws_r53_rrset txt = { .name = "t.e2e.example.com.",
                               .type = "TXT",
                               .ttl = 300,
                               .weight = -1,
                               .records = { txt_v, 1 } };
  struct aws_r53_rrset a = { .name = "a.e2e.example.com.",
                             .type = "A",
                             .ttl = 60,
                             .weight = -1,
                             .records = { a_v, 1 } };
  struct aws_r53_change create[] = { { "CREATE", &txt }, { "CREATE", &a } };
  struct aws_r53_change_req cr = { zone_id, "e2e", create, 2 };
  struct aws_r53_rrsets_req lr = { .hosted_zone_id = zone_id, .max_items = 1 };
  struct aws_r53_rrset del_sets[8];
  char *del_vals[8][1];
  struct aws_r53_change del[8];
  struct aws_r53_change_req dr = { zone_id, NULL, del, 0 };
  struct aws_r53_zone_req dz = { zone_id };
  struct aws_r53_page_req lz = { 0 };
  size_t i;
  int pages = 0;

  REQUIRE_FAKE();
  member = new_member("dns");
  mt = (struct aws_target){ .creds = member,
                            .controller = "e2e",
                            .account = s_account };
  CALL_OK(create_hosted_zone, &mt, &cz, keep_zone);
  str_copy(zone_id, s_text, sizeof(zone_id));
  CALL_OK(change_resource_record_sets, &mt, &cr, NULL);
  ck_assert_int_ne(CALL(delete_hosted_zone, &mt, &dz, NULL), 0);
  ck_assert_str_eq(last_code, "HostedZoneNotEmpty");

  memset(&s_rr, 0, sizeof(s_rr));
  do {
    CALL_OK(list_resource_record_sets, &mt, &lr, keep_rrsets);
    lr.start_record_name = s_next_name;
    lr.start_record_type = s_next_type;
  } while (s_next_name[0] && ++pages < 20);
  ck_assert_int_ge(pages, 3); /* NS, SOA, A, TXT one per page */
  ck_assert_uint_eq(s_rr.n, 2);

  for (i = 0; i < s_rr.n; i++) {
    memset(&del_sets[i], 0, sizeof(del_sets[i]));
    del_sets[i].name = s_rr.name[i];
    del_sets[i].type = s_rr.type[i];
    del_sets[i].ttl = s_rr.ttl[i];
    del_sets[i].weight = -1;
    del_vals[i][0] = s_rr.value[i];
    del_sets[i].records.v = del_vals[i];
    del_sets[i].records.n = 1;
    del[i].action = "DELETE";
    del[i].rrset = &del_sets[i];
  }
  dr.nchanges = s_rr.n;
  CALL_OK(change_resource_record_sets, &mt, &dr, NULL);
  CALL_OK(delete_hosted_zone, &mt, &dz, NULL);
  CALL_OK(list_hosted_zones, &mt, &lz, keep_zones);
  ck_assert_uint_eq(s_count, 0);
  aws_creds_unref(member);
}
END_TEST

/* Deletes the reuse cleanup issues for things that are already gone: the
 * error codes the callers branch on must come through. */
START_TEST(deletes_of_missing_things)
{
  struct aws_creds *member;
  struct aws_target mt;
  struct aws_ec2_volume_req vol = { "vol-0123456789abcdef0" };
  struct aws_ec2_snapshot_req snap = { "snap-0123456789abcdef0" };
  static const char *const svc[] = { "vpce-svc-0123456789abcdef0" };
  struct aws_ec2_service_ids_req vs = { svc, 1, NULL };
  struct aws_iam_user_policy_req dp = {
    "nobody", "arn:aws:iam::aws:policy/AdministratorAccess"
  };
  struct aws_s3_bucket_req db = { "no-such-bucket-e2e" };

  REQUIRE_FAKE();
  member = new_member("gone");
  mt = (struct aws_target){ .creds = member,
                            .region = "us-east-1",
                            .controller = "e2e",
                            .account = s_account };
  ck_assert_int_ne(CALL(delete_volume, &mt, &vol, NULL), 0);
  ck_assert(str_has_prefix(last_code, "InvalidVolume"));
  ck_assert_int_ne(CALL(delete_snapshot, &mt, &snap, NULL), 0);
  ck_assert(str_has_prefix(last_code, "InvalidSnapshot"));
  /* Partial failures of the batch delete arrive in a 200 answer. */
  CALL_OK(delete_vpc_endpoint_service_configurations, &mt, &vs, NULL);
  ck_assert_int_ne(CALL(detach_user_policy, &mt, &dp, NULL), 0);
  ck_assert_str_eq(last_code, "NoSuchEntity");
  ck_assert_int_ne(CALL(delete_bucket, &mt, &db, NULL), 0);
  ck_assert_str_eq(last_code, "NoSuchBucket");
  aws_creds_unref(member);
}
END_TEST

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
  return sz * n;
}

/* POST a JSON body to the stand-in's control API. */
static void fake_control(const char *path, const char *json)
{
  char url[128];
  CURL *h = curl_easy_init();
  struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: "
                                                   "application/json");
  long status = 0;

  snprintf(url, sizeof(url), "http://127.0.0.1:%d/_fake/%s", fake.port, path);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, json);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  ck_assert_int_eq(curl_easy_perform(h), CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  ck_assert_int_eq(status, 200);
  curl_slist_free_all(hdr);
  curl_easy_cleanup(h);
}

#define WI_TRUST                                                               \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","          \
  "\"Principal\":{\"Federated\":\"arn:aws:iam::123456789012:oidc-provider/"    \
  "oidc.fake.local\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\"}]}"

/* IRSA: an unsigned AssumeRoleWithWebIdentity with a registered token. */
START_TEST(web_identity)
{
  struct aws_target t = { .creds = mgmt_creds, .controller = "e2e" };
  struct aws_target anon = { .controller = "e2e" };
  struct aws_create_role_req cr = { .role_name = "aao-irsa",
                                    .assume_role_policy_document = WI_TRUST };
  char role_arn[128];
  struct aws_assume_role_wi_req wi = { role_arn, "aao", "e2e-token", 900 };
  struct aws_assume_role_wi_req bad = { role_arn, "aao", "wrong-token", 900 };

  REQUIRE_FAKE();
  CALL_OK(create_role, &t, &cr, keep_role);
  snprintf(role_arn, sizeof(role_arn), "arn:aws:iam::%s:role/aao-irsa",
           fake.mgmt);
  fake_control("web-identity",
               "{\"token\":\"e2e-token\",\"subject\":"
               "\"system:serviceaccount:aws-account-operator:aao\"}");
  ck_assert_int_ne(CALL(assume_role_with_web_identity, &anon, &bad, NULL), 0);
  ck_assert_str_eq(last_code, "InvalidIdentityToken");
  CALL_OK(assume_role_with_web_identity, &anon, &wi, keep_sts);
  ck_assert(str_has_prefix(s_ak, "ASIA"));
  ck_assert(strstr(s_text, ":aao") != NULL);
}
END_TEST

static Suite *aws_ops_e2e_suite(void)
{
  Suite *s = suite_create("aws_ops_e2e");
  TCase *tc = tcase_create("e2e");

  tcase_set_timeout(tc, 120);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, organizations_flow);
  tcase_add_test(tc, member_account_iam_and_ec2);
  tcase_add_test(tc, iam_roles_and_policies);
  tcase_add_test(tc, s3_cleanup);
  tcase_add_test(tc, ec2_region_init);
  tcase_add_test(tc, verification_and_close);
  tcase_add_test(tc, route53_cleanup);
  tcase_add_test(tc, deletes_of_missing_things);
  tcase_add_test(tc, web_identity);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(aws_ops_e2e_suite)
