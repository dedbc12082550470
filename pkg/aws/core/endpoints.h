/* Partitions, per-service endpoints, signing regions and overrides.
 *
 * Overrides: --aws-endpoint-url for every service, then
 * AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_STS,
 * AWS_ENDPOINT_URL_SERVICE_QUOTAS) per service, read once into the table
 * at client creation. The signing region and service never change with an
 * override. */
#ifndef PKG_AWS_CORE_ENDPOINTS_H
#define PKG_AWS_CORE_ENDPOINTS_H

#include <stddef.h>

#define AWS_URL_MAX 512

struct aws_endpoints;

struct aws_endpoint {
  char url[AWS_URL_MAX]; /* scheme://host[:port] without a path */
  char host[256];        /* Host header value */
  char signing_region[32];
  char signing_name[32]; /* "organizations", "iam", "s3", ... */
};

/* partition NULL = "aws"; endpoint_url NULL = none; getenv_fn NULL =
 * getenv (tests inject). Returns 0, OP_EINVAL (unknown partition) or
 * OP_ECONFIG (malformed override URL). */
int aws_endpoints_new(const char *partition, const char *endpoint_url,
                      const char *(*getenv_fn)(const char *name),
                      struct aws_endpoints **out);
void aws_endpoints_free(struct aws_endpoints *e);
/* region NULL: the service's default/global region. Returns 0 or
 * OP_EINVAL (unknown service). */
int aws_endpoint_resolve(const struct aws_endpoints *e, const char *service,
                         const char *region, struct aws_endpoint *out);
const char *aws_endpoints_partition(const struct aws_endpoints *e);

/* "aws" -> "us-east-1", "aws-us-gov" -> "us-gov-west-1",
 * "aws-cn" -> "cn-northwest-1" (NULL or "" = "aws"); NULL for unknown.
 * It is also the partition's global region (Organizations, IAM). */
const char *aws_partition_default_region(const char *partition);
/* Partition of a region ("cn-north-1" -> "aws-cn"). */
const char *aws_partition_of_region(const char *region);
/* Partition field of an ARN ("arn:aws-us-gov:iam::1:role/x"), copied into
 * out; 0 or OP_EINVAL. */
int aws_arn_partition(const char *arn, char *out, size_t n);
/* Account id field of an ARN; 0 or OP_EINVAL. */
int aws_arn_account(const char *arn, char *out, size_t n);
/* "arn:<partition>:<service>::<account>:<resource>" (no region: IAM, STS
 * and Organizations ARNs), the one place ARNs are built. partition NULL or
 * "" = "aws"; account may be "aws" (managed policies). 0, OP_EINVAL (an
 * empty service, account or resource) or OP_ETOOBIG. */
int aws_arn_fmt(char *out, size_t n, const char *partition, const char *service,
                const char *account, const char *resource);
/* Switch the table to another partition (the ConfigMap's `fedramp` is
 * live): global services resolve to that partition's endpoints and
 * signing regions; overrides stay. 0 or OP_EINVAL (unknown partition). */
int aws_endpoints_set_partition(struct aws_endpoints *e, const char *partition);
/* DNS suffix: "amazonaws.com" / "amazonaws.com.cn". */
const char *aws_partition_dns_suffix(const char *partition);

#endif
