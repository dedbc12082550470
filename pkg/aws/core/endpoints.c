/* Partitions and endpoints. See endpoints.h. */
#include "aws/core/endpoints.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

struct partition {
  const char *name;
  const char *suffix;
  const char *default_region;
};

static const struct partition partitions[] = {
  { "aws", "amazonaws.com", "us-east-1" },
  { "aws-us-gov", "amazonaws.com", "us-gov-west-1" },
  { "aws-cn", "amazonaws.com.cn", "cn-northwest-1" },
};

/* Global services: one host and signing region per partition (index as
 * in partitions[]). Regional services: "<prefix>.<region>.<suffix>". */
struct service {
  const char *name;    /* as in aws_call.service */
  const char *env;     /* AWS_ENDPOINT_URL_<env> */
  const char *signing; /* SigV4 service name */
  int global;
  const char *host[3];
  const char *region[3];
};

static const struct service services[] = {
  { "organizations",
    "ORGANIZATIONS",
    "organizations",
    1,
    { "organizations.us-east-1.amazonaws.com",
      "organizations.us-gov-west-1.amazonaws.com",
      "organizations.cn-northwest-1.amazonaws.com.cn" },
    { "us-east-1", "us-gov-west-1", "cn-northwest-1" } },
  { "iam",
    "IAM",
    "iam",
    1,
    { "iam.amazonaws.com", "iam.us-gov.amazonaws.com",
      "iam.cn-north-1.amazonaws.com.cn" },
    { "us-east-1", "us-gov-west-1", "cn-north-1" } },
  { "support",
    "SUPPORT",
    "support",
    1,
    { "support.us-east-1.amazonaws.com", "support.us-gov-west-1.amazonaws.com",
      "support.cn-north-1.amazonaws.com.cn" },
    { "us-east-1", "us-gov-west-1", "cn-north-1" } },
  { "account",
    "ACCOUNT",
    "account",
    1,
    { "account.us-east-1.amazonaws.com", "account.us-gov-west-1.amazonaws.com",
      "account.cn-northwest-1.amazonaws.com.cn" },
    { "us-east-1", "us-gov-west-1", "cn-northwest-1" } },
  { "route53",
    "ROUTE_53",
    "route53",
    1,
    { "route53.amazonaws.com", "route53.us-gov.amazonaws.com",
      "route53.amazonaws.com.cn" },
    { "us-east-1", "us-gov-west-1", "cn-northwest-1" } },
  { "sts", "STS", "sts", 0, { NULL, NULL, NULL }, { NULL, NULL, NULL } },
  { "ec2", "EC2", "ec2", 0, { NULL, NULL, NULL }, { NULL, NULL, NULL } },
  { "servicequotas",
    "SERVICE_QUOTAS",
    "servicequotas",
    0,
    { NULL, NULL, NULL },
    { NULL, NULL, NULL } },
  { "s3", "S3", "s3", 0, { NULL, NULL, NULL }, { NULL, NULL, NULL } },
};

#define NSERVICES (sizeof(services) / sizeof(services[0]))

/* Who frees: every override string is owned by the table. */
struct aws_endpoints {
  int part; /* index into partitions[] */
  char *override[NSERVICES];
};

static int find_partition(const char *name)
{
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(partitions); i++)
    if (str_eq(partitions[i].name, name))
      return (int)i;
  return -1;
}

/* "scheme://host[:port][/]" only. */
static int url_valid(const char *u)
{
  const char *h;

  if (str_has_prefix(u, "https://"))
    h = u + 8;
  else if (str_has_prefix(u, "http://"))
    h = u + 7;
  else
    return 0;
  if (*h == '\0' || *h == '/' || strlen(u) >= AWS_URL_MAX)
    return 0;
  h += strcspn(h, "/");
  return *h == '\0' || strcmp(h, "/") == 0;
}

int aws_endpoints_new(const char *partition, const char *endpoint_url,
                      const char *(*getenv_fn)(const char *name),
                      struct aws_endpoints **out)
{
  struct aws_endpoints *e;
  int part = find_partition(partition ? partition : "aws");
  size_t i;

  *out = NULL;
  if (part < 0)
    return OP_EINVAL;
  if (!str_empty(endpoint_url) && !url_valid(endpoint_url))
    return OP_ECONFIG;
  e = util_xcalloc(1, sizeof(*e));
  e->part = part;
  for (i = 0; i < NSERVICES; i++) {
    char name[64];
    const char *v;
    str_fmt(name, sizeof(name), "AWS_ENDPOINT_URL_%s", services[i].env);
    v = getenv_fn ? getenv_fn(name) : getenv(name);
    if (str_empty(v))
      v = endpoint_url;
    if (str_empty(v))
      continue;
    if (!url_valid(v)) {
      aws_endpoints_free(e);
      return OP_ECONFIG;
    }
    e->override[i] = util_xstrdup(v);
    if (str_has_suffix(e->override[i], "/"))
      e->override[i][strlen(e->override[i]) - 1] = '\0';
  }
  *out = e;
  return 0;
}

void aws_endpoints_free(struct aws_endpoints *e)
{
  size_t i;

  if (!e)
    return;
  for (i = 0; i < NSERVICES; i++)
    free(e->override[i]);
  free(e);
}

int aws_endpoints_set_partition(struct aws_endpoints *e, const char *partition)
{
  int part = find_partition(partition);

  if (part < 0)
    return OP_EINVAL;
  e->part = part;
  return 0;
}

const char *aws_endpoints_partition(const struct aws_endpoints *e)
{
  return partitions[e->part].name;
}

static int fill_override(const char *url, struct aws_endpoint *out)
{
  const char *h = strstr(url, "://") + 3;

  str_copy(out->url, url, sizeof(out->url));
  return str_copy(out->host, h, sizeof(out->host)) < sizeof(out->host)
             ? 0
             : OP_ECONFIG;
}

int aws_endpoint_resolve(const struct aws_endpoints *e, const char *service,
                         const char *region, struct aws_endpoint *out)
{
  const struct partition *p = &partitions[e->part];
  const struct service *s = NULL;
  size_t i;
  int rc = 0;

  for (i = 0; i < NSERVICES && !s; i++)
    if (str_eq(services[i].name, service))
      s = &services[i];
  if (!s)
    return OP_EINVAL;
  memset(out, 0, sizeof(*out));
  str_copy(out->signing_name, s->signing, sizeof(out->signing_name));
  if (s->global) {
    str_copy(out->signing_region, s->region[e->part],
             sizeof(out->signing_region));
    str_fmt(out->host, sizeof(out->host), "%s", s->host[e->part]);
  } else {
    const char *r = str_empty(region) ? p->default_region : region;
    if (strlen(r) >= sizeof(out->signing_region) || strchr(r, '/'))
      return OP_EINVAL;
    str_copy(out->signing_region, r, sizeof(out->signing_region));
    rc = str_fmt(out->host, sizeof(out->host), "%s.%s.%s", s->name, r,
                 p->suffix);
  }
  if (rc == 0)
    rc = str_fmt(out->url, sizeof(out->url), "https://%s", out->host);
  if (rc == 0 && e->override[s - services])
    rc = fill_override(e->override[s - services], out);
  return rc;
}

const char *aws_partition_default_region(const char *partition)
{
  int i = find_partition(str_empty(partition) ? "aws" : partition);

  return i < 0 ? NULL : partitions[i].default_region;
}

const char *aws_partition_of_region(const char *region)
{
  if (str_has_prefix(region, "cn-"))
    return "aws-cn";
  if (str_has_prefix(region, "us-gov-"))
    return "aws-us-gov";
  return "aws";
}

const char *aws_partition_dns_suffix(const char *partition)
{
  int i = find_partition(partition);

  return i < 0 ? NULL : partitions[i].suffix;
}

/* Field k (0-based) of "arn:partition:service:region:account:resource". */
static int arn_field(const char *arn, int k, char *out, size_t n)
{
  const char *p = arn;
  size_t len;
  int i;

  if (!str_has_prefix(arn, "arn:"))
    return OP_EINVAL;
  for (i = 0; i < k; i++) {
    p = strchr(p, ':');
    if (!p)
      return OP_EINVAL;
    p++;
  }
  len = strcspn(p, ":");
  if (len == 0 || len >= n || p[len] != ':')
    return OP_EINVAL;
  memcpy(out, p, len);
  out[len] = '\0';
  return 0;
}

int aws_arn_partition(const char *arn, char *out, size_t n)
{
  return arn_field(arn ? arn : "", 1, out, n);
}

int aws_arn_account(const char *arn, char *out, size_t n)
{
  return arn_field(arn ? arn : "", 4, out, n);
}

int aws_arn_fmt(char *out, size_t n, const char *partition, const char *service,
                const char *account, const char *resource)
{
  if (n)
    out[0] = '\0';
  if (str_empty(service) || str_empty(account) || str_empty(resource))
    return OP_EINVAL;
  return str_fmt(out, n, "arn:%s:%s::%s:%s",
                 str_empty(partition) ? "aws" : partition, service, account,
                 resource);
}
