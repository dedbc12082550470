/* Account plan, CCS/BYOC and STS accounts (upstream 2.1.2, 2.1.3, 2.1.6,
 * 2.2.3): the customer's own AWS account, created by its claim.
 *
 *   (none) -> Creating (claimed) -> [IAM bootstrap with the customer's
 *   keys; STS: the role chain is checked instead] -> region list (the
 *   claim's regions that are enabled) -> InitializingRegions -> Ready, or
 *   Failed when a region failed (upstream overwrote that with Ready).
 *
 * Every AWS action gets its credentials from the step (cred_mode): the
 * BYOC Secret's keys for the support role itself (it trusts the operator's
 * identity and the support jump role), then that role assumed by the
 * operator; STS: management -> sts-jump-role -> stsRoleARN with
 * stsExternalID. No IAM user, key or Secret exists for STS. Deletion
 * (BYOC): assume the support role; AccessDenied means the customer revoked
 * it (release); else remove what the operator created (tag match), the
 * support role last and with the customer's keys. */
#include "controllers/account/plan_int.h"

#include <stdlib.h>
#include <string.h>

#include "aws/core/endpoints.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

#define WAIT_S 30
#define CREDS_RETRY_S 15
#define STS_OK "sts"

static bool sts(const struct acct_snap *sn)
{
  return obj_bool(sn->account, "spec.manualSTSMode");
}

void acct__custom_tags(const json_t *claim, json_t *tags)
{
  const char *txt = obj_str(claim, "spec.customTags");
  char *dup, *line, *save = NULL;

  if (str_empty(txt) || !(dup = strdup(txt)))
    return;
  for (line = strtok_r(dup, "\n", &save); line;
       line = strtok_r(NULL, "\n", &save)) {
    char *eq = strchr(line, '=');

    if (!eq || eq == line)
      continue; /* not key=value */
    *eq = '\0';
    json_object_set_new(tags, str_trim(line), json_string(str_trim(eq + 1)));
  }
  free(dup);
}

static void support_role_arn(const struct acct_snap *sn, char *out, size_t n)
{
  char sfx[8], res[64];

  acct__iam_suffix(sn->account, sfx);
  str_fmt(res, sizeof(res), "role/ManagedOpenShift-Support-%s", sfx);
  /* BYOC Accounts carry their id from creation; without one, "" */
  if (aws_arn_fmt(out, n, opcfg_partition(sn->cfg), "iam",
                  obj_str0(sn->account, "spec.awsAccountID"), res))
    out[0] = 0;
}

static bool about_support_role(const struct acct_snap *sn, const json_t *w)
{
  char sfx[8], name[64];

  acct__iam_suffix(sn->account, sfx);
  str_fmt(name, sizeof(name), "ManagedOpenShift-Support-%s", sfx);
  return str_eq(obj_str(w, "role"), name);
}

/* The credentials of the step's AWS action, and the claim's KMS key. */
static void fill(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *c = sn->claim;

  if (s->action <= ACCT_CLAIM_UPDATE_STATUS)
    return; /* no AWS call */
  if (sts(sn)) {
    s->cred_mode = ACCT_CREDS_STS;
    str_copy(s->cred_jump, sn->cfg ? sn->cfg->sts_jump_role : "",
             sizeof(s->cred_jump));
    str_copy(s->cred_role, obj_str0(c, "spec.stsRoleARN"),
             sizeof(s->cred_role));
    str_copy(s->external_id, obj_str0(c, "spec.stsExternalID"),
             sizeof(s->external_id));
  } else if (s->action == ACCT_ENSURE_SUPPORT_ROLE ||
             (s->action == ACCT_CLEANUP_IAM_STEP &&
              about_support_role(sn, json_array_get(s->work, 0)))) {
    /* The support role is made, and unmade, with the customer's keys. */
    s->cred_mode = ACCT_CREDS_BYOC;
  } else {
    s->cred_mode = ACCT_CREDS_BYOC_ROLE;
    support_role_arn(sn, s->cred_role, sizeof(s->cred_role));
  }
  if (s->action == ACCT_REGION_LAUNCH)
    str_copy(s->kms_key_id, obj_str0(c, "spec.kmsKeyId"),
             sizeof(s->kms_key_id));
}

static bool retry_wait(const struct acct_snap *sn, struct acct_step *s,
                       const struct acct_obs *o, time_t secs, const char *why)
{
  if (!o || sn->now - o->at >= secs)
    return false;
  acct__done(s, (uint64_t)(o->at + secs - sn->now) * PLAN_SEC, why);
  return true;
}

/* The role chain, checked once: a refused AssumeRole fails the account
 * with the AWS code (e.g. a wrong stsExternalID). */
static bool plan_sts_check(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_ASSUME_CHECK);
  char msg[512];

  if (str_eq(obj_annotation(sn->account, ACCT_ANN_IAM), STS_OK))
    return false;
  if (str_empty(sn->cfg->sts_jump_role)) {
    acct__done(s, PLAN_MIN, "ConfigMap key sts-jump-role missing");
    return true;
  }
  if (o && o->result == 0) {
    acct__set_ann(sn, s, ACCT_ANN_IAM, STS_OK, "STS role chain works");
    return true;
  }
  if (o && (str_eq(o->aws_code, "AccessDenied") ||
            str_eq(o->aws_code, "InvalidClientTokenId"))) {
    str_fmt(msg, sizeof(msg),
            "cannot assume stsRoleARN %s through the STS jump role "
            "(check the role's trust policy and stsExternalID): %s",
            obj_str0(sn->claim, "spec.stsRoleARN"), o->aws_code);
    acct__fail(s, sn, "AuthorizationError", "STSAssumeRoleFailed", msg);
    return true;
  }
  if (!retry_wait(sn, s, o, WAIT_S, "STS role chain retry wait"))
    acct__aws(s, sn, ACCT_ASSUME_CHECK, "check the STS role chain");
  return true;
}

/* IAM bootstrap with the customer's keys. A freshly created support role
 * may not be assumable at once (IAM is eventually consistent): retry
 * CredentialsUnavailable while Creating is younger than 25 minutes. */
static bool plan_byoc_iam(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = sn->obs;
  struct acct_snap fresh = *sn;
  time_t t;

  if (sn->byoc_unknown) {
    s->need_byoc = true;
    acct__done(s, 0, "BYOC Secret not read yet");
    return true;
  }
  if (!sn->byoc_creds) {
    acct__done(s, WAIT_S * PLAN_SEC, "BYOC Secret missing or incomplete");
    return true;
  }
  if (o && o->result < 0 && str_eq(o->aws_code, "CredentialsUnavailable") &&
      obj_time(cond_find(obj_get(sn->account, "status.conditions"),
                         ACCT_ST_CREATING),
               "lastTransitionTime", &t) == 0 &&
      sn->now - t < ACCT_CREATE_TIMEOUT_S) {
    if (retry_wait(sn, s, o, CREDS_RETRY_S, "support role not usable yet"))
      return true;
    fresh.obs = NULL; /* make the call again */
  }
  return acct__plan_iam_stage(&fresh, s) || acct__plan_iam_secret(&fresh, s);
}

static int plan_creating(const struct acct_snap *sn, struct acct_step *s)
{
  char sfx[8];

  if (str_empty(obj_label(sn->account, OBJ_LABEL_IAM_USER_ID))) {
    acct__iam_suffix(sn->account, sfx);
    s->action = ACCT_UPDATE;
    s->object_new = obj_copy_new(sn->account);
    obj_set_label(s->object_new, OBJ_LABEL_IAM_USER_ID, sfx);
    str_copy(s->why, "add iamUserId label", sizeof(s->why));
    return 0;
  }
  if (sts(sn) ? plan_sts_check(sn, s) : plan_byoc_iam(sn, s))
    return 0;
  if (!obj_annotation(sn->account, ACCT_ANN_REGIONS))
    return acct__ccs_region_list(sn, s);
  acct__cond(s, sn, ACCT_ST_INIT_REGIONS, "InitializingRegions",
             "Initializing the claim's regions", ACCT_ST_INIT_REGIONS,
             COND_UPDATE_ALWAYS);
  return 0;
}

int acct__ccs_region_list(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_DESCRIBE_REGIONS);
  const json_t *want = obj_get(sn->claim, "spec.aws.regions"), *r, *v;
  json_t *map;
  char *txt;
  size_t i, k;

  if (!o || o->result < 0) {
    if (!retry_wait(sn, s, o, WAIT_S, "DescribeRegions retry wait"))
      acct__aws(s, sn, ACCT_DESCRIBE_REGIONS, "list enabled regions");
    return 0;
  }
  map = json_object();
  json_array_foreach(want, i, r)
  {
    const char *n = obj_str(r, "name");
    bool on = false;

    json_array_foreach(o->regions, k, v)
    {
      on = on || str_eq(json_string_value(v), n);
    }
    if (!str_empty(n))
      json_object_set_new(map, n,
                          json_string(on ? "" : "error:RegionNotEnabled"));
  }
  txt = json_dumps(map, JSON_SORT_KEYS | JSON_COMPACT);
  acct__set_ann(sn, s, ACCT_ANN_REGIONS, txt ? txt : "{}",
                "record the claim's regions to initialize");
  free(txt);
  json_decref(map);
  return 0;
}

void acct__ccs_finish(const struct acct_snap *sn, struct acct_step *s,
                      const json_t *regions)
{
  const char *r;
  const json_t *v;
  char msg[256];

  json_object_foreach((json_t *)regions, r, v)
  {
    if (str_has_prefix(json_string_value(v), "error:")) {
      str_fmt(msg, sizeof(msg), "Region %s initialization failed (%s)", r,
              json_string_value(v) + 6);
      acct__fail(s, sn, ACCT_ST_FAILED, "RegionInitializationFailed", msg);
      return;
    }
  }
  acct__cond(s, sn, ACCT_ST_READY, "Ready", "BYOC Account Ready", ACCT_ST_READY,
             COND_UPDATE_ALWAYS);
}

static int plan_live(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *a = sn->account;
  const char *st = obj_str0(a, "status.state");

  if (!sts(sn) && !obj_has_finalizer(a, OBJ_FINALIZER)) {
    s->action = ACCT_UPDATE;
    s->object_new = obj_copy_new(a);
    obj_add_finalizer(s->object_new, OBJ_FINALIZER);
    str_copy(s->why, "add finalizer", sizeof(s->why));
    return 0;
  }
  if (!sn->claim) {
    acct__done(s, WAIT_S * PLAN_SEC, "waiting for the claim in the cache");
    return 0;
  }
  if (!*st || !obj_bool(a, "status.claimed")) {
    acct__cond(s, sn, ACCT_ST_CREATING, "Creating", "BYOC account claimed",
               ACCT_ST_CREATING, COND_UPDATE_ALWAYS);
    json_object_set_new(json_object_get(s->object_new, "status"), "claimed",
                        json_true());
    return 0;
  }
  if (str_eq(st, ACCT_ST_CREATING))
    return plan_creating(sn, s);
  if (str_eq(st, ACCT_ST_INIT_REGIONS))
    return acct__plan_regions(sn, s);
  acct__done(s, 0, st);
  return 0;
}

int acct__plan_ccs(const struct acct_snap *sn, struct acct_step *s)
{
  int rc;

  if (!sn->cfg) {
    acct__done(s, WAIT_S * PLAN_SEC, "operator configmap missing or invalid");
    return 0;
  }
  if (opcfg_is_payer(sn->cfg, obj_str(sn->account, "spec.awsAccountID"))) {
    acct__done(s, 0, "payer account: never acted on");
    return 0;
  }
  rc = plan_live(sn, s);
  fill(sn, s);
  return rc;
}

/* ---- deletion ---------------------------------------------------------- */

static void release(const struct acct_snap *sn, struct acct_step *s,
                    const char *type, const char *reason, const char *msg)
{
  s->action = ACCT_REMOVE_FINALIZER;
  s->object_new = obj_copy_new(sn->account);
  obj_remove_finalizer(s->object_new, OBJ_FINALIZER);
  str_copy(s->why, reason, sizeof(s->why));
  plan_event_set(&s->event, type, reason, "%s", msg);
}

/* The rest of the work, the support role's calls last (it is the
 * operator's way in until then). */
static json_t *support_role_last(const struct acct_snap *sn, const json_t *w)
{
  json_t *out = json_array(), *late = json_array(), *v;
  size_t i;

  json_array_foreach(w, i, v)
  {
    json_array_append(about_support_role(sn, v) ? late : out, v);
  }
  json_array_extend(out, late);
  json_decref(late);
  return out;
}

static void cleanup_next(const struct acct_snap *sn, struct acct_step *s,
                         const struct acct_obs *o)
{
  const json_t *w = json_array_get(o->work, 0);

  if (!w) {
    release(sn, s, "Normal", "FinalizerRemoved",
            "IAM cleanup in the customer's account done");
    return;
  }
  acct__aws(s, sn, ACCT_CLEANUP_IAM_STEP, "IAM cleanup (customer account)");
  s->work = support_role_last(sn, o->work);
}

int acct__plan_delete_ccs(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *chk = acct__obs(sn, ACCT_ASSUME_CHECK);
  const struct acct_obs *cl = acct__obs(sn, ACCT_CLEANUP_IAM);

  if (!cl)
    cl = acct__obs(sn, ACCT_CLEANUP_IAM_STEP);
  if (sn->claim && sn->byoc_unknown) {
    s->need_byoc = true;
    acct__done(s, 0, "BYOC Secret not read yet");
    return 0;
  }
  if (!sn->claim || !sn->byoc_creds) {
    release(sn, s, "Warning", "CustomerCredentialsGone",
            "the claim or its BYOC Secret is gone: nothing cleaned in the "
            "customer's account");
    return 0;
  }
  if (cl && cl->result == 0)
    cleanup_next(sn, s, cl);
  else if (cl && retry_wait(sn, s, cl, WAIT_S, "IAM cleanup retry wait"))
    ;
  else if (!cl && chk && chk->result == 0)
    acct__aws(s, sn, ACCT_CLEANUP_IAM, "IAM cleanup (customer account)");
  else if (!cl && chk && str_eq(chk->aws_code, "AccessDenied"))
    release(sn, s, "Warning", "CustomerRevokedAccess",
            "the support role cannot be assumed (AccessDenied): the customer "
            "revoked access (or it was never created); nothing cleaned");
  else if (!cl && retry_wait(sn, s, chk, WAIT_S, "AssumeRole retry wait"))
    ;
  else
    acct__aws(s, sn, ACCT_ASSUME_CHECK, "can the support role be assumed");
  fill(sn, s);
  return 0;
}
