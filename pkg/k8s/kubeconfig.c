/* kubeconfig loading with libyaml's document API (the approach of
 * kubernetes-client/c's kube_config_yaml.c: load the document, walk mapping
 * pairs and sequence items with small helpers). Only the fields we use are
 * read; unknown keys are ignored like client-go does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "k8s/config.h"
#include "util/str.h"
#include "util/util.h"

#define KUBECONFIG_MAX (4 * 1024 * 1024)

struct kc {
  yaml_document_t doc;
  char *dir; /* directory of the kubeconfig, for relative paths */
  struct op_error *e;
};

static yaml_node_t *node_at(struct kc *k, int idx)
{
  return yaml_document_get_node(&k->doc, idx);
}

/* Value node of key in a mapping node, or NULL. */
static yaml_node_t *map_get(struct kc *k, yaml_node_t *map, const char *key)
{
  yaml_node_pair_t *p;
  yaml_node_t *kn;

  if (!map || map->type != YAML_MAPPING_NODE)
    return NULL;
  for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
       p++) {
    kn = node_at(k, p->key);
    if (kn && kn->type == YAML_SCALAR_NODE &&
        str_eq((const char *)kn->data.scalar.value, key))
      return node_at(k, p->value);
  }
  return NULL;
}

/* Scalar string of key, or NULL (also for null/empty scalars). */
static const char *map_str(struct kc *k, yaml_node_t *map, const char *key)
{
  yaml_node_t *n = map_get(k, map, key);

  if (!n || n->type != YAML_SCALAR_NODE || n->data.scalar.length == 0)
    return NULL;
  if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
      (str_eq((const char *)n->data.scalar.value, "null") ||
       str_eq((const char *)n->data.scalar.value, "~")))
    return NULL;
  return (const char *)n->data.scalar.value;
}

/* In the sequence `list` of {name: ..., <field>: {...}}, the <field> mapping
 * of the item named name. */
static yaml_node_t *named_item(struct kc *k, yaml_node_t *root,
                               const char *list, const char *field,
                               const char *name)
{
  yaml_node_t *seq = map_get(k, root, list), *it;
  yaml_node_item_t *i;

  if (!seq || seq->type != YAML_SEQUENCE_NODE)
    return NULL;
  for (i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
       i++) {
    it = node_at(k, *i);
    if (str_eq(map_str(k, it, "name"), name)) {
      yaml_node_t *v = map_get(k, it, field);
      return v && v->type == YAML_MAPPING_NODE ? v : NULL;
    }
  }
  return NULL;
}

static char *resolve_path(struct kc *k, const char *p)
{
  if (!p)
    return NULL;
  if (p[0] == '/' || !k->dir)
    return util_xstrdup(p);
  return str_printf_new("%s/%s", k->dir, p);
}

static int load_data(struct kc *k, yaml_node_t *m, const char *key, char **out)
{
  const char *s = map_str(k, m, key);

  if (!s)
    return 0;
  if (k8s_base64_decode_new(s, out, NULL))
    return op_error_set(k->e, OP_ECONFIG, "kubeconfig: %s is not valid base64",
                        key);
  return 0;
}

static int load_cluster(struct kc *k, yaml_node_t *cl, struct k8s_config *c)
{
  const char *server = map_str(k, cl, "server"), *insecure;
  size_t n;

  if (!server)
    return op_error_set(k->e, OP_ECONFIG, "kubeconfig: cluster has no server");
  c->server = util_xstrdup(server);
  n = strlen(c->server);
  while (n > 0 && c->server[n - 1] == '/')
    c->server[--n] = '\0';
  c->ca_file = resolve_path(k, map_str(k, cl, "certificate-authority"));
  insecure = map_str(k, cl, "insecure-skip-tls-verify");
  if (insecure && str_to_bool(insecure, &c->insecure_skip_verify))
    return op_error_set(k->e, OP_ECONFIG,
                        "kubeconfig: insecure-skip-tls-verify is not a bool");
  return load_data(k, cl, "certificate-authority-data", &c->ca_pem);
}

static int reject_plugins(struct kc *k, yaml_node_t *u)
{
  yaml_node_t *ex = map_get(k, u, "exec"), *ap = map_get(k, u, "auth-provider");
  const char *name;

  if (ex) {
    name = map_str(k, ex, "command");
    return op_error_set(k->e, OP_ECONFIG,
                        "kubeconfig: exec credential plugin \"%s\" is not "
                        "supported; use a token or client certificate",
                        name ? name : "?");
  }
  if (ap) {
    name = map_str(k, ap, "name");
    return op_error_set(k->e, OP_ECONFIG,
                        "kubeconfig: auth-provider plugin \"%s\" is not "
                        "supported; use a token or client certificate",
                        name ? name : "?");
  }
  return 0;
}

static int load_user(struct kc *k, yaml_node_t *u, struct k8s_config *c)
{
  const char *tok;
  int rc;

  if ((rc = reject_plugins(k, u)))
    return rc;
  c->cert_file = resolve_path(k, map_str(k, u, "client-certificate"));
  c->key_file = resolve_path(k, map_str(k, u, "client-key"));
  c->token_file = resolve_path(k, map_str(k, u, "tokenFile"));
  if ((rc = load_data(k, u, "client-certificate-data", &c->cert_pem)) ||
      (rc = load_data(k, u, "client-key-data", &c->key_pem)))
    return rc;
  tok = map_str(k, u, "token");
  if (tok)
    c->token = util_xstrdup(tok);
  else if (c->token_file && (rc = k8s_config_reload_token(c, NULL, k->e)))
    return rc;
  return 0;
}

static int load_context(struct kc *k, const char *want, struct k8s_config *c)
{
  yaml_node_t *root = yaml_document_get_root_node(&k->doc), *ctx, *cl, *u;
  const char *name = want, *cname, *uname, *ns;

  if (!root || root->type != YAML_MAPPING_NODE)
    return op_error_set(k->e, OP_ECONFIG, "kubeconfig: not a YAML mapping");
  if (!name)
    name = map_str(k, root, "current-context");
  if (!name)
    return op_error_set(k->e, OP_ECONFIG,
                        "kubeconfig: no current-context and none given");
  ctx = named_item(k, root, "contexts", "context", name);
  if (!ctx)
    return op_error_set(k->e, OP_ECONFIG,
                        "kubeconfig: context \"%s\" not found", name);
  c->context = util_xstrdup(name);
  cname = map_str(k, ctx, "cluster");
  uname = map_str(k, ctx, "user");
  ns = map_str(k, ctx, "namespace");
  c->namespace = util_xstrdup(ns ? ns : "default");
  cl = cname ? named_item(k, root, "clusters", "cluster", cname) : NULL;
  if (!cl)
    return op_error_set(
        k->e, OP_ECONFIG,
        "kubeconfig: cluster \"%s\" of context \"%s\" not found",
        cname ? cname : "", name);
  u = uname ? named_item(k, root, "users", "user", uname) : NULL;
  if (uname && !u)
    return op_error_set(k->e, OP_ECONFIG,
                        "kubeconfig: user \"%s\" of context \"%s\" not found",
                        uname, name);
  if (load_cluster(k, cl, c))
    return OP_ECONFIG;
  return u ? load_user(k, u, c) : 0;
}

static int parse_doc(struct kc *k, const char *text, size_t len)
{
  yaml_parser_t p;
  int ok;

  if (!yaml_parser_initialize(&p))
    return op_error_set(k->e, OP_ENOMEM, "kubeconfig: parser init failed");
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  ok = yaml_parser_load(&p, &k->doc);
  if (!ok) {
    op_error_set(k->e, OP_ECONFIG, "kubeconfig: malformed YAML at line %lu: %s",
                 (unsigned long)p.problem_mark.line + 1,
                 p.problem ? p.problem : "unknown error");
    yaml_parser_delete(&p);
    return OP_ECONFIG;
  }
  yaml_parser_delete(&p);
  return 0;
}

int k8s_config_load_kubeconfig(const char *path, const char *context,
                               struct k8s_config **out, struct op_error *e)
{
  struct kc k = { .e = e };
  struct k8s_config *c;
  const char *slash = strrchr(path, '/');
  char *text;
  int rc;

  *out = NULL;
  rc = k8s_read_file_new(path, KUBECONFIG_MAX, &text);
  if (rc)
    return op_error_set(e, rc, "kubeconfig: cannot read %s: %s", path,
                        op_strerror(rc));
  rc = parse_doc(&k, text, strlen(text));
  util_free_secret(text);
  if (rc)
    return rc;
  k.dir = slash ? util_xstrndup(path, (size_t)(slash - path)) : NULL;
  c = util_xcalloc(1, sizeof(*c));
  rc = load_context(&k, str_empty(context) ? NULL : context, c);
  yaml_document_delete(&k.doc);
  free(k.dir);
  if (rc) {
    k8s_config_free(c);
    return rc;
  }
  *out = c;
  return 0;
}
