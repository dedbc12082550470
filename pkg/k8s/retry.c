/* k8s_update_retry: read-mutate-write with retry on 409 Conflict, as
 * client-go's retry.RetryOnConflict around a Get and an Update. */
#include <stdlib.h>
#include <string.h>

#include "k8s/client.h"
#include "log/log.h"
#include "util/util.h"

#define DEF_ATTEMPTS 5

struct k8s__retry {
  struct k8s_client *c;
  struct k8s_gvr gvr; /* strings borrowed from the caller's static gvr */
  char *ns, *name;
  struct k8s_retry_opts o;
  unsigned writes;
  k8s_mutate_fn mutate;
  void *mutate_arg;
  k8s_obj_cb cb;
  void *arg;
};

static void retry_finish(struct k8s__retry *r, int err, json_t *obj,
                         const struct op_error *d)
{
  struct op_error e;

  if (err && !d) {
    op_error_set(&e, err, "%s", op_strerror(err));
    d = &e;
  }
  r->cb(err, err ? NULL : obj, err ? d : NULL, r->arg);
  free(r->ns);
  free(r->name);
  free(r);
}

static void on_got(int err, json_t *obj, const struct op_error *d, void *arg);

static void on_written(int err, json_t *obj, const struct op_error *d,
                       void *arg)
{
  struct k8s__retry *r = arg;
  int rc;

  if (err != OP_ECONFLICT || r->writes >= r->o.attempts) {
    retry_finish(r, err, obj, d);
    return;
  }
  log_debug("k8s", "%s %s/%s: conflict on write %u, re-reading",
            r->gvr.resource, r->ns ? r->ns : "", r->name, r->writes);
  rc = k8s_get(r->c, &r->gvr, r->ns, r->name, on_got, r);
  if (rc)
    retry_finish(r, rc, NULL, NULL);
}

/* After a conflict: mutate a private copy of the fresh obj and write it;
 * any other outcome is delivered through retry_finish. */
static void mutate_and_write(struct k8s__retry *r, json_t *obj)
{
  json_t *copy = json_deep_copy(obj);
  int rc = copy ? r->mutate(copy, r->mutate_arg) : OP_ENOMEM;

  if (rc == K8S_MUTATE_SKIP) {
    retry_finish(r, 0, copy, NULL);
  } else if (rc) {
    retry_finish(r, rc < 0 ? rc : OP_EINVAL, NULL, NULL);
  } else {
    r->writes++;
    rc = r->o.status ? k8s_update_status(r->c, &r->gvr, copy, on_written, r)
                     : k8s_update(r->c, &r->gvr, copy, on_written, r);
    if (rc)
      retry_finish(r, rc, NULL, NULL);
  }
  json_decref(copy);
}

static void on_got(int err, json_t *obj, const struct op_error *d, void *arg)
{
  struct k8s__retry *r = arg;

  if (err) {
    retry_finish(r, err, NULL, d);
    return;
  }
  mutate_and_write(r, obj);
}

static int first_write(struct k8s__retry *r, json_t *obj)
{
  json_t *copy = json_deep_copy(obj);
  int rc = copy ? r->mutate(copy, r->mutate_arg) : OP_ENOMEM;

  if (rc == 0) {
    r->writes = 1;
    rc = r->o.status ? k8s_update_status(r->c, &r->gvr, copy, on_written, r)
                     : k8s_update(r->c, &r->gvr, copy, on_written, r);
  }
  json_decref(copy);
  return rc;
}

int k8s_update_retry(struct k8s_client *c, const struct k8s_gvr *gvr,
                     json_t *obj, const struct k8s_retry_opts *o,
                     k8s_mutate_fn mutate, void *mutate_arg, k8s_obj_cb cb,
                     void *arg)
{
  struct k8s__retry *r;
  const char *name = k8s_obj_name(obj);
  const char *ns = k8s_obj_namespace(obj);
  int rc;

  if (!c || !gvr || !obj || !mutate || !cb || !name)
    return OP_EINVAL;
  r = util_xcalloc(1, sizeof(*r));
  r->c = c;
  r->gvr = *gvr;
  r->ns = ns ? util_xstrdup(ns) : NULL;
  r->name = util_xstrdup(name);
  r->o.attempts = o && o->attempts ? o->attempts : DEF_ATTEMPTS;
  r->o.status = o && o->status;
  r->mutate = mutate;
  r->mutate_arg = mutate_arg;
  r->cb = cb;
  r->arg = arg;
  rc = first_write(r, obj);
  if (rc) {
    free(r->ns);
    free(r->name);
    free(r);
  }
  return rc;
}
