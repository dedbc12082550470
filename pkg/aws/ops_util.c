/* Helpers shared by the operation encoders and decoders: the wire struct,
 * arrays, XML and JSON readers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ops_internal.h"
#include "aws/query.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

void aws_wire_init(struct aws_wire *w)
{
  memset(w, 0, sizeof(*w));
  w->method = "POST";
  w->path = util_xstrdup("/");
  buf_init(&w->body, AWS_BODY_MAX);
}

void aws_wire_cleanup(struct aws_wire *w)
{
  size_t i;

  for (i = 0; i < w->nheaders; i++)
    free((char *)w->headers[i].value);
  free(w->path);
  free(w->query);
  buf_cleanup(&w->body);
  memset(w, 0, sizeof(*w));
}

int aws_wire_header(struct aws_wire *w, const char *static_name,
                    const char *value)
{
  if (w->nheaders >= AWS_WIRE_MAXH)
    return OP_ETOOBIG;
  w->headers[w->nheaders].name = static_name;
  w->headers[w->nheaders].value = util_xstrdup(value);
  w->nheaders++;
  return 0;
}

const char *aws_wire_get_header(const struct aws_wire *w, const char *name)
{
  size_t i;

  for (i = 0; i < w->nheaders; i++)
    if (str_eq(w->headers[i].name, name))
      return w->headers[i].value;
  return NULL;
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

/* ---- arrays ------------------------------------------------------------- */

int aws_arr_push(void **v, size_t *n, size_t sz, void **slot)
{
  char *p;

  if (*n >= AWS_MAX_ITEMS)
    return OP_ETOOBIG;
  p = util_xrealloc(*v, (*n + 1) * sz);
  memset(p + *n * sz, 0, sz);
  *v = p;
  *slot = p + *n * sz;
  (*n)++;
  return 0;
}

void aws_strs_cleanup(struct aws_strs *s)
{
  size_t i;

  for (i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  s->v = NULL;
  s->n = 0;
}

void aws_rtags_free(struct aws_rtag *t, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    free(t[i].key);
    free(t[i].value);
  }
  free(t);
}

void aws_str_free(char **s)
{
  free(*s);
  *s = NULL;
}

/* ---- XML ---------------------------------------------------------------- */

struct aws_xml *aws_ox_parse(const char *body, size_t len,
                             const char *root_name)
{
  struct aws_xml *doc = NULL;

  if (!body || len == 0 || aws_xml_parse(body, len, &doc) != 0)
    return NULL;
  if (root_name && !str_eq(aws_xml_name(aws_xml_root(doc)), root_name)) {
    aws_xml_free(doc);
    return NULL;
  }
  return doc;
}

aws_xnode aws_ox_child(aws_xnode n, const char *name)
{
  return aws_xml_child(n, name);
}

aws_xnode aws_ox_next(aws_xnode n, const char *name)
{
  (void)name; /* siblings with n's own local name */
  return aws_xml_next(n);
}

aws_xnode aws_ox_path(aws_xnode n, const char *path)
{
  return aws_xml_path(n, path);
}

char *aws_ox_str(aws_xnode n, const char *path)
{
  const char *t = n ? aws_xml_child_text(n, path) : NULL;

  return t ? util_xstrdup(t) : NULL;
}

void aws_ox_wipe(aws_xnode n, const char *path)
{
  const char *t = n ? aws_xml_child_text(n, path) : NULL;

  /* The reader hands out const views of heap memory it owns. */
  if (t && *t)
    util_wipe((char *)t, strlen(t));
}

bool aws_ox_bool(aws_xnode n, const char *path)
{
  char *s = aws_ox_str(n, path);
  bool v = s && str_eq(str_trim(s), "true");

  free(s);
  return v;
}

long long aws_ox_int(aws_xnode n, const char *path, long long def, int *err)
{
  char *s = aws_ox_str(n, path);
  long long v = def;

  if (s && str_to_ll(str_trim(s), -(1LL << 62), 1LL << 62, &v) != 0) {
    *err = OP_EPARSE;
    v = def;
  }
  free(s);
  return v;
}

int aws_ox_tags(aws_xnode list, const char *item, struct aws_rtag **v,
                size_t *n)
{
  aws_xnode it;
  int rc = 0;

  for (it = aws_ox_child(list, item); it && !rc; it = aws_ox_next(it, item)) {
    struct aws_rtag *t;
    rc = aws_arr_push((void **)v, n, sizeof(**v), (void **)&t);
    if (rc)
      break;
    t->key = aws_ox_str(it, "Key");
    if (!t->key)
      t->key = aws_ox_str(it, "key");
    t->value = aws_ox_str(it, "Value");
    if (!t->value)
      t->value = aws_ox_str(it, "value");
    if (!t->key)
      rc = OP_EPARSE;
  }
  return rc;
}

int aws_ox_strs(aws_xnode list, const char *item, struct aws_strs *s)
{
  aws_xnode it;
  int rc = 0;

  for (it = aws_ox_child(list, item); it && !rc; it = aws_ox_next(it, item)) {
    char **slot;
    rc = aws_arr_push((void **)&s->v, &s->n, sizeof(char *), (void **)&slot);
    if (!rc)
      *slot = aws_ox_str(it, "");
  }
  return rc;
}

/* ---- JSON --------------------------------------------------------------- */

json_t *aws_js_parse(const char *body, size_t len)
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

char *aws_js_str(const json_t *o, const char *key)
{
  json_t *v = json_object_get(o, key);

  return json_is_string(v) ? util_xstrdup(json_string_value(v)) : NULL;
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

json_t *aws_js_tags(const struct aws_tag *tags, size_t n)
{
  json_t *a = json_array();
  size_t i;

  for (i = 0; i < n; i++)
    json_array_append_new(a,
                          json_pack("{s:s?,s:s}", "Key", tags[i].key, "Value",
                                    tags[i].value ? tags[i].value : ""));
  return a;
}

json_t *aws_js_strs(const char *const *v, size_t n)
{
  json_t *a = json_array();
  size_t i;

  for (i = 0; i < n; i++)
    json_array_append_new(a, json_string(v[i]));
  return a;
}

int aws_dec_empty_xml(const char *body, size_t len,
                      struct aws_empty_result **out)
{
  struct aws_xml *doc = aws_ox_parse(body, len, NULL);

  if (!doc)
    return OP_EPARSE;
  aws_xml_free(doc);
  *out = util_xcalloc(1, sizeof(**out));
  return 0;
}

int aws_dec_empty_json(const char *body, size_t len,
                       struct aws_empty_result **out)
{
  json_t *o = aws_js_parse(body, len);

  if (!o)
    return OP_EPARSE;
  json_decref(o);
  *out = util_xcalloc(1, sizeof(**out));
  return 0;
}

int aws_dec_empty_any(const char *body, size_t len,
                      struct aws_empty_result **out)
{
  *out = util_xcalloc(1, sizeof(**out));
  return 0;
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

int aws_ox_each(aws_xnode list, const char *item, size_t sz, aws_ox_item_fn fn,
                void **v, size_t *n)
{
  aws_xnode it;
  int rc = 0;

  for (it = aws_ox_child(list, item); it && !rc; it = aws_ox_next(it, item)) {
    void *slot;
    rc = aws_arr_push(v, n, sz, &slot);
    if (!rc)
      rc = fn(it, slot);
  }
  return rc;
}

int aws_ox_query_open(const char *body, size_t len, const char *op,
                      struct aws_xml **doc, aws_xnode *result)
{
  char name[128];

  snprintf(name, sizeof(name), "%sResponse", op);
  *doc = aws_ox_parse(body, len, name);
  if (!*doc)
    return OP_EPARSE;
  snprintf(name, sizeof(name), "%sResult", op);
  *result = aws_ox_child(aws_xml_root(*doc), name);
  if (!*result) {
    aws_xml_free(*doc);
    *doc = NULL;
    return OP_EPARSE;
  }
  return 0;
}
