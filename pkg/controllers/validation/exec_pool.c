/* AccountPoolValidation controller: its descriptor for the step runner,
 * the snapshot and plan, the REPORT action (exec.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/store.h"
#include "controllers/common/obj.h"
#include "controllers/validation/exec.h"
#include "util/err.h"
#include "util/map.h"
#include "util/str.h"

#define INDEX "pv.accounts"

/* A pool's last pass found no drift: while its pool object, what
 * the pass reads of the configuration (cfg) and the set of Accounts'
 * pool-relevant fields (digest) stay the same, the pass would find none
 * again. An Account event (an annotation) or a ConfigMap edit elsewhere
 * (another key, as the no-op resync's) then costs no pass over the fleet:
 * a pass decodes every Account, a fifth of a 10,000 fleet's resync. */
struct pv_clean {
  uint64_t digest, cfg;
  char pool_rv[64];
};

struct pv_exec {
  struct pv_exec_deps d;
  struct exec_runner *run;
  struct map clean; /* pool key -> struct pv_clean * */
  size_t passes;    /* passes run (tests) */
  size_t examined;  /* Accounts a pass planned over (tests) */
};

static uint64_t fnv(const char *s)
{
  uint64_t h = 1469598103934665603ull;

  for (; s && *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Everything pv_plan reads of an Account (membership, pause, spec and
 * status quotas) as canonical text: the index's value. Names are left
 * out: Accounts with the same value are judged alike, so a pass judges
 * one of each value (distinct_pass), and "no drift" holds for a set of
 * values, whoever holds them. */
static void pv_fields(const json_t *a, struct store_values *out, void *arg)
{
  json_t *t = json_pack(
      "[s,s,s,s,O?,O?,O?,O?]", obj_str0(a, "metadata.deletionTimestamp"),
      obj_annotation(a, OBJ_ANN_PAUSE) ? obj_annotation(a, OBJ_ANN_PAUSE) : "",
      obj_owner_name(a, "AccountPool") ? obj_owner_name(a, "AccountPool") : "",
      obj_str0(a, "spec.accountPool"), obj_get(a, "spec.regionalServiceQuotas"),
      obj_get(a, "spec.globalServiceQuotas"),
      obj_get(a, "status.regionalServiceQuotas"),
      obj_get(a, "status.globalServiceQuotas"));
  char *txt = t ? json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

  (void)arg;
  store_values_add(out, txt ? txt : "?");
  free(txt);
  json_decref(t);
}

static void digest_add(const char *value, size_t n, void *arg)
{
  (void)n;
  *(uint64_t *)arg += fnv(value);
}

/* Everything pv_plan reads of the configuration for pool (named name),
 * hashed: whether there is one, the pool's entry and quotas, the default
 * pool (membership) and the flag. */
static uint64_t cfg_digest(const struct opcfg *cfg, const char *name)
{
  const struct opcfg_pool *p = cfg ? opcfg_pool(cfg, name) : NULL;
  const struct opcfg_pool *d = cfg ? opcfg_default_pool(cfg) : NULL;
  json_t *t;
  char *txt;
  uint64_t h;

  if (!cfg)
    return 0;
  t = json_pack("[b,s,b,O?,O?]", cfg->feat_accountpool_validation,
                d && d->name ? d->name : "", p != NULL,
                p ? p->servicequotas : NULL, p ? p->globalservicequotas : NULL);
  txt = t ? json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
  h = fnv(txt ? txt : "?") | 1; /* 0 is "no configuration" */
  free(txt);
  json_decref(t);
  return h;
}

/* The state a clean pass depends on, for pool (its object) under cfg. */
static void clean_state(const struct pv_exec *e, const json_t *pool,
                        const struct opcfg *cfg, struct pv_clean *out)
{
  memset(out, 0, sizeof(*out));
  if (e->d.accounts)
    store_index_each(e->d.accounts, INDEX, digest_add, &out->digest);
  str_copy(out->pool_rv, store_obj_rv(pool), sizeof(out->pool_rv));
  out->cfg = cfg_digest(cfg, obj_name(pool));
}

static bool still_clean(const struct pv_exec *e, const char *key,
                        const struct pv_clean *now)
{
  const struct pv_clean *c = map_get(&e->clean, key);

  return c && c->digest == now->digest && str_eq(c->pool_rv, now->pool_rv) &&
         c->cfg == now->cfg;
}

size_t pv_exec_passes(const struct pv_exec *e)
{
  return e->passes;
}

size_t pv_exec_examined(const struct pv_exec *e)
{
  return e->examined;
}

struct pv_job {
  struct exec_job base;
  struct pv_step st;
};

struct pv_exec *pv_exec_new(const struct pv_exec_deps *d)
{
  struct pv_exec *e = calloc(1, sizeof(*e));
  struct exec_runner_deps rd = { .kio = d->kio, .objs = d->pools };

  if (!e)
    return NULL;
  e->d = *d;
  map_init(&e->clean);
  e->run = exec_runner_new(&pv_desc, e, &rd);
  if (!e->run || (d->accounts &&
                  store_add_index(d->accounts, INDEX, pv_fields, NULL) < 0)) {
    exec_runner_free(e->run);
    free(e);
    return NULL;
  }
  return e;
}

static void free_clean(void *v, void *arg)
{
  (void)arg;
  free(v);
}

void pv_exec_free(struct pv_exec *e)
{
  if (!e)
    return;
  exec_runner_free(e->run);
  map_cleanup(&e->clean, free_clean, NULL);
  free(e);
}

int pv_exec_reconcile(struct pv_exec *e, const char *key,
                      struct ctrl_result *out, exec_done_fn done, void *arg)
{
  return exec_runner_reconcile(e->run, key, out, done, arg);
}

/* After a full pass: its state when it found no drift (c), else none. */
static void remember(struct pv_exec *e, const char *key,
                     const struct pv_clean *c)
{
  void *old = NULL;

  if (c) {
    struct pv_clean *m = malloc(sizeof(*m));

    if (!m)
      return;
    *m = *c;
    map_put(&e->clean, key, m, &old);
  } else {
    old = map_del(&e->clean, key);
  }
  free(old);
}

/* One Account of each distinct index value (borrowed, valid until the
 * reconcile's trim). */
struct reps {
  const struct store *accounts;
  const json_t **v;
  size_t n, cap;
  bool failed; /* out of memory: the full pass decides */
};

static void rep_add(const char *value, size_t n, void *arg)
{
  struct reps *r = arg;
  char **keys = store_index_keys_new(r->accounts, INDEX, value, &n);
  const json_t *a = keys ? store_get(r->accounts, keys[0]) : NULL;

  if (a && r->n == r->cap) {
    const json_t **v = realloc(r->v, 2 * (r->cap + 4) * sizeof(*v));

    if (!v)
      r->failed = true;
    else
      r->v = v, r->cap = 2 * (r->cap + 4);
  }
  if (a && r->n < r->cap)
    r->v[r->n++] = a;
  else if (!a)
    r->failed = true; /* an indexed key without its object: a bug */
  store_keys_free(keys, n);
}

/* The pass over one Account of each distinct value: Accounts with the
 * same value are judged alike, so when none of them drifts the fleet
 * does not, and a pass over 10,000 Accounts at start (a tenth of the
 * daemon's CPU to idle) decodes a handful. True with *st holding a result
 * that names no Account (no drift, or the pool not validated at all);
 * otherwise the full pass decides (which Account to fix first, the names
 * a report lists, whether that report was made). */
static bool distinct_pass(struct pv_exec *e, struct pv_snap *sn,
                          struct pv_step *st)
{
  struct reps r = { e->d.accounts, NULL, 0, 0, false };
  bool clean;

  if (!e->d.accounts)
    return false;
  store_index_each(e->d.accounts, INDEX, rep_add, &r);
  sn->accounts = r.v;
  sn->naccounts = r.n;
  e->examined += r.n;
  clean = !r.failed && pv_plan(sn, st) == 0 && st->action == PV_DONE &&
          !str_eq(st->why, "drift already reported");
  if (!clean)
    pv_step_cleanup(st);
  free(r.v);
  sn->accounts = NULL;
  sn->naccounts = 0;
  return clean;
}

static int snap_plan(struct exec_job *b, struct exec_step *v)
{
  struct pv_job *j = (struct pv_job *)b;
  struct pv_exec *e = b->ctl;
  struct pv_snap sn = { 0 };
  struct pv_clean now;
  struct opcfg cfg;
  int rc = OP_ENOMEM;

  pv_step_init(&j->st);
  sn.cfg = exec_cfg_for_plan(e->d.cfg_get, e->d.cfg_arg, e->d.configmap, &cfg);
  clean_state(e, b->obj, sn.cfg, &now);
  if (still_clean(e, b->key, &now)) {
    str_copy(j->st.why, "no quota drift (nothing changed)", sizeof(j->st.why));
    rc = 0;
  } else {
    e->passes++;
    sn.pool = b->obj;
    sn.obs = exec_runner_obs(e->run, b->key);
    if (distinct_pass(e, &sn, &j->st)) {
      rc = 0;
    } else {
      sn.accounts = exec_store_objs(e->d.accounts, &sn.naccounts);
      e->examined += sn.naccounts;
      if (sn.accounts)
        rc = pv_plan(&sn, &j->st);
      free((void *)sn.accounts);
    }
    remember(e, b->key,
             rc == 0 && str_eq(j->st.why, "no quota drift") ? &now : NULL);
  }
  exec_cfg_release(&cfg);
  *v = (struct exec_step){ .done = j->st.action == PV_DONE,
                           .action = (int)j->st.action,
                           .name = pv_action_name(j->st.action),
                           .why = j->st.why,
                           .object_new = j->st.object_new,
                           .requeue_ms = j->st.requeue_ms,
                           .event = &j->st.event };
  return rc;
}

/* REPORT: remember the drift reported, so it is reported once. */
static int start_report(struct exec_job *b)
{
  struct pv_job *j = (struct pv_job *)b;
  struct pv_obs o = { .sig = j->st.sig, .at = time(NULL) };

  exec_job_observed(b, 0, NULL, &o, NULL);
  return 0;
}

/* An Account maps to its pool: the controlling AccountPool, else
 * spec.accountPool (pools live in the Accounts' namespace). */
static void account_to_pool(const json_t *a, struct ctrl_keys *out, void *arg)
{
  const char *p = obj_owner_name(a, "AccountPool");
  char key[300];

  (void)arg;
  if (str_empty(p))
    p = obj_str(a, "spec.accountPool");
  if (!str_empty(p) &&
      str_fmt(key, sizeof(key), "%s/%s", obj_namespace(a), p) >= 0)
    ctrl_keys_add(out, key);
}

static void job_cleanup(struct exec_job *b)
{
  pv_step_cleanup(&((struct pv_job *)b)->st);
}

static void pool_gone(void *ctl, const char *key)
{
  remember(ctl, key, NULL);
}

static void *new_ctl(struct exec_shared *s, struct exec_runner **run)
{
  struct pv_exec_deps d = { .kio = s->kio,
                            .pools = exec_shared_store(s, MGR_ACCOUNT_POOLS),
                            .accounts = exec_shared_store(s, MGR_ACCOUNTS),
                            .configmap = exec_shared_store(s, MGR_CONFIGMAP),
                            .cfg_get = exec_cfg_of,
                            .cfg_arg = s->opcfg };
  struct pv_exec *e = pv_exec_new(&d);

  *run = e ? e->run : NULL;
  return e;
}

static void free_ctl(void *ctl)
{
  pv_exec_free(ctl);
}

static const struct exec_action actions[] = {
  [PV_ACCOUNT_UPDATE] = { .kind = EXEC_UPDATE, .gvr = &exec_gvr_accounts },
  [PV_ACCOUNT_RESET] = { .kind = EXEC_UPDATE_STATUS,
                         .gvr = &exec_gvr_accounts },
  [PV_REPORT] = { .kind = EXEC_CALL, .start = start_report },
};

const struct exec_desc pv_desc = {
  .name = "accountpoolvalidation",
  .cfg = OPCFG_CTRL_ACCOUNTPOOLVALIDATION,
  .kind = MGR_ACCOUNT_POOLS,
  .api_version = "aws.managed.openshift.io/v1alpha1",
  .kind_name = "AccountPool",
  .watches = { { .kind = MGR_ACCOUNTS, .map = account_to_pool } },
  .wait_for = { MGR_CONFIGMAP, MGR_ACCOUNTS, MGR_NKINDS },
  .kick = EXEC_KICK_CFG,
  .job_size = sizeof(struct pv_job),
  .obs_size = sizeof(struct pv_obs),
  .actions = actions,
  .nactions = sizeof(actions) / sizeof(actions[0]),
  .new_ctl = new_ctl,
  .free_ctl = free_ctl,
  .plan = snap_plan,
  .gone = pool_gone,
  .job_cleanup = job_cleanup,
};
