#include "util/map.h"

#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static char tombstone;
#define MAP_TOMBSTONE (&tombstone)
#define MAP_FIRST_CAP 4

static bool live(const struct map_slot *s)
{
  return s->key && s->key != MAP_TOMBSTONE;
}

unsigned map_hash(const char *s)
{
  unsigned h = 2166136261u;

  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 16777619u;
  }
  return h;
}

void map_init(struct map *m)
{
  memset(m, 0, sizeof(*m));
}

void map_cleanup(struct map *m, map_free_cb free_val, void *arg)
{
  size_t i;

  for (i = 0; i < m->cap; i++) {
    if (!live(&m->slots[i]))
      continue;
    free(m->slots[i].key);
    if (free_val)
      free_val(m->slots[i].val, arg);
  }
  free(m->slots);
  map_init(m);
}

/* Index of key's slot, or of the slot where it would go (first tombstone or
 * empty slot on its probe path). */
static size_t find(const struct map *m, const char *key, unsigned h,
                   bool *found)
{
  size_t mask = m->cap - 1, i = h & mask, first_free = (size_t)-1;

  for (;;) {
    const struct map_slot *s = &m->slots[i];
    if (!s->key) {
      *found = false;
      return first_free != (size_t)-1 ? first_free : i;
    }
    if (s->key == MAP_TOMBSTONE) {
      if (first_free == (size_t)-1)
        first_free = i;
    } else if (s->hash == h && strcmp(s->key, key) == 0) {
      *found = true;
      return i;
    }
    i = (i + 1) & mask;
  }
}

static void rehash(struct map *m, size_t cap)
{
  struct map_slot *old = m->slots;
  size_t oldcap = m->cap, i;
  bool found;

  m->slots = util_xcalloc(cap, sizeof(*m->slots));
  m->cap = cap;
  m->used = m->len;
  for (i = 0; i < oldcap; i++) {
    if (!live(&old[i]))
      continue;
    m->slots[find(m, old[i].key, old[i].hash, &found)] = old[i];
  }
  free(old);
}

void *map_get(const struct map *m, const char *key)
{
  bool found;
  size_t i;

  if (!m->len)
    return NULL;
  i = find(m, key, map_hash(key), &found);
  return found ? m->slots[i].val : NULL;
}

bool map_has(const struct map *m, const char *key)
{
  bool found = false;

  if (m->len)
    find(m, key, map_hash(key), &found);
  return found;
}

void map_put(struct map *m, const char *key, void *val, void **old)
{
  unsigned h = map_hash(key);
  struct map_slot *s;
  bool found;
  size_t i;

  /* Keep the load (tombstones included) under 3/4. The first table is
   * small: most maps are an index's key set of one or two objects, and a
   * store of 10,000 objects holds tens of thousands of them. */
  if ((m->used + 1) * 4 > m->cap * 3)
    rehash(m, m->cap ? (m->len * 2 + 2 > m->cap ? m->cap * 2 : m->cap)
                     : MAP_FIRST_CAP);
  i = find(m, key, h, &found);
  s = &m->slots[i];
  if (found) {
    if (old)
      *old = s->val;
    s->val = val;
    return;
  }
  if (old)
    *old = NULL;
  if (!s->key)
    m->used++;
  s->key = util_xstrdup(key);
  s->val = val;
  s->hash = h;
  m->len++;
}

void *map_del(struct map *m, const char *key)
{
  struct map_slot *s;
  bool found;
  void *v;

  if (!m->len)
    return NULL;
  s = &m->slots[find(m, key, map_hash(key), &found)];
  if (!found)
    return NULL;
  v = s->val;
  free(s->key);
  s->key = MAP_TOMBSTONE;
  s->val = NULL;
  m->len--;
  return v;
}

size_t map_len(const struct map *m)
{
  return m->len;
}

bool map_next(const struct map *m, size_t *iter, const char **key, void **val)
{
  while (*iter < m->cap) {
    const struct map_slot *s = &m->slots[(*iter)++];
    if (live(s)) {
      if (key)
        *key = s->key;
      if (val)
        *val = s->val;
      return true;
    }
  }
  return false;
}
