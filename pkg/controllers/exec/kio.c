/* The Kubernetes I/O seam of every executor (exec.h). */
#include <stdlib.h>
#include <string.h>

#include "cache/store.h"
#include "controllers/exec/exec.h"
#include "controllers/common/obj.h"
#include "k8s/events.h"
#include "util/err.h"
#include "util/str.h"

#define AAO_GROUP "aws.managed.openshift.io"

const struct k8s_gvr exec_gvr_accounts = { AAO_GROUP, "v1alpha1", "accounts",
                                           true };
const struct k8s_gvr exec_gvr_pools = { AAO_GROUP, "v1alpha1", "accountpools",
                                        true };
const struct k8s_gvr exec_gvr_claims = { AAO_GROUP, "v1alpha1", "accountclaims",
                                         true };
const struct k8s_gvr exec_gvr_secrets = { "", "v1", "secrets", true };

static int real_get(void *arg, const struct k8s_gvr *g, const char *ns,
                    const char *name, k8s_obj_cb cb, void *cbarg)
{
  struct exec_kio_real *r = arg;

  return k8s_get(r->client, g, ns, name, cb, cbarg);
}

static int real_create(void *arg, const struct k8s_gvr *g, const char *ns,
                       json_t *obj, k8s_obj_cb cb, void *cbarg)
{
  struct exec_kio_real *r = arg;

  return k8s_create(r->client, g, ns, obj, cb, cbarg);
}

static int real_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                       k8s_obj_cb cb, void *cbarg)
{
  struct exec_kio_real *r = arg;

  return k8s_update(r->client, g, obj, cb, cbarg);
}

static int real_update_status(void *arg, const struct k8s_gvr *g, json_t *obj,
                              k8s_obj_cb cb, void *cbarg)
{
  struct exec_kio_real *r = arg;

  return k8s_update_status(r->client, g, obj, cb, cbarg);
}

static int real_del(void *arg, const struct k8s_gvr *g, const char *ns,
                    const char *name, k8s_obj_cb cb, void *cbarg)
{
  struct exec_kio_real *r = arg;

  return k8s_delete(r->client, g, ns, name, NULL, cb, cbarg);
}

static void real_event(void *arg, json_t *obj, const char *type,
                       const char *reason, const char *msg)
{
  struct exec_kio_real *r = arg;

  if (r->rec)
    k8s_event(r->rec, obj, type, reason, "%s", msg);
}

void exec_kio_real_init(struct exec_kio *k, struct exec_kio_real *r)
{
  k->arg = r;
  k->get = real_get;
  k->create = real_create;
  k->update = real_update;
  k->update_status = real_update_status;
  k->del = real_del;
  k->event = real_event;
}

void exec_write_result(int err, uint64_t requeue_ms, struct ctrl_result *out)
{
  *out = (struct ctrl_result){ 0 };
  if (err == OP_ECONFLICT)
    out->requeue_after_ms = 1;
  else if (err)
    out->err = err;
  else
    out->requeue_after_ms = requeue_ms;
}

const json_t **exec_store_by_index(const struct store *s,
                                   const struct exec_ix *q, size_t nq,
                                   size_t *n)
{
  const json_t **all = calloc(1, sizeof(*all)), **v, **grown;
  size_t i, k;

  *n = 0;
  for (i = 0; all && s && i < nq; i++) {
    v = q[i].index ? store_by_index_new(s, q[i].index, q[i].value, &k) : NULL;
    grown = v ? realloc((void *)all, (*n + k + 1) * sizeof(*all)) : all;
    if (!grown) {
      free((void *)v);
      free((void *)all);
      *n = 0;
      return NULL;
    }
    all = grown;
    if (v)
      memcpy((void *)(all + *n), v, k * sizeof(*all));
    *n += v ? k : 0;
    free((void *)v);
  }
  return all;
}

const json_t **exec_store_objs(const struct store *s, size_t *n)
{
  size_t it = 0, i = 0, len = s ? store_len(s) : 0;
  const char *key;
  const json_t *obj;
  const json_t **v = calloc(len + 1, sizeof(*v));

  *n = 0;
  if (!v)
    return NULL;
  while (s && i < len && store_next(s, &it, &key, &obj))
    v[i++] = obj;
  *n = i;
  return v;
}
