/* Account executor: annotations that need not be durable on their own
 * (acct_step.ann_soft). The progress of steps that are safe to redo (owner
 * tags, IAM bootstrap stages, the CreateAccount request id, region
 * progress) is kept in memory per key and applied over the cached Account
 * before each plan, so the next write the plan makes carries it: its
 * object is built from the overlaid Account. A restart forgets it and the
 * plan redoes those steps from the durable annotations (their AWS calls
 * are idempotent; a request id is found again by ACCT_RECOVER; hanging
 * region instances are cleaned up).
 *
 * A write brings the entries to what it wrote; an entry is dropped once
 * the cached Account shows the same value (the write that carried it is
 * in the cache). */
#include <string.h>

#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "util/err.h"

static const json_t *anns(const json_t *o)
{
  return json_object_get(json_object_get(o, "metadata"), "annotations");
}

void acct__soft_free(void *v, void *arg)
{
  (void)arg;
  json_decref(v);
}

void acct__soft_forget(struct acct_exec *e, const char *key)
{
  json_decref(map_del(&e->soft, key));
}

json_t *acct__soft_apply(struct acct_exec *e, const char *key,
                         const json_t *obj)
{
  const json_t *ov = map_get(&e->soft, key), *v;
  const char *k;
  json_t *c;

  if (!ov || !obj)
    return NULL;
  c = obj_copy_new(obj);
  json_object_foreach((json_t *)ov, k, v)
  {
    if (json_is_string(v))
      obj_set_annotation(c, k, json_string_value(v));
    else
      obj_del_annotation(c, k);
  }
  return c;
}

/* Equal but for metadata.annotations? */
static bool only_annotations(const json_t *from, const json_t *to)
{
  json_t *a = obj_copy_new(from), *b = obj_copy_new(to);
  bool eq;

  json_object_del(json_object_get(a, "metadata"), "annotations");
  json_object_del(json_object_get(b, "metadata"), "annotations");
  eq = json_equal(a, b);
  json_decref(a);
  json_decref(b);
  return eq;
}

int acct__soft_keep(struct acct_exec *e, const char *key, const json_t *from,
                    const json_t *to)
{
  const json_t *fa = anns(from), *ta = anns(to), *v;
  json_t *ov;
  const char *k;

  if (!from || !to || !only_annotations(from, to))
    return OP_EINVAL;
  ov = map_get(&e->soft, key);
  if (!ov) {
    ov = json_object();
    map_put(&e->soft, key, ov, NULL);
  }
  json_object_foreach((json_t *)ta, k, v)
  {
    if (!json_equal(v, json_object_get(fa, k)))
      json_object_set(ov, k, (json_t *)v);
  }
  json_object_foreach((json_t *)fa, k, v)
  {
    if (!json_object_get(ta, k))
      json_object_set_new(ov, k, json_null());
  }
  return 0;
}

void acct__soft_settle(struct acct_exec *e, const char *key, const json_t *obj)
{
  json_t *ov = map_get(&e->soft, key), *v;
  const json_t *ca = anns(obj);
  const char *k;
  void *tmp;

  if (!ov)
    return;
  json_object_foreach_safe(ov, tmp, k, v)
  {
    const json_t *cur = json_object_get(ca, k);

    if (json_is_null(v) ? !cur : json_equal(v, cur))
      json_object_del(ov, k);
  }
  if (!json_object_size(ov))
    acct__soft_forget(e, key);
}

void acct__soft_written(struct acct_exec *e, const char *key,
                        const json_t *written)
{
  json_t *ov = map_get(&e->soft, key), *v;
  const json_t *wa = anns(written), *w;
  const char *k;

  json_object_foreach(ov, k, v)
  {
    w = json_object_get(wa, k);
    json_object_set(ov, k, w ? (json_t *)w : json_null());
  }
}

void acct__soft_hold(struct acct_exec *e, const char *key, const json_t *answer,
                     const char *name)
{
  const json_t *v = json_object_get(anns(answer), name);
  json_t *ov = map_get(&e->soft, key);

  if (!json_is_string(v))
    return;
  if (!ov) {
    ov = json_object();
    map_put(&e->soft, key, ov, NULL);
  }
  json_object_set(ov, name, (json_t *)v);
}

const char *acct__soft_annotation(const struct acct_exec *e, const char *key,
                                  const char *name)
{
  const json_t *ov = map_get(&e->soft, key);

  return json_string_value(json_object_get(ov, name));
}
