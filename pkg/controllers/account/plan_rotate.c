/* Account plan, Ready plain accounts: the vended IAM access key.
 *
 * Revocation on reuse (revoke-credentials-on-reuse, default on): a Ready,
 * unclaimed account with status.rotateCredentials. The release that set
 * it is named by ACCT_ANN_RELEASED (the claim's uid, written with the
 * unlink): ACCT_REVOKE_KEYS (every key of the user deleted, a new one in
 * the Secret), then ACCT_ANN_KEY = {new, now, "revoked": uid} (an open
 * rotation record dropped in the same write), then rotateCredentials
 * cleared: two writes. A REVOKE observation counts when its key is not
 * the recorded one (the recorded key is the one the tenant had). Without
 * ACCT_ANN_RELEASED (a release by an older version), or with a marker
 * already open, the marker flow: {"revoke": "true", "since"} in
 * ACCT_ANN_KEY_ROTATION, REVOKE, ACCT_ANN_KEY recorded (created >= since:
 * done), rotateCredentials cleared, the marker removed. The claim plan
 * does not hand out an account whose rotateCredentials is still true.
 *
 * Rotation (iam-key-max-age): ACCT_ANN_KEY older than the maximum age ->
 * {"old", "since"} -> ACCT_ROTATE_KEY (new key into the Secret at once)
 * -> {"old", "new", "since"} with ACCT_ANN_KEY = new -> after the grace
 * period ACCT_DELETE_KEY(old) -> the marker removed. Every step is
 * recorded before the next, and each AWS step is idempotent, so a restart
 * at any point resumes. An observation counts only when it arrived after
 * the marker's "since" (the operation table outlives one cycle). */
#include "controllers/account/plan_int.h"

#include <stdlib.h>

#include "controllers/common/cond.h"
#include "controllers/common/obj.h"
#include "util/str.h"
#include "util/timeutil.h"

/* Seconds before a failed key step is tried again (not transient). */
#define KEY_RETRY_S 30

#define COND_REVOKED "CredentialsRevoked"

static json_t *ann_json_new(const json_t *a, const char *k)
{
  const char *v = obj_annotation(a, k);
  json_t *j = v ? json_loads(v, 0, NULL) : NULL;

  if (j && !json_is_object(j)) {
    json_decref(j);
    return NULL;
  }
  return j;
}

static bool json_time(const json_t *o, const char *k, time_t *t)
{
  const char *v = json_string_value(json_object_get(o, k));

  return v && time_parse_rfc3339(v, t) == 0;
}

bool acct_key_ann(const json_t *a, char *id, size_t n, time_t *created)
{
  json_t *j = ann_json_new(a, ACCT_ANN_KEY);
  const char *v = json_string_value(json_object_get(j, "id"));
  bool ok = !str_empty(v) && json_time(j, "created", created);

  if (ok && id)
    str_copy(id, v, n);
  json_decref(j);
  return ok;
}

/* Annotation k = v (stolen) serialized, on obj. */
static void put_ann(json_t *obj, const char *k, json_t *v)
{
  char *txt = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);

  obj_set_annotation(obj, k, txt ? txt : "{}");
  free(txt);
  json_decref(v);
}

static json_t *stamp_new(const char *k1, const char *v1, const char *k2,
                         const char *v2, time_t t, const char *tk)
{
  char ts[TIME_RFC3339_LEN];
  json_t *o = json_object();

  time_rfc3339(t, ts);
  json_object_set_new(o, tk, json_string(ts));
  if (k1)
    json_object_set_new(o, k1, json_string(v1));
  if (k2)
    json_object_set_new(o, k2, json_string(v2));
  return o;
}

/* ACCT_UPDATE of the Account; the caller edits s->object_new. */
static json_t *update(const struct acct_snap *sn, struct acct_step *s,
                      const char *why)
{
  s->action = ACCT_UPDATE;
  s->object_new = obj_copy_new(sn->account);
  str_copy(s->why, why, sizeof(s->why));
  return s->object_new;
}

void acct__record_key(json_t *obj, const char *id, time_t now)
{
  put_ann(obj, ACCT_ANN_KEY, stamp_new("id", id, NULL, NULL, now, "created"));
}

static void key_step(const struct acct_snap *sn, struct acct_step *s,
                     enum acct_action a, const char *key, const char *why)
{
  acct__aws(s, sn, a, why);
  acct__fill_iam(sn, s);
  json_decref(s->tags);
  s->tags = NULL;
  if (key)
    str_copy(s->key_id, key, sizeof(s->key_id));
}

/* A failed (or unusable) fresh observation: wait before trying again;
 * false when the step is due again. */
static bool failed_wait(const struct acct_snap *sn, struct acct_step *s,
                        const struct acct_obs *o, const char *why)
{
  time_t wait = acct__transient(o) ? ACCT_TRANSIENT_RETRY_S : KEY_RETRY_S;
  time_t left = o->at + wait - sn->now;

  if (left <= 0)
    return false;
  acct__done(s, (uint64_t)left * PLAN_SEC, why);
  if (o->result < 0 && !acct__transient(o))
    plan_event_set(&s->event, "Warning", "AccessKeyStepFailed", "%s: %s",
                   acct_action_name(o->action),
                   str_empty(o->aws_code) ? "error" : o->aws_code);
  return true;
}

/* The observation of action a, if it arrived at or after since. */
static const struct acct_obs *fresh(const struct acct_snap *sn,
                                    enum acct_action a, time_t since)
{
  const struct acct_obs *o = acct__obs(sn, a);

  return o && o->at >= since ? o : NULL;
}

static bool revoke_wanted(const struct acct_snap *sn)
{
  const json_t *a = sn->account;

  return sn->cfg->revoke_on_reuse && obj_bool(a, "status.rotateCredentials") &&
         str_empty(obj_str(a, "spec.claimLink"));
}

/* The CredentialsRevoked message of a clear made with key id vended. */
static void revoked_msg(char *buf, size_t n, const char *id)
{
  str_fmt(buf, n, "keys of the previous tenant deleted, access key %s vended",
          id ? id : "");
}

/* The clear also stamps CredentialsRevoked naming the vended key (same
 * status write): a flag found true again while that key is still the
 * recorded one was set anew (by an SRE), which a crash between the key
 * record and the clear cannot produce. Seconds-resolution times could not
 * tell the two apart. */
static void clear_rotate_flag(const struct acct_snap *sn, struct acct_step *s)
{
  char id[64] = "", msg[160];
  time_t created;

  acct_key_ann(sn->account, id, sizeof(id), &created);
  revoked_msg(msg, sizeof(msg), id);
  s->action = ACCT_UPDATE_STATUS;
  s->object_new = cond_obj_set_new(sn->account, COND_REVOKED, true,
                                   "PreviousTenantKeysRevoked", msg, NULL,
                                   sn->now, COND_UPDATE_ALWAYS);
  obj_set_new(s->object_new, "status.rotateCredentials", json_false());
  str_copy(s->why, "previous tenant's keys revoked", sizeof(s->why));
  plan_event_set(&s->event, "Normal", "CredentialsRevoked",
                 "keys of the previous tenant deleted, a new key vended");
}

/* The flag was last cleared with key id the vended one. */
static bool cleared_for(const struct acct_snap *sn, const char *id)
{
  const json_t *c =
      cond_find(obj_get(sn->account, "status.conditions"), COND_REVOKED);
  char msg[160];

  revoked_msg(msg, sizeof(msg), id);
  return !str_empty(id) && str_eq(obj_str(c, "message"), msg);
}

/* The record names this release and was written after its Reused
 * condition (the claim's reuse status): the uid guards against a second
 * release in the same second, the time against a stale uid (a release by
 * a version that does not write ACCT_ANN_RELEASED). */
static bool revoked_for(const struct acct_snap *sn, const json_t *key,
                        const char *rel)
{
  const json_t *c =
      cond_find(obj_get(sn->account, "status.conditions"), "Reused");
  time_t reused, created;

  return str_eq(json_string_value(json_object_get(key, "revoked")), rel) &&
         json_time(c, "lastProbeTime", &reused) &&
         json_time(key, "created", &created) && created >= reused;
}

/* The revocation of the release named rel (ACCT_ANN_RELEASED). */
static void plan_revoke_release(const struct acct_snap *sn, struct acct_step *s,
                                const char *rel)
{
  json_t *key = ann_json_new(sn->account, ACCT_ANN_KEY), *rec, *n;
  const char *cur = json_string_value(json_object_get(key, "id"));
  const struct acct_obs *o = acct__obs(sn, ACCT_REVOKE_KEYS);

  /* revoked, unless the flag was cleared for this key and set again */
  if (revoked_for(sn, key, rel) && !cleared_for(sn, cur)) {
    clear_rotate_flag(sn, s);
  } else if (o && o->result == 0 && !str_empty(o->key_id) &&
             !str_eq(o->key_id, cur)) {
    n = update(sn, s, "record the re-vended key");
    rec = stamp_new("id", o->key_id, "revoked", rel, sn->now, "created");
    put_ann(n, ACCT_ANN_KEY, rec);
    obj_del_annotation(n, ACCT_ANN_KEY_ROTATION); /* superseded */
  } else if (!o || o->result == 0 ||
             !failed_wait(sn, s, o, "revocation retry wait")) {
    key_step(sn, s, ACCT_REVOKE_KEYS, NULL,
             "revoke the previous tenant's keys");
  }
  json_decref(key);
}

static bool plan_revoke(const struct acct_snap *sn, struct acct_step *s,
                        const json_t *rot)
{
  const struct acct_obs *o;
  const char *rel = obj_annotation(sn->account, ACCT_ANN_RELEASED);
  char id[64];
  time_t since, created;

  if (!json_object_get(rot, "revoke")) {
    if (!revoke_wanted(sn))
      return false;
    if (!str_empty(rel)) {
      plan_revoke_release(sn, s, rel);
      return true;
    }
    put_ann(update(sn, s, "revocation on reuse started"), ACCT_ANN_KEY_ROTATION,
            stamp_new("revoke", "true", NULL, NULL, sn->now, "since"));
    return true;
  }
  if (!revoke_wanted(sn) || !json_time(rot, "since", &since)) {
    obj_del_annotation(update(sn, s, "revocation done"), ACCT_ANN_KEY_ROTATION);
    return true;
  }
  /* a record the flag was already cleared for predates this request */
  if (acct_key_ann(sn->account, id, sizeof(id), &created) && created >= since &&
      !cleared_for(sn, id)) {
    clear_rotate_flag(sn, s);
    return true;
  }
  o = fresh(sn, ACCT_REVOKE_KEYS, since);
  if (o && o->result == 0 && !str_empty(o->key_id)) {
    acct__record_key(update(sn, s, "record the re-vended key"), o->key_id,
                     sn->now);
    return true;
  }
  if (o && failed_wait(sn, s, o, "revocation retry wait"))
    return true;
  key_step(sn, s, ACCT_REVOKE_KEYS, NULL, "revoke the previous tenant's keys");
  return true;
}

/* No rotation open: learn the key (first time) or start one when due. */
static bool plan_rotate_start(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_KEY_INSPECT);
  char id[64];
  time_t created;

  if (sn->cfg->iam_key_max_age_s <= 0)
    return false;
  if (!acct_key_ann(sn->account, id, sizeof(id), &created)) {
    if (o && o->result == 0 && !str_empty(o->key_id))
      acct__record_key(update(sn, s, "record the vended key"), o->key_id,
                       sn->now);
    else if (!o || !failed_wait(sn, s, o, "key inspection retry wait"))
      key_step(sn, s, ACCT_KEY_INSPECT, NULL, "read the vended key id");
    return true;
  }
  if (sn->now - created < sn->cfg->iam_key_max_age_s)
    return false;
  put_ann(update(sn, s, "key rotation started"), ACCT_ANN_KEY_ROTATION,
          stamp_new("old", id, NULL, NULL, sn->now, "since"));
  plan_event_set(&s->event, "Normal", "KeyRotationStarted",
                 "access key %s is older than the maximum age", id);
  return true;
}

/* The bound claim's Secret still holds key id: deleting that key would
 * break the cluster using it, so the rotated-out key stays until the
 * claim plan has copied the new one (the claim's update wakes this plan).
 * A claim with no recorded id predates the record: nothing to wait for. */
static bool claim_holds(const struct acct_snap *sn, const char *id)
{
  return sn->claim && str_eq(obj_annotation(sn->claim, CLAIM_ANN_KEY), id);
}

/* {"old", "since"}: store a new key; {"old", "new", "since"}: delete the
 * old one after the grace period, once no claim's Secret holds it. */
static bool plan_rotate_open(const struct acct_snap *sn, struct acct_step *s,
                             const json_t *rot)
{
  const char *old = json_string_value(json_object_get(rot, "old"));
  const char *nk = json_string_value(json_object_get(rot, "new"));
  const struct acct_obs *o;
  time_t since;

  if (str_empty(old) || !json_time(rot, "since", &since)) {
    obj_del_annotation(update(sn, s, "malformed rotation record"),
                       ACCT_ANN_KEY_ROTATION);
    return true;
  }
  if (str_empty(nk)) {
    o = fresh(sn, ACCT_ROTATE_KEY, since);
    if (o && o->result == 0 && !str_empty(o->key_id) &&
        !str_eq(o->key_id, old)) {
      json_t *n = update(sn, s, "new access key stored");

      put_ann(n, ACCT_ANN_KEY_ROTATION,
              stamp_new("old", old, "new", o->key_id, sn->now, "since"));
      acct__record_key(n, o->key_id, sn->now);
      plan_event_set(&s->event, "Normal", "KeyRotated",
                     "access key %s replaces %s", o->key_id, old);
    } else if (!o || !failed_wait(sn, s, o, "key rotation retry wait")) {
      key_step(sn, s, ACCT_ROTATE_KEY, old, "rotate the access key");
    }
    return true;
  }
  if (sn->now < since + sn->cfg->iam_key_grace_s || claim_holds(sn, old))
    return false;
  o = acct__obs(sn, ACCT_DELETE_KEY);
  if (o && !str_eq(o->key_id, old))
    o = NULL;
  if (o && o->result == 0) {
    obj_del_annotation(update(sn, s, "old access key deleted"),
                       ACCT_ANN_KEY_ROTATION);
    plan_event_set(&s->event, "Normal", "OldKeyDeleted",
                   "access key %s deleted after the grace period", old);
  } else if (!o || !failed_wait(sn, s, o, "old key deletion retry wait")) {
    key_step(sn, s, ACCT_DELETE_KEY, old, "delete the rotated-out key");
  }
  return true;
}

static bool keys_apply(const struct acct_snap *sn)
{
  const json_t *a = sn->account;

  return sn->cfg && !obj_bool(a, "spec.byoc") &&
         !obj_bool(a, "spec.manualSTSMode") &&
         !str_empty(obj_str(a, "spec.iamUserSecret"));
}

bool acct__plan_keys(const struct acct_snap *sn, struct acct_step *s)
{
  json_t *rot;
  bool r;

  if (!keys_apply(sn))
    return false;
  rot = ann_json_new(sn->account, ACCT_ANN_KEY_ROTATION);
  if (plan_revoke(sn, s, rot))
    r = true;
  else if (rot)
    r = plan_rotate_open(sn, s, rot);
  else
    r = plan_rotate_start(sn, s);
  json_decref(rot);
  return r;
}

uint64_t acct__key_due_ms(const struct acct_snap *sn)
{
  json_t *rot;
  time_t at = 0, t;

  if (!keys_apply(sn))
    return 0;
  rot = ann_json_new(sn->account, ACCT_ANN_KEY_ROTATION);
  if (rot && json_object_get(rot, "new") && json_time(rot, "since", &t))
    at = claim_holds(sn, json_string_value(json_object_get(rot, "old")))
             ? 0
             : t + sn->cfg->iam_key_grace_s;
  else if (!rot && sn->cfg->iam_key_max_age_s > 0 &&
           acct_key_ann(sn->account, NULL, 0, &t))
    at = t + sn->cfg->iam_key_max_age_s;
  json_decref(rot);
  if (!at)
    return 0;
  return at > sn->now ? (uint64_t)(at - sn->now) * PLAN_SEC : PLAN_SEC;
}
