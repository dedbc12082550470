/* String-keyed hash map (open addressing, linear probing, FNV-1a).
 *
 * Keys are copied and owned by the map; values are borrowed void pointers
 * (the caller decides who frees them, e.g. via map_cleanup's callback).
 * Iteration order is unspecified; mutating the map while iterating is not
 * allowed except through map_iter_remove... which we do not offer: collect
 * keys first. */
#ifndef PKG_UTIL_MAP_H
#define PKG_UTIL_MAP_H

#include <stdbool.h>
#include <stddef.h>

struct map_slot {
  char *key; /* NULL = empty; MAP_TOMBSTONE = deleted */
  void *val;
  unsigned hash;
};

struct map {
  struct map_slot *slots;
  size_t cap;  /* power of two, or 0 */
  size_t len;  /* live entries */
  size_t used; /* live + tombstones */
};

typedef void (*map_free_cb)(void *val, void *arg);

void map_init(struct map *m);
/* Free every key and call free_val (may be NULL) on every value. */
void map_cleanup(struct map *m, map_free_cb free_val, void *arg);

void *map_get(const struct map *m, const char *key);
bool map_has(const struct map *m, const char *key);
/* Insert or replace; *old (if not NULL) receives the replaced value or NULL.
 */
void map_put(struct map *m, const char *key, void *val, void **old);
/* Remove; returns the removed value or NULL when absent. */
void *map_del(struct map *m, const char *key);
size_t map_len(const struct map *m);

/* Iterate: size_t i = 0; while (map_next(m, &i, &k, &v)) { ... } */
bool map_next(const struct map *m, size_t *iter, const char **key, void **val);

unsigned map_hash(const char *s);

#endif
