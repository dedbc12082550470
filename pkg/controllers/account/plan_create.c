/* Account plan: crash-safe AWS account creation (as upstream, with the
 * improvements described in plan.h). */
#include "controllers/account/plan_int.h"

#include "controllers/common/names.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"

#define RETRY_S 30
#define RECOVER_FRESH_S 60
#define LIMIT_REQUEUE (5 * PLAN_MIN)
#define EMAIL_GRACE_S (10 * 60)

/* The observation is older than secs: time to act again. Otherwise a DONE
 * step requeued for the remaining time. */
static bool waited(const struct acct_snap *sn, struct acct_step *s,
                   const struct acct_obs *o, time_t secs, const char *why)
{
  time_t left = o->at + secs - sn->now;

  if (left <= 0)
    return true;
  acct__done(s, (uint64_t)left * PLAN_SEC, why);
  return false;
}

static void record_account_id(const struct acct_snap *sn, struct acct_step *s,
                              const char *id, const char *reason)
{
  s->action = ACCT_UPDATE;
  s->object_new = obj_copy_new(sn->account);
  obj_set_str(s->object_new, "spec.awsAccountID", id);
  str_copy(s->why, reason, sizeof(s->why));
  plan_event_set(&s->event, "Normal", reason, "AWS account %s recorded", id);
}

/* tagged: the request is our own CreateAccount, which carried the tags
 * (a recovered one may predate that: TagResource later). */
static void record_request(const struct acct_snap *sn, struct acct_step *s,
                           const char *req, bool tagged)
{
  json_t *ts = obj_time_new(sn->now);

  s->action = ACCT_UPDATE;
  s->object_new = obj_copy_new(sn->account);
  obj_set_annotation(s->object_new, ACCT_ANN_REQUEST_ID, req);
  if (tagged)
    obj_set_annotation(s->object_new, ACCT_ANN_TAGGED, "true");
  obj_set_annotation(s->object_new, ACCT_ANN_REQUESTED_AT,
                     json_string_value(ts));
  json_decref(ts);
  str_copy(s->why, "record CreateAccount request id", sizeof(s->why));
}

static void drop_request(const struct acct_snap *sn, struct acct_step *s,
                         const char *reason, uint64_t requeue)
{
  s->action = ACCT_UPDATE;
  s->object_new = obj_copy_new(sn->account);
  obj_del_annotation(s->object_new, ACCT_ANN_REQUEST_ID);
  obj_del_annotation(s->object_new, ACCT_ANN_REQUESTED_AT);
  s->requeue_ms = requeue;
  str_copy(s->why, reason, sizeof(s->why));
  plan_event_set(&s->event, "Warning", reason,
                 "CreateAccount request failed (%s), will retry", reason);
}

/* The account-limit gate (upstream step 7; FedRAMP skips it). */
static bool gate_blocks(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *c;

  if (sn->limit_allows || sn->cfg->fedramp)
    return false;
  c = cond_find(obj_get(sn->account, "status.conditions"), ACCT_ST_PENDING);
  if (c && str_eq(obj_str(c, "status"), "True") &&
      str_eq(obj_str(c, "reason"), "AWSAccountLimitReached")) {
    acct__done(s, LIMIT_REQUEUE, "account limit reached");
    return true;
  }
  acct__cond(s, sn, ACCT_ST_PENDING, "AWSAccountLimitReached",
             "Account limit reached, waiting", NULL, COND_UPDATE_ALWAYS);
  s->requeue_ms = LIMIT_REQUEUE;
  plan_event_set(&s->event, "Warning", "AWSAccountLimitReached",
                 "AWS account limit reached; account creation waits");
  return true;
}

static int start_create(const struct acct_snap *sn, struct acct_step *s,
                        const char *email)
{
  if (gate_blocks(sn, s))
    return 0;
  if (!sn->create_slot_free) {
    acct__done(s, 15 * PLAN_SEC, "waiting for a CreateAccount slot");
    s->wants_slot = true;
    return 0;
  }
  acct__aws(s, sn, ACCT_CREATE_ACCOUNT, "create AWS account");
  str_copy(s->email, email, sizeof(s->email));
  s->tags = acct__owner_tags(sn->cfg); /* no TagResource afterwards */
  plan_event_set(&s->event, "Normal", "CreatingAccount",
                 "Calling CreateAccount for %s", email);
  return 0;
}

static bool is_retryable(const struct acct_obs *o)
{
  return str_eq(o->aws_code, "ConcurrentModificationException") ||
         str_eq(o->aws_code, "TooManyRequestsException") ||
         str_eq(o->aws_code, "ServiceException") || str_empty(o->aws_code) ||
         acct__transient(o);
}

/* The last CreateAccount call failed (or its annotation write did). */
static int after_create(const struct acct_snap *sn, struct acct_step *s,
                        const struct acct_obs *o)
{
  if (o->result == 0 && !str_empty(o->request_id)) {
    record_request(sn, s, o->request_id, true);
    return 0;
  }
  if (str_eq(o->aws_code, "ConstraintViolationException")) {
    if (waited(sn, s, o, LIMIT_REQUEUE / PLAN_SEC, "account limit exceeded"))
      acct__aws(s, sn, ACCT_RECOVER, "recover after limit wait");
    plan_event_set(&s->event, "Warning", "AWSAccountLimitReached",
                   "CreateAccount: organization account limit exceeded");
    return 0;
  }
  if (is_retryable(o)) {
    if (waited(sn, s, o, RETRY_S, "CreateAccount retry wait"))
      acct__aws(s, sn, ACCT_RECOVER, "recover before retrying");
    return 0;
  }
  acct__fail(s, sn, ACCT_ST_CREATION_FAILED, o->aws_code,
             "CreateAccount failed");
  return 0;
}

/* E-mail recorded, no request id: recover first, then (maybe) create. */
static int recover_or_create(const struct acct_snap *sn, struct acct_step *s,
                             const char *email)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_CREATE_ACCOUNT);

  if (o)
    return after_create(sn, s, o);
  o = acct__obs(sn, ACCT_RECOVER);
  if (o && o->own_email)
    return start_create(sn, s, email);
  if (o && o->result < 0) {
    if (waited(sn, s, o, RETRY_S, "recovery retry wait"))
      acct__aws(s, sn, ACCT_RECOVER, "recover create request");
    return 0;
  }
  if (!o || sn->now - o->at > RECOVER_FRESH_S) {
    acct__aws(s, sn, ACCT_RECOVER, "recover create request");
    str_copy(s->email, email, sizeof(s->email));
    return 0;
  }
  if (!str_empty(o->account_id)) {
    record_account_id(sn, s, o->account_id, "AccountRecovered");
    return 0;
  }
  if (!str_empty(o->request_id)) {
    record_request(sn, s, o->request_id, false);
    return 0;
  }
  return start_create(sn, s, email);
}

static uint64_t now_ms(const struct acct_snap *sn)
{
  return sn->now_ms ? sn->now_ms : (uint64_t)sn->now * PLAN_SEC;
}

static uint64_t obs_ms(const struct acct_obs *o)
{
  return o->at_ms ? o->at_ms : (uint64_t)o->at * PLAN_SEC;
}

/* When the request was made (ms): AWS's RequestedTimestamp as observed,
 * else the annotation (whole seconds, e.g. after a restart). */
static uint64_t requested_ms(const struct acct_snap *sn,
                             const struct acct_obs *o)
{
  const char *v = obj_annotation(sn->account, ACCT_ANN_REQUESTED_AT);
  time_t at;

  if (o && o->requested_at > 0)
    return (uint64_t)(o->requested_at * 1000.0);
  if (v && time_parse_rfc3339(v, &at) == 0)
    return (uint64_t)at * PLAN_SEC;
  return now_ms(sn);
}

#define POLL_MARGIN_MS 10

/* Upstream polled in a tight loop. With an estimate of how long the
 * organization's creations take, look once just after that, then every
 * sixteenth of the time spent (0.05-60 s): a finished request frees its
 * CreateAccount slot within a few percent of its length (at T = 1 s the
 * margin alone was 5 % of each slot at 50 ms). Without one, a quarter of
 * the time spent (1-60 s). */
uint64_t acct_create_poll_ms(uint64_t elapsed_ms, double est_s)
{
  uint64_t est = est_s > 0 ? (uint64_t)(est_s * 1000.0) : 0;
  uint64_t d, lo = est ? 50 : 1000;

  if (est && elapsed_ms < est + POLL_MARGIN_MS)
    return est + POLL_MARGIN_MS - elapsed_ms;
  d = elapsed_ms / (est ? 16 : 4);
  return d < lo ? lo : d > PLAN_MIN ? PLAN_MIN : d;
}

/* Time for the next DescribeCreateAccountStatus? o: the last poll, else
 * the CreateAccount call, else none. */
static bool poll_due(const struct acct_snap *sn, struct acct_step *s,
                     const struct acct_obs *o)
{
  uint64_t req = requested_ms(sn, o), now = now_ms(sn), base = req, due;

  if (o && o->action == ACCT_DESCRIBE_CREATE)
    base = obs_ms(o);
  due = base +
        acct_create_poll_ms(base > req ? base - req : 0, sn->create_estimate_s);
  if (due <= now)
    return true;
  acct__done(s, due - now, "CreateAccount in progress");
  s->slot_poll = true;
  return false;
}

static int after_failed(const struct acct_snap *sn, struct acct_step *s,
                        const struct acct_obs *o)
{
  const char *r = o->failure_reason;

  if (str_eq(r, "EMAIL_ALREADY_EXISTS")) {
    /* Our earlier request (or a pre-crash one) made it: find it. */
    acct__aws(s, sn, ACCT_RECOVER, "EMAIL_ALREADY_EXISTS: recover by email");
    str_copy(s->email, obj_annotation(sn->account, ACCT_ANN_EMAIL),
             sizeof(s->email));
  } else if (str_eq(r, "ACCOUNT_LIMIT_EXCEEDED")) {
    drop_request(sn, s, "ACCOUNT_LIMIT_EXCEEDED", LIMIT_REQUEUE);
  } else if (str_eq(r, "INTERNAL_FAILURE") ||
             str_eq(r, "CONCURRENT_ACCOUNT_MODIFICATION")) {
    drop_request(sn, s, r, PLAN_MIN);
  } else {
    acct__fail(s, sn, ACCT_ST_CREATION_FAILED, str_empty(r) ? "FAILED" : r,
               "CreateAccount request failed");
  }
  return 0;
}

/* EMAIL_ALREADY_EXISTS, then recovery by e-mail and name. An earlier
 * request of ours may still be IN_PROGRESS (then it is not in ListAccounts
 * yet): adopt its id. Lists are eventually consistent, so only a request
 * older than EMAIL_GRACE_S with nothing found is a real failure (the
 * address is taken outside this organization). */
static int after_recover(const struct acct_snap *sn, struct acct_step *s,
                         const struct acct_obs *r, const char *req)
{
  const char *v = obj_annotation(sn->account, ACCT_ANN_REQUESTED_AT);
  time_t at;

  if (!str_empty(r->account_id)) {
    record_account_id(sn, s, r->account_id, "AccountRecovered");
    return 0;
  }
  if (!str_empty(r->request_id) && !str_eq(r->request_id, req)) {
    record_request(sn, s, r->request_id, false);
    return 0;
  }
  if (v && time_parse_rfc3339(v, &at) == 0 && sn->now - at < EMAIL_GRACE_S) {
    if (waited(sn, s, r, RETRY_S, "waiting for the organization lists")) {
      acct__aws(s, sn, ACCT_RECOVER, "recover by e-mail again");
      str_copy(s->email, obj_annotation(sn->account, ACCT_ANN_EMAIL),
               sizeof(s->email));
    }
    return 0;
  }
  acct__fail(s, sn, ACCT_ST_CREATION_FAILED, "EMAIL_ALREADY_EXISTS",
             "E-mail already in use outside this organization");
  return 0;
}

/* Request id recorded, no account id: poll with backoff. */
static int poll_request(const struct acct_snap *sn, struct acct_step *s,
                        const char *req)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_DESCRIBE_CREATE);
  const struct acct_obs *r = acct__obs(sn, ACCT_RECOVER);

  if (r && r->result == 0)
    return after_recover(sn, s, r, req);
  if (o && o->result < 0) {
    if (!waited(sn, s, o, RETRY_S, "DescribeCreateAccountStatus retry"))
      return 0;
  } else if (o && str_eq(o->create_state, "SUCCEEDED") &&
             !str_empty(o->account_id)) {
    record_account_id(sn, s, o->account_id, "AccountCreated");
    return 0;
  } else if (o && str_eq(o->create_state, "FAILED")) {
    return after_failed(sn, s, o);
  } else if (!poll_due(sn, s, o ? o : acct__obs(sn, ACCT_CREATE_ACCOUNT))) {
    return 0;
  }
  acct__aws(s, sn, ACCT_DESCRIBE_CREATE, "poll CreateAccount status");
  str_copy(s->request_id, req, sizeof(s->request_id));
  return 0;
}

int acct__plan_create(const struct acct_snap *sn, struct acct_step *s)
{
  const json_t *a = sn->account;
  const char *email = obj_annotation(a, ACCT_ANN_EMAIL);
  const char *req = obj_annotation(a, ACCT_ANN_REQUEST_ID);
  char buf[128];

  if (!str_empty(obj_str(a, "spec.awsAccountID"))) {
    acct__cond(s, sn, ACCT_ST_CREATING, "Creating",
               "AWS account already created", ACCT_ST_CREATING,
               COND_UPDATE_ALWAYS);
    return 0;
  }
  if (!str_empty(req))
    return poll_request(sn, s, req);
  if (!str_empty(email))
    return recover_or_create(sn, s, email);
  if (gate_blocks(sn, s))
    return 0;
  if (names_account_email(obj_name(a), buf, sizeof(buf)) != 0) {
    acct__fail(s, sn, ACCT_ST_CREATION_FAILED, "InvalidName",
               "Cannot derive an e-mail from the Account name");
    return 0;
  }
  s->action = ACCT_UPDATE;
  s->object_new = obj_copy_new(a);
  obj_set_annotation(s->object_new, ACCT_ANN_EMAIL, buf);
  str_copy(s->why, "record e-mail before CreateAccount", sizeof(s->why));
  return 0;
}
