/* Account plan, state PendingVerification (as upstream): Enterprise
 * Support case creation and resolution polling, interleaved with the
 * service quota requests of plan_quota.c: Ready once the case is resolved
 * and no quota is TODO or IN_PROGRESS. */
#include "controllers/account/plan_int.h"

#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

#define CASE_POLL_S (10 * 60) /* upstream; --support-case-poll-interval */
#define RETRY_S 30

static time_t poll_s(const struct acct_snap *sn)
{
  return sn->case_poll_s ? (time_t)sn->case_poll_s : CASE_POLL_S;
}

/* 30 s + (account id mod 30) s, as upstream after creating the case,
 * capped by the poll interval: a shorter interval (emulators, tests) must
 * not be dominated by the settle wait; the default leaves it as is. */
static time_t after_create_s(const struct acct_snap *sn)
{
  long long id = 0;
  time_t settle;

  str_to_ll(obj_str0(sn->account, "spec.awsAccountID"), 0, 999999999999LL, &id);
  settle = 30 + (time_t)(id % 30);
  return settle < poll_s(sn) ? settle : poll_s(sn);
}

static int wait_left(const struct acct_snap *sn, struct acct_step *s,
                     const struct acct_obs *o, time_t secs, const char *why)
{
  time_t left = o->at + secs - sn->now;

  if (left <= 0)
    return 0;
  acct__done(s, (uint64_t)left * PLAN_SEC, why);
  return 1;
}

/* s->object_new: status update (new); the case id and quotas go in. */
static void record_case_into(const struct acct_snap *sn, struct acct_step *s,
                             const struct acct_obs *o, bool found)
{
  obj_set_str(s->object_new, "status.supportCaseID", o->case_id);
  if (!obj_get(sn->account, "status.regionalServiceQuotas") &&
      !obj_get(sn->account, "status.globalServiceQuotas"))
    acct__quotas_expand(sn, json_object_get(s->object_new, "status"));
  s->requeue_ms = (uint64_t)after_create_s(sn) * PLAN_SEC;
  str_copy(s->why, "record support case", sizeof(s->why));
  plan_event_set(&s->event, "Normal",
                 found ? "SupportCaseFound" : "SupportCaseCreated",
                 found ? "Enterprise Support case %s already open"
                       : "Enterprise Support case %s opened",
                 o->case_id);
}

static void record_case(const struct acct_snap *sn, struct acct_step *s,
                        const struct acct_obs *o, bool found)
{
  s->action = ACCT_UPDATE_STATUS;
  s->object_new = obj_copy_new(sn->account);
  record_case_into(sn, s, o, found);
}

bool acct__plan_case_early(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_CREATE_CASE);

  if (!sn->fresh)
    return false;
  if (!o) {
    acct__aws(s, sn, ACCT_CREATE_CASE, "open Enterprise Support case");
    return true;
  }
  if (o->result < 0 || str_empty(o->case_id))
    return false; /* PendingVerification first, then find or open one */
  acct__cond(s, sn, ACCT_ST_PENDING_VERIFICATION, "PendingVerification",
             "Verification pending (Enterprise Support)",
             ACCT_ST_PENDING_VERIFICATION, COND_UPDATE_ALWAYS);
  record_case_into(sn, s, o, false);
  return true;
}

/* No case recorded: look ours up by subject first (a crash after
 * CreateCase, or a lost answer, must not open a second one), then open
 * one. */
static int no_case(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_CREATE_CASE);
  const struct acct_obs *f = acct__obs(sn, ACCT_FIND_CASE);

  if (o && o->result == 0 && !str_empty(o->case_id)) {
    record_case(sn, s, o, false);
    return 0;
  }
  if (f && f->result == 0 && !str_empty(f->case_id)) {
    record_case(sn, s, f, true);
    return 0;
  }
  if (f && f->result == 0) {
    acct__aws(s, sn, ACCT_CREATE_CASE, "open Enterprise Support case");
    return 0;
  }
  if ((o || f) &&
      wait_left(sn, s, o ? o : f, RETRY_S, "support case retry wait"))
    return 0;
  if (!o && !f && sn->fresh) { /* no case of ours can be open yet */
    acct__aws(s, sn, ACCT_CREATE_CASE, "open Enterprise Support case");
    return 0;
  }
  acct__aws(s, sn, ACCT_FIND_CASE, "is a support case already open");
  return 0;
}

int acct__plan_verify(const struct acct_snap *sn, struct acct_step *s)
{
  const char *cid = obj_str(sn->account, "status.supportCaseID");
  const struct acct_obs *o;
  size_t open;

  if (str_empty(cid))
    return no_case(sn, s);
  o = acct__obs(sn, ACCT_CREATE_CASE);
  if (o && wait_left(sn, s, o, after_create_s(sn), "support case settling"))
    return 0;
  if (acct__plan_quotas(sn, s, &open))
    return 0;
  o = acct__obs(sn, ACCT_DESCRIBE_CASE);
  if (o && o->result == 0 && o->case_resolved && !open) {
    acct__cond(s, sn, ACCT_ST_READY, "Ready", "Account ready to be claimed",
               ACCT_ST_READY, COND_UPDATE_ALWAYS);
    return 0;
  }
  if (o && wait_left(sn, s, o, o->result == 0 ? poll_s(sn) : RETRY_S,
                     "support case not resolved yet"))
    return 0;
  acct__aws(s, sn, ACCT_DESCRIBE_CASE, "poll support case");
  str_copy(s->case_id, cid, sizeof(s->case_id));
  return 0;
}
