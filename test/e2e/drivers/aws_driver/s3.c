/* aws_driver, all-ops: the S3 steps. */
#include "driver_int.h"
#include "util/err.h"
#include "util/str.h"

int s_create_bucket(struct drv *d)
{
  struct aws_create_bucket_req rq = { d->id.bucket, NULL };

  str_fmt(d->id.bucket, sizeof(d->id.bucket), "aint-%s-logs", d->id.acct);
  return CALL(d, create_bucket, &d->xt, &rq, NULL);
}

int s_put_object(struct drv *d)
{
  static const char body[] = "region init log\n";
  struct aws_put_object_req rq = { d->id.bucket, "logs/init.txt", body,
                                   sizeof(body) - 1 };

  return CALL(d, put_object, &d->xt, &rq, NULL);
}

int s_list_buckets(struct drv *d)
{
  struct aws_s3_none_req rq = { 0 };

  return CALL(d, list_buckets, &d->xt, &rq, NULL);
}

static int a_objects(struct drv *d, const void *res)
{
  const struct aws_s3_objects_result *r = res;

  return r->n == 1 && str_eq(r->v[0].key, "logs/init.txt") ? 0 : OP_EPARSE;
}

int s_list_objects(struct drv *d)
{
  struct aws_list_objects_req rq = { .bucket = d->id.bucket,
                                     .prefix = "logs/" };

  return CALL(d, list_objects_v2, &d->xt, &rq, a_objects);
}

static int a_deleted(struct drv *d, const void *res)
{
  const struct aws_s3_delete_result *r = res;

  return r->nerrors == 0 ? 0 : OP_EPARSE;
}

int s_delete_objects(struct drv *d)
{
  static const char *const keys[] = { "logs/init.txt" };
  struct aws_delete_objects_req rq = { d->id.bucket, keys, 1, false };

  return CALL(d, delete_objects, &d->xt, &rq, a_deleted);
}

int s_delete_bucket(struct drv *d)
{
  struct aws_s3_bucket_req rq = { d->id.bucket };

  return CALL(d, delete_bucket, &d->xt, &rq, NULL);
}
