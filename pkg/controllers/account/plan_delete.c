/* Account plan: deletion (as upstream), non-CCS. The STS-assume retry
 * counter upstream keeps in memory is durable here (annotations). */
#include "controllers/account/plan_int.h"

#include <stdio.h>

#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"

#define ANN_ATTEMPTS "aws.managed.openshift.io/cleanup-attempts"
#define ANN_FAILED_AT "aws.managed.openshift.io/cleanup-failed-at"
#define MAX_ATTEMPTS 3
/* After AccountClientError, a cleanup that still cannot assume the role is
 * tried again this long after its failure (DescribeAccount first), so a
 * revoked role costs two calls per interval, not a loop. */
#define CLIENT_ERROR_RETRY_S 300

static void remove_finalizer(const struct acct_snap *sn, struct acct_step *s,
                             const char *why)
{
  s->action = ACCT_REMOVE_FINALIZER;
  s->object_new = obj_copy_new(sn->account);
  obj_remove_finalizer(s->object_new, OBJ_FINALIZER);
  str_copy(s->why, why, sizeof(s->why));
  plan_event_set(&s->event, "Normal", "FinalizerRemoved", "%s", why);
}

/* Cleanup failed: count it once per observation, back off 30/60/90 s,
 * then AccountClientError. */
static void cleanup_failed(const struct acct_snap *sn, struct acct_step *s,
                           const struct acct_obs *o)
{
  char at[TIME_RFC3339_LEN], n[8];
  long long tries = 0;
  const char *seen = obj_annotation(sn->account, ANN_FAILED_AT);

  str_to_ll(obj_annotation(sn->account, ANN_ATTEMPTS)
                ? obj_annotation(sn->account, ANN_ATTEMPTS)
                : "0",
            0, 1000, &tries);
  time_rfc3339(o->at, at);
  if (!str_eq(seen, at)) {
    tries++;
    if (tries >= MAX_ATTEMPTS) {
      acct__fail(s, sn, ACCT_ST_CLIENT_ERROR, "AssumeRoleFailed",
                 "Cannot assume OrganizationAccountAccessRole for cleanup");
      return;
    }
    str_fmt(n, sizeof(n), "%lld", tries);
    s->action = ACCT_UPDATE;
    s->object_new = obj_copy_new(sn->account);
    obj_set_annotation(s->object_new, ANN_ATTEMPTS, n);
    obj_set_annotation(s->object_new, ANN_FAILED_AT, at);
    s->requeue_ms = (uint64_t)(30 * tries) * PLAN_SEC;
    str_copy(s->why, "cleanup failed, retry", sizeof(s->why));
    return;
  }
  if (sn->now - o->at < 30 * tries) {
    acct__done(s, (uint64_t)(o->at + 30 * tries - sn->now) * PLAN_SEC,
               "cleanup retry wait");
    return;
  }
  acct__aws(s, sn, ACCT_CLEANUP_IAM, "retry IAM cleanup");
}

/* The scan (or the previous call) left this work: make its first call,
 * or remove the finalizer when nothing is left. */
static void cleanup_next(const struct acct_snap *sn, struct acct_step *s,
                         const struct acct_obs *o)
{
  const json_t *w = json_array_get(o->work, 0);
  const char *who =
      obj_str(w, "user") ? obj_str(w, "user") : obj_str(w, "role");
  char why[128];

  if (!w) {
    remove_finalizer(sn, s, "IAM cleanup done");
    return;
  }
  str_fmt(why, sizeof(why), "IAM cleanup: %s %s (%zu left)",
          obj_str(w, "op") ? obj_str(w, "op") : "?", who ? who : "?",
          json_array_size(o->work));
  acct__aws(s, sn, ACCT_CLEANUP_IAM_STEP, why);
  s->work = json_deep_copy(o->work);
}

/* The cleanup failed again after AccountClientError: remember when (an
 * annotation, so a restart keeps waiting), then wait out the interval. */
static bool client_error_wait(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *f = acct__obs(sn, ACCT_CLEANUP_IAM);
  char at[TIME_RFC3339_LEN];
  time_t seen = 0;

  if (!f)
    f = acct__obs(sn, ACCT_CLEANUP_IAM_STEP);
  if (f && f->result < 0) {
    time_rfc3339(f->at, at);
    if (!str_eq(obj_annotation(sn->account, ANN_FAILED_AT), at)) {
      s->action = ACCT_UPDATE;
      s->object_new = obj_copy_new(sn->account);
      obj_set_annotation(s->object_new, ANN_FAILED_AT, at);
      s->requeue_ms = CLIENT_ERROR_RETRY_S * PLAN_SEC;
      str_copy(s->why, "cleanup failed again, retry later", sizeof(s->why));
      return true;
    }
  }
  if (obj_annotation(sn->account, ANN_FAILED_AT) &&
      time_parse_rfc3339(obj_annotation(sn->account, ANN_FAILED_AT), &seen) ==
          0 &&
      sn->now - seen < CLIENT_ERROR_RETRY_S &&
      !acct__obs(sn, ACCT_DESCRIBE_ACCOUNT)) {
    acct__done(s, (uint64_t)(seen + CLIENT_ERROR_RETRY_S - sn->now) * PLAN_SEC,
               "cleanup retry wait");
    return true;
  }
  return false;
}

static void client_error_path(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_DESCRIBE_ACCOUNT);

  if (client_error_wait(sn, s))
    return;

  if (o && o->result == 0 && !str_eq(o->account_status, "ACTIVE")) {
    remove_finalizer(sn, s, "AWS account closed or suspended");
    return;
  }
  if (o && o->result == 0) {
    acct__aws(s, sn, ACCT_CLEANUP_IAM, "IAM cleanup");
    return;
  }
  acct__aws(s, sn, ACCT_DESCRIBE_ACCOUNT, "is the AWS account still active");
}

int acct__plan_delete(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *a = sn->account;
  const struct acct_obs *o;

  if (!obj_has_finalizer(a, OBJ_FINALIZER)) {
    acct__done(s, 0, "deleting, no finalizer of ours");
    return 0;
  }
  if (obj_bool(a, "spec.manualSTSMode")) {
    remove_finalizer(sn, s, "STS account deleted");
    return 0;
  }
  if (obj_bool(a, "spec.byoc"))
    return acct__plan_delete_ccs(sn, s);
  if (str_empty(obj_str(a, "spec.awsAccountID"))) {
    remove_finalizer(sn, s, "no AWS account to clean up");
    if (obj_annotation(a, ACCT_ANN_EMAIL))
      plan_event_set(&s->event, "Warning", "CreationAbandoned",
                     "deleted while CreateAccount for %s may be in flight",
                     obj_annotation(a, ACCT_ANN_EMAIL));
    return 0;
  }
  o = acct__obs(sn, ACCT_CLEANUP_IAM);
  if (!o)
    o = acct__obs(sn, ACCT_CLEANUP_IAM_STEP);
  if (o && o->result == 0) {
    cleanup_next(sn, s, o);
    return 0;
  }
  if (o &&
      !cond_is_true(obj_get(a, "status.conditions"), ACCT_ST_CLIENT_ERROR)) {
    cleanup_failed(sn, s, o);
    return 0;
  }
  if (cond_is_true(obj_get(a, "status.conditions"), ACCT_ST_CLIENT_ERROR)) {
    client_error_path(sn, s);
    return 0;
  }
  acct__aws(s, sn, ACCT_CLEANUP_IAM, "IAM cleanup");
  return 0;
}
