/* Object accessors and builders (see obj.h). */
#include "controllers/common/obj.h"

#include <string.h>

#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"

/* One walk for both accessors: jansson's getters take a const object and
 * return a mutable member, so the const is restored at the boundary
 * (obj_get), and only obj_get_mut, given an owned object, hands out a
 * mutable one. */
static json_t *lookup(json_t *o, const char *path)
{
  const char *p = path, *dot;
  json_t *cur = o;
  char seg[128];

  while (cur && *p) {
    size_t n;

    dot = strchr(p, '.');
    n = dot ? (size_t)(dot - p) : strlen(p);
    if (n >= sizeof(seg) || !json_is_object(cur))
      return NULL;
    memcpy(seg, p, n);
    seg[n] = '\0';
    cur = json_object_get(cur, seg);
    p += n + (dot ? 1 : 0);
  }
  return cur;
}

const json_t *obj_get(const json_t *o, const char *path)
{
  const char *dot = strchr(path, '.');
  size_t n = dot ? (size_t)(dot - path) : strlen(path);
  char seg[128];

  if (!o || !*path)
    return o;
  if (n >= sizeof(seg))
    return NULL;
  memcpy(seg, path, n);
  seg[n] = '\0';
  /* json_object_get gives the first member without a cast */
  return dot ? lookup(json_object_get(o, seg), dot + 1)
             : json_object_get(o, seg);
}

json_t *obj_get_mut(json_t *o, const char *path)
{
  return lookup(o, path);
}

const char *obj_str(const json_t *o, const char *path)
{
  return json_string_value(obj_get(o, path));
}

const char *obj_str0(const json_t *o, const char *path)
{
  const char *s = obj_str(o, path);

  return s ? s : "";
}

bool obj_bool(const json_t *o, const char *path)
{
  return json_is_true(obj_get(o, path));
}

long long obj_int(const json_t *o, const char *path, long long dflt)
{
  const json_t *v = obj_get(o, path);

  return json_is_integer(v) ? json_integer_value(v) : dflt;
}

const char *obj_name(const json_t *o)
{
  return obj_str0(o, "metadata.name");
}

const char *obj_namespace(const json_t *o)
{
  return obj_str0(o, "metadata.namespace");
}

const char *obj_uid(const json_t *o)
{
  return obj_str0(o, "metadata.uid");
}

int obj_time(const json_t *o, const char *path, time_t *out)
{
  const char *s = obj_str(o, path);

  if (str_empty(s))
    return OP_ENOTFOUND;
  return time_parse_rfc3339(s, out);
}

int obj_creation_time(const json_t *o, time_t *out)
{
  return obj_time(o, "metadata.creationTimestamp", out);
}

bool obj_deleting(const json_t *o)
{
  return !str_empty(obj_str(o, "metadata.deletionTimestamp"));
}

const char *obj_label(const json_t *o, const char *key)
{
  return json_string_value(json_object_get(obj_get(o, "metadata.labels"), key));
}

const char *obj_annotation(const json_t *o, const char *key)
{
  return json_string_value(
      json_object_get(obj_get(o, "metadata.annotations"), key));
}

bool obj_has_finalizer(const json_t *o, const char *finalizer)
{
  const json_t *arr = obj_get(o, "metadata.finalizers");
  json_t *v;
  size_t i;

  json_array_foreach(arr, i, v)
  {
    if (str_eq(json_string_value(v), finalizer))
      return true;
  }
  return false;
}

size_t obj_finalizer_count(const json_t *o)
{
  return json_array_size(obj_get(o, "metadata.finalizers"));
}

const char *obj_owner_name(const json_t *o, const char *kind)
{
  const json_t *arr = obj_get(o, "metadata.ownerReferences");
  json_t *v;
  size_t i;

  json_array_foreach(arr, i, v)
  {
    if (str_eq(obj_str(v, "kind"), kind))
      return obj_str(v, "name");
  }
  return NULL;
}

bool obj_paused(const json_t *o)
{
  return str_case_eq(obj_annotation(o, OBJ_ANN_PAUSE), "true");
}

json_t *obj_copy_new(const json_t *o)
{
  return json_deep_copy(o);
}

void obj_set_new(json_t *o, const char *path, json_t *v)
{
  const char *p = path, *dot;
  json_t *cur = o;
  char seg[128];

  while ((dot = strchr(p, '.'))) {
    size_t n = (size_t)(dot - p);
    json_t *next;

    if (n >= sizeof(seg))
      break;
    memcpy(seg, p, n);
    seg[n] = '\0';
    next = json_object_get(cur, seg);
    if (!json_is_object(next)) {
      next = json_object();
      json_object_set_new(cur, seg, next);
    }
    cur = next;
    p = dot + 1;
  }
  json_object_set_new(cur, p, v);
}

void obj_set_str(json_t *o, const char *path, const char *s)
{
  obj_set_new(o, path, json_string(s));
}

void obj_del(json_t *o, const char *path)
{
  const char *dot = strrchr(path, '.');
  json_t *parent = o;
  char buf[256];

  if (dot) {
    size_t n = (size_t)(dot - path);

    if (n >= sizeof(buf))
      return;
    memcpy(buf, path, n);
    buf[n] = '\0';
    parent = obj_get_mut(o, buf);
  }
  if (json_is_object(parent))
    json_object_del(parent, dot ? dot + 1 : path);
}

static json_t *meta_map(json_t *o, const char *key)
{
  json_t *meta = json_object_get(o, "metadata"), *m;

  if (!json_is_object(meta)) {
    meta = json_object();
    json_object_set_new(o, "metadata", meta);
  }
  m = json_object_get(meta, key);
  if (!json_is_object(m)) {
    m = json_object();
    json_object_set_new(meta, key, m);
  }
  return m;
}

void obj_set_annotation(json_t *o, const char *key, const char *val)
{
  json_object_set_new(meta_map(o, "annotations"), key, json_string(val));
}

void obj_del_annotation(json_t *o, const char *key)
{
  json_object_del(meta_map(o, "annotations"), key);
}

void obj_set_label(json_t *o, const char *key, const char *val)
{
  json_object_set_new(meta_map(o, "labels"), key, json_string(val));
}

void obj_add_finalizer(json_t *o, const char *finalizer)
{
  json_t *arr;

  if (obj_has_finalizer(o, finalizer))
    return;
  arr = obj_get_mut(o, "metadata.finalizers");
  if (!json_is_array(arr)) {
    arr = json_array();
    obj_set_new(o, "metadata.finalizers", arr);
  }
  json_array_append_new(arr, json_string(finalizer));
}

void obj_remove_finalizer(json_t *o, const char *finalizer)
{
  json_t *arr = obj_get_mut(o, "metadata.finalizers");
  size_t i = 0;

  while (i < json_array_size(arr)) {
    if (str_eq(json_string_value(json_array_get(arr, i)), finalizer))
      json_array_remove(arr, i);
    else
      i++;
  }
}

json_t *obj_time_new(time_t t)
{
  char ts[TIME_RFC3339_LEN];

  time_rfc3339(t, ts);
  return json_string(ts);
}
