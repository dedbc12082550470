/* pkg/controllers/runtime: informer events -> keys -> queue -> reconcile,
 * with asynchronous (pending) reconciles, requeue rules, concurrency,
 * pause/resume, owner mapping, sync gating and metrics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/informer.h"
#include "controllers/runtime/ctrl.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "support/cache_fake.h"
#include "testutil.h"
#include "util/err.h"

#define MS 1000000ull

/* What the reconciler does, per test. */
enum mode {
  M_DONE,
  M_PENDING,
  M_ERROR,
  M_REQUEUE_AFTER,
  M_REQUEUE,
  M_NEGATIVE,
  M_COMPLETE_INSIDE,
  M_READ /* reads its object from the accounts cache (decoded if compact) */
};

static uv_loop_t loop;
static struct cache_fake fake_acc, fake_sec;
static struct inf *accounts, *secrets;
static struct ctrl *ctrl;
static struct met_registry *reg;
static struct ctrl_metrics *cm;
static struct wq_metrics *wm;
static uint64_t clock_ns;
static enum mode mode;
static char calls[2048];
static int ncalls;
static struct ctrl_ctx *last_ctx;
static size_t hot_at_start; /* M_READ: the largest store_hot on entry */

static uint64_t fake_clock(void *arg)
{
  (void)arg;
  return clock_ns;
}

static int reconcile(struct ctrl_ctx *ctx, const char *key,
                     struct ctrl_result *out)
{
  size_t n = strlen(calls);

  ck_assert_ptr_eq(ctrl_ctx_data(ctx), &mode);
  ck_assert_uint_gt(ctrl_ctx_reconcile_id(ctx, key), 0);
  snprintf(calls + n, sizeof(calls) - n, "%s ", key);
  last_ctx = ctx;
  ncalls++;
  switch (mode) {
  case M_DONE:
    return 0;
  case M_PENDING:
    return CTRL_PENDING;
  case M_ERROR:
    out->err = OP_EAWS;
    return 0;
  case M_REQUEUE_AFTER:
    out->requeue_after_ms = 30000;
    return 0;
  case M_REQUEUE:
    out->requeue = true;
    return 0;
  case M_NEGATIVE:
    return OP_ECONFLICT;
  case M_COMPLETE_INSIDE:
    ck_assert_int_eq(ctrl_complete(ctx, key, NULL), 0);
    return CTRL_PENDING;
  case M_READ: {
    struct store *s = inf_store(accounts);

    if (store_hot(s) > hot_at_start)
      hot_at_start = store_hot(s);
    ck_assert_ptr_nonnull(store_get(s, key));
    return 0;
  }
  }
  return 0;
}

static struct inf *new_inf(struct cache_fake *f, const char *resource,
                           unsigned store_flags)
{
  struct inf_opts o = { 0 };

  o.store_flags = store_flags;
  cache_fake_init(f, &loop);
  o.gvr.group = "aws.managed.openshift.io";
  o.gvr.version = "v1alpha1";
  o.gvr.resource = resource;
  o.gvr.namespaced = true;
  o.rng_seed = 1;
  return inf_new_source(&loop, &cache_fake_source, f, &o);
}

static void new_ctrl(unsigned max)
{
  struct wq_opts q = { 0 };
  struct ctrl_opts o = { 0 };
  struct ctrl_owner owner = { "aws.managed.openshift.io", "Account", false,
                              false };

  q.clock = fake_clock;
  o.name = "account";
  o.reconcile = reconcile;
  o.data = &mode;
  o.max_concurrent = max;
  o.metrics = cm;
  o.wq_metrics = wm;
  o.queue = &q;
  ctrl = ctrl_new(&loop, &o);
  ck_assert_int_eq(ctrl_watch(ctrl, accounts), 0);
  ck_assert_int_eq(ctrl_watch_owned(ctrl, secrets, &owner), 0);
}

static void setup(void)
{
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  reg = met_registry_new();
  cm = ctrl_metrics_new(reg);
  wm = wq_metrics_new(reg);
  clock_ns = 1000 * MS;
  accounts = new_inf(&fake_acc, "accounts", STORE_COMPACT);
  secrets = new_inf(&fake_sec, "secrets", 0);
  mode = M_DONE;
  calls[0] = 0;
  ncalls = 0;
  hot_at_start = 0;
  ctrl = NULL;
}

static int closed;

static void on_closed(void *arg)
{
  (*(int *)arg)++;
}

static void teardown(void)
{
  closed = 0;
  if (ctrl) {
    ctrl_close(ctrl, on_closed, &closed);
    ck_assert(test_run_until(&loop, &closed, 1000));
  }
  closed = 0;
  inf_close(accounts, on_closed, &closed);
  inf_close(secrets, on_closed, &closed);
  while (closed < 2 && uv_run(&loop, UV_RUN_ONCE))
    ;
  ck_assert_int_eq(closed, 2);
  cache_fake_cleanup(&fake_acc);
  cache_fake_cleanup(&fake_sec);
  ASSERT_LOOP_CLEAN(&loop);
  ctrl_metrics_free(cm);
  wq_metrics_free(wm);
  met_registry_free(reg);
}

/* Run the loop until nothing is immediately runnable. */
static void settle(void)
{
  int i;

  for (i = 0; i < 20; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
}

static json_t *secret(const char *name, const char *owner_kind,
                      const char *owner, bool controller)
{
  json_t *o = cache_fake_obj_new("ns", name, "1");

  json_object_set_new(json_object_get(o, "metadata"), "ownerReferences",
                      json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion",
                                "aws.managed.openshift.io/v1alpha1", "kind",
                                owner_kind, "name", owner, "uid", owner,
                                "controller", controller));
  return o;
}

/* Both informers listed; accounts a and b exist. */
static void sync_all(void)
{
  ck_assert_int_eq(inf_start(accounts), 0);
  ck_assert_int_eq(inf_start(secrets), 0);
  cache_fake_list_reply(&fake_acc, 0,
                        json_pack("[o,o]", cache_fake_obj_new("ns", "a", "1"),
                                  cache_fake_obj_new("ns", "b", "1")),
                        "10", NULL);
  cache_fake_list_reply(&fake_sec, 0, NULL, "10", NULL);
}

START_TEST(sync_gates_start)
{
  new_ctrl(1);
  ck_assert_int_eq(ctrl_start(ctrl), 0);
  ck_assert_int_eq(inf_start(accounts), 0);
  ck_assert_int_eq(inf_start(secrets), 0);
  cache_fake_list_reply(&fake_acc, 0,
                        json_pack("[o]", cache_fake_obj_new("ns", "a", "1")),
                        "10", NULL);
  settle();
  /* Keys are queued, but secrets have not synced: no reconcile. */
  ck_assert(!ctrl_synced(ctrl));
  ck_assert_int_eq(ncalls, 0);
  ck_assert_uint_eq(wq_len(ctrl_queue(ctrl)), 1);
  cache_fake_list_reply(&fake_sec, 0, NULL, "10", NULL);
  ck_assert(ctrl_synced(ctrl));
  settle();
  ck_assert_str_eq(calls, "ns/a ");
}
END_TEST

/* Reconciles that finish at once do not drain a long queue in one loop
 * iteration: the loop turns (timers, I/O, the compact caches' trim) every
 * batch, and the rest still runs. */
START_TEST(pump_yields_to_the_loop)
{
  char key[32];
  int i;

  new_ctrl(1);
  ck_assert_int_eq(ctrl_start(ctrl), 0);
  sync_all();
  settle();
  ncalls = 0;
  for (i = 0; i < 1000; i++) {
    snprintf(key, sizeof(key), "ns/k%04d", i);
    ctrl_enqueue(ctrl, key);
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_gt(ncalls, 0);
  ck_assert_int_le(ncalls, 128);
  for (i = 0; i < 100 && ncalls < 1000; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(ncalls, 1000);
}
END_TEST

/* A compact cache's objects decoded by one reconcile are released before
 * the next starts (while they are still in the CPU caches), but only
 * between reconciles the loop called: a pump from a caller's stack (a
 * ConfigMap handler raising the limit) keeps what the caller borrowed. */
START_TEST(pump_trims_between_reconciles)
{
  const json_t *held;
  int i;

  new_ctrl(1);
  mode = M_READ;
  ck_assert_int_eq(ctrl_start(ctrl), 0);
  sync_all();
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ");
  for (i = 0; i < 10; i++) { /* two reconciles per pump pass */
    ncalls = 0;
    ctrl_enqueue(ctrl, "ns/a");
    ctrl_enqueue(ctrl, "ns/b");
    uv_run(&loop, UV_RUN_NOWAIT);
    ck_assert_int_eq(ncalls, 2);
  }
  ck_assert_uint_eq(hot_at_start, 0);
  /* not from the loop: the caller's borrowed object stays valid */
  ctrl_set_max_concurrent(ctrl, 1);
  held = store_get(inf_store(accounts), "ns/a");
  ck_assert_uint_eq(store_hot(inf_store(accounts)), 1);
  mode = M_PENDING;
  ctrl_enqueue(ctrl, "ns/b");
  ctrl_set_max_concurrent(ctrl, 2); /* pumps now, from this stack */
  ck_assert_uint_eq(ctrl_active(ctrl), 1);
  ck_assert_uint_ge(store_hot(inf_store(accounts)), 1);
  ck_assert_str_eq(json_string_value(json_object_get(
                       json_object_get(held, "metadata"), "name")),
                   "a");
  ctrl_complete(last_ctx, "ns/b", NULL);
  mode = M_DONE;
  settle();
}
END_TEST

START_TEST(pending_keeps_key_stingy)
{
  new_ctrl(4);
  mode = M_PENDING;
  sync_all();
  ctrl_start(ctrl);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ");
  ck_assert(ctrl_is_pending(ctrl, "ns/a"));
  ck_assert_uint_eq(ctrl_active(ctrl), 2);
  /* Events for a pending key only mark it dirty. */
  cache_fake_event(&fake_acc, K8S_EV_MODIFIED,
                   cache_fake_obj_new("ns", "a", "2"));
  cache_fake_event(&fake_acc, K8S_EV_MODIFIED,
                   cache_fake_obj_new("ns", "a", "3"));
  settle();
  ck_assert_int_eq(ncalls, 2);
  ck_assert(wq_is_processing(ctrl_queue(ctrl), "ns/a"));
  /* Completion: success, then the dirty key runs once more. */
  mode = M_DONE;
  ck_assert_int_eq(ctrl_complete(last_ctx, "ns/x", NULL), OP_ENOTFOUND);
  ck_assert_int_eq(ctrl_complete(last_ctx, "ns/a", NULL), 0);
  ck_assert_int_eq(ctrl_complete(last_ctx, "ns/a", NULL), OP_ENOTFOUND);
  ck_assert(!ctrl_is_pending(ctrl, "ns/a"));
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ns/a ");
  ck_assert_uint_eq(ctrl_active(ctrl), 1); /* b still pending */
  ck_assert_int_eq(ctrl_complete(last_ctx, "ns/b", NULL), 0);
  settle();
  ck_assert_int_eq(ncalls, 3);
  ck_assert_uint_eq(ctrl_active(ctrl), 0);
  ck_assert_uint_eq(wq_len(ctrl_queue(ctrl)), 0);
}
END_TEST

static void advance(struct wq *q, uint64_t ms)
{
  clock_ns += ms * MS;
  wq_process_delayed(q);
}

START_TEST(completion_requeue_rules)
{
  struct wq *q;
  const char *const *lv_err = MET_LV("account", "error");

  new_ctrl(1);
  q = ctrl_queue(ctrl);
  sync_all();
  ctrl_start(ctrl);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ");
  calls[0] = 0;
  /* Error (async): rate-limited requeue, 5 ms then 10 ms. */
  mode = M_PENDING;
  ctrl_enqueue(ctrl, "ns/a");
  settle();
  ck_assert(ctrl_is_pending(ctrl, "ns/a"));
  {
    struct ctrl_result r = { .err = OP_EAWS };
    ck_assert_int_eq(ctrl_complete(last_ctx, "ns/a", &r), 0);
  }
  ck_assert_uint_eq(wq_num_requeues(q, "ns/a"), 1);
  ck_assert_uint_eq(wq_delayed(q), 1);
  ck_assert(met_value(cm->total, lv_err) == 1);
  ck_assert(met_value(cm->errors, MET_LV("account")) == 1);
  advance(q, 5);
  mode = M_ERROR; /* synchronous error this time */
  settle();
  ck_assert_uint_eq(wq_num_requeues(q, "ns/a"), 2);
  advance(q, 10);
  /* Negative return code: an error too. */
  mode = M_NEGATIVE;
  settle();
  ck_assert_uint_eq(wq_num_requeues(q, "ns/a"), 3);
  ck_assert(met_value(cm->total, lv_err) == 3);
  advance(q, 20);
  /* requeue_after: forget, then exactly 30 s later. */
  mode = M_REQUEUE_AFTER;
  settle();
  ck_assert_uint_eq(wq_num_requeues(q, "ns/a"), 0);
  ck_assert_uint_eq(wq_delayed(q), 1);
  advance(q, 29999);
  ck_assert_uint_eq(wq_len(q), 0);
  advance(q, 1);
  ck_assert_uint_eq(wq_len(q), 1);
  ck_assert(met_value(cm->total, MET_LV("account", "requeue_after")) == 1);
  /* requeue: rate limited without an error. */
  mode = M_REQUEUE;
  settle();
  ck_assert_uint_eq(wq_num_requeues(q, "ns/a"), 1);
  ck_assert(met_value(cm->total, MET_LV("account", "requeue")) == 1);
  advance(q, 5);
  /* Success: forget. */
  mode = M_DONE;
  settle();
  ck_assert_uint_eq(wq_num_requeues(q, "ns/a"), 0);
  ck_assert_uint_eq(wq_delayed(q), 0);
  ck_assert_str_eq(calls, "ns/a ns/a ns/a ns/a ns/a ns/a ");
  ck_assert(met_value(cm->total, MET_LV("account", "success")) == 3);
  ck_assert(met_value(cm->time, MET_LV("account")) == 8);
}
END_TEST

START_TEST(complete_inside_reconcile)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);

  log_configure("info,ctrl=debug", NULL);
  log_set_output(f);
  new_ctrl(1);
  mode = M_COMPLETE_INSIDE;
  sync_all();
  ctrl_start(ctrl);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ");
  ck_assert_uint_eq(ctrl_active(ctrl), 0);
  ck_assert(met_value(cm->total, MET_LV("account", "success")) == 2);
  log_reset();
  fclose(f);
  /* One debug line per reconcile with its id. */
  ck_assert_ptr_nonnull(strstr(text, "key=ns/a reconcileID=1 result=success"));
  ck_assert_ptr_nonnull(strstr(text, "key=ns/b reconcileID=2 result=success"));
  free(text);
}
END_TEST

START_TEST(concurrency_limit)
{
  char key[16];
  int i;

  new_ctrl(2);
  mode = M_PENDING;
  sync_all();
  for (i = 0; i < 4; i++) {
    snprintf(key, sizeof(key), "ns/k%d", i);
    ctrl_enqueue(ctrl, key);
  }
  ctrl_start(ctrl);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ");
  ck_assert_uint_eq(ctrl_active(ctrl), 2);
  ck_assert(met_value(cm->active, MET_LV("account")) == 2);
  ck_assert(met_value(cm->max, MET_LV("account")) == 2);
  ck_assert_uint_eq(wq_len(ctrl_queue(ctrl)), 4);
  ctrl_complete(last_ctx, "ns/b", NULL);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ns/k0 ");
  ck_assert_uint_eq(ctrl_active(ctrl), 2);
  ctrl_complete(last_ctx, "ns/a", NULL);
  ctrl_complete(last_ctx, "ns/k0", NULL);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ns/k0 ns/k1 ns/k2 ");
  mode = M_DONE;
  ctrl_complete(last_ctx, "ns/k1", NULL);
  ctrl_complete(last_ctx, "ns/k2", NULL);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ns/k0 ns/k1 ns/k2 ns/k3 ");
  ck_assert_uint_eq(ctrl_active(ctrl), 0);
  ck_assert(met_value(cm->active, MET_LV("account")) == 0);
}
END_TEST

/* The limit changes while running (a ConfigMap edit): raised, a queued
 * key starts at once; lowered, the ones in flight finish and no new one
 * starts until fewer than the new limit run. */
START_TEST(concurrency_changes_live)
{
  new_ctrl(1);
  mode = M_PENDING;
  sync_all();
  ctrl_enqueue(ctrl, "ns/k0");
  ctrl_start(ctrl);
  settle();
  ck_assert_str_eq(calls, "ns/a ");
  ck_assert_uint_eq(ctrl_active(ctrl), 1);
  ctrl_set_max_concurrent(ctrl, 2);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ");
  ck_assert_uint_eq(ctrl_active(ctrl), 2);
  ck_assert(met_value(cm->max, MET_LV("account")) == 2);
  ctrl_set_max_concurrent(ctrl, 1);
  ctrl_complete(last_ctx, "ns/a", NULL);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ");
  ck_assert_uint_eq(ctrl_active(ctrl), 1);
  ctrl_complete(last_ctx, "ns/b", NULL);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ns/k0 ");
  ck_assert_uint_eq(ctrl_active(ctrl), 1);
  mode = M_DONE;
  ctrl_complete(last_ctx, "ns/k0", NULL);
  settle();
}
END_TEST

START_TEST(pause_resume)
{
  new_ctrl(4);
  ctrl_pause(ctrl); /* not the leader yet */
  sync_all();
  ctrl_start(ctrl);
  settle();
  ck_assert_int_eq(ncalls, 0);
  ck_assert(ctrl_paused(ctrl));
  ck_assert_uint_eq(wq_len(ctrl_queue(ctrl)), 2); /* informers still feed */
  ctrl_resume(ctrl);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ");
  /* Losing the lease with a reconcile pending: it completes, no new ones
   * start. */
  mode = M_PENDING;
  cache_fake_event(&fake_acc, K8S_EV_MODIFIED,
                   cache_fake_obj_new("ns", "a", "2"));
  settle();
  ck_assert(ctrl_is_pending(ctrl, "ns/a"));
  ctrl_pause(ctrl);
  cache_fake_event(&fake_acc, K8S_EV_MODIFIED,
                   cache_fake_obj_new("ns", "b", "2"));
  cache_fake_event(&fake_acc, K8S_EV_ADDED, cache_fake_obj_new("ns", "c", "2"));
  settle();
  ck_assert_int_eq(ncalls, 3);
  ck_assert_int_eq(ctrl_complete(last_ctx, "ns/a", NULL), 0);
  settle();
  ck_assert_int_eq(ncalls, 3);
  ck_assert_uint_eq(ctrl_active(ctrl), 0);
  ck_assert_uint_eq(wq_len(ctrl_queue(ctrl)), 2);
  mode = M_DONE;
  ctrl_resume(ctrl);
  settle();
  ck_assert_str_eq(calls, "ns/a ns/b ns/a ns/b ns/c ");
}
END_TEST

START_TEST(owner_mapping)
{
  struct ctrl_owner any = { "aws.managed.openshift.io", "Account", false,
                            true };
  struct ctrl_owner core = { "", "Pod", true, false };
  char key[STORE_KEY_MAX];
  json_t *o;

  new_ctrl(1);
  sync_all();
  ctrl_start(ctrl);
  settle();
  calls[0] = 0;
  cache_fake_event(&fake_sec, K8S_EV_ADDED,
                   secret("s1", "Account", "owner1", true));
  /* Not the controller reference, or another kind: ignored. */
  cache_fake_event(&fake_sec, K8S_EV_ADDED,
                   secret("s2", "Account", "owner2", false));
  cache_fake_event(&fake_sec, K8S_EV_ADDED,
                   secret("s3", "AccountClaim", "owner3", true));
  settle();
  ck_assert_str_eq(calls, "ns/owner1 ");
  /* Deletion of an owned object enqueues the owner too. */
  cache_fake_event(&fake_sec, K8S_EV_DELETED,
                   secret("s1", "Account", "owner1", true));
  settle();
  ck_assert_str_eq(calls, "ns/owner1 ns/owner1 ");
  /* ctrl_owner_key variants. */
  o = secret("s4", "Account", "owner4", false);
  ck_assert_int_eq(ctrl_owner_key(o, &any, key, sizeof(key)), 0);
  ck_assert_str_eq(key, "ns/owner4");
  ck_assert_int_eq(ctrl_owner_key(o, &core, key, sizeof(key)), OP_ENOTFOUND);
  json_decref(o);
  o = cache_fake_obj_new("ns", "p", "1");
  json_object_set_new(json_object_get(o, "metadata"), "ownerReferences",
                      json_pack("[{s:s, s:s, s:s, s:b}]", "apiVersion", "v1",
                                "kind", "Pod", "name", "pod1", "controller",
                                1));
  ck_assert_int_eq(ctrl_owner_key(o, &core, key, sizeof(key)), 0);
  ck_assert_str_eq(key, "pod1");
  json_decref(o);
}
END_TEST

static void map_to_two(const json_t *obj, struct ctrl_keys *out, void *arg)
{
  (void)obj;
  (void)arg;
  ctrl_keys_add(out, "ns/x");
  ctrl_keys_add(out, "ns/y");
  ctrl_keys_add(out, "ns/x");
}

START_TEST(map_source_and_gate)
{
  struct ctrl_opts o = { .name = "pool",
                         .reconcile = reconcile,
                         .data = &mode };

  ctrl = ctrl_new(&loop, &o);
  ck_assert_int_eq(ctrl_watch_map(ctrl, secrets, map_to_two, NULL), 0);
  ck_assert_int_eq(ctrl_wait_for(ctrl, accounts), 0);
  ctrl_start(ctrl);
  ck_assert_int_eq(inf_start(secrets), 0);
  cache_fake_list_reply(&fake_sec, 0,
                        json_pack("[o]", cache_fake_obj_new("ns", "s", "1")),
                        "10", NULL);
  settle();
  ck_assert_int_eq(ncalls, 0); /* accounts (read only) not synced yet */
  ck_assert_int_eq(inf_start(accounts), 0);
  cache_fake_list_reply(&fake_acc, 0,
                        json_pack("[o]", cache_fake_obj_new("ns", "a", "1")),
                        "10", NULL);
  settle();
  ck_assert_str_eq(calls, "ns/x ns/y "); /* the gate enqueues nothing */
}
END_TEST

START_TEST(close_waits_for_pending)
{
  new_ctrl(2);
  mode = M_PENDING;
  sync_all();
  ctrl_start(ctrl);
  settle();
  ck_assert_uint_eq(ctrl_active(ctrl), 2);
  closed = 0;
  ctrl_close(ctrl, on_closed, &closed);
  settle();
  ck_assert_int_eq(closed, 0);
  /* Detached from the informers already. */
  cache_fake_event(&fake_acc, K8S_EV_ADDED, cache_fake_obj_new("ns", "n", "2"));
  ck_assert_int_eq(ctrl_complete(last_ctx, "ns/a", NULL), 0);
  settle();
  ck_assert_int_eq(closed, 0);
  ck_assert_int_eq(ncalls, 2);
  ck_assert_int_eq(ctrl_complete(last_ctx, "ns/b", NULL), 0);
  ck_assert(test_run_until(&loop, &closed, 1000));
  ctrl = NULL;
}
END_TEST

static Suite *ctrl_suite(void)
{
  Suite *s = suite_create("ctrl");
  TCase *tc = tcase_create("runtime");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, sync_gates_start);
  tcase_add_test(tc, pump_yields_to_the_loop);
  tcase_add_test(tc, pump_trims_between_reconciles);
  tcase_add_test(tc, pending_keeps_key_stingy);
  tcase_add_test(tc, completion_requeue_rules);
  tcase_add_test(tc, complete_inside_reconcile);
  tcase_add_test(tc, concurrency_limit);
  tcase_add_test(tc, concurrency_changes_live);
  tcase_add_test(tc, pause_resume);
  tcase_add_test(tc, owner_mapping);
  tcase_add_test(tc, map_source_and_gate);
  tcase_add_test(tc, close_waits_for_pending);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(ctrl_suite)
