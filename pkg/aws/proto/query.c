/* AWS Query / EC2 form encoding. */
#include "aws/proto/query.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/proto/wire.h"
#include "util/err.h"
#include "util/util.h"

void aws_query_init(struct aws_query *q, bool ec2, const char *action,
                    const char *version)
{
  buf_init(&q->b, AWS_QUERY_MAX);
  q->err = 0;
  q->ec2 = ec2;
  aws_query_add(q, "Action", action);
  aws_query_add(q, "Version", version);
}

void aws_query_cleanup(struct aws_query *q)
{
  buf_cleanup(&q->b);
}

int aws_query_finish(struct aws_query *q)
{
  return q->err;
}

void aws_query_add(struct aws_query *q, const char *key, const char *value)
{
  int rc = 0;

  if (q->err || !value)
    return;
  if (q->b.len)
    rc = buf_append_char(&q->b, '&');
  if (!rc)
    rc = uri_encode(&q->b, key, strlen(key), false);
  if (!rc)
    rc = buf_append_char(&q->b, '=');
  if (!rc)
    rc = uri_encode(&q->b, value, strlen(value), false);
  q->err = rc;
}

void aws_query_add_int(struct aws_query *q, const char *key, long long v)
{
  char num[32];

  snprintf(num, sizeof(num), "%lld", v);
  aws_query_add(q, key, num);
}

void aws_query_add_bool(struct aws_query *q, const char *key, bool v)
{
  aws_query_add(q, key, v ? "true" : "false");
}

void aws_query_addk(struct aws_query *q, const char *value, const char *kfmt,
                    ...)
{
  char key[256];
  va_list ap;
  int n;

  if (q->err || !value)
    return;
  va_start(ap, kfmt);
  n = vsnprintf(key, sizeof(key), kfmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof(key)) {
    q->err = OP_ETOOBIG;
    return;
  }
  aws_query_add(q, key, value);
}

static const char *member_infix(const struct aws_query *q, bool flattened)
{
  return q->ec2 || flattened ? "" : ".member";
}

void aws_query_add_list(struct aws_query *q, const char *prefix,
                        const char *const *items, size_t n, bool flattened)
{
  const char *mid = member_infix(q, flattened);
  size_t i;

  for (i = 0; i < n; i++)
    aws_query_addk(q, items[i], "%s%s.%zu", prefix, mid, i + 1);
}

void aws_query_add_tags(struct aws_query *q, const char *prefix,
                        const struct aws_tag *tags, size_t n)
{
  const char *mid = member_infix(q, false);
  size_t i;

  for (i = 0; i < n; i++) {
    aws_query_addk(q, tags[i].key, "%s%s.%zu.Key", prefix, mid, i + 1);
    aws_query_addk(q, tags[i].value ? tags[i].value : "", "%s%s.%zu.Value",
                   prefix, mid, i + 1);
  }
}

void aws_query_add_map(struct aws_query *q, const char *prefix,
                       const char *const *keys, const char *const *vals,
                       size_t n, const char *kname, const char *vname,
                       bool flattened)
{
  const char *mid = flattened ? "" : ".entry";
  size_t i;

  kname = kname ? kname : "key";
  vname = vname ? vname : "value";
  for (i = 0; i < n; i++) {
    aws_query_addk(q, keys[i], "%s%s.%zu.%s", prefix, mid, i + 1, kname);
    aws_query_addk(q, vals[i], "%s%s.%zu.%s", prefix, mid, i + 1, vname);
  }
}

int aws_query_request(struct aws_wire *w, struct aws_query *q)
{
  int rc = aws_query_finish(q);

  w->method = "POST";
  if (!rc)
    rc = buf_append(&w->body, q->b.data ? q->b.data : "", q->b.len);
  if (!rc)
    rc = aws_wire_header(w, "Content-Type",
                         "application/x-www-form-urlencoded; charset=utf-8");
  aws_query_cleanup(q);
  return rc;
}
