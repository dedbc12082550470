/* Every AWS operation the operator calls, behind one interface table.
 *
 * Controllers hold a `struct aws_api *` and call through it; the real table
 * (aws_api_real) encodes the request, sends it through aws_call_start and
 * decodes the response; tests substitute their own table and `impl`.
 *
 *   int rc = api->get_user(api, &target, &req, done_cb, arg);
 *   ... done_cb(err, aerr, res, arg) ...
 *
 * Contract (libuv's): a non-zero return means the callback never runs;
 * 0 means it runs exactly once, later, from the loop. In the callback,
 * err is 0 and res non-NULL on success; otherwise err is a negative op_err,
 * res is NULL, and aerr (may be NULL) carries the AWS error code and
 * message. res and aerr are borrowed for the duration of the callback; copy
 * what you keep. Request structs and their strings are borrowed only for
 * the duration of the call (they are encoded before it returns).
 *
 * Results hold only the fields the operator uses plus pagination tokens.
 * Strings are owned (char *) and NULL when AWS omitted the field. Secret
 * fields (access-key secrets, session tokens) are wiped when freed.
 * Each result type has aws_<type>_free(), which frees the whole object.
 */
#ifndef PKG_AWS_API_H
#define PKG_AWS_API_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/transport.h"
#include "aws/proto/shapes.h"

/* ---- shared pieces ---------------------------------------------------- */

/* Who and where: the credentials to sign with and the region to call. */
struct aws_target {
  struct aws_creds *creds;
  const char *region;     /* NULL = the service's default region */
  const char *controller; /* metrics label; NULL = "{OTHER}" */
  const char *account;    /* rate-governor key; NULL = the creds' label */
};

/* ---- Organizations ---------------------------------------------------- */

struct aws_org_car_status {
  char *id; /* car-... */
  char *account_name;
  char *state; /* IN_PROGRESS, SUCCEEDED, FAILED */
  char *account_id;
  char *failure_reason;
};
struct aws_org_account {
  char *id, *arn, *name, *email, *status;
};
struct aws_org_ou {
  char *id, *arn, *name;
};
struct aws_org_ref { /* parent or child */
  char *id, *type;
};

struct aws_create_account_req {
  const char *email, *account_name; /* required */
  const char *role_name, *iam_user_access_to_billing;
  const struct aws_tag *tags;
  size_t ntags;
};
struct aws_car_status_result {
  struct aws_org_car_status status;
};
struct aws_describe_car_status_req {
  const char *create_account_request_id;
};
struct aws_list_car_status_req {
  const char *const *states;
  size_t nstates;
  const char *next_token;
  int max_results; /* 0 = default */
};
struct aws_car_status_list_result {
  struct aws_org_car_status *v;
  size_t n;
  char *next_token;
};
struct aws_org_page_req { /* ListAccounts */
  const char *next_token;
  int max_results;
};
struct aws_org_accounts_result {
  struct aws_org_account *v;
  size_t n;
  char *next_token;
};
struct aws_org_account_id_req { /* DescribeAccount, CloseAccount */
  const char *account_id;
};
struct aws_org_account_result {
  struct aws_org_account account;
};
struct aws_org_none_req {
  char unused;
};
struct aws_org_organization_result {
  char *id, *arn, *master_account_id, *master_account_arn, *feature_set;
};
struct aws_move_account_req {
  const char *account_id, *source_parent_id, *destination_parent_id;
};
struct aws_list_parents_req {
  const char *child_id;
  const char *next_token;
  int max_results;
};
struct aws_list_children_req {
  const char *parent_id, *child_type; /* ACCOUNT or ORGANIZATIONAL_UNIT */
  const char *next_token;
  int max_results;
};
struct aws_org_refs_result {
  struct aws_org_ref *v;
  size_t n;
  char *next_token;
};
struct aws_create_ou_req {
  const char *parent_id, *name;
  const struct aws_tag *tags;
  size_t ntags;
};
struct aws_org_ou_result {
  struct aws_org_ou ou;
};
struct aws_list_ous_req {
  const char *parent_id;
  const char *next_token;
  int max_results;
};
struct aws_org_ous_result {
  struct aws_org_ou *v;
  size_t n;
  char *next_token;
};
struct aws_org_tag_req {
  const char *resource_id;
  const struct aws_tag *tags;
  size_t ntags;
};
struct aws_org_untag_req {
  const char *resource_id;
  const char *const *tag_keys;
  size_t nkeys;
};
struct aws_org_list_tags_req {
  const char *resource_id;
  const char *next_token;
};
/* ---- STS ---------------------------------------------------------------- */

struct aws_sts_creds { /* all wiped on free */
  char *access_key_id, *secret_access_key, *session_token;
  char *expiration; /* ISO 8601 as sent */
};
struct aws_assume_role_req {
  const char *role_arn, *role_session_name; /* required */
  int duration_seconds;                     /* 0 = default */
  const char *external_id, *policy;
};
struct aws_assume_role_wi_req {
  const char *role_arn, *role_session_name, *web_identity_token;
  int duration_seconds;
};
struct aws_sts_creds_result {
  struct aws_sts_creds creds;
  char *assumed_role_id; /* AssumedRoleId / FederatedUserId */
  char *arn;
};
struct aws_sts_none_req {
  char unused;
};
struct aws_caller_identity_result {
  char *account, *arn, *user_id;
};
struct aws_federation_token_req {
  const char *name; /* required */
  int duration_seconds;
  const char *policy;
  const char *const *policy_arns;
  size_t npolicy_arns;
};

/* ---- IAM ---------------------------------------------------------------- */

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

/* ---- Support ------------------------------------------------------------ */

struct aws_create_case_req {
  const char *subject, *communication_body; /* required */
  const char *service_code, *severity_code, *category_code;
  const char *language, *issue_type;
};
struct aws_create_case_result {
  char *case_id;
};
struct aws_describe_cases_req {
  const char *const *case_ids;
  size_t ncase_ids;
  bool include_resolved_cases;
  const char *next_token;
};
struct aws_support_case {
  char *case_id, *display_id, *subject, *status;
};
struct aws_describe_cases_result {
  struct aws_support_case *v;
  size_t n;
  char *next_token;
};

/* ---- EC2 ---------------------------------------------------------------- */

struct aws_ec2_filter {
  const char *name;
  const char *const *values;
  size_t nvalues;
};
struct aws_ec2_filters { /* embedded in describe requests */
  const struct aws_ec2_filter *v;
  size_t n;
};
struct aws_describe_regions_req {
  bool all_regions;
  struct aws_ec2_filters filters;
};
struct aws_ec2_region {
  char *region_name, *endpoint, *opt_in_status;
};
struct aws_ec2_regions_result {
  struct aws_ec2_region *v;
  size_t n;
};
struct aws_ec2_instance {
  char *instance_id, *instance_type, *state_name, *image_id;
  int state_code;
  struct aws_rtag *tags;
  size_t ntags;
};
struct aws_describe_instances_req {
  const char *const *instance_ids;
  size_t ninstance_ids;
  struct aws_ec2_filters filters;
  bool dry_run;
  const char *next_token;
  int max_results;
};
struct aws_ec2_instances_result { /* DescribeInstances (flattened), Run */
  struct aws_ec2_instance *v;
  size_t n;
  char *next_token;
};
struct aws_describe_instance_status_req {
  const char *const *instance_ids;
  size_t ninstance_ids;
  bool include_all_instances;
  const char *next_token;
};
struct aws_ec2_instance_state {
  char *instance_id, *state_name;
  int state_code;
};
struct aws_ec2_instance_states_result { /* DescribeInstanceStatus, Terminate */
  struct aws_ec2_instance_state *v;
  size_t n;
  char *next_token;
};
struct aws_describe_instance_types_req {
  const char *const *instance_types;
  size_t ninstance_types;
  struct aws_ec2_filters filters;
  const char *next_token;
};
struct aws_ec2_ids_result { /* instance types, snapshot ids, ... */
  struct aws_strs ids;
  char *next_token;
};
struct aws_describe_images_req {
  const char *const *owners;
  size_t nowners;
  const char *const *executable_users;
  size_t nexecutable_users;
  const char *const *image_ids;
  size_t nimage_ids;
  struct aws_ec2_filters filters;
};
struct aws_ec2_image {
  char *image_id, *name, *architecture, *state, *creation_date;
};
struct aws_ec2_images_result {
  struct aws_ec2_image *v;
  size_t n;
};
struct aws_ec2_tag_spec {
  const char *resource_type; /* instance, volume */
  const struct aws_tag *tags;
  size_t ntags;
};
struct aws_run_instances_req {
  const char *image_id, *instance_type;
  int min_count, max_count; /* required */
  const struct aws_ec2_tag_spec *tag_specs;
  size_t ntag_specs;
  const char *device_name; /* one EBS block device when set */
  int volume_size_gib;
  const char *volume_type;
  bool encrypted, delete_on_termination;
  const char *kms_key_id;
  bool dry_run;
};
struct aws_ec2_instance_ids_req { /* TerminateInstances */
  const char *const *instance_ids;
  size_t ninstance_ids;
  bool dry_run;
};
struct aws_ec2_page_req { /* DescribeVolumes, DescribeSnapshots */
  struct aws_ec2_filters filters;
  const char *const *owner_ids; /* DescribeSnapshots only ("self") */
  size_t nowner_ids;
  const char *next_token;
  int max_results;
};
struct aws_ec2_volume_req {
  const char *volume_id;
};
struct aws_ec2_snapshot_req {
  const char *snapshot_id;
};
struct aws_ec2_service_ids_req { /* VPC endpoint service configurations */
  const char *const *service_ids;
  size_t nservice_ids;
  const char *next_token;
};
struct aws_ec2_unsuccessful {
  char *resource_id, *code, *message;
};
struct aws_ec2_unsuccessful_result {
  struct aws_ec2_unsuccessful *v;
  size_t n;
};

/* ---- Service Quotas ----------------------------------------------------- */

struct aws_quota_req {
  const char *service_code, *quota_code;
};
struct aws_service_quota_result {
  char *service_code, *quota_code;
  double value;
  bool has_value, adjustable;
};
struct aws_quota_increase_req {
  const char *service_code, *quota_code;
  double desired_value;
};
struct aws_quota_change {
  char *id, *case_id, *service_code, *quota_code, *status;
  double desired_value;
};
struct aws_quota_change_result {
  struct aws_quota_change change;
};
struct aws_quota_history_req {
  const char *service_code, *quota_code, *status;
  const char *next_token;
};
struct aws_quota_changes_result {
  struct aws_quota_change *v;
  size_t n;
  char *next_token;
};

/* ---- Account ------------------------------------------------------------ */

struct aws_region_opt_req {
  const char *region_name; /* required */
  const char *account_id;  /* optional: member account from management */
};
struct aws_region_opt_result {
  char *region_name, *region_opt_status;
};

/* ---- S3 ----------------------------------------------------------------- */

struct aws_s3_none_req {
  char unused;
};
struct aws_s3_bucket {
  char *name, *creation_date;
};
struct aws_s3_buckets_result {
  struct aws_s3_bucket *v;
  size_t n;
};
struct aws_s3_bucket_req { /* DeleteBucket */
  const char *bucket;
};
struct aws_create_bucket_req {
  const char *bucket, *location_constraint; /* NULL for us-east-1 */
};
struct aws_list_objects_req {
  const char *bucket, *prefix, *continuation_token;
  int max_keys;
};
struct aws_s3_object {
  char *key;
  long long size;
};
struct aws_s3_objects_result {
  struct aws_s3_object *v;
  size_t n;
  bool is_truncated;
  char *next_continuation_token;
};
struct aws_delete_objects_req {
  const char *bucket;
  const char *const *keys;
  size_t nkeys; /* 1..1000 */
  bool quiet;
};
struct aws_s3_delete_error {
  char *key, *code, *message;
};
struct aws_s3_delete_result {
  struct aws_strs deleted;
  struct aws_s3_delete_error *errors;
  size_t nerrors;
};
struct aws_put_object_req {
  const char *bucket, *key;
  const void *body;
  size_t body_len;
};

/* ---- Route 53 ----------------------------------------------------------- */

struct aws_r53_page_req { /* ListHostedZones */
  const char *marker;
  int max_items;
};
struct aws_r53_zone {
  char *id, *name; /* id as sent: "/hostedzone/Z..." */
  bool private_zone;
};
struct aws_r53_zones_result {
  struct aws_r53_zone *v;
  size_t n;
  bool is_truncated;
  char *next_marker;
};
struct aws_r53_rrsets_req {
  const char *hosted_zone_id; /* "Z..." or "/hostedzone/Z..." */
  const char *start_record_name, *start_record_type, *start_record_identifier;
  int max_items;
};
struct aws_r53_rrset { /* result and request side (owned in results) */
  char *name, *type, *set_identifier;
  long long ttl; /* -1 when absent (alias records) */
  struct aws_strs records;
  char *alias_hosted_zone_id, *alias_dns_name; /* alias records */
  bool alias_evaluate_target_health;
  long long weight; /* -1 when absent */
  char *region, *failover;
  char *geo_continent, *geo_country, *geo_subdivision; /* GeoLocation */
  char *multi_value_answer; /* "true"/"false" as sent, NULL when absent */
  char *health_check_id;
  /* A DELETE must repeat every field of the record exactly: decode a
   * record from ListResourceRecordSets and pass it back unchanged. */
};
struct aws_r53_rrsets_result {
  struct aws_r53_rrset *v;
  size_t n;
  bool is_truncated;
  char *next_record_name, *next_record_type, *next_record_identifier;
};
struct aws_r53_change {
  const char *action; /* CREATE, DELETE, UPSERT */
  const struct aws_r53_rrset *rrset;
};
struct aws_r53_change_req {
  const char *hosted_zone_id, *comment;
  const struct aws_r53_change *changes;
  size_t nchanges;
};
struct aws_r53_change_info_result {
  char *id, *status;
};
struct aws_r53_zone_req {
  const char *hosted_zone_id;
};
struct aws_r53_create_zone_req {       /* for tests and local runs */
  const char *name, *caller_reference; /* required */
  const char *comment;
};
struct aws_r53_zone_result {
  struct aws_r53_zone zone;
};

/* ---- pagination (generic helpers: aws/proto/shapes.h) ---------------- */

/* S3 ListObjectsV2 ContinuationToken/IsTruncated. */
bool aws_s3_objects_next(const struct aws_s3_objects_result *r,
                         struct aws_list_objects_req *rq);
/* Route 53 NextMarker/IsTruncated. */
bool aws_r53_zones_next(const struct aws_r53_zones_result *r,
                        struct aws_r53_page_req *rq);
/* Route 53 NextRecordName/Type/Identifier. */
bool aws_r53_rrsets_next(const struct aws_r53_rrsets_result *r,
                         struct aws_r53_rrsets_req *rq);

/* ---- the table ---------------------------------------------------------- */

/* XX(field, Operation, service, protocol, idempotent, request, result) */
#define AWS_OPS_ORGS(XX)                                                       \
  XX(create_account, CreateAccount, "organizations", AWS_PROTO_JSON11, false,  \
     create_account_req, car_status_result)                                    \
  XX(describe_create_account_status, DescribeCreateAccountStatus,              \
     "organizations", AWS_PROTO_JSON11, true, describe_car_status_req,         \
     car_status_result)                                                        \
  XX(list_create_account_status, ListCreateAccountStatus, "organizations",     \
     AWS_PROTO_JSON11, true, list_car_status_req, car_status_list_result)      \
  XX(list_accounts, ListAccounts, "organizations", AWS_PROTO_JSON11, true,     \
     org_page_req, org_accounts_result)                                        \
  XX(describe_account, DescribeAccount, "organizations", AWS_PROTO_JSON11,     \
     true, org_account_id_req, org_account_result)                             \
  XX(describe_organization, DescribeOrganization, "organizations",             \
     AWS_PROTO_JSON11, true, org_none_req, org_organization_result)            \
  XX(move_account, MoveAccount, "organizations", AWS_PROTO_JSON11, false,      \
     move_account_req, empty_result)                                           \
  XX(list_parents, ListParents, "organizations", AWS_PROTO_JSON11, true,       \
     list_parents_req, org_refs_result)                                        \
  XX(list_children, ListChildren, "organizations", AWS_PROTO_JSON11, true,     \
     list_children_req, org_refs_result)                                       \
  XX(create_organizational_unit, CreateOrganizationalUnit, "organizations",    \
     AWS_PROTO_JSON11, false, create_ou_req, org_ou_result)                    \
  XX(list_organizational_units_for_parent, ListOrganizationalUnitsForParent,   \
     "organizations", AWS_PROTO_JSON11, true, list_ous_req, org_ous_result)    \
  XX(org_tag_resource, TagResource, "organizations", AWS_PROTO_JSON11, true,   \
     org_tag_req, empty_result)                                                \
  XX(org_untag_resource, UntagResource, "organizations", AWS_PROTO_JSON11,     \
     true, org_untag_req, empty_result)                                        \
  XX(org_list_tags_for_resource, ListTagsForResource, "organizations",         \
     AWS_PROTO_JSON11, true, org_list_tags_req, tags_result)                   \
  XX(close_account, CloseAccount, "organizations", AWS_PROTO_JSON11, false,    \
     org_account_id_req, empty_result)

#define AWS_OPS_STS(XX)                                                        \
  XX(assume_role, AssumeRole, "sts", AWS_PROTO_QUERY, true, assume_role_req,   \
     sts_creds_result)                                                         \
  XX(assume_role_with_web_identity, AssumeRoleWithWebIdentity, "sts",          \
     AWS_PROTO_QUERY, true, assume_role_wi_req, sts_creds_result)              \
  XX(get_caller_identity, GetCallerIdentity, "sts", AWS_PROTO_QUERY, true,     \
     sts_none_req, caller_identity_result)                                     \
  XX(get_federation_token, GetFederationToken, "sts", AWS_PROTO_QUERY, true,   \
     federation_token_req, sts_creds_result)

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

#define AWS_OPS_SUPPORT(XX)                                                    \
  XX(create_case, CreateCase, "support", AWS_PROTO_JSON11, false,              \
     create_case_req, create_case_result)                                      \
  XX(describe_cases, DescribeCases, "support", AWS_PROTO_JSON11, true,         \
     describe_cases_req, describe_cases_result)

#define AWS_OPS_EC2(XX)                                                        \
  XX(describe_regions, DescribeRegions, "ec2", AWS_PROTO_EC2, true,            \
     describe_regions_req, ec2_regions_result)                                 \
  XX(describe_instances, DescribeInstances, "ec2", AWS_PROTO_EC2, true,        \
     describe_instances_req, ec2_instances_result)                             \
  XX(describe_instance_status, DescribeInstanceStatus, "ec2", AWS_PROTO_EC2,   \
     true, describe_instance_status_req, ec2_instance_states_result)           \
  XX(describe_instance_types, DescribeInstanceTypes, "ec2", AWS_PROTO_EC2,     \
     true, describe_instance_types_req, ec2_ids_result)                        \
  XX(describe_images, DescribeImages, "ec2", AWS_PROTO_EC2, true,              \
     describe_images_req, ec2_images_result)                                   \
  XX(run_instances, RunInstances, "ec2", AWS_PROTO_EC2, false,                 \
     run_instances_req, ec2_instances_result)                                  \
  XX(terminate_instances, TerminateInstances, "ec2", AWS_PROTO_EC2, true,      \
     ec2_instance_ids_req, ec2_instance_states_result)                         \
  XX(describe_volumes, DescribeVolumes, "ec2", AWS_PROTO_EC2, true,            \
     ec2_page_req, ec2_ids_result)                                             \
  XX(delete_volume, DeleteVolume, "ec2", AWS_PROTO_EC2, true, ec2_volume_req,  \
     empty_result)                                                             \
  XX(describe_snapshots, DescribeSnapshots, "ec2", AWS_PROTO_EC2, true,        \
     ec2_page_req, ec2_ids_result)                                             \
  XX(delete_snapshot, DeleteSnapshot, "ec2", AWS_PROTO_EC2, true,              \
     ec2_snapshot_req, empty_result)                                           \
  XX(describe_vpc_endpoint_service_configurations,                             \
     DescribeVpcEndpointServiceConfigurations, "ec2", AWS_PROTO_EC2, true,     \
     ec2_service_ids_req, ec2_ids_result)                                      \
  XX(delete_vpc_endpoint_service_configurations,                               \
     DeleteVpcEndpointServiceConfigurations, "ec2", AWS_PROTO_EC2, true,       \
     ec2_service_ids_req, ec2_unsuccessful_result)

#define AWS_OPS_QUOTAS(XX)                                                     \
  XX(get_service_quota, GetServiceQuota, "servicequotas", AWS_PROTO_JSON11,    \
     true, quota_req, service_quota_result)                                    \
  XX(request_service_quota_increase, RequestServiceQuotaIncrease,              \
     "servicequotas", AWS_PROTO_JSON11, false, quota_increase_req,             \
     quota_change_result)                                                      \
  XX(list_quota_change_history_by_quota,                                       \
     ListRequestedServiceQuotaChangeHistoryByQuota, "servicequotas",           \
     AWS_PROTO_JSON11, true, quota_history_req, quota_changes_result)

#define AWS_OPS_ACCOUNT(XX)                                                    \
  XX(get_region_opt_status, GetRegionOptStatus, "account", AWS_PROTO_RESTJSON, \
     true, region_opt_req, region_opt_result)                                  \
  XX(enable_region, EnableRegion, "account", AWS_PROTO_RESTJSON, true,         \
     region_opt_req, empty_result)

#define AWS_OPS_S3(XX)                                                         \
  XX(list_buckets, ListBuckets, "s3", AWS_PROTO_RESTXML, true, s3_none_req,    \
     s3_buckets_result)                                                        \
  XX(list_objects_v2, ListObjectsV2, "s3", AWS_PROTO_RESTXML, true,            \
     list_objects_req, s3_objects_result)                                      \
  XX(delete_objects, DeleteObjects, "s3", AWS_PROTO_RESTXML, true,             \
     delete_objects_req, s3_delete_result)                                     \
  XX(delete_bucket, DeleteBucket, "s3", AWS_PROTO_RESTXML, true,               \
     s3_bucket_req, empty_result)                                              \
  XX(create_bucket, CreateBucket, "s3", AWS_PROTO_RESTXML, true,               \
     create_bucket_req, empty_result)                                          \
  XX(put_object, PutObject, "s3", AWS_PROTO_RESTXML, true, put_object_req,     \
     empty_result)

#define AWS_OPS_ROUTE53(XX)                                                    \
  XX(list_hosted_zones, ListHostedZones, "route53", AWS_PROTO_RESTXML, true,   \
     r53_page_req, r53_zones_result)                                           \
  XX(list_resource_record_sets, ListResourceRecordSets, "route53",             \
     AWS_PROTO_RESTXML, true, r53_rrsets_req, r53_rrsets_result)               \
  XX(change_resource_record_sets, ChangeResourceRecordSets, "route53",         \
     AWS_PROTO_RESTXML, false, r53_change_req, r53_change_info_result)         \
  XX(delete_hosted_zone, DeleteHostedZone, "route53", AWS_PROTO_RESTXML, true, \
     r53_zone_req, r53_change_info_result)                                     \
  XX(create_hosted_zone, CreateHostedZone, "route53", AWS_PROTO_RESTXML,       \
     false, r53_create_zone_req, r53_zone_result)

#define AWS_OPS(XX)                                                            \
  AWS_OPS_ORGS(XX)                                                             \
  AWS_OPS_STS(XX)                                                              \
  AWS_OPS_IAM(XX)                                                              \
  AWS_OPS_SUPPORT(XX)                                                          \
  AWS_OPS_EC2(XX)                                                              \
  AWS_OPS_QUOTAS(XX)                                                           \
  AWS_OPS_ACCOUNT(XX)                                                          \
  AWS_OPS_S3(XX)                                                               \
  AWS_OPS_ROUTE53(XX)

struct aws_api;

/* Typed completion callbacks: aws_<field>_cb. */
#define AWS_API_CB(f, op, svc, proto, idem, req, res)                          \
  typedef void (*aws_##f##_cb)(int err, const struct aws_error *aerr,          \
                               const struct aws_##res *res, void *arg);
AWS_OPS(AWS_API_CB)
#undef AWS_API_CB

struct aws_api {
  void *impl; /* the real table: struct aws_client *; tests: anything */
#define AWS_API_FIELD(f, op, svc, proto, idem, req, res)                       \
  int (*f)(struct aws_api * api, const struct aws_target *t,                   \
           const struct aws_##req *rq, aws_##f##_cb cb, void *arg);
  AWS_OPS(AWS_API_FIELD)
#undef AWS_API_FIELD
};

/* The real table: operations go through aws_call_start on client c
 * (borrowed; must outlive the table). Free with aws_api_free. */
struct aws_api *aws_api_real_new(struct aws_client *c);

/* The same table over another starter with aws_call_start's signature (a
 * recording double in tests, a wrapper that adds metrics, ...). */
typedef int (*aws_call_start_fn)(struct aws_client *c, struct aws_creds *cr,
                                 const struct aws_call *call, aws_call_cb cb,
                                 void *arg);
struct aws_api *aws_api_new(struct aws_client *c, aws_call_start_fn start);
void aws_api_free(struct aws_api *api);

/* Free functions, one per result type (NULL is fine). */
#define AWS_API_RESULT_TYPES(XX)                                               \
  AWS_RESULTS_SHARED(XX)                                                       \
  XX(car_status_result)                                                        \
  XX(car_status_list_result)                                                   \
  XX(org_accounts_result)                                                      \
  XX(org_account_result)                                                       \
  XX(org_organization_result)                                                  \
  XX(org_refs_result)                                                          \
  XX(org_ou_result)                                                            \
  XX(org_ous_result)                                                           \
  XX(sts_creds_result)                                                         \
  XX(caller_identity_result)                                                   \
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
  XX(iam_policies_result)                                                      \
  XX(create_case_result)                                                       \
  XX(describe_cases_result)                                                    \
  XX(ec2_regions_result)                                                       \
  XX(ec2_instances_result)                                                     \
  XX(ec2_instance_states_result)                                               \
  XX(ec2_ids_result)                                                           \
  XX(ec2_images_result)                                                        \
  XX(ec2_unsuccessful_result)                                                  \
  XX(service_quota_result)                                                     \
  XX(quota_change_result)                                                      \
  XX(quota_changes_result)                                                     \
  XX(region_opt_result)                                                        \
  XX(s3_buckets_result)                                                        \
  XX(s3_objects_result)                                                        \
  XX(s3_delete_result)                                                         \
  XX(r53_zones_result)                                                         \
  XX(r53_rrsets_result)                                                        \
  XX(r53_change_info_result)                                                   \
  XX(r53_zone_result)
AWS_API_RESULT_TYPES(AWS_RESULT_FREE_DECL)

#endif
