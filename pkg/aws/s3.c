/* Amazon S3 (REST-XML), path-style addressing: /<bucket>[/<key>]. */
#include "aws/s3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ops_int.h"
#include "aws/proto/query.h"
#include "aws/proto/restxml.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"

/* Path-style bucket (and key) path: "/bucket" or "/bucket/key". */
static int set_path(struct aws_wire *w, const char *bucket, const char *key)
{
  struct buf p;
  int rc;

  if (str_empty(bucket) || strchr(bucket, '/'))
    return OP_EINVAL;
  buf_init(&p, 4096);
  rc = buf_append_char(&p, '/');
  if (!rc)
    rc = uri_encode(&p, bucket, strlen(bucket), false);
  if (!rc && key) {
    rc = buf_append_char(&p, '/');
    if (!rc)
      rc = uri_encode(&p, key, strlen(key), true);
  }
  if (!rc) {
    free(w->path);
    w->path = buf_take(&p, NULL);
  }
  buf_cleanup(&p);
  return rc;
}

static void set_query(struct aws_wire *w, struct buf *q)
{
  free(w->query);
  w->query = buf_take(q, NULL);
}

/* ---- ListBuckets -------------------------------------------------------- */

int aws_enc_list_buckets(const struct aws_s3_none_req *rq, struct aws_wire *w)
{
  w->method = "GET";
  return 0;
}

static int bucket_item(aws_xnode n, void *elem)
{
  struct aws_s3_bucket *b = elem;

  b->name = aws_ox_str_new(n, "Name");
  b->creation_date = aws_ox_str_new(n, "CreationDate");
  return b->name ? 0 : OP_EPARSE;
}

int aws_dec_list_buckets(const char *body, size_t len,
                         struct aws_s3_buckets_result **out)
{
  struct aws_xml *doc = aws_ox_parse_new(body, len, "ListAllMyBucketsResult");
  struct aws_s3_buckets_result *r;
  int rc;

  if (!doc)
    return OP_EPARSE;
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_ox_each(aws_ox_child(aws_xml_root(doc), "Buckets"), "Bucket",
                   sizeof(*r->v), bucket_item, (void **)&r->v, &r->n);
  aws_xml_free(doc);
  if (rc) {
    aws_s3_buckets_result_free(r);
    return rc == OP_ETOOBIG ? rc : OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_s3_buckets_result_free(struct aws_s3_buckets_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].name);
    free(r->v[i].creation_date);
  }
  free(r->v);
  free(r);
}

/* ---- ListObjectsV2 ------------------------------------------------------ */

int aws_enc_list_objects_v2(const struct aws_list_objects_req *rq,
                            struct aws_wire *w)
{
  struct buf q;
  char num[24];
  int rc;

  rc = set_path(w, rq->bucket, NULL);
  if (rc)
    return rc;
  w->method = "GET";
  snprintf(num, sizeof(num), "%d", rq->max_keys);
  buf_init(&q, 8192);
  /* Sorted keys: the string is already in SigV4 canonical order. */
  rc = aws_rest_query_add(&q, "continuation-token", rq->continuation_token);
  if (!rc)
    rc = aws_rest_query_add(&q, "list-type", "2");
  if (!rc)
    rc = aws_rest_query_add(&q, "max-keys", rq->max_keys > 0 ? num : NULL);
  if (!rc)
    rc = aws_rest_query_add(&q, "prefix", rq->prefix);
  if (!rc)
    set_query(w, &q);
  buf_cleanup(&q);
  return rc;
}

static int object_item(aws_xnode n, void *elem)
{
  struct aws_s3_object *o = elem;
  int err = 0;

  o->key = aws_ox_str_new(n, "Key");
  o->size = aws_ox_int(n, "Size", 0, &err);
  return err || !o->key ? OP_EPARSE : 0;
}

int aws_dec_list_objects_v2(const char *body, size_t len,
                            struct aws_s3_objects_result **out)
{
  struct aws_xml *doc = aws_ox_parse_new(body, len, "ListBucketResult");
  struct aws_s3_objects_result *r;
  aws_xnode root;
  int rc;

  if (!doc)
    return OP_EPARSE;
  root = aws_xml_root(doc);
  r = util_xcalloc(1, sizeof(*r));
  /* Contents elements are flattened directly under the root. */
  rc = aws_ox_each(root, "Contents", sizeof(*r->v), object_item, (void **)&r->v,
                   &r->n);
  r->is_truncated = aws_ox_bool(root, "IsTruncated");
  r->next_continuation_token = aws_ox_str_new(root, "NextContinuationToken");
  aws_xml_free(doc);
  if (!rc && r->is_truncated && !r->next_continuation_token)
    rc = OP_EPARSE;
  if (rc) {
    aws_s3_objects_result_free(r);
    return rc == OP_ETOOBIG ? rc : OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_s3_objects_result_free(struct aws_s3_objects_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    free(r->v[i].key);
  free(r->v);
  free(r->next_continuation_token);
  free(r);
}

/* ---- DeleteObjects ------------------------------------------------------ */

static int delete_body(struct buf *b, const struct aws_delete_objects_req *rq)
{
  size_t i;
  int rc = buf_append_str(b, "<Delete xmlns=\"" S3_NS "\">");

  for (i = 0; i < rq->nkeys && !rc; i++) {
    rc = buf_append_str(b, "<Object>");
    if (!rc)
      rc = aws_xml_elem(b, "Key", rq->keys[i]);
    if (!rc)
      rc = buf_append_str(b, "</Object>");
  }
  if (!rc && rq->quiet)
    rc = buf_append_str(b, "<Quiet>true</Quiet>");
  if (!rc)
    rc = buf_append_str(b, "</Delete>");
  return rc;
}

int aws_enc_delete_objects(const struct aws_delete_objects_req *rq,
                           struct aws_wire *w)
{
  char md5[25];
  int rc;

  if (rq->nkeys == 0 || rq->nkeys > 1000)
    return OP_EINVAL;
  rc = set_path(w, rq->bucket, NULL);
  if (rc)
    return rc;
  w->method = "POST";
  free(w->query);
  w->query = util_xstrdup("delete=");
  rc = delete_body(&w->body, rq);
  if (rc)
    return rc;
  /* DeleteObjects requires an integrity header; Content-MD5 is the one
   * every S3 implementation accepts. */
  aws_content_md5(w->body.data, w->body.len, md5);
  rc = aws_wire_header(w, "Content-MD5", md5);
  if (!rc)
    rc = aws_wire_header(w, "Content-Type", "application/xml");
  return rc;
}

static int deleted_item(aws_xnode n, void *elem)
{
  char **k = elem;

  *k = aws_ox_str_new(n, "Key");
  return *k ? 0 : OP_EPARSE;
}

static int delete_error_item(aws_xnode n, void *elem)
{
  struct aws_s3_delete_error *e = elem;

  e->key = aws_ox_str_new(n, "Key");
  e->code = aws_ox_str_new(n, "Code");
  e->message = aws_ox_str_new(n, "Message");
  return e->key ? 0 : OP_EPARSE;
}

int aws_dec_delete_objects(const char *body, size_t len,
                           struct aws_s3_delete_result **out)
{
  struct aws_xml *doc = aws_ox_parse_new(body, len, "DeleteResult");
  struct aws_s3_delete_result *r;
  aws_xnode root;
  int rc;

  if (!doc)
    return OP_EPARSE;
  root = aws_xml_root(doc);
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_ox_each(root, "Deleted", sizeof(char *), deleted_item,
                   (void **)&r->deleted.v, &r->deleted.n);
  if (!rc)
    rc = aws_ox_each(root, "Error", sizeof(*r->errors), delete_error_item,
                     (void **)&r->errors, &r->nerrors);
  aws_xml_free(doc);
  if (rc) {
    aws_s3_delete_result_free(r);
    return rc == OP_ETOOBIG ? rc : OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_s3_delete_result_free(struct aws_s3_delete_result *r)
{
  size_t i;

  if (!r)
    return;
  aws_strs_cleanup(&r->deleted);
  for (i = 0; i < r->nerrors; i++) {
    free(r->errors[i].key);
    free(r->errors[i].code);
    free(r->errors[i].message);
  }
  free(r->errors);
  free(r);
}

/* ---- DeleteBucket / CreateBucket / PutObject ---------------------------- */

int aws_enc_delete_bucket(const struct aws_s3_bucket_req *rq,
                          struct aws_wire *w)
{
  w->method = "DELETE";
  return set_path(w, rq->bucket, NULL);
}

int aws_dec_delete_bucket(const char *body, size_t len,
                          struct aws_empty_result **out)
{
  return aws_dec_empty_any(body, len, out);
}

int aws_enc_create_bucket(const struct aws_create_bucket_req *rq,
                          struct aws_wire *w)
{
  int rc = set_path(w, rq->bucket, NULL);

  w->method = "PUT";
  if (rc || !rq->location_constraint)
    return rc;
  rc = buf_append_str(&w->body,
                      "<CreateBucketConfiguration xmlns=\"" S3_NS "\">");
  if (!rc)
    rc = aws_xml_elem(&w->body, "LocationConstraint", rq->location_constraint);
  if (!rc)
    rc = buf_append_str(&w->body, "</CreateBucketConfiguration>");
  return rc;
}

int aws_dec_create_bucket(const char *body, size_t len,
                          struct aws_empty_result **out)
{
  return aws_dec_empty_any(body, len, out);
}

int aws_enc_put_object(const struct aws_put_object_req *rq, struct aws_wire *w)
{
  int rc;

  if (str_empty(rq->key))
    return OP_EINVAL;
  rc = set_path(w, rq->bucket, rq->key);
  w->method = "PUT";
  if (!rc && rq->body_len)
    rc = buf_append(&w->body, rq->body, rq->body_len);
  return rc;
}

int aws_dec_put_object(const char *body, size_t len,
                       struct aws_empty_result **out)
{
  return aws_dec_empty_any(body, len, out);
}

bool aws_s3_objects_next(const struct aws_s3_objects_result *r,
                         struct aws_list_objects_req *rq)
{
  return aws_page_next_marker(r->is_truncated, r->next_continuation_token,
                              &rq->continuation_token);
}
