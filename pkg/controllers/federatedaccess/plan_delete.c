/* AWSFederatedAccountAccess plan: deletion (plan.h). The role and every
 * local policy named *-<uid> go, then the finalizer. Credentials: the
 * Secret's keys; when the Secret is gone or its keys fail,
 * OrganizationAccountAccessRole in the awsAccountID label's account,
 * assumed with the operator's credentials (upstream's fallback; its second
 * fallback, BYOCAdminAccess-<uid>, is a role of the BYOC flow this
 * operator does not create for accesses). */
#include <stdio.h>
#include <string.h>

#include "controllers/common/obj.h"
#include "controllers/federatedaccess/plan_int.h"
#include "util/err.h"
#include "util/str.h"

static int remove_finalizer(const struct fa_snap *sn, struct fa_step *s,
                            const char *why)
{
  s->action = FA_REMOVE_FINALIZER;
  s->object_new = obj_copy_new(sn->access);
  obj_remove_finalizer(s->object_new, OBJ_FINALIZER);
  str_copy(s->why, why, sizeof(s->why));
  return s->object_new ? 0 : OP_ENOMEM;
}

/* Which credentials the next scan uses: the Secret unless it is missing or
 * the last scan with it failed; the fallback role stays in use while it
 * works. */
static enum fa_creds scan_creds(const struct fa_snap *sn)
{
  const struct fa_obs *o = sn->obs;

  if (!sn->secret_ok)
    return FA_CREDS_ORG_ROLE;
  if (o && o->action == FA_SCAN && o->result && o->creds == FA_CREDS_SECRET)
    return FA_CREDS_ORG_ROLE;
  if (o && o->creds == FA_CREDS_ORG_ROLE &&
      !(o->action == FA_SCAN && o->result))
    return FA_CREDS_ORG_ROLE;
  return FA_CREDS_SECRET;
}

static int scan(const struct fa_snap *sn, struct fa_step *s, const char *why)
{
  s->creds = scan_creds(sn);
  str_copy(s->account_id, fa__s(obj_label(sn->access, FA_LABEL_ACCOUNT)),
           sizeof(s->account_id));
  if (s->creds == FA_CREDS_ORG_ROLE && str_empty(s->account_id))
    return remove_finalizer(sn, s,
                            "no credentials and no account id: "
                            "nothing can be cleaned up");
  return fa__scan(s, why);
}

/* A failed call: Warning, then wait FA_RETRY_MS before scanning again. */
static int failed(const struct fa_snap *sn, struct fa_step *s)
{
  const struct fa_obs *o = sn->obs;
  uint64_t waited = (uint64_t)(sn->now - o->at) * 1000;
  char msg[256];

  if (waited >= FA_RETRY_MS)
    return scan(sn, s, "retry the cleanup");
  fa__fmt_failure(o, "Failed to clean up the target account", msg, sizeof(msg));
  s->requeue_ms = FA_RETRY_MS - waited;
  str_copy(s->why, msg, sizeof(s->why));
  return 0;
}

static int cleanup_step(const struct fa_snap *sn, struct fa_step *s)
{
  const json_t *att = json_object_get(sn->scan, "attached");
  const json_t *orph = json_array_get(json_object_get(sn->scan, "orphans"), 0);
  const json_t *vs = json_object_get(orph, "versions");
  size_t i;

  s->creds = sn->obs->creds;
  str_copy(s->account_id, fa__s(obj_label(sn->access, FA_LABEL_ACCOUNT)),
           sizeof(s->account_id));
  if (json_array_size(att)) {
    s->action = FA_DETACH;
    str_copy(s->policy_arn, json_string_value(json_array_get(att, 0)),
             sizeof(s->policy_arn));
  } else if (orph) {
    str_copy(s->policy_arn, obj_str(orph, "arn"), sizeof(s->policy_arn));
    s->action = FA_DELETE_POLICY;
    for (i = 0; i < json_array_size(vs); i++) {
      const char *v = json_string_value(json_array_get(vs, i));

      if (!str_eq(v, obj_str(orph, "default"))) {
        s->action = FA_DELETE_POLICY_VER;
        str_copy(s->version_id, v, sizeof(s->version_id));
        break;
      }
    }
  } else if (json_is_object(json_object_get(sn->scan, "role"))) {
    s->action = FA_DELETE_ROLE;
  } else {
    plan_event_set(&s->event, "Normal", "AccessRemoved",
                   "role %s and its policies removed", s->role_name);
    return remove_finalizer(sn, s, "role and policies removed");
  }
  str_fmt(s->why, sizeof(s->why), "cleanup: %s %.120s",
          fa_action_name(s->action),
          s->policy_arn[0] ? s->policy_arn : s->role_name);
  return 0;
}

int fa__plan_delete(const struct fa_snap *sn, struct fa_step *s,
                    const char *uid)
{
  const struct fa_obs *o = sn->obs;

  if (!obj_has_finalizer(sn->access, OBJ_FINALIZER)) {
    str_copy(s->why, "deleting, no finalizer", sizeof(s->why));
    return 0;
  }
  if (str_empty(obj_label(sn->access, FA_LABEL_UID)))
    return remove_finalizer(sn, s, "never provisioned");
  if (!sn->cfg) {
    s->requeue_ms = 30 * PLAN_SEC;
    str_copy(s->why, "operator configmap missing or invalid", sizeof(s->why));
    return 0;
  }
  fa__names(sn, s, uid);
  s->deleting = true;
  if (!o || !(o->action == FA_SCAN || fa__is_mutation(o->action)))
    return scan(sn, s, "cleanup: scan the target account");
  if (o->action != FA_SCAN) {
    /* NoSuchEntity: already gone, which is what we want */
    if (o->result && !str_eq(o->aws_code, "NoSuchEntity"))
      return failed(sn, s);
    return scan(sn, s, "cleanup: scan after a change");
  }
  if (o->result) {
    if (o->creds == FA_CREDS_SECRET && sn->secret_ok)
      return scan(sn, s, "cleanup: the Secret's keys failed");
    return failed(sn, s);
  }
  if (!json_is_array(json_object_get(sn->scan, "orphans")))
    return scan(sn, s, "cleanup: scan for the policies");
  return cleanup_step(sn, s);
}
