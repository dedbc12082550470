/* AWS error responses: decoding per protocol and one classification by
 * error code (never by HTTP status alone: throttling arrives as 400).
 *
 *   struct aws_error e;
 *   aws_error_decode(AWS_PROTO_QUERY, status, body, len,
 *                    hdr_error_type, hdr_request_id, &e);
 *   return aws_error_op(&e);   // OP_ETHROTTLED, OP_EAUTH, ...
 */
#ifndef PKG_AWS_CORE_ERRORS_H
#define PKG_AWS_CORE_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

enum aws_protocol {
  AWS_PROTO_JSON11,   /* Organizations, Support, Service Quotas */
  AWS_PROTO_QUERY,    /* STS, IAM */
  AWS_PROTO_EC2,      /* EC2 */
  AWS_PROTO_RESTXML,  /* S3, Route 53 */
  AWS_PROTO_RESTJSON, /* Account */
};

enum aws_err_class {
  AWS_ERR_NONE = 0,
  AWS_ERR_THROTTLED,  /* -> OP_ETHROTTLED (retryable) */
  AWS_ERR_TRANSIENT,  /* -> OP_ETRANSIENT (retryable when safe) */
  AWS_ERR_AUTH,       /* -> OP_EAUTH */
  AWS_ERR_CLOCK_SKEW, /* -> OP_EAUTH, but fixable by skew correction */
  AWS_ERR_NOTFOUND,   /* -> OP_ENOTFOUND */
  AWS_ERR_CONFLICT,   /* -> OP_ECONFLICT */
  AWS_ERR_LIMIT,      /* -> OP_ELIMIT (reason kept) */
  AWS_ERR_INVALID,    /* -> OP_EINVAL */
  AWS_ERR_OTHER,      /* -> OP_EAWS */
};

struct aws_error {
  int cls;           /* enum aws_err_class */
  char code[64];     /* "ThrottlingException"; "" when unknown */
  char message[512]; /* never holds secrets (AWS does not echo them) */
  char reason[64];   /* ConstraintViolationException Reason, etc. */
  char request_id[80];
  long http_status; /* 0 for transport errors */
};

/* Fill *e from an error response. hdr_error_type is x-amzn-ErrorType
 * (or NULL), hdr_request_id x-amzn-RequestId / x-amz-request-id (or NULL).
 * Never fails: an unparseable body leaves code "" and classifies by
 * status (5xx transient, else other). Returns aws_error_op(e). */
int aws_error_decode(enum aws_protocol proto, long status, const char *body,
                     size_t len, const char *hdr_error_type,
                     const char *hdr_request_id, struct aws_error *e);
/* A transport failure (op_err from httpc) as an aws_error. */
int aws_error_from_transport(int err, const char *detail, struct aws_error *e);
/* Class of an error code (status used only when code is empty). */
enum aws_err_class aws_error_classify(const char *code, long status);
int aws_error_class_op(enum aws_err_class cls);
int aws_error_op(const struct aws_error *e);
const char *aws_error_class_name(enum aws_err_class cls);
void aws_error_clear(struct aws_error *e);

#endif
