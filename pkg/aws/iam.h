/* AWS IAM (Query protocol): requests, results and the operation list
 * AWS_OPS_IAM, which aws/api.h assembles into struct aws_api. Strings,
 * frees and the calling contract: see aws/api.h and aws/proto/shapes.h.
 */
#ifndef PKG_AWS_IAM_H
#define PKG_AWS_IAM_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/errors.h"
#include "aws/proto/shapes.h"

struct aws_iam_user {
  char *user_name, *user_id, *arn, *path;
};
struct aws_iam_role {
  char *role_name, *role_id, *arn, *path, *description;
  char *assume_role_policy_document; /* URL-decoded */
};
struct aws_iam_attached {
  char *policy_name, *policy_arn;
};
struct aws_iam_access_key {
  char *user_name, *access_key_id, *status;
  char *secret_access_key; /* CreateAccessKey only; wiped on free */
};
struct aws_iam_policy {
  char *policy_name, *policy_id, *arn, *path, *default_version_id;
};
struct aws_iam_policy_version {
  char *version_id;
  bool is_default_version;
  char *document; /* URL-decoded; only from Get/CreatePolicyVersion */
};

struct aws_iam_user_req { /* GetUser, DeleteUser, CreateAccessKey */
  const char *user_name;
};
struct aws_create_user_req {
  const char *user_name, *path;
  const struct aws_tag *tags;
  size_t ntags;
};
struct aws_iam_user_result {
  struct aws_iam_user user;
};
struct aws_iam_list_req { /* ListUsers, ListRoles */
  const char *path_prefix, *marker;
  int max_items;
};
struct aws_iam_users_result {
  struct aws_iam_user *v;
  size_t n;
  bool is_truncated;
  char *marker;
};
struct aws_iam_user_page_req { /* ListUserTags, ListAccessKeys, ... */
  const char *user_name, *marker;
  int max_items;
};
struct aws_iam_tag_user_req {
  const char *user_name;
  const struct aws_tag *tags;
  size_t ntags;
};
struct aws_iam_user_policy_req { /* Attach/DetachUserPolicy */
  const char *user_name, *policy_arn;
};
struct aws_iam_attached_result {
  struct aws_iam_attached *v;
  size_t n;
  bool is_truncated;
  char *marker;
};
struct aws_iam_access_key_result {
  struct aws_iam_access_key key;
};
struct aws_iam_access_keys_result {
  struct aws_iam_access_key *v;
  size_t n;
  bool is_truncated;
  char *marker;
};
struct aws_iam_delete_access_key_req {
  const char *user_name, *access_key_id;
};
struct aws_create_role_req {
  const char *role_name, *assume_role_policy_document; /* required */
  const char *description, *path;
  int max_session_duration;
  const struct aws_tag *tags;
  size_t ntags;
};
struct aws_iam_role_req { /* GetRole, DeleteRole */
  const char *role_name;
};
struct aws_iam_role_result {
  struct aws_iam_role role;
};
struct aws_iam_roles_result {
  struct aws_iam_role *v;
  size_t n;
  bool is_truncated;
  char *marker;
};
struct aws_iam_role_page_req {
  const char *role_name, *marker;
  int max_items;
};
struct aws_iam_tag_role_req {
  const char *role_name;
  const struct aws_tag *tags;
  size_t ntags;
};
struct aws_iam_role_policy_req { /* Attach/DetachRolePolicy */
  const char *role_name, *policy_arn;
};
struct aws_put_role_policy_req {
  const char *role_name, *policy_name, *policy_document;
};
struct aws_update_assume_role_policy_req {
  const char *role_name, *policy_document; /* required */
};
struct aws_delete_role_policy_req {
  const char *role_name, *policy_name;
};
struct aws_iam_names_result { /* ListRolePolicies */
  struct aws_strs names;
  bool is_truncated;
  char *marker;
};
struct aws_create_policy_req {
  const char *policy_name, *policy_document; /* required */
  const char *description, *path;
};
struct aws_iam_policy_req { /* GetPolicy, DeletePolicy */
  const char *policy_arn;
};
struct aws_iam_policy_result {
  struct aws_iam_policy policy;
};
struct aws_create_policy_version_req {
  const char *policy_arn, *policy_document;
  bool set_as_default;
};
struct aws_iam_policy_version_req { /* Get/DeletePolicyVersion */
  const char *policy_arn, *version_id;
};
struct aws_iam_policy_version_result {
  struct aws_iam_policy_version version;
};
struct aws_iam_policy_page_req { /* ListPolicyVersions */
  const char *policy_arn, *marker;
  int max_items;
};
struct aws_iam_policy_versions_result {
  struct aws_iam_policy_version *v;
  size_t n;
  bool is_truncated;
  char *marker;
};
struct aws_list_policies_req {
  const char *scope; /* All, AWS, Local; NULL = All */
  bool only_attached;
  const char *path_prefix, *marker;
  int max_items;
};
struct aws_iam_policies_result {
  struct aws_iam_policy *v;
  size_t n;
  bool is_truncated;
  char *marker;
};

/* ---- operations ------------------------------------------------------- */

/* XX(field, Operation, service, protocol, idempotent, request, result) */
#define AWS_OPS_IAM(XX)                                                        \
  XX(create_user, CreateUser, "iam", AWS_PROTO_QUERY, false, create_user_req,  \
     iam_user_result)                                                          \
  XX(get_user, GetUser, "iam", AWS_PROTO_QUERY, true, iam_user_req,            \
     iam_user_result)                                                          \
  XX(delete_user, DeleteUser, "iam", AWS_PROTO_QUERY, true, iam_user_req,      \
     empty_result)                                                             \
  XX(list_users, ListUsers, "iam", AWS_PROTO_QUERY, true, iam_list_req,        \
     iam_users_result)                                                         \
  XX(list_user_tags, ListUserTags, "iam", AWS_PROTO_QUERY, true,               \
     iam_user_page_req, tags_result)                                           \
  XX(tag_user, TagUser, "iam", AWS_PROTO_QUERY, true, iam_tag_user_req,        \
     empty_result)                                                             \
  XX(attach_user_policy, AttachUserPolicy, "iam", AWS_PROTO_QUERY, true,       \
     iam_user_policy_req, empty_result)                                        \
  XX(detach_user_policy, DetachUserPolicy, "iam", AWS_PROTO_QUERY, true,       \
     iam_user_policy_req, empty_result)                                        \
  XX(list_attached_user_policies, ListAttachedUserPolicies, "iam",             \
     AWS_PROTO_QUERY, true, iam_user_page_req, iam_attached_result)            \
  XX(create_access_key, CreateAccessKey, "iam", AWS_PROTO_QUERY, false,        \
     iam_user_req, iam_access_key_result)                                      \
  XX(list_access_keys, ListAccessKeys, "iam", AWS_PROTO_QUERY, true,           \
     iam_user_page_req, iam_access_keys_result)                                \
  XX(delete_access_key, DeleteAccessKey, "iam", AWS_PROTO_QUERY, true,         \
     iam_delete_access_key_req, empty_result)                                  \
  XX(create_role, CreateRole, "iam", AWS_PROTO_QUERY, false, create_role_req,  \
     iam_role_result)                                                          \
  XX(get_role, GetRole, "iam", AWS_PROTO_QUERY, true, iam_role_req,            \
     iam_role_result)                                                          \
  XX(delete_role, DeleteRole, "iam", AWS_PROTO_QUERY, true, iam_role_req,      \
     empty_result)                                                             \
  XX(list_roles, ListRoles, "iam", AWS_PROTO_QUERY, true, iam_list_req,        \
     iam_roles_result)                                                         \
  XX(list_role_tags, ListRoleTags, "iam", AWS_PROTO_QUERY, true,               \
     iam_role_page_req, tags_result)                                           \
  XX(tag_role, TagRole, "iam", AWS_PROTO_QUERY, true, iam_tag_role_req,        \
     empty_result)                                                             \
  XX(attach_role_policy, AttachRolePolicy, "iam", AWS_PROTO_QUERY, true,       \
     iam_role_policy_req, empty_result)                                        \
  XX(detach_role_policy, DetachRolePolicy, "iam", AWS_PROTO_QUERY, true,       \
     iam_role_policy_req, empty_result)                                        \
  XX(list_attached_role_policies, ListAttachedRolePolicies, "iam",             \
     AWS_PROTO_QUERY, true, iam_role_page_req, iam_attached_result)            \
  XX(put_role_policy, PutRolePolicy, "iam", AWS_PROTO_QUERY, true,             \
     put_role_policy_req, empty_result)                                        \
  XX(update_assume_role_policy, UpdateAssumeRolePolicy, "iam",                 \
     AWS_PROTO_QUERY, true, update_assume_role_policy_req, empty_result)       \
  XX(delete_role_policy, DeleteRolePolicy, "iam", AWS_PROTO_QUERY, true,       \
     delete_role_policy_req, empty_result)                                     \
  XX(list_role_policies, ListRolePolicies, "iam", AWS_PROTO_QUERY, true,       \
     iam_role_page_req, iam_names_result)                                      \
  XX(create_policy, CreatePolicy, "iam", AWS_PROTO_QUERY, false,               \
     create_policy_req, iam_policy_result)                                     \
  XX(get_policy, GetPolicy, "iam", AWS_PROTO_QUERY, true, iam_policy_req,      \
     iam_policy_result)                                                        \
  XX(delete_policy, DeletePolicy, "iam", AWS_PROTO_QUERY, true,                \
     iam_policy_req, empty_result)                                             \
  XX(create_policy_version, CreatePolicyVersion, "iam", AWS_PROTO_QUERY,       \
     false, create_policy_version_req, iam_policy_version_result)              \
  XX(get_policy_version, GetPolicyVersion, "iam", AWS_PROTO_QUERY, true,       \
     iam_policy_version_req, iam_policy_version_result)                        \
  XX(list_policy_versions, ListPolicyVersions, "iam", AWS_PROTO_QUERY, true,   \
     iam_policy_page_req, iam_policy_versions_result)                          \
  XX(delete_policy_version, DeletePolicyVersion, "iam", AWS_PROTO_QUERY, true, \
     iam_policy_version_req, empty_result)                                     \
  XX(list_policies, ListPolicies, "iam", AWS_PROTO_QUERY, true,                \
     list_policies_req, iam_policies_result)

/* Result types; each has aws_<type>_free (NULL is fine). */
#define AWS_RESULTS_IAM(XX)                                                    \
  XX(iam_user_result)                                                          \
  XX(iam_users_result)                                                         \
  XX(iam_attached_result)                                                      \
  XX(iam_access_key_result)                                                    \
  XX(iam_access_keys_result)                                                   \
  XX(iam_role_result)                                                          \
  XX(iam_roles_result)                                                         \
  XX(iam_names_result)                                                         \
  XX(iam_policy_result)                                                        \
  XX(iam_policy_version_result)                                                \
  XX(iam_policy_versions_result)                                               \
  XX(iam_policies_result)
AWS_RESULTS_IAM(AWS_RESULT_FREE_DECL)

#endif
