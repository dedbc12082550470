/* aws_driver, all-ops: the IAM steps (user and access key, role,
 * managed policy). */
#include <string.h>

#include "driver_int.h"
#include "util/err.h"
#include "util/str.h"

/* ---- IAM: user and access key -------------------------------------------- */

#define AINT_USER "aint-user"
#define AINT_ROLE "aint-role"
#define ADMIN_ARN "arn:aws:iam::aws:policy/AdministratorAccess"
#define RO_ARN "arn:aws:iam::aws:policy/ReadOnlyAccess"

int s_create_user(struct drv *d)
{
  static const struct aws_tag tags[] = { { "managed-by", "aint" } };
  struct aws_create_user_req rq = { AINT_USER, "/", tags, 1 };

  return CALL(d, create_user, &d->xt, &rq, NULL);
}

int s_get_user(struct drv *d)
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

int s_list_users(struct drv *d)
{
  struct aws_iam_list_req rq = { 0 };

  return CALL(d, list_users, &d->xt, &rq, a_list_users);
}

int s_tag_user(struct drv *d)
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

int s_list_user_tags(struct drv *d)
{
  struct aws_iam_user_page_req rq = { .user_name = AINT_USER };

  return CALL(d, list_user_tags, &d->xt, &rq, a_tags2);
}

int s_attach_user_policy(struct drv *d)
{
  struct aws_iam_user_policy_req rq = { AINT_USER, ADMIN_ARN };

  return CALL(d, attach_user_policy, &d->xt, &rq, NULL);
}

static int a_attached1(struct drv *d, const void *res)
{
  const struct aws_iam_attached_result *r = res;

  return r->n == 1 ? 0 : OP_EPARSE;
}

int s_list_attached_user(struct drv *d)
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

int s_create_access_key(struct drv *d)
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

int s_user_identity(struct drv *d)
{
  struct aws_target t = d->xt;
  struct aws_sts_none_req rq = { 0 };

  t.creds = d->user;
  t.account = d->id.user_key;
  return CALL(d, get_caller_identity, &t, &rq, a_user_identity);
}

int s_list_access_keys(struct drv *d)
{
  struct aws_iam_user_page_req rq = { .user_name = AINT_USER };

  return CALL(d, list_access_keys, &d->xt, &rq, NULL);
}

int s_delete_access_key(struct drv *d)
{
  struct aws_iam_delete_access_key_req rq = { AINT_USER, d->id.user_key };

  return CALL(d, delete_access_key, &d->xt, &rq, NULL);
}

int s_detach_user_policy(struct drv *d)
{
  struct aws_iam_user_policy_req rq = { AINT_USER, ADMIN_ARN };

  return CALL(d, detach_user_policy, &d->xt, &rq, NULL);
}

int s_delete_user(struct drv *d)
{
  struct aws_iam_user_req rq = { AINT_USER };

  return CALL(d, delete_user, &d->xt, &rq, NULL);
}

/* ---- IAM: role ----------------------------------------------------------- */

static int a_role(struct drv *d, const void *res)
{
  const struct aws_iam_role_result *r = res;

  return copy_id(d->id.role_arn, sizeof(d->id.role_arn), r->role.arn);
}

int s_create_role(struct drv *d)
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

int s_get_role(struct drv *d)
{
  struct aws_iam_role_req rq = { AINT_ROLE };

  return CALL(d, get_role, &d->xt, &rq, a_get_role);
}

int s_list_roles(struct drv *d)
{
  struct aws_iam_list_req rq = { 0 };

  return CALL(d, list_roles, &d->xt, &rq, NULL);
}

int s_tag_role(struct drv *d)
{
  static const struct aws_tag tags[] = { { "claim", "aint" } };
  struct aws_iam_tag_role_req rq = { AINT_ROLE, tags, 1 };

  return CALL(d, tag_role, &d->xt, &rq, NULL);
}

int s_list_role_tags(struct drv *d)
{
  struct aws_iam_role_page_req rq = { .role_name = AINT_ROLE };

  return CALL(d, list_role_tags, &d->xt, &rq, a_tags2);
}

int s_attach_role_policy(struct drv *d)
{
  struct aws_iam_role_policy_req rq = { AINT_ROLE, RO_ARN };

  return CALL(d, attach_role_policy, &d->xt, &rq, NULL);
}

int s_list_attached_role(struct drv *d)
{
  struct aws_iam_role_page_req rq = { .role_name = AINT_ROLE };

  return CALL(d, list_attached_role_policies, &d->xt, &rq, a_attached1);
}

/* The same trust again (after AssumeRoleWithWebIdentity used it). */
int s_update_trust(struct drv *d)
{
  char doc[512];
  struct aws_update_assume_role_policy_req rq = { AINT_ROLE, doc };

  str_fmt(doc, sizeof(doc),
          "{\"Version\":\"2012-10-17\",\"Statement\":["
          "{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
          "\"arn:aws:iam::%s:root\"},\"Action\":\"sts:AssumeRole\"},"
          "{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":"
          "\"arn:aws:iam::%s:oidc-provider/oidc.fake.local\"},"
          "\"Action\":\"sts:AssumeRoleWithWebIdentity\"}]}",
          d->id.mgmt, d->id.acct);
  return CALL(d, update_assume_role_policy, &d->xt, &rq, NULL);
}

int s_put_role_policy(struct drv *d)
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

int s_list_role_policies(struct drv *d)
{
  struct aws_iam_role_page_req rq = { .role_name = AINT_ROLE };

  return CALL(d, list_role_policies, &d->xt, &rq, a_role_policies);
}

int s_delete_role_policy(struct drv *d)
{
  struct aws_delete_role_policy_req rq = { AINT_ROLE, "inline" };

  return CALL(d, delete_role_policy, &d->xt, &rq, NULL);
}

int s_detach_role_policy(struct drv *d)
{
  struct aws_iam_role_policy_req rq = { AINT_ROLE, RO_ARN };

  return CALL(d, detach_role_policy, &d->xt, &rq, NULL);
}

int s_delete_role(struct drv *d)
{
  struct aws_iam_role_req rq = { AINT_ROLE };

  return CALL(d, delete_role, &d->xt, &rq, NULL);
}

/* ---- IAM: managed policy ------------------------------------------------- */

#define POLICY_DOC(action)                                                     \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","          \
  "\"Action\":\"" action "\",\"Resource\":\"*\"}]}"

static int a_policy(struct drv *d, const void *res)
{
  const struct aws_iam_policy_result *r = res;

  return copy_id(d->id.policy_arn, sizeof(d->id.policy_arn), r->policy.arn);
}

int s_create_policy(struct drv *d)
{
  struct aws_create_policy_req rq = { .policy_name = "aint-policy",
                                      .policy_document =
                                          POLICY_DOC("ec2:Describe*"),
                                      .description = "aws_driver" };

  return CALL(d, create_policy, &d->xt, &rq, a_policy);
}

int s_get_policy(struct drv *d)
{
  struct aws_iam_policy_req rq = { d->id.policy_arn };

  return CALL(d, get_policy, &d->xt, &rq, NULL);
}

int s_list_policies(struct drv *d)
{
  struct aws_list_policies_req rq = { .scope = "Local" };

  return CALL(d, list_policies, &d->xt, &rq, NULL);
}

static int a_policy_version(struct drv *d, const void *res)
{
  const struct aws_iam_policy_version_result *r = res;

  return copy_id(d->id.policy_v, sizeof(d->id.policy_v), r->version.version_id);
}

int s_create_policy_version(struct drv *d)
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

int s_get_policy_version(struct drv *d)
{
  struct aws_iam_policy_version_req rq = { d->id.policy_arn, d->id.policy_v };

  return CALL(d, get_policy_version, &d->xt, &rq, a_get_version);
}

static int a_versions(struct drv *d, const void *res)
{
  const struct aws_iam_policy_versions_result *r = res;

  return r->n == 2 ? 0 : OP_EPARSE;
}

int s_list_policy_versions(struct drv *d)
{
  struct aws_iam_policy_page_req rq = { .policy_arn = d->id.policy_arn };

  return CALL(d, list_policy_versions, &d->xt, &rq, a_versions);
}

int s_delete_policy_version(struct drv *d)
{
  struct aws_iam_policy_version_req rq = { d->id.policy_arn, "v1" };

  return CALL(d, delete_policy_version, &d->xt, &rq, NULL);
}

int s_delete_policy(struct drv *d)
{
  struct aws_iam_policy_req rq = { d->id.policy_arn };

  return CALL(d, delete_policy, &d->xt, &rq, NULL);
}
