/* AWS IAM (Query protocol, version 2010-05-08, XML responses): users,
 * access keys, roles; managed policies are in iam_policy.c. */
#include "aws/iam.h"

#include <stdlib.h>
#include <string.h>

#include "aws/iam_int.h"
#include "util/err.h"
#include "util/util.h"

/* ---- element decoders --------------------------------------------------- */

static int user_item(aws_xnode n, void *elem)
{
  struct aws_iam_user *u = elem;

  u->user_name = aws_ox_str_new(n, "UserName");
  u->user_id = aws_ox_str_new(n, "UserId");
  u->arn = aws_ox_str_new(n, "Arn");
  u->path = aws_ox_str_new(n, "Path");
  return u->user_name ? 0 : OP_EPARSE;
}

static void user_clean(struct aws_iam_user *u)
{
  free(u->user_name);
  free(u->user_id);
  free(u->arn);
  free(u->path);
}

char *aws_iam_doc_str_new(aws_xnode n, const char *path)
{
  char *raw = aws_ox_str_new(n, path), *dec;

  if (!raw)
    return NULL;
  dec = uri_decode_new(raw, false);
  free(raw);
  return dec;
}

static int role_item(aws_xnode n, void *elem)
{
  struct aws_iam_role *r = elem;

  r->role_name = aws_ox_str_new(n, "RoleName");
  r->role_id = aws_ox_str_new(n, "RoleId");
  r->arn = aws_ox_str_new(n, "Arn");
  r->path = aws_ox_str_new(n, "Path");
  r->description = aws_ox_str_new(n, "Description");
  r->assume_role_policy_document =
      aws_iam_doc_str_new(n, "AssumeRolePolicyDocument");
  return r->role_name ? 0 : OP_EPARSE;
}

static void role_clean(struct aws_iam_role *r)
{
  free(r->role_name);
  free(r->role_id);
  free(r->arn);
  free(r->path);
  free(r->description);
  free(r->assume_role_policy_document);
}

static int attached_item(aws_xnode n, void *elem)
{
  struct aws_iam_attached *a = elem;

  a->policy_name = aws_ox_str_new(n, "PolicyName");
  a->policy_arn = aws_ox_str_new(n, "PolicyArn");
  return a->policy_arn ? 0 : OP_EPARSE;
}

static int key_item(aws_xnode n, void *elem)
{
  struct aws_iam_access_key *k = elem;

  k->user_name = aws_ox_str_new(n, "UserName");
  k->access_key_id = aws_ox_str_new(n, "AccessKeyId");
  k->status = aws_ox_str_new(n, "Status");
  k->secret_access_key = aws_ox_str_new(n, "SecretAccessKey");
  aws_ox_wipe(n, "SecretAccessKey");
  return k->access_key_id ? 0 : OP_EPARSE;
}

static void key_clean(struct aws_iam_access_key *k)
{
  free(k->user_name);
  free(k->access_key_id);
  free(k->status);
  util_free_secret(k->secret_access_key);
  k->secret_access_key = NULL;
}

/* ---- decode scaffolding ------------------------------------------------- */

int aws_iam_dec_one(const char *body, size_t len, const char *op,
                    const char *elem, aws_ox_item_fn fn, void *item)
{
  struct aws_xml *doc;
  aws_xnode res;
  int rc = aws_ox_query_open(body, len, op, &doc, &res);

  if (rc)
    return rc;
  res = aws_ox_child(res, elem);
  rc = res ? fn(res, item) : OP_EPARSE;
  aws_xml_free(doc);
  return rc ? OP_EPARSE : 0;
}

int aws_iam_dec_list(const char *body, size_t len, const char *op,
                     const char *list, size_t sz, aws_ox_item_fn fn, void **v,
                     size_t *n, struct iam_page pg)
{
  struct aws_xml *doc;
  aws_xnode res;
  int rc = aws_ox_query_open(body, len, op, &doc, &res);

  if (rc)
    return rc;
  rc = aws_ox_each(aws_ox_child(res, list), "member", sz, fn, v, n);
  *pg.is_truncated = aws_ox_bool(res, "IsTruncated");
  *pg.marker = aws_ox_str_new(res, "Marker");
  aws_xml_free(doc);
  if (!rc && *pg.is_truncated && !*pg.marker)
    rc = OP_EPARSE; /* a truncated page must say where to continue */
  return rc ? (rc == OP_ETOOBIG ? rc : OP_EPARSE) : 0;
}

void aws_iam_query(struct aws_query *q, const char *action)
{
  aws_query_init(q, false, action, IAM_VERSION);
}

void aws_iam_page(struct aws_query *q, const char *marker, int max_items)
{
  aws_query_add(q, "Marker", marker);
  if (max_items > 0)
    aws_query_add_int(q, "MaxItems", max_items);
}

int aws_iam_enc1(struct aws_wire *w, const char *action, const char *k1,
                 const char *v1)
{
  struct aws_query q;

  if (!v1)
    return OP_EINVAL;
  aws_iam_query(&q, action);
  aws_query_add(&q, k1, v1);
  return aws_query_request(w, &q);
}

int aws_iam_enc2(struct aws_wire *w, const char *action, const char *k1,
                 const char *v1, const char *k2, const char *v2)
{
  struct aws_query q;

  if (!v1 || !v2)
    return OP_EINVAL;
  aws_iam_query(&q, action);
  aws_query_add(&q, k1, v1);
  aws_query_add(&q, k2, v2);
  return aws_query_request(w, &q);
}

int aws_iam_enc_page(struct aws_wire *w, const char *action, const char *k1,
                     const char *v1, const char *marker, int max_items)
{
  struct aws_query q;

  if (!v1)
    return OP_EINVAL;
  aws_iam_query(&q, action);
  aws_query_add(&q, k1, v1);
  aws_iam_page(&q, marker, max_items);
  return aws_query_request(w, &q);
}

static int tag_item(aws_xnode n, void *elem)
{
  struct aws_rtag *t = elem;

  t->key = aws_ox_str_new(n, "Key");
  t->value = aws_ox_str_new(n, "Value");
  return t->key ? 0 : OP_EPARSE;
}

static int name_item(aws_xnode n, void *elem)
{
  *(char **)elem = aws_ox_str_new(n, "");
  return 0;
}

/* ---- users -------------------------------------------------------------- */

int aws_enc_create_user(const struct aws_create_user_req *rq,
                        struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->user_name)
    return OP_EINVAL;
  aws_iam_query(&q, "CreateUser");
  aws_query_add(&q, "UserName", rq->user_name);
  aws_query_add(&q, "Path", rq->path);
  aws_query_add_tags(&q, "Tags", rq->tags, rq->ntags);
  return aws_query_request(w, &q);
}
ONE_DEC(create_user, "CreateUser", iam_user_result, user, "User", user_item)

int aws_enc_get_user(const struct aws_iam_user_req *rq, struct aws_wire *w)
{
  return aws_iam_enc1(w, "GetUser", "UserName", rq->user_name);
}
ONE_DEC(get_user, "GetUser", iam_user_result, user, "User", user_item)

void aws_iam_user_result_free(struct aws_iam_user_result *r)
{
  if (!r)
    return;
  user_clean(&r->user);
  free(r);
}

int aws_enc_delete_user(const struct aws_iam_user_req *rq, struct aws_wire *w)
{
  return aws_iam_enc1(w, "DeleteUser", "UserName", rq->user_name);
}
EMPTY_DEC(delete_user)

int aws_enc_list_users(const struct aws_iam_list_req *rq, struct aws_wire *w)
{
  struct aws_query q;

  aws_iam_query(&q, "ListUsers");
  aws_query_add(&q, "PathPrefix", rq->path_prefix);
  aws_iam_page(&q, rq->marker, rq->max_items);
  return aws_query_request(w, &q);
}
LIST_DEC(list_users, "ListUsers", iam_users_result, "Users", user_item)

void aws_iam_users_result_free(struct aws_iam_users_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    user_clean(&r->v[i]);
  free(r->v);
  free(r->marker);
  free(r);
}

/* IAM tag lists reuse aws_tags_result with Marker in next_token. */
static int dec_tags(const char *body, size_t len, const char *op,
                    struct aws_tags_result **out)
{
  struct aws_tags_result *r = util_xcalloc(1, sizeof(*r));
  int rc = aws_iam_dec_list(
      body, len, op, "Tags", sizeof(*r->v), tag_item, (void **)&r->v, &r->n,
      (struct iam_page){ &r->is_truncated, &r->next_token });

  if (rc) {
    aws_tags_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

int aws_enc_list_user_tags(const struct aws_iam_user_page_req *rq,
                           struct aws_wire *w)
{
  return aws_iam_enc_page(w, "ListUserTags", "UserName", rq->user_name,
                          rq->marker, rq->max_items);
}

int aws_dec_list_user_tags(const char *body, size_t len,
                           struct aws_tags_result **out)
{
  return dec_tags(body, len, "ListUserTags", out);
}

int aws_enc_tag_user(const struct aws_iam_tag_user_req *rq, struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->user_name || !rq->ntags)
    return OP_EINVAL;
  aws_iam_query(&q, "TagUser");
  aws_query_add(&q, "UserName", rq->user_name);
  aws_query_add_tags(&q, "Tags", rq->tags, rq->ntags);
  return aws_query_request(w, &q);
}
EMPTY_DEC(tag_user)

int aws_enc_attach_user_policy(const struct aws_iam_user_policy_req *rq,
                               struct aws_wire *w)
{
  return aws_iam_enc2(w, "AttachUserPolicy", "UserName", rq->user_name,
                      "PolicyArn", rq->policy_arn);
}
EMPTY_DEC(attach_user_policy)

int aws_enc_detach_user_policy(const struct aws_iam_user_policy_req *rq,
                               struct aws_wire *w)
{
  return aws_iam_enc2(w, "DetachUserPolicy", "UserName", rq->user_name,
                      "PolicyArn", rq->policy_arn);
}
EMPTY_DEC(detach_user_policy)

int aws_enc_list_attached_user_policies(const struct aws_iam_user_page_req *rq,
                                        struct aws_wire *w)
{
  return aws_iam_enc_page(w, "ListAttachedUserPolicies", "UserName",
                          rq->user_name, rq->marker, rq->max_items);
}
LIST_DEC(list_attached_user_policies, "ListAttachedUserPolicies",
         iam_attached_result, "AttachedPolicies", attached_item)

void aws_iam_attached_result_free(struct aws_iam_attached_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].policy_name);
    free(r->v[i].policy_arn);
  }
  free(r->v);
  free(r->marker);
  free(r);
}

/* ---- access keys -------------------------------------------------------- */

int aws_enc_create_access_key(const struct aws_iam_user_req *rq,
                              struct aws_wire *w)
{
  return aws_iam_enc1(w, "CreateAccessKey", "UserName", rq->user_name);
}

int aws_dec_create_access_key(const char *body, size_t len,
                              struct aws_iam_access_key_result **out)
{
  struct aws_iam_access_key_result *r = util_xcalloc(1, sizeof(*r));
  int rc = aws_iam_dec_one(body, len, "CreateAccessKey", "AccessKey", key_item,
                           &r->key);

  if (!rc && !r->key.secret_access_key)
    rc = OP_EPARSE;
  if (rc) {
    aws_iam_access_key_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_iam_access_key_result_free(struct aws_iam_access_key_result *r)
{
  if (!r)
    return;
  key_clean(&r->key);
  free(r);
}

int aws_enc_list_access_keys(const struct aws_iam_user_page_req *rq,
                             struct aws_wire *w)
{
  return aws_iam_enc_page(w, "ListAccessKeys", "UserName", rq->user_name,
                          rq->marker, rq->max_items);
}
LIST_DEC(list_access_keys, "ListAccessKeys", iam_access_keys_result,
         "AccessKeyMetadata", key_item)

void aws_iam_access_keys_result_free(struct aws_iam_access_keys_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    key_clean(&r->v[i]);
  free(r->v);
  free(r->marker);
  free(r);
}

int aws_enc_delete_access_key(const struct aws_iam_delete_access_key_req *rq,
                              struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->access_key_id)
    return OP_EINVAL;
  aws_iam_query(&q, "DeleteAccessKey");
  aws_query_add(&q, "UserName", rq->user_name);
  aws_query_add(&q, "AccessKeyId", rq->access_key_id);
  return aws_query_request(w, &q);
}
EMPTY_DEC(delete_access_key)

/* ---- roles -------------------------------------------------------------- */

int aws_enc_create_role(const struct aws_create_role_req *rq,
                        struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->role_name || !rq->assume_role_policy_document)
    return OP_EINVAL;
  aws_iam_query(&q, "CreateRole");
  aws_query_add(&q, "RoleName", rq->role_name);
  aws_query_add(&q, "AssumeRolePolicyDocument",
                rq->assume_role_policy_document);
  aws_query_add(&q, "Description", rq->description);
  aws_query_add(&q, "Path", rq->path);
  if (rq->max_session_duration > 0)
    aws_query_add_int(&q, "MaxSessionDuration", rq->max_session_duration);
  aws_query_add_tags(&q, "Tags", rq->tags, rq->ntags);
  return aws_query_request(w, &q);
}
ONE_DEC(create_role, "CreateRole", iam_role_result, role, "Role", role_item)

int aws_enc_get_role(const struct aws_iam_role_req *rq, struct aws_wire *w)
{
  return aws_iam_enc1(w, "GetRole", "RoleName", rq->role_name);
}
ONE_DEC(get_role, "GetRole", iam_role_result, role, "Role", role_item)

void aws_iam_role_result_free(struct aws_iam_role_result *r)
{
  if (!r)
    return;
  role_clean(&r->role);
  free(r);
}

int aws_enc_delete_role(const struct aws_iam_role_req *rq, struct aws_wire *w)
{
  return aws_iam_enc1(w, "DeleteRole", "RoleName", rq->role_name);
}
EMPTY_DEC(delete_role)

int aws_enc_list_roles(const struct aws_iam_list_req *rq, struct aws_wire *w)
{
  struct aws_query q;

  aws_iam_query(&q, "ListRoles");
  aws_query_add(&q, "PathPrefix", rq->path_prefix);
  aws_iam_page(&q, rq->marker, rq->max_items);
  return aws_query_request(w, &q);
}
LIST_DEC(list_roles, "ListRoles", iam_roles_result, "Roles", role_item)

void aws_iam_roles_result_free(struct aws_iam_roles_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    role_clean(&r->v[i]);
  free(r->v);
  free(r->marker);
  free(r);
}

int aws_enc_list_role_tags(const struct aws_iam_role_page_req *rq,
                           struct aws_wire *w)
{
  return aws_iam_enc_page(w, "ListRoleTags", "RoleName", rq->role_name,
                          rq->marker, rq->max_items);
}

int aws_dec_list_role_tags(const char *body, size_t len,
                           struct aws_tags_result **out)
{
  return dec_tags(body, len, "ListRoleTags", out);
}

int aws_enc_tag_role(const struct aws_iam_tag_role_req *rq, struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->role_name || !rq->ntags)
    return OP_EINVAL;
  aws_iam_query(&q, "TagRole");
  aws_query_add(&q, "RoleName", rq->role_name);
  aws_query_add_tags(&q, "Tags", rq->tags, rq->ntags);
  return aws_query_request(w, &q);
}
EMPTY_DEC(tag_role)

int aws_enc_attach_role_policy(const struct aws_iam_role_policy_req *rq,
                               struct aws_wire *w)
{
  return aws_iam_enc2(w, "AttachRolePolicy", "RoleName", rq->role_name,
                      "PolicyArn", rq->policy_arn);
}
EMPTY_DEC(attach_role_policy)

int aws_enc_detach_role_policy(const struct aws_iam_role_policy_req *rq,
                               struct aws_wire *w)
{
  return aws_iam_enc2(w, "DetachRolePolicy", "RoleName", rq->role_name,
                      "PolicyArn", rq->policy_arn);
}
EMPTY_DEC(detach_role_policy)

int aws_enc_list_attached_role_policies(const struct aws_iam_role_page_req *rq,
                                        struct aws_wire *w)
{
  return aws_iam_enc_page(w, "ListAttachedRolePolicies", "RoleName",
                          rq->role_name, rq->marker, rq->max_items);
}
LIST_DEC(list_attached_role_policies, "ListAttachedRolePolicies",
         iam_attached_result, "AttachedPolicies", attached_item)

int aws_enc_put_role_policy(const struct aws_put_role_policy_req *rq,
                            struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->role_name || !rq->policy_name || !rq->policy_document)
    return OP_EINVAL;
  aws_iam_query(&q, "PutRolePolicy");
  aws_query_add(&q, "RoleName", rq->role_name);
  aws_query_add(&q, "PolicyName", rq->policy_name);
  aws_query_add(&q, "PolicyDocument", rq->policy_document);
  return aws_query_request(w, &q);
}
EMPTY_DEC(put_role_policy)

int aws_enc_delete_role_policy(const struct aws_delete_role_policy_req *rq,
                               struct aws_wire *w)
{
  return aws_iam_enc2(w, "DeleteRolePolicy", "RoleName", rq->role_name,
                      "PolicyName", rq->policy_name);
}
EMPTY_DEC(delete_role_policy)

/* The role's trust policy (a federated access's principal changed). */
int aws_enc_update_assume_role_policy(
    const struct aws_update_assume_role_policy_req *rq, struct aws_wire *w)
{
  return aws_iam_enc2(w, "UpdateAssumeRolePolicy", "RoleName", rq->role_name,
                      "PolicyDocument", rq->policy_document);
}
EMPTY_DEC(update_assume_role_policy)

int aws_enc_list_role_policies(const struct aws_iam_role_page_req *rq,
                               struct aws_wire *w)
{
  return aws_iam_enc_page(w, "ListRolePolicies", "RoleName", rq->role_name,
                          rq->marker, rq->max_items);
}

int aws_dec_list_role_policies(const char *body, size_t len,
                               struct aws_iam_names_result **out)
{
  struct aws_iam_names_result *r = util_xcalloc(1, sizeof(*r));
  int rc = aws_iam_dec_list(body, len, "ListRolePolicies", "PolicyNames",
                            sizeof(char *), name_item, (void **)&r->names.v,
                            &r->names.n, PG(r));

  if (rc) {
    aws_iam_names_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_iam_names_result_free(struct aws_iam_names_result *r)
{
  if (!r)
    return;
  aws_strs_cleanup(&r->names);
  free(r->marker);
  free(r);
}
