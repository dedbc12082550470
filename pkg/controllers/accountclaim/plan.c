/* AccountClaim plan: prelude, validation, Pending and account selection. */
#include "controllers/accountclaim/plan_int.h"

#include <string.h>

#include "controllers/account/plan.h"
#include "controllers/common/obj.h"
#include "controllers/common/validate.h"
#include "util/err.h"
#include "util/str.h"

static const char *const action_names[] = {
  "done",           "update",
  "update-status",  "remove-finalizer",
  "account-update", "account-update-status",
  "ensure-ou",      "move-account",
  "write-secret",   "write-fake-secret",
  "delete-secret",  "cleanup-region",
  "close-account",  "account-delete",
  "create-account", "byoc-finalizer",
};

const char *claim_action_name(enum claim_action a)
{
  size_t n = sizeof(action_names) / sizeof(action_names[0]);

  if (a >= CLAIM_FLEET_ENSURE_ROLE && a <= CLAIM_FLEET_DELETE_ROLE)
    return claim__fleet_action_name(a);
  return (size_t)a < n ? action_names[a] : "?";
}

void claim_step_init(struct claim_step *s)
{
  memset(s, 0, sizeof(*s));
}

void claim_step_cleanup(struct claim_step *s)
{
  json_decref(s->object_new);
  memset(s, 0, sizeof(*s));
}

void claim__done(struct claim_step *s, uint64_t ms, const char *why)
{
  s->action = CLAIM_DONE;
  s->requeue_ms = ms;
  str_copy(s->why, why, sizeof(s->why));
}

void claim__status(struct claim_step *s, const struct claim_snap *sn,
                   const char *type, const char *reason, const char *msg,
                   const char *state)
{
  s->action = CLAIM_UPDATE_STATUS;
  s->object_new = cond_obj_set_new(sn->claim, type, true, reason, msg, state,
                                   sn->now, COND_UPDATE_ALWAYS);
  str_copy(s->why, reason, sizeof(s->why));
  plan_event_set(&s->event, str_eq(state, "Error") ? "Warning" : "Normal", type,
                 "%s", msg);
}

const char *claim_cleanup_next(const char *stage)
{
  /* images before snapshots: DeleteSnapshot of an image's snapshot fails
   * with InvalidSnapshot.InUse */
  static const char *const stages[] = { "images",  "snapshots", "volumes",
                                        "buckets", "vpce",      "zones" };
  size_t i, n = sizeof(stages) / sizeof(stages[0]);

  if (!stage || !stage[0])
    return stages[0];
  for (i = 0; i + 1 < n; i++)
    if (!strcmp(stage, stages[i]))
      return stages[i + 1];
  return "";
}

bool claim__secret_known(const struct claim_snap *sn, struct claim_step *s)
{
  if (!sn->secret_unknown)
    return true;
  s->need_secret = true;
  claim__done(s, 0, "credentials Secret not read yet");
  return false;
}

const struct claim_obs *claim__obs(const struct claim_snap *sn,
                                   enum claim_action a)
{
  return sn->obs && sn->obs->action == a ? sn->obs : NULL;
}

const json_t *claim__account(const struct claim_snap *sn, const char *name)
{
  size_t i;

  if (sn->account_named)
    return sn->account_named(sn->account_arg, name);
  for (i = 0; i < sn->naccounts; i++) {
    if (str_eq(obj_name(sn->accounts[i]), name))
      return sn->accounts[i];
  }
  return NULL;
}

void claim__secret_dest(const struct claim_snap *sn, struct claim_step *s)
{
  const char *ns = obj_str(sn->claim, "spec.awsCredentialSecret.namespace");

  str_copy(s->secret_name, obj_str0(sn->claim, "spec.awsCredentialSecret.name"),
           sizeof(s->secret_name));
  str_copy(s->secret_namespace, str_empty(ns) ? obj_namespace(sn->claim) : ns,
           sizeof(s->secret_namespace));
}

/* revoking: true = also an account whose previous tenant's keys are still
 * being revoked. */
static bool claimable(const struct claim_snap *sn, const json_t *a,
                      bool revoking)
{
  const json_t *c = sn->claim;

  if (obj_paused(a) || obj_deleting(a) || obj_bool(a, "spec.byoc") ||
      !str_eq(obj_str(a, "status.state"), ACCT_ST_READY) ||
      obj_bool(a, "status.claimed") || !str_empty(obj_str(a, "spec.claimLink")))
    return false;
  if (!opcfg_pool_match(sn->cfg, obj_str(a, "spec.accountPool"),
                        obj_str(c, "spec.accountPool")))
    return false;
  /* Left by a Fleet Manager claim, its IAM user not restored yet: a plain
   * claim would wait for keys the Account plan no longer restores once
   * the account is linked. */
  if (str_empty(obj_str(a, "spec.iamUserSecret")) && !claim__is_fleet(sn))
    return false;
  /* Still holding the previous tenant's keys: the Account plan revokes
   * them and clears the flag (the claim is re-queued by that change). */
  if (!revoking && sn->cfg && sn->cfg->revoke_on_reuse &&
      obj_bool(a, "status.rotateCredentials"))
    return false;
  return !obj_bool(a, "status.reused") ||
         str_eq(obj_str(a, "spec.legalEntity.id"),
                obj_str(c, "spec.legalEntity.id"));
}

bool claim_may_take(const struct claim_snap *sn, const json_t *a)
{
  return sn->cfg && a && claimable(sn, a, false);
}

/* Older first: creationTimestamp, then name. */
static bool older(const json_t *a, const json_t *b)
{
  time_t ta = 0, tb = 0;

  obj_creation_time(a, &ta);
  obj_creation_time(b, &tb);
  if (ta != tb)
    return ta < tb;
  return strcmp(obj_name(a), obj_name(b)) < 0;
}

const json_t *claim_pick_account(const struct claim_snap *sn)
{
  const json_t *reused = NULL, *fresh = NULL;
  size_t i;

  for (i = 0; i < sn->naccounts; i++) {
    const json_t *a = sn->accounts[i];

    /* the legal entity's own account, its keys being revoked: wait for it
     * (seconds) rather than take a fresh one */
    if (!claimable(sn, a, false)) {
      if (obj_bool(a, "status.reused") && claimable(sn, a, true))
        return NULL;
      continue;
    }
    if (obj_bool(a, "status.reused")) {
      if (!reused || older(a, reused))
        reused = a;
    } else if (!fresh || older(a, fresh)) {
      fresh = a;
    }
  }
  return reused ? reused : fresh;
}

bool claim__reserved(const struct claim_snap *sn, const json_t *a)
{
  return a && str_eq(obj_str(a, "spec.claimLink"), obj_name(sn->claim)) &&
         str_eq(obj_str(a, "spec.claimLinkNamespace"),
                obj_namespace(sn->claim));
}

/* An account that already points at this claim (written before a crash). */
static const json_t *linked_to_us(const struct claim_snap *sn)
{
  size_t i;

  for (i = 0; i < sn->naccounts; i++) {
    if (claim__reserved(sn, sn->accounts[i]))
      return sn->accounts[i];
  }
  return NULL;
}

/* Nothing to take: say Pending once (upstream's Unclaimed condition),
 * then wait for an account. */
static void wait_for_account(const struct claim_snap *sn, struct claim_step *s,
                             const char *why)
{
  if (str_empty(obj_str(sn->claim, "status.state")))
    claim__status(s, sn, "Unclaimed", "AccountClaimed",
                  "Attempting to claim account", "Pending");
  else
    claim__done(s, 30 * PLAN_SEC, why);
}

static void linked_event(const json_t *a, struct claim_step *s)
{
  plan_event_set(&s->event, "Normal", "AccountLinked", "Account %s linked",
                 obj_name(a));
}

/* A claim not placed yet will want the legal entity's OU and the
 * account's keys: named on the link and reservation steps (next_*). */
static void next_hints(const struct claim_snap *sn, const json_t *a,
                       struct claim_step *s)
{
  const char *ou = obj_str(sn->claim, "spec.accountOU");
  const char *le = obj_str(sn->claim, "spec.legalEntity.id");

  if (!sn->cfg || !sn->cfg->base || !sn->cfg->root || str_empty(le) ||
      !(str_empty(ou) || str_eq(ou, "ROOT")))
    return;
  str_copy(s->next_ou_name, le, sizeof(s->next_ou_name));
  str_copy(s->next_parent, sn->cfg->base, sizeof(s->next_parent));
  if (!claim__is_fleet(sn))
    str_copy(s->next_src_secret, obj_str0(a, "spec.iamUserSecret"),
             sizeof(s->next_src_secret));
}

/* The claim side of the link, with the finalizer (claim_plan) and the
 * support role in the same write; the Account's side, its reservation,
 * follows (plan_reserve), and says AccountLinked: its Event is then sent
 * beside the AWS calls, not beside the reservation's PUT. */
static void link_claim(const struct claim_snap *sn, const json_t *a,
                       struct claim_step *s)
{
  char arn[CLAIM_ARN_SIZE];
  bool relink = !str_empty(obj_str(sn->claim, "spec.accountLink"));

  s->action = CLAIM_UPDATE;
  s->object_new = obj_copy_new(sn->claim);
  obj_set_str(s->object_new, "spec.accountLink", obj_name(a));
  if ((relink || str_empty(obj_str(sn->claim, "spec.supportRoleARN"))) &&
      !claim__support_arn(sn, a, arn, sizeof(arn)))
    obj_set_str(s->object_new, "spec.supportRoleARN", arn);
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->why, "link claim to account", sizeof(s->why));
  next_hints(sn, a, s);
}

static int select_account(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *a = linked_to_us(sn);

  if (a) { /* reserved before a crash: adopt it */
    link_claim(sn, a, s);
    linked_event(a, s);
    return 0;
  }
  if (!opcfg_default_pool(sn->cfg)) {
    wait_for_account(sn, s, "no default pool in the accountpool key");
    return 0;
  }
  a = claim_pick_account(sn);
  if (!a) {
    if (!str_empty(obj_str(sn->claim, "spec.accountLink"))) {
      /* the account named was taken meanwhile: unlink, then wait */
      s->action = CLAIM_UPDATE;
      s->object_new = obj_copy_new(sn->claim);
      obj_set_str(s->object_new, "spec.accountLink", "");
      obj_set_str(s->object_new, "spec.supportRoleARN", "");
      str_copy(s->why, "linked account taken; none free", sizeof(s->why));
      return 0;
    }
    wait_for_account(sn, s, "can't find a suitable account");
    return 0;
  }
  link_claim(sn, a, s);
  return 0;
}

/* The claim names an account that does not name it back yet: reserve it
 * (conflict-checked by resourceVersion, so two claims never take one),
 * or, taken or gone meanwhile, link another. A served (Ready) claim
 * keeps its account as before. */
static bool plan_reserve(const struct claim_snap *sn, const json_t *a,
                         struct claim_step *s)
{
  if (claim__reserved(sn, a) ||
      str_eq(obj_str(sn->claim, "status.state"), "Ready"))
    return false;
  if (!a || !claimable(sn, a, false)) {
    select_account(sn, s);
    return true;
  }
  s->action = CLAIM_ACCOUNT_UPDATE;
  s->object_new = obj_copy_new(a);
  obj_set_str(s->object_new, "spec.claimLink", obj_name(sn->claim));
  obj_set_str(s->object_new, "spec.claimLinkNamespace",
              obj_namespace(sn->claim));
  obj_set_new(s->object_new, "spec.legalEntity",
              obj_copy_new(obj_get(sn->claim, "spec.legalEntity")));
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->why, "claim account", sizeof(s->why));
  linked_event(a, s);
  next_hints(sn, a, s);
  return true;
}

static bool regions_ok(const json_t *regions)
{
  const json_t *r;
  size_t i;

  if (regions && !json_is_array(regions))
    return false;
  json_array_foreach(regions, i, r)
  {
    if (!validate_region(json_string_value(json_object_get(r, "name"))))
      return false;
  }
  return true;
}

/* Absent, or of that JSON type (a server without the CRD schema passes
 * anything). */
static bool kind_ok(const json_t *v, json_type t)
{
  return !v || json_is_null(v) || json_typeof(v) == t;
}

const char *claim_invalid(const json_t *c)
{
  const char *ns = obj_str(c, "spec.awsCredentialSecret.namespace");
  const char *le = obj_str(c, "spec.legalEntity.id");
  const char *name = obj_str(c, "spec.awsCredentialSecret.name");

  if (!str_empty(ns) && !str_eq(ns, obj_namespace(c)))
    return "awsCredentialSecret must be in the claim's namespace";
  /* a Fleet Manager claim without a name gets <claim>-sts-secret */
  if (!(str_empty(name) &&
        !str_empty(obj_str(c, "spec.fleetManagerConfig.trustedARN"))) &&
      !validate_dns1123_subdomain(name))
    return CLAIM_MSG_SECRET_NAME;
  if (!kind_ok(obj_get(c, "spec.legalEntity"), JSON_OBJECT) ||
      !kind_ok(obj_get(c, "spec.legalEntity.id"), JSON_STRING) ||
      !kind_ok(obj_get(c, "spec.legalEntity.name"), JSON_STRING))
    return "legalEntity must be an object of two strings, id and name";
  if (!str_empty(le) && !validate_len(le, 1, VALIDATE_OU_NAME_MAX))
    return "legalEntity.id names the account's organizational unit: at most "
           "128 characters of UTF-8";
  if (!regions_ok(obj_get(c, "spec.aws.regions")))
    return "aws.regions: every name must be an AWS region (e.g. us-east-1)";
  return NULL;
}

/* A Fleet Manager claim's trusted principal goes into a trust policy
 * whole, or not at all. */
static const char *fleet_invalid(const struct claim_snap *sn)
{
  if (!claim__is_fleet(sn) ||
      validate_principal_arn(
          obj_str(sn->claim, "spec.fleetManagerConfig.trustedARN"),
          CLAIM_ARN_SIZE - 1))
    return NULL;
  return "fleetManagerConfig.trustedARN must be an IAM principal ARN "
         "(arn:<partition>:iam::<12-digit account>:<user|role|root>...) of "
         "at most 255 characters";
}

static bool invalid(const struct claim_snap *sn, struct claim_step *s)
{
  const char *why = claim_invalid(sn->claim);

  if (!why)
    why = fleet_invalid(sn);
  if (!why)
    return false;
  if (str_eq(obj_str(sn->claim, "status.state"), "Error") &&
      cond_is_true(obj_get(sn->claim, "status.conditions"),
                   "InvalidAccountClaim"))
    claim__done(s, 0, "invalid claim");
  else
    claim__status(s, sn, "InvalidAccountClaim", "InvalidAccountClaim", why,
                  "Error");
  return true;
}

const char *claim_pool_name(const json_t *claim, const struct opcfg *cfg)
{
  const char *p = obj_str(claim, "spec.accountPool");
  const struct opcfg_pool *d = opcfg_default_pool(cfg);

  if (!str_empty(p))
    return p;
  return d ? d->name : NULL;
}

/* The claim's AccountPool is missing and no account of it is available:
 * say so once (a True condition, state Pending), then wait; when either
 * appears, the condition turns False and selection goes on. */
static bool pool_missing(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *conds = obj_get(sn->claim, "status.conditions");
  const char *name = claim_pool_name(sn->claim, sn->cfg);
  char msg[200];

  /* an account of that pool name may exist without the pool (made by
   * hand, or left by a deleted pool): it is claimed as before */
  if (!sn->pool_checked || sn->pool_exists || claim_pick_account(sn)) {
    const char *why = sn->pool_exists ? "AccountPool found"
                                      : "an account of the pool is available";

    if (!cond_is_true(conds, CLAIM_COND_NO_POOL))
      return false;
    s->action = CLAIM_UPDATE_STATUS;
    s->object_new = cond_obj_set_new(sn->claim, CLAIM_COND_NO_POOL, false,
                                     sn->pool_exists ? "AccountPoolFound"
                                                     : "AccountAvailable",
                                     why, NULL, sn->now, COND_UPDATE_ALWAYS);
    str_copy(s->why, why, sizeof(s->why));
    return true;
  }
  if (cond_is_true(conds, CLAIM_COND_NO_POOL)) {
    claim__done(s, 30 * PLAN_SEC, "AccountPool not found");
    return true;
  }
  str_fmt(msg, sizeof(msg),
          "AccountPool %.64s%s not found in the operator "
          "namespace",
          name, strlen(name) > 64 ? "..." : "");
  claim__status(s, sn, CLAIM_COND_NO_POOL, CLAIM_COND_NO_POOL, msg, "Pending");
  plan_event_set(&s->event, "Warning", CLAIM_COND_NO_POOL, "%s", msg);
  return true;
}

static bool satisfied(const json_t *c)
{
  return !str_empty(obj_str(c, "spec.accountLink")) &&
         str_eq(obj_str(c, "status.state"), "Ready") &&
         !str_empty(obj_str(c, "spec.accountOU"));
}

static int plan_live(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *c = sn->claim, *a;
  const char *link = obj_str(c, "spec.accountLink");

  if (satisfied(c) && !claim__key_stale(sn, claim__account(sn, link))) {
    claim__done(s, 0, "claim satisfied");
    return 0;
  }
  if (invalid(sn, s))
    return 0;
  if (str_empty(link))
    return pool_missing(sn, s) ? 0 : select_account(sn, s);
  a = claim__account(sn, link);
  if (plan_reserve(sn, a, s))
    return 0;
  if (!a) {
    claim__done(s, 30 * PLAN_SEC, "linked account not in cache");
    return 0;
  }
  return claim__plan_linked(sn, a, s);
}

/* The finalizer comes before any outside effect: with the claim's link
 * when that is the first step (one write), else alone. */
static int plan_finalizer(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *c = sn->claim;
  char partition[sizeof(s->partition)];

  str_copy(partition, s->partition, sizeof(partition));
  if (sn->cfg && !obj_bool(c, "spec.byoc") &&
      !obj_bool(c, "spec.manualSTSMode") &&
      str_empty(obj_str(c, "spec.accountLink")) && plan_live(sn, s) == 0 &&
      s->action == CLAIM_UPDATE &&
      !str_empty(obj_str(s->object_new, "spec.accountLink"))) {
    obj_add_finalizer(s->object_new, OBJ_FINALIZER);
    return 0;
  }
  claim_step_cleanup(s);
  str_copy(s->partition, partition, sizeof(s->partition));
  s->action = CLAIM_UPDATE;
  s->object_new = obj_copy_new(c);
  obj_add_finalizer(s->object_new, OBJ_FINALIZER);
  str_copy(s->why, "add finalizer", sizeof(s->why));
  return 0;
}

int claim_plan(const struct claim_snap *sn, struct claim_step *s)
{
  const json_t *c;

  claim_step_init(s);
  if (!sn || !sn->claim)
    return OP_EINVAL;
  str_copy(s->partition, opcfg_partition(sn->cfg), sizeof(s->partition));
  c = sn->claim;
  if (str_case_eq(obj_annotation(c, OBJ_ANN_FAKE), "true"))
    return claim__plan_fake(sn, s);
  if (!obj_deleting(c) && !obj_has_finalizer(c, OBJ_FINALIZER))
    return plan_finalizer(sn, s);
  if (obj_bool(c, "spec.byoc") || obj_bool(c, "spec.manualSTSMode"))
    return claim__plan_ccs(sn, s);
  if (!sn->cfg) {
    claim__done(s, 30 * PLAN_SEC, "operator configmap missing or invalid");
    return 0;
  }
  if (obj_deleting(c))
    return claim__plan_delete(sn, s);
  return plan_live(sn, s);
}
