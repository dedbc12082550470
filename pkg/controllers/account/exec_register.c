/* Account executor: registration with the manager (exec.h). */
#include "cache/store.h"
#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "controllers/manager.h"
#include "util/err.h"
#include "util/str.h"

static void ctrl_done(void *arg, const char *key, const struct ctrl_result *r)
{
  ctrl_complete(arg, key, r);
}

static int acct_reconcile(struct ctrl_ctx *ctx, const char *key,
                          struct ctrl_result *out)
{
  return acct_exec_reconcile(ctrl_ctx_data(ctx), key, out, ctrl_done, ctx);
}

/* A claim maps to the Account it links (failure mirror, claimed flag). */
static void claim_to_account(const json_t *c, struct ctrl_keys *out, void *arg)
{
  struct acct_exec *e = arg;
  const char *n = obj_str(c, "spec.accountLink");
  char key[300];

  if (!str_empty(n) && str_fmt(key, sizeof(key), "%s/%s", e->ns, n) >= 0)
    ctrl_keys_add(out, key);
}

void acct_exec_kick_all(void *arg)
{
  struct acct_exec *e = arg;
  size_t it = 0;
  const char *key;
  const json_t *a;

  if (!e || !e->ctrl || e->closing)
    return;
  while (e->d.accounts && store_next(e->d.accounts, &it, &key, &a))
    ctrl_enqueue(e->ctrl, key);
}

int acct_exec_register(struct mgr *m, uv_loop_t *loop, struct acct_exec *e,
                       unsigned max_concurrent, struct ctrl_metrics *cm,
                       struct wq_metrics *wm)
{
  struct ctrl_opts o = { .name = "account",
                         .reconcile = acct_reconcile,
                         .data = e,
                         .max_concurrent = max_concurrent,
                         .metrics = cm,
                         .wq_metrics = wm };
  struct ctrl *c = ctrl_new(loop, &o);
  int rc;

  if (!c)
    return OP_ENOMEM;
  rc = ctrl_watch(c, mgr_informer(m, MGR_ACCOUNTS));
  if (!rc)
    rc = ctrl_watch_map(c, mgr_informer(m, MGR_ACCOUNT_CLAIMS),
                        claim_to_account, e);
  if (!rc)
    rc = ctrl_wait_for(c, mgr_informer(m, MGR_CONFIGMAP));
  if (!rc)
    rc = ctrl_wait_for(c, mgr_informer(m, MGR_SECRET));
  if (!rc)
    rc = mgr_add_controller(m, c);
  if (!rc)
    e->ctrl = c;
  return rc;
}
