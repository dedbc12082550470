/* Account plan, state Creating: owner/compliance tags, IAM bootstrap
 * (as upstream) and the hand-over to region initialization. */
#include "controllers/account/plan_int.h"

#include <ctype.h>
#include <stdlib.h>

#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"

static const char *const stages[] = { "", "support-role", "user",
                                      "user-policy" };
static const enum acct_action stage_action[] = {
  ACCT_ENSURE_SUPPORT_ROLE,
  ACCT_ENSURE_IAM_USER,
  ACCT_ATTACH_USER_POLICY,
};

void acct__set_ann(const struct acct_snap *sn, struct acct_step *s,
                   const char *k, const char *v, const char *why)
{
  s->action = ACCT_UPDATE;
  s->object_new = obj_copy_new(sn->account);
  obj_set_annotation(s->object_new, k, v);
  str_copy(s->why, why, sizeof(s->why));
}

/* IAM is eventually consistent: credentials minted in a new account (the
 * role session the bootstrap runs with) can be refused as unknown for a
 * while after the account was created. */
#define NEW_ACCOUNT_CREDS_GRACE_S 300

/* When the account was requested (else when the Account began Creating). */
static bool requested_at(const json_t *a, time_t *t)
{
  const char *at = obj_annotation(a, ACCT_ANN_REQUESTED_AT);

  if (at && time_parse_rfc3339(at, t) == 0)
    return true;
  return obj_time(cond_find(obj_get(a, "status.conditions"), ACCT_ST_CREATING),
                  "lastTransitionTime", t) == 0;
}

/* A failure worth another try: throttled, transient, or credentials the
 * new account does not know yet. */
static bool iam_again(const struct acct_snap *sn, const struct acct_obs *o)
{
  time_t t;

  if (acct__transient(o))
    return true;
  return o && str_eq(o->aws_code, "InvalidClientTokenId") &&
         requested_at(sn->account, &t) &&
         sn->now - t < NEW_ACCOUNT_CREDS_GRACE_S;
}

/* Upstream's IAM error mapping to failure condition types. */
static void iam_fail(const struct acct_snap *sn, struct acct_step *s,
                     const struct acct_obs *o, const char *what)
{
  const char *t = "UnhandledError";

  if (str_eq(o->aws_code, "InvalidClientTokenId"))
    t = "AuthenticationError";
  else if (str_eq(o->aws_code, "AccessDenied"))
    t = "AuthorizationError";
  else if (!str_empty(o->aws_code))
    t = ACCT_ST_CLIENT_ERROR;
  acct__fail(s, sn, t, str_empty(o->aws_code) ? "Error" : o->aws_code, what);
}

static bool plan_tags(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o;

  if (str_eq(obj_annotation(sn->account, ACCT_ANN_TAGGED), "true"))
    return false;
  o = acct__obs(sn, ACCT_TAG_ACCOUNT);
  if (o) {
    /* Best effort like upstream: failures are an event, validation
     * repairs tags later. */
    acct__set_ann(sn, s, ACCT_ANN_TAGGED, "true", "owner tags applied");
    s->ann_soft = !obj_bool(sn->account, "spec.byoc"); /* TagResource again */
    if (o->result < 0)
      plan_event_set(&s->event, "Warning", "TaggingFailed",
                     "TagResource failed: %s", o->aws_code);
    return true;
  }
  acct__aws(s, sn, ACCT_TAG_ACCOUNT, "tag AWS account");
  s->tags = acct__owner_tags(sn->cfg);
  return true;
}

json_t *acct__owner_tags(const struct opcfg *c)
{
  json_t *t = json_object();

  json_object_set_new(t, "owner", json_string(c->shard_name));
  if (c->feat_compliance_tags) {
    json_object_set_new(t, "app-code", json_string(c->app_code));
    json_object_set_new(t, "service-phase", json_string(c->service_phase));
    json_object_set_new(t, "cost-center", json_string(c->cost_center));
  }
  return t;
}

void acct__fill_iam(const struct acct_snap *sn, struct acct_step *s)
{
  char sfx[8];
  size_t i;

  acct__iam_suffix(sn->account, sfx);
  str_fmt(s->role_name, sizeof(s->role_name), "ManagedOpenShift-Support-%s",
          sfx);
  str_fmt(s->user_name, sizeof(s->user_name), "osdManagedAdmin-%s", sfx);
  str_fmt(s->secret_name, sizeof(s->secret_name), "%s-secret",
          obj_name(sn->account));
  for (i = 0; s->secret_name[i]; i++)
    s->secret_name[i] = (char)tolower((unsigned char)s->secret_name[i]);
  if (sn->cfg->support_jump_role)
    str_copy(s->trust_arn, sn->cfg->support_jump_role, sizeof(s->trust_arn));
  s->tags = acct__resource_tags_new(sn);
}

bool acct__plan_iam_stage(const struct acct_snap *sn, struct acct_step *s)
{
  const char *cur = obj_annotation(sn->account, ACCT_ANN_IAM);
  const struct acct_obs *o;
  size_t i;

  for (i = 0; i < 3; i++) {
    if (str_eq(cur ? cur : "", stages[i]))
      break;
  }
  if (i == 3)
    return false; /* "user-policy": all stages done */
  o = acct__obs(sn, stage_action[i]);
  if (o && o->result == 0) {
    acct__set_ann(sn, s, ACCT_ANN_IAM, stages[i + 1], "IAM bootstrap progress");
    /* each stage is create-or-exists: a crash redoes them */
    s->ann_soft = !obj_bool(sn->account, "spec.byoc");
    return true;
  }
  if (o && str_eq(o->aws_code, "OptInRequired")) {
    acct__done(s, PLAN_MIN, "OptInRequired");
    return true;
  }
  if (iam_again(sn, o) &&
      acct__retry_wait(sn, s, o, "IAM bootstrap retry wait"))
    return true;
  if (o && !iam_again(sn, o)) {
    iam_fail(sn, s, o, "IAM bootstrap failed");
    return true;
  }
  acct__aws(s, sn, stage_action[i], "IAM bootstrap");
  acct__fill_iam(sn, s);
  return true;
}

/* The access key composite succeeded, so the Secret exists (ours, or one
 * an earlier pass stored): record its name, and the key it vended, in one
 * write without reading the Secret. */
static void record_secret(const struct acct_snap *sn, struct acct_step *s,
                          const struct acct_obs *o, const char *name)
{
  s->action = ACCT_UPDATE;
  s->object_new = obj_copy_new(sn->account);
  obj_set_str(s->object_new, "spec.iamUserSecret", name);
  /* when the key was vended, for rotation and the key-age metrics */
  if (o && !str_empty(o->key_id))
    acct__record_key(s->object_new, o->key_id, sn->now);
  str_copy(s->why, "record iamUserSecret", sizeof(s->why));
}

/* The IAM Secret: created once, then spec.iamUserSecret names it. Only a
 * plan that cannot tell from the Account and the last observation whether
 * it exists reads it (acct_snap.iam_secret_unknown). */
bool acct__plan_iam_secret(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_CREATE_ACCESS_KEY_SECRET);
  struct acct_step tmp;
  char id[64];
  time_t t;
  bool recorded, key_new;

  acct_step_init(&tmp);
  acct__fill_iam(sn, &tmp);
  json_decref(tmp.tags);
  recorded =
      str_eq(obj_str(sn->account, "spec.iamUserSecret"), tmp.secret_name);
  key_new =
      o && o->result == 0 && !str_empty(o->key_id) &&
      !(acct_key_ann(sn->account, id, sizeof(id), &t) && str_eq(id, o->key_id));
  if (recorded && !key_new)
    return false;
  if (o && o->result == 0) {
    record_secret(sn, s, o, tmp.secret_name);
    return true;
  }
  if (sn->iam_secret_unknown && !sn->fresh) {
    s->need_iam_secret = true;
    acct__done(s, 0, "IAM Secret not read yet");
    return true;
  }
  if (sn->iam_secret_exists) {
    record_secret(sn, s, NULL, tmp.secret_name);
    return true;
  }
  if (iam_again(sn, o) && acct__retry_wait(sn, s, o, "access key retry wait"))
    return true;
  if (o && o->result < 0 && !iam_again(sn, o)) {
    iam_fail(sn, s, o, "Creating the IAM access key Secret failed");
    return true;
  }
  acct__aws(s, sn, ACCT_CREATE_ACCESS_KEY_SECRET, "create access key");
  acct__fill_iam(sn, s);
  return true;
}

int acct__plan_region_list(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_DESCRIBE_REGIONS);
  json_t *map, *v;
  char *txt;
  size_t i;

  if (!o || o->result < 0 || !json_array_size(o->regions)) {
    acct__aws(s, sn, ACCT_DESCRIBE_REGIONS, "list enabled regions");
    if (o && str_eq(o->aws_code, "OptInRequired"))
      acct__done(s, PLAN_MIN, "OptInRequired");
    return 0;
  }
  map = json_object();
  json_array_foreach(o->regions, i, v)
  {
    if (json_is_string(v))
      json_object_set_new(map, json_string_value(v), json_string(""));
  }
  s->action = ACCT_UPDATE;
  s->object_new = obj_copy_new(sn->account);
  txt = json_dumps(map, JSON_SORT_KEYS | JSON_COMPACT);
  obj_set_annotation(s->object_new, ACCT_ANN_REGIONS, txt ? txt : "{}");
  free(txt);
  json_decref(map);
  str_copy(s->why, "record regions to initialize", sizeof(s->why));
  /* a crash lists them again; the final region map is durable */
  s->ann_soft = true;
  return 0;
}

static int plan_to_regions(const struct acct_snap *sn, struct acct_step *s)
{
  if (!obj_annotation(sn->account, ACCT_ANN_REGIONS))
    return acct__plan_region_list(sn, s);
  acct__cond(s, sn, ACCT_ST_INIT_REGIONS, "InitializingRegions",
             "Initializing regions", ACCT_ST_INIT_REGIONS, COND_UPDATE_ALWAYS);
  return 0;
}

int acct__plan_bootstrap(const struct acct_snap *sn, struct acct_step *s)
{
  char sfx[8];

  if (plan_tags(sn, s) || acct__optin_seed(sn, s))
    return 0;
  if (str_empty(obj_label(sn->account, OBJ_LABEL_IAM_USER_ID))) {
    acct__iam_suffix(sn->account, sfx);
    s->action = ACCT_UPDATE;
    s->object_new = obj_copy_new(sn->account);
    obj_set_label(s->object_new, OBJ_LABEL_IAM_USER_ID, sfx);
    str_copy(s->why, "add iamUserId label", sizeof(s->why));
    return 0;
  }
  if (acct__plan_iam_stage(sn, s) || acct__plan_iam_secret(sn, s))
    return 0;
  return plan_to_regions(sn, s);
}

bool acct__plan_iam_restore(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *a = sn->account;
  const struct acct_obs *o = sn->obs;
  enum acct_action next = ACCT_ENSURE_IAM_USER;

  if (!obj_bool(a, "status.reused") || obj_bool(a, "spec.manualSTSMode") ||
      !str_empty(obj_str(a, "spec.claimLink")) ||
      !str_empty(obj_str(a, "spec.iamUserSecret")))
    return false;
  if (sn->iam_secret_exists || sn->iam_secret_unknown)
    return acct__plan_iam_secret(sn, s); /* records spec.iamUserSecret */
  if (o && o->result < 0 &&
      (o->action == ACCT_ENSURE_IAM_USER ||
       o->action == ACCT_ATTACH_USER_POLICY)) {
    if (sn->now - o->at < 30) {
      acct__done(s, (uint64_t)(o->at + 30 - sn->now) * PLAN_SEC,
                 "IAM restore retry wait");
      return true;
    }
  } else if (o && o->action == ACCT_ENSURE_IAM_USER) {
    next = ACCT_ATTACH_USER_POLICY;
  } else if (o && o->action == ACCT_ATTACH_USER_POLICY) {
    return acct__plan_iam_secret(sn, s);
  } else if (o && o->action == ACCT_CREATE_ACCESS_KEY_SECRET) {
    return acct__plan_iam_secret(sn, s);
  }
  acct__aws(s, sn, next, "restore IAM user of a reused account");
  acct__fill_iam(sn, s);
  return true;
}
