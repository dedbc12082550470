/* AWSFederatedRole plan (see plan.h). */
#include "controllers/federatedrole/plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/common/cond.h"
#include "controllers/common/obj.h"
#include "controllers/federatedrole/policy.h"
#include "util/err.h"
#include "util/str.h"

/* What the checks concluded for this generation, or the call still
 * needed. */
struct verdict {
  bool known;
  bool valid;
  const char *reason;
  char message[512];
  enum frole_action next; /* !known: the AWS action to take */
  bool managed_ok;
};

const char *frole_action_name(enum frole_action a)
{
  static const char *const n[] = {
    "done",         "update",        "update-status", "remove-finalizer",
    "stamp-access", "delete-access", "check-managed", "probe-policy",
    "clean-probes",
  };

  return (unsigned)a < FROLE_NACTIONS ? n[a] : "?";
}

void frole_step_init(struct frole_step *s)
{
  memset(s, 0, sizeof(*s));
}

void frole_step_cleanup(struct frole_step *s)
{
  json_decref(s->object_new);
  json_decref(s->managed);
  free(s->doc);
  memset(s, 0, sizeof(*s));
}

static void gen_tag(const json_t *role, char *out, size_t n)
{
  snprintf(out, n, "%s:%lld", obj_uid(role),
           obj_int(role, "metadata.generation", 0));
}

/* uid, generation and the probe policy names of the role. */
static void set_probe_names(const json_t *r, struct frole_step *s)
{
  str_copy(s->uid, obj_uid(r), sizeof(s->uid));
  s->generation = obj_int(r, "metadata.generation", 0);
  snprintf(s->probe_prefix, sizeof(s->probe_prefix), FROLE_PROBE_PREFIX "%s-",
           s->uid);
  snprintf(s->probe_name, sizeof(s->probe_name), "%s%lld", s->probe_prefix,
           s->generation);
}

/* The access names this role (spec.awsFederatedRole). */
static bool refers_to(const json_t *a, const json_t *role)
{
  return str_eq(obj_str(a, "spec.awsFederatedRole.name"), obj_name(role)) &&
         str_eq(obj_str(a, "spec.awsFederatedRole.namespace"),
                obj_namespace(role));
}

static int plan_delete(const struct frole_snap *sn, struct frole_step *s)
{
  size_t i;

  if (!obj_has_finalizer(sn->role, OBJ_FINALIZER)) {
    str_copy(s->why, "deleting, finalizer gone", sizeof(s->why));
    return 0;
  }
  for (i = 0; i < sn->naccesses; i++) {
    const json_t *a = sn->accesses[i];

    if (!refers_to(a, sn->role) || obj_deleting(a))
      continue;
    s->action = FROLE_DELETE_ACCESS;
    str_copy(s->target_ns, obj_namespace(a), sizeof(s->target_ns));
    str_copy(s->target_name, obj_name(a), sizeof(s->target_name));
    str_copy(s->why, "role deleted: delete its accesses", sizeof(s->why));
    plan_event_set(&s->event, "Normal", "AccessDeleted",
                   "AWSFederatedAccountAccess %s/%s deleted with the role",
                   s->target_ns, s->target_name);
    return 0;
  }
  if (!sn->obs || sn->obs->action != FROLE_CLEAN_PROBES ||
      !str_eq(sn->obs->uid, obj_uid(sn->role))) {
    /* probes of older generations a crash left (best effort: any outcome
     * lets the role go) */
    set_probe_names(sn->role, s);
    s->action = FROLE_CLEAN_PROBES;
    str_copy(s->why, "role deleted: remove its leftover probes",
             sizeof(s->why));
    return 0;
  }
  s->action = FROLE_REMOVE_FINALIZER;
  s->object_new = obj_copy_new(sn->role);
  obj_remove_finalizer(s->object_new, OBJ_FINALIZER);
  str_copy(s->why, "no access left", sizeof(s->why));
  return 0;
}

static void invalid(struct verdict *v, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void invalid(struct verdict *v, const char *reason, const char *fmt, ...)
{
  va_list ap;

  v->known = true;
  v->valid = false;
  v->reason = reason;
  va_start(ap, fmt);
  vsnprintf(v->message, sizeof(v->message), fmt, ap);
  va_end(ap);
}

/* The obs belongs to this role's current generation. */
static const struct frole_obs *obs_for(const struct frole_snap *sn)
{
  const struct frole_obs *o = sn->obs;

  if (o && str_eq(o->uid, obj_uid(sn->role)) &&
      o->generation == obj_int(sn->role, "metadata.generation", 0))
    return o;
  return NULL;
}

/* What follows a successful managed check (or none to check). */
static void after_managed(bool has_custom, struct verdict *v)
{
  v->managed_ok = true;
  if (has_custom) {
    v->next = FROLE_PROBE_POLICY;
    return;
  }
  v->known = v->valid = true;
  v->reason = "AllPoliciesValid";
}

static void from_obs(const struct frole_obs *o, const json_t *custom,
                     bool has_managed, struct verdict *v)
{
  const char *cname = obj_str0(custom, "name");

  v->managed_ok = o->managed_ok;
  if (o->action == FROLE_CHECK_MANAGED && !o->result) {
    if (o->unknown[0])
      invalid(v, "InvalidManagedPolicy", "unknown AWS managed policies: %s",
              o->unknown);
    else
      after_managed(custom != NULL, v);
  } else if (o->action == FROLE_PROBE_POLICY && !o->result) {
    v->known = v->valid = true;
    v->reason = "AllPoliciesValid";
  } else if (o->action == FROLE_PROBE_POLICY &&
             str_eq(o->aws_code, "MalformedPolicyDocument")) {
    invalid(v, "InvalidCustomerPolicy", "IAM rejected custom policy %s: %s",
            cname, o->message);
  } else if (o->action == FROLE_PROBE_POLICY &&
             str_eq(o->aws_code, "EntityAlreadyExists")) {
    v->next = FROLE_CLEAN_PROBES;
  } else if (o->action == FROLE_CLEAN_PROBES && !o->result) {
    v->next = FROLE_PROBE_POLICY;
  } else {
    v->next = (enum frole_action)o->action; /* retry after the wait */
  }
  (void)has_managed;
}

static void judge(const struct frole_snap *sn, struct verdict *v)
{
  const json_t *custom = obj_get(sn->role, "spec.awsCustomPolicy");
  const json_t *managed = obj_get(sn->role, "spec.awsManagedPolicies");
  bool has_managed = json_array_size(managed) > 0;
  const struct frole_obs *o = obs_for(sn);
  char msg[400];

  memset(v, 0, sizeof(*v));
  if (!json_is_object(custom))
    custom = NULL;
  if (!custom && !has_managed) {
    invalid(v, "NoAWSCustomPolicyOrAWSManagedPolicies",
            "the role names neither a custom policy (awsCustomPolicy) nor "
            "AWS managed policies (awsManagedPolicies)");
    return;
  }
  if (custom && frole_policy_check(custom, msg, sizeof(msg))) {
    invalid(v, "InvalidCustomerPolicy", "custom policy %s: %s",
            obj_str0(custom, "name"), msg);
    return;
  }
  if (o) {
    from_obs(o, custom, has_managed, v);
    return;
  }
  if (has_managed)
    v->next = FROLE_CHECK_MANAGED;
  else
    after_managed(true, v);
}

/* The status the verdict asks for differs from the role's. */
static bool status_differs(const json_t *role, const struct verdict *v)
{
  const json_t *conds = obj_get(role, "status.conditions");
  const char *want = v->valid ? "Valid" : "Invalid";
  const char *other = v->valid ? "Invalid" : "Valid";
  const json_t *c = cond_find(conds, want);

  return !str_eq(obj_str(role, "status.state"), want) ||
         !cond_is_true(conds, want) ||
         !str_eq(obj_str(c, "reason"), v->reason) ||
         !str_eq(obj_str(c, "message"), v->message) ||
         cond_is_true(conds, other) || cond_is_true(conds, "InProgress");
}

static json_t *status_new(const struct frole_snap *sn, const struct verdict *v)
{
  const char *want = v->valid ? "Valid" : "Invalid";
  json_t *o = cond_obj_set_new(sn->role, want, true, v->reason, v->message,
                               want, sn->now, COND_UPDATE_ALWAYS);
  const char *off[] = { v->valid ? "Invalid" : "Valid", "InProgress" };
  size_t i;

  for (i = 0; i < 2; i++) {
    json_t *c = cond_upsert_new(obj_get(o, "status.conditions"), off[i], false,
                                "", "", sn->now, COND_UPDATE_IF_NEW);

    obj_set_new(o, "status.conditions", c);
  }
  return o;
}

static void set_aws(const struct frole_snap *sn, const struct verdict *v,
                    struct frole_step *s)
{
  const json_t *r = sn->role;
  const json_t *custom = obj_get(r, "spec.awsCustomPolicy");

  s->action = v->next;
  s->managed_ok = v->managed_ok;
  set_probe_names(r, s);
  if (v->next == FROLE_CHECK_MANAGED)
    s->managed = json_incref((json_t *)obj_get(r, "spec.awsManagedPolicies"));
  if (v->next == FROLE_PROBE_POLICY)
    s->doc = frole_policy_doc_new(custom);
  snprintf(s->why, sizeof(s->why), "validating generation %lld", s->generation);
}

/* An AWS action, unless its last failure is too recent to retry. */
static int plan_aws(const struct frole_snap *sn, const struct verdict *v,
                    struct frole_step *s)
{
  const struct frole_obs *o = obs_for(sn);

  if (o && o->result && (int)v->next == o->action &&
      sn->now - o->at < FROLE_RETRY_S) {
    s->requeue_ms = (uint64_t)(FROLE_RETRY_S - (sn->now - o->at)) * PLAN_SEC;
    snprintf(s->why, sizeof(s->why), "%s failed (%s): retry later",
             frole_action_name(v->next), o->aws_code[0] ? o->aws_code : "?");
    return 0;
  }
  set_aws(sn, v, s);
  return s->action == FROLE_PROBE_POLICY && !s->doc ? OP_ENOMEM : 0;
}

static const json_t *access_to_stamp(const struct frole_snap *sn,
                                     const char *tag)
{
  size_t i;

  for (i = 0; i < sn->naccesses; i++) {
    const json_t *a = sn->accesses[i];
    const char *ns = obj_str(a, "spec.awsFederatedRole.namespace");

    if (!str_eq(obj_label(a, FROLE_LABEL_ROLE), obj_name(sn->role)) ||
        obj_deleting(a) ||
        (!str_empty(ns) && !str_eq(ns, obj_namespace(sn->role))))
      continue;
    if (!str_eq(obj_annotation(a, FROLE_ANN_ROLE_GEN), tag))
      return a;
  }
  return NULL;
}

static void stamp(const struct frole_snap *sn, const json_t *a, const char *tag,
                  struct frole_step *s)
{
  json_t *t = obj_time_new(sn->now);

  s->action = FROLE_STAMP_ACCESS;
  s->object_new = obj_copy_new(a);
  obj_set_annotation(s->object_new, FROLE_ANN_LAST_UPDATE,
                     json_string_value(t));
  obj_set_annotation(s->object_new, FROLE_ANN_ROLE_GEN, tag);
  json_decref(t);
  snprintf(s->why, sizeof(s->why), "role changed: re-sync access %s/%s",
           obj_namespace(a), obj_name(a));
}

/* Record the verdict: status, accesses (Valid), the annotation. */
static int plan_record(const struct frole_snap *sn, const struct verdict *v,
                       const char *tag, struct frole_step *s)
{
  const json_t *a;

  if (status_differs(sn->role, v)) {
    s->action = FROLE_UPDATE_STATUS;
    s->object_new = status_new(sn, v);
    snprintf(s->why, sizeof(s->why), "%s: %s", v->valid ? "Valid" : "Invalid",
             v->reason);
    if (v->valid)
      plan_event_set(&s->event, "Normal", "RoleValid", "%s",
                     v->message[0] ? v->message : "all policies valid");
    else
      plan_event_set(&s->event, "Warning", v->reason, "%s", v->message);
    return 0;
  }
  if (v->valid && (a = access_to_stamp(sn, tag))) {
    stamp(sn, a, tag, s);
    return 0;
  }
  s->action = FROLE_UPDATE;
  s->object_new = obj_copy_new(sn->role);
  obj_set_annotation(s->object_new, FROLE_ANN_VALIDATED, tag);
  str_copy(s->why, "generation judged", sizeof(s->why));
  return 0;
}

int frole_plan(const struct frole_snap *sn, struct frole_step *s)
{
  struct verdict v;
  char tag[96];

  frole_step_init(s);
  if (!sn || !sn->role)
    return OP_EINVAL;
  if (!sn->cfg) {
    s->requeue_ms = FROLE_RETRY_S * PLAN_SEC;
    str_copy(s->why, "operator configmap missing or invalid", sizeof(s->why));
    return 0;
  }
  if (sn->cfg->fedramp) {
    str_copy(s->why, "disabled in FedRAMP", sizeof(s->why));
    return 0;
  }
  if (obj_deleting(sn->role))
    return plan_delete(sn, s);
  if (!obj_has_finalizer(sn->role, OBJ_FINALIZER)) {
    s->action = FROLE_UPDATE;
    s->object_new = obj_copy_new(sn->role);
    obj_add_finalizer(s->object_new, OBJ_FINALIZER);
    str_copy(s->why, "add finalizer", sizeof(s->why));
    return 0;
  }
  gen_tag(sn->role, tag, sizeof(tag));
  if (str_eq(obj_annotation(sn->role, FROLE_ANN_VALIDATED), tag) &&
      !str_empty(obj_str(sn->role, "status.state"))) {
    str_copy(s->why, "generation already judged", sizeof(s->why));
    return 0;
  }
  judge(sn, &v);
  if (!v.known)
    return plan_aws(sn, &v, s);
  if (v.valid && !v.message[0])
    str_copy(v.message, "All managed and custom policies are validated",
             sizeof(v.message));
  return plan_record(sn, &v, tag, s);
}
