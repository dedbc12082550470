/* pkg/controllers/exec/runner: the one step runner, driven by a toy
 * descriptor over a recording Kubernetes seam: which write each kind of
 * action makes, how results map to requeues, Events and observations,
 * the optional read before planning, a gone object, and closing with a
 * job in flight. */
#include <string.h>

#include "cache/store.h"
#include "controllers/common/obj.h"
#include "controllers/exec/runner.h"
#include "controllers/exec/written.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define OBJ                                                                    \
  "{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\",\"resourceVersion\":"    \
  "\"1\"}}"

enum { T_DONE, T_STATUS, T_CREATE, T_DELETE, T_UPD_DEL, T_CALL, T_NONE };

struct toy_obs {
  int action;
  int result;
};

struct toy_job {
  struct exec_job base;
  struct plan_event ev;
  json_t *obj_new;
  bool prepared;
};

static struct fx {
  struct store *objs;
  char calls[8][64];
  int ncalls;
  int write_err;   /* result of every write */
  int call_err;    /* result of T_CALL */
  bool call_async; /* T_CALL completes later, from fx.pending */
  struct exec_job *pending;
  bool prep;          /* desc.prepare needed */
  int prep_err;       /* its outcome */
  k8s_obj_cb prep_cb; /* a started GET, completed by the test */
  void *prep_arg;
  int next_action;
  bool same;             /* the plan's object_new equals the cached object */
  const char *answer_rv; /* writes answer with this resourceVersion */
  char plan_rv[16];      /* the resourceVersion the last plan saw */
  const char *toy_val;   /* the plan's status.toy, NULL = "changed" */
  bool no_wait;          /* the plan's requeue_ms is 0, not 5000 */
  int script[12];        /* the plans' actions in turn (nscript > 0) */
  int nscript, iscript;
  int nevents, ndone, ngone, nplanned, nwritten, nobserved, ncleanup;
  int ev_ncalls; /* writes made when the first Event was sent */
  int nstarted;  /* desc.started */
  char ev_reason[64];
  struct ctrl_result res;
  struct exec_runner *r;
  int closed;
} fx;

static void record(const char *verb, const struct k8s_gvr *g, const char *ns,
                   const char *name)
{
  str_fmt(fx.calls[fx.ncalls++], sizeof(fx.calls[0]), "%s %s %s/%s", verb,
          g->resource, ns ? ns : "", name ? name : "");
}

static int k_get(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  record("get", g, ns, name);
  fx.prep_cb = cb;
  fx.prep_arg = cbarg;
  return 0;
}

static int k_create(void *arg, const struct k8s_gvr *g, const char *ns,
                    json_t *obj, k8s_obj_cb cb, void *cbarg)
{
  record("create", g, ns, obj_name(obj));
  cb(fx.write_err, NULL, NULL, cbarg);
  return 0;
}

static int k_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                    k8s_obj_cb cb, void *cbarg)
{
  record("update", g, obj_namespace(obj), obj_name(obj));
  cb(fx.write_err, obj, NULL, cbarg);
  return 0;
}

static int k_update_status(void *arg, const struct k8s_gvr *g, json_t *obj,
                           k8s_obj_cb cb, void *cbarg)
{
  record("update_status", g, obj_namespace(obj), obj_name(obj));
  if (fx.answer_rv)
    obj_set_str(obj, "metadata.resourceVersion", fx.answer_rv);
  cb(fx.write_err, obj, NULL, cbarg);
  return 0;
}

static int k_del(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  record("delete", g, ns, name);
  cb(fx.write_err, NULL, NULL, cbarg);
  return 0;
}

static void k_event(void *arg, json_t *obj, const char *type,
                    const char *reason, const char *msg)
{
  if (!fx.nevents++)
    fx.ev_ncalls = fx.ncalls;
  str_copy(fx.ev_reason, reason, sizeof(fx.ev_reason));
}

static void observe(struct exec_job *j)
{
  struct toy_obs o = { .action = T_CALL, .result = fx.call_err };

  exec_job_observed(j, fx.call_err, fx.call_err ? "Throttling" : NULL, &o,
                    NULL);
}

static int start_call(struct exec_job *j)
{
  if (fx.call_async)
    fx.pending = j;
  else
    observe(j);
  return 0;
}

static void prep_done(int err, json_t *obj, const struct op_error *det,
                      void *arg)
{
  struct toy_job *j = arg;

  j->prepared = err == 0;
  exec_job_prepared(&j->base, err == OP_ENOTFOUND ? 0 : err);
}

static int prepare(struct exec_job *b)
{
  if (!fx.prep)
    return 1;
  if (fx.prep_err)
    return fx.prep_err;
  return k_get(NULL, &exec_gvr_secrets, "ns", "a-secret", prep_done, b);
}

static int plan(struct exec_job *b, struct exec_step *v)
{
  struct toy_job *j = (struct toy_job *)b;

  if (fx.nscript)
    fx.next_action =
        fx.script[fx.iscript < fx.nscript ? fx.iscript++ : fx.nscript - 1];
  plan_event_set(&j->ev, "Normal", "Toy", "step %d", fx.next_action);
  str_copy(fx.plan_rv, obj_str0(b->obj, "metadata.resourceVersion"),
           sizeof(fx.plan_rv));
  j->obj_new = json_deep_copy(b->obj);
  if (!fx.same)
    obj_set_str(j->obj_new, "status.toy", fx.toy_val ? fx.toy_val : "changed");
  *v = (struct exec_step){ .done = fx.next_action == T_DONE,
                           .action = fx.next_action,
                           .name = "toy",
                           .why = "test",
                           .object_new = j->obj_new,
                           .target_ns = "ns",
                           .target_name = "a",
                           .requeue_ms = fx.no_wait ? 0 : 5000,
                           .event = &j->ev };
  return 0;
}

static void planned(struct exec_job *b, int rc)
{
  fx.nplanned++;
}

static void written(struct exec_job *b)
{
  fx.nwritten++;
}

static void observed(struct exec_job *b)
{
  fx.nobserved++;
}

static void started(void *ctl, const char *key)
{
  ck_assert_str_eq(key, "ns/a");
  fx.nstarted++;
}

static void gone(void *ctl, const char *key)
{
  fx.ngone++;
}

static void cleanup(struct exec_job *b)
{
  json_decref(((struct toy_job *)b)->obj_new);
  fx.ncleanup++;
}

static const struct exec_action actions[] = {
  [T_STATUS] = { .kind = EXEC_UPDATE_STATUS, .gvr = &exec_gvr_accounts },
  [T_CREATE] = { .kind = EXEC_CREATE, .gvr = &exec_gvr_accounts },
  [T_DELETE] = { .kind = EXEC_DELETE,
                 .gvr = &exec_gvr_accounts,
                 .gone_ok = true },
  [T_UPD_DEL] = { .kind = EXEC_UPDATE_DELETE, .gvr = &exec_gvr_accounts },
  [T_CALL] = { .kind = EXEC_CALL, .start = start_call },
  [T_NONE] = { 0 },
};

static const struct exec_desc toy = {
  .name = "toy",
  .kind = MGR_ACCOUNTS,
  .api_version = "v1",
  .kind_name = "Toy",
  .wait_for = { MGR_NKINDS },
  .job_size = sizeof(struct toy_job),
  .obs_size = sizeof(struct toy_obs),
  .actions = actions,
  .nactions = sizeof(actions) / sizeof(actions[0]),
  .prepare = prepare,
  .plan = plan,
  .planned = planned,
  .written = written,
  .observed = observed,
  .started = started,
  .gone = gone,
  .job_cleanup = cleanup,
};

/* The same controller, reading its own writes (written.h). */
static struct exec_desc toy_ryw;

static void done(void *arg, const char *key, const struct ctrl_result *r)
{
  fx.ndone++;
  fx.res = *r;
}

static void setup(void)
{
  struct exec_runner_deps rd = { 0 };

  memset(&fx, 0, sizeof(fx));
  fx.objs = store_new(0);
  ck_assert_int_eq(store_put_new(fx.objs, json_loads(OBJ, 0, NULL), NULL), 0);
  rd.kio = (struct exec_kio){ .get = k_get,
                              .create = k_create,
                              .update = k_update,
                              .update_status = k_update_status,
                              .del = k_del,
                              .event = k_event };
  rd.objs = fx.objs;
  fx.r = exec_runner_new(&toy, NULL, &rd);
  ck_assert_ptr_nonnull(fx.r);
}

static void teardown(void)
{
  exec_runner_free(fx.r);
  store_free(fx.objs);
}

static int run(int action, struct ctrl_result *out)
{
  fx.next_action = action;
  return exec_runner_reconcile(fx.r, "ns/a", out, done, NULL);
}

/* A status write equal to the cached object is not sent: done. */
START_TEST(unchanged_write_not_sent)
{
  struct ctrl_result out;

  fx.same = true;
  ck_assert_int_eq(run(T_STATUS, &out), 0);
  ck_assert_int_eq(fx.ncalls, 0);
  ck_assert_int_eq(fx.nevents, 0);
  ck_assert_int_eq(fx.nwritten, 0);
  ck_assert_uint_eq(out.requeue_after_ms, 5000);
  ck_assert_int_eq(out.err, 0);
  ck_assert_int_eq(fx.nstarted, 0);
  fx.same = false;
  ck_assert_int_eq(run(T_STATUS, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 1);
  /* after the write, which ended (synchronously here) before */
  ck_assert_int_eq(fx.nstarted, 1);
}
END_TEST

START_TEST(done_step_requeues_synchronously)
{
  struct ctrl_result out;

  ck_assert_int_eq(run(T_DONE, &out), 0);
  ck_assert_uint_eq(out.requeue_after_ms, 5000);
  ck_assert_int_eq(fx.ncalls, 0);
  ck_assert_int_eq(fx.ndone, 0); /* the result came back in out */
  ck_assert_int_eq(fx.nplanned, 1);
  ck_assert_int_eq(fx.ncleanup, 1);
}
END_TEST

START_TEST(write_success_records_event_and_requeue)
{
  struct ctrl_result out;

  ck_assert_int_eq(run(T_STATUS, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 1);
  ck_assert_str_eq(fx.calls[0], "update_status accounts ns/a");
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 5000);
  ck_assert_int_eq(fx.res.err, 0);
  ck_assert_int_eq(fx.nevents, 1);
  ck_assert_str_eq(fx.ev_reason, "Toy");
  ck_assert_int_eq(fx.nwritten, 1);
}
END_TEST

START_TEST(write_conflict_requeues_at_once_without_event)
{
  struct ctrl_result out;

  fx.write_err = OP_ECONFLICT;
  ck_assert_int_eq(run(T_CREATE, &out), CTRL_PENDING);
  ck_assert_str_eq(fx.calls[0], "create accounts ns/a");
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  ck_assert_int_eq(fx.res.err, 0);
  ck_assert_int_eq(fx.nevents, 0);
  ck_assert_int_eq(fx.nwritten, 0);
}
END_TEST

START_TEST(write_error_is_rate_limited)
{
  struct ctrl_result out;

  fx.write_err = OP_EIO;
  ck_assert_int_eq(run(T_STATUS, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.res.err, OP_EIO);
  ck_assert_int_eq(fx.nevents, 0);
}
END_TEST

START_TEST(delete_of_a_gone_object_is_success_when_allowed)
{
  struct ctrl_result out;

  fx.write_err = OP_ENOTFOUND;
  ck_assert_int_eq(run(T_DELETE, &out), CTRL_PENDING);
  ck_assert_str_eq(fx.calls[0], "delete accounts ns/a");
  ck_assert_int_eq(fx.res.err, 0);
  ck_assert_int_eq(fx.nevents, 1);
}
END_TEST

START_TEST(update_then_delete)
{
  struct ctrl_result out;

  ck_assert_int_eq(run(T_UPD_DEL, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 2);
  ck_assert_str_eq(fx.calls[0], "update accounts ns/a");
  ck_assert_str_eq(fx.calls[1], "delete accounts ns/a");
  ck_assert_int_eq(fx.ndone, 1);
}
END_TEST

START_TEST(call_outcome_becomes_the_observation)
{
  struct ctrl_result out;
  const struct toy_obs *o;

  fx.call_async = true;
  ck_assert_int_eq(run(T_CALL, &out), CTRL_PENDING);
  ck_assert_ptr_nonnull(fx.pending);
  ck_assert_int_eq(fx.ndone, 0);
  ck_assert_ptr_null(exec_runner_obs(fx.r, "ns/a"));
  observe(fx.pending);
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  o = exec_runner_obs(fx.r, "ns/a");
  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(o->action, T_CALL);
  ck_assert_int_eq(o->result, 0);
  ck_assert_int_eq(fx.nevents, 1);
  ck_assert_int_eq(fx.nobserved, 1);
}
END_TEST

START_TEST(failed_call_is_observed_without_event)
{
  struct ctrl_result out;
  const struct toy_obs *o;

  fx.call_err = OP_ETHROTTLED;
  ck_assert_int_eq(run(T_CALL, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert_int_eq(fx.res.err, 0); /* the plan reads the failure */
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  o = exec_runner_obs(fx.r, "ns/a");
  ck_assert_int_eq(o->result, OP_ETHROTTLED);
  ck_assert_int_eq(fx.nevents, 0);
}
END_TEST

START_TEST(gone_object_drops_its_observation)
{
  struct ctrl_result out;

  run(T_CALL, &out);
  ck_assert_ptr_nonnull(exec_runner_obs(fx.r, "ns/a"));
  json_decref(store_delete_take(fx.objs, "ns/a"));
  ck_assert_int_eq(run(T_STATUS, &out), 0);
  ck_assert_ptr_null(exec_runner_obs(fx.r, "ns/a"));
  ck_assert_int_eq(fx.ngone, 1);
  ck_assert_int_eq(fx.ncalls, 0);
}
END_TEST

START_TEST(prepare_runs_before_the_plan)
{
  struct ctrl_result out;

  fx.prep = true;
  ck_assert_int_eq(run(T_STATUS, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.nplanned, 0);
  ck_assert_str_eq(fx.calls[0], "get secrets ns/a-secret");
  fx.prep_cb(OP_ENOTFOUND, NULL, NULL, fx.prep_arg);
  ck_assert_int_eq(fx.nplanned, 1);
  ck_assert_str_eq(fx.calls[1], "update_status accounts ns/a");
  ck_assert_int_eq(fx.ndone, 1);
}
END_TEST

START_TEST(prepare_failure_ends_the_job)
{
  struct ctrl_result out;

  fx.prep = true;
  ck_assert_int_eq(run(T_STATUS, &out), CTRL_PENDING);
  fx.prep_cb(OP_EIO, NULL, NULL, fx.prep_arg);
  ck_assert_int_eq(fx.nplanned, 0);
  ck_assert_int_eq(fx.res.err, OP_EIO);
  ck_assert_int_eq(fx.ncleanup, 1);
  fx.prep_err = OP_ENOMEM; /* a prepare that cannot start */
  ck_assert_int_eq(run(T_STATUS, &out), OP_ENOMEM);
  ck_assert_int_eq(fx.ncleanup, 2);
}
END_TEST

START_TEST(action_outside_the_table_is_invalid)
{
  struct ctrl_result out;

  ck_assert_int_eq(run(T_NONE, &out), OP_EINVAL);
  ck_assert_int_eq(run(42, &out), OP_EINVAL);
  ck_assert_int_eq(fx.ncalls, 0);
  ck_assert_int_eq(fx.ncleanup, 2);
}
END_TEST

START_TEST(job_copy_gets_api_version_and_kind)
{
  struct ctrl_result out;

  fx.call_async = true;
  run(T_CALL, &out);
  ck_assert_str_eq(obj_str(fx.pending->obj, "apiVersion"), "v1");
  ck_assert_str_eq(obj_str(fx.pending->obj, "kind"), "Toy");
  observe(fx.pending);
}
END_TEST

static void closed(void *arg)
{
  fx.closed++;
}

START_TEST(close_waits_for_the_job_in_flight)
{
  struct ctrl_result out;

  fx.call_async = true;
  run(T_CALL, &out);
  exec_runner_close(fx.r, closed, NULL);
  ck_assert_int_eq(fx.closed, 0);
  observe(fx.pending);
  ck_assert_int_eq(fx.closed, 1);
}
END_TEST

/* An urgent controller's reconcile holds the gate from its start until
 * its done (here a pending call), so that the yielding queues wait; a
 * reconcile that ends at once releases it before returning. */
START_TEST(urgent_reconcile_holds_the_gate_while_in_flight)
{
  static struct exec_desc urgent;
  struct exec_runner_deps rd = { 0 };
  struct ctrl_result out;
  uv_loop_t loop;
  struct wq_gate *g;

  ck_assert_int_eq(uv_loop_init(&loop), 0);
  g = wq_gate_new(&loop, 60000, NULL, NULL);
  urgent = toy;
  urgent.urgent = true;
  rd.kio = (struct exec_kio){ .update_status = k_update_status };
  rd.objs = fx.objs;
  exec_runner_free(fx.r);
  fx.r = exec_runner_new(&urgent, NULL, &rd);
  ck_assert_int_eq(exec_runner_set_gate(fx.r, g), 0);
  fx.call_async = true;
  ck_assert_int_eq(run(T_CALL, &out), CTRL_PENDING);
  ck_assert(wq_gate_blocks(g));
  observe(fx.pending);
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert(!wq_gate_blocks(g));
  ck_assert_int_eq(run(T_DONE, &out), 0);
  ck_assert(!wq_gate_blocks(g));
  wq_gate_close(g);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static void use_ryw(void)
{
  struct exec_runner_deps rd = { 0 };

  toy_ryw = toy;
  toy_ryw.own_gvr = &exec_gvr_accounts;
  rd.kio =
      (struct exec_kio){ .update_status = k_update_status, .event = k_event };
  rd.objs = fx.objs;
  exec_runner_free(fx.r);
  fx.r = exec_runner_new(&toy_ryw, NULL, &rd);
  ck_assert_ptr_nonnull(fx.r);
  ck_assert_ptr_nonnull(exec_runner_written(fx.r));
}

/* Without own_gvr the next plan waits for the informer; with it, the
 * write's answer is planned from until the informer holds its version. */
START_TEST(own_write_is_the_next_plans_object)
{
  struct ctrl_result out;

  fx.answer_rv = "2";
  run(T_STATUS, &out);
  ck_assert_ptr_null(exec_runner_written(fx.r));
  run(T_DONE, &out);
  ck_assert_str_eq(fx.plan_rv, "1");
  use_ryw();
  run(T_STATUS, &out);
  ck_assert_int_eq(fx.res.err, 0);
  run(T_DONE, &out);
  ck_assert_str_eq(fx.plan_rv, "2");
  /* the informer catches up (version 2): its object again */
  ck_assert_int_eq(store_put_new(fx.objs,
                                 json_pack("{s:{s:s,s:s,s:s,s:s}}", "metadata",
                                           "name", "a", "namespace", "ns",
                                           "resourceVersion", "2", "uid", "u"),
                                 NULL),
                   0);
  run(T_DONE, &out);
  ck_assert_str_eq(fx.plan_rv, "2");
  ck_assert_uint_eq(exec_written_len(exec_runner_written(fx.r)), 0);
}
END_TEST

/* A write after which the plan would wait for its watch event requeues
 * at once (1 ms) instead; a plan's own wait is kept. */
START_TEST(own_write_requeues_at_once)
{
  struct ctrl_result out;

  fx.answer_rv = "3";
  fx.no_wait = true;
  run(T_STATUS, &out);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 0);
  use_ryw();
  run(T_STATUS, &out);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  ck_assert_uint_eq(exec_written_len(exec_runner_written(fx.r)), 1);
  fx.no_wait = false;
  fx.toy_val = "again";
  run(T_STATUS, &out);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 5000);
}
END_TEST

/* A conflict forgets the kept answer: the server's version wins. */
START_TEST(own_write_conflict_drops_it)
{
  struct ctrl_result out;

  use_ryw();
  fx.answer_rv = "2";
  run(T_STATUS, &out);
  ck_assert_uint_eq(exec_written_len(exec_runner_written(fx.r)), 1);
  fx.write_err = OP_ECONFLICT;
  fx.toy_val = "again";
  run(T_STATUS, &out);
  ck_assert_int_eq(fx.ncalls, 2);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  ck_assert_uint_eq(exec_written_len(exec_runner_written(fx.r)), 0);
  fx.write_err = 0;
  run(T_DONE, &out);
  ck_assert_str_eq(fx.plan_rv, "1");
}
END_TEST

/* The runner of use_ryw, chaining its passes (rd.chain). */
static void use_chain(void)
{
  struct exec_runner_deps rd = { 0 };

  toy_ryw = toy;
  toy_ryw.own_gvr = &exec_gvr_accounts;
  rd.kio = (struct exec_kio){ .update_status = k_update_status,
                              .create = k_create,
                              .event = k_event };
  rd.objs = fx.objs;
  rd.chain = true;
  exec_runner_free(fx.r);
  fx.r = exec_runner_new(&toy_ryw, NULL, &rd);
  ck_assert_ptr_nonnull(fx.r);
}

static void script(const int *v, int n)
{
  memcpy(fx.script, v, (size_t)n * sizeof(*v));
  fx.nscript = n;
  fx.iscript = 0;
}

/* Chained: a call's observation and a kept write run the next pass from
 * their callbacks; done() runs once, with the last pass's result, and
 * each pass plans from what the one before taught. */
START_TEST(chain_runs_the_next_pass_from_the_callback)
{
  static const int steps[] = { T_CALL, T_STATUS, T_DONE };
  struct ctrl_result out;

  use_chain();
  script(steps, 3);
  fx.answer_rv = "2";
  fx.no_wait = true;
  fx.call_async = true;
  ck_assert_int_eq(run(T_NONE, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.ndone, 0);
  observe(fx.pending);
  ck_assert_int_eq(fx.nplanned, 3);
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert_int_eq(fx.ncalls, 1);
  ck_assert_str_eq(fx.calls[0], "update_status accounts ns/a");
  ck_assert_str_eq(fx.plan_rv, "2"); /* the write's answer */
  ck_assert_int_eq(fx.nobserved, 1);
  ck_assert_int_eq(fx.nwritten, 1);
  ck_assert_int_eq(fx.nevents, 3); /* the toy says why it is done, too */
  /* the call's Event waited for the chain's end, after the write */
  ck_assert_int_eq(fx.ev_ncalls, 1);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 0);
  ck_assert_int_eq(fx.ncleanup, 3);
}
END_TEST

/* At most EXEC_CHAIN_MAX passes in a row: then the key is requeued as
 * without chaining (1 ms after a call). */
START_TEST(chain_stops_at_its_cap)
{
  static const int steps[] = { T_CALL };
  struct ctrl_result out;

  use_chain();
  script(steps, 1);
  ck_assert_int_eq(run(T_NONE, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.nplanned, EXEC_CHAIN_MAX);
  ck_assert_int_eq(fx.nobserved, EXEC_CHAIN_MAX);
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
}
END_TEST

/* Neither a conflict (the cache is behind: planning again at once would
 * repeat it) nor a write whose answer is not kept (a create) chains. */
START_TEST(chain_skips_conflicts_and_unkept_writes)
{
  static const int upd[] = { T_STATUS, T_DONE };
  static const int cre[] = { T_CREATE, T_DONE };
  struct ctrl_result out;

  use_chain();
  fx.no_wait = true;
  fx.write_err = OP_ECONFLICT;
  script(upd, 2);
  ck_assert_int_eq(run(T_NONE, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.nplanned, 1);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  fx.write_err = 0;
  script(cre, 2);
  ck_assert_int_eq(run(T_NONE, &out), CTRL_PENDING);
  ck_assert_int_eq(fx.nplanned, 2);
  ck_assert_int_eq(fx.ndone, 2);
  ck_assert_str_eq(fx.calls[1], "create accounts ns/a");
}
END_TEST

static Suite *runner_suite(void)
{
  Suite *s = suite_create("runner");
  TCase *tc = tcase_create("core");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, unchanged_write_not_sent);
  tcase_add_test(tc, done_step_requeues_synchronously);
  tcase_add_test(tc, write_success_records_event_and_requeue);
  tcase_add_test(tc, write_conflict_requeues_at_once_without_event);
  tcase_add_test(tc, write_error_is_rate_limited);
  tcase_add_test(tc, delete_of_a_gone_object_is_success_when_allowed);
  tcase_add_test(tc, update_then_delete);
  tcase_add_test(tc, call_outcome_becomes_the_observation);
  tcase_add_test(tc, failed_call_is_observed_without_event);
  tcase_add_test(tc, gone_object_drops_its_observation);
  tcase_add_test(tc, prepare_runs_before_the_plan);
  tcase_add_test(tc, prepare_failure_ends_the_job);
  tcase_add_test(tc, action_outside_the_table_is_invalid);
  tcase_add_test(tc, job_copy_gets_api_version_and_kind);
  tcase_add_test(tc, close_waits_for_the_job_in_flight);
  tcase_add_test(tc, urgent_reconcile_holds_the_gate_while_in_flight);
  tcase_add_test(tc, own_write_is_the_next_plans_object);
  tcase_add_test(tc, own_write_requeues_at_once);
  tcase_add_test(tc, own_write_conflict_drops_it);
  tcase_add_test(tc, chain_runs_the_next_pass_from_the_callback);
  tcase_add_test(tc, chain_stops_at_its_cap);
  tcase_add_test(tc, chain_skips_conflicts_and_unkept_writes);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(runner_suite)
