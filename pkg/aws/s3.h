/* Amazon S3 (REST-XML): requests, results and the operation list
 * AWS_OPS_S3, which aws/api.h assembles into struct aws_api. Strings,
 * frees and the calling contract: see aws/api.h and aws/proto/shapes.h.
 */
#ifndef PKG_AWS_S3_H
#define PKG_AWS_S3_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/errors.h"
#include "aws/proto/shapes.h"

struct aws_s3_none_req {
  char unused;
};
struct aws_s3_bucket {
  char *name, *creation_date;
};
struct aws_s3_buckets_result {
  struct aws_s3_bucket *v;
  size_t n;
};
struct aws_s3_bucket_req { /* DeleteBucket */
  const char *bucket;
};
struct aws_create_bucket_req {
  const char *bucket, *location_constraint; /* NULL for us-east-1 */
};
struct aws_list_objects_req {
  const char *bucket, *prefix, *continuation_token;
  int max_keys;
};
struct aws_s3_object {
  char *key;
  long long size;
};
struct aws_s3_objects_result {
  struct aws_s3_object *v;
  size_t n;
  bool is_truncated;
  char *next_continuation_token;
};
struct aws_delete_objects_req {
  const char *bucket;
  const char *const *keys;
  size_t nkeys; /* 1..1000 */
  bool quiet;
};
struct aws_s3_delete_error {
  char *key, *code, *message;
};
struct aws_s3_delete_result {
  struct aws_strs deleted;
  struct aws_s3_delete_error *errors;
  size_t nerrors;
};
struct aws_put_object_req {
  const char *bucket, *key;
  const void *body;
  size_t body_len;
};

/* ---- pagination ------------------------------------------------------- */

/* S3 ListObjectsV2 ContinuationToken/IsTruncated. */
bool aws_s3_objects_next(const struct aws_s3_objects_result *r,
                         struct aws_list_objects_req *rq);

/* ---- operations ------------------------------------------------------- */

/* XX(field, Operation, service, protocol, idempotent, request, result) */
#define AWS_OPS_S3(XX)                                                         \
  XX(list_buckets, ListBuckets, "s3", AWS_PROTO_RESTXML, true, s3_none_req,    \
     s3_buckets_result)                                                        \
  XX(list_objects_v2, ListObjectsV2, "s3", AWS_PROTO_RESTXML, true,            \
     list_objects_req, s3_objects_result)                                      \
  XX(delete_objects, DeleteObjects, "s3", AWS_PROTO_RESTXML, true,             \
     delete_objects_req, s3_delete_result)                                     \
  XX(delete_bucket, DeleteBucket, "s3", AWS_PROTO_RESTXML, true,               \
     s3_bucket_req, empty_result)                                              \
  XX(create_bucket, CreateBucket, "s3", AWS_PROTO_RESTXML, true,               \
     create_bucket_req, empty_result)                                          \
  XX(put_object, PutObject, "s3", AWS_PROTO_RESTXML, true, put_object_req,     \
     empty_result)

/* Result types; each has aws_<type>_free (NULL is fine). */
#define AWS_RESULTS_S3(XX)                                                     \
  XX(s3_buckets_result)                                                        \
  XX(s3_objects_result)                                                        \
  XX(s3_delete_result)
AWS_RESULTS_S3(AWS_RESULT_FREE_DECL)

#endif
