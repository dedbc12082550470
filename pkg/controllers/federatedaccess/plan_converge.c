/* AWSFederatedAccountAccess plan: one IAM call toward the desired state
 * from a fresh scan of the target account, else Ready (plan.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core/endpoints.h"
#include "controllers/common/obj.h"
#include "controllers/federatedaccess/plan_int.h"
#include "util/err.h"
#include "util/str.h"

static bool in_list(const json_t *arr, const char *s)
{
  size_t i;

  for (i = 0; i < json_array_size(arr); i++) {
    if (str_eq(json_string_value(json_array_get(arr, i)), s))
      return true;
  }
  return false;
}

/* The oldest version that is not the default (smallest vN). */
static const char *oldest_non_default(const json_t *pol)
{
  const json_t *vs = json_object_get(pol, "versions");
  const char *def = obj_str(pol, "default"), *best = NULL;
  long bn = 0;
  size_t i;

  for (i = 0; i < json_array_size(vs); i++) {
    const char *v = json_string_value(json_array_get(vs, i));
    long n = v && v[0] == 'v' ? strtol(v + 1, NULL, 10) : 0;

    if (!v || str_eq(v, def))
      continue;
    if (!best || n < bn) {
      best = v;
      bn = n;
    }
  }
  return best;
}

static int policy_step(const struct fa_snap *sn, struct fa_step *s, bool *acted)
{
  const json_t *pol = json_object_get(sn->scan, "policy");
  char *want = fa_policy_doc(sn->role);
  const char *old;

  *acted = true;
  if (!json_is_object(pol)) {
    s->action = FA_CREATE_POLICY;
    str_copy(s->description,
             obj_str(sn->role, "spec.awsCustomPolicy.description"),
             sizeof(s->description));
    str_copy(s->why, "create the custom policy", sizeof(s->why));
  } else if (!fa_doc_equal(obj_str(pol, "doc"), want)) {
    str_copy(s->policy_arn, obj_str(pol, "arn"), sizeof(s->policy_arn));
    old = oldest_non_default(pol);
    if (json_array_size(json_object_get(pol, "versions")) >= 5 && old) {
      s->action = FA_DELETE_POLICY_VER;
      str_copy(s->version_id, old, sizeof(s->version_id));
      str_copy(s->why, "at the 5-version limit", sizeof(s->why));
    } else {
      s->action = FA_CREATE_POLICY_VER;
      str_copy(s->why, "custom policy drifted", sizeof(s->why));
      plan_event_set(&s->event, "Normal", "PolicyUpdated",
                     "custom policy %s set to the role's document",
                     s->policy_name);
    }
  } else {
    *acted = false;
  }
  if (*acted && s->action != FA_DELETE_POLICY_VER)
    s->doc = want;
  else
    free(want);
  return 0;
}

static int role_step(const struct fa_snap *sn, struct fa_step *s, bool *acted)
{
  const json_t *role = json_object_get(sn->scan, "role");
  char *trust =
      fa_trust_doc(obj_str(sn->access, "spec.externalCustomerAWSIAMARN"));

  *acted = true;
  if (!json_is_object(role)) {
    s->action = FA_CREATE_ROLE;
    str_copy(s->description, obj_str(sn->role, "spec.roleDescription"),
             sizeof(s->description));
    str_copy(s->why, "create the role", sizeof(s->why));
  } else if (!fa_doc_equal(obj_str(role, "trust"), trust)) {
    s->action = FA_UPDATE_TRUST;
    str_copy(s->why, "trust policy drifted", sizeof(s->why));
  } else {
    *acted = false;
  }
  if (*acted)
    s->doc = trust;
  else
    free(trust);
  return 0;
}

/* Exactly the managed policies and the custom one attached. */
static json_t *wanted_new(const struct fa_snap *sn, const struct fa_step *s,
                          const char *acct)
{
  const json_t *m = obj_get(sn->role, "spec.awsManagedPolicies");
  json_t *out = json_array();
  char arn[320], res[256];
  size_t i;

  for (i = 0; i < json_array_size(m); i++) {
    const char *n = json_string_value(json_array_get(m, i));

    if (str_empty(n) || str_fmt(res, sizeof(res), "policy/%s", n) < 0 ||
        aws_arn_fmt(arn, sizeof(arn), s->partition, "iam", "aws", res))
      continue;
    json_array_append_new(out, json_string(arn));
  }
  if (s->policy_name[0] &&
      str_fmt(res, sizeof(res), "policy/%s", s->policy_name) >= 0 &&
      !aws_arn_fmt(arn, sizeof(arn), s->partition, "iam", acct, res))
    json_array_append_new(out, json_string(arn));
  return out;
}

static bool attach_step(const struct fa_snap *sn, struct fa_step *s,
                        const char *acct)
{
  const json_t *have = json_object_get(sn->scan, "attached");
  json_t *want = wanted_new(sn, s, acct);
  bool acted = false;
  size_t i;

  for (i = 0; !acted && i < json_array_size(want); i++) {
    const char *a = json_string_value(json_array_get(want, i));

    if (!in_list(have, a)) {
      s->action = FA_ATTACH;
      str_copy(s->policy_arn, a, sizeof(s->policy_arn));
      acted = true;
    }
  }
  for (i = 0; !acted && i < json_array_size(have); i++) {
    const char *a = json_string_value(json_array_get(have, i));

    if (!in_list(want, a)) {
      s->action = FA_DETACH;
      str_copy(s->policy_arn, a, sizeof(s->policy_arn));
      acted = true;
    }
  }
  if (acted)
    str_fmt(s->why, sizeof(s->why), "%s %.120s", fa_action_name(s->action),
            s->policy_arn);
  json_decref(want);
  return acted;
}

static int ready(const struct fa_snap *sn, struct fa_step *s, const char *acct)
{
  char url[512];
  int rc;

  if (fa_console_url(s->partition, acct, s->role_name, url, sizeof(url)))
    return OP_ETOOBIG;
  rc = fa__set_state(sn, s, FA_ST_READY, "Account Access Ready", FA_RESYNC_MS);
  if (rc)
    return rc;
  if (s->action == FA_DONE &&
      !str_eq(obj_str(sn->access, "status.consoleURL"), url)) {
    s->action = FA_UPDATE_STATUS;
    s->object_new = obj_copy_new(sn->access);
  }
  if (s->action == FA_UPDATE_STATUS) {
    obj_set_str(s->object_new, "status.consoleURL", url);
    plan_event_set(&s->event, "Normal", "AccessReady",
                   "role %s ready in account %s", s->role_name, acct);
  }
  return 0;
}

int fa__converge(const struct fa_snap *sn, struct fa_step *s)
{
  const char *acct = obj_str(sn->scan, "account");
  bool acted;
  int rc;

  if (str_empty(acct))
    return fa__scan(s, "scan without an account id");
  if (!str_eq(obj_label(sn->access, FA_LABEL_ACCOUNT), acct)) {
    s->action = FA_UPDATE;
    s->object_new = obj_copy_new(sn->access);
    obj_set_label(s->object_new, FA_LABEL_ACCOUNT, acct);
    str_copy(s->why, "label awsAccountID", sizeof(s->why));
    return 0;
  }
  if (s->policy_name[0]) {
    rc = policy_step(sn, s, &acted);
    if (rc || acted)
      return rc;
  }
  rc = role_step(sn, s, &acted);
  if (rc || acted)
    return rc;
  if (attach_step(sn, s, acct))
    return 0;
  return ready(sn, s, acct);
}
