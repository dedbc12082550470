/* What iam.c and iam_policy.c share (not for callers): the request and
 * decode scaffolding of the IAM Query operations. */
#ifndef PKG_AWS_IAM_INT_H
#define PKG_AWS_IAM_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/ops_int.h"
#include "aws/proto/query.h"

#define IAM_VERSION "2010-05-08"

/* A URL-encoded policy document as IAM returns it, decoded. */
char *aws_iam_doc_str_new(aws_xnode n, const char *path);

/* <opResult><elem>...</elem></opResult> into *item with fn. */
int aws_iam_dec_one(const char *body, size_t len, const char *op,
                    const char *elem, aws_ox_item_fn fn, void *item);

struct iam_page {
  bool *is_truncated;
  char **marker;
};

/* <opResult><list><member/>...</list><IsTruncated/><Marker/></opResult> */
int aws_iam_dec_list(const char *body, size_t len, const char *op,
                     const char *list, size_t sz, aws_ox_item_fn fn, void **v,
                     size_t *n, struct iam_page pg);

#define PG(r) ((struct iam_page){ &(r)->is_truncated, &(r)->marker })

/* Action and Version of an IAM request. */
void aws_iam_query(struct aws_query *q, const char *action);
/* Marker and MaxItems (when > 0). */
void aws_iam_page(struct aws_query *q, const char *marker, int max_items);
/* Request of one required name parameter. */
int aws_iam_enc1(struct aws_wire *w, const char *action, const char *k1,
                 const char *v1);
/* Request of two required parameters. */
int aws_iam_enc2(struct aws_wire *w, const char *action, const char *k1,
                 const char *v1, const char *k2, const char *v2);
/* Paged request keyed by one required name. */
int aws_iam_enc_page(struct aws_wire *w, const char *action, const char *k1,
                     const char *v1, const char *marker, int max_items);

#define EMPTY_DEC(f)                                                           \
  int aws_dec_##f(const char *body, size_t len, struct aws_empty_result **out) \
  {                                                                            \
    return aws_dec_empty_xml(body, len, out);                                  \
  }

/* Typed one-element decoder: aws_dec_<f> into struct <res>.<field>. */
#define ONE_DEC(f, op, res, field, elem, fn)                                   \
  int aws_dec_##f(const char *body, size_t len, struct aws_##res **out)        \
  {                                                                            \
    struct aws_##res *r = util_xcalloc(1, sizeof(*r));                         \
    int rc = aws_iam_dec_one(body, len, op, elem, fn, &r->field);              \
    if (rc) {                                                                  \
      aws_##res##_free(r);                                                     \
      return rc;                                                               \
    }                                                                          \
    *out = r;                                                                  \
    return 0;                                                                  \
  }

/* Typed list decoder into struct <res> {v, n, is_truncated, marker}. */
#define LIST_DEC(f, op, res, list, fn)                                         \
  int aws_dec_##f(const char *body, size_t len, struct aws_##res **out)        \
  {                                                                            \
    struct aws_##res *r = util_xcalloc(1, sizeof(*r));                         \
    int rc = aws_iam_dec_list(body, len, op, list, sizeof(*r->v), fn,          \
                              (void **)&r->v, &r->n, PG(r));                   \
    if (rc) {                                                                  \
      aws_##res##_free(r);                                                     \
      return rc;                                                               \
    }                                                                          \
    *out = r;                                                                  \
    return 0;                                                                  \
  }

#endif
