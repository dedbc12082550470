/* Account plan, state InitializingRegions (as upstream), as
 * status-tracked per-region work: annotation ACCT_ANN_REGIONS maps each
 * region to its phase, so a restart resumes (upstream ran a goroutine that
 * a restart lost). Regions are worked one at a time, in the recorded
 * order: every region is cleaned and launched before any instance is
 * waited for, so the instances boot in parallel. Phases other than "",
 * "clean", "done", "error:*" are instance ids. */
#include "controllers/account/plan_int.h"

#include <stdlib.h>

#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

#define TERMINATE_POLL_S 10

/* Every region launched or final ("" and "clean" are the first pass), or
 * (final) every region done or failed? */
static bool all_past(const json_t *map, bool final)
{
  const char *r;
  const json_t *v;

  json_object_foreach((json_t *)map, r, v)
  {
    const char *ph = json_string_value(v);

    if (!ph || !*ph || str_eq(ph, "clean"))
      return false;
    if (final && !str_eq(ph, "done") && !str_has_prefix(ph, "error:"))
      return false;
  }
  return true;
}

/* Durable at the end and for errors; the rest is kept in memory
 * (regions_soft): after a restart the regions start over and their
 * cleanup terminates the instances launched before (cluster tags). CCS
 * accounts also write when the first pass ends (the instance ids). */
static void set_phase(const struct acct_snap *sn, struct acct_step *s,
                      json_t *map, const char *region, const char *phase)
{
  char *txt;
  bool final = all_past(map, false) || !obj_bool(sn->account, "spec.byoc");

  json_object_set_new(map, region, json_string(phase));
  s->regions_soft = !all_past(map, final);
  txt = json_dumps(map, JSON_SORT_KEYS | JSON_COMPACT);
  s->action = ACCT_UPDATE;
  s->object_new = obj_copy_new(sn->account);
  obj_set_annotation(s->object_new, ACCT_ANN_REGIONS, txt ? txt : "{}");
  free(txt);
  str_fmt(s->why, sizeof(s->why), "region %s: %s", region, phase);
}

static void set_error(const struct acct_snap *sn, struct acct_step *s,
                      json_t *map, const char *region, const struct acct_obs *o)
{
  char ph[96];

  /* Non-CCS region failures are not fatal (upstream logs them). */
  str_fmt(ph, sizeof(ph), "error:%s",
          str_empty(o->aws_code) ? "unknown" : o->aws_code);
  set_phase(sn, s, map, region, ph);
  s->regions_soft = false;
  plan_event_set(&s->event, "Warning", "RegionInitFailed", "region %s: %s",
                 region, ph);
}

static const struct acct_obs *robs(const struct acct_snap *sn,
                                   enum acct_action a, const char *region)
{
  const struct acct_obs *o = acct__obs(sn, a);

  return o && str_eq(o->region, region) ? o : NULL;
}

static void aws_region(const struct acct_snap *sn, struct acct_step *s,
                       enum acct_action a, const char *region)
{
  acct__aws(s, sn, a, acct_action_name(a));
  str_copy(s->region, region, sizeof(s->region));
  s->tags = acct__resource_tags_new(sn);
  json_object_set_new(s->tags, "Name", json_string("red-hat-region-init"));
}

static void work_clean(const struct acct_snap *sn, struct acct_step *s,
                       json_t *map, const char *r)
{
  const struct acct_obs *o = robs(sn, ACCT_REGION_LAUNCH, r);

  if (o && o->result == 0 && !str_empty(o->instance_id)) {
    set_phase(sn, s, map, r, o->instance_id);
  } else if (o && (str_eq(o->aws_code, "OptInRequired") ||
                   str_eq(o->aws_code, "PendingVerification"))) {
    if (sn->now - o->at < 60)
      acct__done(s, PLAN_MIN, "region not yet usable");
    else
      aws_region(sn, s, ACCT_REGION_LAUNCH, r);
  } else if (acct__transient(o) &&
             acct__retry_wait(sn, s, o, "region launch retry wait")) {
    return;
  } else if (o && !acct__transient(o)) {
    set_error(sn, s, map, r, o);
  } else {
    aws_region(sn, s, ACCT_REGION_LAUNCH, r);
    str_copy(s->ami_owner, sn->cfg->ami_owner, sizeof(s->ami_owner));
    s->quota_vcpu = sn->cfg->has_quota_vcpu ? sn->cfg->quota_vcpu : 0;
  }
}

static void work_region(const struct acct_snap *sn, struct acct_step *s,
                        json_t *map, const char *r, const char *ph)
{
  const struct acct_obs *o;

  if (!*ph) {
    o = robs(sn, ACCT_REGION_CLEANUP, r);
    if (!o && sn->fresh && !json_object_get(sn->fresh_launched, r))
      set_phase(sn, s, map, r, "clean"); /* nothing launched there yet */
    else if (o && o->result == 0)
      set_phase(sn, s, map, r, o->hanging > 0 ? "done" : "clean");
    else if (acct__transient(o) &&
             acct__retry_wait(sn, s, o, "region cleanup retry wait"))
      return;
    else if (o && !acct__transient(o))
      set_error(sn, s, map, r, o);
    else
      aws_region(sn, s, ACCT_REGION_CLEANUP, r);
  } else if (str_eq(ph, "clean")) {
    work_clean(sn, s, map, r);
  } else {
    o = robs(sn, ACCT_REGION_TERMINATE, r);
    if (o && o->result == 0 && o->instance_done) {
      set_phase(sn, s, map, r, "done");
    } else if (o && o->result < 0 && !acct__transient(o)) {
      set_error(sn, s, map, r, o);
    } else if (o && sn->now - o->at < TERMINATE_POLL_S) {
      acct__done(s, TERMINATE_POLL_S * PLAN_SEC, "instance not yet running");
    } else {
      aws_region(sn, s, ACCT_REGION_TERMINATE, r);
      str_copy(s->instance_id, ph, sizeof(s->instance_id));
    }
  }
}

static void finish(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *conds = obj_get(sn->account, "status.conditions");

  if (cond_find(conds, ACCT_ST_READY))
    acct__cond(s, sn, ACCT_ST_READY, "Ready", "Account ready to be claimed",
               ACCT_ST_READY, COND_UPDATE_ALWAYS);
  else if (!acct__plan_case_early(sn, s))
    acct__cond(s, sn, ACCT_ST_PENDING_VERIFICATION, "PendingVerification",
               "Verification pending (Enterprise Support)",
               ACCT_ST_PENDING_VERIFICATION, COND_UPDATE_ALWAYS);
}

int acct__plan_regions(const struct acct_snap *sn, struct acct_step *s)
{
  const char *txt = obj_annotation(sn->account, ACCT_ANN_REGIONS);
  json_t *map = !txt              ? NULL
                : sn->regions_mem ? json_deep_copy(sn->regions_mem)
                                  : json_loads(txt, 0, NULL),
         *v;
  const char *r;
  int pass;

  if (!json_is_object(map) || sn->cfg->fedramp) {
    json_decref(map);
    if (!sn->cfg->fedramp && obj_bool(sn->account, "spec.byoc"))
      return acct__ccs_region_list(sn, s);
    if (!sn->cfg->fedramp)
      return acct__plan_region_list(sn, s);
    if (obj_bool(sn->account, "spec.byoc"))
      acct__ccs_finish(sn, s, NULL);
    else
      finish(sn, s); /* GovCloud is bring-your-own-VPC: nothing to init */
    return 0;
  }
  /* Pass 0 cleans and launches everywhere first, pass 1 then waits for
   * and terminates the instances: regions progress in parallel. */
  for (pass = 0; pass < 2; pass++) {
    json_object_foreach(map, r, v)
    {
      const char *ph = json_string_value(v);
      bool launched = ph && str_has_prefix(ph, "i-");

      if (!ph || str_eq(ph, "done") || str_has_prefix(ph, "error:") ||
          launched != (pass == 1))
        continue;
      work_region(sn, s, map, r, ph);
      json_decref(map);
      return 0;
    }
  }
  if (obj_bool(sn->account, "spec.byoc"))
    acct__ccs_finish(sn, s, map);
  else
    finish(sn, s);
  json_decref(map);
  return 0;
}
