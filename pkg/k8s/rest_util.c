/* Pure helpers: path and query building, Status decoding, Retry-After,
 * token bucket, object accessors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/client.h"
#include "k8s/k8s_int.h"
#include "util/str.h"
#include "util/timeutil.h"

static bool unreserved(unsigned char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
         (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
         ch == '~';
}

int k8s_escape(struct buf *out, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  const unsigned char *p;
  int rc = 0;

  for (p = (const unsigned char *)s; *p && !rc; p++) {
    if (unreserved(*p)) {
      rc = buf_append_char(out, (char)*p);
    } else {
      char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
      rc = buf_append(out, enc, 3);
    }
  }
  return rc;
}

static int segment(struct buf *out, const char *s)
{
  int rc;

  if (str_empty(s) || str_eq(s, ".") || str_eq(s, ".."))
    return OP_EINVAL;
  if ((rc = buf_append_char(out, '/')))
    return rc;
  return k8s_escape(out, s);
}

int k8s_path_build(struct buf *out, const struct k8s_gvr *gvr, const char *ns,
                   const char *name, const char *sub)
{
  int rc;

  if (!gvr || str_empty(gvr->version) || str_empty(gvr->resource))
    return OP_EINVAL;
  if (str_empty(gvr->group))
    rc = buf_append_str(out, "/api");
  else
    rc = buf_printf(out, "/apis/%s", gvr->group);
  if (!rc)
    rc = segment(out, gvr->version);
  if (!rc && gvr->namespaced && !str_empty(ns)) {
    rc = buf_append_str(out, "/namespaces");
    if (!rc)
      rc = segment(out, ns);
  }
  if (!rc)
    rc = segment(out, gvr->resource);
  if (!rc && name)
    rc = segment(out, name);
  if (!rc && sub)
    rc = segment(out, sub);
  return rc;
}

int k8s_query_add(struct buf *out, const char *key, const char *value)
{
  int rc = buf_append_char(out, strchr(buf_str(out), '?') ? '&' : '?');

  if (!rc)
    rc = k8s_escape(out, key);
  if (!rc)
    rc = buf_append_char(out, '=');
  if (!rc)
    rc = k8s_escape(out, value);
  return rc;
}

int k8s__query_selectors(struct buf *q, const char *label, const char *field)
{
  int rc = 0;

  if (!str_empty(label))
    rc = k8s_query_add(q, "labelSelector", label);
  if (!rc && !str_empty(field))
    rc = k8s_query_add(q, "fieldSelector", field);
  return rc;
}

static int err_for_http(long st, const char *reason)
{
  switch (st) {
  case 401:
    return OP_EUNAUTHORIZED;
  case 403:
    return OP_EFORBIDDEN;
  case 404:
    return OP_ENOTFOUND;
  case 409:
    return str_eq(reason, "AlreadyExists") ? OP_EEXIST : OP_ECONFLICT;
  case 410:
    return OP_EGONE;
  case 422:
    return OP_EINVALIDOBJ;
  case 429:
    return OP_ETHROTTLED;
  default:
    break;
  }
  if (str_eq(reason, "AlreadyExists"))
    return OP_EEXIST;
  if (str_eq(reason, "Expired") || str_eq(reason, "Gone"))
    return OP_EGONE;
  return OP_EHTTP;
}

int k8s_status_to_err(long http_status, json_t *status, struct op_error *e)
{
  const char *reason = NULL, *msg = NULL;
  json_t *code;
  long st = http_status;
  int err;

  if (json_is_object(status)) {
    reason = json_string_value(json_object_get(status, "reason"));
    msg = json_string_value(json_object_get(status, "message"));
    code = json_object_get(status, "code");
    if (json_is_integer(code) && (st == 0 || st == 200))
      st = (long)json_integer_value(code); /* in-stream ERROR events */
  }
  err = err_for_http(st, reason);
  if (e) {
    op_error_set(e, err, "%s", msg ? msg : op_strerror(err));
    e->http_status = st;
    str_copy(e->code_str, reason ? reason : "", sizeof(e->code_str));
  }
  return err;
}

long long k8s_retry_after_ms(const char *value, long long now_s)
{
  long long secs;
  time_t t;

  if (str_empty(value))
    return -1;
  if (str_to_ll(value, 0, 24 * 3600, &secs) == 0)
    return secs * 1000;
  if (time_parse_http_date(value, &t) == 0)
    return (long long)t > now_s ? ((long long)t - now_s) * 1000 : 0;
  return -1;
}

void k8s_tbucket_init(struct k8s_tbucket *tb, double qps, double burst,
                      uint64_t now_ms)
{
  tb->qps = qps > 0 ? qps : 1;
  tb->burst = burst >= 1 ? burst : 1;
  tb->tokens = tb->burst;
  tb->last_ms = now_ms;
}

uint64_t k8s_tbucket_take(struct k8s_tbucket *tb, uint64_t now_ms)
{
  double w;

  if (now_ms > tb->last_ms) {
    tb->tokens += (double)(now_ms - tb->last_ms) * tb->qps / 1000.0;
    if (tb->tokens > tb->burst)
      tb->tokens = tb->burst;
    tb->last_ms = now_ms;
  }
  if (tb->tokens >= 1.0) {
    tb->tokens -= 1.0;
    return 0;
  }
  w = ceil((1.0 - tb->tokens) * 1000.0 / tb->qps);
  return w < 1 ? 1 : (uint64_t)w;
}

const char *k8s_obj_str(json_t *obj, const char *section, const char *key)
{
  json_t *s = section ? json_object_get(obj, section) : obj;

  return json_string_value(json_object_get(s, key));
}

const char *k8s_obj_name(json_t *obj)
{
  return k8s_obj_str(obj, "metadata", "name");
}

const char *k8s_obj_namespace(json_t *obj)
{
  return k8s_obj_str(obj, "metadata", "namespace");
}

const char *k8s_obj_rv(json_t *obj)
{
  return k8s_obj_str(obj, "metadata", "resourceVersion");
}

const char *k8s_obj_uid(json_t *obj)
{
  return k8s_obj_str(obj, "metadata", "uid");
}
