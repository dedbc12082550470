/* Read-your-writes (written.h). */
#include "controllers/exec/written.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/map.h"
#include "util/str.h"

struct ent {
  json_t *obj;
  unsigned long long rv;
  double at;
  char kind[32];
};

struct exec_written {
  struct map m; /* "kind/ns/name" -> struct ent */
  double ttl;
};

struct exec_written *exec_written_new(double ttl_s)
{
  struct exec_written *w = calloc(1, sizeof(*w));

  if (!w)
    return NULL;
  map_init(&w->m);
  w->ttl = ttl_s;
  return w;
}

static void ent_free(void *val, void *arg)
{
  struct ent *e = val;

  (void)arg;
  if (e)
    json_decref(e->obj);
  free(e);
}

void exec_written_free(struct exec_written *w)
{
  if (!w)
    return;
  map_cleanup(&w->m, ent_free, NULL);
  free(w);
}

bool exec_written_rv(const json_t *obj, unsigned long long *out)
{
  const char *s = obj_str(obj, "metadata.resourceVersion");
  char *end = NULL;

  if (str_empty(s) || s[0] < '0' || s[0] > '9')
    return false;
  errno = 0;
  *out = strtoull(s, &end, 10);
  return errno == 0 && end && *end == '\0';
}

static int key_of(char *buf, size_t n, const char *kind, const char *ns,
                  const char *name)
{
  return str_fmt(buf, n, "%s/%s/%s", kind ? kind : "", ns ? ns : "",
                 name ? name : "");
}

int exec_written_put(struct exec_written *w, const char *kind,
                     const json_t *obj, double now)
{
  struct ent *e;
  void *old = NULL;
  char key[512];

  if (!w || str_empty(obj_name(obj)) ||
      key_of(key, sizeof(key), kind, obj_namespace(obj), obj_name(obj)) < 0)
    return OP_EINVAL;
  e = calloc(1, sizeof(*e));
  if (!e)
    return OP_ENOMEM;
  if (!exec_written_rv(obj, &e->rv)) {
    free(e);
    return OP_EINVAL;
  }
  e->obj = json_deep_copy(obj);
  if (!e->obj) {
    free(e);
    return OP_ENOMEM;
  }
  e->at = now;
  str_copy(e->kind, kind ? kind : "", sizeof(e->kind));
  map_put(&w->m, key, e, &old);
  ent_free(old, NULL);
  exec_written_prune(w, now);
  return 0;
}

/* The write removed the last finalizer of a deleting object: the server
 * deleted it in the same request and answered with it as deleted, at the
 * resourceVersion it already had (no newer one exists). */
static bool gone(const json_t *o)
{
  return obj_deleting(o) && obj_finalizer_count(o) == 0;
}

const json_t *exec_written_view(struct exec_written *w, const char *kind,
                                const char *ns, const char *name,
                                const json_t *cached)
{
  unsigned long long rv;
  struct ent *e;
  char key[512];

  if (!w || !map_len(&w->m) || key_of(key, sizeof(key), kind, ns, name) < 0)
    return cached;
  e = map_get(&w->m, key);
  if (!e)
    return cached;
  /* a cached object without an integer version is the informer's word */
  /* an equal version is newer only in that answer: the cached copy still
   * holds the finalizer, and planning from it writes the removal again */
  if (cached && exec_written_rv(cached, &rv) &&
      (rv < e->rv || (rv == e->rv && gone(e->obj) && !gone(cached))))
    return e->obj;
  ent_free(map_del(&w->m, key), NULL);
  return cached;
}

void exec_written_drop(struct exec_written *w, const char *kind, const char *ns,
                       const char *name)
{
  char key[512];

  if (w && key_of(key, sizeof(key), kind, ns, name) >= 0)
    ent_free(map_del(&w->m, key), NULL);
}

void exec_written_prune(struct exec_written *w, double now)
{
  size_t it = 0;
  const char *key;
  void *v;

  /* map_del leaves a tombstone: iterating on is safe */
  while (w && map_next(&w->m, &it, &key, &v)) {
    struct ent *e = v;

    if (now - e->at >= w->ttl)
      ent_free(map_del(&w->m, key), NULL);
  }
}

size_t exec_written_len(const struct exec_written *w)
{
  return w ? map_len(&w->m) : 0;
}

bool exec_written_next(const struct exec_written *w, const char *kind,
                       size_t *iter, const json_t **obj)
{
  const char *key;
  void *v;

  while (w && map_next(&w->m, iter, &key, &v)) {
    const struct ent *e = v;

    if (str_eq(e->kind, kind)) {
      *obj = e->obj;
      return true;
    }
  }
  return false;
}
