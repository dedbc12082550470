/* Account plan: opt-in regions (as upstream; feature.opt_in_regions),
 * tracked in status.optInRegions region -> {status} as upstream. */
#include "controllers/account/plan_int.h"

#include <stdlib.h>
#include <string.h>

#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

#define MAX_ENABLING 6
#define MAX_ACCOUNTS 9
#define POLL_S 60

static size_t open_regions(const json_t *map)
{
  const char *r;
  json_t *v;
  size_t open = 0;

  json_object_foreach((json_t *)map, r, v)
  {
    open += str_eq(obj_str(v, "status"), "ENABLING") ||
            str_eq(obj_str(v, "status"), "TODO");
  }
  return open;
}

bool acct_opting_in(const json_t *a)
{
  const char *st = obj_str0(a, "status.state");

  return str_eq(st, ACCT_ST_OPTING_IN) ||
         (str_eq(st, ACCT_ST_READY) &&
          open_regions(obj_get(a, "status.optInRegions")) > 0);
}

json_t *acct_optin_missing(const json_t *a, const struct opcfg *c)
{
  const json_t *have = obj_get(a, "status.optInRegions");
  json_t *regions = NULL, *v, *e;
  size_t i;

  if (!c || !c->feat_opt_in_regions)
    return NULL;
  json_array_foreach(c->opt_in_regions, i, v)
  {
    const char *r = json_string_value(v);

    if (!r || opcfg_region_disabled(c, r) || json_object_get(have, r))
      continue;
    if (!regions)
      regions = json_object();
    e = json_object();
    json_object_set_new(e, "status", json_string("TODO"));
    json_object_set_new(regions, r, e);
  }
  return regions;
}

bool acct__optin_seed(const struct acct_snap *sn, struct acct_step *s)
{
  const struct opcfg *c = sn->cfg;
  json_t *regions, *v;
  size_t i;

  if (!c->feat_opt_in_regions || !json_array_size(c->opt_in_regions) ||
      !str_eq(obj_str(sn->account, "status.state"), ACCT_ST_CREATING) ||
      json_object_size(obj_get(sn->account, "status.optInRegions")))
    return false;
  if (sn->accounts_opting_in >= MAX_ACCOUNTS) {
    acct__done(s, 10 * PLAN_MIN, "too many accounts opting in");
    return true;
  }
  regions = json_object();
  json_array_foreach(c->opt_in_regions, i, v)
  {
    json_t *e;

    if (opcfg_region_disabled(c, json_string_value(v)))
      continue;
    e = json_object();
    json_object_set_new(e, "status", json_string("TODO"));
    json_object_set_new(regions, json_string_value(v), e);
  }
  if (!json_object_size(regions)) {
    json_decref(regions);
    return false;
  }
  acct__cond(s, sn, ACCT_ST_OPTING_IN, "OptingInRegions",
             "Enabling opt-in regions", ACCT_ST_OPTING_IN, COND_UPDATE_ALWAYS);
  obj_set_new(s->object_new, "status.optInRegions", regions);
  return true;
}

static void record(const struct acct_snap *sn, struct acct_step *s,
                   const struct acct_obs *o)
{
  json_t *map;

  s->action = ACCT_UPDATE_STATUS;
  s->object_new = obj_copy_new(sn->account);
  map = obj_get_mut(s->object_new, "status.optInRegions");
  if (str_eq(o->optin_status, "DROP"))
    json_object_del(map, o->region);
  else
    obj_set_str(json_object_get(map, o->region), "status", o->optin_status);
  str_fmt(s->why, sizeof(s->why), "opt-in %s: %s", o->region, o->optin_status);
}

static void step(const struct acct_snap *sn, struct acct_step *s,
                 const char *region)
{
  acct__aws(s, sn, ACCT_OPT_IN_REGION, "enable opt-in region");
  str_copy(s->region, region, sizeof(s->region));
}

/* Next region to work on: a TODO one while fewer than 6 are ENABLING,
 * else the next ENABLING one after the observed region (a sweep), a new
 * sweep starting POLL_S after the last check. */
static const char *next(const struct acct_snap *sn, const json_t *map,
                        const struct acct_obs *o, size_t enabling)
{
  const char *r, *first = NULL;
  bool after = !o;
  json_t *v;

  json_object_foreach((json_t *)map, r, v)
  {
    const char *st = obj_str0(v, "status");

    if (str_eq(st, "TODO") && enabling < MAX_ENABLING)
      return r;
    if (str_eq(st, "ENABLING")) {
      if (after)
        return r;
      if (!first)
        first = r;
    }
    if (o && str_eq(r, o->region))
      after = true;
  }
  return o && sn->now - o->at >= POLL_S ? first : NULL;
}

/* Ready (upstream's (e), seeded by AccountValidation): the open regions
 * are worked as during creation, the state left as it is. */
bool acct__plan_optin_ready(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *map = obj_get(sn->account, "status.optInRegions"), *e;
  const struct acct_obs *o = acct__obs(sn, ACCT_OPT_IN_REGION);

  if (o && o->result == 0 && (e = json_object_get(map, o->region)) &&
      !str_eq(obj_str(e, "status"), o->optin_status)) {
    record(sn, s, o);
    return true;
  }
  if (!open_regions(map))
    return false;
  return acct__plan_optin(sn, s) == 0;
}

int acct__plan_optin(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *map = obj_get(sn->account, "status.optInRegions"), *v, *e;
  const struct acct_obs *o = acct__obs(sn, ACCT_OPT_IN_REGION);
  size_t enabling = 0, open = 0;
  const char *r;

  if (o && o->result == 0 && (e = json_object_get(map, o->region)) &&
      !str_eq(obj_str(e, "status"), o->optin_status)) {
    record(sn, s, o);
    return 0;
  }
  json_object_foreach((json_t *)map, r, v)
  {
    enabling += str_eq(obj_str(v, "status"), "ENABLING");
    open += str_eq(obj_str(v, "status"), "ENABLING") ||
            str_eq(obj_str(v, "status"), "TODO");
  }
  if (!open) {
    acct__cond(s, sn, ACCT_ST_OPTED_IN, "OptInRegionsEnabled",
               "Opt-in regions enabled", ACCT_ST_OPTED_IN, COND_UPDATE_ALWAYS);
    return 0;
  }
  r = next(sn, map, o, enabling);
  if (r)
    step(sn, s, r);
  else if (o && sn->now - o->at < POLL_S)
    acct__done(s, (uint64_t)(o->at + POLL_S - sn->now) * PLAN_SEC,
               "regions enabling");
  else
    acct__done(s, POLL_S * PLAN_SEC, "regions enabling");
  return 0;
}
