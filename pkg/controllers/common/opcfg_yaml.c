/* The `accountpool` ConfigMap key: YAML map pool-name -> {default: bool,
 * servicequotas: region|"default" -> code -> value, globalservicequotas:
 * code -> value}. Values may be quoted or plain integers. */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "controllers/common/opcfg.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

static int yfail(char *err, size_t errsz, const char *pool, const char *why)
{
  str_fmt(err, errsz, "configmap key accountpool: pool %s: %s",
          pool ? pool : "?", why);
  return OP_ECONFIG;
}

static const char *scalar(yaml_document_t *doc, int id)
{
  yaml_node_t *n = yaml_document_get_node(doc, id);

  if (!n || n->type != YAML_SCALAR_NODE)
    return NULL;
  return (const char *)n->data.scalar.value;
}

/* code -> value mapping into obj. */
static int codes(yaml_document_t *doc, yaml_node_t *m, json_t *obj,
                 const char *pool, char *err, size_t errsz)
{
  yaml_node_pair_t *p;

  if (!m || m->type != YAML_MAPPING_NODE)
    return yfail(err, errsz, pool, "quota codes must be a mapping");
  for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    const char *k = scalar(doc, p->key), *v = scalar(doc, p->value);
    long long n;

    if (!k || !v || str_to_ll(v, 0, 1000000000LL, &n) != 0)
      return yfail(err, errsz, pool, "quota value is not an integer");
    json_object_set_new(obj, k, json_integer(n));
  }
  return 0;
}

static int regional(yaml_document_t *doc, yaml_node_t *m, json_t *obj,
                    const char *pool, char *err, size_t errsz)
{
  yaml_node_pair_t *p;
  int rc;

  if (!m || m->type != YAML_MAPPING_NODE)
    return yfail(err, errsz, pool, "servicequotas must be a mapping");
  for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
    const char *region = scalar(doc, p->key);
    json_t *inner = json_object();

    json_object_set_new(obj, region ? region : "", inner);
    rc = codes(doc, yaml_document_get_node(doc, p->value), inner, pool, err,
               errsz);
    if (rc)
      return rc;
  }
  return 0;
}

static int one_pool(yaml_document_t *doc, yaml_node_t *m, struct opcfg_pool *pl,
                    char *err, size_t errsz)
{
  yaml_node_pair_t *p;
  int rc = 0;

  pl->servicequotas = json_object();
  pl->globalservicequotas = json_object();
  if (m->type == YAML_SCALAR_NODE) /* "pool:" with no body */
    return 0;
  if (m->type != YAML_MAPPING_NODE)
    return yfail(err, errsz, pl->name, "must be a mapping");
  for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top && !rc;
       p++) {
    const char *k = scalar(doc, p->key);
    yaml_node_t *v = yaml_document_get_node(doc, p->value);

    if (str_eq(k, "default")) {
      if (str_to_bool(scalar(doc, p->value), &pl->is_default) != 0)
        rc = yfail(err, errsz, pl->name, "default is not a boolean");
    } else if (str_eq(k, "servicequotas")) {
      rc = regional(doc, v, pl->servicequotas, pl->name, err, errsz);
    } else if (str_eq(k, "globalservicequotas")) {
      rc = codes(doc, v, pl->globalservicequotas, pl->name, err, errsz);
    }
  }
  return rc;
}

static int pools_from_doc(struct opcfg *c, yaml_document_t *doc, char *err,
                          size_t errsz)
{
  yaml_node_t *root = yaml_document_get_root_node(doc);
  yaml_node_pair_t *p;
  size_t n, ndefault = 0;
  int rc = 0;

  if (!root)
    return 0;
  if (root->type != YAML_MAPPING_NODE)
    return yfail(err, errsz, NULL, "not a mapping of pool names");
  n = (size_t)(root->data.mapping.pairs.top - root->data.mapping.pairs.start);
  c->pools = util_xcalloc(n ? n : 1, sizeof(*c->pools));
  for (p = root->data.mapping.pairs.start;
       p < root->data.mapping.pairs.top && !rc; p++) {
    struct opcfg_pool *pl = &c->pools[c->npools++];
    const char *name = scalar(doc, p->key);

    pl->name = util_xstrdup(name ? name : "");
    rc = one_pool(doc, yaml_document_get_node(doc, p->value), pl, err, errsz);
    ndefault += pl->is_default;
  }
  if (!rc && ndefault > 1)
    rc = yfail(err, errsz, NULL, "more than one pool has default: true");
  return rc;
}

int opcfg_parse_pools(struct opcfg *c, const char *yaml, char *err,
                      size_t errsz)
{
  yaml_parser_t parser;
  yaml_document_t doc;
  int rc;

  if (!yaml_parser_initialize(&parser))
    return OP_ENOMEM;
  yaml_parser_set_input_string(&parser, (const unsigned char *)yaml,
                               strlen(yaml));
  if (!yaml_parser_load(&parser, &doc)) {
    str_fmt(err, errsz, "configmap key accountpool: invalid YAML: %s",
            parser.problem ? parser.problem : "?");
    yaml_parser_delete(&parser);
    return OP_ECONFIG;
  }
  rc = pools_from_doc(c, &doc, err, errsz);
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
  return rc;
}
