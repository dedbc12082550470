/* Every AWS operation the operator calls, behind one interface table.
 *
 * Controllers hold a `struct aws_api *` and call through it; the real table
 * (aws_api_real_new) encodes the request, sends it through aws_call_start
 * and decodes the response; tests substitute their own table and `impl`.
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
 *
 * Each service's header (aws/orgs.h, aws/sts.h, ...) owns its requests,
 * results and operation list AWS_OPS_<SERVICE>; this header assembles the
 * lists into AWS_OPS and the table.
 */
#ifndef PKG_AWS_API_H
#define PKG_AWS_API_H

#include "aws/account.h"
#include "aws/core/transport.h"
#include "aws/ec2.h"
#include "aws/iam.h"
#include "aws/orgs.h"
#include "aws/proto/shapes.h"
#include "aws/quotas.h"
#include "aws/route53.h"
#include "aws/s3.h"
#include "aws/sts.h"
#include "aws/support.h"

/* Who and where: the credentials to sign with and the region to call. */
struct aws_target {
  struct aws_creds *creds;
  const char *region;     /* NULL = the service's default region */
  const char *controller; /* metrics label; NULL = "{OTHER}" */
  const char *account;    /* rate-governor key; NULL = the creds' label */
  bool background;        /* a periodic poll's call (aws_call.background) */
};

/* XX(field, Operation, service, protocol, idempotent, request, result) */
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

/* Every result type: XX(type), with aws_<type>_free declared. */
#define AWS_API_RESULT_TYPES(XX)                                               \
  AWS_RESULTS_SHARED(XX)                                                       \
  AWS_RESULTS_ORGS(XX)                                                         \
  AWS_RESULTS_STS(XX)                                                          \
  AWS_RESULTS_IAM(XX)                                                          \
  AWS_RESULTS_SUPPORT(XX)                                                      \
  AWS_RESULTS_EC2(XX)                                                          \
  AWS_RESULTS_QUOTAS(XX)                                                       \
  AWS_RESULTS_ACCOUNT(XX)                                                      \
  AWS_RESULTS_S3(XX)                                                           \
  AWS_RESULTS_ROUTE53(XX)

struct aws_api;

/* Typed completion callbacks: aws_<field>_cb. */
#define AWS_API_CB(f, op, svc, proto, idem, req, res)                          \
  typedef void (*aws_##f##_cb)(int err, const struct aws_error *aerr,          \
                               const struct aws_##res *res, void *arg);
AWS_OPS(AWS_API_CB)
#undef AWS_API_CB

struct aws_api {
  void *impl; /* the real table: its own state; tests: anything */
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

#endif
