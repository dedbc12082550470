/* AccountClaim plan, Fleet Manager claims (upstream 2.2.2 step 7 and
 * 2.2.5): instead of the account's IAM-user keys, the claimant gets a role
 * in the claimed account, managed-sts-role, trusting its ARN, and a Secret
 * holding only that role's ARN; the account's IAM users and IAM Secret are
 * removed (the Account plan restores them once the account is reused).
 *
 * Live chain, each step seen by the next pass through the observation:
 * name the Secret (spec) -> FLEET_ENSURE_ROLE -> FLEET_DELETE_USERS ->
 * delete the account's IAM Secret -> clear spec.iamUserSecret ->
 * FLEET_WRITE_SECRET -> Ready. Every step converges, so after a restart
 * (no observation) the chain simply runs again from the role.
 * Deletion: the claim Secret, then FLEET_DELETE_ROLE, recorded in
 * CLAIM_ANN_FLEET_CLEANED; then the ordinary reuse cleanup. */
#include "controllers/accountclaim/plan_int.h"

#include "controllers/common/obj.h"
#include "util/str.h"

#define RETRY_S 30

const char *claim__fleet_action_name(enum claim_action a)
{
  static const char *const names[] = {
    "fleet-ensure-role",
    "fleet-delete-users",
    "fleet-write-secret",
    "fleet-delete-role",
  };

  return names[a - CLAIM_FLEET_ENSURE_ROLE];
}

bool claim__is_fleet(const struct claim_snap *sn)
{
  const char *pool = obj_str(sn->claim, "spec.accountPool");
  const struct opcfg_pool *def = opcfg_default_pool(sn->cfg);

  if (str_empty(obj_str(sn->claim, "spec.fleetManagerConfig.trustedARN")) ||
      str_empty(pool) || str_eq(pool, "default"))
    return false;
  return !(def && str_eq(pool, def->name));
}

/* An AWS failure: wait RETRY_S after it, then the caller retries. */
static bool failed_wait(const struct claim_snap *sn, struct claim_step *s,
                        const struct claim_obs *o)
{
  time_t left;

  if (!o || o->result == 0 ||
      !(o->action == CLAIM_DELETE_SECRET ||
        (o->action >= CLAIM_FLEET_ENSURE_ROLE &&
         o->action <= CLAIM_FLEET_DELETE_ROLE)))
    return false;
  left = o->at + RETRY_S - sn->now;
  if (left <= 0)
    return false;
  claim__done(s, (uint64_t)left * PLAN_SEC, "Fleet Manager step retry wait");
  str_fmt(s->why, sizeof(s->why), "%s failed (%s), retry wait",
          claim_action_name(o->action), o->aws_code[0] ? o->aws_code : "error");
  /* Once per failure: the pass right after it (a bad trustedARN, say,
   * shows on the claim, not only in the log). */
  if (sn->now - o->at <= 1)
    plan_event_set(&s->event, "Warning", "FleetManagerStepFailed",
                   "%s failed: %s; retried in %d s",
                   claim_action_name(o->action),
                   o->aws_code[0] ? o->aws_code : "error", RETRY_S);
  return true;
}

static void aws(const struct claim_snap *sn, const json_t *a,
                struct claim_step *s, enum claim_action act, const char *why)
{
  const char *part = sn->cfg->fedramp ? "aws-us-gov" : "aws";
  const char *id = obj_str0(a, "spec.awsAccountID");

  s->action = act;
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->account_id, id, sizeof(s->account_id));
  str_copy(s->partition, part, sizeof(s->partition));
  str_copy(s->trust_arn,
           obj_str0(sn->claim, "spec.fleetManagerConfig.trustedARN"),
           sizeof(s->trust_arn));
  str_fmt(s->role_arn, sizeof(s->role_arn), "arn:%s:iam::%s:role/%s", part, id,
          CLAIM_FLEET_ROLE);
  str_copy(s->why, why, sizeof(s->why));
}

/* The account's IAM Secret and its record on the Account: gone. */
static bool plan_iam_secret(const struct claim_snap *sn, const json_t *a,
                            struct claim_step *s)
{
  const char *sec = obj_str(a, "spec.iamUserSecret");

  if (str_empty(sec))
    return false;
  if (claim__obs(sn, CLAIM_DELETE_SECRET) &&
      claim__obs(sn, CLAIM_DELETE_SECRET)->result == 0) {
    s->action = CLAIM_ACCOUNT_UPDATE;
    s->object_new = obj_copy_new(a);
    obj_set_str(s->object_new, "spec.iamUserSecret", "");
    str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
    str_copy(s->why, "clear iamUserSecret (Fleet Manager)", sizeof(s->why));
    return true;
  }
  s->action = CLAIM_DELETE_SECRET;
  str_copy(s->secret_name, sec, sizeof(s->secret_name));
  str_copy(s->secret_namespace, obj_namespace(a), sizeof(s->secret_namespace));
  str_copy(s->why, "delete the account's IAM Secret", sizeof(s->why));
  return true;
}

/* Upstream keeps the claim without credentials when the flag is off. */
static int plan_disabled(const struct claim_snap *sn, const json_t *a,
                         struct claim_step *s)
{
  char msg[160];

  str_fmt(msg, sizeof(msg),
          "Account claim fulfilled by %s; no credentials: "
          "feature.accountclaim_fleet_manager_trusted_arn is off",
          obj_name(a));
  claim__status(s, sn, "Claimed", "AccountClaimed", msg, "Ready");
  plan_event_set(&s->event, "Warning", "FleetManagerDisabled", "%s", msg);
  return 0;
}

static int plan_ready(const struct claim_snap *sn, const json_t *a,
                      struct claim_step *s)
{
  char msg[160];

  str_fmt(msg, sizeof(msg), "Account claim fulfilled by %s", obj_name(a));
  claim__status(s, sn, "Claimed", "AccountClaimed", msg, "Ready");
  return 0;
}

int claim__plan_fleet(const struct claim_snap *sn, const json_t *a,
                      struct claim_step *s)
{
  const struct claim_obs *o = sn->obs;
  char name[128];

  if (str_eq(obj_str(sn->claim, "status.state"), "Ready")) {
    claim__done(s, 0, "claim ready");
    return 0;
  }
  if (!sn->cfg->feat_fleet_manager_trusted_arn)
    return plan_disabled(sn, a, s);
  if (str_empty(obj_str(sn->claim, "spec.awsCredentialSecret.name"))) {
    str_fmt(name, sizeof(name), "%s-sts-secret", obj_name(sn->claim));
    s->action = CLAIM_UPDATE;
    s->object_new = obj_copy_new(sn->claim);
    obj_set_str(s->object_new, "spec.awsCredentialSecret.name", name);
    str_copy(s->why, "name the role Secret", sizeof(s->why));
    return 0;
  }
  if (failed_wait(sn, s, o) || !claim__secret_known(sn, s))
    return 0;
  if (claim__obs(sn, CLAIM_FLEET_WRITE_SECRET) && o->result == 0 &&
      sn->secret_exists)
    return plan_ready(sn, a, s);
  if ((claim__obs(sn, CLAIM_FLEET_DELETE_USERS) ||
       claim__obs(sn, CLAIM_DELETE_SECRET) ||
       claim__obs(sn, CLAIM_FLEET_WRITE_SECRET)) &&
      o->result == 0) {
    if (plan_iam_secret(sn, a, s))
      return 0;
    aws(sn, a, s, CLAIM_FLEET_WRITE_SECRET, "write the role_arn Secret");
    claim__secret_dest(sn, s);
    return 0;
  }
  if (claim__obs(sn, CLAIM_FLEET_ENSURE_ROLE) && o->result == 0) {
    aws(sn, a, s, CLAIM_FLEET_DELETE_USERS, "delete the account's IAM users");
    return 0;
  }
  aws(sn, a, s, CLAIM_FLEET_ENSURE_ROLE, "ensure " CLAIM_FLEET_ROLE);
  return 0;
}

bool claim__plan_fleet_delete(const struct claim_snap *sn, const json_t *a,
                              struct claim_step *s)
{
  const struct claim_obs *o = claim__obs(sn, CLAIM_FLEET_DELETE_ROLE);

  if (!claim__is_fleet(sn) ||
      str_eq(obj_annotation(sn->claim, CLAIM_ANN_FLEET_CLEANED), "true"))
    return false;
  if (!claim__secret_known(sn, s))
    return true;
  if (sn->secret_exists) {
    s->action = CLAIM_DELETE_SECRET;
    claim__secret_dest(sn, s);
    str_copy(s->why, "delete the role_arn Secret", sizeof(s->why));
    return true;
  }
  if (o && o->result == 0) {
    s->action = CLAIM_UPDATE;
    s->object_new = obj_copy_new(sn->claim);
    obj_set_annotation(s->object_new, CLAIM_ANN_FLEET_CLEANED, "true");
    str_copy(s->why, "Fleet Manager role removed", sizeof(s->why));
    plan_event_set(&s->event, "Normal", "FleetRoleRemoved",
                   "%s removed from account %s", CLAIM_FLEET_ROLE, obj_name(a));
    return true;
  }
  if (!failed_wait(sn, s, o))
    aws(sn, a, s, CLAIM_FLEET_DELETE_ROLE, "delete " CLAIM_FLEET_ROLE);
  return true;
}
