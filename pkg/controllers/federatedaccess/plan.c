/* AWSFederatedAccountAccess plan: validation, metadata and the converging
 * provisioning steps (plan.h). Deletion: plan_delete.c. */
#include "controllers/federatedaccess/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core/endpoints.h"
#include "controllers/common/cond.h"
#include "controllers/common/names.h"
#include "controllers/common/obj.h"
#include "controllers/federatedaccess/plan_int.h"
#include "util/err.h"
#include "util/str.h"

const char *fa_action_name(enum fa_action a)
{
  static const char *const n[FA_NACTIONS] = {
    "done",
    "update",
    "update-status",
    "remove-finalizer",
    "scan",
    "create-policy",
    "create-policy-version",
    "delete-policy-version",
    "delete-policy",
    "create-role",
    "update-trust",
    "attach-policy",
    "detach-policy",
    "delete-role",
  };

  return (unsigned)a < FA_NACTIONS ? n[a] : "?";
}

void fa_step_init(struct fa_step *s)
{
  memset(s, 0, sizeof(*s));
}

void fa_step_cleanup(struct fa_step *s)
{
  json_decref(s->object_new);
  free(s->doc);
  memset(s, 0, sizeof(*s));
}

/* ---- documents ---------------------------------------------------------- */

static json_t *statement_new(const json_t *st)
{
  json_t *o = json_object();
  const json_t *v;

  json_object_set_new(o, "Effect", json_string(obj_str(st, "effect")));
  if ((v = json_object_get(st, "action")))
    json_object_set(o, "Action", (json_t *)v);
  if ((v = json_object_get(st, "resource")))
    json_object_set(o, "Resource", (json_t *)v);
  if (json_object_size(json_object_get(st, "condition")))
    json_object_set(o, "Condition", json_object_get(st, "condition"));
  if ((v = obj_get(st, "principal.AWS")))
    json_object_set_new(o, "Principal", json_pack("{sO}", "AWS", v));
  return o;
}

char *fa_policy_doc(const json_t *role)
{
  const json_t *sts = obj_get(role, "spec.awsCustomPolicy.awsStatements");
  json_t *doc, *arr;
  size_t i;
  char *out;

  if (!json_array_size(sts) ||
      str_empty(obj_str(role, "spec.awsCustomPolicy.name")))
    return NULL;
  arr = json_array();
  for (i = 0; i < json_array_size(sts); i++)
    json_array_append_new(arr, statement_new(json_array_get(sts, i)));
  doc = json_pack("{s:s,s:o}", "Version", "2012-10-17", "Statement", arr);
  out = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
  json_decref(doc);
  return out;
}

char *fa_trust_doc(const char *principal)
{
  json_t *doc =
      json_pack("{s:s,s:[{s:s,s:{s:s},s:s}]}", "Version", "2012-10-17",
                "Statement", "Effect", "Allow", "Principal", "AWS",
                principal ? principal : "", "Action", "sts:AssumeRole");
  char *out = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

  json_decref(doc);
  return out;
}

/* IAM may return a one-element list as a scalar (or keep it): compare
 * with single-element arrays unwrapped. */
static json_t *normal_new(const json_t *v)
{
  json_t *o;
  const char *k;
  json_t *x;
  size_t i;

  if (json_is_array(v) && json_array_size(v) == 1)
    return normal_new(json_array_get(v, 0));
  if (json_is_array(v)) {
    o = json_array();
    for (i = 0; i < json_array_size(v); i++)
      json_array_append_new(o, normal_new(json_array_get(v, i)));
    return o;
  }
  if (json_is_object(v)) {
    o = json_object();
    json_object_foreach((json_t *)v, k, x)
    {
      json_object_set_new(o, k, normal_new(x));
    }
    return o;
  }
  return json_deep_copy(v);
}

bool fa_doc_equal(const char *a, const char *b)
{
  json_t *ja = a ? json_loads(a, 0, NULL) : NULL;
  json_t *jb = b ? json_loads(b, 0, NULL) : NULL;
  json_t *na = normal_new(ja), *nb = normal_new(jb);
  bool eq = ja && jb && json_equal(na, nb);

  json_decref(ja);
  json_decref(jb);
  json_decref(na);
  json_decref(nb);
  return eq;
}

int fa_console_url(const char *partition, const char *account, const char *role,
                   char *out, size_t n)
{
  const char *host = str_eq(partition, "aws-us-gov")
                         ? "signin.amazonaws-us-gov.com"
                         : "signin.aws.amazon.com";

  return str_fmt(out, n, "https://%s/switchrole?account=%s&roleName=%s", host,
                 account, role) < 0
             ? OP_ETOOBIG
             : 0;
}

/* ---- status and metadata ---------------------------------------------- */

static const char *const cond_types[] = { FA_ST_IN_PROGRESS, FA_ST_READY,
                                          FA_ST_FAILED };

/* The access with state and its condition True (the others False). */
static json_t *status_new(const struct fa_snap *sn, const char *state,
                          const char *msg)
{
  json_t *o = cond_obj_set_new(sn->access, state, true, state, msg, state,
                               sn->now, COND_UPDATE_ALWAYS);
  json_t *c;
  size_t i;

  for (i = 0; o && i < 3; i++) {
    if (str_eq(cond_types[i], state))
      continue;
    c = cond_upsert_new(obj_get(o, "status.conditions"), cond_types[i], false,
                        cond_types[i], "", sn->now, COND_UPDATE_IF_NEW);
    obj_set_new(o, "status.conditions", c);
  }
  return o;
}

static bool status_is(const json_t *a, const char *state, const char *msg)
{
  const json_t *c = cond_find(obj_get(a, "status.conditions"), state);

  return str_eq(obj_str(a, "status.state"), state) &&
         str_eq(obj_str(c, "status"), "True") &&
         str_eq(obj_str(c, "message"), msg);
}

int fa__set_state(const struct fa_snap *sn, struct fa_step *s,
                  const char *state, const char *msg, uint64_t requeue_ms)
{
  s->requeue_ms = requeue_ms;
  if (status_is(sn->access, state, msg)) {
    snprintf(s->why, sizeof(s->why), "%s: %s", state, msg);
    return 0;
  }
  s->action = FA_UPDATE_STATUS;
  s->object_new = status_new(sn, state, msg);
  snprintf(s->why, sizeof(s->why), "state %s", state);
  if (str_eq(state, FA_ST_FAILED))
    plan_event_set(&s->event, "Warning", "AccessFailed", "%s", msg);
  return s->object_new ? 0 : OP_ENOMEM;
}

static int update_meta(const struct fa_snap *sn, struct fa_step *s,
                       const char *why)
{
  s->action = FA_UPDATE;
  s->object_new = obj_copy_new(sn->access);
  str_copy(s->why, why, sizeof(s->why));
  return s->object_new ? 0 : OP_ENOMEM;
}

void fa__uid(const json_t *access, char out[8])
{
  const char *l = obj_label(access, FA_LABEL_UID);

  /* a label already there (upstream's random one) is kept */
  if (!str_empty(l) && strlen(l) < 8)
    str_copy(out, l, 8);
  else
    names_suffix_from(obj_uid(access), out);
}

static int plan_meta(const struct fa_snap *sn, struct fa_step *s,
                     const char *uid, bool *acted)
{
  const char *role = obj_str(sn->access, "spec.awsFederatedRole.name");

  *acted = true;
  if (!obj_has_finalizer(sn->access, OBJ_FINALIZER)) {
    int rc = update_meta(sn, s, "add the finalizer");

    obj_add_finalizer(s->object_new, OBJ_FINALIZER);
    return rc;
  }
  if (!str_eq(obj_label(sn->access, FA_LABEL_UID), uid) ||
      !str_eq(obj_label(sn->access, FA_LABEL_ROLE), role)) {
    int rc = update_meta(sn, s, "labels uid and awsFederatedRoleName");

    obj_set_label(s->object_new, FA_LABEL_UID, uid);
    obj_set_label(s->object_new, FA_LABEL_ROLE, role);
    return rc;
  }
  *acted = false;
  return 0;
}

/* ---- the AWS side -------------------------------------------------------- */

bool fa__is_mutation(enum fa_action a)
{
  return a >= FA_CREATE_POLICY && a < FA_NACTIONS;
}

void fa__fmt_failure(const struct fa_obs *o, const char *what, char *out,
                     size_t n)
{
  snprintf(out, n, "%s: %s", what,
           o->aws_code[0] ? o->aws_code : op_strerror(o->result));
}

static const char *failure_text(enum fa_action a)
{
  switch (a) {
  case FA_CREATE_POLICY:
  case FA_CREATE_POLICY_VER:
  case FA_DELETE_POLICY_VER:
    return "Failed to create custom policy";
  case FA_CREATE_ROLE:
  case FA_UPDATE_TRUST:
    return "Failed to create role";
  case FA_ATTACH:
  case FA_DETACH:
    return "Failed to attach policies to role";
  default:
    return "Failed to read the target account";
  }
}

void fa__names(const struct fa_snap *sn, struct fa_step *s, const char *uid)
{
  const char *cp = obj_str(sn->role, "spec.awsCustomPolicy.name");

  str_copy(s->uid, uid, sizeof(s->uid));
  str_copy(s->partition, opcfg_partition(sn->cfg), sizeof(s->partition));
  str_fmt(s->role_name, sizeof(s->role_name), "%s-%s",
          obj_str(sn->access, "spec.awsFederatedRole.name"), uid);
  if (fa_policy_doc_present(sn->role))
    str_fmt(s->policy_name, sizeof(s->policy_name), "%s-%s", cp, uid);
  str_copy(s->role_update,
           fa__s(obj_annotation(sn->access, FA_ANN_ROLE_UPDATE)),
           sizeof(s->role_update));
}

bool fa_policy_doc_present(const json_t *role)
{
  return json_array_size(obj_get(role, "spec.awsCustomPolicy.awsStatements")) &&
         !str_empty(obj_str(role, "spec.awsCustomPolicy.name"));
}

int fa__scan(struct fa_step *s, const char *why)
{
  s->action = FA_SCAN;
  str_copy(s->why, why, sizeof(s->why));
  return 0;
}

/* The last observation says what to do before converging: 1 = s is the
 * step, 0 = the scan is fresh, go on. */
static int after_obs(const struct fa_snap *sn, struct fa_step *s, int *rc)
{
  const struct fa_obs *o = sn->obs;
  char msg[256];
  uint64_t waited;

  if (!o || !(o->action == FA_SCAN || fa__is_mutation(o->action))) {
    *rc = fa__scan(s, "no observation of the target account");
    return 1;
  }
  waited = (uint64_t)(sn->now - o->at) * 1000;
  if (o->result) {
    fa__fmt_failure(o, failure_text(o->action), msg, sizeof(msg));
    if (!status_is(sn->access, FA_ST_FAILED, msg) || waited < FA_RETRY_MS) {
      *rc = fa__set_state(sn, s, FA_ST_FAILED, msg,
                          waited < FA_RETRY_MS ? FA_RETRY_MS - waited : 1);
      return 1;
    }
    *rc = fa__scan(s, "retry after a failure");
    return 1;
  }
  if (o->action != FA_SCAN) {
    *rc = fa__scan(s, "scan after a change");
    return 1;
  }
  if (waited >= FA_RESYNC_MS ||
      !str_eq(o->role_update,
              fa__s(obj_annotation(sn->access, FA_ANN_ROLE_UPDATE)))) {
    *rc = fa__scan(s, "resync");
    return 1;
  }
  return 0;
}

int fa_plan(const struct fa_snap *sn, struct fa_step *s)
{
  const char *ns, *sns;
  char uid[8], msg[256];
  bool acted;
  int rc;

  fa_step_init(s);
  if (!sn || !sn->access)
    return OP_EINVAL;
  if (obj_paused(sn->access)) {
    str_copy(s->why, "paused", sizeof(s->why));
    return 0;
  }
  fa__uid(sn->access, uid);
  if (obj_deleting(sn->access))
    return fa__plan_delete(sn, s, uid);
  ns = obj_namespace(sn->access);
  sns = obj_str(sn->access, "spec.awsCustomerCredentialSecret.namespace");
  if (!str_eq(ns, sns)) {
    snprintf(msg, sizeof(msg),
             "Invalid spec: the credential Secret must be in the access's "
             "namespace %s, not '%s'",
             ns, sns);
    return fa__set_state(sn, s, FA_ST_FAILED, msg, 0);
  }
  if (!sn->role)
    return fa__set_state(sn, s, FA_ST_FAILED, "Requested role does not exist",
                         0);
  rc = plan_meta(sn, s, uid, &acted);
  if (acted || rc)
    return rc;
  if (!str_eq(obj_str(sn->role, "status.state"), FA_ROLE_VALID)) {
    snprintf(msg, sizeof(msg), "Waiting for role %s to be Valid",
             obj_name(sn->role));
    return fa__set_state(sn, s, FA_ST_IN_PROGRESS, msg, FA_WAIT_ROLE_MS);
  }
  if (!sn->cfg) {
    s->requeue_ms = 30 * PLAN_SEC;
    str_copy(s->why, "operator configmap missing or invalid", sizeof(s->why));
    return 0;
  }
  if (!sn->secret_ok) {
    snprintf(msg, sizeof(msg),
             "Failed to read the credential Secret %s: missing or without "
             "aws_access_key_id/aws_secret_access_key",
             obj_str(sn->access, "spec.awsCustomerCredentialSecret.name"));
    return fa__set_state(sn, s, FA_ST_FAILED, msg, FA_RETRY_MS);
  }
  fa__names(sn, s, uid);
  if (after_obs(sn, s, &rc))
    return rc;
  return fa__converge(sn, s);
}
