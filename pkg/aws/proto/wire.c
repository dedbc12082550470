/* The encoded request and the array helpers shared by every protocol, and
 * the frees of the shared result shapes. */
#include "aws/proto/wire.h"

#include <stdlib.h>
#include <string.h>

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

int aws_dec_empty_any(const char *body, size_t len,
                      struct aws_empty_result **out)
{
  *out = util_xcalloc(1, sizeof(**out));
  return 0;
}

void aws_empty_result_free(struct aws_empty_result *r)
{
  free(r);
}

void aws_tags_result_free(struct aws_tags_result *r)
{
  if (!r)
    return;
  aws_rtags_free(r->v, r->n);
  free(r->next_token);
  free(r);
}
