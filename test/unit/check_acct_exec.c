/* The Account executor against a replacement struct aws_api and a fake
 * Kubernetes I/O seam: every pass performs the step's calls and stores
 * the observation; composites never split; the secret key never reaches
 * logs or events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "aws/core/creds.h"
#include "cache/store.h"
#include "controllers/account/exec.h"
#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "controllers/exec/metrics.h"
#include "controllers/exec/runner.h"
#include "controllers/runtime/ctrl.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "util/buf.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"
#include "workqueue/workqueue.h"

#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
#define NS "aws-account-operator"
#define KEY NS "/osd-creds-mgmt-abc123"

/* ---- deferred callbacks (the api/kio contract: later, from the loop) -- */

typedef void (*fire_fn)(void *cb, int err, const struct aws_error *ae,
                        void *res, void *arg);
struct pend {
  uv_timer_t t;
  fire_fn fire;
  void *cb, *res, *arg;
  void (*free_res)(void *);
  int err;
  struct aws_error ae;
};

static uv_loop_t *L;
static int in_flight;

static void pend_closed(uv_handle_t *h)
{
  free(h->data);
}

static void pend_run(uv_timer_t *t)
{
  struct pend *p = t->data;

  in_flight--;
  p->fire(p->cb, p->err, p->err ? &p->ae : NULL, p->err ? NULL : p->res,
          p->arg);
  if (p->free_res)
    p->free_res(p->res);
  uv_close((uv_handle_t *)&p->t, pend_closed);
}

static void defer(fire_fn f, void *cb, void *arg, void *res,
                  void (*free_res)(void *), int err, const char *code)
{
  struct pend *p = calloc(1, sizeof(*p));

  p->fire = f;
  p->cb = cb;
  p->arg = arg;
  p->res = res;
  p->free_res = free_res;
  p->err = err;
  if (code)
    str_copy(p->ae.code, code, sizeof(p->ae.code));
  uv_timer_init(L, &p->t);
  p->t.data = p;
  in_flight++;
  uv_timer_start(&p->t, pend_run, 0, 0);
}

/* ---- fake AWS --------------------------------------------------------- */

static char calls[8192];
static int n_create_account, n_create_key, n_delete_key;
static char create_owner_tag[64]; /* the last CreateAccount's owner tag */
static int n_gets;                /* Kubernetes GETs */
static const char *fail_op;       /* operation that fails */
static const char *fail_code;

static int note(const char *op)
{
  str_copy(calls + strlen(calls), " ", sizeof(calls) - strlen(calls));
  str_copy(calls + strlen(calls), op, sizeof(calls) - strlen(calls));
  return str_eq(op, fail_op) ? OP_EAWS : 0;
}

#define FIRE(res)                                                              \
  __attribute__((unused)) static void fire_##res(                              \
      void *cb, int err, const struct aws_error *ae, void *r, void *arg)       \
  {                                                                            \
    ((void (*)(int, const struct aws_error *, const struct aws_##res *,        \
               void *))cb)(err, ae, r, arg);                                   \
  }                                                                            \
  __attribute__((unused)) static void free_##res(void *r)                      \
  {                                                                            \
    aws_##res##_free(r);                                                       \
  }
AWS_API_RESULT_TYPES(FIRE)
#undef FIRE

#define REPLY(res, r)                                                          \
  do {                                                                         \
    int e_ = note(OPNAME);                                                     \
    defer(fire_##res, (void *)cb, arg, r, free_##res, e_,                      \
          e_ ? fail_code : NULL);                                              \
    return 0;                                                                  \
  } while (0)

static char policy_arns[512]; /* every Attach*Policy ARN */

static char *sdup(const char *s)
{
  return s ? strdup(s) : NULL;
}

#define OPNAME "CreateAccount"
static int f_create_account(struct aws_api *a, const struct aws_target *t,
                            const struct aws_create_account_req *rq,
                            aws_create_account_cb cb, void *arg)
{
  struct aws_car_status_result *r = calloc(1, sizeof(*r));

  n_create_account++;
  create_owner_tag[0] = 0;
  for (size_t i = 0; i < rq->ntags; i++)
    if (str_eq(rq->tags[i].key, "owner"))
      str_copy(create_owner_tag, rq->tags[i].value, sizeof(create_owner_tag));
  r->status.id = sdup("car-1234567890");
  r->status.state = sdup("IN_PROGRESS");
  r->status.account_name = sdup(rq->account_name);
  REPLY(car_status_result, r);
}
#undef OPNAME
#define OPNAME "DescribeCreateAccountStatus"
static int f_describe_car(struct aws_api *a, const struct aws_target *t,
                          const struct aws_describe_car_status_req *rq,
                          aws_describe_create_account_status_cb cb, void *arg)
{
  struct aws_car_status_result *r = calloc(1, sizeof(*r));

  r->status.id = sdup(rq->create_account_request_id);
  r->status.state = sdup("SUCCEEDED");
  r->status.account_id = sdup("111122223333");
  REPLY(car_status_result, r);
}
#undef OPNAME
#define OPNAME "ListCreateAccountStatus"
static int f_list_car(struct aws_api *a, const struct aws_target *t,
                      const struct aws_list_car_status_req *rq,
                      aws_list_create_account_status_cb cb, void *arg)
{
  REPLY(car_status_list_result,
        calloc(1, sizeof(struct aws_car_status_list_result)));
}
#undef OPNAME
#define OPNAME "ListAccounts"
static int f_list_accounts(struct aws_api *a, const struct aws_target *t,
                           const struct aws_org_page_req *rq,
                           aws_list_accounts_cb cb, void *arg)
{
  REPLY(org_accounts_result, calloc(1, sizeof(struct aws_org_accounts_result)));
}
#undef OPNAME
#define OPNAME "TagResource"
static int f_tag(struct aws_api *a, const struct aws_target *t,
                 const struct aws_org_tag_req *rq, aws_org_tag_resource_cb cb,
                 void *arg)
{
  REPLY(empty_result, calloc(1, sizeof(struct aws_empty_result)));
}
#undef OPNAME
#define OPNAME "GetCallerIdentity"
static int f_gci(struct aws_api *a, const struct aws_target *t,
                 const struct aws_sts_none_req *rq,
                 aws_get_caller_identity_cb cb, void *arg)
{
  struct aws_caller_identity_result *r = calloc(1, sizeof(*r));

  r->arn = sdup("arn:aws:iam::123456789012:user/operator");
  REPLY(caller_identity_result, r);
}
#undef OPNAME
#define OPNAME "GetRole"
static int f_get_role(struct aws_api *a, const struct aws_target *t,
                      const struct aws_iam_role_req *rq, aws_get_role_cb cb,
                      void *arg)
{
  note(OPNAME);
  defer(fire_iam_role_result, (void *)cb, arg, NULL, NULL, OP_ENOTFOUND,
        "NoSuchEntity");
  return 0;
}
#undef OPNAME
#define OPNAME "CreateRole"
static int f_create_role(struct aws_api *a, const struct aws_target *t,
                         const struct aws_create_role_req *rq,
                         aws_create_role_cb cb, void *arg)
{
  ck_assert_ptr_nonnull(strstr(rq->assume_role_policy_document,
                               "arn:aws:iam::123456789012:user/operator"));
  REPLY(iam_role_result, calloc(1, sizeof(struct aws_iam_role_result)));
}
#undef OPNAME
#define OPNAME "AttachRolePolicy"
static int f_attach_role(struct aws_api *a, const struct aws_target *t,
                         const struct aws_iam_role_policy_req *rq,
                         aws_attach_role_policy_cb cb, void *arg)
{
  str_fmt(policy_arns + strlen(policy_arns),
          sizeof(policy_arns) - strlen(policy_arns), "%s ", rq->policy_arn);
  REPLY(empty_result, calloc(1, sizeof(struct aws_empty_result)));
}
#undef OPNAME
#define OPNAME "GetUser"
static int f_get_user(struct aws_api *a, const struct aws_target *t,
                      const struct aws_iam_user_req *rq, aws_get_user_cb cb,
                      void *arg)
{
  note(OPNAME);
  defer(fire_iam_user_result, (void *)cb, arg, NULL, NULL, OP_ENOTFOUND,
        "NoSuchEntity");
  return 0;
}
#undef OPNAME
#define OPNAME "CreateUser"
static int f_create_user(struct aws_api *a, const struct aws_target *t,
                         const struct aws_create_user_req *rq,
                         aws_create_user_cb cb, void *arg)
{
  REPLY(iam_user_result, calloc(1, sizeof(struct aws_iam_user_result)));
}
#undef OPNAME
#define OPNAME "AttachUserPolicy"
static int f_attach_user(struct aws_api *a, const struct aws_target *t,
                         const struct aws_iam_user_policy_req *rq,
                         aws_attach_user_policy_cb cb, void *arg)
{
  str_fmt(policy_arns + strlen(policy_arns),
          sizeof(policy_arns) - strlen(policy_arns), "%s ", rq->policy_arn);
  REPLY(empty_result, calloc(1, sizeof(struct aws_empty_result)));
}
#undef OPNAME
#define OPNAME "ListAccessKeys"
static int f_list_keys(struct aws_api *a, const struct aws_target *t,
                       const struct aws_iam_user_page_req *rq,
                       aws_list_access_keys_cb cb, void *arg)
{
  struct aws_iam_access_keys_result *r = calloc(1, sizeof(*r));

  r->n = 1;
  r->v = calloc(1, sizeof(*r->v));
  r->v[0].access_key_id = sdup("AKIAOLDKEY");
  REPLY(iam_access_keys_result, r);
}
#undef OPNAME
#define OPNAME "DeleteAccessKey"
static char deleted_keys[512]; /* "id " per DeleteAccessKey */
static int f_delete_key(struct aws_api *a, const struct aws_target *t,
                        const struct aws_iam_delete_access_key_req *rq,
                        aws_delete_access_key_cb cb, void *arg)
{
  n_delete_key++;
  str_fmt(deleted_keys + strlen(deleted_keys),
          sizeof(deleted_keys) - strlen(deleted_keys), "%s ",
          rq->access_key_id);
  REPLY(empty_result, calloc(1, sizeof(struct aws_empty_result)));
}
#undef OPNAME
#define OPNAME "CreateAccessKey"
static int f_create_key(struct aws_api *a, const struct aws_target *t,
                        const struct aws_iam_user_req *rq,
                        aws_create_access_key_cb cb, void *arg)
{
  struct aws_iam_access_key_result *r = calloc(1, sizeof(*r));
  char id[32];

  /* every key a new id: AKIANEWKEY, then AKIAROT2, AKIAROT3, ... */
  if (++n_create_key == 1)
    str_copy(id, "AKIANEWKEY", sizeof(id));
  else
    str_fmt(id, sizeof(id), "AKIAROT%d", n_create_key);
  r->key.access_key_id = sdup(id);
  r->key.secret_access_key = sdup(SECRET_KEY);
  REPLY(iam_access_key_result, r);
}
#undef OPNAME
#define OPNAME "DescribeRegions"
static int f_regions(struct aws_api *a, const struct aws_target *t,
                     const struct aws_describe_regions_req *rq,
                     aws_describe_regions_cb cb, void *arg)
{
  struct aws_ec2_regions_result *r = calloc(1, sizeof(*r));

  r->n = 2;
  r->v = calloc(2, sizeof(*r->v));
  r->v[0].region_name = sdup("us-east-1");
  r->v[1].region_name = sdup("eu-west-1");
  REPLY(ec2_regions_result, r);
}
#undef OPNAME
#define OPNAME "DescribeInstances"
/* Regions with an init instance still alive (launched, not terminated),
 * as DescribeInstances reports them when report_live is set. */
static char live_regions[256];
static bool report_live;
static int f_instances(struct aws_api *a, const struct aws_target *t,
                       const struct aws_describe_instances_req *rq,
                       aws_describe_instances_cb cb, void *arg)
{
  static const char *const keys[] = { "clusterAccountName", "clusterNamespace",
                                      "clusterClaimLink",
                                      "clusterClaimLinkNamespace" };
  struct aws_ec2_instances_result *r = calloc(1, sizeof(*r));
  char needle[64];

  str_fmt(needle, sizeof(needle), "%s ", t->region);
  ck_assert_str_eq(rq->filters.v[0].values[0], "pending");
  if (report_live && strstr(live_regions, needle)) {
    r->n = 1;
    r->v = calloc(1, sizeof(*r->v));
    r->v[0].instance_id = sdup("i-0123456789");
    r->v[0].tags = calloc(4, sizeof(*r->v[0].tags));
    r->v[0].ntags = 4;
    for (int k = 0; k < 4; k++) {
      r->v[0].tags[k].key = sdup(keys[k]);
      r->v[0].tags[k].value = sdup("x");
    }
  }
  REPLY(ec2_instances_result, r);
}
#undef OPNAME
#define OPNAME "DescribeImages"
static int f_images(struct aws_api *a, const struct aws_target *t,
                    const struct aws_describe_images_req *rq,
                    aws_describe_images_cb cb, void *arg)
{
  struct aws_ec2_images_result *r = calloc(1, sizeof(*r));

  r->n = 2;
  r->v = calloc(2, sizeof(*r->v));
  r->v[0].image_id = sdup("ami-sap");
  r->v[0].name = sdup("RHEL-SAP-8");
  r->v[1].image_id = sdup("ami-good");
  r->v[1].name = sdup("RHEL-8");
  REPLY(ec2_images_result, r);
}
#undef OPNAME
#define OPNAME "DescribeInstanceTypes"
/* Regions without t3.micro answer with an empty list, or with EC2's
 * InvalidInstanceType error when no_t3_error is set. */
static const char *no_t3_region;
static bool no_t3_error;
static char run_types[256]; /* "region=type " per RunInstances */

static int f_types(struct aws_api *a, const struct aws_target *t,
                   const struct aws_describe_instance_types_req *rq,
                   aws_describe_instance_types_cb cb, void *arg)
{
  struct aws_ec2_ids_result *r = calloc(1, sizeof(*r));
  bool none = str_eq(t->region, no_t3_region);

  ck_assert_uint_eq(rq->ninstance_types, 1);
  ck_assert_str_eq(rq->instance_types[0], "t3.micro");
  if (none && no_t3_error) {
    note(OPNAME);
    free(r);
    defer(fire_ec2_ids_result, (void *)cb, arg, NULL, NULL, OP_EAWS,
          "InvalidInstanceType");
    return 0;
  }
  if (!none) {
    r->ids.n = 1;
    r->ids.v = calloc(1, sizeof(char *));
    r->ids.v[0] = sdup("t3.micro");
  }
  REPLY(ec2_ids_result, r);
}
#undef OPNAME
#define OPNAME "GetServiceQuota"
static char quota_regions[256]; /* "code@region " per GetServiceQuota */
static int f_get_quota(struct aws_api *a, const struct aws_target *t,
                       const struct aws_quota_req *rq,
                       aws_get_service_quota_cb cb, void *arg)
{
  struct aws_service_quota_result *r = calloc(1, sizeof(*r));

  str_fmt(quota_regions + strlen(quota_regions),
          sizeof(quota_regions) - strlen(quota_regions), "%s@%s ",
          rq->quota_code, t->region ? t->region : "(default)");
  r->has_value = true;
  r->value = 100000; /* already enough: COMPLETED */
  REPLY(service_quota_result, r);
}
#undef OPNAME
#define OPNAME "RunInstances"
static char last_kms[128];
static int f_run(struct aws_api *a, const struct aws_target *t,
                 const struct aws_run_instances_req *rq,
                 aws_run_instances_cb cb, void *arg)
{
  struct aws_ec2_instances_result *r = calloc(1, sizeof(*r));

  ck_assert_str_eq(rq->image_id, "ami-good");
  str_fmt(run_types + strlen(run_types), sizeof(run_types) - strlen(run_types),
          "%s=%s ", t->region, rq->instance_type);
  str_fmt(live_regions + strlen(live_regions),
          sizeof(live_regions) - strlen(live_regions), "%s ", t->region);
  str_copy(last_kms, rq->kms_key_id ? rq->kms_key_id : "", sizeof(last_kms));
  r->n = 1;
  r->v = calloc(1, sizeof(*r->v));
  r->v[0].instance_id = sdup("i-0123456789");
  REPLY(ec2_instances_result, r);
}
#undef OPNAME
#define OPNAME "AssumeRole"
static char assumed[1024]; /* "role|session|external id;" per AssumeRole */
static int f_assume_role(struct aws_api *a, const struct aws_target *t,
                         const struct aws_assume_role_req *rq,
                         aws_assume_role_cb cb, void *arg)
{
  struct aws_sts_creds_result *r = calloc(1, sizeof(*r));

  str_fmt(assumed + strlen(assumed), sizeof(assumed) - strlen(assumed),
          "%s|%s|%s;", rq->role_arn, rq->role_session_name,
          rq->external_id ? rq->external_id : "");
  r->creds.access_key_id = sdup("ASIAJUMP");
  r->creds.secret_access_key = sdup("jumpsecret");
  r->creds.session_token = sdup("tok");
  REPLY(sts_creds_result, r);
}
#undef OPNAME
#define OPNAME "DescribeInstanceStatus"
static int f_status(struct aws_api *a, const struct aws_target *t,
                    const struct aws_describe_instance_status_req *rq,
                    aws_describe_instance_status_cb cb, void *arg)
{
  struct aws_ec2_instance_states_result *r = calloc(1, sizeof(*r));

  r->n = 1;
  r->v = calloc(1, sizeof(*r->v));
  r->v[0].instance_id = sdup(rq->instance_ids[0]);
  r->v[0].state_code = 16;
  REPLY(ec2_instance_states_result, r);
}
#undef OPNAME
#define OPNAME "TerminateInstances"
static int f_terminate(struct aws_api *a, const struct aws_target *t,
                       const struct aws_ec2_instance_ids_req *rq,
                       aws_terminate_instances_cb cb, void *arg)
{
  REPLY(ec2_instance_states_result,
        calloc(1, sizeof(struct aws_ec2_instance_states_result)));
}
#undef OPNAME
static char case_subject[128]; /* of the case opened, "" = none */

#define OPNAME "CreateCase"
static int f_case(struct aws_api *a, const struct aws_target *t,
                  const struct aws_create_case_req *rq, aws_create_case_cb cb,
                  void *arg)
{
  struct aws_create_case_result *r = calloc(1, sizeof(*r));

  str_copy(case_subject, rq->subject, sizeof(case_subject));
  r->case_id = sdup("case-42");
  REPLY(create_case_result, r);
}
#undef OPNAME
#define OPNAME "DescribeCases"
static int f_cases(struct aws_api *a, const struct aws_target *t,
                   const struct aws_describe_cases_req *rq,
                   aws_describe_cases_cb cb, void *arg)
{
  struct aws_describe_cases_result *r = calloc(1, sizeof(*r));

  ck_assert(rq->include_resolved_cases);
  r->v = calloc(1, sizeof(*r->v));
  if (!rq->ncase_ids) { /* every case: the one opened, if any */
    r->n = case_subject[0] ? 1 : 0;
    r->v[0].case_id = r->n ? sdup("case-42") : NULL;
    r->v[0].subject = r->n ? sdup(case_subject) : NULL;
    REPLY(describe_cases_result, r);
  }
  r->n = 1;
  r->v[0].case_id = sdup(rq->case_ids[0]);
  r->v[0].status = sdup("resolved");
  REPLY(describe_cases_result, r);
}
#undef OPNAME

static bool admin_deleted;

#define OPNAME "ListUsers"
static int f_list_users(struct aws_api *a, const struct aws_target *t,
                        const struct aws_iam_list_req *rq, aws_list_users_cb cb,
                        void *arg)
{
  struct aws_iam_users_result *r = calloc(1, sizeof(*r));

  /* two pages: ours is on the second, and gone once deleted */
  r->v = calloc(2, sizeof(*r->v));
  if (!rq->marker) {
    r->v[r->n++].user_name = sdup("someone-else");
    r->is_truncated = true;
    r->marker = sdup("page2");
  } else {
    ck_assert_str_eq(rq->marker, "page2");
    if (!admin_deleted)
      r->v[r->n++].user_name = sdup("osdManagedAdmin-abc123");
  }
  REPLY(iam_users_result, r);
}
#undef OPNAME
#define OPNAME "ListUserTags"
static int f_user_tags(struct aws_api *a, const struct aws_target *t,
                       const struct aws_iam_user_page_req *rq,
                       aws_list_user_tags_cb cb, void *arg)
{
  struct aws_tags_result *r = calloc(1, sizeof(*r));

  if (str_eq(rq->user_name, "osdManagedAdmin-abc123")) {
    r->n = 2;
    r->v = calloc(2, sizeof(*r->v));
    r->v[0].key = sdup("clusterAccountName");
    r->v[0].value = sdup("osd-creds-mgmt-abc123");
    r->v[1].key = sdup("clusterNamespace");
    r->v[1].value = sdup(NS);
  }
  REPLY(tags_result, r);
}
#undef OPNAME
#define OPNAME "ListAttachedUserPolicies"
static int f_user_attached(struct aws_api *a, const struct aws_target *t,
                           const struct aws_iam_user_page_req *rq,
                           aws_list_attached_user_policies_cb cb, void *arg)
{
  struct aws_iam_attached_result *r = calloc(1, sizeof(*r));

  r->n = 1;
  r->v = calloc(1, sizeof(*r->v));
  r->v[0].policy_arn = sdup("arn:aws:iam::aws:policy/AdministratorAccess");
  REPLY(iam_attached_result, r);
}
#undef OPNAME
#define OPNAME "DetachUserPolicy"
static int f_detach_user(struct aws_api *a, const struct aws_target *t,
                         const struct aws_iam_user_policy_req *rq,
                         aws_detach_user_policy_cb cb, void *arg)
{
  REPLY(empty_result, calloc(1, sizeof(struct aws_empty_result)));
}
#undef OPNAME
#define OPNAME "DeleteUser"
static int f_delete_user(struct aws_api *a, const struct aws_target *t,
                         const struct aws_iam_user_req *rq,
                         aws_delete_user_cb cb, void *arg)
{
  ck_assert_str_eq(rq->user_name, "osdManagedAdmin-abc123");
  admin_deleted = true;
  REPLY(empty_result, calloc(1, sizeof(struct aws_empty_result)));
}
#undef OPNAME
#define OPNAME "ListRoles"
static int f_list_roles(struct aws_api *a, const struct aws_target *t,
                        const struct aws_iam_list_req *rq, aws_list_roles_cb cb,
                        void *arg)
{
  REPLY(iam_roles_result, calloc(1, sizeof(struct aws_iam_roles_result)));
}
#undef OPNAME

static struct aws_api api;

static void api_init(void)
{
  memset(&api, 0, sizeof(api));
  api.create_account = f_create_account;
  api.describe_create_account_status = f_describe_car;
  api.list_create_account_status = f_list_car;
  api.list_accounts = f_list_accounts;
  api.org_tag_resource = f_tag;
  api.get_caller_identity = f_gci;
  api.assume_role = f_assume_role;
  api.get_role = f_get_role;
  api.create_role = f_create_role;
  api.attach_role_policy = f_attach_role;
  api.get_user = f_get_user;
  api.create_user = f_create_user;
  api.attach_user_policy = f_attach_user;
  api.list_access_keys = f_list_keys;
  api.delete_access_key = f_delete_key;
  api.create_access_key = f_create_key;
  api.describe_regions = f_regions;
  api.describe_instances = f_instances;
  api.describe_images = f_images;
  api.describe_instance_types = f_types;
  api.run_instances = f_run;
  api.get_service_quota = f_get_quota;
  api.describe_instance_status = f_status;
  api.terminate_instances = f_terminate;
  api.create_case = f_case;
  api.describe_cases = f_cases;
  api.list_users = f_list_users;
  api.list_user_tags = f_user_tags;
  api.list_attached_user_policies = f_user_attached;
  api.detach_user_policy = f_detach_user;
  api.delete_user = f_delete_user;
  api.list_roles = f_list_roles;
}

static int fake_assume(void *arg, const char *id, struct aws_creds **out)
{
  (void)arg;
  (void)id;
  *out = aws_creds_static_new("AKIAACCOUNTROLE", "rolesecret", "tok");
  return 0;
}

/* ---- fake Kubernetes -------------------------------------------------- */

static struct store *accounts;
static json_t *secrets; /* name -> Secret */
static char events[16384];
static int n_updates, conflict_next, conflict_after_create, secret_get_lies;

static void fire_k8s(void *cb, int err, const struct aws_error *ae, void *res,
                     void *arg)
{
  (void)ae;
  ((k8s_obj_cb)cb)(err, res, NULL, arg);
}

static void decref(void *o)
{
  json_decref(o);
}

static void k8s_reply(k8s_obj_cb cb, void *arg, int err, json_t *obj)
{
  defer(fire_k8s, (void *)cb, arg, obj, decref, err, NULL);
}

static int k_get(void *a, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *arg)
{
  json_t *s = secret_get_lies ? NULL : json_object_get(secrets, name);

  n_gets++;
  k8s_reply(cb, arg, s ? 0 : OP_ENOTFOUND, json_incref(s));
  return 0;
}

static void b64(const char *in, char *out, size_t n)
{
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t len = strlen(in), o = 0;

  for (size_t i = 0; i < len && o + 5 < n; i += 3) {
    unsigned v = (unsigned char)in[i] << 16;

    v |= i + 1 < len ? (unsigned char)in[i + 1] << 8 : 0;
    v |= i + 2 < len ? (unsigned char)in[i + 2] : 0;
    out[o++] = t[(v >> 18) & 63];
    out[o++] = t[(v >> 12) & 63];
    out[o++] = i + 1 < len ? t[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < len ? t[v & 63] : '=';
  }
  out[o] = 0;
}

/* A Secret as the API server stores it: stringData merged into data. */
static json_t *stored_secret(const json_t *obj)
{
  json_t *n = json_deep_copy(obj), *sd = json_object_get(n, "stringData");
  const char *k;
  json_t *v;
  char enc[256];

  if (!json_is_object(json_object_get(n, "data")))
    json_object_set_new(n, "data", json_object());
  json_object_foreach(sd, k, v)
  {
    b64(json_string_value(v), enc, sizeof(enc));
    json_object_set_new(json_object_get(n, "data"), k, json_string(enc));
  }
  json_object_del(n, "stringData");
  return n;
}

static int k_create(void *a, const struct k8s_gvr *g, const char *ns,
                    json_t *obj, k8s_obj_cb cb, void *arg)
{
  const char *name = obj_name(obj);

  if (json_object_get(secrets, name)) {
    k8s_reply(cb, arg, OP_EEXIST, NULL);
    return 0;
  }
  json_object_set_new(secrets, name, stored_secret(obj));
  k8s_reply(cb, arg, 0, json_deep_copy(obj));
  return 0;
}

static int n_region_writes;
/* lag_create: the composite's request-id write succeeds, but the cache
 * shows it only when the test puts `lagged` in the store. */
static int lag_create;
static json_t *lagged;
/* lag_all: every write succeeds on the "server" (lag_server, the object
 * conflicts are judged against) but the cache does not show it until the
 * test puts lag_server in the store. */
static int lag_all, n_conflicts;
static json_t *lag_server;
static int k_update(void *a, const struct k8s_gvr *g, json_t *obj,
                    k8s_obj_cb cb, void *arg)
{
  char key[STORE_KEY_MAX], rv[32];
  const json_t *cur;
  json_t *n;

  if (str_eq(obj_str(obj, "kind"), "Secret")) {
    n = stored_secret(obj);
    json_object_set(secrets, obj_name(obj), n);
    k8s_reply(cb, arg, 0, n);
    return 0;
  }
  ck_assert_int_eq(store_obj_key(obj, key, sizeof(key)), 0);
  cur = lag_all && lag_server ? lag_server : store_get(accounts, key);
  if (conflict_after_create && n_create_account) {
    conflict_after_create = 0;
    conflict_next = 1;
  }
  if (conflict_next || (cur && !str_eq(store_obj_rv(cur), store_obj_rv(obj)))) {
    conflict_next = 0;
    n_conflicts++;
    k8s_reply(cb, arg, OP_ECONFLICT, NULL);
    return 0;
  }
  n_updates++;
  if (!str_eq(obj_annotation(obj, ACCT_ANN_REGIONS),
              cur ? obj_annotation(cur, ACCT_ANN_REGIONS) : NULL))
    n_region_writes++;
  n = json_deep_copy(obj);
  str_fmt(rv, sizeof(rv), "%d", n_updates + 100);
  obj_set_str(n, "metadata.resourceVersion", rv);
  if (lag_create && obj_annotation(obj, ACCT_ANN_REQUEST_ID) &&
      !(cur && obj_annotation(cur, ACCT_ANN_REQUEST_ID))) {
    lag_create = 0;
    lagged = json_incref(n);
  } else if (lag_all) {
    json_decref(lag_server);
    lag_server = json_incref(n);
  } else {
    store_put_new(accounts, json_incref(n), NULL);
  }
  k8s_reply(cb, arg, 0, n);
  return 0;
}

/* As the API server's status subresource: only status changes. */
static int k_update_status(void *a, const struct k8s_gvr *g, json_t *obj,
                           k8s_obj_cb cb, void *arg)
{
  char key[STORE_KEY_MAX];
  const json_t *cur;
  json_t *n;
  int rc;

  if (str_eq(obj_str(obj, "kind"), "AccountClaim") ||
      store_obj_key(obj, key, sizeof(key)) || !(cur = store_get(accounts, key)))
    return k_update(a, g, obj, cb, arg);
  if (lag_all && lag_server)
    cur = lag_server;
  n = json_deep_copy(cur);
  obj_set_str(n, "metadata.resourceVersion", store_obj_rv(obj));
  json_object_set(n, "status", json_object_get(obj, "status"));
  rc = k_update(a, g, n, cb, arg);
  json_decref(n);
  return rc;
}

static void k_event(void *a, json_t *obj, const char *type, const char *reason,
                    const char *msg)
{
  str_fmt(events + strlen(events), sizeof(events) - strlen(events),
          "%s %s %s\n", type, reason, msg);
}

static struct exec_kio kio = { NULL,     k_get,           k_create,
                               k_update, k_update_status, NULL,
                               k_event };

/* ---- harness ---------------------------------------------------------- */

static time_t now_s = 1800000000;
static time_t fake_now(void *arg)
{
  (void)arg;
  return now_s;
}

struct fix {
  uv_loop_t loop;
  struct exec_cfg *cfg;
  struct exec_aws *aws;
  struct exec_watcher *w;
  struct acct_exec *e;
  struct acct_exec_deps d;
  FILE *logf;
  char *logbuf;
  size_t loglen;
};
static struct fix F;
static int done_flag;
static struct ctrl_result last;

static json_t *configmap(void)
{
  return json_pack("{s:{s:s,s:s}, s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "metadata",
                   "name", "aws-account-operator-configmap", "namespace", NS,
                   "data", "account-limit", "100", "root", "r-1", "base",
                   "ou-1", "shard-name", "test", "support-jump-role",
                   "arn:aws:iam::123456789012:role/jump", "sts-jump-role",
                   "arn:aws:iam::123456789012:role/sts-jump");
}

static json_t *cred_secret(void)
{
  /* "AKIAOPERATOR" / "opsecret" */
  return json_pack("{s:{s:s}, s:{s:s,s:s}}", "metadata", "name",
                   "aws-account-operator-credentials", "data",
                   "aws_access_key_id", "QUtJQU9QRVJBVE9S",
                   "aws_secret_access_key", "b3BzZWNyZXQ=");
}

static void run_all(void)
{
  while (in_flight > 0)
    uv_run(&F.loop, UV_RUN_ONCE);
}

static void setup(void)
{
  struct exec_aws_opts ao = { .api = &api, .assume = fake_assume };
  struct exec_watcher_opts wo = { 0 };
  struct acct_exec_deps d = { 0 };
  json_t *cm = configmap(), *sec = cred_secret();

  memset(&F, 0, sizeof(F));
  uv_loop_init(&F.loop);
  L = &F.loop;
  api_init();
  calls[0] = events[0] = 0;
  n_create_account = n_create_key = n_delete_key = n_updates = n_gets = 0;
  n_region_writes = 0;
  report_live = false;
  live_regions[0] = 0;
  deleted_keys[0] = 0;
  conflict_next = conflict_after_create = secret_get_lies = 0;
  lag_create = lag_all = n_conflicts = 0;
  lagged = lag_server = NULL;
  fail_op = fail_code = NULL;
  assumed[0] = last_kms[0] = 0;
  admin_deleted = false;
  no_t3_region = NULL;
  no_t3_error = false;
  run_types[0] = policy_arns[0] = quota_regions[0] = 0;
  case_subject[0] = 0;
  F.logf = open_memstream(&F.logbuf, &F.loglen);
  log_set_output(F.logf);
  accounts = store_new(0);
  secrets = json_object();
  F.cfg = exec_cfg_new(NULL, &kio);
  exec_cfg_apply(F.cfg, cm);
  ck_assert_ptr_nonnull(exec_cfg_get(F.cfg));
  ck_assert_int_eq(exec_aws_new(L, NULL, &ao, &F.aws), 0);
  exec_aws_apply_secret(F.aws, sec);
  wo.aws = F.aws;
  wo.cfg = F.cfg;
  F.w = exec_watcher_new(L, &wo);
  exec_watcher_poll(F.w);
  run_all();
  ck_assert(exec_watcher_limit_allows(F.w));
  d.kio = kio;
  d.accounts = accounts;
  d.cfg = F.cfg;
  d.aws = F.aws;
  d.watcher = F.w;
  d.ns = NS;
  d.now = fake_now;
  F.d = d;
  F.e = acct_exec_new(&d);
  calls[0] = 0;
  json_decref(cm);
  json_decref(sec);
}

static void teardown(void)
{
  acct_exec_free(F.e);
  exec_watcher_close(F.w);
  exec_aws_close(F.aws, NULL, NULL);
  exec_cfg_free(F.cfg);
  ASSERT_LOOP_CLEAN(&F.loop);
  log_set_output(NULL);
  fclose(F.logf);
  free(F.logbuf);
  store_free(accounts);
  json_decref(secrets);
  json_decref(lag_server);
}

static void done_cb(void *arg, const char *key, const struct ctrl_result *r)
{
  (void)arg;
  (void)key;
  last = *r;
  done_flag = 1;
}

/* One reconcile of KEY, run to completion. */
static void pass(void)
{
  struct ctrl_result out;
  int rc;

  done_flag = 0;
  rc = acct_exec_reconcile(F.e, KEY, &out, done_cb, NULL);
  if (rc < 0) /* failed before anything went async */
    out = (struct ctrl_result){ .err = rc };
  if (rc <= 0) {
    last = out;
    done_flag = 1;
  }
  run_all();
  ck_assert(done_flag);
}

static void add_account(void)
{
  json_t *a = json_pack(
      "{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s}, s:{s:s,s:s,s:b,s:s}}", "apiVersion",
      "aws.managed.openshift.io/v1alpha1", "kind", "Account", "metadata",
      "name", "osd-creds-mgmt-abc123", "namespace", NS, "uid", "uid-1",
      "resourceVersion", "1", "creationTimestamp", "2027-01-15T08:00:00Z",
      "spec", "awsAccountID", "", "claimLink", "", "byoc", 0, "iamUserSecret",
      "");

  store_put_new(accounts, a, NULL);
}

static const char *state(void)
{
  return obj_str0(store_get(accounts, KEY), "status.state");
}

/* Drive passes until Ready (the clock jumps over every requested wait). */
static int drive(int max)
{
  int i;

  for (i = 0; i < max && !str_eq(state(), "Ready"); i++) {
    pass();
    if (last.requeue_after_ms > 1)
      now_s += (time_t)(last.requeue_after_ms / 1000) + 1;
  }
  return i;
}

static int count(const char *hay, const char *needle)
{
  int n = 0;

  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

static void assert_no_secret_leak(void)
{
  const struct acct_obs *o = acct_exec_obs(F.e, KEY);
  char *dump;

  fflush(F.logf);
  ck_assert_ptr_null(strstr(F.logbuf ? F.logbuf : "", SECRET_KEY));
  ck_assert_ptr_null(strstr(events, SECRET_KEY));
  if (o)
    ck_assert_ptr_null(memmem(o, sizeof(*o), SECRET_KEY, 10));
  dump = json_dumps(store_get(accounts, KEY), 0);
  ck_assert_ptr_null(strstr(dump, SECRET_KEY));
  free(dump);
}

/* An STS account and its claim: a CCS account of the claim's region only,
 * credentials by role chaining. */
static struct store *claims_store(void)
{
  struct store *c = store_new(0);

  store_put_new(
      c,
      json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:b,s:b,s:s,s:s,s:s,s:{s:[{s:s}]}}}",
                "apiVersion", "aws.managed.openshift.io/v1alpha1", "kind",
                "AccountClaim", "metadata", "name", "c1", "namespace", "ns1",
                "spec", "byoc", 1, "manualSTSMode", 1, "stsRoleARN",
                "arn:aws:iam::222233334444:role/installer", "stsExternalID",
                "ext-1", "kmsKeyId", "k1", "aws", "regions", "name",
                "us-east-1"),
      NULL);
  return c;
}

static void add_sts_account(void)
{
  json_t *a = json_pack(
      "{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:{s:s}},"
      " s:{s:s,s:s,s:s,s:b,s:b,s:s}}",
      "apiVersion", "aws.managed.openshift.io/v1alpha1", "kind", "Account",
      "metadata", "name", "osd-creds-mgmt-abc123", "namespace", NS, "uid",
      "uid-1", "resourceVersion", "1", "creationTimestamp",
      "2027-01-15T08:00:00Z", "labels", "iamUserId", "abc123", "spec",
      "awsAccountID", "222233334444", "claimLink", "c1", "claimLinkNamespace",
      "ns1", "byoc", 1, "manualSTSMode", 1, "iamUserSecret", "");

  store_put_new(accounts, a, NULL);
}

START_TEST(sts_account_by_role_chain_to_ready)
{
  struct store *claims = claims_store();

  acct_exec_free(F.e);
  F.d.claims = claims;
  F.e = acct_exec_new(&F.d);
  add_sts_account();
  ck_assert_int_lt(drive(100), 100);
  /* The chain, checked explicitly: jump role, then the customer's role
   * with the external ID. */
  ck_assert_str_eq(
      assumed, "arn:aws:iam::123456789012:role/sts-jump|awsAccountOperator|;"
               "arn:aws:iam::222233334444:role/installer|"
               "RH-Account-Initialization|ext-1;");
  ck_assert_int_eq(count(calls, "CreateUser"), 0);
  ck_assert_int_eq(count(calls, "CreateAccessKey"), 0);
  ck_assert_int_eq(count(calls, "CreateRole"), 0);
  ck_assert_int_eq(count(calls, "CreateCase"), 0);
  ck_assert_int_eq(count(calls, "RunInstances"), 1); /* the claim's region */
  ck_assert_str_eq(last_kms, "k1");
  ck_assert_ptr_null(json_object_get(secrets, "osd-creds-mgmt-abc123-secret"));
  acct_exec_free(F.e);
  F.e = NULL;
  store_free(claims);
}
END_TEST

/* A refused customer role fails the account with the AWS code. */
START_TEST(sts_refused_role_fails_the_account)
{
  struct store *claims = claims_store();

  acct_exec_free(F.e);
  F.d.claims = claims;
  F.e = acct_exec_new(&F.d);
  add_sts_account();
  fail_op = "AssumeRole";
  fail_code = "AccessDenied";
  for (int i = 0; i < 20 && !str_eq(state(), "Failed"); i++)
    pass();
  ck_assert_str_eq(state(), "Failed");
  ck_assert_ptr_nonnull(strstr(events, "STSAssumeRoleFailed"));
  ck_assert_int_eq(count(calls, "RunInstances"), 0);
  acct_exec_free(F.e);
  F.e = NULL;
  store_free(claims);
}
END_TEST

/* A BYOC account: the claim's BYOC Secret is read before planning; the
 * support role, IAM user, key Secret, the claim's region, Ready; no
 * Organizations call, no support case. */
START_TEST(byoc_account_to_ready)
{
  struct store *claims = claims_store();
  json_t *c = json_deep_copy(store_get(claims, "ns1/c1"));

  obj_set_new(c, "spec.manualSTSMode", json_false());
  obj_set_str(c, "spec.byocSecretRef.name", "byoc");
  store_put_new(claims, c, NULL);
  json_object_set_new(secrets, "byoc",
                      json_pack("{s:{s:s},s:{s:s,s:s}}", "metadata", "name",
                                "byoc", "data", "aws_access_key_id",
                                "QUtJQUNVU1Q=", "aws_secret_access_key",
                                "Y3VzdHNlY3JldA=="));
  acct_exec_free(F.e);
  F.d.claims = claims;
  F.e = acct_exec_new(&F.d);
  add_sts_account();
  {
    json_t *a = json_deep_copy(store_get(accounts, KEY));

    obj_set_new(a, "spec.manualSTSMode", json_false());
    obj_add_finalizer(a, OBJ_FINALIZER);
    store_put_new(accounts, a, NULL);
  }
  ck_assert_int_lt(drive(100), 100);
  ck_assert_int_eq(count(calls, "CreateRole"), 1);
  ck_assert_int_eq(count(calls, "CreateUser"), 1);
  ck_assert_int_eq(n_create_key, 1);
  ck_assert_int_eq(count(calls, "RunInstances"), 1);
  ck_assert_int_eq(count(calls, "CreateCase"), 0);
  ck_assert_int_eq(count(calls, "TagResource"), 0);
  ck_assert_str_eq(last_kms, "k1");
  ck_assert_ptr_nonnull(
      json_object_get(secrets, "osd-creds-mgmt-abc123-secret"));
  /* Ready: neither the BYOC nor the IAM Secret is read again */
  {
    int gets = n_gets;
    size_t ncalls = strlen(calls);

    pass();
    ck_assert_int_eq(last.err, 0);
    ck_assert_int_eq(n_gets, gets);
    ck_assert_uint_eq(strlen(calls), ncalls);
  }
  acct_exec_free(F.e);
  F.e = NULL;
  store_free(claims);
}
END_TEST

START_TEST(lifecycle_to_ready)
{
  json_t *sec;

  add_account();
  ck_assert_int_lt(drive(400), 400);
  ck_assert_int_eq(n_create_account, 1);
  ck_assert_int_eq(n_create_key, 1);
  ck_assert_str_eq(obj_str0(store_get(accounts, KEY), "spec.awsAccountID"),
                   "111122223333");
  sec = json_object_get(secrets, "osd-creds-mgmt-abc123-secret");
  ck_assert_ptr_nonnull(sec);
  /* "AKIANEWKEY", as the API server stores stringData */
  ck_assert_str_eq(obj_str0(sec, "data.aws_access_key_id"), "QUtJQU5FV0tFWQ==");
  ck_assert_str_eq(obj_str0(sec, "metadata.ownerReferences.0.kind"), "");
  ck_assert_str_eq(
      json_string_value(json_object_get(
          json_array_get(obj_get(sec, "metadata.ownerReferences"), 0), "uid")),
      "uid-1");
  /* the Secret object sent was wiped after the call; ours is a copy made
   * by the fake before that, which is what the API server keeps */
  ck_assert_int_eq(count(calls, "TagResource"), 0); /* in CreateAccount */
  /* this process wrote the e-mail itself: no recovery listing before
   * its CreateAccount (the watcher lists once after it, at rest) */
  {
    const char *create = strstr(calls, " CreateAccount");
    const char *cars = strstr(calls, "ListCreateAccountStatus");
    const char *list = strstr(calls, "ListAccounts");

    ck_assert_ptr_nonnull(create);
    ck_assert(!cars || cars > create);
    ck_assert(!list || list > create);
  }
  ck_assert_int_eq(count(calls, "CreateRole"), 1);
  ck_assert_int_eq(count(calls, "CreateUser"), 1);
  ck_assert_int_eq(count(calls, "RunInstances"), 2); /* two regions */
  ck_assert_str_eq(run_types, "eu-west-1=t3.micro us-east-1=t3.micro ");
  ck_assert_str_eq(policy_arns, "arn:aws:iam::aws:policy/AdministratorAccess "
                                "arn:aws:iam::aws:policy/AdministratorAccess ");
  ck_assert_int_eq(count(calls, "TerminateInstances"), 2);
  ck_assert_int_eq(count(calls, "CreateCase"), 1);
  ck_assert_int_ge(count(calls, "DescribeCases"), 1);
  ck_assert_ptr_nonnull(strstr(events, "Ready"));
  ck_assert_int_eq(exec_watcher_own_in_flight(F.w), 0);
  assert_no_secret_leak();
}
END_TEST

/* A reconcile that changes nothing costs no request: the IAM Secret is
 * read only while the plan still needs it (bootstrap), not once Ready. */
START_TEST(ready_account_reconcile_makes_no_request)
{
  int gets, updates;

  add_account();
  ck_assert_int_lt(drive(400), 400);
  ck_assert_int_eq(n_gets, 0); /* a new account: no Secret to look for */
  gets = n_gets;
  updates = n_updates;
  calls[0] = events[0] = 0;
  for (int i = 0; i < 3; i++) {
    pass();
    ck_assert_int_eq(last.err, 0);
  }
  ck_assert_int_eq(n_gets, gets);
  ck_assert_int_eq(n_updates, updates);
  ck_assert_str_eq(calls, "");
  ck_assert_str_eq(events, "");
}
END_TEST

/* Run passes until op was called, then one more time nothing. */
static void drive_until(const char *op)
{
  for (int i = 0; i < 200 && !strstr(calls, op); i++) {
    pass();
    if (last.requeue_after_ms > 1)
      now_s += (time_t)(last.requeue_after_ms / 1000) + 1;
  }
  ck_assert_ptr_nonnull(strstr(calls, op));
}

START_TEST(create_account_composite)
{
  const struct acct_obs *o;
  const json_t *a;

  add_account();
  drive_until(" CreateAccount");
  a = store_get(accounts, KEY);
  /* the same pass wrote the request id: the composite never splits */
  ck_assert_str_eq(obj_annotation(a, ACCT_ANN_REQUEST_ID), "car-1234567890");
  ck_assert_ptr_nonnull(obj_annotation(a, ACCT_ANN_REQUESTED_AT));
  ck_assert_ptr_nonnull(obj_annotation(a, ACCT_ANN_EMAIL));
  /* the owner tag went with the call, recorded in the same write */
  ck_assert_str_ne(create_owner_tag, "");
  ck_assert_str_eq(obj_annotation(a, ACCT_ANN_TAGGED), "true");
  o = acct_exec_obs(F.e, KEY);
  ck_assert_int_eq(o->action, ACCT_CREATE_ACCOUNT);
  ck_assert_int_eq(o->result, 0);
  ck_assert_str_eq(o->request_id, "car-1234567890");
  ck_assert_int_eq(last.requeue_after_ms, 1);
  ck_assert_int_eq(exec_watcher_own_in_flight(F.w), 1);
  ck_assert(!exec_watcher_create_slot_free(F.w) ||
            exec_watcher_own_in_flight(F.w) < 5);
}
END_TEST

static int never_reconcile(struct ctrl_ctx *ctx, const char *key,
                           struct ctrl_result *out)
{
  ck_abort_msg("the bare controller was never started");
  return 0;
}

static void ctrl_closed(void *arg)
{
  *(int *)arg = 1;
}

/* The pass after CreateAccount schedules the status poll that frees the
 * slot: it goes to the queue's head, not behind other accounts' queued
 * work (at the tail, a fill's region steps delayed each poll). */
START_TEST(create_pass_goes_to_the_queue_head)
{
  struct ctrl_opts o = { .name = "account", .reconcile = never_reconcile };
  struct ctrl *c = ctrl_new(&F.loop, &o);
  const char *k = NULL;
  int closed = 0;

  exec_runner_use_ctrl(F.e->run, c);
  add_account();
  ck_assert_int_eq(wq_add(ctrl_queue(c), NS "/other-account"), 0);
  drive_until(" CreateAccount");
  ck_assert_int_eq(wq_get(ctrl_queue(c), &k), 0);
  ck_assert_str_eq(k, KEY);
  wq_done(ctrl_queue(c), k);
  exec_runner_use_ctrl(F.e->run, NULL);
  ctrl_close(c, ctrl_closed, &closed);
  while (!closed)
    uv_run(&F.loop, UV_RUN_ONCE);
}
END_TEST

START_TEST(create_annotation_conflict_keeps_request_in_obs)
{
  const struct acct_obs *o;

  add_account();
  conflict_after_create = 1;
  drive_until(" CreateAccount");
  ck_assert_ptr_null(
      obj_annotation(store_get(accounts, KEY), ACCT_ANN_REQUEST_ID));
  o = acct_exec_obs(F.e, KEY);
  ck_assert_str_eq(o->request_id, "car-1234567890");
  /* the plan records it from the observation; never a second account */
  ck_assert_int_lt(drive(400), 400);
  ck_assert_int_eq(n_create_account, 1);
}
END_TEST

/* The passes after the composite plan before the watch shows its write:
 * they poll (from the answer's annotations) instead of recording the
 * request id again over the old resourceVersion (409 in the bench). */
START_TEST(create_write_not_cached_yet_is_not_written_again)
{
  int updates;

  add_account();
  lag_create = 1;
  drive_until(" CreateAccount");
  ck_assert_ptr_nonnull(lagged);
  ck_assert_ptr_null(
      obj_annotation(store_get(accounts, KEY), ACCT_ANN_REQUEST_ID));
  updates = n_updates;
  pass(); /* the requeue at once: the request is in progress, no write */
  ck_assert_int_eq(last.err, 0);
  ck_assert_int_gt(last.requeue_after_ms, 1);
  ck_assert_int_eq(n_updates, updates);
  store_put_new(accounts, lagged, NULL); /* the watch catches up */
  lagged = NULL;
  ck_assert_int_lt(drive(400), 400);
  ck_assert_int_eq(n_create_account, 1);
  ck_assert_str_eq(obj_str(store_get(accounts, KEY), "status.state"), "Ready");
}
END_TEST

/* A claim's reservation wakes the Account, whose status write (claimed)
 * succeeds; the claim's next write wakes it again before that status
 * write's watch event: planned from the write's answer, nothing is sent
 * again (from the cached copy it was, and the server answered 409). */
START_TEST(status_write_not_cached_yet_is_not_written_again)
{
  char rv[32];
  json_t *a;
  int updates;

  add_account();
  ck_assert_int_lt(drive(400), 400);
  a = json_deep_copy(store_get(accounts, KEY));
  obj_set_str(a, "spec.claimLink", "c9");
  obj_set_str(a, "spec.claimLinkNamespace", "ns9");
  str_fmt(rv, sizeof(rv), "%d", ++n_updates + 100); /* the claim's write */
  obj_set_str(a, "metadata.resourceVersion", rv);
  store_put_new(accounts, a, NULL);
  lag_all = 1;
  updates = n_updates;
  pass();
  ck_assert_int_eq(last.err, 0);
  ck_assert_int_eq(n_updates, updates + 1);
  ck_assert(obj_bool(lag_server, "status.claimed"));
  ck_assert(!obj_bool(store_get(accounts, KEY), "status.claimed"));
  pass(); /* woken again; the cache still shows the reservation only */
  ck_assert_int_eq(last.err, 0);
  ck_assert_int_eq(n_updates, updates + 1);
  ck_assert_int_eq(n_conflicts, 0);
  store_put_new(accounts, json_incref(lag_server), NULL); /* caught up */
  pass();
  ck_assert_int_eq(last.err, 0);
  ck_assert_int_eq(n_updates, updates + 1);
}
END_TEST

START_TEST(secret_exists_drops_new_key)
{
  json_t *other = json_pack("{s:{s:s}}", "metadata", "name",
                            "osd-creds-mgmt-abc123-secret");
  const struct acct_obs *o;

  add_account();
  drive_until("AttachUserPolicy");
  json_object_set_new(secrets, "osd-creds-mgmt-abc123-secret", other);
  secret_get_lies = 1; /* the Secret "cache" lags */
  drive_until("CreateAccessKey");
  o = acct_exec_obs(F.e, KEY);
  ck_assert_int_eq(o->action, ACCT_CREATE_ACCESS_KEY_SECRET);
  ck_assert_int_eq(o->result, 0);
  /* the user this process made in the new account has no key to list */
  ck_assert_int_eq(count(calls, "ListAccessKeys"), 0);
  ck_assert_int_eq(n_delete_key, 1); /* the new key */
  ck_assert_ptr_null(obj_get(
      json_object_get(secrets, "osd-creds-mgmt-abc123-secret"), "stringData"));
  assert_no_secret_leak();
}
END_TEST

START_TEST(aws_error_is_observed_and_requeued_at_once)
{
  const struct acct_obs *o;

  add_account();
  fail_op = "DescribeCreateAccountStatus";
  fail_code = "AccessDeniedException";
  drive_until("DescribeCreateAccountStatus");
  o = acct_exec_obs(F.e, KEY);
  ck_assert_int_eq(o->action, ACCT_DESCRIBE_CREATE);
  ck_assert_int_lt(o->result, 0);
  ck_assert_str_eq(o->aws_code, "AccessDeniedException");
  ck_assert_int_eq(o->at, now_s);
  ck_assert_int_eq(last.requeue_after_ms, 1);
  ck_assert_int_eq(last.err, 0);
}
END_TEST

START_TEST(missing_credentials_wait_without_calls)
{
  add_account();
  exec_aws_apply_secret(F.aws, NULL);
  for (int i = 0; i < 10; i++)
    pass();
  ck_assert_ptr_null(strstr(calls, " CreateAccount"));
  ck_assert_int_lt(last.err, 0); /* rate-limited retry */
  fflush(F.logf);
  ck_assert_ptr_nonnull(strstr(F.logbuf, "aws-account-operator-credentials"));
}
END_TEST

START_TEST(conflict_requeues_at_once)
{
  add_account();
  conflict_next = 1;
  pass();
  ck_assert_int_eq(last.requeue_after_ms, 1);
  ck_assert_int_eq(last.err, 0);
}
END_TEST

START_TEST(deleted_object_drops_observation)
{
  add_account();
  drive_until(" CreateAccount");
  ck_assert_ptr_nonnull(acct_exec_obs(F.e, KEY));
  json_decref(store_delete_take(accounts, KEY));
  pass();
  ck_assert_ptr_null(acct_exec_obs(F.e, KEY));
  ck_assert_int_eq(exec_watcher_own_in_flight(F.w), 0);
}
END_TEST

START_TEST(deletion_cleans_iam_then_removes_finalizer)
{
  json_t *a;
  int i;

  add_account();
  ck_assert_int_lt(drive(400), 400);
  a = json_deep_copy(store_get(accounts, KEY));
  obj_set_str(a, "metadata.deletionTimestamp", "2027-01-15T09:00:00Z");
  store_put_new(accounts, a, NULL);
  calls[0] = 0;
  for (i = 0;
       i < 20 && obj_has_finalizer(store_get(accounts, KEY), OBJ_FINALIZER);
       i++)
    pass();
  ck_assert(!obj_has_finalizer(store_get(accounts, KEY), OBJ_FINALIZER));
  ck_assert_int_eq(count(calls, " DeleteUser"), 1);
  ck_assert_int_eq(count(calls, " DetachUserPolicy"), 1);
  ck_assert_int_eq(count(calls, " DeleteAccessKey"), 1);
  ck_assert_int_eq(count(calls, " ListRoles"), 1);
  /* one plan step per deletion: the last one left no work */
  ck_assert_int_eq(acct_exec_obs(F.e, KEY)->action, ACCT_CLEANUP_IAM_STEP);
  ck_assert_int_eq(acct_exec_obs(F.e, KEY)->result, 0);
  ck_assert_uint_eq(json_array_size(acct_exec_obs(F.e, KEY)->work), 0);
}
END_TEST

/* A restart in the middle of the IAM cleanup (the observations are lost):
 * the plan scans again, finds what is left and carries on; nothing is
 * deleted twice. */
START_TEST(iam_cleanup_resumes_after_restart)
{
  json_t *a;
  int i;

  add_account();
  ck_assert_int_lt(drive(400), 400);
  a = json_deep_copy(store_get(accounts, KEY));
  obj_set_str(a, "metadata.deletionTimestamp", "2027-01-15T09:00:00Z");
  store_put_new(accounts, a, NULL);
  calls[0] = 0;
  for (i = 0; i < 20 && count(calls, " DeleteUser") == 0; i++)
    pass();
  ck_assert_int_eq(count(calls, " ListUsers"), 2); /* both pages */
  ck_assert(obj_has_finalizer(store_get(accounts, KEY), OBJ_FINALIZER));
  acct_exec_free(F.e); /* the process dies */
  F.e = acct_exec_new(&F.d);
  ck_assert_ptr_null(acct_exec_obs(F.e, KEY));
  for (i = 0;
       i < 20 && obj_has_finalizer(store_get(accounts, KEY), OBJ_FINALIZER);
       i++)
    pass();
  ck_assert(!obj_has_finalizer(store_get(accounts, KEY), OBJ_FINALIZER));
  ck_assert_int_eq(count(calls, " ListUsers"), 4); /* scanned again */
  ck_assert_int_eq(count(calls, " DeleteUser"), 1);
}
END_TEST

/* The id recorded in ACCT_ANN_KEY, and the one the Secret holds. */
static const char *ann_key(char *out, size_t n)
{
  time_t t;

  if (!acct_key_ann(store_get(accounts, KEY), out, n, &t))
    out[0] = 0;
  return out;
}

static const char *secret_key_id(void)
{
  static char out[64];
  char *v = exec_secret_field(
      json_object_get(secrets, "osd-creds-mgmt-abc123-secret"),
      "aws_access_key_id");

  str_copy(out, v ? v : "", sizeof(out));
  free(v);
  return out;
}

static void key_config(const char *max_age)
{
  json_t *cm = configmap();

  json_object_set_new(json_object_get(cm, "data"), "iam-key-max-age",
                      json_string(max_age));
  json_object_set_new(json_object_get(cm, "data"), "iam-key-rotation-grace",
                      json_string("10m"));
  exec_cfg_apply(F.cfg, cm);
  json_decref(cm);
}

static bool rotation_open(void)
{
  return obj_annotation(store_get(accounts, KEY), ACCT_ANN_KEY_ROTATION);
}

/* A key past the maximum age is replaced; a restart after the new key was
 * stored does not mint another; the old key goes after the grace only. */
START_TEST(key_rotation_resumes_and_deletes_old_key_after_grace)
{
  char id[64];
  int i;

  add_account();
  ck_assert_int_lt(drive(400), 400);
  ck_assert_str_eq(ann_key(id, sizeof(id)), "AKIANEWKEY"); /* vended */
  ck_assert_str_eq(secret_key_id(), "AKIANEWKEY");
  key_config("1h");
  now_s += 3600;
  calls[0] = deleted_keys[0] = 0;
  for (i = 0; i < 5 && !strstr(calls, "CreateAccessKey"); i++)
    pass();
  ck_assert_str_eq(secret_key_id(), "AKIAROT2"); /* stored at once */
  ck_assert_str_eq(deleted_keys, "AKIAOLDKEY "); /* the orphan only */
  acct_exec_free(F.e); /* dies before recording the new key */
  F.e = acct_exec_new(&F.d);
  for (i = 0; i < 5 && !str_eq(ann_key(id, sizeof(id)), "AKIAROT2"); i++)
    pass();
  ck_assert_str_eq(id, "AKIAROT2");
  ck_assert_int_eq(n_create_key, 2); /* the Secret had moved on */
  ck_assert(rotation_open());
  for (i = 0; i < 5; i++)
    pass(); /* inside the grace period: the old key stays */
  ck_assert_ptr_null(strstr(deleted_keys, "AKIANEWKEY"));
  ck_assert_uint_ge(last.requeue_after_ms, 590000); /* the grace's end */
  now_s += 601;
  for (i = 0; i < 5 && rotation_open(); i++)
    pass();
  ck_assert(!rotation_open());
  ck_assert_ptr_nonnull(strstr(deleted_keys, "AKIANEWKEY "));
  ck_assert_str_eq(secret_key_id(), "AKIAROT2");
  assert_no_secret_leak();
}
END_TEST

/* A reused account with rotateCredentials: every key deleted, a new one
 * in the existing Secret, the flag cleared. */
START_TEST(revocation_on_reuse_revends_and_clears_the_flag)
{
  json_t *a;
  char id[64];
  int i;

  add_account();
  ck_assert_int_lt(drive(400), 400);
  a = json_deep_copy(store_get(accounts, KEY));
  obj_set_new(a, "status.reused", json_true());
  obj_set_new(a, "status.rotateCredentials", json_true());
  store_put_new(accounts, a, NULL);
  calls[0] = deleted_keys[0] = 0;
  for (i = 0;
       i < 10 && obj_bool(store_get(accounts, KEY), "status.rotateCredentials");
       i++)
    pass();
  ck_assert(!obj_bool(store_get(accounts, KEY), "status.rotateCredentials"));
  ck_assert_str_eq(deleted_keys, "AKIAOLDKEY "); /* every listed key */
  ck_assert_str_eq(secret_key_id(), "AKIAROT2");
  ck_assert_str_eq(ann_key(id, sizeof(id)), "AKIAROT2");
  ck_assert_ptr_nonnull(strstr(events, "CredentialsRevoked"));
  pass();
  ck_assert(!rotation_open());
  ck_assert_int_eq(count(calls, "CreateAccessKey"), 1);
  assert_no_secret_leak();
}
END_TEST

/* The ready-duration histogram measures from the Creating condition, not
 * from the object's creation: time before Creating (here 20 min in the
 * pool without a state) is not creation time. */
START_TEST(ready_duration_counts_from_creating)
{
  struct met_registry *reg = met_registry_new();
  struct exec_metrics *m = exec_metrics_new(reg);
  struct buf out;
  const char *p;
  double sum = -1, whole;
  json_t *a;

  acct_exec_free(F.e);
  F.d.metrics = m;
  F.e = acct_exec_new(&F.d);
  add_account();
  a = json_deep_copy(store_get(accounts, KEY));
  obj_set_str(a, "metadata.creationTimestamp", "2027-01-15T07:40:00Z");
  store_put_new(accounts, a, NULL);
  ck_assert_int_lt(drive(400), 400);
  whole = (double)(now_s - 1799998800); /* since 07:40:00 */
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(met_render(reg, &out), 0);
  p = strstr(out.data,
             "aws_account_operator_account_ready_duration_seconds_sum");
  ck_assert_ptr_nonnull(p);
  sscanf(strchr(p, ' ') + 1, "%lf", &sum);
  ck_assert_msg(sum > 0 && sum <= whole - 1200, "sum %f, since creation %f",
                sum, whole);
  buf_cleanup(&out);
  acct_exec_free(F.e);
  F.e = NULL;
  exec_metrics_free(m);
  met_registry_free(reg);
}
END_TEST

/* The process dies after CreateCase, before the case id is recorded: the
 * restarted plan finds the case by its subject and opens no second one.
 * (A process that saw the account created opens the case without a
 * search, before PendingVerification: one status write for both.) */
START_TEST(support_case_found_after_a_crash)
{
  add_account();
  drive_until(" CreateCase");
  ck_assert_int_eq(count(calls, " DescribeCases"), 0);
  ck_assert_str_eq(obj_str0(store_get(accounts, KEY), "status.supportCaseID"),
                   "");
  ck_assert_str_eq(obj_str0(store_get(accounts, KEY), "status.state"),
                   "InitializingRegions");
  acct_exec_free(F.e); /* the observation holding case-42 is lost */
  F.e = acct_exec_new(&F.d);
  ck_assert_int_lt(drive(400), 400);
  ck_assert_int_eq(count(calls, " CreateCase"), 1);
  ck_assert_int_eq(count(calls, " DescribeCases"), 2); /* find, poll */
  ck_assert_str_eq(obj_str0(store_get(accounts, KEY), "status.supportCaseID"),
                   "case-42");
  ck_assert_ptr_nonnull(strstr(events, "SupportCaseFound"));
}
END_TEST

/* Region init picks t3.micro, else t2.micro: a region without t3 (an
 * empty DescribeInstanceTypes answer, or InvalidInstanceType) launches a
 * t2.micro and the account still becomes Ready. */
/* Region progress lives in memory until one write: every region done. */
START_TEST(region_progress_written_once)
{
  add_account();
  ck_assert_int_lt(drive(400), 400);
  ck_assert_int_eq(count(calls, " RunInstances"), 2);
  ck_assert_int_eq(count(calls, " TerminateInstances"), 2);
  ck_assert_int_eq(n_region_writes, 1);
  ck_assert_str_eq(obj_annotation(store_get(accounts, KEY), ACCT_ANN_REGIONS),
                   "{\"eu-west-1\":\"done\",\"us-east-1\":\"done\"}");
}
END_TEST

/* The process dies after a launch that only memory knew of: the regions
 * start over, the cleanup terminates that instance (it carries the cluster
 * tags, pending or running) and the region is done without a second
 * launch. */
START_TEST(region_restart_terminates_the_unrecorded_instance)
{
  add_account();
  drive_until(" RunInstances");
  ck_assert_ptr_null(
      obj_annotation(store_get(accounts, KEY), ACCT_ANN_REGIONS));
  acct_exec_free(F.e);
  F.e = acct_exec_new(&F.d);
  report_live = true;
  ck_assert_int_lt(drive(400), 400);
  ck_assert_int_eq(count(calls, " RunInstances"), 2); /* one per region */
  ck_assert_int_eq(count(calls, " TerminateInstances"), 2);
}
END_TEST

/* A process that saw the AWS account created makes none of the lookups
 * that only matter after a crash; a restarted one makes them all (the
 * bootstrap progress it kept in memory is gone too). */
START_TEST(lookups_only_after_a_restart)
{
  add_account();
  ck_assert_int_lt(drive(400), 400);
  ck_assert_int_eq(count(calls, "ListAccessKeys"), 0);
  ck_assert_int_eq(count(calls, "GetUser"), 0);
  ck_assert_int_eq(count(calls, "GetRole"), 0);
  ck_assert_int_eq(count(calls, " DescribeInstances"), 0);
  ck_assert_int_eq(count(calls, " DescribeCases"), 1); /* the poll */
  ck_assert_int_eq(n_gets, 0);
  teardown();
  setup();
  add_account();
  drive_until("AttachUserPolicy");
  ck_assert_ptr_null(obj_annotation(store_get(accounts, KEY), ACCT_ANN_IAM));
  acct_exec_free(F.e);
  F.e = acct_exec_new(&F.d);
  ck_assert_int_lt(drive(400), 400);
  ck_assert_int_eq(count(calls, "CreateRole"), 2); /* redone */
  ck_assert_int_eq(count(calls, "ListAccessKeys"), 1);
  ck_assert_int_gt(n_gets, 0);                             /* the IAM Secret */
  ck_assert_int_eq(count(calls, " DescribeInstances"), 2); /* per region */
  ck_assert_str_eq(obj_annotation(store_get(accounts, KEY), ACCT_ANN_IAM),
                   "user-policy");
}
END_TEST

START_TEST(region_init_falls_back_to_t2)
{
  for (int mode = 0; mode < 2; mode++) {
    teardown();
    setup();
    no_t3_region = "eu-west-1";
    no_t3_error = mode == 1;
    add_account();
    ck_assert_int_lt(drive(400), 400);
    ck_assert_str_eq(run_types, "eu-west-1=t2.micro us-east-1=t3.micro ");
    ck_assert_int_eq(count(calls, "DescribeInstanceTypes"), 2);
    ck_assert_int_eq(count(calls, "TerminateInstances"), 2);
  }
}
END_TEST

/* FedRAMP: the AdministratorAccess ARNs are in aws-us-gov and region
 * initialization is skipped (GovCloud is bring-your-own-VPC). */
START_TEST(govcloud_policy_arns_and_no_region_init)
{
  json_t *cm = configmap();

  json_object_set_new(json_object_get(cm, "data"), "fedramp",
                      json_string("true"));
  exec_cfg_apply(F.cfg, cm);
  json_decref(cm);
  ck_assert(exec_cfg_get(F.cfg)->fedramp);
  add_account();
  ck_assert_int_lt(drive(400), 400);
  ck_assert_str_eq(policy_arns,
                   "arn:aws-us-gov:iam::aws:policy/AdministratorAccess "
                   "arn:aws-us-gov:iam::aws:policy/AdministratorAccess ");
  ck_assert_int_eq(count(calls, "RunInstances"), 0);
  ck_assert_int_eq(count(calls, "DescribeInstanceTypes"), 0);
}
END_TEST

/* Global quotas (IAM's L-FE177D64) are read and requested in the
 * partition's global region: us-east-1, or us-gov-west-1 in FedRAMP. */
START_TEST(global_quota_in_the_partitions_global_region)
{
  static const char *const want[] = { "L-FE177D64@us-east-1 ",
                                      "L-FE177D64@us-gov-west-1 " };

  for (int fedramp = 0; fedramp < 2; fedramp++) {
    json_t *cm = configmap(), *a;

    teardown();
    setup();
    if (fedramp) {
      json_object_set_new(json_object_get(cm, "data"), "fedramp",
                          json_string("true"));
      exec_cfg_apply(F.cfg, cm);
    }
    json_decref(cm);
    add_account();
    a = json_deep_copy(store_get(accounts, KEY));
    json_object_set_new(json_object_get(a, "spec"), "globalServiceQuotas",
                        json_pack("{s:{s:i}}", "L-FE177D64", "value", 5000));
    store_put_new(accounts, a, NULL);
    ck_assert_int_lt(drive(400), 400);
    ck_assert_str_eq(quota_regions, want[fedramp]);
    ck_assert_str_eq(obj_str0(store_get(accounts, KEY),
                              "status.globalServiceQuotas.L-FE177D64.status"),
                     "COMPLETED");
  }
}
END_TEST

static Suite *acct_exec_suite(void)
{
  Suite *s = suite_create("acct_exec");
  TCase *tc = tcase_create("exec");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, lifecycle_to_ready);
  tcase_add_test(tc, sts_account_by_role_chain_to_ready);
  tcase_add_test(tc, sts_refused_role_fails_the_account);
  tcase_add_test(tc, byoc_account_to_ready);
  tcase_add_test(tc, create_account_composite);
  tcase_add_test(tc, create_pass_goes_to_the_queue_head);
  tcase_add_test(tc, create_annotation_conflict_keeps_request_in_obs);
  tcase_add_test(tc, create_write_not_cached_yet_is_not_written_again);
  tcase_add_test(tc, status_write_not_cached_yet_is_not_written_again);
  tcase_add_test(tc, secret_exists_drops_new_key);
  tcase_add_test(tc, aws_error_is_observed_and_requeued_at_once);
  tcase_add_test(tc, missing_credentials_wait_without_calls);
  tcase_add_test(tc, ready_account_reconcile_makes_no_request);
  tcase_add_test(tc, conflict_requeues_at_once);
  tcase_add_test(tc, deleted_object_drops_observation);
  tcase_add_test(tc, deletion_cleans_iam_then_removes_finalizer);
  tcase_add_test(tc, iam_cleanup_resumes_after_restart);
  tcase_add_test(tc, region_progress_written_once);
  tcase_add_test(tc, region_restart_terminates_the_unrecorded_instance);
  tcase_add_test(tc, ready_duration_counts_from_creating);
  tcase_add_test(tc, support_case_found_after_a_crash);
  tcase_add_test(tc, lookups_only_after_a_restart);
  tcase_add_test(tc, region_init_falls_back_to_t2);
  tcase_add_test(tc, govcloud_policy_arns_and_no_region_init);
  tcase_add_test(tc, global_quota_in_the_partitions_global_region);
  tcase_add_test(tc, key_rotation_resumes_and_deletes_old_key_after_grace);
  tcase_add_test(tc, revocation_on_reuse_revends_and_clears_the_flag);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(acct_exec_suite)
