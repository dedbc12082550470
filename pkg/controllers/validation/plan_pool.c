/* AccountPoolValidation plan (see plan.h). */
#include "controllers/validation/plan.h"

#include <stdio.h>
#include <string.h>

#include "controllers/accountpool/plan.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

const char *pv_action_name(enum pv_action a)
{
  static const char *const n[] = { "done", "account-update", "account-reset",
                                   "report" };

  return (unsigned)a < PV_NACTIONS ? n[a] : "?";
}

void pv_step_init(struct pv_step *s)
{
  memset(s, 0, sizeof(*s));
}

void pv_step_cleanup(struct pv_step *s)
{
  json_decref(s->object_new);
  memset(s, 0, sizeof(*s));
}

/* code -> value of one map whose entries are {value} or plain values. */
static bool codes_equal(const json_t *spec, const json_t *want)
{
  const char *k;
  json_t *v;

  if (json_object_size(spec) != json_object_size(want))
    return false;
  json_object_foreach((json_t *)want, k, v)
  {
    const json_t *e = json_object_get(spec, k);

    if (!e || obj_int(e, "value", -1) != json_integer_value(v))
      return false;
  }
  return true;
}

bool pv_quotas_equal(const json_t *a, const struct opcfg_pool *p)
{
  const json_t *sr = obj_get(a, "spec.regionalServiceQuotas");
  const json_t *sg = obj_get(a, "spec.globalServiceQuotas");
  const char *r;
  json_t *m;

  if (json_object_size(sr) != json_object_size(p->servicequotas) ||
      !codes_equal(sg, p->globalservicequotas))
    return false;
  json_object_foreach(p->servicequotas, r, m)
  {
    if (!codes_equal(json_object_get(sr, r), m))
      return false;
  }
  return true;
}

/* A status quota entry whose value is not what the spec now asks. */
static bool status_stale(const json_t *a)
{
  const json_t *sr = obj_get(a, "spec.regionalServiceQuotas");
  const json_t *sg = obj_get(a, "spec.globalServiceQuotas");
  const char *r, *c;
  json_t *m, *e;

  json_object_foreach(
      json_object_get(obj_get(a, "status"), "regionalServiceQuotas"), r, m)
  {
    json_object_foreach(m, c, e)
    {
      const json_t *w = json_object_get(json_object_get(sr, r), c);

      if (!w)
        w = json_object_get(json_object_get(sr, "default"), c);
      if (!w || obj_int(w, "value", -1) != obj_int(e, "value", -2))
        return true;
    }
  }
  json_object_foreach(
      json_object_get(obj_get(a, "status"), "globalServiceQuotas"), c, e)
  {
    const json_t *w = json_object_get(sg, c);

    if (!w || obj_int(w, "value", -1) != obj_int(e, "value", -2))
      return true;
  }
  return false;
}

static bool member(const struct pv_snap *sn, const json_t *a)
{
  if (obj_deleting(a) || obj_paused(a))
    return false;
  return pool_owns(sn->cfg, sn->pool, a);
}

static void set_or_del(json_t *a, const char *path, json_t *v)
{
  if (json_object_size(v))
    obj_set_new(a, path, v);
  else {
    json_decref(v);
    obj_del(a, path);
  }
}

static void update(struct pv_step *s, const json_t *a,
                   const struct opcfg_pool *p)
{
  s->action = PV_ACCOUNT_UPDATE;
  s->object_new = obj_copy_new(a);
  set_or_del(s->object_new, "spec.regionalServiceQuotas",
             pool_quotas_new(p->servicequotas, true));
  set_or_del(s->object_new, "spec.globalServiceQuotas",
             pool_quotas_new(p->globalservicequotas, false));
  str_fmt(s->why, sizeof(s->why), "quotas of %s differ from the pool's",
          obj_name(a));
  plan_event_set(&s->event, "Normal", "AccountQuotasUpdated",
                 "Account %s spec quotas set to the pool's", obj_name(a));
}

static void reset(struct pv_step *s, const json_t *a)
{
  s->action = PV_ACCOUNT_RESET;
  s->object_new = obj_copy_new(a);
  obj_set_new(s->object_new, "status.regionalServiceQuotas", json_object());
  obj_set_new(s->object_new, "status.globalServiceQuotas", json_object());
  str_fmt(s->why, sizeof(s->why), "status quotas of %s are stale", obj_name(a));
  plan_event_set(&s->event, "Normal", "AccountQuotasReset",
                 "Account %s status quotas reset for re-application",
                 obj_name(a));
}

/* FNV-1a over the drifting names: a new drift is reported once. */
static uint64_t fnv(uint64_t h, const char *s)
{
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (h ^ 0xff) * 1099511628211ull;
}

static void dry_run(const struct pv_snap *sn, struct pv_step *s, size_t n,
                    uint64_t sig, const char *names)
{
  if (sn->obs && sn->obs->sig == sig) {
    str_copy(s->why, "drift already reported", sizeof(s->why));
    return;
  }
  s->action = PV_REPORT;
  s->sig = sig;
  str_copy(s->why, "quota drift (flag off)", sizeof(s->why));
  plan_event_set(&s->event, "Warning", "ValidationDryRun",
                 "%zu account(s) with quotas differing from the pool's: %s "
                 "(feature.accountpool_validation is off)",
                 n, names);
}

int pv_plan(const struct pv_snap *sn, struct pv_step *s)
{
  const struct opcfg_pool *p;
  char names[200] = "";
  uint64_t sig = 0;
  size_t i, n = 0;

  pv_step_init(s);
  if (!sn || !sn->pool)
    return OP_EINVAL;
  if (obj_deleting(sn->pool) || obj_paused(sn->pool) || !sn->cfg) {
    str_copy(s->why, "deleting, paused or no configmap", sizeof(s->why));
    return 0;
  }
  p = opcfg_pool(sn->cfg, obj_name(sn->pool));
  if (!p) {
    str_copy(s->why, "pool not in the configmap", sizeof(s->why));
    return 0;
  }
  for (i = 0; i < sn->naccounts; i++) {
    const json_t *a = sn->accounts[i];
    bool fix = sn->cfg->feat_accountpool_validation;

    if (!member(sn, a))
      continue;
    if (!pv_quotas_equal(a, p)) {
      if (fix) {
        update(s, a, p);
        return 0;
      }
      n++;
      sig ^= fnv(1469598103934665603ull, obj_name(a));
      if (strlen(names) + strlen(obj_name(a)) + 2 < sizeof(names))
        snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
                 names[0] ? "," : "", obj_name(a));
    } else if (fix && status_stale(a)) {
      reset(s, a);
      return 0;
    }
  }
  if (n)
    dry_run(sn, s, n, sig, names);
  else
    str_copy(s->why, "no quota drift", sizeof(s->why));
  return 0;
}
