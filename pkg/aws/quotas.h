/* AWS Service Quotas (JSON 1.1): requests, results and the operation list
 * AWS_OPS_QUOTAS, which aws/api.h assembles into struct aws_api. Strings,
 * frees and the calling contract: see aws/api.h and aws/proto/shapes.h.
 */
#ifndef PKG_AWS_QUOTAS_H
#define PKG_AWS_QUOTAS_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/errors.h"
#include "aws/proto/shapes.h"

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

/* ---- operations ------------------------------------------------------- */

/* XX(field, Operation, service, protocol, idempotent, request, result) */
#define AWS_OPS_QUOTAS(XX)                                                     \
  XX(get_service_quota, GetServiceQuota, "servicequotas", AWS_PROTO_JSON11,    \
     true, quota_req, service_quota_result)                                    \
  XX(request_service_quota_increase, RequestServiceQuotaIncrease,              \
     "servicequotas", AWS_PROTO_JSON11, false, quota_increase_req,             \
     quota_change_result)                                                      \
  XX(list_quota_change_history_by_quota,                                       \
     ListRequestedServiceQuotaChangeHistoryByQuota, "servicequotas",           \
     AWS_PROTO_JSON11, true, quota_history_req, quota_changes_result)

/* Result types; each has aws_<type>_free (NULL is fine). */
#define AWS_RESULTS_QUOTAS(XX)                                                 \
  XX(service_quota_result)                                                     \
  XX(quota_change_result)                                                      \
  XX(quota_changes_result)
AWS_RESULTS_QUOTAS(AWS_RESULT_FREE_DECL)

#endif
