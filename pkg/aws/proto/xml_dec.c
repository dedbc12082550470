/* Decoding XML responses. See xml_dec.h. */
#include "aws/proto/xml_dec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/proto/wire.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

struct aws_xml *aws_ox_parse_new(const char *body, size_t len,
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

char *aws_ox_str_new(aws_xnode n, const char *path)
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
  char *s = aws_ox_str_new(n, path);
  bool v = s && str_eq(str_trim(s), "true");

  free(s);
  return v;
}

long long aws_ox_int(aws_xnode n, const char *path, long long def, int *err)
{
  char *s = aws_ox_str_new(n, path);
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
    t->key = aws_ox_str_new(it, "Key");
    if (!t->key)
      t->key = aws_ox_str_new(it, "key");
    t->value = aws_ox_str_new(it, "Value");
    if (!t->value)
      t->value = aws_ox_str_new(it, "value");
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
      *slot = aws_ox_str_new(it, "");
  }
  return rc;
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
  *doc = aws_ox_parse_new(body, len, name);
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

int aws_dec_empty_xml(const char *body, size_t len,
                      struct aws_empty_result **out)
{
  struct aws_xml *doc = aws_ox_parse_new(body, len, NULL);

  if (!doc)
    return OP_EPARSE;
  aws_xml_free(doc);
  *out = util_xcalloc(1, sizeof(**out));
  return 0;
}
