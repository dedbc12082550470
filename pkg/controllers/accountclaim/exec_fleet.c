/* AccountClaim executor: the Fleet Manager actions (plan.h,
 * plan_fleet.c). In the claimed account, through its
 * OrganizationAccountAccessRole: ensure or delete managed-sts-role and its
 * inline policy, delete the IAM users tagged for the account; in
 * Kubernetes: the claim's role_arn Secret. Each action ends in one
 * struct claim_obs; a list is read, its items deleted, and read again
 * while AWS says there is more, so no list result outlives its callback
 * and a repeat after a crash just reads again. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core/creds.h"
#include "aws/core/errors.h"
#include "controllers/accountclaim/exec_int.h"
#include "controllers/common/obj.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"

#define OAAR "OrganizationAccountAccessRole"
#define FL_MAX_OPS 2000 /* an entity that never goes away */

struct fl_job;
typedef void (*fl_fn)(struct fl_job *j);

struct fl_job {
  struct claim_job *cj;
  const struct claim_step *st; /* the job's step (lives as long as cj) */
  struct aws_api *api;
  struct aws_target t;
  struct aws_creds *acct; /* owned: the assumed role's session */
  json_t *users;          /* DELETE_USERS: every user name */
  size_t uidx;
  json_t *items; /* the list being worked: policy names/ARNs, keys */
  size_t idx;
  bool more; /* the list was truncated: read it again when done */
  char *marker;
  unsigned ops;
  fl_fn then; /* after the role is purged */
  struct claim_obs obs;
};

static void fl_finish(struct fl_job *j, int err, const struct aws_error *ae)
{
  struct claim_job *cj = j->cj;
  struct claim_obs o;

  j->obs.result = err;
  if (err && ae && ae->code[0])
    str_copy(j->obs.aws_code, ae->code, sizeof(j->obs.aws_code));
  if (err)
    log_warn("accountclaim", "%s: %s: %s", cj->base.key,
             claim_action_name(j->st->action),
             ae && ae->code[0] ? ae->code : op_strerror(err));
  if (j->acct)
    aws_creds_unref(j->acct);
  json_decref(j->users);
  json_decref(j->items);
  free(j->marker);
  o = j->obs;
  free(j);
  claim__action_done(cj, &o);
}

/* After starting a call: a synchronous failure ends the job. */
static void fl_check(struct fl_job *j, int rc)
{
  if (rc < 0)
    fl_finish(j, rc, NULL);
}

static bool no_such(int err, const struct aws_error *ae)
{
  return err == OP_ENOTFOUND || (ae && str_eq(ae->code, "NoSuchEntity"));
}

static const char *item(const struct fl_job *j)
{
  return json_string_value(json_array_get(j->items, j->idx));
}

static void items_reset(struct fl_job *j, bool truncated)
{
  json_decref(j->items);
  j->items = json_array();
  j->idx = 0;
  j->more = truncated;
}

/* ---- documents ----------------------------------------------------------- */

static char *trust_doc_new(const char *trust)
{
  json_t *d = json_pack("{s:s, s:[{s:s, s:[s], s:{s:[s]}}]}", "Version",
                        "2012-10-17", "Statement", "Effect", "Allow", "Action",
                        "sts:AssumeRole", "Principal", "AWS", trust);
  char *s = d ? json_dumps(d, JSON_COMPACT) : NULL;

  json_decref(d);
  return s;
}

/* One value or a one-element array holding it. */
static bool only(const json_t *v, const char *want)
{
  if (json_is_array(v))
    return json_array_size(v) == 1 &&
           str_eq(json_string_value(json_array_get(v, 0)), want);
  return str_eq(json_string_value(v), want);
}

/* The role trusts exactly `trust` for sts:AssumeRole, nothing else. */
static bool trust_matches(const char *doc, const char *trust)
{
  json_t *d = doc ? json_loads(doc, 0, NULL) : NULL;
  json_t *sts = json_object_get(d, "Statement"), *s;
  bool ok;

  s = json_is_array(sts) && json_array_size(sts) == 1 ? json_array_get(sts, 0)
                                                      : sts;
  ok = json_is_object(s) && str_eq(obj_str(s, "Effect"), "Allow") &&
       only(json_object_get(s, "Action"), "sts:AssumeRole") &&
       only(obj_get(s, "Principal.AWS"), trust) &&
       json_object_size(json_object_get(s, "Principal")) == 1 &&
       !json_object_get(s, "Condition");
  json_decref(d);
  return ok;
}

/* Upstream's AAO-CustomPolicy: IAM roles, policies, OIDC providers and
 * instance profiles of this account, Secrets Manager and web-identity
 * federation for the cluster's operators, and S3. */
static const char *const fleet_actions[] = {
  "iam:GetPolicyVersion",
  "iam:DeletePolicyVersion",
  "iam:CreatePolicyVersion",
  "iam:UpdateAssumeRolePolicy",
  "secretsmanager:DescribeSecret",
  "iam:ListRoleTags",
  "secretsmanager:PutSecretValue",
  "secretsmanager:CreateSecret",
  "iam:TagRole",
  "secretsmanager:DeleteSecret",
  "iam:UpdateOpenIDConnectProviderThumbprint",
  "iam:DeletePolicy",
  "iam:CreateRole",
  "iam:AttachRolePolicy",
  "iam:ListInstanceProfilesForRole",
  "secretsmanager:GetSecretValue",
  "iam:DetachRolePolicy",
  "iam:ListAttachedRolePolicies",
  "iam:ListPolicyTags",
  "iam:ListRolePolicies",
  "iam:DeleteOpenIDConnectProvider",
  "iam:DeleteInstanceProfile",
  "iam:GetRole",
  "iam:GetPolicy",
  "iam:ListEntitiesForPolicy",
  "iam:DeleteRole",
  "iam:TagPolicy",
  "iam:CreateOpenIDConnectProvider",
  "iam:CreatePolicy",
  "secretsmanager:GetResourcePolicy",
  "iam:ListPolicyVersions",
  "iam:UpdateRole",
  "iam:GetOpenIDConnectProvider",
  "iam:TagOpenIDConnectProvider",
  "secretsmanager:TagResource",
  "sts:AssumeRoleWithWebIdentity",
  "iam:ListRoles",
};

static char *policy_doc_new(const char *partition, const char *id)
{
  static const char *const kinds[] = { "instance-profile", "role",
                                       "oidc-provider", "policy" };
  json_t *acts = json_array(), *res = json_array(), *d;
  char arn[128], *s;
  size_t i;

  for (i = 0; i < sizeof(fleet_actions) / sizeof(fleet_actions[0]); i++)
    json_array_append_new(acts, json_string(fleet_actions[i]));
  for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    str_fmt(arn, sizeof(arn), "arn:%s:iam::%s:%s/*", partition, id, kinds[i]);
    json_array_append_new(res, json_string(arn));
  }
  d = json_pack("{s:s, s:[{s:s, s:s, s:o, s:o}, {s:s, s:s, s:[s], s:[s]}]}",
                "Version", "2012-10-17", "Statement", "Sid", "VisualEditor0",
                "Effect", "Allow", "Action", acts, "Resource", res, "Sid",
                "VisualEditor1", "Effect", "Allow", "Action", "s3:*",
                "Resource", "*");
  s = d ? json_dumps(d, JSON_COMPACT) : NULL;
  json_decref(d);
  return s;
}

/* ---- role: purge (inline policies, attached policies, the role) -------- */

static void purge_inline(struct fl_job *j);
static void purge_attached(struct fl_job *j);

static void role_deleted(int err, const struct aws_error *ae,
                         const struct aws_empty_result *r, void *arg)
{
  struct fl_job *j = arg;

  (void)r;
  if (err && !no_such(err, ae))
    return fl_finish(j, err, ae);
  j->then(j);
}

static void detached(int err, const struct aws_error *ae,
                     const struct aws_empty_result *r, void *arg)
{
  struct fl_job *j = arg;
  struct aws_iam_role_req rq = { CLAIM_FLEET_ROLE };

  (void)r;
  if (err && !no_such(err, ae))
    return fl_finish(j, err, ae);
  j->idx++;
  if (item(j)) {
    struct aws_iam_role_policy_req dq = { CLAIM_FLEET_ROLE, item(j) };

    return fl_check(
        j, j->api->detach_role_policy(j->api, &j->t, &dq, detached, j));
  }
  if (j->more)
    return purge_attached(j);
  fl_check(j, j->api->delete_role(j->api, &j->t, &rq, role_deleted, j));
}

static void attached_listed(int err, const struct aws_error *ae,
                            const struct aws_iam_attached_result *r, void *arg)
{
  struct fl_job *j = arg;

  if (err && no_such(err, ae))
    return j->then(j);
  if (err)
    return fl_finish(j, err, ae);
  items_reset(j, r->is_truncated);
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].policy_arn)
      json_array_append_new(j->items, json_string(r->v[i].policy_arn));
  j->idx = (size_t)-1; /* detached() steps to the first */
  detached(0, NULL, NULL, j);
}

static void purge_attached(struct fl_job *j)
{
  struct aws_iam_role_page_req rq = { .role_name = CLAIM_FLEET_ROLE };

  if (++j->ops > FL_MAX_OPS)
    return fl_finish(j, OP_ETIMEDOUT, NULL);
  fl_check(j, j->api->list_attached_role_policies(j->api, &j->t, &rq,
                                                  attached_listed, j));
}

static void inline_deleted(int err, const struct aws_error *ae,
                           const struct aws_empty_result *r, void *arg)
{
  struct fl_job *j = arg;

  (void)r;
  if (err && !no_such(err, ae))
    return fl_finish(j, err, ae);
  j->idx++;
  if (item(j)) {
    struct aws_delete_role_policy_req dq = { CLAIM_FLEET_ROLE, item(j) };

    return fl_check(
        j, j->api->delete_role_policy(j->api, &j->t, &dq, inline_deleted, j));
  }
  if (j->more)
    return purge_inline(j);
  purge_attached(j);
}

static void inline_listed(int err, const struct aws_error *ae,
                          const struct aws_iam_names_result *r, void *arg)
{
  struct fl_job *j = arg;

  if (err && no_such(err, ae))
    return j->then(j); /* no role at all */
  if (err)
    return fl_finish(j, err, ae);
  items_reset(j, r->is_truncated);
  for (size_t i = 0; i < r->names.n; i++)
    json_array_append_new(j->items, json_string(r->names.v[i]));
  j->idx = (size_t)-1; /* inline_deleted() steps to the first */
  inline_deleted(0, NULL, NULL, j);
}

/* Delete the role and everything on it, then j->then(j). */
static void purge_inline(struct fl_job *j)
{
  struct aws_iam_role_page_req rq = { .role_name = CLAIM_FLEET_ROLE };

  if (++j->ops > FL_MAX_OPS)
    return fl_finish(j, OP_ETIMEDOUT, NULL);
  fl_check(j, j->api->list_role_policies(j->api, &j->t, &rq, inline_listed, j));
}

static void finish_ok(struct fl_job *j)
{
  fl_finish(j, 0, NULL);
}

/* ---- role: ensure -------------------------------------------------------- */

static void policy_put(int err, const struct aws_error *ae,
                       const struct aws_empty_result *r, void *arg)
{
  (void)r;
  fl_finish(arg, err, ae);
}

static void put_policy(struct fl_job *j)
{
  char *doc = policy_doc_new(j->st->partition, j->st->account_id);
  struct aws_put_role_policy_req rq = { CLAIM_FLEET_ROLE, CLAIM_FLEET_POLICY,
                                        doc };

  if (!doc)
    return fl_finish(j, OP_ENOMEM, NULL);
  fl_check(j, j->api->put_role_policy(j->api, &j->t, &rq, policy_put, j));
  free(doc);
}

static void role_created(int err, const struct aws_error *ae,
                         const struct aws_iam_role_result *r, void *arg)
{
  (void)r;
  if (err)
    return fl_finish(arg, err, ae);
  put_policy(arg);
}

static void create_role(struct fl_job *j)
{
  char *doc = trust_doc_new(j->st->trust_arn);
  struct aws_create_role_req rq = { .role_name = CLAIM_FLEET_ROLE,
                                    .assume_role_policy_document = doc,
                                    .description = "Managed by AAO" };

  if (!doc)
    return fl_finish(j, OP_ENOMEM, NULL);
  fl_check(j, j->api->create_role(j->api, &j->t, &rq, role_created, j));
  free(doc);
}

static void role_got(int err, const struct aws_error *ae,
                     const struct aws_iam_role_result *r, void *arg)
{
  struct fl_job *j = arg;

  if (err && no_such(err, ae))
    return create_role(j);
  if (err)
    return fl_finish(j, err, ae);
  if (trust_matches(r->role.assume_role_policy_document, j->st->trust_arn))
    return put_policy(j);
  /* Another principal: upstream deletes and recreates, so do we. */
  j->then = create_role;
  purge_inline(j);
}

/* ---- IAM users tagged for the account ------------------------------------ */

static void user_next(struct fl_job *j);
static void list_users(struct fl_job *j);

static const char *user(const struct fl_job *j)
{
  return json_string_value(json_array_get(j->users, j->uidx));
}

static void user_deleted(int err, const struct aws_error *ae,
                         const struct aws_empty_result *r, void *arg)
{
  struct fl_job *j = arg;

  (void)r;
  if (err && !no_such(err, ae))
    return fl_finish(j, err, ae);
  j->uidx++;
  user_next(j);
}

static void user_detached(int err, const struct aws_error *ae,
                          const struct aws_empty_result *r, void *arg)
{
  struct fl_job *j = arg;
  struct aws_iam_user_req uq = { user(j) };

  (void)r;
  if (err && !no_such(err, ae))
    return fl_finish(j, err, ae);
  j->idx++;
  if (item(j)) {
    struct aws_iam_user_policy_req dq = { user(j), item(j) };

    return fl_check(
        j, j->api->detach_user_policy(j->api, &j->t, &dq, user_detached, j));
  }
  fl_check(j, j->api->delete_user(j->api, &j->t, &uq, user_deleted, j));
}

static void user_policies(int err, const struct aws_error *ae,
                          const struct aws_iam_attached_result *r, void *arg)
{
  struct fl_job *j = arg;

  if (err)
    return fl_finish(j, err, ae);
  items_reset(j, false);
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].policy_arn)
      json_array_append_new(j->items, json_string(r->v[i].policy_arn));
  j->idx = (size_t)-1;
  user_detached(0, NULL, NULL, j);
}

static void key_deleted(int err, const struct aws_error *ae,
                        const struct aws_empty_result *r, void *arg)
{
  struct fl_job *j = arg;
  struct aws_iam_user_page_req pq = { .user_name = user(j) };

  (void)r;
  if (err && !no_such(err, ae))
    return fl_finish(j, err, ae);
  j->idx++;
  if (item(j)) {
    struct aws_iam_delete_access_key_req dq = { user(j), item(j) };

    return fl_check(
        j, j->api->delete_access_key(j->api, &j->t, &dq, key_deleted, j));
  }
  fl_check(j, j->api->list_attached_user_policies(j->api, &j->t, &pq,
                                                  user_policies, j));
}

static void keys_listed(int err, const struct aws_error *ae,
                        const struct aws_iam_access_keys_result *r, void *arg)
{
  struct fl_job *j = arg;

  if (err)
    return fl_finish(j, err, ae);
  items_reset(j, false);
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].access_key_id)
      json_array_append_new(j->items, json_string(r->v[i].access_key_id));
  j->idx = (size_t)-1;
  key_deleted(0, NULL, NULL, j);
}

static bool tagged_for_us(const struct fl_job *j,
                          const struct aws_tags_result *r)
{
  bool name = false, ns = false;

  for (size_t i = 0; i < r->n; i++) {
    if (str_eq(r->v[i].key, "clusterAccountName") &&
        str_eq(r->v[i].value, j->st->account_name))
      name = true;
    if (str_eq(r->v[i].key, "clusterNamespace") &&
        str_eq(r->v[i].value, j->cj->e->ns))
      ns = true;
  }
  return name && ns;
}

static void tags_got(int err, const struct aws_error *ae,
                     const struct aws_tags_result *r, void *arg)
{
  struct fl_job *j = arg;
  struct aws_iam_user_page_req kq = { .user_name = user(j) };

  if (err && !no_such(err, ae))
    return fl_finish(j, err, ae);
  if (err || !tagged_for_us(j, r)) {
    j->uidx++;
    return user_next(j);
  }
  log_info("accountclaim", "%s: deleting IAM user %s (Fleet Manager claim)",
           j->cj->base.key, user(j));
  fl_check(j, j->api->list_access_keys(j->api, &j->t, &kq, keys_listed, j));
}

static void user_next(struct fl_job *j)
{
  struct aws_iam_user_page_req rq = { .user_name = user(j) };

  if (!user(j))
    return fl_finish(j, 0, NULL);
  if (++j->ops > FL_MAX_OPS)
    return fl_finish(j, OP_ETIMEDOUT, NULL);
  fl_check(j, j->api->list_user_tags(j->api, &j->t, &rq, tags_got, j));
}

static void users_listed(int err, const struct aws_error *ae,
                         const struct aws_iam_users_result *r, void *arg)
{
  struct fl_job *j = arg;

  if (err)
    return fl_finish(j, err, ae);
  for (size_t i = 0; i < r->n; i++)
    if (r->v[i].user_name)
      json_array_append_new(j->users, json_string(r->v[i].user_name));
  free(j->marker);
  j->marker =
      r->is_truncated && !str_empty(r->marker) ? strdup(r->marker) : NULL;
  if (j->marker)
    return list_users(j);
  j->uidx = 0;
  user_next(j);
}

static void list_users(struct fl_job *j)
{
  struct aws_iam_list_req rq = { .marker = j->marker };

  if (++j->ops > FL_MAX_OPS)
    return fl_finish(j, OP_ETIMEDOUT, NULL);
  fl_check(j, j->api->list_users(j->api, &j->t, &rq, users_listed, j));
}

/* ---- start: assume the account's role ------------------------------------ */

static void assumed(int err, const struct aws_error *ae,
                    const struct aws_sts_creds_result *r, void *arg)
{
  struct fl_job *j = arg;
  struct aws_iam_role_req gq = { CLAIM_FLEET_ROLE };

  if (err)
    return fl_finish(j, err, ae);
  j->acct =
      aws_creds_static_new(r->creds.access_key_id, r->creds.secret_access_key,
                           r->creds.session_token);
  if (!j->acct)
    return fl_finish(j, OP_EAUTH, NULL);
  j->t.creds = j->acct;
  j->t.account = j->st->account_id; /* rate-governor key: the member */
  switch (j->st->action) {
  case CLAIM_FLEET_ENSURE_ROLE:
    return fl_check(j, j->api->get_role(j->api, &j->t, &gq, role_got, j));
  case CLAIM_FLEET_DELETE_ROLE:
    j->then = finish_ok;
    return purge_inline(j);
  default: /* CLAIM_FLEET_DELETE_USERS */
    j->users = json_array();
    return list_users(j);
  }
}

static int start_aws(struct claim_job *cj)
{
  struct claim_exec *e = cj->e;
  struct aws_creds *mgmt =
      e->d.mgmt_creds ? e->d.mgmt_creds(e->d.creds_arg) : NULL;
  char arn[160];
  struct aws_assume_role_req rq = { .role_arn = arn,
                                    .role_session_name = "awsAccountOperator" };
  struct fl_job *j;
  int rc;

  if (!mgmt)
    return OP_ENOTFOUND;
  if (str_empty(cj->st.account_id) ||
      exec_role_arn(cj->st.partition, cj->st.account_id, OAAR, arn,
                    sizeof(arn)))
    return OP_EINVAL;
  j = calloc(1, sizeof(*j));
  if (!j)
    return OP_ENOMEM;
  j->cj = cj;
  j->st = &cj->st;
  j->api = e->d.api;
  j->t = (struct aws_target){ .creds = mgmt, .controller = "accountclaim" };
  rc = j->api->assume_role(j->api, &j->t, &rq, assumed, j);
  if (rc < 0)
    free(j);
  return rc;
}

/* ---- the role_arn Secret ------------------------------------------------- */

static json_t *role_data_new(const char *arn)
{
  size_t n = strlen(arn);
  unsigned char *b = calloc(1, 4 * ((n + 2) / 3) + 1);
  json_t *d;

  if (!b)
    return NULL;
  EVP_EncodeBlock(b, (const unsigned char *)arn, (int)n);
  d = json_pack("{s:s}", "role_arn", (const char *)b);
  free(b);
  return d;
}

/* The Secret exists already: its data becomes role_arn alone. */
static void secret_got(int err, json_t *obj, const struct op_error *det,
                       void *arg)
{
  struct claim_job *cj = arg;
  const struct exec_kio *k = &cj->e->d.kio;
  json_t *s = err ? NULL : json_deep_copy(obj);
  int rc;

  if (!s)
    return claim__kio_done(err ? err : OP_ENOMEM, NULL, det, cj);
  json_object_set_new(s, "data", role_data_new(cj->st.role_arn));
  json_object_del(s, "stringData");
  rc = k->update(k->arg, &exec_gvr_secrets, s, claim__kio_done, cj);
  json_decref(s);
  if (rc < 0)
    claim__kio_done(rc, NULL, NULL, cj);
}

static void secret_created(int err, json_t *obj, const struct op_error *det,
                           void *arg)
{
  struct claim_job *cj = arg;
  const struct exec_kio *k = &cj->e->d.kio;
  int rc;

  if (err != OP_EEXIST && err != OP_ECONFLICT)
    return claim__kio_done(err, obj, det, cj);
  rc = k->get(k->arg, &exec_gvr_secrets, cj->st.secret_namespace,
              cj->st.secret_name, secret_got, cj);
  if (rc < 0)
    claim__kio_done(rc, NULL, NULL, cj);
}

static int write_secret(struct claim_job *cj)
{
  const struct exec_kio *k = &cj->e->d.kio;
  json_t *s =
      json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:o}", "apiVersion", "v1",
                "kind", "Secret", "metadata", "name", cj->st.secret_name,
                "namespace", cj->st.secret_namespace, "type", "Opaque", "data",
                role_data_new(cj->st.role_arn));
  int rc;

  if (!s)
    return OP_ENOMEM;
  rc = k->create(k->arg, &exec_gvr_secrets, cj->st.secret_namespace, s,
                 secret_created, cj);
  json_decref(s);
  return rc;
}

int claim__start_fleet(struct exec_job *b)
{
  struct claim_job *cj = (struct claim_job *)b;

  if (cj->st.action == CLAIM_FLEET_WRITE_SECRET)
    return write_secret(cj);
  return start_aws(cj);
}
