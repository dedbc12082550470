/* AccountPool executor: snapshot from the caches, pool_plan, one step
 * (PLANS.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cache/informer.h"
#include "cache/store.h"
#include "controllers/accountpool/exec.h"
#include "controllers/accountpool/plan.h"
#include "controllers/common/names.h"
#include "controllers/common/obj.h"
#include "controllers/manager.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "util/err.h"
#include "util/str.h"

/* An Account this executor created and the Account cache has not shown
 * yet: controller-runtime's "expectations". Forgotten when the cache has
 * it, or after EXPECT_TTL_S (a lost watch event must not stop the pool
 * for good; the informer relists well within that). */
struct pool_expect {
  char pool[256]; /* "ns/name" of the pool */
  char acct[256]; /* "ns/name" of the Account */
  time_t at;
};
#define EXPECT_TTL_S 60

struct pool_exec {
  struct pool_exec_deps d;
  struct ctrl *ctrl; /* set by pool_exec_register */
  struct met_family *g_size, *g_delta, *g_avail, *g_prog;
  struct pool_expect *exp;
  size_t nexp, capexp;
};

struct pool_job {
  struct pool_exec *p;
  char key[256];
  json_t *obj; /* the pool, for the event */
  struct plan_event ev;
  uint64_t requeue_ms;
  char created[256]; /* "ns/name" of the Account being created, or "" */
  exec_done_fn done;
  void *arg;
};

static const char *const pool_lbl[] = { "namespace", "pool_name", NULL };

static struct met_family *pool_gauge(struct met_registry *r, const char *n,
                                     const char *help)
{
  struct met_family *f = met_gauge(r, n, help, pool_lbl);

  met_family_const_label(f, "name", "aws-account-operator");
  return f;
}

struct pool_exec *pool_exec_new(const struct pool_exec_deps *d)
{
  struct pool_exec *p = calloc(1, sizeof(*p));
  struct met_registry *r = d->metrics;

  if (!p)
    return NULL;
  p->d = *d;
  if (r) {
    p->g_size = pool_gauge(r, "aws_account_operator_account_pool_size",
                           "Size of the account pool (spec.poolSize)");
    p->g_delta = pool_gauge(r, "aws_account_operator_aws_limit_delta",
                            "account-limit minus accounts in the org");
    p->g_avail =
        pool_gauge(r, "aws_account_operator_available_non_ccs_accounts",
                   "Ready, never claimed accounts of the pool");
    p->g_prog = pool_gauge(r, "aws_account_operator_accounts_progressing",
                           "Accounts of the pool being created");
  }
  return p;
}

void pool_exec_free(struct pool_exec *p)
{
  if (p)
    free(p->exp);
  free(p);
}

/* Out of memory loses the expectation: the pool then relies on the
 * cache alone, as before expectations existed. */
static time_t pool_now(const struct pool_exec *p)
{
  return p->d.clock ? p->d.clock(p->d.clock_arg) : time(NULL);
}

static void expect_add(struct pool_exec *p, const char *pool, const char *acct)
{
  if (p->nexp == p->capexp) {
    size_t cap = p->capexp ? 2 * p->capexp : 4;
    struct pool_expect *n = realloc(p->exp, cap * sizeof(*n));

    if (!n)
      return;
    p->exp = n;
    p->capexp = cap;
  }
  str_copy(p->exp[p->nexp].pool, pool, sizeof(p->exp[0].pool));
  str_copy(p->exp[p->nexp].acct, acct, sizeof(p->exp[0].acct));
  p->exp[p->nexp++].at = pool_now(p);
}

/* Forget what the cache now shows or what expired; count the rest of
 * pool's. */
static size_t expect_unseen(struct pool_exec *p, const char *pool, time_t now)
{
  size_t i = 0, n = 0;

  while (i < p->nexp) {
    struct pool_expect *e = &p->exp[i];

    if (store_get(p->d.accounts, e->acct) || now - e->at > EXPECT_TTL_S) {
      *e = p->exp[--p->nexp];
      continue;
    }
    n += str_eq(e->pool, pool);
    i++;
  }
  return n;
}

static void pool_metrics(struct pool_exec *p, const json_t *pool,
                         const struct pool_counts *c)
{
  const char *const lv[] = { obj_namespace(pool), obj_name(pool), NULL };

  if (!p->g_size)
    return;
  met_set(p->g_size, lv, (double)c->pool_size);
  met_set(p->g_delta, lv, (double)c->aws_limit_delta);
  met_set(p->g_avail, lv, (double)c->available);
  met_set(p->g_prog, lv, (double)c->progressing);
}

static void pool_suffix(struct pool_exec *p, char *out)
{
  unsigned char rnd[NAMES_SUFFIX_LEN] = { 0 };

  if (p->d.rng)
    p->d.rng(p->d.rng_arg, rnd);
  else if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
    memset(rnd, 0, sizeof(rnd));
  names_suffix(rnd, out);
}

static void job_free(struct pool_job *j)
{
  json_decref(j->obj);
  free(j);
}

static void pool_write_done(int err, json_t *obj, const struct op_error *det,
                            void *arg)
{
  struct pool_job *j = arg;
  struct ctrl_result res;

  (void)obj;
  if (!err && j->created[0])
    expect_add(j->p, j->key, j->created);
  exec_write_result(err, j->requeue_ms, &res);
  if (err)
    log_info("accountpool", "write for %s failed: %s", j->key,
             det && det->msg[0] ? det->msg : op_strerror(err));
  else if (j->ev.reason[0])
    j->p->d.kio.event(j->p->d.kio.arg, j->obj, j->ev.type, j->ev.reason,
                      j->ev.message);
  j->done(j->arg, j->key, &res);
  job_free(j);
}

static int pool_snap_plan(struct pool_exec *p, const char *key,
                          const json_t *pool, struct pool_step *st)
{
  struct pool_snap sn = { 0 };
  struct opcfg cfg;
  bool have_cfg = !p->d.cfg_get && exec_cfg_load(p->d.configmap, &cfg) == 0;
  char suffix[NAMES_SUFFIX_LEN + 1];
  int rc;

  sn.pool = pool;
  sn.accounts = exec_store_objs(p->d.accounts, &sn.naccounts);
  if (!sn.accounts) {
    if (have_cfg)
      opcfg_cleanup(&cfg);
    return OP_ENOMEM;
  }
  sn.cfg = have_cfg ? &cfg : NULL;
  if (p->d.cfg_get)
    sn.cfg = p->d.cfg_get(p->d.cfg_arg);
  sn.now = pool_now(p);
  sn.unseen_creations = expect_unseen(p, key, sn.now);
  if (p->d.limit)
    p->d.limit(p->d.limit_arg, &sn.limit_allows, &sn.has_total,
               &sn.total_accounts);
  pool_suffix(p, suffix);
  sn.name_suffix = suffix;
  rc = pool_plan(&sn, st);
  free((void *)sn.accounts);
  if (have_cfg)
    opcfg_cleanup(&cfg);
  return rc;
}

static int pool_start_write(struct pool_exec *p, struct pool_job *j,
                            struct pool_step *st)
{
  const struct exec_kio *k = &p->d.kio;

  if (st->action == POOL_UPDATE_STATUS)
    return k->update_status(k->arg, &exec_gvr_pools, st->object_new,
                            pool_write_done, j);
  snprintf(j->created, sizeof(j->created), "%s/%s",
           obj_namespace(st->object_new), obj_name(st->object_new));
  return k->create(k->arg, &exec_gvr_accounts, obj_namespace(j->obj),
                   st->object_new, pool_write_done, j);
}

int pool_exec_reconcile(struct pool_exec *p, const char *key,
                        struct ctrl_result *out, exec_done_fn done, void *arg)
{
  const json_t *pool = store_get(p->d.pools, key);
  struct pool_step st;
  struct pool_job *j;
  int rc;

  *out = (struct ctrl_result){ 0 };
  if (!pool)
    return 0; /* deleted: nothing to do */
  pool_step_init(&st);
  rc = pool_snap_plan(p, key, pool, &st);
  if (rc < 0) {
    pool_step_cleanup(&st);
    return rc;
  }
  pool_metrics(p, pool, &st.counts);
  log_debug("accountpool", "%s: %s (%s)", key, pool_action_name(st.action),
            st.why);
  if (st.action == POOL_DONE) {
    out->requeue_after_ms = st.requeue_ms;
    pool_step_cleanup(&st);
    return 0;
  }
  j = calloc(1, sizeof(*j));
  if (!j) {
    pool_step_cleanup(&st);
    return OP_ENOMEM;
  }
  *j = (struct pool_job){ .p = p,
                          .obj = obj_copy(pool),
                          .ev = st.event,
                          .requeue_ms = st.requeue_ms,
                          .done = done,
                          .arg = arg };
  str_copy(j->key, key, sizeof(j->key));
  rc = pool_start_write(p, j, &st);
  pool_step_cleanup(&st);
  if (rc < 0) {
    job_free(j);
    return rc;
  }
  return CTRL_PENDING;
}

/* ---- controller registration ------------------------------------------- */

static void ctrl_done(void *arg, const char *key, const struct ctrl_result *r)
{
  ctrl_complete(arg, key, r);
}

static int pool_reconcile(struct ctrl_ctx *ctx, const char *key,
                          struct ctrl_result *out)
{
  return pool_exec_reconcile(ctrl_ctx_data(ctx), key, out, ctrl_done, ctx);
}

int pool_exec_register(struct mgr *m, uv_loop_t *loop, struct pool_exec *p,
                       unsigned max_concurrent, struct ctrl_metrics *cm,
                       struct wq_metrics *wm)
{
  static const struct ctrl_owner owner = { "aws.managed.openshift.io",
                                           "AccountPool", false, false };
  struct ctrl_opts o = { .name = "accountpool",
                         .reconcile = pool_reconcile,
                         .data = p,
                         .max_concurrent = max_concurrent,
                         .metrics = cm,
                         .wq_metrics = wm };
  struct ctrl *c = ctrl_new(loop, &o);
  int rc;

  if (!c)
    return OP_ENOMEM;
  rc = ctrl_watch(c, mgr_informer(m, MGR_ACCOUNT_POOLS));
  if (!rc)
    rc = ctrl_watch_owned(c, mgr_informer(m, MGR_ACCOUNTS), &owner);
  if (!rc)
    rc = ctrl_wait_for(c, mgr_informer(m, MGR_CONFIGMAP));
  if (!rc)
    rc = mgr_add_controller(m, c);
  if (!rc)
    p->ctrl = c;
  return rc;
}

void pool_exec_kick_all(void *arg)
{
  struct pool_exec *p = arg;
  size_t it = 0;
  const char *key;
  const json_t *o;

  if (!p || !p->ctrl)
    return;
  while (p->d.pools && store_next(p->d.pools, &it, &key, &o))
    ctrl_enqueue(p->ctrl, key);
}
