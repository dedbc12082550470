/* Helpers shared by the operation encoders and decoders: the wire struct,
 * arrays, XML and JSON readers. */
#include <libxml/parser.h>
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

xmlDocPtr aws_ox_parse(const char *body, size_t len, const char *root_name)
{
  xmlDocPtr doc;
  xmlNodePtr root;

  if (!body || len == 0 || len > AWS_BODY_MAX)
    return NULL;
  /* No NOENT (no entity substitution), no DTD loading, no network. */
  doc =
      xmlReadMemory(body, (int)len, "aws.xml", NULL,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (!doc)
    return NULL;
  root = xmlDocGetRootElement(doc);
  /* AWS never sends a DOCTYPE: refuse any (entity tricks live there). */
  if (doc->intSubset || doc->extSubset || !root ||
      (root_name && !str_eq((const char *)root->name, root_name))) {
    xmlFreeDoc(doc);
    return NULL;
  }
  return doc;
}

static bool name_is(xmlNodePtr n, const char *name)
{
  return n->type == XML_ELEMENT_NODE &&
         (!name || str_eq((const char *)n->name, name));
}

xmlNodePtr aws_ox_child(xmlNodePtr n, const char *name)
{
  xmlNodePtr c;

  if (!n)
    return NULL;
  for (c = n->children; c; c = c->next)
    if (name_is(c, name))
      return c;
  return NULL;
}

xmlNodePtr aws_ox_next(xmlNodePtr n, const char *name)
{
  for (n = n ? n->next : NULL; n; n = n->next)
    if (name_is(n, name))
      return n;
  return NULL;
}

xmlNodePtr aws_ox_path(xmlNodePtr n, const char *path)
{
  char step[128];
  const char *p = path, *slash;

  while (n && *p) {
    size_t len;
    slash = strchr(p, '/');
    len = slash ? (size_t)(slash - p) : strlen(p);
    if (len >= sizeof(step))
      return NULL;
    memcpy(step, p, len);
    step[len] = '\0';
    n = aws_ox_child(n, step);
    p += len + (slash ? 1 : 0);
  }
  return n;
}

char *aws_ox_str(xmlNodePtr n, const char *path)
{
  xmlChar *t;
  char *s;

  n = aws_ox_path(n, path);
  if (!n)
    return NULL;
  t = xmlNodeGetContent(n);
  s = util_xstrdup(t ? (const char *)t : "");
  xmlFree(t);
  return s;
}

bool aws_ox_bool(xmlNodePtr n, const char *path)
{
  char *s = aws_ox_str(n, path);
  bool v = s && str_eq(str_trim(s), "true");

  free(s);
  return v;
}

long long aws_ox_int(xmlNodePtr n, const char *path, long long def, int *err)
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

int aws_ox_tags(xmlNodePtr list, const char *item, struct aws_rtag **v,
                size_t *n)
{
  xmlNodePtr it;
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

int aws_ox_strs(xmlNodePtr list, const char *item, struct aws_strs *s)
{
  xmlNodePtr it;
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
  xmlDocPtr doc = aws_ox_parse(body, len, NULL);

  if (!doc)
    return OP_EPARSE;
  xmlFreeDoc(doc);
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

int aws_ox_each(xmlNodePtr list, const char *item, size_t sz, aws_ox_item_fn fn,
                void **v, size_t *n)
{
  xmlNodePtr it;
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
                      xmlDocPtr *doc, xmlNodePtr *result)
{
  char name[128];

  snprintf(name, sizeof(name), "%sResponse", op);
  *doc = aws_ox_parse(body, len, name);
  if (!*doc)
    return OP_EPARSE;
  snprintf(name, sizeof(name), "%sResult", op);
  *result = aws_ox_child(xmlDocGetRootElement(*doc), name);
  if (!*result) {
    xmlFreeDoc(*doc);
    *doc = NULL;
    return OP_EPARSE;
  }
  return 0;
}
