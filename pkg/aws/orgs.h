/* AWS Organizations (JSON 1.1): requests, results and the operation list
 * AWS_OPS_ORGS, which aws/api.h assembles into struct aws_api. Strings,
 * frees and the calling contract: see aws/api.h and aws/proto/shapes.h.
 */
#ifndef PKG_AWS_ORGS_H
#define PKG_AWS_ORGS_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/errors.h"
#include "aws/proto/shapes.h"

struct aws_org_car_status {
  char *id; /* car-... */
  char *account_name;
  char *state; /* IN_PROGRESS, SUCCEEDED, FAILED */
  char *account_id;
  char *failure_reason;
  /* epoch seconds (JSON 1.1 timestamps); 0 = absent */
  double requested_at, completed_at;
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

/* ---- operations ------------------------------------------------------- */

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

/* Result types; each has aws_<type>_free (NULL is fine). */
#define AWS_RESULTS_ORGS(XX)                                                   \
  XX(car_status_result)                                                        \
  XX(car_status_list_result)                                                   \
  XX(org_accounts_result)                                                      \
  XX(org_account_result)                                                       \
  XX(org_organization_result)                                                  \
  XX(org_refs_result)                                                          \
  XX(org_ou_result)                                                            \
  XX(org_ous_result)
AWS_RESULTS_ORGS(AWS_RESULT_FREE_DECL)

#endif
