/* AccountClaim plan, linked claim: supportRoleARN, OU placement (upstream
 * 2.2.4), credentials Secret, Ready. */
#include "controllers/accountclaim/plan_int.h"

#include "aws/core/endpoints.h"
#include "controllers/account/plan.h"
#include "controllers/common/names.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

#define RETRY_S 30
#define CONFLICT_S 5

static bool retry_wait(const struct claim_snap *sn, struct claim_step *s,
                       const struct claim_obs *o, time_t secs, const char *why)
{
  time_t left = o->at + secs - sn->now;

  if (left <= 0)
    return false;
  claim__done(s, (uint64_t)left * PLAN_SEC, why);
  return true;
}

static void set_spec(const struct claim_snap *sn, struct claim_step *s,
                     const char *path, const char *val, const char *why)
{
  s->action = CLAIM_UPDATE;
  s->object_new = obj_copy_new(sn->claim);
  obj_set_str(s->object_new, path, val);
  str_copy(s->why, why, sizeof(s->why));
}

static void aws(const json_t *a, struct claim_step *s, enum claim_action act,
                const char *why)
{
  s->action = act;
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->account_id, obj_str0(a, "spec.awsAccountID"),
           sizeof(s->account_id));
  str_copy(s->why, why, sizeof(s->why));
}

/* The Secret right after the move (what the user waits for), then the OU
 * and the key copied in one write: the Secret's outcome carries the OU
 * (a crash between finds the OU again, and the Secret written). */
static int secret_then_ou(const struct claim_snap *sn, const json_t *a,
                          struct claim_step *s, const char *ou_id)
{
  aws(a, s, CLAIM_WRITE_SECRET, "write credentials Secret");
  str_copy(s->src_secret, obj_str0(a, "spec.iamUserSecret"),
           sizeof(s->src_secret));
  str_copy(s->ou_id, ou_id, sizeof(s->ou_id));
  claim__secret_dest(sn, s);
  return 0;
}

static int plan_move(const struct claim_snap *sn, const json_t *a,
                     struct claim_step *s)
{
  const struct claim_obs *mv = claim__obs(sn, CLAIM_MOVE_ACCOUNT);
  const struct claim_obs *ou = claim__obs(sn, CLAIM_ENSURE_OU);
  /* the Secret after the move failed: the move stands */
  const struct claim_obs *w = claim__obs(sn, CLAIM_WRITE_SECRET);

  if (!sn->cfg->root || !sn->cfg->base) {
    claim__done(s, PLAN_MIN, "configmap lacks root or base");
    return 0;
  }
  if (mv && (mv->result == 0 || mv->already_there)) {
    if (!claim__is_fleet(sn) && !str_empty(obj_str(a, "spec.iamUserSecret")))
      return secret_then_ou(sn, a, s, mv->ou_id);
    set_spec(sn, s, "spec.accountOU", mv->ou_id, "record account OU");
    plan_event_set(&s->event, "Normal", "AccountMoved",
                   "Account %s moved to OU %s", obj_name(a), mv->ou_id);
    return 0;
  }
  if (w && w->result < 0 && !str_empty(w->ou_id))
    return retry_wait(sn, s, w, CONFLICT_S, "credentials Secret retry wait")
               ? 0
               : secret_then_ou(sn, a, s, w->ou_id);
  if (mv && retry_wait(sn, s, mv,
                       str_eq(mv->aws_code, "ConcurrentModificationException")
                           ? CONFLICT_S
                           : RETRY_S,
                       "MoveAccount retry wait"))
    return 0;
  if (ou && ou->result == 0 && !mv) {
    aws(a, s, CLAIM_MOVE_ACCOUNT, "move account into the legal-entity OU");
    str_copy(s->ou_id, ou->ou_id, sizeof(s->ou_id));
    str_copy(s->parent, sn->cfg->root, sizeof(s->parent));
    return 0;
  }
  if (ou && ou->result < 0 && retry_wait(sn, s, ou, RETRY_S, "OU retry wait"))
    return 0;
  aws(a, s, CLAIM_ENSURE_OU, "find or create the legal-entity OU");
  str_copy(s->ou_name, obj_str0(sn->claim, "spec.legalEntity.id"),
           sizeof(s->ou_name));
  str_copy(s->parent, sn->cfg->base, sizeof(s->parent));
  return 0;
}

static bool record_ou(const struct claim_snap *sn, const json_t *a,
                      struct claim_step *s)
{
  const struct claim_obs *w = claim__obs(sn, CLAIM_WRITE_SECRET);

  if (!w || w->result != 0 || str_empty(w->ou_id))
    return false;
  set_spec(sn, s, "spec.accountOU", w->ou_id, "record account OU and key");
  if (!str_empty(w->key_id))
    obj_set_annotation(s->object_new, CLAIM_ANN_KEY, w->key_id);
  plan_event_set(&s->event, "Normal", "AccountMoved",
                 "Account %s moved to OU %s", obj_name(a), w->ou_id);
  return true;
}

static int plan_ou(const struct claim_snap *sn, const json_t *a,
                   struct claim_step *s)
{
  if (record_ou(sn, a, s))
    return 0;
  return plan_move(sn, a, s);
}

static int plan_secret(const struct claim_snap *sn, const json_t *a,
                       struct claim_step *s)
{
  if (claim__obs(sn, CLAIM_WRITE_SECRET) &&
      claim__obs(sn, CLAIM_WRITE_SECRET)->result == 0) {
    claim__done(s, 5 * PLAN_SEC, "waiting for the Secret in the cache");
    return 0;
  }
  if (str_empty(obj_str(a, "spec.iamUserSecret"))) {
    claim__done(s, RETRY_S * PLAN_SEC, "account has no IAM Secret yet");
    return 0;
  }
  aws(a, s, CLAIM_WRITE_SECRET, "write credentials Secret");
  str_copy(s->src_secret, obj_str0(a, "spec.iamUserSecret"),
           sizeof(s->src_secret));
  claim__secret_dest(sn, s);
  return 0;
}

bool claim__key_stale(const struct claim_snap *sn, const json_t *a)
{
  char id[64];
  time_t t;

  return a && !obj_bool(sn->claim, "spec.byoc") && !claim__is_fleet(sn) &&
         !str_empty(obj_str(a, "spec.iamUserSecret")) &&
         acct_key_ann(a, id, sizeof(id), &t) &&
         !str_eq(obj_annotation(sn->claim, CLAIM_ANN_KEY), id);
}

/* The Account's key changed (rotation): write the Secret again (the
 * executor updates it), then record the key id copied. */
static bool plan_key_refresh(const struct claim_snap *sn, const json_t *a,
                             struct claim_step *s)
{
  const struct claim_obs *w = claim__obs(sn, CLAIM_WRITE_SECRET);
  char id[64];
  time_t t;

  if (!acct_key_ann(a, id, sizeof(id), &t) ||
      str_empty(obj_str(a, "spec.iamUserSecret")) ||
      str_eq(obj_annotation(sn->claim, CLAIM_ANN_KEY), id))
    return false;
  if (w && w->result == 0 && str_eq(w->key_id, id)) {
    s->action = CLAIM_UPDATE;
    s->object_new = obj_copy_new(sn->claim);
    obj_set_annotation(s->object_new, CLAIM_ANN_KEY, id);
    str_copy(s->why, "record the access key copied", sizeof(s->why));
    return true;
  }
  /* a failure, or a copy of another key (the Account Secret lags its
   * annotation): wait before writing again */
  if (w && retry_wait(sn, s, w, w->result < 0 ? RETRY_S : CONFLICT_S,
                      "credentials Secret refresh wait"))
    return true;
  aws(a, s, CLAIM_WRITE_SECRET, "refresh credentials Secret");
  str_copy(s->src_secret, obj_str0(a, "spec.iamUserSecret"),
           sizeof(s->src_secret));
  claim__secret_dest(sn, s);
  return true;
}

static bool secret_written(const struct claim_snap *sn)
{
  const struct claim_obs *w = claim__obs(sn, CLAIM_WRITE_SECRET);

  return w && w->result == 0;
}

/* Ready, with upstream's Unclaimed (Pending) condition when the claim got
 * its account at once and skipped the Pending write: the same
 * conditions in the end. */
static void ready_status(const struct claim_snap *sn, const json_t *a,
                         struct claim_step *s)
{
  char msg[160];
  json_t *o;

  str_fmt(msg, sizeof(msg), "Account claim fulfilled by %s", obj_name(a));
  claim__status(s, sn, "Claimed", "AccountClaimed", msg, "Ready");
  if (cond_find(obj_get(sn->claim, "status.conditions"), "Unclaimed"))
    return;
  o = cond_obj_set_new(sn->claim, "Unclaimed", true, "AccountClaimed",
                       "Attempting to claim account", NULL, sn->now,
                       COND_UPDATE_ALWAYS);
  json_decref(s->object_new);
  s->object_new = cond_obj_set_new(o, "Claimed", true, "AccountClaimed", msg,
                                   "Ready", sn->now, COND_UPDATE_ALWAYS);
  json_decref(o);
}

int claim__support_arn(const struct claim_snap *sn, const json_t *a, char *out,
                       size_t n)
{
  const char *l = obj_label(a, OBJ_LABEL_IAM_USER_ID);
  char role[64], sfx[8];

  if (!str_empty(l))
    str_copy(sfx, l, sizeof(sfx));
  else
    names_suffix_from(obj_uid(a), sfx);
  str_fmt(role, sizeof(role), "role/ManagedOpenShift-Support-%s", sfx);
  return aws_arn_fmt(out, n, opcfg_partition(sn->cfg), "iam",
                     obj_str0(a, "spec.awsAccountID"), role)
             ? OP_EINVAL
             : 0;
}

int claim__plan_linked(const struct claim_snap *sn, const json_t *a,
                       struct claim_step *s)
{
  const json_t *c = sn->claim;
  const char *ou = obj_str(c, "spec.accountOU");
  char arn[CLAIM_ARN_SIZE];

  if (acct_state_failed(obj_str(a, "status.state"))) {
    claim__done(s, 0, "linked account failed (mirrored by Account plan)");
    return 0;
  }
  if (str_empty(obj_str(c, "spec.supportRoleARN"))) {
    if (claim__support_arn(sn, a, arn, sizeof(arn))) {
      claim__done(s, 30 * PLAN_SEC, "linked account has no AWS account id");
      return 0;
    }
    set_spec(sn, s, "spec.supportRoleARN", arn, "record supportRoleARN");
    return 0;
  }
  if (str_empty(ou) || str_eq(ou, "ROOT"))
    return plan_ou(sn, a, s);
  if (claim__is_fleet(sn))
    return claim__plan_fleet(sn, a, s);
  /* the Secret this controller just wrote needs no GET */
  if (!secret_written(sn) && !claim__secret_known(sn, s))
    return 0;
  if (!secret_written(sn) && !sn->secret_exists)
    return plan_secret(sn, a, s);
  if (plan_key_refresh(sn, a, s))
    return 0;
  if (!str_eq(obj_str(c, "status.state"), "Ready")) {
    ready_status(sn, a, s);
    return 0;
  }
  claim__done(s, 0, "claim ready");
  return 0;
}
