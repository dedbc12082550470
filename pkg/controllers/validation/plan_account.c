/* AccountValidation plan (see plan.h). */
#include "controllers/validation/plan.h"

#include <stdio.h>
#include <string.h>

#include "controllers/account/plan.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"

/* After a failed call: upstream requeues a failed move after 5 minutes. */
#define ERR_WAIT_S (5 * 60)

const char *val_action_name(enum val_action a)
{
  static const char *const n[] = { "done", "delete", "read",  "move",
                                   "tag",  "report", "scrub", "seed" };

  return (unsigned)a < VAL_NACTIONS ? n[a] : "?";
}

void val_step_init(struct val_step *s)
{
  memset(s, 0, sizeof(*s));
}

void val_step_cleanup(struct val_step *s)
{
  json_decref(s->tags);
  json_decref(s->object_new);
  memset(s, 0, sizeof(*s));
}

static void done(struct val_step *s, time_t wait_s, const char *why)
{
  s->action = VAL_DONE;
  s->requeue_ms = wait_s > 0 ? (uint64_t)wait_s * PLAN_SEC : 0;
  str_copy(s->why, why, sizeof(s->why));
}

json_t *val_desired_tags(const struct opcfg *c)
{
  json_t *t;

  if (!c || !c->has_shard_name || str_empty(c->shard_name))
    return NULL;
  t = json_object();
  json_object_set_new(t, "owner", json_string(c->shard_name));
  if (c->feat_compliance_tags) {
    json_object_set_new(t, "app-code", json_string(c->app_code));
    json_object_set_new(t, "service-phase", json_string(c->service_phase));
    json_object_set_new(t, "cost-center", json_string(c->cost_center));
  }
  return t;
}

/* One pass over the fleet (plan.h): the period, or the time the fleet's
 * reads take at VAL_READS_PER_S. */
static time_t period_s(const struct val_snap *sn)
{
  time_t p = (time_t)(sn->period_ms / PLAN_SEC);
  time_t need =
      (time_t)((sn->naccounts + VAL_READS_PER_S - 1) / VAL_READS_PER_S);

  if (p < need)
    p = need;
  return p > 0 ? p : 1;
}

static void plan_failed(const struct val_snap *sn, struct val_step *s)
{
  const json_t *a = sn->account;

  if (sn->cfg->feat_validation_delete_account) {
    s->action = VAL_DELETE;
    s->target_ns = obj_namespace(a);
    s->target_name = obj_name(a);
    str_copy(s->why, "failed account without AWS account", sizeof(s->why));
    plan_event_set(&s->event, "Normal", "FailedAccountDeleted",
                   "Failed account with no AWS account ID deleted");
    return;
  }
  if (sn->obs && sn->obs->action == VAL_REPORT) {
    done(s, 0, "failed account reported");
    return;
  }
  s->action = VAL_REPORT;
  str_copy(s->why, "failed account (delete flag off)", sizeof(s->why));
  plan_event_set(&s->event, "Warning", "ValidationDryRun",
                 "would delete this Failed account with no AWS account ID "
                 "(feature.validation_delete_account is off)");
}

static void plan_read(const struct val_snap *sn, struct val_step *s)
{
  const char *le = obj_str(sn->account, "spec.legalEntity.id");
  const struct opcfg *c = sn->cfg;

  s->action = VAL_READ;
  str_copy(s->account_id, obj_str(sn->account, "spec.awsAccountID"),
           sizeof(s->account_id));
  if (str_empty(le)) {
    str_copy(s->root, c->root ? c->root : "", sizeof(s->root));
  } else if (c->base) {
    str_copy(s->base, c->base, sizeof(s->base));
    str_copy(s->ou_name, le, sizeof(s->ou_name));
  }
  s->read_tags = c->has_shard_name && !str_empty(c->shard_name);
  str_copy(s->why, "validation period", sizeof(s->why));
}

/* Tags of want that the read tags lack or hold with another value (new
 * reference, NULL when none). */
static json_t *tag_diff(const json_t *want, const json_t *have)
{
  json_t *d = NULL, *v;
  const char *k;

  json_object_foreach((json_t *)want, k, v)
  {
    const char *cur = json_string_value(json_object_get(have, k));

    if (cur && str_eq(cur, json_string_value(v)))
      continue;
    if (!d)
      d = json_object();
    json_object_set(d, k, v);
  }
  return d;
}

static void tags_text(const json_t *t, char *out, size_t n)
{
  const char *k;
  json_t *v;
  size_t len = 0;

  out[0] = '\0';
  json_object_foreach((json_t *)t, k, v)
  {
    int w = snprintf(out + len, n - len, "%s%s=%s", len ? "," : "", k,
                     json_string_value(v));

    if (w < 0 || (size_t)w >= n - len)
      break;
    len += (size_t)w;
  }
}

/* The Event of a REPORT: what the flags kept from being repaired. */
static void report(const struct val_snap *sn, struct val_step *s, bool move,
                   const json_t *diff)
{
  const struct val_obs *o = sn->obs;
  char ou[200] = "", tg[200] = "", tags[128];

  if (o->expected_missing)
    str_fmt(ou, sizeof(ou), "expected OU %s not found under %s; ",
            obj_str0(sn->account, "spec.legalEntity.id"), sn->cfg->base);
  else if (move)
    str_fmt(ou, sizeof(ou),
            "would move it from %s to %s "
            "(feature.validation_move_account is off); ",
            o->parent_id, o->expected_id);
  if (diff) {
    tags_text(diff, tags, sizeof(tags));
    str_fmt(tg, sizeof(tg),
            "would set tags %s (feature.validation_tag_account is off)", tags);
  }
  s->action = VAL_REPORT;
  str_copy(s->why, "drift not repaired (flags off)", sizeof(s->why));
  plan_event_set(&s->event, "Warning", "ValidationDryRun", "%s%s", ou, tg);
}

/* A fresh READ (or its REPORT): repair, report, or wait for the period. */
static void plan_drift(const struct val_snap *sn, struct val_step *s)
{
  const struct val_obs *o = sn->obs;
  const struct opcfg *c = sn->cfg;
  json_t *want = o->tags_read ? val_desired_tags(c) : NULL;
  json_t *diff = want ? tag_diff(want, sn->obs_tags) : NULL;
  bool misplaced = o->expected_id[0] && !str_eq(o->parent_id, o->expected_id);

  json_decref(want);
  str_copy(s->account_id, obj_str(sn->account, "spec.awsAccountID"),
           sizeof(s->account_id));
  if (misplaced && c->feat_validation_move_account) {
    s->action = VAL_MOVE;
    str_copy(s->src_parent, o->parent_id, sizeof(s->src_parent));
    str_copy(s->dst_parent, o->expected_id, sizeof(s->dst_parent));
    str_copy(s->why, "account in the wrong OU", sizeof(s->why));
    plan_event_set(&s->event, "Normal", "AccountMoved",
                   "moved from %s back to %s", o->parent_id, o->expected_id);
  } else if (diff && c->feat_validation_tag_account) {
    char t[128];

    s->action = VAL_TAG;
    s->tags = json_incref(diff);
    tags_text(diff, t, sizeof(t));
    str_copy(s->why, "account tags drifted", sizeof(s->why));
    plan_event_set(&s->event, "Normal", "AccountTagged", "tags set: %s", t);
  } else if ((misplaced || o->expected_missing || diff) &&
             o->action == VAL_READ) {
    report(sn, s, misplaced, diff);
  } else {
    done(s, o->read_at + period_s(sn) - sn->now, "validated");
  }
  json_decref(diff);
}

/* Upstream's (f) starts by removing the quotas of disabled regions from
 * status (only with a shard-name key, as (d)-(f)). */
static bool plan_scrub(const struct val_snap *sn, struct val_step *s)
{
  const json_t *rq = obj_get(sn->account, "status.regionalServiceQuotas");
  json_t *m;
  const char *r;
  void *tmp;

  if (!sn->cfg->has_shard_name)
    return false;
  json_object_foreach((json_t *)rq, r, m)
  {
    if (opcfg_region_disabled(sn->cfg, r))
      break;
  }
  if (!r)
    return false;
  s->action = VAL_SCRUB;
  s->object_new = obj_copy_new(sn->account);
  rq = obj_get(s->object_new, "status.regionalServiceQuotas");
  json_object_foreach_safe((json_t *)rq, tmp, r, m)
  {
    if (opcfg_region_disabled(sn->cfg, r))
      json_object_del((json_t *)rq, r);
  }
  str_copy(s->why, "quotas of disabled regions in status", sizeof(s->why));
  plan_event_set(&s->event, "Normal", "DisabledRegionsScrubbed",
                 "service quotas of disabled regions removed from status");
  return true;
}

/* Upstream's (e) and the rest of (f): entries added, the Account
 * controller works them (plan.h). */
/* Would the status quota maps be filled? Tried on a shallow copy of
 * status (acct_quotas_fill sets top-level keys only): a steady account
 * needs no copy of the whole object per plan. */
static bool quotas_missing(const json_t *account, const struct opcfg *c)
{
  json_t *probe = json_copy(json_object_get(account, "status"));
  bool r = acct_quotas_fill(account, c, probe);

  json_decref(probe);
  return r;
}

static bool plan_seed(const struct val_snap *sn, struct val_step *s)
{
  const struct opcfg *c = sn->cfg;
  json_t *o, *st, *missing = NULL, *have, *v;
  bool regions = false, quotas;
  const char *r;

  if (!c->has_shard_name)
    return false;
  if (c->feat_opt_in_regions && json_array_size(c->opt_in_regions) &&
      (acct_opting_in(sn->account) || sn->accounts_opting_in < 9))
    missing = acct_optin_missing(sn->account, c);
  if (!missing && !quotas_missing(sn->account, c))
    return false;
  o = obj_copy_new(sn->account);
  st = json_object_get(o, "status");
  if (missing) {
    have = json_object_get(st, "optInRegions");
    if (!json_is_object(have)) {
      have = json_object();
      json_object_set_new(st, "optInRegions", have);
    }
    json_object_foreach(missing, r, v)
    {
      json_object_set(have, r, v);
    }
    json_decref(missing);
    regions = true;
  }
  quotas = acct_quotas_fill(sn->account, c, st);
  if (!regions && !quotas) {
    json_decref(o);
    return false;
  }
  s->action = VAL_SEED;
  s->object_new = o;
  str_fmt(s->why, sizeof(s->why), "%s%s%s",
          regions ? "opt-in regions missing" : "",
          regions && quotas ? ", " : "", quotas ? "status quotas missing" : "");
  plan_event_set(&s->event, "Normal", "ValidationSeeded",
                 "%s%s%s to be applied to the Ready account",
                 regions ? "opt-in regions" : "",
                 regions && quotas ? " and " : "",
                 quotas ? "service quotas" : "");
  return true;
}

/* The first read of a key: spread over the pass; an account this process
 * asked CreateAccount for (requested at or after its start) got its tags
 * in that call and sits where AWS put it: it counts as read then. */
static time_t first_read_due(const struct val_snap *sn, time_t p)
{
  const char *v = obj_annotation(sn->account, ACCT_ANN_REQUESTED_AT);
  time_t at;

  if (v && time_parse_rfc3339(v, &at) == 0 && at >= sn->start)
    return at + p;
  return sn->start + (time_t)(sn->phase * (double)p);
}

static void plan_ready(const struct val_snap *sn, struct val_step *s)
{
  const struct val_obs *o = sn->obs;
  time_t p = period_s(sn), wait = ERR_WAIT_S < p ? ERR_WAIT_S : p;

  if (!o) {
    time_t due = first_read_due(sn, p);

    if (sn->now < due)
      done(s, due - sn->now, "first validation spread over the pass");
    else
      plan_read(sn, s);
    return;
  }
  if (o->result < 0 && sn->now < o->at + wait) {
    done(s, o->at + wait - sn->now, "retry wait after a failed call");
    return;
  }
  if (o->result < 0 || o->action == VAL_MOVE || o->action == VAL_TAG ||
      !o->read_at || sn->now >= o->read_at + p) {
    plan_read(sn, s);
    return;
  }
  plan_drift(sn, s);
}

int val_plan(const struct val_snap *sn, struct val_step *s)
{
  const json_t *a;
  const char *id;

  val_step_init(s);
  if (!sn || !sn->account)
    return OP_EINVAL;
  a = sn->account;
  id = obj_str(a, "spec.awsAccountID");
  if (obj_deleting(a) || obj_paused(a)) {
    done(s, 0, "deleting or paused");
    return 0;
  }
  if (!sn->cfg) {
    done(s, 30, "operator configmap missing or invalid");
    return 0;
  }
  if (acct_state_failed(obj_str0(a, "status.state")) && str_empty(id)) {
    plan_failed(sn, s);
    return 0;
  }
  if (!str_eq(obj_str0(a, "status.state"), ACCT_ST_READY) ||
      obj_bool(a, "spec.byoc") || str_empty(id)) {
    done(s, 0, "not a Ready non-CCS account");
    return 0;
  }
  if (opcfg_is_payer(sn->cfg, id)) {
    done(s, 0, "payer account: never acted on");
    return 0;
  }
  if (!plan_scrub(sn, s) && !plan_seed(sn, s))
    plan_ready(sn, s);
  return 0;
}
