/* Safe XML reading on libxml2. See xml.h. */
#include "aws/core/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/util.h"

struct aws_xml {
  xmlDocPtr doc;
};

#define NODE(n) ((xmlNodePtr)(n))
#define CNODE(n) ((const struct aws_xml_node *)(n))

/* Case-insensitive search for needle in data[0..len). */
static int contains_ci(const char *data, size_t len, const char *needle)
{
  size_t nl = strlen(needle), i, j;

  for (i = 0; i + nl <= len; i++) {
    for (j = 0; j < nl; j++) {
      char c = data[i + j];
      if (c >= 'a' && c <= 'z')
        c = (char)(c - 32);
      if (c != needle[j])
        break;
    }
    if (j == nl)
      return 1;
  }
  return 0;
}

/* Deepest element nesting, iteratively (no recursion on hostile input). */
static int depth_ok(xmlNodePtr root, int max)
{
  xmlNodePtr n = root;
  int d = 1;

  while (n) {
    if (d > max)
      return 0;
    if (n->children && n->type == XML_ELEMENT_NODE) {
      n = n->children;
      d++;
      continue;
    }
    while (n && !n->next && n != root) {
      n = n->parent;
      d--;
    }
    if (!n || n == root)
      break;
    n = n->next;
  }
  return 1;
}

int aws_xml_parse(const char *data, size_t len, struct aws_xml **out)
{
  const int opts = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                   XML_PARSE_NOWARNING;
  xmlDocPtr doc;
  xmlNodePtr root;

  *out = NULL;
  if (!data || len == 0)
    return OP_EPARSE;
  if (len > AWS_XML_MAX_SIZE || len > (size_t)0x7fffffff)
    return OP_ETOOBIG;
  /* No DTD of any kind: entity expansion and external entities cannot
   * happen if the declarations are never accepted. */
  if (contains_ci(data, len, "<!DOCTYPE") || contains_ci(data, len, "<!ENTITY"))
    return OP_EPARSE;
  doc = xmlReadMemory(data, (int)len, "aws.xml", NULL, opts);
  if (!doc)
    return OP_EPARSE;
  root = xmlDocGetRootElement(doc);
  if (!root || doc->intSubset || doc->extSubset) {
    xmlFreeDoc(doc);
    return OP_EPARSE;
  }
  if (!depth_ok(root, AWS_XML_MAX_DEPTH)) {
    xmlFreeDoc(doc);
    return OP_ETOOBIG;
  }
  *out = util_xcalloc(1, sizeof(**out));
  (*out)->doc = doc;
  return 0;
}

void aws_xml_free(struct aws_xml *x)
{
  if (!x)
    return;
  xmlFreeDoc(x->doc);
  free(x);
}

const struct aws_xml_node *aws_xml_root(const struct aws_xml *x)
{
  return x ? CNODE(xmlDocGetRootElement(x->doc)) : NULL;
}

const char *aws_xml_name(const struct aws_xml_node *n)
{
  return n ? (const char *)NODE(n)->name : NULL;
}

static int name_is(xmlNodePtr n, const char *name, size_t len)
{
  return n->type == XML_ELEMENT_NODE &&
         (!name || (strlen((const char *)n->name) == len &&
                    memcmp(n->name, name, len) == 0));
}

static xmlNodePtr child_n(xmlNodePtr n, const char *name, size_t len)
{
  xmlNodePtr c;

  for (c = n ? n->children : NULL; c; c = c->next)
    if (name_is(c, name, len))
      return c;
  return NULL;
}

const struct aws_xml_node *aws_xml_child(const struct aws_xml_node *n,
                                         const char *name)
{
  return CNODE(child_n(NODE(n), name, name ? strlen(name) : 0));
}

const struct aws_xml_node *aws_xml_next(const struct aws_xml_node *n)
{
  xmlNodePtr c;
  const char *name;

  if (!n)
    return NULL;
  name = (const char *)NODE(n)->name;
  for (c = NODE(n)->next; c; c = c->next)
    if (name_is(c, name, strlen(name)))
      return CNODE(c);
  return NULL;
}

const struct aws_xml_node *aws_xml_next_any(const struct aws_xml_node *n)
{
  xmlNodePtr c;

  for (c = n ? NODE(n)->next : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return CNODE(c);
  return NULL;
}

const struct aws_xml_node *aws_xml_path(const struct aws_xml_node *n,
                                        const char *path)
{
  xmlNodePtr cur = NODE(n);

  if (!path)
    return n;
  while (cur && *path) {
    const char *slash = strchr(path, '/');
    size_t len = slash ? (size_t)(slash - path) : strlen(path);
    if (len > 0)
      cur = child_n(cur, path, len);
    path += len + (slash ? 1 : 0);
  }
  return CNODE(cur);
}

const char *aws_xml_text(const struct aws_xml_node *n)
{
  xmlNodePtr c;

  if (!n)
    return NULL;
  for (c = NODE(n)->children; c; c = c->next)
    if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) &&
        c->content)
      return (const char *)c->content;
  return "";
}

const char *aws_xml_child_text(const struct aws_xml_node *n, const char *path)
{
  return aws_xml_text(aws_xml_path(n, path));
}

int aws_xml_copy(const struct aws_xml_node *n, const char *path, char *out,
                 size_t size)
{
  const char *t = aws_xml_child_text(n, path);
  size_t len;

  if (size)
    out[0] = '\0';
  if (!t)
    return OP_ENOTFOUND;
  len = strlen(t);
  if (size == 0)
    return OP_ETOOBIG;
  if (len >= size) {
    memcpy(out, t, size - 1);
    out[size - 1] = '\0';
    return OP_ETOOBIG;
  }
  memcpy(out, t, len + 1);
  return 0;
}

size_t aws_xml_count(const struct aws_xml_node *n, const char *name)
{
  const struct aws_xml_node *c;
  size_t k = 0;

  for (c = aws_xml_child(n, name); c; c = aws_xml_next(c))
    k++;
  return k;
}
