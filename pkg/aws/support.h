/* AWS Support (JSON 1.1): requests, results and the operation list
 * AWS_OPS_SUPPORT, which aws/api.h assembles into struct aws_api. Strings,
 * frees and the calling contract: see aws/api.h and aws/proto/shapes.h.
 */
#ifndef PKG_AWS_SUPPORT_H
#define PKG_AWS_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/errors.h"
#include "aws/proto/shapes.h"

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

/* ---- operations ------------------------------------------------------- */

/* XX(field, Operation, service, protocol, idempotent, request, result) */
#define AWS_OPS_SUPPORT(XX)                                                    \
  XX(create_case, CreateCase, "support", AWS_PROTO_JSON11, false,              \
     create_case_req, create_case_result)                                      \
  XX(describe_cases, DescribeCases, "support", AWS_PROTO_JSON11, true,         \
     describe_cases_req, describe_cases_result)

/* Result types; each has aws_<type>_free (NULL is fine). */
#define AWS_RESULTS_SUPPORT(XX)                                                \
  XX(create_case_result)                                                       \
  XX(describe_cases_result)
AWS_RESULTS_SUPPORT(AWS_RESULT_FREE_DECL)

#endif
