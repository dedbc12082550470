/* exec_register_all: the shared executor pieces and every controller's
 * registration, the one call main.c makes (exec.h). */
#include <stdlib.h>

#include "cache/informer.h"
#include "config/config.h"
#include "controllers/account/exec.h"
#include "controllers/accountclaim/exec.h"
#include "controllers/accountpool/exec.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/metrics.h"
#include "controllers/manager.h"
#include "log/log.h"
#include "loop/loop.h"
#include "util/err.h"

static void shared_release(struct exec_shared *s)
{
  if (s->closing)
    return;
  exec_metrics_free(s->metrics);
  ctrl_metrics_free(s->ctrl_metrics);
  wq_metrics_free(s->wq_metrics);
  free(s);
}

static void part_closed(void *arg)
{
  struct exec_shared *s = arg;

  s->closing--;
  shared_release(s);
}

static void acct_closed(void *arg)
{
  struct exec_shared *s = arg;

  exec_aws_close(s->aws, part_closed, s);
}

/* Loop stop hook: detach from the informers now (they are closing), close
 * the watcher, then the Account executor once its jobs ended, then the AWS
 * client. */
static void shared_stop(void *arg)
{
  struct exec_shared *s = arg;

  struct inf *sec = mgr_informer(s->mgr, MGR_SECRET);

  if (s->secret_handler > 0 && sec)
    inf_remove_handler(sec, s->secret_handler);
  exec_aws_detach(s->aws);
  exec_watcher_on_change(s->watcher, NULL, NULL);
  exec_watcher_close(s->watcher);
  s->watcher = NULL;
  exec_cfg_free(s->opcfg);
  s->opcfg = NULL;
  s->closing = 1;
  if (s->acct)
    acct_exec_close(s->acct, acct_closed, s);
  else
    acct_closed(s);
}

static int build_shared(struct exec_shared *s, struct met_registry *r)
{
  struct exec_aws_opts ao = {
    .endpoint_url = s->cfg->aws_endpoint_url,
    .region = s->cfg->aws_region,
    .create_account_cap = (unsigned)s->cfg->create_account_concurrency,
    .metrics = r,
    .secret = mgr_informer(s->mgr, MGR_SECRET),
  };
  struct exec_watcher_opts wo = { 0 };
  struct k8s_client *kc = mgr_client(s->mgr);
  int rc;

  s->kio_real.client = kc;
  s->kio_real.rec = mgr_recorder(s->mgr);
  exec_kio_real_init(&s->kio, &s->kio_real);
  s->metrics =
      exec_metrics_new(r, inf_store(mgr_informer(s->mgr, MGR_ACCOUNTS)));
  if (r) {
    s->ctrl_metrics = ctrl_metrics_new(r);
    s->wq_metrics = wq_metrics_new(r);
  }
  s->opcfg = exec_cfg_new(mgr_informer(s->mgr, MGR_CONFIGMAP), &s->kio);
  rc = exec_aws_new(&s->loop->uv, mgr_httpc(s->mgr), &ao, &s->aws);
  if (rc)
    return rc;
  wo.aws = s->aws;
  wo.cfg = s->opcfg;
  wo.metrics = s->metrics;
  wo.create_cap = ao.create_account_cap;
  s->watcher = exec_watcher_new(&s->loop->uv, &wo);
  return s->opcfg && s->watcher ? 0 : OP_ENOMEM;
}

static int register_account(struct exec_shared *s)
{
  struct acct_exec_deps d = {
    .kio = s->kio,
    .accounts = inf_store(mgr_informer(s->mgr, MGR_ACCOUNTS)),
    .claims = inf_store(mgr_informer(s->mgr, MGR_ACCOUNT_CLAIMS)),
    .cfg = s->opcfg,
    .aws = s->aws,
    .watcher = s->watcher,
    .metrics = s->metrics,
    .ns = s->ns,
    .case_poll_s = (unsigned)s->cfg->support_case_poll_s,
  };

  s->acct = acct_exec_new(&d);
  if (!s->acct)
    return OP_ENOMEM;
  return acct_exec_register(s->mgr, &s->loop->uv, s->acct,
                            exec_max_concurrent(s, OPCFG_CTRL_ACCOUNT),
                            s->ctrl_metrics, s->wq_metrics);
}

static void secret_seen(const json_t *obj, void *arg)
{
  struct exec_shared *s = arg;

  (void)obj;
  if (s->watcher)
    exec_watcher_poll(s->watcher);
  acct_exec_kick_all(s->acct); /* AWS steps waiting for credentials */
}

/* A new or changed ConfigMap: each controller's concurrency follows its
 * MaxConcurrentReconciles key, and every Account plans again with it. */
static void cfg_changed(void *arg)
{
  struct exec_shared *s = arg;
  int i;

  for (i = 0; i < OPCFG_CTRL_COUNT; i++) {
    struct ctrl *c = mgr_controller(s->mgr, opcfg_ctrl_name(i));

    if (c)
      ctrl_set_max_concurrent(c, exec_max_concurrent(s, (enum opcfg_ctrl)i));
  }
  acct_exec_kick_all(s->acct);
}

static void secret_changed(const json_t *o, const json_t *n, void *arg)
{
  (void)o;
  secret_seen(n, arg);
}

/* The watcher polls again as soon as credentials (re)appear. */
static void follow_secret(struct exec_shared *s)
{
  struct inf_handler h = { secret_seen, secret_changed, NULL, NULL, s };
  struct inf *sec = mgr_informer(s->mgr, MGR_SECRET);

  if (sec)
    s->secret_handler = inf_add_handler(sec, &h);
}

unsigned exec_max_concurrent(const struct exec_shared *s, enum opcfg_ctrl i)
{
  const struct opcfg *c = s ? exec_cfg_get(s->opcfg) : NULL;

  return c && c->max_concurrent[i] > 0 ? (unsigned)c->max_concurrent[i] : 1;
}

/* The AccountPool and AccountClaim executors live in their own folders and
 * share everything built above. Their state lives until the process exits
 * (freed with it); both stop with the manager's controllers. */
static int register_pool_and_claim(struct exec_shared *s,
                                   struct met_registry *r)
{
  struct pool_exec *pe;
  struct claim_exec *ce;
  int rc = pool_exec_setup(s, r, &pe);

  if (!rc)
    rc = claim_exec_setup(s, r, &ce);
  return rc;
}

int exec_register_all(struct mgr *m, struct loop *loop, const struct cfg *c,
                      struct met_registry *r)
{
  struct exec_shared *s;
  int rc;

  if (!m || !mgr_enabled(m))
    return 0;
  s = calloc(1, sizeof(*s));
  if (!s)
    return OP_ENOMEM;
  s->loop = loop;
  s->mgr = m;
  s->cfg = c;
  s->ns = c->namespace;
  rc = build_shared(s, r);
  if (!rc)
    rc = register_account(s);
  if (!rc)
    rc = register_pool_and_claim(s, r);
  if (!rc) {
    follow_secret(s);
    exec_cfg_on_change(s->opcfg, cfg_changed, s);
    exec_watcher_on_change(s->watcher, acct_exec_kick_all, s->acct);
    rc = exec_watcher_start(s->watcher);
  }
  loop_on_stop(loop, shared_stop, s);
  if (rc)
    log_error("exec", "registering the controllers failed: %s",
              op_strerror(rc));
  return rc;
}
