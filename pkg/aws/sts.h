/* AWS STS (Query protocol): requests, results and the operation list
 * AWS_OPS_STS, which aws/api.h assembles into struct aws_api. Strings,
 * frees and the calling contract: see aws/api.h and aws/proto/shapes.h.
 */
#ifndef PKG_AWS_STS_H
#define PKG_AWS_STS_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/errors.h"
#include "aws/proto/shapes.h"

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

/* ---- operations ------------------------------------------------------- */

/* XX(field, Operation, service, protocol, idempotent, request, result) */
#define AWS_OPS_STS(XX)                                                        \
  XX(assume_role, AssumeRole, "sts", AWS_PROTO_QUERY, true, assume_role_req,   \
     sts_creds_result)                                                         \
  XX(assume_role_with_web_identity, AssumeRoleWithWebIdentity, "sts",          \
     AWS_PROTO_QUERY, true, assume_role_wi_req, sts_creds_result)              \
  XX(get_caller_identity, GetCallerIdentity, "sts", AWS_PROTO_QUERY, true,     \
     sts_none_req, caller_identity_result)                                     \
  XX(get_federation_token, GetFederationToken, "sts", AWS_PROTO_QUERY, true,   \
     federation_token_req, sts_creds_result)

/* Result types; each has aws_<type>_free (NULL is fine). */
#define AWS_RESULTS_STS(XX)                                                    \
  XX(sts_creds_result)                                                         \
  XX(caller_identity_result)
AWS_RESULTS_STS(AWS_RESULT_FREE_DECL)

#endif
