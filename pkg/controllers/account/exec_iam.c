/* Account executor: IAM bootstrap through the account's
 * OrganizationAccountAccessRole (support role, IAM user, user policy). */
#include <stdlib.h>
#include <string.h>

#include "aws/core/creds.h"
#include "aws/core/endpoints.h"
#include "aws/core/errors.h"
#include "controllers/account/exec_int.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"

#define API(j) exec_aws_api((j)->e->d.aws)
#define MAX_TAGS 32

/* The AWS managed AdministratorAccess policy in the step's partition. */
struct policy_arn {
  char v[96];
};

static struct policy_arn admin_policy(const struct acct_job *j)
{
  struct policy_arn p = { "" };

  aws_arn_fmt(p.v, sizeof(p.v), j->st.partition, "iam", "aws",
              "policy/AdministratorAccess");
  return p;
}

static size_t step_tags(const struct acct_job *j, struct aws_tag *t)
{
  size_t n = 0;
  const char *k;
  json_t *v;

  json_object_foreach(j->st.tags, k, v)
  {
    if (n < MAX_TAGS && json_is_string(v))
      t[n++] = (struct aws_tag){ k, json_string_value(v) };
  }
  return n;
}

static void empty_done(int err, const struct aws_error *ae,
                       const struct aws_empty_result *r, void *arg)
{
  (void)r;
  acct__aws_finish(arg, err, ae);
}

/* ---- support role ---- */

static void role_attached(int err, const struct aws_error *ae,
                          const struct aws_empty_result *r, void *arg)
{
  (void)r;
  acct__aws_finish(arg, err, ae);
}

static void role_attach(struct acct_job *j)
{
  struct policy_arn admin = admin_policy(j);
  struct aws_iam_role_policy_req rq = { j->st.role_name, admin.v };
  int rc =
      API(j)->attach_role_policy(API(j), &j->acct_t, &rq, role_attached, j);

  if (rc)
    acct__aws_finish(j, rc, NULL);
}

static void role_detach_next(struct acct_job *j);

static void role_detached(int err, const struct aws_error *ae,
                          const struct aws_empty_result *r, void *arg)
{
  struct acct_job *j = arg;

  (void)r;
  if (err)
    return acct__aws_finish(j, err, ae);
  role_detach_next(j);
}

/* Detach every policy other than AdministratorAccess (j->list). */
static void role_detach_next(struct acct_job *j)
{
  const char *arn;
  struct aws_iam_role_policy_req rq = { .role_name = j->st.role_name };
  struct policy_arn admin = admin_policy(j);
  int rc;

  while (j->idx < json_array_size(j->list)) {
    arn = json_string_value(json_array_get(j->list, j->idx++));
    if (str_eq(arn, admin.v))
      continue;
    rq.policy_arn = arn;
    rc = API(j)->detach_role_policy(API(j), &j->acct_t, &rq, role_detached, j);
    if (rc)
      acct__aws_finish(j, rc, NULL);
    return;
  }
  role_attach(j);
}

static void role_policies_listed(int err, const struct aws_error *ae,
                                 const struct aws_iam_attached_result *r,
                                 void *arg)
{
  struct acct_job *j = arg;

  if (err)
    return acct__aws_finish(j, err, ae);
  json_decref(j->list);
  j->list = json_array();
  j->idx = 0;
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].policy_arn)
      json_array_append_new(j->list, json_string(r->v[i].policy_arn));
  role_detach_next(j);
}

/* Create first (a new account has no role; no GetRole on the happy
 * path); a role that exists keeps only AdministratorAccess attached. */
static void role_created(int err, const struct aws_error *ae,
                         const struct aws_iam_role_result *r, void *arg)
{
  struct acct_job *j = arg;
  struct aws_iam_role_page_req lq = { .role_name = j->st.role_name };
  int rc;

  (void)r;
  if (!err)
    return role_attach(j);
  if (!acct__code_is(ae, "EntityAlreadyExists"))
    return acct__aws_finish(j, err, ae);
  rc = API(j)->list_attached_role_policies(API(j), &j->acct_t, &lq,
                                           role_policies_listed, j);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

static char *trust_policy_new(const struct acct_job *j)
{
  json_t *arns = json_array(), *doc;
  char *s;

  json_array_append_new(arns, json_string(j->arn));
  if (!str_empty(j->st.trust_arn))
    json_array_append_new(arns, json_string(j->st.trust_arn));
  doc = json_pack("{s:s, s:[{s:s, s:{s:o}, s:s}]}", "Version", "2012-10-17",
                  "Statement", "Effect", "Allow", "Principal", "AWS", arns,
                  "Action", "sts:AssumeRole");
  s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
  json_decref(doc);
  return s;
}

static int create_role(struct acct_job *j)
{
  struct aws_tag tags[MAX_TAGS];
  struct aws_create_role_req cq = {
    .role_name = j->st.role_name,
    .description = "AdminAccess for BYOC",
    .tags = tags,
  };
  char *doc = trust_policy_new(j);
  int rc;

  if (!doc)
    return OP_ENOMEM;
  cq.assume_role_policy_document = doc;
  cq.ntags = step_tags(j, tags);
  rc = API(j)->create_role(API(j), &j->acct_t, &cq, role_created, j);
  free(doc);
  return rc;
}

static void caller_got(int err, const struct aws_error *ae,
                       const struct aws_caller_identity_result *r, void *arg)
{
  struct acct_job *j = arg;
  int rc;

  if (err || !r->arn)
    return acct__aws_finish(j, err ? err : OP_EPARSE, ae);
  str_copy(j->arn, r->arn, sizeof(j->arn));
  if (!aws_creds_is_role_session(j->mgmt_t.creds)) {
    str_copy(j->e->caller_label, aws_creds_label(j->mgmt_t.creds),
             sizeof(j->e->caller_label));
    str_copy(j->e->caller_arn, r->arn, sizeof(j->e->caller_arn));
  }
  rc = create_role(j);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

/* The management identity is the same for every account: asked once per
 * set of static keys (a role session's ARN names the session). */
static int support_role(struct acct_job *j)
{
  struct aws_sts_none_req rq = { 0 };
  struct acct_exec *e = j->e;

  if (e->caller_arn[0] && !aws_creds_is_role_session(j->mgmt_t.creds) &&
      str_eq(e->caller_label, aws_creds_label(j->mgmt_t.creds))) {
    str_copy(j->arn, e->caller_arn, sizeof(j->arn));
    return create_role(j);
  }
  return API(j)->get_caller_identity(API(j), &j->mgmt_t, &rq, caller_got, j);
}

/* ---- IAM user ---- */

static void user_created(int err, const struct aws_error *ae,
                         const struct aws_iam_user_result *r, void *arg)
{
  (void)r;
  if (acct__code_is(ae, "EntityAlreadyExists"))
    err = 0;
  acct__aws_finish(arg, err, ae);
}

/* Create first: a new account has no user, an existing one is kept (as
 * upstream's GetUser then CreateUser, without the GetUser). */
static int create_user(struct acct_job *j)
{
  struct aws_tag tags[MAX_TAGS];
  struct aws_create_user_req rq = { .user_name = j->st.user_name,
                                    .tags = tags };

  rq.ntags = step_tags(j, tags);
  return API(j)->create_user(API(j), &j->acct_t, &rq, user_created, j);
}

int acct__exec_iam(struct acct_job *j)
{
  struct policy_arn admin = admin_policy(j);
  struct aws_iam_user_policy_req pq = { j->st.user_name, admin.v };
  int rc = acct__account_target(j, NULL);

  if (rc)
    return rc;
  switch (j->st.action) {
  case ACCT_ENSURE_SUPPORT_ROLE:
    return support_role(j);
  case ACCT_ENSURE_IAM_USER:
    return create_user(j);
  case ACCT_ATTACH_USER_POLICY:
    return API(j)->attach_user_policy(API(j), &j->acct_t, &pq, empty_done, j);
  default:
    return OP_EINVAL;
  }
}
