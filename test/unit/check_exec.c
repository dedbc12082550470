/* Shared executor support: the observation table, the account watcher's
 * maths and polling over a replacement aws_api, Secret -> management
 * credentials, ConfigMap reload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "aws/core/creds.h"
#include "cache/informer.h"
#include "cache/store.h"
#include "controllers/account/plan.h"
#include "controllers/common/obj.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/metrics.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "testutil.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "support/cache_fake.h"

/* ---- observation table ---- */

struct tobs {
  int a;
  char s[16];
};

START_TEST(obs_table)
{
  struct exec_obs *t = exec_obs_new(sizeof(struct tobs));
  struct tobs o = { 1, "one" };
  const struct tobs *g;

  ck_assert_ptr_null(exec_obs_get(t, "ns/a"));
  ck_assert_int_eq(exec_obs_put(t, "ns/a", &o, json_string("aux1")), 0);
  o.a = 2; /* copied in: later edits do not show */
  g = exec_obs_get(t, "ns/a");
  ck_assert_int_eq(g->a, 1);
  ck_assert_str_eq(g->s, "one");
  ck_assert_str_eq(json_string_value(exec_obs_aux(t, "ns/a")), "aux1");
  ck_assert_int_eq(exec_obs_put(t, "ns/a", &o, NULL), 0); /* replaces */
  ck_assert_int_eq(((const struct tobs *)exec_obs_get(t, "ns/a"))->a, 2);
  ck_assert_ptr_null(exec_obs_aux(t, "ns/a"));
  ck_assert_int_eq(exec_obs_put(t, "ns/b", &o, json_array()), 0);
  ck_assert_int_eq(exec_obs_len(t), 2);
  exec_obs_drop(t, "ns/a");
  exec_obs_drop(t, "ns/missing");
  ck_assert_ptr_null(exec_obs_get(t, "ns/a"));
  ck_assert_int_eq(exec_obs_len(t), 1);
  exec_obs_free(t); /* frees ns/b's aux (ASan) */
}
END_TEST

/* ---- watcher maths ---- */

START_TEST(limit_maths)
{
  struct opcfg c = { .has_account_limit = true, .account_limit = 10 };
  struct opcfg none = { 0 };

  ck_assert(exec_limit_allows(true, 9, &c));
  ck_assert(!exec_limit_allows(true, 10, &c));
  ck_assert(!exec_limit_allows(false, 0, &c));   /* never polled / error */
  ck_assert(!exec_limit_allows(true, 0, NULL));  /* no ConfigMap */
  ck_assert(!exec_limit_allows(true, 0, &none)); /* no account-limit */
  ck_assert(exec_slot_free(0, 4, 5));
  ck_assert(!exec_slot_free(1, 4, 5));
  ck_assert(!exec_slot_free(5, 0, 5));
  ck_assert(exec_slot_free(2, -3, 3));
  ck_assert(exec_slot_free(4, 0, 0)); /* 0 = AWS's 5 */
}
END_TEST

/* ---- fake api: paged ListAccounts / ListCreateAccountStatus ---- */

static uv_loop_t *L;
static int in_flight, fail_accounts, n_list_calls;

struct pend {
  uv_timer_t t;
  void (*fire)(struct pend *);
  void *cb, *arg;
  const char *token;
};

static void closed(uv_handle_t *h)
{
  free(h->data);
}

static void run(uv_timer_t *t)
{
  struct pend *p = t->data;

  in_flight--;
  p->fire(p);
  uv_close((uv_handle_t *)&p->t, closed);
}

static void defer(void (*fire)(struct pend *), void *cb, void *arg,
                  const char *token)
{
  struct pend *p = calloc(1, sizeof(*p));

  p->fire = fire;
  p->cb = cb;
  p->arg = arg;
  p->token = token && !strcmp(token, "p2") ? "p2" : NULL;
  uv_timer_init(L, &p->t);
  p->t.data = p;
  in_flight++;
  uv_timer_start(&p->t, run, 0, 0);
}

static char *sd(const char *s)
{
  return strdup(s);
}

static void fire_accounts(struct pend *p)
{
  aws_list_accounts_cb cb = (aws_list_accounts_cb)p->cb;
  struct aws_org_accounts_result r = { 0 };
  struct aws_org_account v[3] = { { 0 } };
  struct aws_error ae = { .code = "AccessDeniedException" };

  if (fail_accounts) {
    cb(OP_EAWS, &ae, NULL, p->arg);
    return;
  }
  r.v = v;
  if (!p->token) { /* page 1: two ACTIVE */
    v[0] = (struct aws_org_account){ .id = sd("1"),
                                     .status = sd("ACTIVE"),
                                     .email = sd("a@x") };
    v[1] = (struct aws_org_account){ .id = sd("2"), .status = sd("ACTIVE") };
    r.n = 2;
    r.next_token = sd("p2");
  } else { /* page 2: one ACTIVE, one SUSPENDED */
    v[0] = (struct aws_org_account){ .id = sd("3"), .status = sd("ACTIVE") };
    v[1] = (struct aws_org_account){ .id = sd("4"), .status = sd("SUSPENDED") };
    r.n = 2;
  }
  cb(0, NULL, &r, p->arg);
  r.v = NULL;
  for (int i = 0; i < 3; i++) {
    free(v[i].id);
    free(v[i].status);
    free(v[i].email);
  }
  free(r.next_token);
}

static void fire_cars(struct pend *p)
{
  aws_list_create_account_status_cb cb =
      (aws_list_create_account_status_cb)p->cb;
  struct aws_org_car_status v[1] = { { 0 } };
  struct aws_car_status_list_result r = { v, 1, NULL };

  v[0].state = sd("IN_PROGRESS");
  v[0].id = sd(p->token ? "car-2" : "car-1");
  if (!p->token)
    r.next_token = sd("p2");
  cb(0, NULL, &r, p->arg);
  free(v[0].state);
  free(v[0].id);
  free(r.next_token);
}

static int f_accounts(struct aws_api *a, const struct aws_target *t,
                      const struct aws_org_page_req *rq,
                      aws_list_accounts_cb cb, void *arg)
{
  ck_assert_ptr_nonnull(t->creds);
  n_list_calls++;
  defer(fire_accounts, (void *)cb, arg, rq->next_token);
  return 0;
}

static int f_cars(struct aws_api *a, const struct aws_target *t,
                  const struct aws_list_car_status_req *rq,
                  aws_list_create_account_status_cb cb, void *arg)
{
  ck_assert_int_eq(rq->nstates, 1);
  ck_assert_str_eq(rq->states[0], "IN_PROGRESS");
  defer(fire_cars, (void *)cb, arg, rq->next_token);
  return 0;
}

static json_t *cm(const char *limit)
{
  return json_pack("{s:{s:s}, s:{s:s,s:s,s:s}}", "metadata", "name",
                   "aws-account-operator-configmap", "data", "account-limit",
                   limit, "root", "r-1", "base", "ou-1");
}

static json_t *secret(void)
{
  /* AKIAOPERATOR / opsecret */
  return json_pack("{s:{s:s}, s:{s:s,s:s}}", "metadata", "name",
                   "aws-account-operator-credentials", "data",
                   "aws_access_key_id", "QUtJQU9QRVJBVE9S",
                   "aws_secret_access_key", "b3BzZWNyZXQ=");
}

static void drain(void)
{
  while (in_flight > 0)
    uv_run(L, UV_RUN_ONCE);
}

static char events[2048];
static void ev(void *a, json_t *obj, const char *type, const char *reason,
               const char *msg)
{
  str_fmt(events + strlen(events), sizeof(events) - strlen(events),
          "%s %s %s\n", type, reason, msg);
}

static int verdicts;
static void verdict_changed(void *arg)
{
  (*(int *)arg)++;
}

/* The loop and an AWS client over the fake organization (api filled). */
static struct exec_aws *org_client(uv_loop_t *loop, struct aws_api *api)
{
  struct exec_aws_opts ao = { .api = api };
  struct exec_aws *aws;

  uv_loop_init(loop);
  L = loop;
  in_flight = fail_accounts = n_list_calls = 0;
  api->list_accounts = f_accounts;
  api->list_create_account_status = f_cars;
  ck_assert_int_eq(exec_aws_new(L, NULL, &ao, &aws), 0);
  return aws;
}

static int slots_freed;
static void slot_freed(void *arg)
{
  (*(int *)arg)++;
}

START_TEST(watcher_polls_every_page)
{
  int calls;
  uv_loop_t loop;
  struct aws_api api = { 0 };
  struct exec_aws *aws;
  struct met_registry *reg = met_registry_new();
  struct exec_metrics *m = exec_metrics_new(reg);
  struct exec_cfg *c = exec_cfg_new(NULL, NULL);
  struct exec_watcher_opts wo = { 0 };
  struct exec_watcher *w;
  json_t *cmo = cm("6"), *sec = secret();
  bool allows, has;
  long long total;

  aws = org_client(&loop, &api);
  wo.aws = aws;
  wo.cfg = c;
  wo.metrics = m;
  wo.create_cap = 5;
  w = exec_watcher_new(L, &wo);
  /* no Secret yet: the poll fails, creation stays blocked */
  exec_watcher_poll(w);
  drain();
  ck_assert_int_eq(exec_watcher_polls(w), 1);
  ck_assert(!exec_watcher_limit_allows(w));
  exec_aws_apply_secret(aws, sec);
  exec_cfg_apply(c, cmo);
  verdicts = 0;
  exec_watcher_on_change(w, verdict_changed, &verdicts);
  exec_watcher_on_change(w, verdict_changed, &verdicts);
  exec_watcher_poll(w);
  drain();
  ck_assert_int_eq(verdicts, 2); /* failed -> ok: both listeners */
  exec_watcher_poll(w);
  drain();
  ck_assert_int_eq(verdicts, 2); /* nothing changed */
  /* 3 ACTIVE over two pages + 2 IN_PROGRESS over two pages */
  ck_assert_int_eq(exec_watcher_total(w), 5);
  ck_assert_int_eq(exec_watcher_in_progress(w), 2);
  ck_assert(exec_watcher_limit_allows(w)); /* 5 < 6 */
  exec_watcher_limit(w, &allows, &has, &total);
  ck_assert(allows && has && total == 5);
  ck_assert_int_eq((int)met_value(m->aws_accounts, NULL), 5);
  ck_assert_int_eq(json_array_size(exec_watcher_accounts(w, NULL)), 4);
  /* slots: 2 IN_PROGRESS elsewhere + our own */
  ck_assert(exec_watcher_create_slot_free(w));
  exec_watcher_create_begin(w, "ns/a");
  exec_watcher_create_begin(w, "ns/a"); /* counted once */
  exec_watcher_create_begin(w, "ns/b");
  ck_assert_int_eq(exec_watcher_own_in_flight(w), 2);
  ck_assert(exec_watcher_create_slot_free(w)); /* 2 + 2 < 5 */
  exec_watcher_create_begin(w, "ns/c");
  ck_assert(!exec_watcher_create_slot_free(w)); /* 3 + 2 */
  exec_watcher_create_end(w, "ns/c");
  ck_assert(exec_watcher_create_slot_free(w));
  exec_watcher_create_end(w, "ns/a");
  exec_watcher_create_end(w, "ns/b");
  /* our own CreateAccount counts in the total until a listing sees it;
   * its end frees the slot and tells the Account executor, listing
   * nothing */
  slots_freed = 0;
  exec_watcher_on_slot(w, slot_freed, &slots_freed);
  exec_watcher_create_sent(w, "ns/d");
  exec_watcher_create_sent(w, "ns/e");
  ck_assert_int_eq(exec_watcher_total(w), 7);
  /* the gauge shows that total: no listing may follow at rest */
  ck_assert_int_eq((int)met_value(m->aws_accounts, NULL), 7);
  ck_assert(!exec_watcher_limit_allows(w)); /* 7 of 6 */
  calls = n_list_calls;
  exec_watcher_create_end(w, "ns/d");
  ck_assert_int_eq(slots_freed, 1);
  ck_assert_int_eq(n_list_calls, calls); /* e still in flight */
  ck_assert_int_eq(exec_watcher_total(w), 7);
  verdicts = 0;
  exec_watcher_create_end(w, "ns/e"); /* at rest: one listing */
  ck_assert_int_eq(slots_freed, 2);
  drain();
  ck_assert_int_gt(n_list_calls, calls);
  ck_assert_int_eq(exec_watcher_total(w), 5); /* here: the fixed 5 */
  ck_assert_int_eq((int)met_value(m->aws_accounts, NULL), 5);
  ck_assert_int_eq(verdicts, 2); /* a new total: both listeners told */
  exec_watcher_on_slot(w, NULL, NULL);
  /* the creation-time estimate: the median of the latest */
  ck_assert(exec_watcher_create_estimate(w) == 0);
  exec_watcher_create_took(w, 3.0);
  exec_watcher_create_took(w, 5.0);
  exec_watcher_create_took(w, -1.0); /* ignored */
  exec_watcher_create_took(w, 4.0);
  ck_assert(exec_watcher_create_estimate(w) == 4.0);
  for (int i = 0; i < EXEC_WATCH_DURATIONS; i++)
    exec_watcher_create_took(w, 60.0);
  ck_assert(exec_watcher_create_estimate(w) == 60.0);
  /* a lower limit from the ConfigMap applies at once */
  json_decref(cmo);
  cmo = cm("5");
  exec_cfg_apply(c, cmo);
  ck_assert(!exec_watcher_limit_allows(w));
  /* an error closes the gate (as upstream) */
  json_decref(cmo);
  cmo = cm("100");
  exec_cfg_apply(c, cmo);
  fail_accounts = 1;
  exec_watcher_poll(w);
  drain();
  ck_assert(!exec_watcher_limit_allows(w));
  exec_watcher_close(w);
  exec_cfg_free(c);
  exec_aws_close(aws, NULL, NULL);
  ASSERT_LOOP_CLEAN(&loop);
  exec_metrics_free(m);
  met_registry_free(reg);
  json_decref(cmo);
  json_decref(sec);
}
END_TEST

/* A watcher over the fake organization, the Secret applied; the
 * ConfigMap (limit) is the test's to apply. */
struct wfix {
  uv_loop_t loop;
  struct aws_api api;
  struct exec_aws *aws;
  struct exec_cfg *c;
  struct exec_watcher *w;
  json_t *cm, *sec;
};

static void wfix_up(struct wfix *f, const char *limit, uint64_t interval_ms)
{
  struct exec_watcher_opts wo = { .interval_ms = interval_ms };

  memset(f, 0, sizeof(*f));
  f->c = exec_cfg_new(NULL, NULL);
  f->cm = cm(limit);
  f->sec = secret();
  f->aws = org_client(&f->loop, &f->api);
  exec_aws_apply_secret(f->aws, f->sec);
  wo.aws = f->aws;
  wo.cfg = f->c;
  f->w = exec_watcher_new(L, &wo);
}

static void wfix_down(struct wfix *f)
{
  exec_watcher_close(f->w);
  exec_cfg_free(f->c);
  exec_aws_close(f->aws, NULL, NULL);
  uv_run(L, UV_RUN_DEFAULT);
  ASSERT_LOOP_CLEAN(&f->loop);
  json_decref(f->cm);
  json_decref(f->sec);
}

/* A ConfigMap change lists the organization again only when the last
 * listing failed or the partition changed: a new limit applies to the
 * total as it is. */
START_TEST(watcher_relists_on_partition_change_only)
{
  struct wfix f;
  struct exec_watcher *w;
  int calls;

  wfix_up(&f, "6", 0);
  w = f.w;
  ck_assert_int_eq(exec_watcher_start(w), 0);
  exec_cfg_apply(f.c, f.cm);
  while (exec_watcher_polls(w) < 2 || in_flight > 0)
    uv_run(L, UV_RUN_ONCE);
  ck_assert(exec_watcher_limit_allows(w)); /* 5 < 6 */
  calls = n_list_calls;
  json_decref(f.cm);
  f.cm = cm("5");
  exec_cfg_apply(f.c, f.cm);
  drain();
  ck_assert_int_eq(n_list_calls, calls);
  ck_assert(!exec_watcher_limit_allows(w)); /* the new limit, at once */
  json_object_set_new(json_object_get(f.cm, "data"), "fedramp",
                      json_string("true"));
  exec_cfg_apply(f.c, f.cm);
  drain();
  ck_assert_int_gt(n_list_calls, calls);
  wfix_down(&f);
}
END_TEST

/* At rest (none of ours in flight) the organization is listed again only
 * when the total may be off: after a fill whose every request SUCCEEDED
 * the total is exact already (a page per 20 accounts saved). */
START_TEST(watcher_lists_at_rest_only_when_unsure)
{
  struct wfix f;
  struct exec_watcher *w;
  int calls;

  wfix_up(&f, "100", 0);
  w = f.w;
  exec_cfg_apply(f.c, f.cm);
  exec_watcher_poll(w);
  drain();
  ck_assert_int_eq(exec_watcher_total(w), 5);
  /* every request since the listing SUCCEEDED: exact, no listing */
  exec_watcher_create_sent(w, "ns/f");
  exec_watcher_create_sent(w, "ns/g");
  calls = n_list_calls;
  exec_watcher_create_succeeded(w, "ns/f");
  exec_watcher_create_succeeded(w, "ns/g");
  drain();
  ck_assert_int_eq(n_list_calls, calls);
  ck_assert_int_eq(exec_watcher_total(w), 7);
  /* one failed (it counts, yet made no account): listed, the fixed 5 */
  exec_watcher_create_sent(w, "ns/h");
  exec_watcher_create_end(w, "ns/h");
  drain();
  ck_assert_int_gt(n_list_calls, calls);
  ck_assert_int_eq(exec_watcher_total(w), 5);
  /* one sent while a listing ran (it may count twice): listed again at
   * rest, though it succeeded */
  exec_watcher_poll(w);
  exec_watcher_create_sent(w, "ns/i");
  drain();
  calls = n_list_calls;
  exec_watcher_create_succeeded(w, "ns/i");
  drain();
  ck_assert_int_gt(n_list_calls, calls);
  /* a failure is not hidden by a success the count did not send (a
   * request found IN_PROGRESS after a restart) */
  exec_watcher_create_begin(w, "ns/j");
  exec_watcher_create_sent(w, "ns/k");
  exec_watcher_create_end(w, "ns/k");
  calls = n_list_calls;
  exec_watcher_create_succeeded(w, "ns/j");
  drain();
  ck_assert_int_gt(n_list_calls, calls);
  ck_assert_int_eq(exec_watcher_total(w), 5);
  /* one succeeded while a listing ran (it may fall between its pages):
   * a listing after that one */
  exec_watcher_create_sent(w, "ns/l");
  calls = n_list_calls;
  exec_watcher_poll(w);
  exec_watcher_create_succeeded(w, "ns/l");
  drain();
  ck_assert_int_eq(n_list_calls, calls + 4); /* 2 listings of 2 pages */
  /* exact again: nothing more at rest */
  calls = n_list_calls;
  exec_watcher_create_begin(w, "ns/m");
  exec_watcher_create_succeeded(w, "ns/m");
  drain();
  ck_assert_int_eq(n_list_calls, calls);
  wfix_down(&f);
}
END_TEST

/* A listing failed before the ConfigMap came (the start's first one):
 * its early retry goes once a later listing succeeds; otherwise it listed
 * the organization again 30 s after the start, in the bench's claims. */
START_TEST(watcher_good_listing_cancels_retry)
{
  struct wfix f;
  struct exec_watcher *w;

  wfix_up(&f, "6", 3600u * 1000u);
  w = f.w;
  ck_assert_int_eq(exec_watcher_start(w), 0);
  while (exec_watcher_polls(w) < 1) /* NOWAIT: then only the retry waits */
    uv_run(L, UV_RUN_NOWAIT);
  ck_assert(!exec_watcher_has_total(w)); /* no ConfigMap yet */
  ck_assert_uint_le(exec_watcher_next_poll_ms(w), EXEC_WATCH_RETRY_MS);
  ck_assert_int_eq(n_list_calls, 0);
  exec_cfg_apply(f.c, f.cm);
  drain();
  ck_assert(exec_watcher_has_total(w));
  ck_assert_uint_gt(exec_watcher_next_poll_ms(w), EXEC_WATCH_RETRY_MS);
  /* a failure arms it again */
  fail_accounts = 1;
  exec_watcher_poll(w);
  drain();
  ck_assert(!exec_watcher_has_total(w));
  ck_assert_uint_le(exec_watcher_next_poll_ms(w), EXEC_WATCH_RETRY_MS);
  wfix_down(&f);
}
END_TEST

START_TEST(secret_to_creds)
{
  uv_loop_t loop;
  struct aws_api api = { 0 };
  struct exec_aws_opts ao = { .api = &api };
  struct exec_aws *aws;
  json_t *sec = secret();
  json_t *partial = json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name",
                              "aws-account-operator-credentials", "data",
                              "aws_access_key_id", "QUtJQU9QRVJBVE9S");
  struct aws_creds *c;
  char arn[128];
  char *logbuf = NULL;
  size_t loglen = 0;
  FILE *lf = open_memstream(&logbuf, &loglen);

  log_set_output(lf);
  uv_loop_init(&loop);
  ck_assert_int_eq(exec_aws_new(&loop, NULL, &ao, &aws), 0);
  ck_assert_ptr_null(exec_aws_mgmt(aws));
  ck_assert_int_eq(exec_aws_account_creds(aws, "111122223333", &c),
                   OP_ENOTFOUND);
  exec_aws_apply_secret(aws, sec);
  ck_assert_ptr_nonnull(exec_aws_mgmt(aws));
  ck_assert_ptr_eq(exec_aws_mgmt_cb(aws), exec_aws_mgmt(aws));
  ck_assert_str_eq(aws_creds_label(exec_aws_mgmt(aws)), "AKIAOPERATOR");
  exec_aws_apply_secret(aws, partial); /* no secret key: unusable */
  ck_assert_ptr_null(exec_aws_mgmt(aws));
  exec_aws_apply_secret(aws, sec);
  exec_aws_apply_secret(aws, NULL); /* deleted */
  ck_assert_ptr_null(exec_aws_mgmt(aws));
  ck_assert_int_eq(exec_role_arn("aws-us-gov", "111122223333",
                                 "OrganizationAccountAccessRole", arn,
                                 sizeof(arn)),
                   0);
  ck_assert_str_eq(arn, "arn:aws-us-gov:iam::111122223333:role/"
                        "OrganizationAccountAccessRole");
  exec_aws_close(aws, NULL, NULL);
  ASSERT_LOOP_CLEAN(&loop);
  log_set_output(NULL);
  fclose(lf);
  ck_assert_ptr_nonnull(strstr(logbuf, "aws-account-operator-credentials"));
  ck_assert_ptr_null(strstr(logbuf, "opsecret"));
  free(logbuf);
  json_decref(sec);
  json_decref(partial);
}
END_TEST

static int changes;
static void changed(void *arg)
{
  (void)arg;
  changes++;
}

START_TEST(config_reload)
{
  struct exec_kio kio = { .event = ev };
  struct exec_cfg *c = exec_cfg_new(NULL, &kio);
  json_t *good = cm("10");
  json_t *bad = cm("ten");

  events[0] = 0;
  changes = 0;
  exec_cfg_on_change(c, changed, NULL);
  ck_assert_ptr_null(exec_cfg_get(c));
  exec_cfg_apply(c, good);
  ck_assert_ptr_nonnull(exec_cfg_get(c));
  ck_assert_int_eq(exec_cfg_get(c)->account_limit, 10);
  ck_assert_uint_eq(exec_cfg_generation(c), 1);
  exec_cfg_apply(c, bad); /* invalid: Warning event, the last valid kept */
  ck_assert_ptr_nonnull(exec_cfg_get(c));
  ck_assert_int_eq(exec_cfg_get(c)->account_limit, 10);
  ck_assert_ptr_nonnull(strstr(events, "Warning InvalidConfigMap"));
  ck_assert_ptr_nonnull(strstr(events, "account-limit"));
  ck_assert_uint_eq(exec_cfg_generation(c), 1);
  exec_cfg_apply(c, bad); /* the same error is reported once */
  ck_assert_int_eq(strstr(strstr(events, "Warning") + 1, "Warning") == NULL, 1);
  exec_cfg_apply(c, good);
  ck_assert_ptr_nonnull(exec_cfg_get(c));
  exec_cfg_apply(c, NULL); /* deleted */
  ck_assert_ptr_null(exec_cfg_get(c));
  ck_assert_int_eq(changes, 5);
  exec_cfg_free(c);
  json_decref(good);
  json_decref(bad);
}
END_TEST

/* Two plain accounts with keys vended 2 h and 10 min ago, a CCS one
 * (never counted) 5 h ago; added as the informer would report them. */
static void key_age_accounts(struct exec_metrics *m, json_t **out, time_t now)
{
  static const struct {
    const char *name;
    int byoc;
    long ago;
  } v[] = { { "k1", 0, 7200 }, { "k2", 0, 600 }, { "k3", 1, 18000 } };
  char ts[TIME_RFC3339_LEN], ann[128];

  for (size_t i = 0; i < 3; i++) {
    json_t *a = json_pack("{s:{s:s,s:s}, s:{s:b}, s:{s:s}}", "metadata", "name",
                          v[i].name, "namespace", "ns", "spec", "byoc",
                          v[i].byoc, "status", "state", "Ready");

    time_rfc3339(now - v[i].ago, ts);
    str_fmt(ann, sizeof(ann), "{\"created\":\"%s\",\"id\":\"AKIA%zu\"}", ts, i);
    obj_set_annotation(a, ACCT_ANN_KEY, ann);
    exec_metrics_account(m, NULL, a);
    out[i] = a;
  }
}

static json_t *gauge_account(const char *name, const char *state, int claimed,
                             int reused, int byoc)
{
  return json_pack("{s:{s:s,s:s}, s:{s:s,s:b}, s:{s:s,s:b,s:b}}", "metadata",
                   "name", name, "namespace", "ns", "spec", "legalEntity", "",
                   "byoc", byoc, "status", "state", state, "claimed", claimed,
                   "reused", reused);
}

/* The CR gauges follow add, update and delete events: a state that no
 * Account has any more is gone from the output, as a recount would do. */
START_TEST(account_gauges_follow_events)
{
  struct met_registry *reg = met_registry_new();
  struct exec_metrics *m = exec_metrics_new(reg);
  json_t *a = gauge_account("a", "Ready", 0, 1, 0);
  json_t *a2 = gauge_account("a", "Ready", 1, 1, 0);
  json_t *b = gauge_account("b", "Creating", 0, 0, 1);
  struct buf out;

  exec_metrics_account(m, NULL, a);
  exec_metrics_account(m, NULL, b);
  ck_assert_int_eq(
      (int)met_value(m->account_crs, MET_LV("false", "true", "Ready")), 1);
  ck_assert_int_eq((int)met_value(m->reusable, MET_LV("")), 1);
  ck_assert_int_eq(
      (int)met_value(m->account_ccs_crs, MET_LV("false", "false", "Creating")),
      1);
  exec_metrics_account(m, a, a2); /* claimed */
  ck_assert_int_eq(
      (int)met_value(m->account_crs, MET_LV("true", "true", "Ready")), 1);
  exec_metrics_account(m, b, NULL);
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(met_render(reg, &out), 0);
  ck_assert_ptr_null(strstr(out.data, "state=\"Creating\""));
  ck_assert_ptr_null(strstr(out.data, "aws_accounts_reusable{"));
  ck_assert_ptr_null(strstr(out.data, "claimed=\"false\",reused=\"true\""));
  ck_assert_ptr_nonnull(strstr(out.data, "claimed=\"true\",reused=\"true\""));
  buf_cleanup(&out);
  json_decref(a);
  json_decref(a2);
  json_decref(b);
  exec_metrics_free(m);
  met_registry_free(reg);
}
END_TEST

START_TEST(claim_gauge_follows_events)
{
  struct met_registry *reg = met_registry_new();
  struct exec_metrics *m = exec_metrics_new(reg);
  json_t *c =
      json_pack("{s:{s:s,s:s}}", "metadata", "name", "c", "namespace", "ns");
  json_t *c2 = json_pack("{s:{s:s,s:s}, s:{s:s}}", "metadata", "name", "c",
                         "namespace", "ns", "status", "state", "Ready");

  exec_metrics_claim(m, NULL, c);
  exec_metrics_claim(m, NULL, c2);
  ck_assert_int_eq((int)met_value(m->claim_crs, MET_LV("")), 1);
  exec_metrics_claim(m, c, c2);
  ck_assert_int_eq((int)met_value(m->claim_crs, MET_LV("")), 0);
  ck_assert_int_eq((int)met_value(m->claim_crs, MET_LV("Ready")), 2);
  exec_metrics_claim(m, c2, NULL);
  ck_assert_int_eq((int)met_value(m->claim_crs, MET_LV("Ready")), 1);
  json_decref(c);
  json_decref(c2);
  exec_metrics_free(m);
  met_registry_free(reg);
}
END_TEST

START_TEST(account_gauges_and_durations)
{
  struct met_registry *reg = met_registry_new();
  struct exec_metrics *m = exec_metrics_new(reg);
  time_t now = time(NULL);
  json_t *k[3];
  struct buf out;

  exec_metrics_key_ages(m, now);
  ck_assert_int_eq((int)met_value(m->key_oldest, NULL), 0); /* none known */
  key_age_accounts(m, k, now);
  exec_metrics_key_ages(m, now);
  /* the oldest key: 2 h; keys past the maximum age need the cfg */
  ck_assert_int_eq((int)met_value(m->key_oldest, NULL), 7200);
  ck_assert_int_eq((int)met_value(m->keys_over_age, NULL), 0);
  {
    struct exec_cfg *cfg = exec_cfg_new(NULL, NULL);
    json_t *cm = json_pack("{s:{s:s}}", "data", "iam-key-max-age", "1h");

    exec_cfg_apply(cfg, cm);
    m->cfg = cfg;
    exec_metrics_key_ages(m, now);
    ck_assert_int_eq((int)met_value(m->keys_over_age, NULL), 1); /* k1 */
    exec_metrics_key_ages(m, now + 3000); /* k2 is 3600 s old too */
    ck_assert_int_eq((int)met_value(m->keys_over_age, NULL), 2);
    exec_metrics_account(m, k[0], NULL); /* k1 deleted */
    exec_metrics_key_ages(m, now);
    ck_assert_int_eq((int)met_value(m->keys_over_age, NULL), 0);
    ck_assert_int_eq((int)met_value(m->key_oldest, NULL), 600);
    m->cfg = NULL;
    exec_cfg_free(cfg);
    json_decref(cm);
  }
  for (size_t i = 0; i < 3; i++)
    json_decref(k[i]);
  exec_metrics_reconcile(m, "account", 0.02, OP_EAWS, "Throttling");
  exec_metrics_reconcile(m, "account", 0.01, OP_EIO, NULL);
  ck_assert_int_eq(
      (int)met_value(m->reconcile, MET_LV("account", "Throttling", "aws")), 1);
  ck_assert_int_eq(
      (int)met_value(m->reconcile, MET_LV("account", "{OTHER}", "{OTHER}")), 1);
  exec_metrics_ready(m, false, 700);
  ck_assert_int_eq((int)met_value(m->ready, NULL), 1);
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(met_render(reg, &out), 0);
  ck_assert_ptr_nonnull(strstr(
      out.data, "aws_account_operator_account_ready_duration_seconds_bucket{"
                "name=\"aws-account-operator\",le=\"1200\"} 1"));
  buf_cleanup(&out);
  exec_metrics_free(m);
  met_registry_free(reg);
}
END_TEST

/* The configured account-limit is a gauge so that alerts can compare the
 * organization's count with it; 0 while none is configured. */
START_TEST(account_limit_gauge)
{
  struct met_registry *reg = met_registry_new();
  struct exec_metrics *m = exec_metrics_new(reg);
  struct opcfg c = { .has_account_limit = true, .account_limit = 4800 };
  struct opcfg none = { .account_limit = 7 };
  struct buf out;

  ck_assert_int_eq((int)met_value(m->account_limit, NULL), 0);
  exec_metrics_account_limit(m, &c);
  buf_init(&out, 1 << 20);
  ck_assert_int_eq(met_render(reg, &out), 0);
  ck_assert_ptr_nonnull(strstr(out.data,
                               "aws_account_operator_aws_account_limit{"
                               "name=\"aws-account-operator\"} 4800"));
  buf_cleanup(&out);
  exec_metrics_account_limit(m, &none); /* account-limit unset */
  ck_assert_int_eq((int)met_value(m->account_limit, NULL), 0);
  exec_metrics_account_limit(m, &c);
  exec_metrics_account_limit(m, NULL); /* ConfigMap deleted */
  ck_assert_int_eq((int)met_value(m->account_limit, NULL), 0);
  exec_metrics_account_limit(NULL, &c); /* no registry: no-op */
  exec_metrics_free(m);
  met_registry_free(reg);
}
END_TEST

/* ---- following one named object ---- */

static char followed[256];

static void follow_fn(void *arg, const json_t *obj)
{
  size_t n = strlen(followed);

  (void)arg;
  snprintf(followed + n, sizeof(followed) - n, "%s;",
           obj ? json_string_value(json_object_get(
                     json_object_get(obj, "metadata"), "resourceVersion"))
               : "gone");
}

static void set_flag(void *arg)
{
  *(int *)arg = 1;
}

/* Only the named object reaches fn: added, changed, deleted; nothing
 * after stop. */
START_TEST(follow_named_object)
{
  uv_loop_t loop;
  struct cache_fake fake;
  struct inf_opts o = { 0 };
  struct inf *inf;
  struct exec_follower f = { .name = "mine", .fn = follow_fn };
  int closed = 0;

  followed[0] = 0;
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  cache_fake_init(&fake, &loop);
  o.gvr = (struct k8s_gvr){ "", "v1", "configmaps", true };
  o.namespace = "ns";
  inf = inf_new_source(&loop, &cache_fake_source, &fake, &o);
  ck_assert_int_eq(exec_follow_start(&f, inf), 0);
  ck_assert_int_gt(f.id, 0);
  ck_assert_int_eq(inf_start(inf), 0);
  cache_fake_list_reply(&fake, 0,
                        json_pack("[o,o]",
                                  cache_fake_obj_new("ns", "mine", "1"),
                                  cache_fake_obj_new("ns", "other", "2")),
                        "2", NULL);
  cache_fake_event(&fake, K8S_EV_MODIFIED,
                   cache_fake_obj_new("ns", "other", "3"));
  cache_fake_event(&fake, K8S_EV_MODIFIED,
                   cache_fake_obj_new("ns", "mine", "4"));
  cache_fake_event(&fake, K8S_EV_DELETED,
                   cache_fake_obj_new("ns", "mine", "5"));
  ck_assert_str_eq(followed, "1;4;gone;");
  exec_follow_stop(&f);
  cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", "mine", "6"));
  ck_assert_str_eq(followed, "1;4;gone;");
  ck_assert_int_eq(exec_follow_start(&f, NULL), 0); /* nothing to follow */
  inf_close(inf, set_flag, &closed);
  ck_assert(test_run_until(&loop, &closed, 1000));
  cache_fake_cleanup(&fake);
  ASSERT_LOOP_CLEAN(&loop);
}
END_TEST

static Suite *exec_suite(void)
{
  Suite *s = suite_create("exec");
  TCase *tc = tcase_create("shared");

  tcase_add_test(tc, obs_table);
  tcase_add_test(tc, limit_maths);
  tcase_add_test(tc, watcher_polls_every_page);
  tcase_add_test(tc, watcher_relists_on_partition_change_only);
  tcase_add_test(tc, watcher_good_listing_cancels_retry);
  tcase_add_test(tc, watcher_lists_at_rest_only_when_unsure);
  tcase_add_test(tc, secret_to_creds);
  tcase_add_test(tc, config_reload);
  tcase_add_test(tc, account_gauges_and_durations);
  tcase_add_test(tc, account_gauges_follow_events);
  tcase_add_test(tc, claim_gauge_follows_events);
  tcase_add_test(tc, account_limit_gauge);
  tcase_add_test(tc, follow_named_object);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(exec_suite)
