/* AccountClaim plan: deletion, cleanup of every region, reuse or failure
 * (as upstream, close-on-release aside), and fake claims. */
#include "controllers/accountclaim/plan_int.h"

#include <stdlib.h>

#include "controllers/account/plan.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

void claim__remove_finalizer(const struct claim_snap *sn, struct claim_step *s,
                             const char *why)
{
  s->action = CLAIM_REMOVE_FINALIZER;
  s->object_new = obj_copy_new(sn->claim);
  obj_remove_finalizer(s->object_new, OBJ_FINALIZER);
  str_copy(s->why, why, sizeof(s->why));
}

/* First region of spec.aws.regions not yet marked done, or NULL. */
static const char *next_region(const struct claim_snap *sn, json_t *done)
{
  const json_t *regions = obj_get(sn->claim, "spec.aws.regions"), *r;
  size_t i;

  /* no regions: the partition's (us-gov-west-1 in FedRAMP) */
  if (!json_array_size(regions)) {
    const char *def = opcfg_global_region(sn->cfg);
    return json_object_get(done, def) ? NULL : def;
  }
  json_array_foreach(regions, i, r)
  {
    const char *n = obj_str(r, "name");

    if (!str_empty(n) && !json_object_get(done, n))
      return n;
  }
  return NULL;
}

static void mark_done(const struct claim_snap *sn, struct claim_step *s,
                      json_t *done, const char *region)
{
  char *txt;

  json_object_set_new(done, region, json_string("done"));
  txt = json_dumps(done, JSON_SORT_KEYS | JSON_COMPACT);
  s->action = CLAIM_UPDATE;
  s->object_new = obj_copy_new(sn->claim);
  obj_set_annotation(s->object_new, CLAIM_ANN_CLEANUP, txt ? txt : "{}");
  free(txt);
  str_fmt(s->why, sizeof(s->why), "region %s cleaned", region);
}

static void reuse_failed(const struct claim_snap *sn, const json_t *a,
                         struct claim_step *s)
{
  s->action = CLAIM_ACCOUNT_UPDATE_STATUS;
  s->object_new = cond_obj_set_new(a, ACCT_ST_FAILED, true, "ReuseFailed",
                                   "Account Reuse - Failed", ACCT_ST_FAILED,
                                   sn->now, COND_UPDATE_ALWAYS);
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->why, "reuse cleanup failed", sizeof(s->why));
  plan_event_set(&s->event, "Warning", "ReuseFailed",
                 "cleanup of account %s failed; account marked Failed",
                 obj_name(a));
}

static void reuse_status(const struct claim_snap *sn, const json_t *a,
                         struct claim_step *s)
{
  json_t *o = cond_obj_set_new(a, "Reused", true, "AccountReused",
                               "Account Reuse - Ready", ACCT_ST_READY, sn->now,
                               COND_UPDATE_ALWAYS);
  json_t *st = json_object_get(o, "status");

  json_object_set_new(st, "claimed", json_false());
  json_object_set_new(st, "reused", json_true());
  json_object_set_new(st, "rotateCredentials", json_true());
  json_object_set_new(st, "rotateConsoleCredentials", json_true());
  json_object_del(st, "supportCaseID");
  json_object_del(st, "regionalServiceQuotas");
  json_object_del(st, "globalServiceQuotas");
  s->action = CLAIM_ACCOUNT_UPDATE_STATUS;
  s->object_new = o;
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->why, "account returned to the pool", sizeof(s->why));
  plan_event_set(&s->event, "Normal", "AccountReused",
                 "account %s cleaned and returned to the pool", obj_name(a));
}

/* The claim's uid on the Account (ACCT_ANN_RELEASED, written with the
 * unlink): its release cleaned it, the last region included, which
 * CLAIM_ANN_CLEANUP then does not list (one claim write fewer). */
static bool released_by_us(const struct claim_snap *sn, const json_t *a)
{
  const char *uid = obj_str(sn->claim, "metadata.uid");

  return !str_empty(uid) && str_eq(obj_annotation(a, ACCT_ANN_RELEASED), uid);
}

static void unlink_account(const struct claim_snap *sn, const json_t *a,
                           struct claim_step *s)
{
  const char *uid = obj_str(sn->claim, "metadata.uid");

  s->action = CLAIM_ACCOUNT_UPDATE;
  s->object_new = obj_copy_new(a);
  obj_set_str(s->object_new, "spec.claimLink", "");
  obj_set_str(s->object_new, "spec.claimLinkNamespace", "");
  if (!str_empty(uid))
    obj_set_annotation(s->object_new, ACCT_ANN_RELEASED, uid);
  else /* an older release's uid must not name this one */
    obj_del_annotation(s->object_new, ACCT_ANN_RELEASED);
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->why, "unlink account (legal entity kept)", sizeof(s->why));
}

/* Every region cleaned: unlink (spec), then reset status, then done. */
static int plan_cleaned(const struct claim_snap *sn, const json_t *a,
                        struct claim_step *s)
{
  const char *link = obj_str(a, "spec.claimLink");

  if (str_eq(link, obj_name(sn->claim))) {
    if (!claim__plan_close(sn, a, s))
      unlink_account(sn, a, s);
    return 0;
  }
  if (!str_empty(link)) {
    /* another claim took it after our unlink: its status is not ours */
    claim__remove_finalizer(sn, s, "account already linked again");
    return 0;
  }
  if (obj_bool(a, "status.claimed") || !obj_bool(a, "status.reused")) {
    reuse_status(sn, a, s);
    return 0;
  }
  claim__remove_finalizer(sn, s, "account reused");
  return 0;
}

/* One stage of a region's cleanup: the first, or the one the previous
 * stage left next. */
static void clean_stage(const struct claim_snap *sn, const json_t *a,
                        struct claim_step *s, const char *region,
                        const struct claim_obs *o)
{
  s->action = CLAIM_CLEANUP_REGION;
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->account_id, obj_str0(a, "spec.awsAccountID"),
           sizeof(s->account_id));
  str_copy(s->region, region, sizeof(s->region));
  str_copy(s->stage, o ? o->next_stage : claim_cleanup_next(""),
           sizeof(s->stage));
  s->region_started = o ? o->region_started : sn->now;
  str_fmt(s->why, sizeof(s->why), "clean region %s: %s", region, s->stage);
}

/* r is the last region to clean and the unlink comes next (no close on
 * release, which needs the mark: its own steps replace the observation),
 * so the unlink's ACCT_ANN_RELEASED can record it instead of a claim
 * write. Without a uid (never on a served object) the mark is written. */
static bool last_region(const struct claim_snap *sn, json_t *done,
                        const char *r, const json_t *a)
{
  bool last;

  if (str_empty(obj_str(sn->claim, "metadata.uid")) ||
      !claim__reserved(sn, a) || claim__close_wanted(sn->cfg))
    return false;
  json_object_set_new(done, r, json_string("done"));
  last = !next_region(sn, done);
  json_object_del(done, r);
  return last;
}

static int plan_cleanup(const struct claim_snap *sn, const json_t *a,
                        struct claim_step *s)
{
  const char *txt = obj_annotation(sn->claim, CLAIM_ANN_CLEANUP);
  json_t *done = txt ? json_loads(txt, 0, NULL) : NULL;
  const struct claim_obs *o = claim__obs(sn, CLAIM_CLEANUP_REGION);
  const char *r;

  if (!json_is_object(done)) {
    json_decref(done);
    done = json_object();
  }
  r = released_by_us(sn, a) ? NULL : next_region(sn, done);
  if (!r) {
    json_decref(done);
    return plan_cleaned(sn, a, s);
  }
  if (o && !str_eq(o->region, r))
    o = NULL; /* about another region */
  if (o && o->result == 0 && str_empty(o->next_stage) &&
      last_region(sn, done, r, a))
    unlink_account(sn, a, s); /* it records the region too */
  else if (o && o->result == 0 && str_empty(o->next_stage))
    mark_done(sn, s, done, r);
  else if (o && o->result < 0)
    reuse_failed(sn, a, s);
  else
    clean_stage(sn, a, s, r, o);
  json_decref(done);
  return 0;
}

/* Every region cleaned: the unlink that follows is ours. */
static bool cleanup_finished(const struct claim_snap *sn, const json_t *a)
{
  const char *txt = obj_annotation(sn->claim, CLAIM_ANN_CLEANUP);
  json_t *done = txt ? json_loads(txt, 0, NULL) : NULL;
  bool fin =
      released_by_us(sn, a) || (json_is_object(done) && !next_region(sn, done));

  json_decref(done);
  return fin;
}

int claim__plan_delete(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *c = sn->claim, *a;
  const char *link = obj_str(c, "spec.accountLink");

  if (!obj_has_finalizer(c, OBJ_FINALIZER)) {
    claim__done(s, 0, "deleting, no finalizer of ours");
    return 0;
  }
  if (obj_finalizer_count(c) > 1) {
    claim__done(s, 0, "waiting for other finalizers");
    return 0;
  }
  if (str_empty(link)) {
    claim__remove_finalizer(sn, s, "no linked account");
    return 0;
  }
  a = claim__account(sn, link);
  if (!a && str_eq(obj_annotation(c, CLAIM_ANN_CLOSED), "true")) {
    claim__remove_finalizer(sn, s, "account closed and deleted");
    return 0;
  }
  if (a && str_eq(obj_annotation(c, CLAIM_ANN_CLOSED), "true")) {
    if (obj_deleting(a))
      claim__done(s, 0, "waiting for the closed account CR to go");
    else
      claim__plan_close(sn, a, s);
    return 0;
  }
  if (!a || obj_bool(a, "spec.byoc") || obj_bool(a, "spec.manualSTSMode")) {
    claim__remove_finalizer(sn, s,
                            a ? "CCS/STS account" : "linked account gone");
    if (!a)
      plan_event_set(&s->event, "Warning", "AccountMissing",
                     "linked account %s not found", link);
    return 0;
  }
  if (!claim__reserved(sn, a) && !cleanup_finished(sn, a)) {
    /* linked on the claim's side only (its reservation lost a race or
     * never came): the account is not ours to clean */
    claim__remove_finalizer(sn, s, "linked account never reserved");
    return 0;
  }
  if (opcfg_is_payer(sn->cfg, obj_str(a, "spec.awsAccountID"))) {
    claim__done(s, 0, "payer account: never cleaned");
    plan_event_set(&s->event, "Warning", "PayerAccount",
                   "linked account is a payer account; not cleaned");
    return 0;
  }
  if (acct_state_failed(obj_str(a, "status.state"))) {
    claim__remove_finalizer(sn, s, "account failed; left for operators");
    return 0;
  }
  if (claim__plan_fleet_delete(sn, a, s))
    return 0;
  return plan_cleanup(sn, a, s);
}

int claim__plan_fake(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *c = sn->claim;

  if (!claim__secret_known(sn, s))
    return 0; /* every branch but one reads it */
  if (obj_deleting(c)) {
    if (!obj_has_finalizer(c, OBJ_FINALIZER)) {
      claim__done(s, 0, "fake claim deleted");
    } else if (sn->secret_exists) {
      s->action = CLAIM_DELETE_SECRET;
      claim__secret_dest(sn, s);
      str_copy(s->why, "delete fake Secret", sizeof(s->why));
    } else {
      claim__remove_finalizer(sn, s, "fake claim deleted");
    }
    return 0;
  }
  if (!obj_has_finalizer(c, OBJ_FINALIZER)) {
    s->action = CLAIM_UPDATE;
    s->object_new = obj_copy_new(c);
    obj_add_finalizer(s->object_new, OBJ_FINALIZER);
    str_copy(s->why, "add finalizer", sizeof(s->why));
  } else if (claim_invalid(c)) {
    if (str_eq(obj_str(c, "status.state"), "Error"))
      claim__done(s, 0, "invalid claim");
    else
      claim__status(s, sn, "InvalidAccountClaim", "InvalidAccountClaim",
                    claim_invalid(c), "Error");
  } else if (!sn->secret_exists) {
    s->action = CLAIM_WRITE_FAKE_SECRET;
    claim__secret_dest(sn, s);
    str_copy(s->why, "write fake Secret", sizeof(s->why));
  } else if (!str_eq(obj_str(c, "status.state"), "Ready")) {
    claim__status(s, sn, "Claimed", "AccountClaimed",
                  "Fake account claim fulfilled", "Ready");
  } else {
    claim__done(s, 0, "fake claim ready");
  }
  return 0;
}
