/* AWS JSON 1.1 (Organizations, Support, Service Quotas) and REST-JSON
 * (Account) request building.
 *
 * JSON 1.1: POST / with Content-Type application/x-amz-json-1.1 and
 * X-Amz-Target <prefix>.<Operation>; the body is the input shape as a JSON
 * object (members omitted when unset; "{}" for no members).
 */
#ifndef PKG_AWS_JSON11_H
#define PKG_AWS_JSON11_H

#include <jansson.h>

#define AWS_JSON11_ORGS "AWSOrganizationsV20161128"
#define AWS_JSON11_SUPPORT "AWSSupport_20130415"
#define AWS_JSON11_QUOTAS "ServiceQuotasV20190624"
#define AWS_JSON11_CONTENT_TYPE "application/x-amz-json-1.1"

struct aws_wire;

/* Fill w for a JSON 1.1 call; body is stolen (NULL = {}). */
int aws_json11_request(struct aws_wire *w, const char *target_prefix,
                       const char *operation, json_t *body);
/* Fill w for a REST-JSON POST to path with body (stolen). */
int aws_restjson_post(struct aws_wire *w, const char *path, json_t *body);

#endif
