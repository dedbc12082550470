#include "cache/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache/delta.h"
#include "cache/jwrite.h"
#include "util/map.h"
#include "util/str.h"
#include "util/util.h"
#include "k8s/jparse.h"

/* Values an index function produced for one object (deduplicated). The
 * strings are owned. */
struct store_values {
  char **v;
  size_t n, cap;
};

/* One index: value -> set of keys (a map whose values are unused), or
 * for a counting index value -> size_t count (store_add_counter).
 * Owner: the store; each set or count is freed when it becomes empty. */
struct store_index {
  char *name;
  store_index_fn fn;
  void *arg;
  bool counting;
  struct map values;
};

/* STORE_COMPACT: an object kept as its compact JSON text, delta-encoded
 * against the store's dictionary (delta.h), decoded on demand. The decoded
 * form (hot) lives until store_trim; an entry that is on the scratch list
 * when it is replaced or deleted is only marked dead and freed by
 * store_trim. Owner: the objs map (or the scratch list once dead). */
struct centry {
  unsigned char *enc;
  json_t *hot; /* a reference, or NULL */
  uint32_t enc_len;
  bool in_scratch, dead;
};

/* Entries decoded since the last store_trim, and the buffer texts are
 * decoded into. Separate allocation so that reads through a const store
 * may fill it (a cache, not a state change). */
struct scratch {
  struct centry **v;
  size_t n, cap;
  char *raw;
  size_t raw_cap;
};

/* Owner of everything: objs maps key -> json_t * (one reference each), or
 * key -> struct centry * with STORE_COMPACT. */
struct store {
  struct map objs;
  struct store_index *idx;
  size_t nidx;
  unsigned flags;
  struct scratch *scratch;
  /* STORE_COMPACT: the text of the first object stored; every entry is
   * encoded against it for the store's lifetime. */
  struct delta_dict *dict;
};

static char set_member; /* the value stored in key sets */

static const json_t *entry_obj(const struct store *s, void *v);

/* ---- object helpers -------------------------------------------------- */

static const char *meta_str(const json_t *obj, const char *field)
{
  const json_t *m = json_object_get(obj, "metadata");

  return json_string_value(json_object_get(m, field));
}

int store_obj_key(const json_t *obj, char *out, size_t outsize)
{
  const char *ns = meta_str(obj, "namespace");
  const char *name = meta_str(obj, "name");

  if (str_empty(name))
    return OP_EINVAL;
  if (str_empty(ns))
    return str_fmt(out, outsize, "%s", name);
  return str_fmt(out, outsize, "%s/%s", ns, name);
}

const char *store_obj_rv(const json_t *obj)
{
  const char *rv = meta_str(obj, "resourceVersion");

  return rv ? rv : "";
}

void store_strip(json_t *obj, unsigned flags)
{
  json_t *m = json_object_get(obj, "metadata");

  if (!json_is_object(m))
    return;
  json_object_del(m, "managedFields");
  if (!(flags & STORE_KEEP_LAST_APPLIED))
    json_object_del(json_object_get(m, "annotations"),
                    STORE_LAST_APPLIED_ANNOTATION);
}

/* ---- index values ---------------------------------------------------- */

void store_values_add(struct store_values *v, const char *value)
{
  size_t i;

  if (!value)
    return;
  for (i = 0; i < v->n; i++) {
    if (strcmp(v->v[i], value) == 0)
      return;
  }
  if (v->n == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 4;
    v->v = util_xrealloc(v->v, v->cap * sizeof(*v->v));
  }
  v->v[v->n++] = util_xstrdup(value);
}

static void values_cleanup(struct store_values *v)
{
  size_t i;

  for (i = 0; i < v->n; i++)
    free(v->v[i]);
  free(v->v);
  memset(v, 0, sizeof(*v));
}

static bool values_has(const struct store_values *v, const char *value)
{
  size_t i;

  for (i = 0; i < v->n; i++) {
    if (strcmp(v->v[i], value) == 0)
      return true;
  }
  return false;
}

static void values_of(const struct store_index *ix, const json_t *obj,
                      struct store_values *out)
{
  memset(out, 0, sizeof(*out));
  if (obj)
    ix->fn(obj, out, ix->arg);
}

void store_index_labels(const json_t *obj, struct store_values *out, void *arg)
{
  const json_t *labels =
      json_object_get(json_object_get(obj, "metadata"), "labels");
  const char *k;
  json_t *v;
  char *kv;

  (void)arg;
  json_object_foreach((json_t *)labels, k, v)
  {
    if (!json_is_string(v))
      continue;
    kv = str_printf_new("%s=%s", k, json_string_value(v));
    store_values_add(out, kv);
    free(kv);
  }
}

void store_index_owner_uids(const json_t *obj, struct store_values *out,
                            void *arg)
{
  const json_t *refs =
      json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
  size_t i;
  json_t *r;

  (void)arg;
  json_array_foreach(refs, i, r)
  {
    store_values_add(out, json_string_value(json_object_get(r, "uid")));
  }
}

/* ---- index maintenance ---------------------------------------------- */

/* A counting index: one more or one less object with value. */
static void count_add(struct store_index *ix, const char *value, bool more)
{
  size_t *n = map_get(&ix->values, value);

  if (!n && !more)
    return;
  if (!n) {
    n = util_xcalloc(1, sizeof(*n));
    map_put(&ix->values, value, n, NULL);
  }
  if (more) {
    (*n)++;
  } else if (!--*n) {
    map_del(&ix->values, value);
    free(n);
  }
}

static void set_add(struct store_index *ix, const char *value, const char *key)
{
  struct map *set = map_get(&ix->values, value);

  if (ix->counting) {
    count_add(ix, value, true);
    return;
  }
  if (!set) {
    set = util_xmalloc(sizeof(*set));
    map_init(set);
    map_put(&ix->values, value, set, NULL);
  }
  map_put(set, key, &set_member, NULL);
}

static void set_remove(struct store_index *ix, const char *value,
                       const char *key)
{
  struct map *set = map_get(&ix->values, value);

  if (ix->counting) {
    count_add(ix, value, false);
    return;
  }
  if (!set)
    return;
  map_del(set, key);
  if (!map_len(set)) {
    map_del(&ix->values, value);
    map_cleanup(set, NULL, NULL);
    free(set);
  }
}

/* Move key from the values of old_obj to those of new_obj (either may be
 * NULL), touching only what changed. */
static void index_update(struct store_index *ix, const char *key,
                         const json_t *old_obj, const json_t *new_obj)
{
  struct store_values ov, nv;
  size_t i;

  values_of(ix, old_obj, &ov);
  values_of(ix, new_obj, &nv);
  for (i = 0; i < ov.n; i++) {
    if (!values_has(&nv, ov.v[i]))
      set_remove(ix, ov.v[i], key);
  }
  for (i = 0; i < nv.n; i++) {
    if (!values_has(&ov, nv.v[i]))
      set_add(ix, nv.v[i], key);
  }
  values_cleanup(&ov);
  values_cleanup(&nv);
}

static void indexes_update(struct store *s, const char *key,
                           const json_t *old_obj, const json_t *new_obj)
{
  size_t i;

  for (i = 0; i < s->nidx; i++)
    index_update(&s->idx[i], key, old_obj, new_obj);
}

static struct store_index *index_find(const struct store *s, const char *name)
{
  size_t i;

  for (i = 0; i < s->nidx; i++) {
    if (strcmp(s->idx[i].name, name) == 0)
      return &s->idx[i];
  }
  return NULL;
}

static int add_index(struct store *s, const char *name, store_index_fn fn,
                     void *arg, bool counting)
{
  struct store_index *ix;
  const char *key;
  void *v;
  size_t it = 0;

  if (!name || !fn)
    return OP_EINVAL;
  if (index_find(s, name))
    return OP_EEXIST;
  s->idx = util_xrealloc(s->idx, (s->nidx + 1) * sizeof(*s->idx));
  ix = &s->idx[s->nidx++];
  ix->name = util_xstrdup(name);
  ix->fn = fn;
  ix->arg = arg;
  ix->counting = counting;
  map_init(&ix->values);
  while (map_next(&s->objs, &it, &key, &v))
    index_update(ix, key, NULL, entry_obj(s, v));
  return 0;
}

int store_add_index(struct store *s, const char *name, store_index_fn fn,
                    void *arg)
{
  return add_index(s, name, fn, arg, false);
}

int store_add_counter(struct store *s, const char *name, store_index_fn fn,
                      void *arg)
{
  return add_index(s, name, fn, arg, true);
}

/* ---- entries (plain or compact) ------------------------------------- */

static bool compact(const struct store *s)
{
  return s->flags & STORE_COMPACT;
}

static void scratch_push(struct scratch *sc, struct centry *e)
{
  if (sc->n == sc->cap) {
    sc->cap = sc->cap ? sc->cap * 2 : 64;
    sc->v = util_xrealloc(sc->v, sc->cap * sizeof(*sc->v));
  }
  sc->v[sc->n++] = e;
  e->in_scratch = true;
}

static void centry_free(struct centry *e)
{
  json_decref(e->hot);
  free(e->enc);
  free(e);
}

/* Decode an entry's text (we wrote it: a failure is a bug). */
static json_t *centry_decode(const struct store *s, const struct centry *e)
{
  struct scratch *sc = s->scratch;
  size_t raw = delta_raw_len(e->enc, e->enc_len);
  json_error_t jerr;
  json_t *obj;
  int rc;

  UTIL_ASSERT(raw != (size_t)-1);
  if (raw + 1 > sc->raw_cap) {
    sc->raw_cap = raw + 1 > 2 * sc->raw_cap ? raw + 1 : 2 * sc->raw_cap;
    sc->raw = util_xrealloc(sc->raw, sc->raw_cap);
  }
  rc = delta_decode(s->dict, e->enc, e->enc_len, sc->raw);
  UTIL_ASSERT(rc == 0);
  obj = k8s_json_loadb(sc->raw, raw, JSON_DECODE_ANY, &jerr);
  UTIL_ASSERT(obj);
  return obj;
}

/* The object of a map value (borrowed). */
static const json_t *entry_obj(const struct store *s, void *v)
{
  struct centry *e = v;

  if (!compact(s))
    return v;
  if (!e->hot) {
    e->hot = centry_decode(s, e);
    scratch_push(s->scratch, e);
  }
  return e->hot;
}

/* A map value holding obj (stolen) and, with STORE_COMPACT, its compact
 * text (stolen; NULL: encoded here). */
static void *entry_new(struct store *s, json_t *obj, char *text)
{
  struct centry *e;
  size_t len, enc_len;

  if (!compact(s))
    return obj;
  e = util_xcalloc(1, sizeof(*e));
  if (!text)
    text = jwrite_compact(obj, NULL);
  UTIL_ASSERT(text);
  len = strlen(text);
  if (!s->dict)
    s->dict = delta_dict_new(text, len);
  e->enc = delta_encode(s->dict, text, len, &enc_len);
  UTIL_ASSERT(enc_len <= UINT32_MAX);
  e->enc_len = (uint32_t)enc_len;
  free(text);
  e->hot = obj; /* handlers and indexes use it until the next trim */
  scratch_push(s->scratch, e);
  return e;
}

/* Release a map value, returning its object as a NEW reference. */
static json_t *entry_take(struct store *s, void *v)
{
  struct centry *e = v;
  json_t *obj;

  if (!compact(s))
    return v;
  obj = json_incref((json_t *)entry_obj(s, e));
  e->dead = true; /* on the scratch list now: store_trim frees it */
  return obj;
}

void store_trim(const struct store *s)
{
  struct scratch *sc = s->scratch;
  size_t i;

  if (!sc)
    return;
  for (i = 0; i < sc->n; i++) {
    struct centry *e = sc->v[i];
    e->in_scratch = false;
    if (e->dead) {
      centry_free(e);
    } else {
      json_decref(e->hot);
      e->hot = NULL;
    }
  }
  sc->n = 0;
}

size_t store_hot(const struct store *s)
{
  return s->scratch ? s->scratch->n : 0;
}

/* ---- lifecycle ------------------------------------------------------- */

struct store *store_new(unsigned flags)
{
  struct store *s = util_xcalloc(1, sizeof(*s));

  map_init(&s->objs);
  s->flags = flags;
  if (compact(s))
    s->scratch = util_xcalloc(1, sizeof(*s->scratch));
  return s;
}

static void free_set_count(void *val, void *arg)
{
  (void)arg;
  free(val);
}

static void free_set(void *val, void *arg)
{
  (void)arg;
  map_cleanup(val, NULL, NULL);
  free(val);
}

static void free_values(struct store_index *ix)
{
  if (ix->counting)
    map_cleanup(&ix->values, free_set_count, NULL);
  else
    map_cleanup(&ix->values, free_set, NULL);
}

static void free_entry(void *val, void *arg)
{
  struct store *s = arg;
  struct centry *e = val;

  if (!compact(s))
    json_decref(val);
  else if (e->in_scratch)
    e->dead = true; /* store_trim below frees it */
  else
    centry_free(e);
}

void store_free(struct store *s)
{
  size_t i;

  if (!s)
    return;
  for (i = 0; i < s->nidx; i++) {
    free_values(&s->idx[i]);
    free(s->idx[i].name);
  }
  free(s->idx);
  map_cleanup(&s->objs, free_entry, s);
  store_trim(s);
  if (s->scratch) {
    free(s->scratch->v);
    free(s->scratch->raw);
  }
  free(s->scratch);
  delta_dict_free(s->dict);
  free(s);
}

/* ---- reads and writes ------------------------------------------------ */

/* Insert a stripped obj (and its text, see entry_new; both stolen) under
 * key; the replaced object as a NEW reference, or NULL. */
static json_t *put_entry(struct store *s, const char *key, json_t *obj,
                         char *text)
{
  void *oldv = NULL;
  json_t *old;

  map_put(&s->objs, key, entry_new(s, obj, text), &oldv);
  old = oldv ? entry_take(s, oldv) : NULL;
  indexes_update(s, key, old, obj);
  return old;
}

int store_put_new(struct store *s, json_t *obj, json_t **old_out)
{
  char key[STORE_KEY_MAX];
  json_t *old;

  if (old_out)
    *old_out = NULL;
  if (!json_is_object(obj) || store_obj_key(obj, key, sizeof(key))) {
    json_decref(obj);
    return OP_EINVAL;
  }
  store_strip(obj, s->flags);
  old = put_entry(s, key, obj, NULL);
  if (old_out)
    *old_out = old;
  else
    json_decref(old);
  return 0;
}

json_t *store_delete_take(struct store *s, const char *key)
{
  void *v = map_del(&s->objs, key);
  json_t *old = v ? entry_take(s, v) : NULL;

  if (old)
    indexes_update(s, key, old, NULL);
  return old;
}

const json_t *store_get(const struct store *s, const char *key)
{
  void *v = map_get(&s->objs, key);

  return v ? entry_obj(s, v) : NULL;
}

size_t store_len(const struct store *s)
{
  return map_len(&s->objs);
}

bool store_next(const struct store *s, size_t *iter, const char **key,
                const json_t **obj)
{
  void *v;

  if (!map_next(&s->objs, iter, key, &v))
    return false;
  if (obj)
    *obj = entry_obj(s, v);
  return true;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **map_keys_new(const struct map *m, size_t *n)
{
  char **keys;
  const char *k;
  size_t it = 0, i = 0;

  *n = map_len(m);
  if (!*n)
    return NULL;
  keys = util_xmalloc(*n * sizeof(*keys));
  while (map_next(m, &it, &k, NULL))
    keys[i++] = util_xstrdup(k);
  qsort(keys, *n, sizeof(*keys), cmp_str);
  return keys;
}

char **store_keys_new(const struct store *s, size_t *n)
{
  return map_keys_new(&s->objs, n);
}

void store_keys_free(char **keys, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    free(keys[i]);
  free(keys);
}

/* The key set of value in a plain index (NULL for a counting one). */
static const struct map *key_set(const struct store *s, const char *index,
                                 const char *value)
{
  const struct store_index *ix = index_find(s, index);

  return ix && !ix->counting ? map_get(&ix->values, value) : NULL;
}

const json_t **store_by_index_new(const struct store *s, const char *index,
                                  const char *value, size_t *n)
{
  const struct map *set = key_set(s, index, value);
  const json_t **out;
  char **keys;
  size_t i;

  *n = 0;
  if (!set || !(keys = map_keys_new(set, n)))
    return NULL;
  out = util_xmalloc(*n * sizeof(*out));
  for (i = 0; i < *n; i++)
    out[i] = entry_obj(s, map_get(&s->objs, keys[i]));
  store_keys_free(keys, *n);
  return out;
}

char **store_index_keys_new(const struct store *s, const char *index,
                            const char *value, size_t *n)
{
  const struct map *set = key_set(s, index, value);

  *n = 0;
  return set ? map_keys_new(set, n) : NULL;
}

/* The number of objects under a value of index ix (plain or counting). */
static size_t value_count(const struct store_index *ix, void *v)
{
  return ix->counting ? *(const size_t *)v : map_len(v);
}

size_t store_index_count(const struct store *s, const char *index,
                         const char *value)
{
  const struct store_index *ix = index_find(s, index);
  void *v = ix ? map_get(&ix->values, value) : NULL;

  return v ? value_count(ix, v) : 0;
}

void store_index_each(const struct store *s, const char *index,
                      store_count_fn fn, void *arg)
{
  const struct store_index *ix = index_find(s, index);
  const char *value;
  size_t it = 0;
  void *v;

  while (ix && map_next(&ix->values, &it, &value, &v))
    fn(value, value_count(ix, v), arg);
}

/* ---- relist ---------------------------------------------------------- */

/* Owner of its items: decoded objects (one reference each) or, for a
 * STORE_COMPACT store, their compact text. */
struct store_relist {
  void **v;
  size_t n, cap;
  unsigned flags; /* of the store it is for */
};

struct store_relist *store_relist_new(const struct store *s)
{
  struct store_relist *r = util_xcalloc(1, sizeof(*r));

  r->flags = s->flags;
  return r;
}

void store_relist_add(struct store_relist *r, json_t *obj)
{
  void *item = obj;

  if (!json_is_object(obj)) {
    json_decref(obj);
    return;
  }
  store_strip(obj, r->flags);
  if (r->flags & STORE_COMPACT) {
    item = jwrite_compact(obj, NULL);
    UTIL_ASSERT(item);
    json_decref(obj);
  }
  if (r->n == r->cap) {
    r->cap = r->cap ? r->cap * 2 : 512;
    r->v = util_xrealloc(r->v, r->cap * sizeof(*r->v));
  }
  r->v[r->n++] = item;
}

size_t store_relist_len(const struct store_relist *r)
{
  return r ? r->n : 0;
}

void store_relist_free(struct store_relist *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    if (r->flags & STORE_COMPACT)
      free(r->v[i]);
    else
      json_decref(r->v[i]);
  }
  free(r->v);
  free(r);
}

/* Put one relist item (stolen) and report it. */
static void relist_one(struct store *s, void *item, struct map *seen,
                       const struct store_replace_ops *ops, void *arg)
{
  char key[STORE_KEY_MAX];
  char *text = compact(s) ? item : NULL;
  json_t *obj = text ? k8s_json_loadb(text, strlen(text), 0, NULL) : item;
  json_t *old;

  UTIL_ASSERT(obj); /* we encoded that text */
  if (store_obj_key(obj, key, sizeof(key))) {
    json_decref(obj); /* nameless: cannot be cached */
    free(text);
    return;
  }
  map_put(seen, key, &set_member, NULL);
  old = put_entry(s, key, json_incref(obj), text);
  if (old && ops && ops->updated)
    ops->updated(old, obj, arg);
  else if (!old && ops && ops->added)
    ops->added(obj, arg);
  json_decref(old);
  json_decref(obj);
  store_trim(s); /* STORE_COMPACT: at most one item decoded at a time */
}

/* Remove every key not in seen, reporting each as vanished. */
static void drop_unseen(struct store *s, const struct map *seen,
                        const struct store_replace_ops *ops, void *arg)
{
  char **gone = util_xmalloc((map_len(&s->objs) + 1) * sizeof(*gone));
  size_t i, n = 0, it = 0;
  const char *k;

  while (map_next(&s->objs, &it, &k, NULL)) {
    if (!map_has(seen, k))
      gone[n++] = util_xstrdup(k);
  }
  for (i = 0; i < n; i++) {
    json_t *last = store_delete_take(s, gone[i]);
    if (ops && ops->vanished)
      ops->vanished(gone[i], last, arg);
    json_decref(last);
    store_trim(s);
  }
  store_keys_free(gone, n);
}

int store_relist_apply(struct store *s, struct store_relist *r,
                       const struct store_replace_ops *ops, void *arg)
{
  struct map seen;
  size_t i;

  UTIL_ASSERT(r->flags == s->flags);
  map_init(&seen);
  for (i = 0; i < r->n; i++)
    relist_one(s, r->v[i], &seen, ops, arg);
  r->n = 0; /* every item was consumed */
  drop_unseen(s, &seen, ops, arg);
  map_cleanup(&seen, NULL, NULL);
  store_relist_free(r);
  return 0;
}

int store_replace(struct store *s, json_t *items,
                  const struct store_replace_ops *ops, void *arg)
{
  struct store_relist *r;
  size_t i;
  json_t *item;

  if (!json_is_array(items))
    return OP_EINVAL;
  r = store_relist_new(s);
  json_array_foreach(items, i, item)
  {
    store_relist_add(r, json_incref(item));
  }
  return store_relist_apply(s, r, ops, arg);
}
