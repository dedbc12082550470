/* Account plan: entry point, prelude (pause, zombie GC, failure mirror,
 * claim marking, timeouts) and shared helpers, in upstream's reconcile
 * order. */
#include "controllers/account/plan_int.h"

#include <string.h>

#include "controllers/common/names.h"
#include "controllers/common/obj.h"
#include "controllers/common/validate.h"
#include "util/err.h"
#include "util/str.h"

static const char *const action_names[] = {
  "done",
  "update",
  "update-status",
  "delete",
  "remove-finalizer",
  "claim-update-status",
  "recover",
  "create-account",
  "describe-create",
  "tag-account",
  "ensure-support-role",
  "ensure-iam-user",
  "attach-user-policy",
  "create-access-key-secret",
  "describe-regions",
  "region-cleanup",
  "region-launch",
  "region-terminate",
  "create-case",
  "describe-case",
  "describe-account",
  "cleanup-iam",
  "quota",
  "opt-in-region",
  "cleanup-iam-step",
  "find-case",
  "assume-check",
  "rotate-key",
  "delete-key",
  "revoke-keys",
  "key-inspect",
};

const char *acct_action_name(enum acct_action a)
{
  size_t n = sizeof(action_names) / sizeof(action_names[0]);

  return (size_t)a < n ? action_names[a] : "?";
}

void acct_step_init(struct acct_step *s)
{
  memset(s, 0, sizeof(*s));
}

void acct_step_cleanup(struct acct_step *s)
{
  json_decref(s->object_new);
  json_decref(s->tags);
  json_decref(s->work);
  memset(s, 0, sizeof(*s));
}

bool acct_state_failed(const char *st)
{
  static const char *const failed[] = {
    "Failed",
    "AccountCreationFailed",
    "AccountClientError",
    "AuthorizationError",
    "AuthenticationError",
    "UnhandledError",
    "InternalError",
  };
  size_t i;

  for (i = 0; i < sizeof(failed) / sizeof(failed[0]); i++) {
    if (str_eq(st, failed[i]))
      return true;
  }
  return false;
}

bool acct__transient(const struct acct_obs *o)
{
  return o && (o->result == OP_ETHROTTLED || o->result == OP_ETRANSIENT);
}

bool acct__retry_wait(const struct acct_snap *sn, struct acct_step *s,
                      const struct acct_obs *o, const char *why)
{
  time_t left = o->at + ACCT_TRANSIENT_RETRY_S - sn->now;

  if (left <= 0)
    return false;
  acct__done(s, (uint64_t)left * PLAN_SEC, why);
  return true;
}

void acct__done(struct acct_step *s, uint64_t ms, const char *why)
{
  s->action = ACCT_DONE;
  s->requeue_ms = ms;
  str_copy(s->why, why, sizeof(s->why));
}

void acct__cond(struct acct_step *s, const struct acct_snap *sn,
                const char *type, const char *reason, const char *msg,
                const char *state, enum cond_mode mode)
{
  s->action = ACCT_UPDATE_STATUS;
  s->object_new = cond_obj_set_new(sn->account, type, true, reason, msg, state,
                                   sn->now, mode);
  str_copy(s->why, reason, sizeof(s->why));
  if (state)
    plan_event_set(&s->event, "Normal", state, "%s", msg);
}

void acct__fail(struct acct_step *s, const struct acct_snap *sn,
                const char *ctype, const char *reason, const char *msg)
{
  acct__cond(s, sn, ctype, reason, msg, ACCT_ST_FAILED, COND_UPDATE_ALWAYS);
  plan_event_set(&s->event, "Warning", reason, "%s", msg);
}

void acct__aws(struct acct_step *s, const struct acct_snap *sn,
               enum acct_action a, const char *why)
{
  s->action = a;
  str_copy(s->account_id, obj_str0(sn->account, "spec.awsAccountID"),
           sizeof(s->account_id));
  str_copy(s->name, obj_name(sn->account), sizeof(s->name));
  str_copy(s->why, why, sizeof(s->why));
}

const struct acct_obs *acct__obs(const struct acct_snap *sn, enum acct_action a)
{
  return sn->obs && sn->obs->action == a ? sn->obs : NULL;
}

void acct__iam_suffix(const json_t *a, char out[8])
{
  const char *l = obj_label(a, OBJ_LABEL_IAM_USER_ID);

  if (!str_empty(l))
    str_copy(out, l, 8);
  else
    names_suffix_from(obj_uid(a), out);
}

json_t *acct__resource_tags_new(const struct acct_snap *sn)
{
  const json_t *a = sn->account;
  json_t *t = json_object();

  json_object_set_new(t, "clusterAccountName", json_string(obj_name(a)));
  json_object_set_new(t, "clusterNamespace", json_string(obj_namespace(a)));
  json_object_set_new(t, "clusterClaimLink",
                      json_string(obj_str0(a, "spec.claimLink")));
  json_object_set_new(t, "clusterClaimLinkNamespace",
                      json_string(obj_str0(a, "spec.claimLinkNamespace")));
  if (sn->cfg)
    json_object_update(t, sn->cfg->aws_managed_tags);
  acct__custom_tags(sn->claim, t);
  return t;
}

static bool is_zombie(const struct acct_snap *sn)
{
  const json_t *a = sn->account;
  const char *st = obj_str0(a, "status.state");
  time_t created;

  if (!obj_owner_name(a, "AccountPool") &&
      str_empty(obj_str(a, "spec.accountPool")))
    return false;
  if (obj_bool(a, "spec.byoc") || !str_empty(obj_str(a, "spec.awsAccountID")))
    return false;
  if (acct_state_failed(st))
    return true;
  /* Improvement: a CR that recorded a CreateAccount e-mail may own an AWS
   * account that is still being created; recovery handles it, never GC. */
  if (!str_empty(obj_annotation(a, ACCT_ANN_EMAIL)))
    return false;
  return str_empty(st) && obj_creation_time(a, &created) == 0 &&
         sn->now - created > ACCT_ZOMBIE_AGE_S;
}

/* Failure mirror onto the linked claim (as upstream), as its own step. */
static bool plan_mirror(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *a = sn->account, *c = sn->claim, *last = NULL, *v;
  json_t *conds, *o;
  size_t i;

  if (!c || str_empty(obj_str(a, "spec.claimLink")) ||
      cond_is_true(obj_get(c, "status.conditions"), ACCT_ST_INTERNAL_ERROR))
    return false;
  json_array_foreach(obj_get(a, "status.conditions"), i, v)
  {
    if (str_eq(obj_str(v, "status"), "True"))
      last = v;
  }
  o = obj_copy_new(c);
  conds = obj_copy_new(obj_get(c, "status.conditions"));
  if (!json_is_array(conds)) {
    json_decref(conds);
    conds = json_array();
  }
  cond_all_false(conds, sn->now);
  obj_set_new(o, "status.conditions",
              cond_upsert_new(
                  conds, ACCT_ST_INTERNAL_ERROR, true, obj_str0(last, "reason"),
                  obj_str0(last, "message"), sn->now, COND_UPDATE_ALWAYS));
  json_decref(conds);
  obj_set_str(o, "status.state", "Error");
  s->action = ACCT_CLAIM_UPDATE_STATUS;
  s->object_new = o;
  str_copy(s->why, "mirror account failure to claim", sizeof(s->why));
  plan_event_set(&s->event, "Warning", "ClaimFailed", "account %s failed: %s",
                 obj_name(a), obj_str0(last, "reason"));
  return true;
}

static bool plan_timeouts(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *a = sn->account, *conds = obj_get(a, "status.conditions");
  const char *st = obj_str0(a, "status.state");
  time_t t;

  if (str_eq(st, ACCT_ST_INIT_REGIONS)) {
    const json_t *c = cond_find(conds, ACCT_ST_INIT_REGIONS);

    if (!c || obj_time(c, "lastTransitionTime", &t) != 0) {
      acct__fail(s, sn, ACCT_ST_INTERNAL_ERROR, "MissingCondition",
                 "Account is InitializingRegions without its condition");
      return true;
    }
    if (sn->now - t > ACCT_REGION_TIMEOUT_S) {
      acct__fail(s, sn, ACCT_ST_CREATION_FAILED, "RegionInitializationTimeout",
                 "Region initialization pending for longer than 51 minutes");
      return true;
    }
  }
  if (str_eq(st, ACCT_ST_CREATING) && !obj_bool(a, "spec.byoc") &&
      obj_time(cond_find(conds, ACCT_ST_CREATING), "lastProbeTime", &t) == 0 &&
      sn->now - t > ACCT_CREATE_TIMEOUT_S) {
    acct__fail(s, sn, ACCT_ST_CREATION_FAILED, "CreationTimeout",
               "Creation pending for longer than 25 minutes");
    return true;
  }
  return false;
}

static bool plan_claimed(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *a = sn->account;
  char msg[256];

  if (obj_bool(a, "spec.byoc") ||
      !str_eq(obj_str(a, "status.state"), ACCT_ST_READY) ||
      str_empty(obj_str(a, "spec.claimLink")) || obj_bool(a, "status.claimed"))
    return false;
  str_fmt(msg, sizeof(msg), "Account %s was claimed: %s (Namespace: %s)",
          obj_name(a), obj_str0(a, "spec.claimLink"),
          obj_str0(a, "spec.claimLinkNamespace"));
  acct__cond(s, sn, ACCT_ST_CLAIMED, "AccountClaimed", msg, NULL,
             COND_UPDATE_ALWAYS);
  json_object_set_new(json_object_get(s->object_new, "status"), "claimed",
                      json_true());
  plan_event_set(&s->event, "Normal", "Claimed", "%s", msg);
  return true;
}

/* Steps 1-6 of upstream's order; true when a step was chosen. */
static bool plan_prelude(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *a = sn->account;
  const char *st = obj_str0(a, "status.state");

  if (is_zombie(sn)) {
    s->action = ACCT_DELETE;
    s->object_new = obj_copy_new(a);
    obj_remove_finalizer(s->object_new, OBJ_FINALIZER);
    str_copy(s->why, "zombie account CR", sizeof(s->why));
    plan_event_set(&s->event, "Normal", "ZombieDeleted",
                   "pool account without AWS account deleted (state %s)",
                   *st ? st : "none");
    return true;
  }
  if (acct_state_failed(st)) {
    if (!plan_mirror(sn, s))
      acct__done(s, 0, "account failed");
    return true;
  }
  return plan_timeouts(sn, s) || plan_claimed(sn, s);
}

static int plan_state(const struct acct_snap *sn, struct acct_step *s)
{
  const char *st = obj_str0(sn->account, "status.state");

  if (!*st)
    return acct__plan_create(sn, s);
  if (str_eq(st, ACCT_ST_CREATING) || str_eq(st, ACCT_ST_OPTED_IN))
    return acct__plan_bootstrap(sn, s);
  if (str_eq(st, ACCT_ST_OPTING_IN))
    return acct__plan_optin(sn, s);
  if (str_eq(st, ACCT_ST_INIT_REGIONS))
    return acct__plan_regions(sn, s);
  if (str_eq(st, ACCT_ST_PENDING_VERIFICATION))
    return acct__plan_verify(sn, s);
  if (str_eq(st, ACCT_ST_READY) &&
      (acct__plan_iam_restore(sn, s) || acct__plan_keys(sn, s) ||
       acct__plan_optin_ready(sn, s) || acct__plan_quotas_ready(sn, s)))
    return 0;
  /* a Ready account is reconciled again when its key is due */
  acct__done(s, str_eq(st, ACCT_ST_READY) ? acct__key_due_ms(sn) : 0, st);
  return 0;
}

/* Absent, null or of that JSON type. */
static bool kind_ok(const json_t *a, const char *path, json_type t)
{
  const json_t *v = obj_get(a, path);

  return !v || json_is_null(v) || json_typeof(v) == t;
}

const char *acct_invalid(const json_t *a)
{
  static const char *const strs[] = {
    "spec.awsAccountID",       "spec.iamUserSecret", "spec.claimLink",
    "spec.claimLinkNamespace", "spec.accountPool",   "spec.legalEntity.id"
  };
  const char *id = obj_str(a, "spec.awsAccountID");
  size_t i;

  if (!kind_ok(a, "spec", JSON_OBJECT) || !kind_ok(a, "status", JSON_OBJECT) ||
      !kind_ok(a, "spec.legalEntity", JSON_OBJECT))
    return "spec, status and spec.legalEntity must be objects";
  for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
    if (!kind_ok(a, strs[i], JSON_STRING))
      return "spec.awsAccountID, iamUserSecret, claimLink, claimLinkNamespace, "
             "accountPool and legalEntity.id must be strings";
  if ((obj_get(a, "spec.byoc") && !json_is_boolean(obj_get(a, "spec.byoc"))) ||
      (obj_get(a, "spec.manualSTSMode") &&
       !json_is_boolean(obj_get(a, "spec.manualSTSMode"))))
    return "spec.byoc and spec.manualSTSMode must be booleans";
  if (!str_empty(id) && !validate_account_id(id))
    return "spec.awsAccountID must be a 12-digit AWS account ID";
  return NULL;
}

/* An Account the operator cannot act on safely: Failed, once. */
static bool plan_invalid(const struct acct_snap *sn, struct acct_step *s)
{
  const char *why = acct_invalid(sn->account);

  if (!why || acct_state_failed(obj_str0(sn->account, "status.state")))
    return false;
  acct__fail(s, sn, ACCT_ST_FAILED, "InvalidAccount", why);
  return true;
}

int acct_plan(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *a;
  bool payer;

  acct_step_init(s);
  if (!sn || !sn->account)
    return OP_EINVAL;
  str_copy(s->partition, opcfg_partition(sn->cfg), sizeof(s->partition));
  a = sn->account;
  payer = opcfg_is_payer(sn->cfg, obj_str(a, "spec.awsAccountID"));
  if (obj_deleting(a)) {
    if (payer)
      acct__done(s, 0, "payer account: never acted on");
    else
      acct__plan_delete(sn, s);
    return 0;
  }
  if (obj_paused(a)) {
    acct__done(s, 0, "reconciliation paused");
    return 0;
  }
  if (plan_invalid(sn, s) || plan_prelude(sn, s))
    return 0;
  if (obj_bool(a, "spec.byoc"))
    return acct__plan_ccs(sn, s);
  if (!sn->cfg) {
    acct__done(s, 30 * PLAN_SEC, "operator configmap missing or invalid");
    return 0;
  }
  if (payer) {
    acct__done(s, 0, "payer account: never acted on");
    return 0;
  }
  if (!obj_has_finalizer(a, OBJ_FINALIZER)) {
    s->action = ACCT_UPDATE;
    s->object_new = obj_copy_new(a);
    obj_add_finalizer(s->object_new, OBJ_FINALIZER);
    str_copy(s->why, "add finalizer", sizeof(s->why));
    return 0;
  }
  return plan_state(sn, s);
}
