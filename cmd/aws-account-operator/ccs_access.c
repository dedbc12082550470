/* CCS-Access-Arn at start-up (ccs_access.h). */
#include "cmd/aws-account-operator/ccs_access.h"

#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "controllers/common/obj.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"

/* A conflicting writer: read again, at most this often. */
#define MAX_WRITES 3

static const struct k8s_gvr gvr_configmaps = { "", "v1", "configmaps", true };

struct ccs_access {
  struct ccs_access_deps d;
  char ns[64];
  enum ccs_access_state state;
  bool freed; /* ccs_access_free ran while a call was in flight */
  int writes;
  char arn[256];
};

struct ccs_access *ccs_access_new(const struct ccs_access_deps *d)
{
  struct ccs_access *c = calloc(1, sizeof(*c));

  if (!c)
    return NULL;
  c->d = *d;
  str_copy(c->ns, d->ns ? d->ns : OBJ_NAMESPACE, sizeof(c->ns));
  return c;
}

enum ccs_access_state ccs_access_state(const struct ccs_access *c)
{
  return c->state;
}

void ccs_access_free(struct ccs_access *c)
{
  if (!c)
    return;
  if (c->state == CCS_ACCESS_RUNNING)
    c->freed = true;
  else
    free(c);
}

/* The attempt ended: true when the caller must stop (freed meanwhile). */
static bool end(struct ccs_access *c, enum ccs_access_state st)
{
  if (c->freed) {
    free(c);
    return true;
  }
  c->state = st;
  return false;
}

static void fail(struct ccs_access *c, const char *what, int err,
                 const char *code)
{
  if (c->freed) {
    end(c, CCS_ACCESS_FAILED);
    return;
  }
  log_warn("main", "%s not updated: %s: %s (best effort, as upstream)",
           CCS_ACCESS_KEY, what, code && code[0] ? code : op_strerror(err));
  end(c, CCS_ACCESS_FAILED);
}

static int read_cm(struct ccs_access *c);

static void cm_written(int err, json_t *obj, const struct op_error *det,
                       void *arg)
{
  struct ccs_access *c = arg;

  (void)obj;
  (void)det;
  if (err == OP_ECONFLICT && !c->freed && c->writes < MAX_WRITES) {
    err = read_cm(c);
    if (!err)
      return;
  }
  if (err)
    return fail(c, "ConfigMap update", err, NULL);
  if (!end(c, CCS_ACCESS_WRITTEN))
    log_info("main", "%s set to %s", CCS_ACCESS_KEY, c->arn);
}

static void cm_got(int err, json_t *obj, const struct op_error *det, void *arg)
{
  struct ccs_access *c = arg;
  json_t *cm, *data;
  int rc;

  (void)det;
  if (err || c->freed)
    return fail(c, "ConfigMap read", err ? err : OP_ECANCELED, NULL);
  if (str_eq(obj_str(obj, "data." CCS_ACCESS_KEY), c->arn)) {
    end(c, CCS_ACCESS_UNCHANGED);
    return;
  }
  cm = json_deep_copy(obj);
  data = json_object_get(cm, "data");
  if (!json_is_object(data)) {
    data = json_object();
    json_object_set_new(cm, "data", data);
  }
  json_object_set_new(data, CCS_ACCESS_KEY, json_string(c->arn));
  c->writes++;
  rc = c->d.kio.update(c->d.kio.arg, &gvr_configmaps, cm, cm_written, c);
  json_decref(cm);
  if (rc)
    fail(c, "ConfigMap update", rc, NULL);
}

static int read_cm(struct ccs_access *c)
{
  return c->d.kio.get(c->d.kio.arg, &gvr_configmaps, c->ns, OPCFG_NAME, cm_got,
                      c);
}

static void role_got(int err, const struct aws_error *ae,
                     const struct aws_iam_role_result *r, void *arg)
{
  struct ccs_access *c = arg;
  int rc;

  if (err || !r->role.arn)
    return fail(c, "GetRole " CCS_ACCESS_ROLE, err ? err : OP_EPARSE,
                ae ? ae->code : NULL);
  if (c->freed) {
    end(c, CCS_ACCESS_FAILED);
    return;
  }
  str_copy(c->arn, r->role.arn, sizeof(c->arn));
  rc = read_cm(c);
  if (rc)
    fail(c, "ConfigMap read", rc, NULL);
}

void ccs_access_kick(struct ccs_access *c)
{
  struct aws_creds *mgmt;
  const struct opcfg *cfg;
  struct aws_iam_role_req rq = { CCS_ACCESS_ROLE };
  struct aws_target t = { 0 };
  int rc;

  if (!c || c->state != CCS_ACCESS_WAITING)
    return;
  mgmt = c->d.mgmt ? c->d.mgmt(c->d.mgmt_arg) : NULL;
  cfg = c->d.cfg ? c->d.cfg(c->d.cfg_arg) : NULL;
  if (!mgmt || !cfg)
    return;
  t.creds = mgmt;
  c->state = CCS_ACCESS_RUNNING;
  rc = c->d.api->get_role(c->d.api, &t, &rq, role_got, c);
  if (rc)
    fail(c, "GetRole " CCS_ACCESS_ROLE, rc, NULL);
}
