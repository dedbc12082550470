/* The shared executor support and the controllers added to it from their
 * descriptors (exec.h). Knows no controller. */
#include <stdlib.h>

#include "cache/informer.h"
#include "config/config.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/metrics.h"
#include "controllers/exec/runner.h"
#include "log/log.h"
#include "loop/loop.h"
#include "util/err.h"

const struct opcfg *exec_cfg_of(void *arg)
{
  return exec_cfg_get(arg);
}

struct store *exec_shared_store(struct exec_shared *s, enum mgr_kind k)
{
  struct inf *i = mgr_informer(s->mgr, k);

  return i ? inf_store(i) : NULL;
}

unsigned exec_max_concurrent(const struct exec_shared *s, enum opcfg_ctrl i)
{
  const struct opcfg *c = s ? exec_cfg_get(s->opcfg) : NULL;

  return c && c->max_concurrent[i] > 0 ? (unsigned)c->max_concurrent[i] : 1;
}

static void kick(struct exec_shared *s, unsigned flag)
{
  size_t i;

  if (s->stopping)
    return;
  for (i = 0; i < s->nunits; i++)
    if (s->units[i].desc->kick & flag)
      exec_runner_kick_all(s->units[i].run);
}

/* ---- shutdown ------------------------------------------------------------ */

static void shared_release(struct exec_shared *s)
{
  size_t i;

  if (s->closing)
    return;
  for (i = 0; i < s->nunits; i++)
    s->units[i].desc->free_ctl(s->units[i].ctl);
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

/* Every runner's jobs ended: only now may what the jobs use go (an AWS
 * call in flight at shutdown still ends in the watcher's bookkeeping);
 * the AWS client last. */
static void unit_closed(void *arg)
{
  struct exec_shared *s = arg;

  if (--s->closing != 1)
    return;
  wq_gate_close(s->gate); /* no reconcile holds it any more */
  s->gate = NULL;
  exec_watcher_close(s->watcher);
  s->watcher = NULL;
  exec_cfg_free(s->opcfg);
  s->opcfg = NULL;
  exec_aws_close(s->aws, part_closed, s);
}

/* Loop stop hook: detach from the informers now (they close after this
 * hook), silence the listeners, wait for every controller's jobs, then
 * close the watcher, the configuration and the AWS client. */
static void shared_stop(void *arg)
{
  struct exec_shared *s = arg;
  size_t i;

  exec_follow_stop(&s->secret);
  exec_metrics_unfollow(s->metrics);
  exec_aws_detach(s->aws);
  exec_cfg_detach(s->opcfg);
  exec_watcher_on_change(s->watcher, NULL, NULL);
  exec_watcher_on_slot(s->watcher, NULL, NULL);
  s->stopping = true;
  /* one for the AWS client, one per runner, one held until all started */
  s->closing = 2 + (unsigned)s->nunits;
  for (i = 0; i < s->nunits; i++)
    exec_runner_close(s->units[i].run, unit_closed, s);
  unit_closed(s);
}

/* Before the watcher's listener: its poll must already go to the
 * ConfigMap's partition. The account-limit gauge follows the same change. */
static void cfg_partition(void *arg)
{
  struct exec_shared *s = arg;
  const struct opcfg *c = exec_cfg_get(s->opcfg);

  exec_metrics_account_limit(s->metrics, c);
  if (c && !s->stopping)
    exec_aws_set_partition(s->aws, opcfg_partition(c));
}

/* ---- construction -------------------------------------------------------- */

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
  int rc;

  s->kio_real.client = mgr_client(s->mgr);
  s->kio_real.rec = mgr_recorder(s->mgr);
  exec_kio_real_init(&s->kio, &s->kio_real);
  s->metrics = exec_metrics_new(r);
  if (r) {
    s->ctrl_metrics = ctrl_metrics_new(r);
    s->wq_metrics = wq_metrics_new(r);
  }
  s->gate = wq_gate_new(&s->loop->uv, EXEC_URGENT_MAX_MS, NULL, NULL);
  s->opcfg = exec_cfg_new(mgr_informer(s->mgr, MGR_CONFIGMAP), &s->kio);
  if (s->metrics)
    s->metrics->cfg = s->opcfg; /* key ages past iam-key-max-age */
  rc = exec_aws_new(&s->loop->uv, mgr_httpc(s->mgr), &ao, &s->aws);
  if (!rc && s->opcfg)
    rc = exec_cfg_on_change(s->opcfg, cfg_partition, s);
  if (rc)
    return rc;
  wo.aws = s->aws;
  wo.cfg = s->opcfg;
  wo.metrics = s->metrics;
  wo.create_cap = ao.create_account_cap;
  s->watcher = exec_watcher_new(&s->loop->uv, &wo);
  return s->opcfg && s->watcher ? 0 : OP_ENOMEM;
}

int exec_shared_new(struct mgr *m, struct loop *loop, const struct cfg *c,
                    struct met_registry *r, struct exec_shared **out)
{
  struct exec_shared *s;
  int rc;

  *out = NULL;
  if (!m || !mgr_enabled(m))
    return 0;
  s = calloc(1, sizeof(*s));
  if (!s)
    return OP_ENOMEM;
  s->loop = loop;
  s->mgr = m;
  s->cfg = c;
  s->ns = c->namespace;
  s->registry = r;
  rc = build_shared(s, r);
  loop_on_stop(loop, shared_stop, s);
  if (!rc)
    *out = s;
  return rc;
}

int exec_shared_add(struct exec_shared *s, const struct exec_desc *d)
{
  struct exec_unit *u;
  int rc;

  if (!s)
    return 0;
  if (s->nunits == EXEC_MAX_CONTROLLERS)
    return OP_EINVAL;
  u = &s->units[s->nunits];
  u->desc = d;
  u->ctl = d->new_ctl(s, &u->run);
  if (!u->ctl || !u->run)
    return OP_ENOMEM;
  s->nunits++;
  rc = exec_runner_register(u->run, s->mgr, &s->loop->uv,
                            exec_max_concurrent(s, d->cfg), s->ctrl_metrics,
                            s->wq_metrics);
  if (!rc)
    rc = exec_runner_set_gate(u->run, s->gate);
  if (rc)
    log_error("exec", "registering the %s controller failed: %s", d->name,
              op_strerror(rc));
  return rc;
}

/* ---- following the ConfigMap, the Secret and the watcher ---------------- */

/* A new or changed ConfigMap: each controller's concurrency follows its
 * MaxConcurrentReconciles key, and the controllers that read the
 * configuration plan again with it. */
static void cfg_changed(void *arg)
{
  struct exec_shared *s = arg;
  size_t i;

  if (s->stopping)
    return; /* the controllers may be gone */
  for (i = 0; i < s->nunits; i++) {
    const struct exec_desc *d = s->units[i].desc;
    struct ctrl *c = exec_runner_ctrl(s->units[i].run);

    if (c)
      ctrl_set_max_concurrent(c, exec_max_concurrent(s, d->cfg));
  }
  kick(s, EXEC_KICK_CFG);
}

/* Credentials (re)appeared or went: the watcher polls, AWS steps retry
 * (or wait for them). */
static void secret_seen(void *arg, const json_t *obj)
{
  struct exec_shared *s = arg;

  (void)obj;
  if (s->stopping)
    return;
  if (s->watcher)
    exec_watcher_poll(s->watcher);
  kick(s, EXEC_KICK_SECRET);
}

static void watcher_changed(void *arg)
{
  kick(arg, EXEC_KICK_WATCHER);
}

int exec_shared_start(struct exec_shared *s)
{
  int rc;

  if (!s)
    return 0;
  s->secret = (struct exec_follower){ .name = MGR_SECRET_NAME,
                                      .fn = secret_seen,
                                      .arg = s };
  rc = exec_follow_start(&s->secret, mgr_informer(s->mgr, MGR_SECRET));
  if (!rc)
    rc = exec_metrics_follow(s->metrics, mgr_informer(s->mgr, MGR_ACCOUNTS),
                             mgr_informer(s->mgr, MGR_ACCOUNT_CLAIMS));
  if (!rc)
    rc = exec_cfg_on_change(s->opcfg, cfg_changed, s);
  if (!rc)
    exec_watcher_on_change(s->watcher, watcher_changed, s);
  if (!rc)
    rc = exec_watcher_start(s->watcher);
  return rc;
}
