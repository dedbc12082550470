/* aws_driver: the create-burst, throttled, bad-secret and unknown-key
 * modes. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "driver_int.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

/* ---- create-burst -------------------------------------------------------- */

static void burst_poll(uv_timer_t *t);

static void burst_end(struct burst *b, const char *state, const char *acct)
{
  struct drv *d = b->d;
  json_t *o = json_pack("{s:s,s:i,s:s,s:s}", "burst", "done", "i", b->i,
                        "state", state, "account", acct ? acct : "");

  if (b->slot)
    aws_create_slot_release(b->slot);
  b->slot = NULL;
  print_json(o);
  if (!str_eq(state, "SUCCEEDED"))
    d->exit_code = 1;
  if (++d->bursts_done == d->o.n)
    finish(d);
}

static void burst_status(int err, const struct aws_error *aerr,
                         const struct aws_car_status_result *r, void *arg)
{
  struct burst *b = arg;

  if (b->d->finishing)
    return;
  b->d->calls++;
  if (err) {
    emit(b->d, "DescribeCreateAccountStatus", "organizations", err, aerr,
         false);
    burst_end(b, "ERROR", NULL);
  } else if (str_eq(r->status.state, "IN_PROGRESS") && ++b->polls < MAX_POLLS) {
    uv_timer_start(&b->timer, burst_poll, b->d->o.poll_ms, 0);
  } else {
    burst_end(b, r->status.state ? r->status.state : "?", r->status.account_id);
  }
}

static void burst_poll(uv_timer_t *t)
{
  struct burst *b = t->data;
  struct aws_describe_car_status_req rq = { b->car };
  int rc = b->d->api->describe_create_account_status(b->d->api, &b->d->mt, &rq,
                                                     burst_status, b);

  if (rc)
    burst_end(b, "ERROR", NULL);
}

static void burst_created(int err, const struct aws_error *aerr,
                          const struct aws_car_status_result *r, void *arg)
{
  struct burst *b = arg;

  if (b->d->finishing)
    return;
  emit(b->d, "CreateAccount", "organizations", err, aerr, false);
  if (err || copy_id(b->car, sizeof(b->car), r->status.id)) {
    burst_end(b, "ERROR", NULL);
    return;
  }
  uv_timer_start(&b->timer, burst_poll, b->d->o.poll_ms, 0);
}

static void burst_slot(int err, struct aws_create_slot *slot, void *arg)
{
  struct burst *b = arg;
  struct drv *d = b->d;
  char email[128], name[64];
  struct aws_create_account_req rq = { email, name, NULL, NULL, NULL, 0 };
  unsigned used = aws_create_slots_in_use(d->c);

  if (err || d->finishing)
    return;
  b->slot = slot;
  if (used > d->peak_slots)
    d->peak_slots = used;
  str_fmt(email, sizeof(email), "burst-%ld-%d@aint.example.com", (long)getpid(),
          b->i);
  str_fmt(name, sizeof(name), "burst-%d", b->i);
  d->t_call = time_mono_ms();
  if (d->api->create_account(d->api, &d->mt, &rq, burst_created, b))
    burst_end(b, "ERROR", NULL);
}

int start_burst(struct drv *d)
{
  int i;

  d->bursts = util_xcalloc((size_t)d->o.n, sizeof(*d->bursts));
  for (i = 0; i < d->o.n; i++) {
    struct burst *b = &d->bursts[i];

    b->d = d;
    b->i = i;
    uv_timer_init(&d->loop, &b->timer);
    b->timer.data = b;
  }
  for (i = 0; i < d->o.n; i++) {
    struct aws_create_slot *s;
    int rc = aws_create_slot_acquire(d->c, burst_slot, &d->bursts[i], &s);

    if (rc)
      return rc;
  }
  return 0;
}

/* ---- throttled ----------------------------------------------------------- */

void on_attempt(void *arg, const struct aws_call *call, unsigned attempt)
{
  struct drv *d = arg;
  size_t i;

  d->attempts++;
  if (attempt > 1)
    d->retries++;
  for (i = 0; i < NSVC; i++) {
    struct svc_sends *s = &d->sends[i];

    if (!str_eq(s->name, call->service))
      continue;
    if (s->n == s->cap) {
      s->cap = s->cap ? 2 * s->cap : 64;
      s->t = util_xrealloc(s->t, s->cap * sizeof(*s->t));
    }
    s->t[s->n++] = time_mono_ms();
  }
}

int start_throttled(struct drv *d)
{
  static const struct aws_sts_none_req sts = { 0 };
  static const struct aws_iam_list_req iam = { 0 };
  static const struct aws_org_page_req org = { 0 };
  static const struct aws_describe_regions_req ec2 = { 0 };
  int i, rc = 0;

  d->t_call = time_mono_ms();
  for (i = 0; i < d->o.n && rc == 0; i++) {
    switch (i % NSVC) {
    case 0:
      rc = d->api->get_caller_identity(d->api, &d->mt, &sts,
                                       on_get_caller_identity, d);
      break;
    case 1:
      rc = d->api->list_users(d->api, &d->mt, &iam, on_list_users, d);
      break;
    case 2:
      rc = d->api->list_accounts(d->api, &d->mt, &org, on_list_accounts, d);
      break;
    default:
      rc = d->api->describe_regions(d->api, &d->mt, &ec2, on_describe_regions,
                                    d);
    }
  }
  return rc;
}

/* ---- bad-secret / unknown-key -------------------------------------------- */

int start_auth(struct drv *d)
{
  static const struct aws_sts_none_req sts = { 0 };
  static const struct aws_org_none_req org = { 0 };
  static const struct aws_iam_list_req iam = { 0 };
  static const struct aws_describe_regions_req ec2 = { 0 };
  static const struct aws_region_opt_req acct = { "us-east-1", NULL };
  static const struct aws_s3_none_req s3 = { 0 };
  int rc;

  d->t_call = time_mono_ms();
  rc = d->api->get_caller_identity(d->api, &d->mt, &sts, on_get_caller_identity,
                                   d);
  if (!rc)
    rc = d->api->describe_organization(d->api, &d->mt, &org,
                                       on_describe_organization, d);
  if (!rc)
    rc = d->api->list_users(d->api, &d->mt, &iam, on_list_users, d);
  if (!rc)
    rc = d->api->describe_regions(d->api, &d->mt, &ec2, on_describe_regions, d);
  if (!rc)
    rc = d->api->get_region_opt_status(d->api, &d->mt, &acct,
                                       on_get_region_opt_status, d);
  if (!rc)
    rc = d->api->list_buckets(d->api, &d->mt, &s3, on_list_buckets, d);
  return rc;
}
