/* pkg/k8s leader election and event recorder against an in-memory fake
 * API (asynchronous completions on the test loop, like the real client). */
#include <stdlib.h>
#include <string.h>

#include "k8s/events.h"
#include "k8s/leader.h"
#include "testutil.h"
#include "util/str.h"
#include "util/util.h"

#define WAIT_MS 5000

/* ---- fake API: completions delivered from a 0 ms timer ------------------ */

struct pend {
  struct pend *next;
  k8s_obj_cb cb;
  void *arg;
  int err;
  json_t *obj;
};

struct fake {
  uv_loop_t loop;
  uv_timer_t kick;
  struct pend *head, *tail;
  json_t *lease; /* stored Lease, NULL = none */
  long rv;
  int gets, creates, updates, conflicts;
  int bump_before_update;       /* another writer changes the rv once */
  json_t *appear_before_create; /* another replica creates it first */
  /* events */
  json_t *created; /* array of created events */
  json_t *patches; /* array of {name, patch} */
};

/* Per elector handle: lets one replica's writes fail. */
struct handle {
  struct fake *f;
  int fail_updates;     /* > 0: this many updates fail; < 0: all fail */
  char last_holder[64]; /* holderIdentity of its last successful write */
};

static void drain(uv_timer_t *t)
{
  struct fake *f = t->data;
  struct pend *p;

  while ((p = f->head)) {
    f->head = p->next;
    if (!f->head)
      f->tail = NULL;
    p->cb(p->err, p->err ? NULL : p->obj, NULL, p->arg);
    json_decref(p->obj);
    free(p);
  }
}

static void complete(struct fake *f, k8s_obj_cb cb, void *arg, int err,
                     json_t *obj_new)
{
  struct pend *p = util_xcalloc(1, sizeof(*p));
  static const struct op_error dummy;

  (void)dummy;
  p->cb = cb;
  p->arg = arg;
  p->err = err;
  p->obj = obj_new ? obj_new : json_null();
  if (f->tail)
    f->tail->next = p;
  else
    f->head = p;
  f->tail = p;
  uv_timer_start(&f->kick, drain, 0, 0);
}

static void store(struct fake *f, json_t *l)
{
  char rv[24];

  json_t *copy = json_deep_copy(l); /* l may be f->lease itself */

  str_fmt(rv, sizeof(rv), "%ld", ++f->rv);
  json_object_set_new(json_object_get(copy, "metadata"), "resourceVersion",
                      json_string(rv));
  json_decref(f->lease);
  f->lease = copy;
}

static int l_get(void *a, const char *ns, const char *name, k8s_obj_cb cb,
                 void *arg)
{
  struct fake *f = ((struct handle *)a)->f;

  f->gets++;
  complete(f, cb, arg, f->lease ? 0 : OP_ENOTFOUND,
           f->lease ? json_deep_copy(f->lease) : NULL);
  return 0;
}

static int l_create(void *a, const char *ns, json_t *l, k8s_obj_cb cb,
                    void *arg)
{
  struct fake *f = ((struct handle *)a)->f;

  f->creates++;
  if (f->appear_before_create) {
    store(f, f->appear_before_create);
    json_decref(f->appear_before_create);
    f->appear_before_create = NULL;
  }
  if (f->lease) {
    complete(f, cb, arg, OP_EEXIST, NULL);
    return 0;
  }
  store(f, l);
  complete(f, cb, arg, 0, json_deep_copy(f->lease));
  return 0;
}

static int l_update(void *a, json_t *l, k8s_obj_cb cb, void *arg)
{
  struct handle *h = a;
  struct fake *f = h->f;

  f->updates++;
  if (h->fail_updates) {
    if (h->fail_updates > 0)
      h->fail_updates--;
    complete(f, cb, arg, OP_ETIMEDOUT, NULL);
    return 0;
  }
  if (f->bump_before_update) {
    f->bump_before_update = 0;
    store(f, f->lease);
  }
  if (!f->lease || !str_eq(k8s_obj_rv(l), k8s_obj_rv(f->lease))) {
    f->conflicts++;
    complete(f, cb, arg, OP_ECONFLICT, NULL);
    return 0;
  }
  store(f, l);
  str_copy(h->last_holder, k8s_obj_str(l, "spec", "holderIdentity"),
           sizeof(h->last_holder));
  complete(f, cb, arg, 0, json_deep_copy(f->lease));
  return 0;
}

static const struct k8s_lease_ops fake_ops = { l_get, l_create, l_update };

static void fake_init(struct fake *f)
{
  memset(f, 0, sizeof(*f));
  ck_assert_int_eq(uv_loop_init(&f->loop), 0);
  uv_timer_init(&f->loop, &f->kick);
  f->kick.data = f;
  f->created = json_array();
  f->patches = json_array();
}

static void fake_cleanup(struct fake *f)
{
  uv_run(&f->loop, UV_RUN_NOWAIT);
  ck_assert_ptr_null(f->head);
  uv_close((uv_handle_t *)&f->kick, NULL);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&f->loop), 0);
  json_decref(f->lease);
  json_decref(f->created);
  json_decref(f->patches);
}

/* ---- elector helpers ----------------------------------------------------- */

struct cand {
  struct handle h;
  struct k8s_leader *le;
  int started, stopped, closed;
  char leader[64];
};

static void on_start(void *arg)
{
  ((struct cand *)arg)->started++;
}

static void on_stop(void *arg)
{
  ((struct cand *)arg)->stopped++;
}

static void on_new(const char *id, void *arg)
{
  str_copy(((struct cand *)arg)->leader, id, 64);
}

static void set_flag(void *arg)
{
  *(int *)arg = 1;
}

static void cand_new(struct fake *f, struct cand *c, const char *id)
{
  struct k8s_leader_opts o = { .namespace = "aao",
                               .identity = id,
                               .lease_duration_ms = test_ms(300),
                               .renew_deadline_ms = test_ms(200),
                               .retry_period_ms = test_ms(50),
                               .on_started_leading = on_start,
                               .on_stopped_leading = on_stop,
                               .on_new_leader = on_new,
                               .ops = &fake_ops };

  memset(c, 0, sizeof(*c));
  c->h.f = f;
  o.arg = c;
  o.ops_arg = &c->h;
  ck_assert_int_eq(k8s_leader_new(&f->loop, NULL, &o, &c->le), 0);
  ck_assert_int_eq(k8s_leader_start(c->le), 0);
}

static void cand_close(struct fake *f, struct cand *c)
{
  k8s_leader_close(c->le, set_flag, &c->closed);
  ck_assert(test_run_until(&f->loop, &c->closed, WAIT_MS));
}

static const char *holder(struct fake *f)
{
  return k8s_obj_str(json_object_get(f->lease, "spec") ? f->lease : NULL,
                     "spec", "holderIdentity");
}

/* Run the loop for ms (a bounded wait on a flag nobody sets). */
static void run_for(struct fake *f, unsigned ms)
{
  int never = 0;

  test_run_until(&f->loop, &never, ms);
}

START_TEST(acquire_renew_release)
{
  struct fake f;
  struct cand a, b;
  int renews;

  fake_init(&f);
  cand_new(&f, &a, "pod-a");
  ck_assert(test_run_until(&f.loop, &a.started, WAIT_MS));
  ck_assert(k8s_leader_is_leader(a.le));
  ck_assert_int_eq(f.creates, 1);
  ck_assert_str_eq(holder(&f), "pod-a");
  ck_assert_int_eq(
      json_integer_value(json_object_get(json_object_get(f.lease, "spec"),
                                         "leaseDurationSeconds")),
      (test_ms(300) + 999) / 1000);
  /* b sees a valid lease held by a and keeps off it while a renews */
  cand_new(&f, &b, "pod-b");
  renews = f.updates;
  run_for(&f, test_ms(400)); /* longer than the lease duration */
  ck_assert_int_gt(f.updates, renews + 3);
  ck_assert_int_eq(b.started, 0);
  ck_assert_str_eq(b.leader, "pod-a");
  ck_assert_int_eq(a.stopped, 0);
  /* a shuts down: stopped first, lease released, b takes over fast */
  cand_close(&f, &a);
  ck_assert_int_eq(a.stopped, 1);
  ck_assert_str_eq(a.h.last_holder, ""); /* released */
  ck_assert(test_run_until(&f.loop, &b.started, test_ms(200)));
  ck_assert_str_eq(holder(&f), "pod-b");
  ck_assert_int_eq(json_integer_value(json_object_get(
                       json_object_get(f.lease, "spec"), "leaseTransitions")),
                   1);
  cand_close(&f, &b);
  fake_cleanup(&f);
}
END_TEST

START_TEST(lose_on_failed_renew)
{
  struct fake f;
  struct cand a, b;
  uint64_t t0;

  fake_init(&f);
  cand_new(&f, &a, "pod-a");
  ck_assert(test_run_until(&f.loop, &a.started, WAIT_MS));
  cand_new(&f, &b, "pod-b");
  a.h.fail_updates = -1; /* a's renewals all fail from now on */
  t0 = uv_now(&f.loop);
  ck_assert(test_run_until(&f.loop, &a.stopped, WAIT_MS));
  /* stopped within the renew deadline (+ one retry period of slack) */
  ck_assert_uint_le(uv_now(&f.loop) - t0,
                    test_ms(200 + 150)); /* loaded CI slack */
  ck_assert(!k8s_leader_is_leader(a.le));
  /* b only takes over once the lease expired by its own observation */
  ck_assert(test_run_until(&f.loop, &b.started, WAIT_MS));
  ck_assert_uint_ge(uv_now(&f.loop) - t0, test_ms(300 - 50));
  ck_assert_int_eq(a.started, 1);
  cand_close(&f, &a);
  ck_assert_int_eq(a.stopped, 1);        /* not twice */
  ck_assert_str_eq(holder(&f), "pod-b"); /* a did not release b's lease */
  cand_close(&f, &b);
  fake_cleanup(&f);
}
END_TEST

START_TEST(conflict_regets_and_compares)
{
  struct fake f;
  struct cand a;
  int gets;

  fake_init(&f);
  cand_new(&f, &a, "pod-a");
  ck_assert(test_run_until(&f.loop, &a.started, WAIT_MS));
  gets = f.gets;
  f.bump_before_update = 1; /* someone touched the lease: 409 on renew */
  run_for(&f, test_ms(60));
  ck_assert_int_eq(f.conflicts, 1);
  ck_assert_int_ge(f.gets, gets + 2); /* the tick's get + the re-get */
  ck_assert(k8s_leader_is_leader(a.le));
  ck_assert_int_eq(a.stopped, 0);
  /* another replica grabbed it meanwhile: a stops at once */
  json_object_set_new(json_object_get(f.lease, "spec"), "holderIdentity",
                      json_string("pod-z"));
  store(&f, f.lease);
  ck_assert(test_run_until(&f.loop, &a.stopped, WAIT_MS));
  ck_assert_str_eq(a.leader, "pod-z");
  cand_close(&f, &a);
  ck_assert_str_eq(holder(&f), "pod-z");
  fake_cleanup(&f);
}
END_TEST

START_TEST(create_race_exists)
{
  struct fake f;
  struct cand a;

  fake_init(&f);
  /* a lease appears between a's get (404) and its create */
  f.appear_before_create = json_pack(
      "{s:s, s:{s:s, s:s}, s:{s:s, s:i}}", "kind", "Lease", "metadata", "name",
      "aws-account-operator-lock", "namespace", "aao", "spec", "holderIdentity",
      "pod-q", "leaseDurationSeconds", (int)(test_ms(1000) + 999) / 1000);
  cand_new(&f, &a, "pod-a");
  run_for(&f, test_ms(100));
  ck_assert_int_eq(f.creates, 1);
  ck_assert_int_ge(f.gets, 2); /* re-got after EEXIST */
  ck_assert_int_eq(a.started, 0);
  ck_assert_str_eq(a.leader, "pod-q");
  cand_close(&f, &a);
  fake_cleanup(&f);
}
END_TEST

/* ---- events
 * ------------------------------------------------------------------ */

static int e_create(void *a, const char *ns, json_t *ev, k8s_obj_cb cb,
                    void *arg)
{
  struct fake *f = a;

  ck_assert_str_eq(ns, k8s_obj_namespace(ev));
  json_array_append(f->created, ev);
  complete(f, cb, arg, 0, json_deep_copy(ev));
  return 0;
}

static int e_patch(void *a, const char *ns, const char *name, json_t *p,
                   k8s_obj_cb cb, void *arg)
{
  struct fake *f = a;

  json_array_append_new(f->patches,
                        json_pack("{s:s, s:O}", "name", name, "patch", p));
  complete(f, cb, arg, 0, NULL);
  return 0;
}

static const struct k8s_event_sink fake_sink = { e_create, e_patch };

static json_t *account(const char *name)
{
  return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "apiVersion",
                   "aws.managed.openshift.io/v1alpha1", "kind", "Account",
                   "metadata", "name", name, "namespace", "aao", "uid", "u-1",
                   "resourceVersion", "42");
}

static struct k8s_recorder *recorder(struct fake *f, size_t cache)
{
  struct k8s_recorder_opts o = { .reporting_instance = "pod-a",
                                 .cache_size = cache,
                                 .sink = &fake_sink,
                                 .sink_arg = f };
  struct k8s_recorder *r;

  ck_assert_int_eq(k8s_recorder_new(&f->loop, NULL, &o, &r), 0);
  return r;
}

START_TEST(events_create_and_aggregate)
{
  struct k8s_recorder_stats st;
  struct k8s_recorder *r;
  json_t *acc = account("osd-1"), *ev, *io;
  struct fake f;

  fake_init(&f);
  r = recorder(&f, 0);
  k8s_event(r, acc, K8S_EVENT_WARNING, "AccountFailed", "quota %d", 5);
  run_for(&f, 0);
  ck_assert_uint_eq(json_array_size(f.created), 1);
  ev = json_array_get(f.created, 0);
  io = json_object_get(ev, "involvedObject");
  ck_assert_str_eq(k8s_obj_str(io, NULL, "kind"), "Account");
  ck_assert_str_eq(k8s_obj_str(io, NULL, "uid"), "u-1");
  ck_assert_str_eq(k8s_obj_str(io, NULL, "resourceVersion"), "42");
  ck_assert_str_eq(k8s_obj_str(io, NULL, "apiVersion"),
                   "aws.managed.openshift.io/v1alpha1");
  ck_assert_str_eq(k8s_obj_str(ev, NULL, "type"), "Warning");
  ck_assert_str_eq(k8s_obj_str(ev, NULL, "message"), "quota 5");
  ck_assert_str_eq(k8s_obj_str(ev, "source", "component"),
                   "aws-account-operator");
  ck_assert_str_eq(k8s_obj_str(ev, NULL, "reportingInstance"), "pod-a");
  ck_assert(str_has_prefix(k8s_obj_name(ev), "osd-1."));
  /* the same again: PATCH count 2 on the same Event */
  k8s_event(r, acc, K8S_EVENT_WARNING, "AccountFailed", "quota %d", 5);
  k8s_event(r, acc, K8S_EVENT_WARNING, "AccountFailed", "quota %d", 5);
  run_for(&f, 0);
  ck_assert_uint_eq(json_array_size(f.created), 1);
  ck_assert_uint_eq(json_array_size(f.patches), 2);
  ck_assert_str_eq(k8s_obj_str(json_array_get(f.patches, 1), NULL, "name"),
                   k8s_obj_name(ev));
  ck_assert_int_eq(
      json_integer_value(json_object_get(
          json_object_get(json_array_get(f.patches, 1), "patch"), "count")),
      3);
  /* a different message or reason is a new Event */
  k8s_event(r, acc, K8S_EVENT_WARNING, "AccountFailed", "quota %d", 6);
  k8s_event(r, acc, K8S_EVENT_NORMAL, "AccountReady", "ok");
  run_for(&f, 0);
  ck_assert_uint_eq(json_array_size(f.created), 3);
  k8s_recorder_stats(r, &st);
  ck_assert_uint_eq(st.created, 3);
  ck_assert_uint_eq(st.patched, 2);
  ck_assert_uint_eq(st.dropped, 0);
  k8s_recorder_free(r);
  json_decref(acc);
  fake_cleanup(&f);
}
END_TEST

START_TEST(events_rate_limited_per_object)
{
  struct k8s_recorder_stats st;
  struct k8s_recorder *r;
  json_t *a1 = account("osd-1"), *a2 = account("osd-2");
  struct fake f;
  int i;

  fake_init(&f);
  r = recorder(&f, 8); /* also exercises eviction of aggregation entries */
  for (i = 0; i < 30; i++)
    k8s_event(r, a1, K8S_EVENT_NORMAL, "Tick", "n=%d", i);
  k8s_event(r, a2, K8S_EVENT_NORMAL, "Tick", "other object");
  k8s_recorder_stats(r, &st);
  ck_assert_uint_eq(st.created, 26);
  ck_assert_uint_eq(st.dropped, 5);
  run_for(&f, 0);
  ck_assert_uint_eq(json_array_size(f.created), 26);
  /* free with requests in flight: they complete into nothing */
  k8s_event(r, a2, K8S_EVENT_NORMAL, "Tick", "late");
  k8s_recorder_free(r);
  run_for(&f, 0);
  json_decref(a1);
  json_decref(a2);
  fake_cleanup(&f);
}
END_TEST

static Suite *k8s_leader_suite(void)
{
  Suite *s = suite_create("k8s_leader");
  TCase *l = tcase_create("leader"), *e = tcase_create("events");

  tcase_add_test(l, acquire_renew_release);
  tcase_add_test(l, lose_on_failed_renew);
  tcase_add_test(l, conflict_regets_and_compares);
  tcase_add_test(l, create_race_exists);
  tcase_add_test(e, events_create_and_aggregate);
  tcase_add_test(e, events_rate_limited_per_object);
  suite_add_tcase(s, l);
  suite_add_tcase(s, e);
  return s;
}

TEST_MAIN(k8s_leader_suite)
