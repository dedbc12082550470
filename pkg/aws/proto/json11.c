/* JSON 1.1 and REST-JSON request building and response reading. */
#include "aws/proto/json11.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/proto/wire.h"
#include "util/err.h"
#include "util/util.h"

int aws_json11_request(struct aws_wire *w, const char *target_prefix,
                       const char *operation, json_t *body)
{
  char target[160];
  int rc;

  if (snprintf(target, sizeof(target), "%s.%s", target_prefix, operation) >=
      (int)sizeof(target)) {
    json_decref(body);
    return OP_EINVAL;
  }
  w->method = "POST";
  rc = aws_js_body(w, body ? body : json_object());
  if (!rc)
    rc = aws_wire_header(w, "Content-Type", AWS_JSON11_CONTENT_TYPE);
  if (!rc)
    rc = aws_wire_header(w, "X-Amz-Target", target);
  return rc;
}

int aws_restjson_post(struct aws_wire *w, const char *path, json_t *body)
{
  int rc;

  w->method = "POST";
  free(w->path);
  w->path = util_xstrdup(path);
  rc = aws_js_body(w, body ? body : json_object());
  if (!rc)
    rc = aws_wire_header(w, "Content-Type", "application/json");
  return rc;
}

int aws_js_body(struct aws_wire *w, json_t *body)
{
  char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
  int rc;

  json_decref(body);
  if (!s)
    return OP_ENOMEM;
  buf_reset(&w->body);
  rc = buf_append_str(&w->body, s);
  free(s);
  return rc;
}

void aws_js_set_str(json_t *o, const char *key, const char *s)
{
  if (s)
    json_object_set_new(o, key, json_string(s));
}

json_t *aws_js_tags_new(const struct aws_tag *tags, size_t n)
{
  json_t *a = json_array();
  size_t i;

  for (i = 0; i < n; i++)
    json_array_append_new(a,
                          json_pack("{s:s?,s:s}", "Key", tags[i].key, "Value",
                                    tags[i].value ? tags[i].value : ""));
  return a;
}

json_t *aws_js_strs_new(const char *const *v, size_t n)
{
  json_t *a = json_array();
  size_t i;

  for (i = 0; i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

json_t *aws_js_parse_new(const char *body, size_t len)
{
  json_t *o;

  if (!body || len == 0)
    return json_object();
  if (len > AWS_BODY_MAX)
    return NULL;
  o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
  if (o && !json_is_object(o)) {
    json_decref(o);
    o = NULL;
  }
  return o;
}

char *aws_js_str_new(const json_t *o, const char *key)
{
  json_t *v = json_object_get(o, key);

  return json_is_string(v) ? util_xstrdup(json_string_value(v)) : NULL;
}

int aws_js_each(const json_t *o, const char *key, size_t sz, aws_js_item_fn fn,
                void **v, size_t *n)
{
  json_t *a = json_object_get(o, key), *it;
  size_t i;
  int rc = 0;

  if (!a || json_is_null(a))
    return 0;
  if (!json_is_array(a))
    return OP_EPARSE;
  json_array_foreach(a, i, it)
  {
    void *slot;
    if (!json_is_object(it))
      return OP_EPARSE;
    rc = aws_arr_push(v, n, sz, &slot);
    if (!rc)
      rc = fn(it, slot);
    if (rc)
      return rc == OP_ETOOBIG ? rc : OP_EPARSE;
  }
  return 0;
}

int aws_dec_empty_json(const char *body, size_t len,
                       struct aws_empty_result **out)
{
  json_t *o = aws_js_parse_new(body, len);

  if (!o)
    return OP_EPARSE;
  json_decref(o);
  *out = util_xcalloc(1, sizeof(**out));
  return 0;
}
