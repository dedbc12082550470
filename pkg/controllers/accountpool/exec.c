/* AccountPool controller: its descriptor for the step runner, the
 * snapshot and plan, and the expectations of the Accounts it creates
 * (exec.h). */
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
#include "controllers/exec/runner.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "util/map.h"
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
  struct exec_runner *run;
  struct met_family *g_size, *g_delta, *g_avail, *g_prog;
  struct pool_expect *exp;
  size_t nexp, capexp;
  struct map status_at; /* pool key -> time_t * of its last status write */
};

#define STATUS_EVERY_S 1

/* One reconcile in flight (base.obj: the owned copy of the pool). */
struct pool_job {
  struct exec_job base;
  struct pool_step st;
  char suffix[NAMES_SUFFIX_LEN + 1];
  char created[256]; /* "ns/name" of the Account being created, or "" */
};

static const char *const pool_lbl[] = { "namespace", "pool_name", NULL };

static struct met_family *pool_gauge(struct met_registry *r, const char *n,
                                     const char *help)
{
  struct met_family *f = met_gauge(r, n, help, pool_lbl);

  met_family_const_label(f, "name", "aws-account-operator");
  return f;
}

#define IX_POOL "accountpool.counts"
static void ix_pool(const json_t *a, struct store_values *out, void *arg);

struct pool_exec *pool_exec_new(const struct pool_exec_deps *d)
{
  struct pool_exec *p = calloc(1, sizeof(*p));
  struct met_registry *r = d->metrics;

  struct exec_runner_deps rd = { .kio = d->kio, .objs = d->pools };
  int ix_rc;

  if (!p)
    return NULL;
  p->d = *d;
  map_init(&p->status_at);
  p->run = exec_runner_new(&pool_desc, p, &rd);
  ix_rc =
      d->accounts ? store_add_index(d->accounts, IX_POOL, ix_pool, NULL) : 0;
  if (!p->run || (ix_rc && ix_rc != OP_EEXIST)) {
    exec_runner_free(p->run);
    free(p);
    return NULL;
  }
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

static void status_at_free(void *v, void *arg)
{
  (void)arg;
  free(v);
}

void pool_exec_free(struct pool_exec *p)
{
  if (!p)
    return;
  exec_runner_free(p->run);
  free(p->exp);
  map_cleanup(&p->status_at, status_at_free, NULL);
  free(p);
}

int pool_exec_reconcile(struct pool_exec *p, const char *key,
                        struct ctrl_result *out, exec_done_fn done, void *arg)
{
  return exec_runner_reconcile(p->run, key, out, done, arg);
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

/* ms until the pool's status may be written again (0 = now). */
static uint64_t status_wait_ms(struct pool_exec *p, const char *key, time_t now)
{
  const time_t *at = map_get(&p->status_at, key);

  if (!at || now < *at || now - *at >= STATUS_EVERY_S)
    return 0;
  return (uint64_t)(*at + STATUS_EVERY_S - now) * 1000u;
}

static void status_written(struct pool_exec *p, const char *key)
{
  time_t *at = malloc(sizeof(*at));
  void *old = NULL;

  if (!at)
    return; /* the next status write is not held back */
  *at = pool_now(p);
  map_put(&p->status_at, key, at, &old);
  free(old);
}

/* The pool counters as a cache index, so that a pool reconcile (one per
 * Account event) reads counts instead of decoding every Account: value
 * "<spec.accountPool>\x1f<counter>" per counter an Account falls in. */
static const char ix_counters[] = "ucapn";

static void ix_pool(const json_t *a, struct store_values *out, void *arg)
{
  struct pool_counts c = { 0 };
  const long long *v[] = { &c.unclaimed, &c.claimed, &c.available,
                           &c.progressing, &c.pending };
  char val[300];

  (void)arg;
  if (!obj_owner_name(a, "AccountPool") &&
      str_empty(obj_str(a, "spec.accountPool")))
    return;
  pool_count_one(a, &c);
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
    if (*v[i] && str_fmt(val, sizeof(val), "%s\x1f%c",
                         obj_str0(a, "spec.accountPool"), ix_counters[i]) >= 0)
      store_values_add(out, val);
}

/* Counters of the Accounts under spec.accountPool value ap. */
static void ix_add(const struct store *s, const char *ap, struct pool_counts *c)
{
  long long *v[] = { &c->unclaimed, &c->claimed, &c->available, &c->progressing,
                     &c->pending };
  char val[300];

  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
    if (str_fmt(val, sizeof(val), "%s\x1f%c", ap, ix_counters[i]) >= 0)
      *v[i] += (long long)store_index_count(s, IX_POOL, val);
}

/* pool_owns over the index: spec.accountPool naming the pool, or empty
 * when the pool is the default one (opcfg_pool_match). */
static void ix_count(const struct store *s, const struct opcfg *cfg,
                     const json_t *pool, struct pool_counts *c)
{
  const char *name = obj_name(pool);

  memset(c, 0, sizeof(*c));
  if (!str_empty(name))
    ix_add(s, name, c);
  if (opcfg_pool_match(cfg, "", name))
    ix_add(s, "", c);
}

static int pool_snap_plan(struct exec_job *b, struct exec_step *v)
{
  struct pool_job *j = (struct pool_job *)b;
  struct pool_exec *p = b->ctl;
  struct pool_snap sn = { 0 };
  struct pool_counts counted;
  struct opcfg cfg;
  int rc;

  pool_step_init(&j->st);
  sn.pool = b->obj;
  sn.cfg = exec_cfg_for_plan(p->d.cfg_get, p->d.cfg_arg, p->d.configmap, &cfg);
  ix_count(p->d.accounts, sn.cfg, b->obj, &counted);
  sn.counted = &counted;
  sn.now = pool_now(p);
  sn.unseen_creations = expect_unseen(p, b->key, sn.now);
  sn.status_wait_ms = status_wait_ms(p, b->key, sn.now);
  if (p->d.limit)
    p->d.limit(p->d.limit_arg, &sn.limit_allows, &sn.has_total,
               &sn.total_accounts);
  pool_suffix(p, j->suffix);
  sn.name_suffix = j->suffix;
  rc = pool_plan(&sn, &j->st);
  exec_cfg_release(&cfg);
  *v = (struct exec_step){ .done = j->st.action == POOL_DONE,
                           .action = (int)j->st.action,
                           .name = pool_action_name(j->st.action),
                           .why = j->st.why,
                           .object_new = j->st.object_new,
                           .target_ns = obj_namespace(b->obj),
                           .requeue_ms = j->st.requeue_ms,
                           .event = &j->st.event };
  return rc;
}

static void planned(struct exec_job *b, int rc)
{
  struct pool_job *j = (struct pool_job *)b;

  if (rc == 0)
    pool_metrics(b->ctl, b->obj, &j->st.counts);
}

/* Remember the Account being created, for the expectations. */
static void starting(struct exec_job *b)
{
  struct pool_job *j = (struct pool_job *)b;

  if (j->st.action == POOL_CREATE_ACCOUNT)
    snprintf(j->created, sizeof(j->created), "%s/%s",
             obj_namespace(j->st.object_new), obj_name(j->st.object_new));
}

static void written(struct exec_job *b)
{
  struct pool_job *j = (struct pool_job *)b;

  if (j->created[0])
    expect_add(b->ctl, b->key, j->created);
  if (j->st.action == POOL_UPDATE_STATUS)
    status_written(b->ctl, b->key);
}

static void job_cleanup(struct exec_job *b)
{
  pool_step_cleanup(&((struct pool_job *)b)->st);
}

static void *new_ctl(struct exec_shared *s, struct exec_runner **run)
{
  struct pool_exec_deps d = { .kio = s->kio,
                              .pools = exec_shared_store(s, MGR_ACCOUNT_POOLS),
                              .accounts = exec_shared_store(s, MGR_ACCOUNTS),
                              .configmap = exec_shared_store(s, MGR_CONFIGMAP),
                              .cfg_get = exec_cfg_of,
                              .cfg_arg = s->opcfg,
                              .limit = exec_watcher_limit,
                              .limit_arg = s->watcher,
                              .metrics = s->registry,
                              .ns = s->ns };
  struct pool_exec *p = pool_exec_new(&d);

  *run = p ? p->run : NULL;
  return p;
}

static void free_ctl(void *ctl)
{
  pool_exec_free(ctl);
}

static const struct exec_action actions[] = {
  [POOL_UPDATE_STATUS] = { .kind = EXEC_UPDATE_STATUS, .gvr = &exec_gvr_pools },
  [POOL_CREATE_ACCOUNT] = { .kind = EXEC_CREATE, .gvr = &exec_gvr_accounts },
};

static const struct ctrl_owner pool_owner = { "aws.managed.openshift.io",
                                              "AccountPool", false, false };

const struct exec_desc pool_desc = {
  .name = "accountpool",
  .cfg = OPCFG_CTRL_ACCOUNTPOOL,
  .kind = MGR_ACCOUNT_POOLS,
  .api_version = "aws.managed.openshift.io/v1alpha1",
  .kind_name = "AccountPool",
  .watches = { { .kind = MGR_ACCOUNTS, .owner = &pool_owner } },
  .wait_for = { MGR_CONFIGMAP, MGR_NKINDS },
  .kick = EXEC_KICK_CFG | EXEC_KICK_WATCHER,
  .job_size = sizeof(struct pool_job),
  .actions = actions,
  .nactions = sizeof(actions) / sizeof(actions[0]),
  .new_ctl = new_ctl,
  .free_ctl = free_ctl,
  .plan = pool_snap_plan,
  .planned = planned,
  .starting = starting,
  .written = written,
  .job_cleanup = job_cleanup,
};
