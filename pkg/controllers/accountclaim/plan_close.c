/* AccountClaim plan: close-on-release (as upstream): CloseAccount with
 * the payer credentials, rate-limit backoff stored on the Account (1 h
 * doubling to 24 h), dry run and other failures fall back to reuse. */
#include "controllers/accountclaim/plan_int.h"

#include <stdio.h>

#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"

#define BACKOFF_MIN_S 3600
#define BACKOFF_MAX_S 86400

static bool rate_limited(const char *code)
{
  return str_eq(code, "CLOSE_ACCOUNT_QUOTA_EXCEEDED") ||
         str_eq(code, "CLOSE_ACCOUNT_REQUESTS_LIMIT_EXCEEDED");
}

static long long backoff_s(const json_t *a)
{
  const char *v = obj_annotation(a, CLAIM_ANN_CLOSE_BACKOFF);
  long long n = 0;

  if (v)
    str_to_ll(v, 0, BACKOFF_MAX_S, &n);
  return n;
}

static void backoff(const struct claim_snap *sn, const json_t *a,
                    struct claim_step *s)
{
  long long prev = backoff_s(a), next;
  char until[TIME_RFC3339_LEN], secs[24];

  next = prev ? prev * 2 : BACKOFF_MIN_S;
  if (next > BACKOFF_MAX_S)
    next = BACKOFF_MAX_S;
  time_rfc3339(sn->now + (time_t)next, until);
  str_fmt(secs, sizeof(secs), "%lld", next);
  s->action = CLAIM_ACCOUNT_UPDATE;
  s->object_new = obj_copy_new(a);
  obj_set_annotation(s->object_new, CLAIM_ANN_CLOSE_UNTIL, until);
  obj_set_annotation(s->object_new, CLAIM_ANN_CLOSE_BACKOFF, secs);
  s->requeue_ms = (uint64_t)next * PLAN_SEC;
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->why, "CloseAccount rate limited", sizeof(s->why));
  plan_event_set(&s->event, "Warning", "CloseRateLimited",
                 "CloseAccount quota reached; retry after %s", until);
}

/* Closed: mark the claim, then delete the Account CR. */
static void closed(const struct claim_snap *sn, const json_t *a,
                   struct claim_step *s)
{
  if (!str_eq(obj_annotation(sn->claim, CLAIM_ANN_CLOSED), "true")) {
    s->action = CLAIM_UPDATE;
    s->object_new = obj_copy_new(sn->claim);
    obj_set_annotation(s->object_new, CLAIM_ANN_CLOSED, "true");
    str_copy(s->why, "account closed", sizeof(s->why));
    plan_event_set(&s->event, "Normal", "AccountClosed",
                   "AWS account %s closed", obj_str0(a, "spec.awsAccountID"));
    return;
  }
  s->action = CLAIM_ACCOUNT_DELETE;
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->why, "delete closed account CR", sizeof(s->why));
}

bool claim__close_wanted(const struct opcfg *cfg)
{
  /* dry run: upstream logs "dry run" and reuses */
  return cfg->feat_close_on_release && !cfg->fedramp &&
         !cfg->close_account_dry_run;
}

bool claim__plan_close(const struct claim_snap *sn, const json_t *a,
                       struct claim_step *s)
{
  const struct claim_obs *o = claim__obs(sn, CLAIM_CLOSE_ACCOUNT);
  const char *until = obj_annotation(a, CLAIM_ANN_CLOSE_UNTIL);
  time_t t;

  if (str_eq(obj_annotation(sn->claim, CLAIM_ANN_CLOSED), "true")) {
    closed(sn, a, s);
    return true;
  }
  if (!claim__close_wanted(sn->cfg))
    return false;
  if (o && (o->result == 0 ||
            str_eq(o->aws_code, "AccountAlreadyClosedException"))) {
    closed(sn, a, s);
    return true;
  }
  if (!until || time_parse_rfc3339(until, &t) != 0)
    t = 0;
  if (o && rate_limited(o->aws_code) && o->at > t - backoff_s(a)) {
    backoff(sn, a, s); /* a new refusal, newer than the stored backoff */
    return true;
  }
  if (t > sn->now) {
    claim__done(s, (uint64_t)(t - sn->now) * PLAN_SEC, "close rate limited");
    return true;
  }
  if (o && !rate_limited(o->aws_code))
    return false; /* other CloseAccount errors: reuse instead */
  s->action = CLAIM_CLOSE_ACCOUNT;
  str_copy(s->account_name, obj_name(a), sizeof(s->account_name));
  str_copy(s->account_id, obj_str0(a, "spec.awsAccountID"),
           sizeof(s->account_id));
  str_copy(s->why, "close account on release", sizeof(s->why));
  return true;
}
