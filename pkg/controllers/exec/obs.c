/* The per-key observation table (PLANS.md "Observation lifetime"). */
#include <stdlib.h>
#include <string.h>

#include "controllers/exec/exec.h"
#include "util/err.h"
#include "util/map.h"

struct obs_ent {
  json_t *aux;
  unsigned char data[]; /* obs_size bytes */
};

struct exec_obs {
  struct map m;
  size_t size;
};

struct exec_obs *exec_obs_new(size_t obs_size)
{
  struct exec_obs *t = calloc(1, sizeof(*t));

  if (!t)
    return NULL;
  map_init(&t->m);
  t->size = obs_size;
  return t;
}

static void ent_free(void *val, void *arg)
{
  struct obs_ent *e = val;

  (void)arg;
  if (!e)
    return;
  json_decref(e->aux);
  free(e);
}

void exec_obs_free(struct exec_obs *t)
{
  if (!t)
    return;
  map_cleanup(&t->m, ent_free, NULL);
  free(t);
}

int exec_obs_put(struct exec_obs *t, const char *key, const void *obs,
                 json_t *aux_new)
{
  struct obs_ent *e = malloc(sizeof(*e) + t->size);
  void *old = NULL;

  if (!e) {
    json_decref(aux_new);
    return OP_ENOMEM;
  }
  memcpy(e->data, obs, t->size);
  e->aux = aux_new;
  map_put(&t->m, key, e, &old);
  ent_free(old, NULL);
  return 0;
}

const void *exec_obs_get(const struct exec_obs *t, const char *key)
{
  const struct obs_ent *e = t ? map_get(&t->m, key) : NULL;

  return e ? e->data : NULL;
}

const json_t *exec_obs_aux(const struct exec_obs *t, const char *key)
{
  const struct obs_ent *e = t ? map_get(&t->m, key) : NULL;

  return e ? e->aux : NULL;
}

void exec_obs_drop(struct exec_obs *t, const char *key)
{
  if (t)
    ent_free(map_del(&t->m, key), NULL);
}

size_t exec_obs_len(const struct exec_obs *t)
{
  return t ? map_len(&t->m) : 0;
}
