/* The logic behind `aws-account-operator aws-check`: with the given
 * credentials, call STS GetCallerIdentity and Organizations
 * DescribeOrganization, then report either who we are or what is wrong.
 *
 *   aws_check_start(client, creds, done, arg);
 *   done(&result, arg): result.rc == 0 only when both calls succeeded;
 *   aws_check_format(&result, &out) renders the summary or diagnosis.
 */
#ifndef PKG_AWS_CORE_CHECK_H
#define PKG_AWS_CORE_CHECK_H

#include "aws/core/creds.h"
#include "aws/core/errors.h"
#include "aws/core/transport.h"
#include "util/buf.h"

enum aws_check_diag {
  AWS_CHECK_OK = 0,
  AWS_CHECK_NO_CREDENTIALS, /* nothing configured, or provider failed */
  AWS_CHECK_UNKNOWN_KEY,    /* AWS does not know the access key id */
  AWS_CHECK_BAD_SIGNATURE,  /* wrong secret access key */
  AWS_CHECK_CLOCK_SKEW,     /* local clock too far from AWS's */
  AWS_CHECK_EXPIRED_TOKEN,  /* session token expired */
  AWS_CHECK_ACCESS_DENIED,  /* identity valid, permission missing */
  AWS_CHECK_NOT_IN_ORG,     /* account is not in an organization */
  AWS_CHECK_UNREACHABLE,    /* endpoint unreachable (DNS, TCP, TLS) */
  AWS_CHECK_THROTTLED,
  AWS_CHECK_OTHER,
};

struct aws_check_result {
  int rc; /* 0, or the op_err of the failed call */
  enum aws_check_diag diag;
  const char *failed_call; /* "sts:GetCallerIdentity", ... or NULL */
  struct aws_error aerr;   /* of the failed call */
  char account[16];
  char arn[256];
  char user_id[128];
  char partition[16];
  char org_id[64];
  char mgmt_account[16];
  char feature_set[32];
};

typedef void (*aws_check_cb)(const struct aws_check_result *r, void *arg);

/* creds NULL: the callback reports AWS_CHECK_NO_CREDENTIALS at once.
 * Returns 0 (cb runs exactly once, maybe before this returns) or an
 * op_err. */
int aws_check_start(struct aws_client *c, struct aws_creds *creds,
                    aws_check_cb cb, void *arg);
/* Pure mapping from a failed call to a diagnosis. */
enum aws_check_diag aws_check_diagnose(int err, const struct aws_error *e);
const char *aws_check_diag_name(enum aws_check_diag d);
/* One sentence telling the operator what to fix. */
const char *aws_check_diag_advice(enum aws_check_diag d);
/* Human-readable multi-line report. */
int aws_check_format(const struct aws_check_result *r, struct buf *out);
/* Parsers, exposed for tests. */
int aws_check_parse_identity(const char *body, size_t len,
                             struct aws_check_result *r);
int aws_check_parse_org(const char *body, size_t len,
                        struct aws_check_result *r);

#endif
