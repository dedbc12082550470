/* Wiring of the claim executor over the shared executor support
 * (controllers/exec/exec.h): what exec_register_all calls. */
#include "controllers/accountclaim/exec.h"
#include "controllers/accountpool/exec.h"
#include "controllers/exec/exec.h"
#include "controllers/manager.h"
#include "loop/loop.h"
#include "util/err.h"

int claim_exec_setup(struct exec_shared *s, struct met_registry *r,
                     struct claim_exec **out)
{
  struct claim_exec_deps d = { .kio = s->kio,
                               .claims = exec__store_of(s, MGR_ACCOUNT_CLAIMS),
                               .accounts = exec__store_of(s, MGR_ACCOUNTS),
                               .configmap = exec__store_of(s, MGR_CONFIGMAP),
                               .cfg_get = exec__cfg_of,
                               .cfg_arg = s->opcfg,
                               .api = exec_aws_api(s->aws),
                               .mgmt_creds = exec_aws_mgmt_cb,
                               .creds_arg = s->aws,
                               .metrics = r,
                               .ns = s->ns };
  struct claim_exec *e = claim_exec_new(&d);
  int rc;

  if (!e)
    return OP_ENOMEM;
  rc = claim_exec_register(s->mgr, &s->loop->uv, e,
                           exec_max_concurrent(s, OPCFG_CTRL_ACCOUNTCLAIM),
                           s->ctrl_metrics, s->wq_metrics);
  if (rc < 0) {
    claim_exec_free(e);
    return rc;
  }
  *out = e;
  return 0;
}
