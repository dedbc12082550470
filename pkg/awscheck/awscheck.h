/* aws-check: who am I, in which partition and organization. The
 * `aws-account-operator aws-check` subcommand: GetCallerIdentity and
 * DescribeOrganization with the credentials the operator would use, and a
 * report that names the failure class (no credentials, bad signature,
 * access denied, unreachable endpoint, clock skew) without printing a
 * secret.
 *
 * Credentials: with a kubeconfig, the operator Secret
 * aws-account-operator-credentials in the namespace; otherwise
 * AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (IRSA), else
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. */
#ifndef PKG_AWSCHECK_AWSCHECK_H
#define PKG_AWSCHECK_AWSCHECK_H

#include <stdio.h>

struct awscheck_opts {
  const char *kubeconfig;   /* NULL: credentials from the environment */
  const char *namespace;    /* of the credentials Secret */
  const char *endpoint_url; /* NULL: real AWS */
  const char *region;       /* NULL: the partition's default */
};

enum { AWSCHECK_DIAGNOSIS = 1, AWSCHECK_CANNOT_RUN = 2 };

/* Run the check to completion on a loop of its own; the report goes to
 * out, reasons the check could not run to err. Returns the exit status:
 * 0 when both calls succeeded, AWSCHECK_DIAGNOSIS when the report names a
 * failure, AWSCHECK_CANNOT_RUN when no report could be made. */
int awscheck_run(const struct awscheck_opts *o, FILE *out, FILE *err);

#endif
