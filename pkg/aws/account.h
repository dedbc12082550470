/* AWS Account Management (REST-JSON): requests, results and the operation list
 * AWS_OPS_ACCOUNT, which aws/api.h assembles into struct aws_api. Strings,
 * frees and the calling contract: see aws/api.h and aws/proto/shapes.h.
 */
#ifndef PKG_AWS_ACCOUNT_H
#define PKG_AWS_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/errors.h"
#include "aws/proto/shapes.h"

struct aws_region_opt_req {
  const char *region_name; /* required */
  const char *account_id;  /* optional: member account from management */
};
struct aws_region_opt_result {
  char *region_name, *region_opt_status;
};

/* ---- operations ------------------------------------------------------- */

/* XX(field, Operation, service, protocol, idempotent, request, result) */
#define AWS_OPS_ACCOUNT(XX)                                                    \
  XX(get_region_opt_status, GetRegionOptStatus, "account", AWS_PROTO_RESTJSON, \
     true, region_opt_req, region_opt_result)                                  \
  XX(enable_region, EnableRegion, "account", AWS_PROTO_RESTJSON, true,         \
     region_opt_req, empty_result)

/* Result types; each has aws_<type>_free (NULL is fine). */
#define AWS_RESULTS_ACCOUNT(XX) XX(region_opt_result)
AWS_RESULTS_ACCOUNT(AWS_RESULT_FREE_DECL)

#endif
