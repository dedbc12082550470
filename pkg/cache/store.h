/* A keyed object cache with secondary indexes (client-go's thread-safe
 * store + Indexer, minus the threads).
 *
 * Keys are "namespace/name", or "name" for cluster-scoped objects
 * (MetaNamespaceKeyFunc). The store holds the latest object per key only.
 *
 * Ownership: objects given to the store are stolen (the _new suffix, as in
 * jansson) and may be edited once on ingest (see below); everything the
 * store hands out is a BORROWED reference, valid until the store changes
 * (in practice: until control returns to the loop). Consumers never mutate
 * cached objects: json_deep_copy first.
 *
 * Memory: on ingest the store drops metadata.managedFields (server-side
 * apply bookkeeping, often larger than the object) and, unless
 * STORE_KEEP_LAST_APPLIED is set, the annotation
 * kubectl.kubernetes.io/last-applied-configuration (a full second copy of
 * the object as last applied by kubectl; nothing in the operator reads it).
 * The key is not duplicated per object beyond the map's own copy, and the
 * index values of an object are recomputed from the object when it changes
 * instead of being stored beside it.
 *
 * STORE_COMPACT trades CPU for memory: objects are kept as compact JSON
 * text (about 1/6 of the decoded size) and decoded on access. A decoded
 * object stays valid until store_trim, which the informer calls once per
 * loop iteration (after control returned to the loop, the documented end of
 * every borrowed reference). Use it for large, rarely-listed kinds.
 *
 * Indexes: store_add_index registers a function that yields 0..N string
 * values per object; store_by_index_new lists the objects with a value.
 * Built-in functions: store_index_labels ("key=value" per label) and
 * store_index_owner_uids (metadata.ownerReferences[].uid).
 */
#ifndef PKG_CACHE_STORE_H
#define PKG_CACHE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

struct store;
struct store_values;

/* namespace (253) + "/" + name (253) + NUL */
#define STORE_KEY_MAX 512

#define STORE_KEEP_LAST_APPLIED 0x1u
#define STORE_COMPACT 0x2u
#define STORE_LAST_APPLIED_ANNOTATION                                          \
  "kubectl.kubernetes.io/last-applied-configuration"

/* An index function: call store_values_add for every value of obj. */
typedef void (*store_index_fn)(const json_t *obj, struct store_values *out,
                               void *arg);
void store_values_add(struct store_values *v, const char *value);

void store_index_labels(const json_t *obj, struct store_values *out, void *arg);
void store_index_owner_uids(const json_t *obj, struct store_values *out,
                            void *arg);

/* The key of obj into out[STORE_KEY_MAX]: 0, or OP_EINVAL when
 * metadata.name is missing, OP_ETOOBIG when too long. */
int store_obj_key(const json_t *obj, char *out, size_t outsize);
/* metadata.resourceVersion, or "" (borrowed). */
const char *store_obj_rv(const json_t *obj);
/* Drop managedFields (and the last-applied annotation unless flags has
 * STORE_KEEP_LAST_APPLIED) from obj in place. */
void store_strip(json_t *obj, unsigned flags);

struct store *store_new(unsigned flags);
void store_free(struct store *s);

/* Register an index (name copied). Existing objects are indexed at once.
 * OP_EEXIST if the name is taken. */
int store_add_index(struct store *s, const char *name, store_index_fn fn,
                    void *arg);

/* Insert or replace the object under its key; steals obj. On success
 * *old_out (if not NULL) receives the replaced object as a NEW reference
 * (NULL if none) for the caller to json_decref; otherwise it is released.
 * OP_EINVAL if obj has no name. */
int store_put_new(struct store *s, json_t *obj, json_t **old_out);
/* Remove key; returns the removed object (NEW reference, caller decrefs)
 * or NULL when absent. */
json_t *store_delete_take(struct store *s, const char *key);

/* Borrowed, or NULL. */
const json_t *store_get(const struct store *s, const char *key);
size_t store_len(const struct store *s);
/* Iterate: size_t i = 0; while (store_next(s, &i, &key, &obj)) ...
 * Order unspecified; do not modify the store while iterating. */
bool store_next(const struct store *s, size_t *iter, const char **key,
                const json_t **obj);
/* Every key, sorted (array and strings are the caller's: free the array
 * with store_keys_free). */
char **store_keys_new(const struct store *s, size_t *n);
void store_keys_free(char **keys, size_t n);

/* A counting index: as store_add_index, but only how many objects have
 * each value is kept (no key sets: a few bytes per distinct value), so
 * figures over every object (metrics) are read without decoding any
 * object of a STORE_COMPACT store. store_index_count and
 * store_index_each read it; store_by_index_new and store_index_keys_new
 * yield nothing. OP_EEXIST if the name is taken. */
int store_add_counter(struct store *s, const char *name, store_index_fn fn,
                      void *arg);
/* fn(value, number of objects with it, arg) for every value of the index
 * (plain or counting), in no particular order; nothing for an unknown
 * index. The store must not change meanwhile. */
typedef void (*store_count_fn)(const char *value, size_t n, void *arg);
void store_index_each(const struct store *s, const char *index,
                      store_count_fn fn, void *arg);

/* Objects whose index `index` has value `value`, sorted by key. Returns a
 * new array (free() it) of borrowed objects, and *n; NULL when none.
 * An unknown index yields NULL with *n = 0. */
const json_t **store_by_index_new(const struct store *s, const char *index,
                                  const char *value, size_t *n);
/* The keys of the objects whose index `index` has value `value`, sorted,
 * without decoding any object (free with store_keys_free); NULL when none.
 * Mapping an event to keys needs no more, and a compact store would
 * otherwise decode every object listed. */
char **store_index_keys_new(const struct store *s, const char *index,
                            const char *value, size_t *n);
/* Number of objects under an index value. */
size_t store_index_count(const struct store *s, const char *index,
                         const char *value);

/* Relist: make the store hold exactly `items` (a JSON array of objects,
 * borrowed: each element is increfed and stripped in place). For each item
 * the store calls added(new) or updated(old, new); then, for every key that
 * is no longer present, vanished(key, last) after removing it. Callbacks
 * run after the store changed and may read it; the objects they receive
 * are borrowed for the duration of the callback. Any callback may be NULL.
 */
struct store_replace_ops {
  void (*added)(const json_t *obj, void *arg);
  void (*updated)(const json_t *old_obj, const json_t *new_obj, void *arg);
  void (*vanished)(const char *key, const json_t *last, void *arg);
};
int store_replace(struct store *s, json_t *items,
                  const struct store_replace_ops *ops, void *arg);

/* A relist gathered page by page (the informer's paged list), applied at
 * the end exactly as store_replace. Objects are stripped as they are added
 * and, for a STORE_COMPACT store, encoded at once, so that only the page
 * being added exists decoded: the whole list never does.
 * STORE_COMPACT: store_relist_apply (and so store_replace) releases what
 * it decoded after each item's callback (store_trim), so objects borrowed
 * from this store before the call are invalid after it. */
struct store_relist;
/* For s (its flags decide stripping and encoding). */
struct store_relist *store_relist_new(const struct store *s);
/* Steals obj; non-objects are dropped. */
void store_relist_add(struct store_relist *r, json_t *obj);
size_t store_relist_len(const struct store_relist *r);
/* Applies r to the store it was made for, and frees it. */
int store_relist_apply(struct store *s, struct store_relist *r,
                       const struct store_replace_ops *ops, void *arg);
/* Frees r unapplied (NULL is fine). */
void store_relist_free(struct store_relist *r);

/* STORE_COMPACT: release the objects decoded since the last call (every
 * borrowed pointer handed out before becomes invalid). No-op otherwise. */
void store_trim(const struct store *s);
/* STORE_COMPACT: how many entries are decoded right now (tests). */
size_t store_hot(const struct store *s);

#endif
