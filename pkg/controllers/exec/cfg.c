/* The operator ConfigMap, parsed on every informer change (exec.h). */
#include <stdlib.h>
#include <string.h>

#include "cache/informer.h"
#include "controllers/common/obj.h"
#include "controllers/exec/exec.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"

#define CFG_MAX_LISTENERS 8

struct exec_cfg {
  struct exec_follower follow;
  struct exec_kio kio;
  bool has_kio;
  struct opcfg cur; /* the configuration in force: the last valid one */
  bool has_cur;
  unsigned gen;
  char last_err[256];
  struct {
    exec_cfg_changed_fn fn;
    void *arg;
  } ls[CFG_MAX_LISTENERS];
  size_t nls;
};

int exec_cfg_load(const struct store *cm, struct opcfg *c)
{
  size_t it = 0;
  const char *key;
  const json_t *obj;
  char err[256];

  if (!cm)
    return OP_ENOTFOUND;
  while (store_next(cm, &it, &key, &obj)) {
    if (str_eq(obj_name(obj), OPCFG_NAME))
      return opcfg_parse(c, obj, err, sizeof(err));
  }
  return OP_ENOTFOUND;
}

const struct opcfg *exec_cfg_for_plan(const struct opcfg *(*get)(void *arg),
                                      void *arg, const struct store *cm,
                                      struct opcfg *tmp)
{
  memset(tmp, 0, sizeof(*tmp));
  if (get)
    return get(arg);
  return exec_cfg_load(cm, tmp) == 0 ? tmp : NULL;
}

void exec_cfg_release(struct opcfg *tmp)
{
  opcfg_cleanup(tmp);
}

static void notify(struct exec_cfg *c)
{
  for (size_t i = 0; i < c->nls; i++)
    c->ls[i].fn(c->ls[i].arg);
}

static void invalid(struct exec_cfg *c, const json_t *cm, const char *err)
{
  json_t *copy;

  /* Report each distinct error once, not on every resync. */
  if (str_eq(c->last_err, err))
    return;
  str_copy(c->last_err, err, sizeof(c->last_err));
  log_error("config", "ConfigMap %s is invalid: %s (%s)", OPCFG_NAME, err,
            c->has_cur ? "the last valid configuration stays in force"
                       : "controllers wait for a valid one");
  if (!c->has_kio || !c->kio.event)
    return;
  copy = obj_copy_new(cm);
  if (!json_object_get(copy, "apiVersion"))
    json_object_set_new(copy, "apiVersion", json_string("v1"));
  if (!json_object_get(copy, "kind"))
    json_object_set_new(copy, "kind", json_string("ConfigMap"));
  c->kio.event(c->kio.arg, copy, "Warning", "InvalidConfigMap", err);
  json_decref(copy);
}

void exec_cfg_apply(struct exec_cfg *c, const json_t *cm)
{
  struct opcfg n;
  char err[256] = "";
  int rc;

  if (!cm) {
    log_warn("config", "ConfigMap %s is missing", OPCFG_NAME);
    if (c->has_cur)
      opcfg_cleanup(&c->cur);
    c->has_cur = false;
    c->last_err[0] = 0;
    notify(c);
    return;
  }
  memset(&n, 0, sizeof(n));
  rc = opcfg_parse(&n, cm, err, sizeof(err));
  if (rc) {
    invalid(c, cm, err[0] ? err : op_strerror(rc));
  } else {
    if (c->has_cur)
      opcfg_cleanup(&c->cur);
    c->cur = n;
    c->has_cur = true;
    c->last_err[0] = 0;
    c->gen++;
  }
  notify(c);
}

static void follow_cm(void *arg, const json_t *cm)
{
  exec_cfg_apply(arg, cm);
}

struct exec_cfg *exec_cfg_new(struct inf *cm, const struct exec_kio *kio)
{
  struct exec_cfg *c = calloc(1, sizeof(*c));
  if (!c)
    return NULL;
  if (kio) {
    c->kio = *kio;
    c->has_kio = true;
  }
  c->follow =
      (struct exec_follower){ .name = OPCFG_NAME, .fn = follow_cm, .arg = c };
  if (exec_follow_start(&c->follow, cm)) {
    free(c);
    return NULL;
  }
  return c;
}

void exec_cfg_detach(struct exec_cfg *c)
{
  if (c)
    exec_follow_stop(&c->follow);
}

void exec_cfg_free(struct exec_cfg *c)
{
  if (!c)
    return;
  exec_follow_stop(&c->follow);
  if (c->has_cur)
    opcfg_cleanup(&c->cur);
  free(c);
}

const struct opcfg *exec_cfg_get(const struct exec_cfg *c)
{
  return c && c->has_cur ? &c->cur : NULL;
}

unsigned exec_cfg_generation(const struct exec_cfg *c)
{
  return c ? c->gen : 0;
}

int exec_cfg_on_change(struct exec_cfg *c, exec_cfg_changed_fn fn, void *arg)
{
  if (c->nls >= CFG_MAX_LISTENERS)
    return OP_ETOOBIG;
  c->ls[c->nls].fn = fn;
  c->ls[c->nls].arg = arg;
  c->nls++;
  return 0;
}
