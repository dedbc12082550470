/* Wiring of the pool executor over the shared executor support
 * (controllers/exec/exec.h): what exec_register_all calls. */
#include "cache/informer.h"
#include "controllers/accountpool/exec.h"
#include "controllers/exec/exec.h"
#include "controllers/manager.h"
#include "loop/loop.h"
#include "util/err.h"

const struct opcfg *exec__cfg_of(void *arg)
{
  return exec_cfg_get(arg);
}

const struct store *exec__store_of(struct exec_shared *s, enum mgr_kind k)
{
  struct inf *i = mgr_informer(s->mgr, k);

  return i ? inf_store(i) : NULL;
}

int pool_exec_setup(struct exec_shared *s, struct met_registry *r,
                    struct pool_exec **out)
{
  struct pool_exec_deps d = { .kio = s->kio,
                              .pools = exec__store_of(s, MGR_ACCOUNT_POOLS),
                              .accounts = exec__store_of(s, MGR_ACCOUNTS),
                              .configmap = exec__store_of(s, MGR_CONFIGMAP),
                              .cfg_get = exec__cfg_of,
                              .cfg_arg = s->opcfg,
                              .limit = exec_watcher_limit,
                              .limit_arg = s->watcher,
                              .metrics = r,
                              .ns = s->ns };
  struct pool_exec *p = pool_exec_new(&d);
  int rc;

  if (!p)
    return OP_ENOMEM;
  rc = pool_exec_register(s->mgr, &s->loop->uv, p,
                          exec_max_concurrent(s, OPCFG_CTRL_ACCOUNTPOOL),
                          s->ctrl_metrics, s->wq_metrics);
  if (rc < 0) {
    pool_exec_free(p);
    return rc;
  }
  /* A new or fixed ConfigMap (account-limit, pools) re-runs every pool. */
  exec_cfg_on_change(s->opcfg, pool_exec_kick_all, p);
  /* So does the watcher's verdict (limit_allows) changing. */
  exec_watcher_on_change(s->watcher, pool_exec_kick_all, p);
  *out = p;
  return 0;
}
