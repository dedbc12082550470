/* The operator's controllers (controllers.h). To add a controller, write
 * its descriptor (controllers/exec/runner.h) and list it here. */
#include <stddef.h>
#include <stdlib.h>

#include "cmd/aws-account-operator/ccs_access.h"
#include "cmd/aws-account-operator/controllers.h"
#include "controllers/account/exec.h"
#include "controllers/accountclaim/exec.h"
#include "controllers/accountpool/exec.h"
#include "controllers/exec/exec.h"
#include "controllers/federatedrole/exec.h"
#include "controllers/federatedaccess/exec.h"
#include "controllers/exec/runner.h"
#include "controllers/validation/exec.h"
#include "log/log.h"
#include "loop/loop.h"
#include "util/err.h"

static const struct exec_desc *const controllers[] = {
  &acct_desc, &pool_desc, &claim_desc, &frole_desc,
  &fa_desc,   &val_desc,  &pv_desc,
};

/* CCS-Access-Arn (ccs_access.h): kicked by the credentials Secret and by
 * ConfigMap changes until its one attempt starts. */
struct ccs_hook {
  struct ccs_access *ccs;
  struct exec_follower secret;
};

static void ccs_kick(void *arg)
{
  ccs_access_kick(((struct ccs_hook *)arg)->ccs);
}

static void ccs_secret(void *arg, const json_t *obj)
{
  (void)obj;
  ccs_kick(arg);
}

/* Loop stop hook: no informer or ConfigMap event reaches us after it (the
 * shared support detaches the ConfigMap in its own stop hook). */
static void ccs_stop(void *arg)
{
  struct ccs_hook *h = arg;

  exec_follow_stop(&h->secret);
  ccs_access_free(h->ccs);
  free(h);
}

static int start_ccs_access(struct exec_shared *s, struct loop *loop)
{
  struct ccs_access_deps d = { .api = exec_aws_api(s->aws),
                               .mgmt = exec_aws_mgmt_cb,
                               .mgmt_arg = s->aws,
                               .cfg = exec_cfg_of,
                               .cfg_arg = s->opcfg,
                               .kio = s->kio,
                               .ns = s->ns };
  struct ccs_hook *h = calloc(1, sizeof(*h));
  int rc;

  if (!h || !(h->ccs = ccs_access_new(&d))) {
    free(h);
    return OP_ENOMEM;
  }
  h->secret = (struct exec_follower){ .name = MGR_SECRET_NAME,
                                      .fn = ccs_secret,
                                      .arg = h };
  loop_on_stop(loop, ccs_stop, h);
  rc = exec_follow_start(&h->secret, mgr_informer(s->mgr, MGR_SECRET));
  if (!rc)
    rc = exec_cfg_on_change(s->opcfg, ccs_kick, h);
  return rc;
}

int controllers_register(struct mgr *m, struct loop *loop, const struct cfg *c,
                         struct met_registry *r)
{
  struct exec_shared *s;
  size_t i;
  int rc = exec_shared_new(m, loop, c, r, &s);

  for (i = 0; !rc && s && i < sizeof(controllers) / sizeof(controllers[0]); i++)
    rc = exec_shared_add(s, controllers[i]);
  if (!rc)
    rc = exec_shared_start(s);
  if (!rc && s)
    rc = start_ccs_access(s, loop);
  if (rc)
    log_error("main", "registering the controllers failed: %s",
              op_strerror(rc));
  return rc;
}
