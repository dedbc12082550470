/* aws_driver: drives pkg/aws's real operation table (aws_api_real_new over
 * aws_call_start) against the AWS stand-in test/fakes/aws_api.py, for
 * test/e2e/test_aws_integration.py.
 *
 *   aws_driver MODE [N] [--endpoint URL] [--rate R] [--burst B]
 *              [--min-rate R] [--max-attempts N] [--backoff-cap-ms MS]
 *              [--retry-tokens N] [--cap N] [--poll-ms MS] [--web-token T]
 *
 * Credentials come from the environment only (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN), never from argv; the
 * endpoint from --endpoint or AWS_ENDPOINT_URL.
 *
 * Modes (stdout: one JSON object per line, secrets never printed):
 *   all-ops          every operation of api.h at least once, in the order
 *                    the operator uses them; one line per call
 *                    {"op","service","ok","ms"[,"class","code","http"]};
 *                    calls the table lacks but the sequence needs
 *                    (CreateSnapshot, CreateVpcEndpointServiceConfiguration)
 *                    go through
 *                    aws_call_start directly and carry "seed": true.
 *   create-burst N   N CreateAccount requests, each holding one of the
 *                    client's organization-wide slots until
 *                    DescribeCreateAccountStatus leaves IN_PROGRESS.
 *   throttled M      M read calls at once over four services (sts, iam,
 *                    organizations, ec2); summary with attempts, retries,
 *                    throttles and the observed send rate per service.
 *   bad-secret       one call per protocol with a wrong secret;
 *   unknown-key      the same with an access key AWS does not know.
 * The last line is always {"summary": ...}. Exit status 0 when the mode's
 * expectation held (all-ops: every call succeeded; create-burst,
 * throttled: every request completed; bad-secret/unknown-key: every call
 * failed with class auth), 1 otherwise, 2 on usage errors.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "aws/api.h"
#include "aws/core/creds.h"
#include "aws/core/transport.h"
#include "aws/core/xml.h"
#include "http/httpc.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

#define MAX_POLLS 300
#define MGMT_ROLE "OrganizationAccountAccessRole"
#define EC2_OWNER "309956199498"
#define QUOTA_SVC "ec2"
#define QUOTA_CODE "L-1216C47A"
#define OPT_REGION "ap-east-1"
#define NSVC 4

enum mode { M_ALL, M_BURST, M_THROTTLED, M_BAD_SECRET, M_UNKNOWN_KEY };

struct drv;
typedef int (*step_fn)(struct drv *d);
/* After a successful call: 0 to go on, negative to stop. May set
 * d->repeat_ms to run the same step again after that delay. */
typedef int (*after_fn)(struct drv *d, const void *res);

struct burst {
  struct drv *d;
  int i;
  struct aws_create_slot *slot;
  uv_timer_t timer;
  char car[128];
  int polls;
};

struct svc_sends {
  const char *name;
  uint64_t *t;
  size_t n, cap;
};

struct opts {
  enum mode mode;
  int n;
  const char *endpoint, *web_token;
  double rate, burst, min_rate;
  unsigned max_attempts, retry_tokens, cap;
  uint64_t backoff_cap_ms, poll_ms;
};

struct ids { /* what the all-ops sequence carries from call to call */
  char mgmt[16], email[128], car[128], acct[16], root[64], ou[64];
  char user_key[64], role_arn[256], policy_arn[256], policy_v[16];
  char case_id[160], image[64], instance[64], volume[64], snapshot[64];
  char vpce[64], zone[96], bucket[64];
};

struct drv {
  struct opts o;
  uv_loop_t loop;
  struct httpc *http;
  struct aws_client *c;
  struct aws_api *api;
  struct met_registry *met;
  struct aws_creds *mgmt, *member, *user;
  struct aws_target mt, xt;
  uv_timer_t timer;
  bool timer_open, finishing;
  int exit_code;
  /* step machine */
  const step_fn *steps;
  size_t nsteps, cur;
  after_fn after;
  int (*after_raw)(struct drv *d, const char *body, size_t len);
  uint64_t repeat_ms, t_call;
  int polls;
  struct ids id;
  /* counters */
  int calls, ok, failed, auth;
  unsigned attempts, retries, peak_slots;
  struct burst *bursts;
  int bursts_done;
  struct svc_sends sends[NSVC];
};

static void finish(struct drv *d);
static void run_steps(struct drv *d);

/* ---- output ------------------------------------------------------------ */

static void print_json(json_t *o)
{
  json_dumpf(o, stdout, JSON_COMPACT);
  fputc('\n', stdout);
  fflush(stdout);
  json_decref(o);
}

static void emit(struct drv *d, const char *op, const char *svc, int err,
                 const struct aws_error *aerr, bool seed)
{
  json_t *o =
      json_pack("{s:s,s:s,s:b,s:I}", "op", op, "service", svc, "ok", err == 0,
                "ms", (json_int_t)(time_mono_ms() - d->t_call));

  if (seed)
    json_object_set_new(o, "seed", json_true());
  if (err) {
    json_object_set_new(
        o, "class",
        json_string(aerr ? aws_error_class_name(aerr->cls) : op_err_name(err)));
    json_object_set_new(o, "err", json_string(op_err_name(err)));
    if (aerr) {
      json_object_set_new(o, "code", json_string(aerr->code));
      json_object_set_new(o, "http", json_integer(aerr->http_status));
      json_object_set_new(o, "message", json_string(aerr->message));
    }
  }
  d->calls++;
  if (err)
    d->failed++;
  else
    d->ok++;
  if (err && aerr && aerr->cls == AWS_ERR_AUTH)
    d->auth++;
  print_json(o);
}

/* ---- the step machine (all-ops) ------------------------------------------ */

static void on_repeat(uv_timer_t *t)
{
  run_steps(t->data);
}

static void step_done(struct drv *d, const char *op, const char *svc, int err,
                      const struct aws_error *aerr, const void *res)
{
  int rc = 0;

  if (d->finishing)
    return;
  emit(d, op, svc, err, aerr, false);
  if (d->o.mode != M_ALL) {
    if (d->calls == d->o.n)
      finish(d);
    return;
  }
  d->repeat_ms = 0;
  if (err == 0 && d->after)
    rc = d->after(d, res);
  if (err || rc) {
    fprintf(stderr, "aws_driver: stopping after %s\n", op);
    d->exit_code = 1;
    finish(d);
  } else if (d->repeat_ms && ++d->polls < MAX_POLLS) {
    uv_timer_start(&d->timer, on_repeat, d->repeat_ms, 0);
  } else if (d->repeat_ms) {
    fprintf(stderr, "aws_driver: %s never reached its state\n", op);
    d->exit_code = 1;
    finish(d);
  } else {
    d->polls = 0;
    d->cur++;
    run_steps(d);
  }
}

#define DRV_THUNK(f, op, svc, proto, idem, req, res)                           \
  static void on_##f(int err, const struct aws_error *aerr,                    \
                     const struct aws_##res *r, void *arg)                     \
  {                                                                            \
    step_done(arg, #op, svc, err, aerr, r);                                    \
  }
AWS_OPS(DRV_THUNK)
#undef DRV_THUNK

/* Start operation f with request rq on target tgt; aft runs on success. */
#define CALL(d, f, tgt, rq, aft)                                               \
  ((d)->after = (aft), (d)->t_call = time_mono_ms(),                           \
   (d)->api->f((d)->api, (tgt), (rq), on_##f, (d)))

static void run_steps(struct drv *d)
{
  while (!d->finishing && d->cur < d->nsteps) {
    int rc = d->steps[d->cur](d);

    if (rc == 0)
      return;
    fprintf(stderr, "aws_driver: step %zu could not start: %s\n", d->cur,
            op_strerror(rc));
    d->exit_code = 1;
    break;
  }
  finish(d);
}

/* ---- raw calls for set-up the table does not cover ---------------------- */

/* A raw call in flight: named for the output line. */
struct raw_ctx {
  struct drv *d;
  const char *op, *svc;
};

static void on_raw_named(int err, const struct aws_resp *resp,
                         const struct aws_error *aerr, void *arg)
{
  struct raw_ctx *x = arg;
  struct drv *d = x->d;
  int rc = 0;

  if (!d->finishing) {
    emit(d, x->op, x->svc, err, aerr, true);
    if (err == 0)
      rc = d->after_raw(d, resp->body, resp->body_len);
    if (err || rc) {
      d->exit_code = 1;
      finish(d);
    } else {
      d->cur++;
      run_steps(d);
    }
  }
  free(x);
}

static int raw_call(struct drv *d, const struct aws_call *call,
                    int (*after)(struct drv *, const char *, size_t))
{
  struct raw_ctx *x = util_xcalloc(1, sizeof(*x));
  int rc;

  x->d = d;
  x->op = call->operation;
  x->svc = call->service;
  d->after_raw = after;
  d->t_call = time_mono_ms();
  rc = aws_call_start(d->c, d->member, call, on_raw_named, x);
  if (rc)
    free(x);
  return rc;
}

static int ec2_raw(struct drv *d, const char *op, const char *body,
                   int (*after)(struct drv *, const char *, size_t))
{
  static const struct aws_header h[] = {
    { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
  };
  struct aws_call call = { .service = "ec2",
                           .operation = op,
                           .region = "us-east-1",
                           .method = "POST",
                           .path = "/",
                           .headers = h,
                           .nheaders = 1,
                           .body = body,
                           .body_len = strlen(body),
                           .protocol = AWS_PROTO_EC2,
                           .account = d->id.acct };

  return raw_call(d, &call, after);
}

/* Copy the text at path of the response document into out. */
static int xml_pick(const char *body, size_t len, const char *path, char *out,
                    size_t n)
{
  struct aws_xml *x;
  int rc = aws_xml_parse(body, len, &x);

  if (rc == 0) {
    rc = aws_xml_copy(aws_xml_root(x), path, out, n);
    aws_xml_free(x);
  }
  return rc;
}

static int copy_id(char *out, size_t n, const char *v)
{
  if (str_empty(v))
    return OP_EPARSE;
  str_copy(out, v, n);
  return 0;
}

/* ---- Organizations ------------------------------------------------------- */

static int a_org(struct drv *d, const void *res)
{
  const struct aws_org_organization_result *r = res;

  return copy_id(d->id.mgmt, sizeof(d->id.mgmt), r->master_account_id);
}

static int s_describe_org(struct drv *d)
{
  struct aws_org_none_req rq = { 0 };

  return CALL(d, describe_organization, &d->mt, &rq, a_org);
}

static int a_create_account(struct drv *d, const void *res)
{
  const struct aws_car_status_result *r = res;

  return copy_id(d->id.car, sizeof(d->id.car), r->status.id);
}

static int s_create_account(struct drv *d)
{
  static const struct aws_tag tags[] = { { "owner", "aws_driver" } };
  struct aws_create_account_req rq = { .email = d->id.email,
                                       .account_name = "aint-all-ops",
                                       .tags = tags,
                                       .ntags = 1 };

  return CALL(d, create_account, &d->mt, &rq, a_create_account);
}

static int a_car_status(struct drv *d, const void *res)
{
  const struct aws_car_status_result *r = res;

  if (str_eq(r->status.state, "IN_PROGRESS")) {
    d->repeat_ms = d->o.poll_ms;
    return 0;
  }
  if (!str_eq(r->status.state, "SUCCEEDED")) {
    fprintf(stderr, "aws_driver: CreateAccount ended %s (%s)\n",
            r->status.state ? r->status.state : "?",
            r->status.failure_reason ? r->status.failure_reason : "-");
    return OP_EAWS;
  }
  return copy_id(d->id.acct, sizeof(d->id.acct), r->status.account_id);
}

static int s_describe_car(struct drv *d)
{
  struct aws_describe_car_status_req rq = { d->id.car };

  return CALL(d, describe_create_account_status, &d->mt, &rq, a_car_status);
}

/* Other tests may share the organization: a first page that is not empty
 * is what this call must show. */
static int a_list_car(struct drv *d, const void *res)
{
  const struct aws_car_status_list_result *r = res;

  return r->n ? 0 : OP_ENOTFOUND;
}

static int s_list_car(struct drv *d)
{
  static const char *const states[] = { "SUCCEEDED" };
  struct aws_list_car_status_req rq = { .states = states, .nstates = 1 };

  return CALL(d, list_create_account_status, &d->mt, &rq, a_list_car);
}

/* Other tests may share the organization: a first page that is not empty
 * is what this call must show. */
static int a_list_accounts(struct drv *d, const void *res)
{
  const struct aws_org_accounts_result *r = res;

  return r->n ? 0 : OP_ENOTFOUND;
}

static int s_list_accounts(struct drv *d)
{
  struct aws_org_page_req rq = { .max_results = 20 };

  return CALL(d, list_accounts, &d->mt, &rq, a_list_accounts);
}

static int s_describe_account(struct drv *d)
{
  struct aws_org_account_id_req rq = { d->id.acct };

  return CALL(d, describe_account, &d->mt, &rq, NULL);
}

static int a_parents(struct drv *d, const void *res)
{
  const struct aws_org_refs_result *r = res;

  return r->n == 1 ? copy_id(d->id.root, sizeof(d->id.root), r->v[0].id)
                   : OP_EPARSE;
}

static int s_list_parents(struct drv *d)
{
  struct aws_list_parents_req rq = { .child_id = d->id.acct };

  return CALL(d, list_parents, &d->mt, &rq, a_parents);
}

static int s_list_children(struct drv *d)
{
  struct aws_list_children_req rq = { .parent_id = d->id.root,
                                      .child_type = "ACCOUNT" };

  return CALL(d, list_children, &d->mt, &rq, NULL);
}

static int a_create_ou(struct drv *d, const void *res)
{
  const struct aws_org_ou_result *r = res;

  return copy_id(d->id.ou, sizeof(d->id.ou), r->ou.id);
}

static int s_create_ou(struct drv *d)
{
  char name[64];
  struct aws_create_ou_req rq = { .parent_id = d->id.root, .name = name };

  str_fmt(name, sizeof(name), "aint-ou-%ld", (long)getpid());
  return CALL(d, create_organizational_unit, &d->mt, &rq, a_create_ou);
}

static int s_list_ous(struct drv *d)
{
  struct aws_list_ous_req rq = { .parent_id = d->id.root };

  return CALL(d, list_organizational_units_for_parent, &d->mt, &rq, NULL);
}

static int s_move_account(struct drv *d)
{
  struct aws_move_account_req rq = { d->id.acct, d->id.root, d->id.ou };

  return CALL(d, move_account, &d->mt, &rq, NULL);
}

static int s_org_tag(struct drv *d)
{
  static const struct aws_tag tags[] = { { "claimed", "false" },
                                         { "pool", "default" } };
  struct aws_org_tag_req rq = { d->id.acct, tags, 2 };

  return CALL(d, org_tag_resource, &d->mt, &rq, NULL);
}

static int a_org_tags(struct drv *d, const void *res)
{
  const struct aws_tags_result *r = res;

  return r->n >= 2 ? 0 : OP_EPARSE;
}

static int s_org_list_tags(struct drv *d)
{
  struct aws_org_list_tags_req rq = { .resource_id = d->id.acct };

  return CALL(d, org_list_tags_for_resource, &d->mt, &rq, a_org_tags);
}

static int s_org_untag(struct drv *d)
{
  static const char *const keys[] = { "claimed" };
  struct aws_org_untag_req rq = { d->id.acct, keys, 1 };

  return CALL(d, org_untag_resource, &d->mt, &rq, NULL);
}

static int s_close_account(struct drv *d)
{
  struct aws_org_account_id_req rq = { d->id.acct };

  return CALL(d, close_account, &d->mt, &rq, NULL);
}

/* ---- STS ------------------------------------------------------------------
 */

static int s_caller_identity(struct drv *d)
{
  struct aws_sts_none_req rq = { 0 };

  return CALL(d, get_caller_identity, &d->mt, &rq, NULL);
}

static int a_assume(struct drv *d, const void *res)
{
  const struct aws_sts_creds_result *r = res;

  d->member =
      aws_creds_static_new(r->creds.access_key_id, r->creds.secret_access_key,
                           r->creds.session_token);
  if (!d->member)
    return OP_EPARSE;
  d->xt.creds = d->member;
  d->xt.account = d->id.acct;
  d->xt.region = "us-east-1";
  d->xt.controller = "aws_driver";
  return 0;
}

static int s_assume_role(struct drv *d)
{
  char arn[128];
  struct aws_assume_role_req rq = { .role_arn = arn,
                                    .role_session_name = "aint-driver",
                                    .duration_seconds = 900 };

  str_fmt(arn, sizeof(arn), "arn:aws:iam::%s:role/" MGMT_ROLE, d->id.acct);
  return CALL(d, assume_role, &d->mt, &rq, a_assume);
}

/* The member credentials answer as the assumed role in the new account. */
static int a_member_identity(struct drv *d, const void *res)
{
  const struct aws_caller_identity_result *r = res;

  return str_eq(r->account, d->id.acct) ? 0 : OP_EAUTH;
}

static int s_member_identity(struct drv *d)
{
  struct aws_sts_none_req rq = { 0 };

  return CALL(d, get_caller_identity, &d->xt, &rq, a_member_identity);
}

static int s_federation_token(struct drv *d)
{
  static const char *const arns[] = {
    "arn:aws:iam::aws:policy/ReadOnlyAccess"
  };
  struct aws_federation_token_req rq = { .name = "aint-fed",
                                         .duration_seconds = 900,
                                         .policy_arns = arns,
                                         .npolicy_arns = 1 };

  return CALL(d, get_federation_token, &d->mt, &rq, NULL);
}

static int s_assume_web(struct drv *d)
{
  struct aws_assume_role_wi_req rq = { .role_arn = d->id.role_arn,
                                       .role_session_name = "aint-web",
                                       .web_identity_token = d->o.web_token,
                                       .duration_seconds = 900 };

  return CALL(d, assume_role_with_web_identity, &d->xt, &rq, NULL);
}

/* ---- IAM: user and access key ---------------------------------------------
 */

#define AINT_USER "aint-user"
#define AINT_ROLE "aint-role"
#define ADMIN_ARN "arn:aws:iam::aws:policy/AdministratorAccess"
#define RO_ARN "arn:aws:iam::aws:policy/ReadOnlyAccess"

static int s_create_user(struct drv *d)
{
  static const struct aws_tag tags[] = { { "managed-by", "aint" } };
  struct aws_create_user_req rq = { AINT_USER, "/", tags, 1 };

  return CALL(d, create_user, &d->xt, &rq, NULL);
}

static int s_get_user(struct drv *d)
{
  struct aws_iam_user_req rq = { AINT_USER };

  return CALL(d, get_user, &d->xt, &rq, NULL);
}

static int a_list_users(struct drv *d, const void *res)
{
  const struct aws_iam_users_result *r = res;
  size_t i;

  for (i = 0; i < r->n; i++)
    if (str_eq(r->v[i].user_name, AINT_USER))
      return 0;
  return OP_ENOTFOUND;
}

static int s_list_users(struct drv *d)
{
  struct aws_iam_list_req rq = { 0 };

  return CALL(d, list_users, &d->xt, &rq, a_list_users);
}

static int s_tag_user(struct drv *d)
{
  static const struct aws_tag tags[] = { { "claim", "aint" } };
  struct aws_iam_tag_user_req rq = { AINT_USER, tags, 1 };

  return CALL(d, tag_user, &d->xt, &rq, NULL);
}

static int a_tags2(struct drv *d, const void *res)
{
  const struct aws_tags_result *r = res;

  return r->n == 2 ? 0 : OP_EPARSE;
}

static int s_list_user_tags(struct drv *d)
{
  struct aws_iam_user_page_req rq = { .user_name = AINT_USER };

  return CALL(d, list_user_tags, &d->xt, &rq, a_tags2);
}

static int s_attach_user_policy(struct drv *d)
{
  struct aws_iam_user_policy_req rq = { AINT_USER, ADMIN_ARN };

  return CALL(d, attach_user_policy, &d->xt, &rq, NULL);
}

static int a_attached1(struct drv *d, const void *res)
{
  const struct aws_iam_attached_result *r = res;

  return r->n == 1 ? 0 : OP_EPARSE;
}

static int s_list_attached_user(struct drv *d)
{
  struct aws_iam_user_page_req rq = { .user_name = AINT_USER };

  return CALL(d, list_attached_user_policies, &d->xt, &rq, a_attached1);
}

static int a_access_key(struct drv *d, const void *res)
{
  const struct aws_iam_access_key_result *r = res;

  if (copy_id(d->id.user_key, sizeof(d->id.user_key), r->key.access_key_id))
    return OP_EPARSE;
  d->user = aws_creds_static_new(r->key.access_key_id, r->key.secret_access_key,
                                 NULL);
  return d->user ? 0 : OP_EPARSE;
}

static int s_create_access_key(struct drv *d)
{
  struct aws_iam_user_req rq = { AINT_USER };

  return CALL(d, create_access_key, &d->xt, &rq, a_access_key);
}

/* The new key works at once and acts as the user. */
static int a_user_identity(struct drv *d, const void *res)
{
  const struct aws_caller_identity_result *r = res;

  return r->arn && strstr(r->arn, ":user/" AINT_USER) ? 0 : OP_EAUTH;
}

static int s_user_identity(struct drv *d)
{
  struct aws_target t = d->xt;
  struct aws_sts_none_req rq = { 0 };

  t.creds = d->user;
  t.account = d->id.user_key;
  return CALL(d, get_caller_identity, &t, &rq, a_user_identity);
}

static int s_list_access_keys(struct drv *d)
{
  struct aws_iam_user_page_req rq = { .user_name = AINT_USER };

  return CALL(d, list_access_keys, &d->xt, &rq, NULL);
}

static int s_delete_access_key(struct drv *d)
{
  struct aws_iam_delete_access_key_req rq = { AINT_USER, d->id.user_key };

  return CALL(d, delete_access_key, &d->xt, &rq, NULL);
}

static int s_detach_user_policy(struct drv *d)
{
  struct aws_iam_user_policy_req rq = { AINT_USER, ADMIN_ARN };

  return CALL(d, detach_user_policy, &d->xt, &rq, NULL);
}

static int s_delete_user(struct drv *d)
{
  struct aws_iam_user_req rq = { AINT_USER };

  return CALL(d, delete_user, &d->xt, &rq, NULL);
}

/* ---- IAM: role ------------------------------------------------------------
 */

static int a_role(struct drv *d, const void *res)
{
  const struct aws_iam_role_result *r = res;

  return copy_id(d->id.role_arn, sizeof(d->id.role_arn), r->role.arn);
}

static int s_create_role(struct drv *d)
{
  static const struct aws_tag tags[] = { { "managed-by", "aint" } };
  char doc[512];
  struct aws_create_role_req rq = { .role_name = AINT_ROLE,
                                    .assume_role_policy_document = doc,
                                    .description = "aws_driver role",
                                    .max_session_duration = 3600,
                                    .tags = tags,
                                    .ntags = 1 };

  str_fmt(doc, sizeof(doc),
          "{\"Version\":\"2012-10-17\",\"Statement\":["
          "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
          "\"arn:aws:iam::%s:root\"},\"Action\":\"sts:AssumeRole\"},"
          "{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":"
          "\"arn:aws:iam::%s:oidc-provider/oidc.fake.local\"},"
          "\"Action\":\"sts:AssumeRoleWithWebIdentity\"}]}",
          d->id.mgmt, d->id.acct);
  return CALL(d, create_role, &d->xt, &rq, a_role);
}

/* GetRole hands the trust policy back URL-decoded. */
static int a_get_role(struct drv *d, const void *res)
{
  const struct aws_iam_role_result *r = res;
  const char *doc = r->role.assume_role_policy_document;

  return doc && strstr(doc, "\"sts:AssumeRole\"") ? 0 : OP_EPARSE;
}

static int s_get_role(struct drv *d)
{
  struct aws_iam_role_req rq = { AINT_ROLE };

  return CALL(d, get_role, &d->xt, &rq, a_get_role);
}

static int s_list_roles(struct drv *d)
{
  struct aws_iam_list_req rq = { 0 };

  return CALL(d, list_roles, &d->xt, &rq, NULL);
}

static int s_tag_role(struct drv *d)
{
  static const struct aws_tag tags[] = { { "claim", "aint" } };
  struct aws_iam_tag_role_req rq = { AINT_ROLE, tags, 1 };

  return CALL(d, tag_role, &d->xt, &rq, NULL);
}

static int s_list_role_tags(struct drv *d)
{
  struct aws_iam_role_page_req rq = { .role_name = AINT_ROLE };

  return CALL(d, list_role_tags, &d->xt, &rq, a_tags2);
}

static int s_attach_role_policy(struct drv *d)
{
  struct aws_iam_role_policy_req rq = { AINT_ROLE, RO_ARN };

  return CALL(d, attach_role_policy, &d->xt, &rq, NULL);
}

static int s_list_attached_role(struct drv *d)
{
  struct aws_iam_role_page_req rq = { .role_name = AINT_ROLE };

  return CALL(d, list_attached_role_policies, &d->xt, &rq, a_attached1);
}

static int s_put_role_policy(struct drv *d)
{
  struct aws_put_role_policy_req rq = {
    AINT_ROLE, "inline",
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
    "\"Action\":\"s3:ListAllMyBuckets\",\"Resource\":\"*\"}]}"
  };

  return CALL(d, put_role_policy, &d->xt, &rq, NULL);
}

static int a_role_policies(struct drv *d, const void *res)
{
  const struct aws_iam_names_result *r = res;

  return r->names.n == 1 && str_eq(r->names.v[0], "inline") ? 0 : OP_EPARSE;
}

static int s_list_role_policies(struct drv *d)
{
  struct aws_iam_role_page_req rq = { .role_name = AINT_ROLE };

  return CALL(d, list_role_policies, &d->xt, &rq, a_role_policies);
}

static int s_delete_role_policy(struct drv *d)
{
  struct aws_delete_role_policy_req rq = { AINT_ROLE, "inline" };

  return CALL(d, delete_role_policy, &d->xt, &rq, NULL);
}

static int s_detach_role_policy(struct drv *d)
{
  struct aws_iam_role_policy_req rq = { AINT_ROLE, RO_ARN };

  return CALL(d, detach_role_policy, &d->xt, &rq, NULL);
}

static int s_delete_role(struct drv *d)
{
  struct aws_iam_role_req rq = { AINT_ROLE };

  return CALL(d, delete_role, &d->xt, &rq, NULL);
}

/* ---- IAM: managed policy ----------------------------------------------------
 */

#define POLICY_DOC(action)                                                     \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","          \
  "\"Action\":\"" action "\",\"Resource\":\"*\"}]}"

static int a_policy(struct drv *d, const void *res)
{
  const struct aws_iam_policy_result *r = res;

  return copy_id(d->id.policy_arn, sizeof(d->id.policy_arn), r->policy.arn);
}

static int s_create_policy(struct drv *d)
{
  struct aws_create_policy_req rq = { .policy_name = "aint-policy",
                                      .policy_document =
                                          POLICY_DOC("ec2:Describe*"),
                                      .description = "aws_driver" };

  return CALL(d, create_policy, &d->xt, &rq, a_policy);
}

static int s_get_policy(struct drv *d)
{
  struct aws_iam_policy_req rq = { d->id.policy_arn };

  return CALL(d, get_policy, &d->xt, &rq, NULL);
}

static int s_list_policies(struct drv *d)
{
  struct aws_list_policies_req rq = { .scope = "Local" };

  return CALL(d, list_policies, &d->xt, &rq, NULL);
}

static int a_policy_version(struct drv *d, const void *res)
{
  const struct aws_iam_policy_version_result *r = res;

  return copy_id(d->id.policy_v, sizeof(d->id.policy_v), r->version.version_id);
}

static int s_create_policy_version(struct drv *d)
{
  struct aws_create_policy_version_req rq = { d->id.policy_arn,
                                              POLICY_DOC("ec2:*"), true };

  return CALL(d, create_policy_version, &d->xt, &rq, a_policy_version);
}

/* The document comes back URL-decoded. */
static int a_get_version(struct drv *d, const void *res)
{
  const struct aws_iam_policy_version_result *r = res;

  return r->version.is_default_version && r->version.document &&
                 strstr(r->version.document, "\"ec2:*\"")
             ? 0
             : OP_EPARSE;
}

static int s_get_policy_version(struct drv *d)
{
  struct aws_iam_policy_version_req rq = { d->id.policy_arn, d->id.policy_v };

  return CALL(d, get_policy_version, &d->xt, &rq, a_get_version);
}

static int a_versions(struct drv *d, const void *res)
{
  const struct aws_iam_policy_versions_result *r = res;

  return r->n == 2 ? 0 : OP_EPARSE;
}

static int s_list_policy_versions(struct drv *d)
{
  struct aws_iam_policy_page_req rq = { .policy_arn = d->id.policy_arn };

  return CALL(d, list_policy_versions, &d->xt, &rq, a_versions);
}

static int s_delete_policy_version(struct drv *d)
{
  struct aws_iam_policy_version_req rq = { d->id.policy_arn, "v1" };

  return CALL(d, delete_policy_version, &d->xt, &rq, NULL);
}

static int s_delete_policy(struct drv *d)
{
  struct aws_iam_policy_req rq = { d->id.policy_arn };

  return CALL(d, delete_policy, &d->xt, &rq, NULL);
}

/* ---- Support
 * ----------------------------------------------------------------- */

static int a_case(struct drv *d, const void *res)
{
  const struct aws_create_case_result *r = res;

  return copy_id(d->id.case_id, sizeof(d->id.case_id), r->case_id);
}

static int s_create_case(struct drv *d)
{
  struct aws_create_case_req rq = {
    .subject = "Add account to Enterprise Support",
    .communication_body = "Please add this account to Enterprise Support.",
    .service_code = "customer-account",
    .severity_code = "urgent",
    .category_code = "other-account-issues",
    .language = "en",
    .issue_type = "customer-service"
  };

  return CALL(d, create_case, &d->xt, &rq, a_case);
}

static int a_cases(struct drv *d, const void *res)
{
  const struct aws_describe_cases_result *r = res;

  return r->n == 1 && str_eq(r->v[0].case_id, d->id.case_id) ? 0 : OP_EPARSE;
}

static int s_describe_cases(struct drv *d)
{
  const char *ids[] = { d->id.case_id };
  struct aws_describe_cases_req rq = { ids, 1, true, NULL };

  return CALL(d, describe_cases, &d->xt, &rq, a_cases);
}

/* ---- EC2 (region initialization) -------------------------------------------
 */

static int s_describe_regions(struct drv *d)
{
  struct aws_describe_regions_req rq = { .all_regions = true };

  return CALL(d, describe_regions, &d->xt, &rq, NULL);
}

static int a_images(struct drv *d, const void *res)
{
  const struct aws_ec2_images_result *r = res;

  return r->n ? copy_id(d->id.image, sizeof(d->id.image), r->v[0].image_id)
              : OP_ENOTFOUND;
}

static int s_describe_images(struct drv *d)
{
  static const char *const owners[] = { EC2_OWNER };
  static const char *const arch[] = { "x86_64" };
  static const struct aws_ec2_filter f[] = { { "architecture", arch, 1 } };
  struct aws_describe_images_req rq = { .owners = owners,
                                        .nowners = 1,
                                        .filters = { f, 1 } };

  return CALL(d, describe_images, &d->xt, &rq, a_images);
}

static int s_describe_instance_types(struct drv *d)
{
  static const char *const types[] = { "t3.micro" };
  struct aws_describe_instance_types_req rq = { types, 1, { 0 }, NULL };

  return CALL(d, describe_instance_types, &d->xt, &rq, NULL);
}

static int a_run(struct drv *d, const void *res)
{
  const struct aws_ec2_instances_result *r = res;

  return r->n == 1 ? copy_id(d->id.instance, sizeof(d->id.instance),
                             r->v[0].instance_id)
                   : OP_EPARSE;
}

static int s_run_instances(struct drv *d)
{
  static const struct aws_tag tags[] = { { "Name", "aint-region-init" } };
  static const struct aws_ec2_tag_spec ts[] = { { "instance", tags, 1 } };
  struct aws_run_instances_req rq = { .image_id = d->id.image,
                                      .instance_type = "t3.micro",
                                      .min_count = 1,
                                      .max_count = 1,
                                      .tag_specs = ts,
                                      .ntag_specs = 1,
                                      .device_name = "/dev/sda1",
                                      .volume_size_gib = 10,
                                      .volume_type = "gp2",
                                      .delete_on_termination = false };

  return CALL(d, run_instances, &d->xt, &rq, a_run);
}

/* Poll until the instance reaches `want` (running, terminated). */
static int instance_in(struct drv *d, const struct aws_ec2_instances_result *r,
                       const char *want)
{
  if (r->n != 1)
    return OP_EPARSE;
  if (!str_eq(r->v[0].state_name, want))
    d->repeat_ms = d->o.poll_ms;
  return 0;
}

static int a_running(struct drv *d, const void *res)
{
  return instance_in(d, res, "running");
}

static int a_terminated(struct drv *d, const void *res)
{
  return instance_in(d, res, "terminated");
}

static int describe_instance(struct drv *d, after_fn aft)
{
  const char *ids[] = { d->id.instance };
  struct aws_describe_instances_req rq = { .instance_ids = ids,
                                           .ninstance_ids = 1 };

  return CALL(d, describe_instances, &d->xt, &rq, aft);
}

static int s_wait_running(struct drv *d)
{
  return describe_instance(d, a_running);
}

static int s_wait_terminated(struct drv *d)
{
  return describe_instance(d, a_terminated);
}

static int a_status(struct drv *d, const void *res)
{
  const struct aws_ec2_instance_states_result *r = res;

  return r->n == 1 && str_eq(r->v[0].instance_id, d->id.instance) ? 0
                                                                  : OP_EPARSE;
}

static int s_instance_status(struct drv *d)
{
  const char *ids[] = { d->id.instance };
  struct aws_describe_instance_status_req rq = { ids, 1, true, NULL };

  return CALL(d, describe_instance_status, &d->xt, &rq, a_status);
}

static int s_terminate(struct drv *d)
{
  const char *ids[] = { d->id.instance };
  struct aws_ec2_instance_ids_req rq = { ids, 1, false };

  return CALL(d, terminate_instances, &d->xt, &rq, NULL);
}

static int a_volumes(struct drv *d, const void *res)
{
  const struct aws_ec2_ids_result *r = res;

  return r->ids.n == 1
             ? copy_id(d->id.volume, sizeof(d->id.volume), r->ids.v[0])
             : OP_EPARSE;
}

static int s_describe_volumes(struct drv *d)
{
  static const char *const avail[] = { "available" };
  static const struct aws_ec2_filter f[] = { { "status", avail, 1 } };
  struct aws_ec2_page_req rq = { .filters = { f, 1 } };

  return CALL(d, describe_volumes, &d->xt, &rq, a_volumes);
}

static int r_snapshot(struct drv *d, const char *body, size_t len)
{
  return xml_pick(body, len, "snapshotId", d->id.snapshot,
                  sizeof(d->id.snapshot));
}

static int s_seed_snapshot(struct drv *d)
{
  char body[256];

  str_fmt(body, sizeof(body),
          "Action=CreateSnapshot&Version=2016-11-15&VolumeId=%s", d->id.volume);
  return ec2_raw(d, "CreateSnapshot", body, r_snapshot);
}

static int a_snapshots(struct drv *d, const void *res)
{
  const struct aws_ec2_ids_result *r = res;

  return r->ids.n == 1 && str_eq(r->ids.v[0], d->id.snapshot) ? 0 : OP_EPARSE;
}

static int s_describe_snapshots(struct drv *d)
{
  static const char *const self[] = { "self" };
  struct aws_ec2_page_req rq = { .owner_ids = self, .nowner_ids = 1 };

  return CALL(d, describe_snapshots, &d->xt, &rq, a_snapshots);
}

static int s_delete_snapshot(struct drv *d)
{
  struct aws_ec2_snapshot_req rq = { d->id.snapshot };

  return CALL(d, delete_snapshot, &d->xt, &rq, NULL);
}

static int s_delete_volume(struct drv *d)
{
  struct aws_ec2_volume_req rq = { d->id.volume };

  return CALL(d, delete_volume, &d->xt, &rq, NULL);
}

static int r_vpce(struct drv *d, const char *body, size_t len)
{
  return xml_pick(body, len, "serviceConfiguration/serviceId", d->id.vpce,
                  sizeof(d->id.vpce));
}

static int s_seed_vpce(struct drv *d)
{
  return ec2_raw(d, "CreateVpcEndpointServiceConfiguration",
                 "Action=CreateVpcEndpointServiceConfiguration"
                 "&Version=2016-11-15&AcceptanceRequired=false",
                 r_vpce);
}

static int a_vpce(struct drv *d, const void *res)
{
  const struct aws_ec2_ids_result *r = res;

  return r->ids.n == 1 && str_eq(r->ids.v[0], d->id.vpce) ? 0 : OP_EPARSE;
}

static int s_describe_vpce(struct drv *d)
{
  struct aws_ec2_service_ids_req rq = { 0 };

  return CALL(d, describe_vpc_endpoint_service_configurations, &d->xt, &rq,
              a_vpce);
}

static int a_vpce_deleted(struct drv *d, const void *res)
{
  const struct aws_ec2_unsuccessful_result *r = res;

  return r->n == 0 ? 0 : OP_EPARSE;
}

static int s_delete_vpce(struct drv *d)
{
  const char *ids[] = { d->id.vpce };
  struct aws_ec2_service_ids_req rq = { ids, 1, NULL };

  return CALL(d, delete_vpc_endpoint_service_configurations, &d->xt, &rq,
              a_vpce_deleted);
}

/* ---- Service Quotas and Account --------------------------------------------
 */

static int s_get_quota(struct drv *d)
{
  struct aws_quota_req rq = { QUOTA_SVC, QUOTA_CODE };

  return CALL(d, get_service_quota, &d->xt, &rq, NULL);
}

static int s_request_quota(struct drv *d)
{
  struct aws_quota_increase_req rq = { QUOTA_SVC, QUOTA_CODE, 64 };

  return CALL(d, request_service_quota_increase, &d->xt, &rq, NULL);
}

static int a_quota_history(struct drv *d, const void *res)
{
  const struct aws_quota_changes_result *r = res;

  return r->n >= 1 ? 0 : OP_EPARSE;
}

static int s_quota_history(struct drv *d)
{
  struct aws_quota_history_req rq = { QUOTA_SVC, QUOTA_CODE, NULL, NULL };

  return CALL(d, list_quota_change_history_by_quota, &d->xt, &rq,
              a_quota_history);
}

static int s_region_opt(struct drv *d)
{
  struct aws_region_opt_req rq = { OPT_REGION, d->id.acct };

  return CALL(d, get_region_opt_status, &d->mt, &rq, NULL);
}

static int s_enable_region(struct drv *d)
{
  struct aws_region_opt_req rq = { OPT_REGION, d->id.acct };

  return CALL(d, enable_region, &d->mt, &rq, NULL);
}

/* ---- S3
 * ---------------------------------------------------------------------- */

static int s_create_bucket(struct drv *d)
{
  struct aws_create_bucket_req rq = { d->id.bucket, NULL };

  str_fmt(d->id.bucket, sizeof(d->id.bucket), "aint-%s-logs", d->id.acct);
  return CALL(d, create_bucket, &d->xt, &rq, NULL);
}

static int s_put_object(struct drv *d)
{
  static const char body[] = "region init log\n";
  struct aws_put_object_req rq = { d->id.bucket, "logs/init.txt", body,
                                   sizeof(body) - 1 };

  return CALL(d, put_object, &d->xt, &rq, NULL);
}

static int s_list_buckets(struct drv *d)
{
  struct aws_s3_none_req rq = { 0 };

  return CALL(d, list_buckets, &d->xt, &rq, NULL);
}

static int a_objects(struct drv *d, const void *res)
{
  const struct aws_s3_objects_result *r = res;

  return r->n == 1 && str_eq(r->v[0].key, "logs/init.txt") ? 0 : OP_EPARSE;
}

static int s_list_objects(struct drv *d)
{
  struct aws_list_objects_req rq = { .bucket = d->id.bucket,
                                     .prefix = "logs/" };

  return CALL(d, list_objects_v2, &d->xt, &rq, a_objects);
}

static int a_deleted(struct drv *d, const void *res)
{
  const struct aws_s3_delete_result *r = res;

  return r->nerrors == 0 ? 0 : OP_EPARSE;
}

static int s_delete_objects(struct drv *d)
{
  static const char *const keys[] = { "logs/init.txt" };
  struct aws_delete_objects_req rq = { d->id.bucket, keys, 1, false };

  return CALL(d, delete_objects, &d->xt, &rq, a_deleted);
}

static int s_delete_bucket(struct drv *d)
{
  struct aws_s3_bucket_req rq = { d->id.bucket };

  return CALL(d, delete_bucket, &d->xt, &rq, NULL);
}

/* ---- Route 53 --------------------------------------------------------------
 */

#define ZONE_NAME "aint.example.com."
#define RECORD_NAME "api.aint.example.com."

static int a_create_zone(struct drv *d, const void *res)
{
  const struct aws_r53_zone_result *r = res;

  return copy_id(d->id.zone, sizeof(d->id.zone), r->zone.id);
}

static int s_create_zone(struct drv *d)
{
  char ref[64];
  struct aws_r53_create_zone_req rq = { ZONE_NAME, ref, "aws_driver" };

  str_fmt(ref, sizeof(ref), "aint-%s", d->id.acct);
  return CALL(d, create_hosted_zone, &d->xt, &rq, a_create_zone);
}

static int a_zones(struct drv *d, const void *res)
{
  const struct aws_r53_zones_result *r = res;
  size_t i;

  for (i = 0; i < r->n; i++)
    if (str_eq(r->v[i].id, d->id.zone))
      return 0;
  return OP_ENOTFOUND;
}

static int s_list_zones(struct drv *d)
{
  struct aws_r53_page_req rq = { 0 };

  return CALL(d, list_hosted_zones, &d->xt, &rq, a_zones);
}

static int change_record(struct drv *d, const char *action)
{
  static char *const values[] = { (char *)"192.0.2.10" };
  struct aws_r53_rrset rs = { .name = (char *)RECORD_NAME,
                              .type = (char *)"A",
                              .ttl = 300,
                              .records = { (char **)values, 1 },
                              .weight = -1 };
  struct aws_r53_change ch = { action, &rs };
  struct aws_r53_change_req rq = { d->id.zone, "aws_driver", &ch, 1 };

  return CALL(d, change_resource_record_sets, &d->xt, &rq, NULL);
}

static int s_create_record(struct drv *d)
{
  return change_record(d, "CREATE");
}

static int s_delete_record(struct drv *d)
{
  return change_record(d, "DELETE");
}

/* The record round-trips: name, type, TTL and value as written. */
static int a_rrsets(struct drv *d, const void *res)
{
  const struct aws_r53_rrsets_result *r = res;
  size_t i;

  for (i = 0; i < r->n; i++)
    if (str_eq(r->v[i].name, RECORD_NAME) && str_eq(r->v[i].type, "A"))
      return r->v[i].ttl == 300 && r->v[i].records.n == 1 &&
                     str_eq(r->v[i].records.v[0], "192.0.2.10")
                 ? 0
                 : OP_EPARSE;
  return OP_ENOTFOUND;
}

static int s_list_rrsets(struct drv *d)
{
  struct aws_r53_rrsets_req rq = { .hosted_zone_id = d->id.zone };

  return CALL(d, list_resource_record_sets, &d->xt, &rq, a_rrsets);
}

static int s_delete_zone(struct drv *d)
{
  struct aws_r53_zone_req rq = { d->id.zone };

  return CALL(d, delete_hosted_zone, &d->xt, &rq, NULL);
}

/* The order the operator follows for one account, from creation to
 * closing (reference/upstream-behaviour.md section 2). */
static const step_fn all_ops[] = {
  /* operator start-up: who am I, which organization */
  s_describe_org,
  s_caller_identity,
  s_federation_token,
  /* Account: create, wait, find it in the organization */
  s_create_account,
  s_describe_car,
  s_list_car,
  s_list_accounts,
  s_describe_account,
  s_list_parents,
  s_list_children,
  /* OptingInRegions */
  s_region_opt,
  s_enable_region,
  /* IAM bootstrap through OrganizationAccountAccessRole */
  s_assume_role,
  s_member_identity,
  s_create_user,
  s_get_user,
  s_list_users,
  s_tag_user,
  s_list_user_tags,
  s_attach_user_policy,
  s_list_attached_user,
  s_create_access_key,
  s_user_identity,
  s_list_access_keys,
  s_create_role,
  s_get_role,
  s_list_roles,
  s_tag_role,
  s_list_role_tags,
  s_assume_web,
  s_attach_role_policy,
  s_list_attached_role,
  s_put_role_policy,
  s_list_role_policies,
  s_create_policy,
  s_get_policy,
  s_list_policies,
  s_create_policy_version,
  s_get_policy_version,
  s_list_policy_versions,
  /* InitializingRegions */
  s_describe_regions,
  s_describe_images,
  s_describe_instance_types,
  s_run_instances,
  s_instance_status,
  s_wait_running,
  s_terminate,
  s_wait_terminated,
  /* PendingVerification: support case and quotas */
  s_create_case,
  s_describe_cases,
  s_get_quota,
  s_request_quota,
  s_quota_history,
  /* claim: OU placement and tags */
  s_create_ou,
  s_list_ous,
  s_move_account,
  s_org_tag,
  s_org_list_tags,
  s_org_untag,
  /* claim deleted: clean the account */
  s_describe_volumes,
  s_seed_snapshot,
  s_describe_snapshots,
  s_delete_snapshot,
  s_delete_volume,
  s_seed_vpce,
  s_describe_vpce,
  s_delete_vpce,
  s_create_bucket,
  s_put_object,
  s_list_buckets,
  s_list_objects,
  s_delete_objects,
  s_delete_bucket,
  s_create_zone,
  s_list_zones,
  s_create_record,
  s_list_rrsets,
  s_delete_record,
  s_delete_zone,
  s_delete_access_key,
  s_detach_user_policy,
  s_delete_user,
  s_delete_role_policy,
  s_detach_role_policy,
  s_delete_role,
  s_delete_policy_version,
  s_delete_policy,
  /* and close it */
  s_close_account,
};

/* ---- create-burst
 * ------------------------------------------------------------ */

static void burst_poll(uv_timer_t *t);

static void burst_end(struct burst *b, const char *state, const char *acct)
{
  struct drv *d = b->d;
  json_t *o = json_pack("{s:s,s:i,s:s,s:s}", "burst", "done", "i", b->i,
                        "state", state, "account", acct ? acct : "");

  if (b->slot)
    aws_create_slot_release(b->slot);
  b->slot = NULL;
  print_json(o);
  if (!str_eq(state, "SUCCEEDED"))
    d->exit_code = 1;
  if (++d->bursts_done == d->o.n)
    finish(d);
}

static void burst_status(int err, const struct aws_error *aerr,
                         const struct aws_car_status_result *r, void *arg)
{
  struct burst *b = arg;

  if (b->d->finishing)
    return;
  b->d->calls++;
  if (err) {
    emit(b->d, "DescribeCreateAccountStatus", "organizations", err, aerr,
         false);
    burst_end(b, "ERROR", NULL);
  } else if (str_eq(r->status.state, "IN_PROGRESS") && ++b->polls < MAX_POLLS) {
    uv_timer_start(&b->timer, burst_poll, b->d->o.poll_ms, 0);
  } else {
    burst_end(b, r->status.state ? r->status.state : "?", r->status.account_id);
  }
}

static void burst_poll(uv_timer_t *t)
{
  struct burst *b = t->data;
  struct aws_describe_car_status_req rq = { b->car };
  int rc = b->d->api->describe_create_account_status(b->d->api, &b->d->mt, &rq,
                                                     burst_status, b);

  if (rc)
    burst_end(b, "ERROR", NULL);
}

static void burst_created(int err, const struct aws_error *aerr,
                          const struct aws_car_status_result *r, void *arg)
{
  struct burst *b = arg;

  if (b->d->finishing)
    return;
  emit(b->d, "CreateAccount", "organizations", err, aerr, false);
  if (err || copy_id(b->car, sizeof(b->car), r->status.id)) {
    burst_end(b, "ERROR", NULL);
    return;
  }
  uv_timer_start(&b->timer, burst_poll, b->d->o.poll_ms, 0);
}

static void burst_slot(int err, struct aws_create_slot *slot, void *arg)
{
  struct burst *b = arg;
  struct drv *d = b->d;
  char email[128], name[64];
  struct aws_create_account_req rq = { email, name, NULL, NULL, NULL, 0 };
  unsigned used = aws_create_slots_in_use(d->c);

  if (err || d->finishing)
    return;
  b->slot = slot;
  if (used > d->peak_slots)
    d->peak_slots = used;
  str_fmt(email, sizeof(email), "burst-%ld-%d@aint.example.com", (long)getpid(),
          b->i);
  str_fmt(name, sizeof(name), "burst-%d", b->i);
  d->t_call = time_mono_ms();
  if (d->api->create_account(d->api, &d->mt, &rq, burst_created, b))
    burst_end(b, "ERROR", NULL);
}

static int start_burst(struct drv *d)
{
  int i;

  d->bursts = util_xcalloc((size_t)d->o.n, sizeof(*d->bursts));
  for (i = 0; i < d->o.n; i++) {
    struct burst *b = &d->bursts[i];

    b->d = d;
    b->i = i;
    uv_timer_init(&d->loop, &b->timer);
    b->timer.data = b;
  }
  for (i = 0; i < d->o.n; i++) {
    struct aws_create_slot *s;
    int rc = aws_create_slot_acquire(d->c, burst_slot, &d->bursts[i], &s);

    if (rc)
      return rc;
  }
  return 0;
}

/* ---- throttled
 * ------------------------------------------------------------------ */

static void on_attempt(void *arg, const struct aws_call *call, unsigned attempt)
{
  struct drv *d = arg;
  size_t i;

  d->attempts++;
  if (attempt > 1)
    d->retries++;
  for (i = 0; i < NSVC; i++) {
    struct svc_sends *s = &d->sends[i];

    if (!str_eq(s->name, call->service))
      continue;
    if (s->n == s->cap) {
      s->cap = s->cap ? 2 * s->cap : 64;
      s->t = util_xrealloc(s->t, s->cap * sizeof(*s->t));
    }
    s->t[s->n++] = time_mono_ms();
  }
}

static int start_throttled(struct drv *d)
{
  static const struct aws_sts_none_req sts = { 0 };
  static const struct aws_iam_list_req iam = { 0 };
  static const struct aws_org_page_req org = { 0 };
  static const struct aws_describe_regions_req ec2 = { 0 };
  int i, rc = 0;

  d->t_call = time_mono_ms();
  for (i = 0; i < d->o.n && rc == 0; i++) {
    switch (i % NSVC) {
    case 0:
      rc = d->api->get_caller_identity(d->api, &d->mt, &sts,
                                       on_get_caller_identity, d);
      break;
    case 1:
      rc = d->api->list_users(d->api, &d->mt, &iam, on_list_users, d);
      break;
    case 2:
      rc = d->api->list_accounts(d->api, &d->mt, &org, on_list_accounts, d);
      break;
    default:
      rc = d->api->describe_regions(d->api, &d->mt, &ec2, on_describe_regions,
                                    d);
    }
  }
  return rc;
}

/* Most sends in any window of win_ms (two pointers over sorted times). */
static size_t max_in_window(const struct svc_sends *s, uint64_t win_ms)
{
  size_t lo = 0, hi, best = 0;

  for (hi = 0; hi < s->n; hi++) {
    while (s->t[hi] - s->t[lo] >= win_ms)
      lo++;
    if (hi - lo + 1 > best)
      best = hi - lo + 1;
  }
  return best;
}

static json_t *sends_json(const struct drv *d)
{
  json_t *o = json_object();
  size_t i;

  for (i = 0; i < NSVC; i++) {
    const struct svc_sends *s = &d->sends[i];
    double span = s->n > 1 ? (double)(s->t[s->n - 1] - s->t[0]) / 1000.0 : 0;

    json_object_set_new(
        o, s->name,
        json_pack("{s:I,s:f,s:f,s:I}", "sends", (json_int_t)s->n, "span_s",
                  span, "rate", span > 0 ? (double)(s->n - 1) / span : 0.0,
                  "max_in_1s", (json_int_t)max_in_window(s, 1000)));
  }
  return o;
}

/* Sum of a counter family's series in the rendered registry. */
static double metric_sum(struct met_registry *r, const char *name)
{
  struct buf b;
  const char *p;
  double sum = 0;
  size_t n = strlen(name);

  buf_init(&b, (size_t)1 << 20);
  met_render(r, &b);
  for (p = buf_str(&b); p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    const char *sp;

    if (strncmp(p, name, n) != 0 || p[n] != '{')
      continue;
    sp = strchr(p, ' ');
    if (sp)
      sum += strtod(sp + 1, NULL);
  }
  buf_cleanup(&b);
  return sum;
}

/* ---- bad-secret / unknown-key
 * ------------------------------------------------ */

#define AUTH_CALLS 6

static int start_auth(struct drv *d)
{
  static const struct aws_sts_none_req sts = { 0 };
  static const struct aws_org_none_req org = { 0 };
  static const struct aws_iam_list_req iam = { 0 };
  static const struct aws_describe_regions_req ec2 = { 0 };
  static const struct aws_region_opt_req acct = { "us-east-1", NULL };
  static const struct aws_s3_none_req s3 = { 0 };
  int rc;

  d->t_call = time_mono_ms();
  rc = d->api->get_caller_identity(d->api, &d->mt, &sts, on_get_caller_identity,
                                   d);
  if (!rc)
    rc = d->api->describe_organization(d->api, &d->mt, &org,
                                       on_describe_organization, d);
  if (!rc)
    rc = d->api->list_users(d->api, &d->mt, &iam, on_list_users, d);
  if (!rc)
    rc = d->api->describe_regions(d->api, &d->mt, &ec2, on_describe_regions, d);
  if (!rc)
    rc = d->api->get_region_opt_status(d->api, &d->mt, &acct,
                                       on_get_region_opt_status, d);
  if (!rc)
    rc = d->api->list_buckets(d->api, &d->mt, &s3, on_list_buckets, d);
  return rc;
}

/* ---- set-up, summary, teardown
 * ------------------------------------------------ */

static void http_closed(void *arg)
{
  (void)arg;
}

static void client_closed(void *arg)
{
  struct drv *d = arg;

  httpc_close(d->http, http_closed, d);
}

static void finish(struct drv *d)
{
  int i;

  if (d->finishing)
    return;
  d->finishing = true;
  uv_close((uv_handle_t *)&d->timer, NULL);
  for (i = 0; d->bursts && i < d->o.n; i++) {
    if (d->bursts[i].slot)
      aws_create_slot_release(d->bursts[i].slot);
    d->bursts[i].slot = NULL;
    uv_close((uv_handle_t *)&d->bursts[i].timer, NULL);
  }
  aws_client_close(d->c, client_closed, d);
}

static void print_summary(struct drv *d)
{
  static const char *const names[] = { "all-ops", "create-burst", "throttled",
                                       "bad-secret", "unknown-key" };
  json_t *s = json_pack(
      "{s:s,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:i}", "mode", names[d->o.mode],
      "calls", d->calls, "ok", d->ok, "failed", d->failed, "auth", d->auth,
      "attempts", (json_int_t)d->attempts, "retries", (json_int_t)d->retries,
      "throttles",
      (json_int_t)metric_sum(d->met,
                             "aws_account_operator_api_throttles_total"),
      "peak_slots", (json_int_t)d->peak_slots, "bursts_done", d->bursts_done);
  double rate = d->o.rate > 0 ? d->o.rate : 10; /* the client's defaults */

  json_object_set_new(s, "sends", sends_json(d));
  json_object_set_new(s, "governor",
                      json_pack("{s:f,s:f,s:f}", "rate", rate, "burst",
                                d->o.burst > 0 ? d->o.burst : rate, "min_rate",
                                d->o.min_rate > 0 ? d->o.min_rate : 0.5));
  if (d->o.mode == M_ALL)
    json_object_set_new(s, "account", json_string(d->id.acct));
  print_json(json_pack("{s:o}", "summary", s));
}

/* Expectation of the mode, from the counters. */
static int verdict(const struct drv *d)
{
  switch (d->o.mode) {
  case M_ALL:
    return d->exit_code || d->failed || d->cur < d->nsteps;
  case M_BURST:
    return d->exit_code || d->bursts_done != d->o.n;
  case M_THROTTLED:
    return d->failed || d->calls != d->o.n;
  default:
    return d->auth != d->calls || d->calls != AUTH_CALLS;
  }
}

static int make_client(struct drv *d)
{
  struct aws_client_opts co = { .endpoint_url = d->o.endpoint,
                                .max_attempts = d->o.max_attempts,
                                .backoff_cap_ms = d->o.backoff_cap_ms,
                                .retry_tokens = d->o.retry_tokens,
                                .create_account_cap = d->o.cap,
                                .governor_rate = d->o.rate,
                                .governor_min_rate = d->o.min_rate,
                                .governor_burst = d->o.burst,
                                .attempt_hook = on_attempt,
                                .attempt_hook_arg = d };
  int rc;

  d->met = met_registry_new();
  co.metrics = d->met;
  rc = httpc_new(&d->loop, NULL, &d->http);
  if (rc == 0)
    rc = aws_client_new(&d->loop, d->http, &co, &d->c);
  if (rc == 0)
    d->api = aws_api_real_new(d->c);
  return rc;
}

static int parse_num(const char *s, double *out)
{
  char *end;

  *out = strtod(s, &end);
  return end != s && *end == '\0' && *out >= 0 ? 0 : OP_EINVAL;
}

static int parse_flag(struct opts *o, const char *name, const char *v)
{
  static const char *const names[] = {
    "--rate",           "--burst",        "--min-rate", "--max-attempts",
    "--backoff-cap-ms", "--retry-tokens", "--cap",      "--poll-ms"
  };
  double x;
  size_t i;

  if (str_eq(name, "--endpoint")) {
    o->endpoint = v;
    return 0;
  }
  if (str_eq(name, "--web-token")) {
    o->web_token = v;
    return 0;
  }
  for (i = 0; i < UTIL_ARRAY_SIZE(names) && !str_eq(name, names[i]); i++)
    ;
  if (i == UTIL_ARRAY_SIZE(names) || parse_num(v, &x))
    return OP_EINVAL;
  double *dbl[] = { &o->rate, &o->burst, &o->min_rate };
  if (i < 3)
    *dbl[i] = x;
  else if (i == 3)
    o->max_attempts = (unsigned)x;
  else if (i == 4)
    o->backoff_cap_ms = (uint64_t)x;
  else if (i == 5)
    o->retry_tokens = (unsigned)x;
  else if (i == 6)
    o->cap = (unsigned)x;
  else
    o->poll_ms = (uint64_t)x;
  return 0;
}

static int parse_mode(struct opts *o, const char *m)
{
  static const char *const names[] = { "all-ops", "create-burst", "throttled",
                                       "bad-secret", "unknown-key" };
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(names); i++)
    if (str_eq(m, names[i])) {
      o->mode = (enum mode)i;
      return 0;
    }
  return OP_EINVAL;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
  int i = 2;
  double n = 0;

  o->poll_ms = 200;
  o->endpoint = getenv("AWS_ENDPOINT_URL");
  if (argc < 2 || parse_mode(o, argv[1]))
    return OP_EINVAL;
  if (o->mode == M_BURST || o->mode == M_THROTTLED) {
    if (argc < 3 || parse_num(argv[2], &n) || n < 1)
      return OP_EINVAL;
    o->n = (int)n;
    i = 3;
  }
  if (o->mode == M_BAD_SECRET || o->mode == M_UNKNOWN_KEY)
    o->n = AUTH_CALLS;
  for (; i + 1 < argc; i += 2)
    if (parse_flag(o, argv[i], argv[i + 1]))
      return OP_EINVAL;
  return i == argc && !str_empty(o->endpoint) ? 0 : OP_EINVAL;
}

/* The operator's credentials from the environment, altered for the
 * bad-secret and unknown-key modes. */
static int make_creds(struct drv *d)
{
  const char *key = getenv("AWS_ACCESS_KEY_ID");
  const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
  char *s;

  if (str_empty(key) || str_empty(secret))
    return OP_ENOTFOUND;
  s = util_xstrdup(secret);
  if (d->o.mode == M_BAD_SECRET)
    s[strlen(s) - 1] = s[strlen(s) - 1] == 'x' ? 'y' : 'x';
  if (d->o.mode == M_UNKNOWN_KEY)
    key = "AKIAAINTUNKNOWN00000";
  d->mgmt = aws_creds_static_new(key, s, getenv("AWS_SESSION_TOKEN"));
  util_free_secret(s);
  d->mt.creds = d->mgmt;
  d->mt.controller = "aws_driver";
  return d->mgmt ? 0 : OP_EINVAL;
}

static int start_mode(struct drv *d)
{
  switch (d->o.mode) {
  case M_ALL:
    if (str_empty(d->o.web_token))
      return OP_EINVAL;
    str_fmt(d->id.email, sizeof(d->id.email), "aint-%ld-%lld@aint.example.com",
            (long)getpid(), (long long)time_wall_ms());
    d->steps = all_ops;
    d->nsteps = UTIL_ARRAY_SIZE(all_ops);
    run_steps(d);
    return 0;
  case M_BURST:
    return start_burst(d);
  case M_THROTTLED:
    return start_throttled(d);
  default:
    return start_auth(d);
  }
}

static void cleanup(struct drv *d)
{
  size_t i;

  aws_api_free(d->api);
  aws_creds_unref(d->mgmt);
  aws_creds_unref(d->member);
  aws_creds_unref(d->user);
  met_registry_free(d->met);
  for (i = 0; i < NSVC; i++)
    free(d->sends[i].t);
  free(d->bursts);
  if (uv_loop_close(&d->loop))
    fprintf(stderr, "aws_driver: handles left open\n");
}

int main(int argc, char **argv)
{
  static const char *const svcs[NSVC] = { "sts", "iam", "organizations",
                                          "ec2" };
  struct drv d;
  int rc, i;

  memset(&d, 0, sizeof(d));
  if (parse_args(&d.o, argc, argv)) {
    fprintf(stderr, "usage: aws_driver all-ops|create-burst N|throttled M|"
                    "bad-secret|unknown-key [--endpoint URL] [--web-token T] "
                    "[--rate R] [--burst B] [--min-rate R] [--max-attempts N] "
                    "[--backoff-cap-ms MS] [--retry-tokens N] [--cap N] "
                    "[--poll-ms MS]\n");
    return 2;
  }
  log_configure(getenv("AWS_DRIVER_LOG") ? getenv("AWS_DRIVER_LOG") : "warn",
                NULL);
  for (i = 0; i < NSVC; i++)
    d.sends[i].name = svcs[i];
  uv_loop_init(&d.loop);
  uv_timer_init(&d.loop, &d.timer);
  d.timer.data = &d;
  rc = make_client(&d);
  if (rc == 0)
    rc = make_creds(&d);
  if (rc == 0)
    rc = start_mode(&d);
  if (rc) {
    fprintf(stderr, "aws_driver: cannot start: %s\n", op_strerror(rc));
    d.exit_code = 1;
    finish(&d);
  }
  uv_run(&d.loop, UV_RUN_DEFAULT);
  print_summary(&d);
  rc = verdict(&d);
  cleanup(&d);
  return rc ? 1 : 0;
}
