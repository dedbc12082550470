/* AWS Query and EC2 query form encoding (application/x-www-form-urlencoded
 * bodies of STS, IAM and EC2 requests).
 *
 * Pairs are appended in call order; keys and values are percent-encoded per
 * RFC 3986 (unreserved A-Z a-z 0-9 - _ . ~ kept, everything else %XX).
 * Errors are sticky: the first failure is kept in q->err and returned by
 * aws_query_finish, so encoders can chain calls without checking each.
 *
 * List naming differs by protocol (botocore's serializers):
 *   Query: Prefix.member.N (or Prefix.N when the model says flattened)
 *   EC2:   Name.N, Name taken from the member's locationName, capitalized
 */
#ifndef PKG_AWS_PROTO_QUERY_H
#define PKG_AWS_PROTO_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/proto/shapes.h"
#include "util/buf.h"
#include "util/uri.h"

#define AWS_QUERY_MAX (1024 * 1024)

struct aws_wire;

struct aws_query {
  struct buf b;
  int err;
  bool ec2; /* EC2 list naming */
};

/* Starts the body with Action=<action>&Version=<version>. */
void aws_query_init(struct aws_query *q, bool ec2, const char *action,
                    const char *version);
void aws_query_cleanup(struct aws_query *q);
/* Returns q->err; on success the encoded body is in q->b. */
int aws_query_finish(struct aws_query *q);

/* Append key=value; a NULL value is skipped (optional member). */
void aws_query_add(struct aws_query *q, const char *key, const char *value);
void aws_query_add_int(struct aws_query *q, const char *key, long long v);
/* "true"/"false". */
void aws_query_add_bool(struct aws_query *q, const char *key, bool v);
/* Key built from a printf format; value as aws_query_add. */
void aws_query_addk(struct aws_query *q, const char *value, const char *kfmt,
                    ...) __attribute__((format(printf, 3, 4)));

/* A list of strings under prefix: Query "Prefix.member.N" (or "Prefix.N"
 * when flattened), EC2 "Prefix.N". Empty lists add nothing. */
void aws_query_add_list(struct aws_query *q, const char *prefix,
                        const char *const *items, size_t n, bool flattened);
/* A list of Key/Value tags: Query "Prefix.member.N.Key", EC2
 * "Prefix.N.Key". */
void aws_query_add_tags(struct aws_query *q, const char *prefix,
                        const struct aws_tag *tags, size_t n);
/* A map: "Prefix.entry.N.<kname>" / ".<vname>" (names from the model's
 * locationName, default "key"/"value"); flattened drops ".entry". */
void aws_query_add_map(struct aws_query *q, const char *prefix,
                       const char *const *keys, const char *const *vals,
                       size_t n, const char *kname, const char *vname,
                       bool flattened);

/* Move a finished query into w as a form POST body (q is cleaned up). */
int aws_query_request(struct aws_wire *w, struct aws_query *q);

#endif
