/* pkg/controllers/accountpool/exec: the AccountPool executor against a
 * recording Kubernetes seam: which write each step makes, what is sent,
 * how results map to requeues, events and the pool gauges. */
#include <string.h>

#include "cache/store.h"
#include "controllers/accountpool/exec.h"
#include "controllers/common/obj.h"
#include "metrics/metrics.h"
#include "testutil.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"

#define POOL                                                                   \
  "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\",\"kind\":"            \
  "\"AccountPool\",\"metadata\":{\"name\":\"hive\",\"namespace\":"             \
  "\"aws-account-operator\",\"uid\":\"pool-uid\",\"resourceVersion\":\"7\"},"  \
  "\"spec\":{\"poolSize\":3},\"status\":{\"poolSize\":3,"                      \
  "\"unclaimedAccounts\":0,\"claimedAccounts\":0,\"availableAccounts\":0,"     \
  "\"accountsProgressing\":0,\"accountsPending\":0,\"awsLimitDelta\":0}}"
#define CM                                                                     \
  "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"      \
  "\"aws-account-operator-configmap\",\"namespace\":"                          \
  "\"aws-account-operator\"},\"data\":{\"account-limit\":\"100\","             \
  "\"accountpool\":\"hive:\\n  default: true\\n\"}}"

struct call {
  char verb[16];
  char resource[32];
  json_t *obj;
};

static struct fx {
  struct store *pools, *accounts, *cm;
  struct call calls[8];
  int ncalls;
  int write_err; /* result of the next write */
  int nevents;
  char ev_reason[64];
  bool allows;
  int ndone;
  struct ctrl_result res;
  struct met_registry *reg;
  struct pool_exec *p;
  time_t now;
} fx;

static void record(const char *verb, const struct k8s_gvr *g, json_t *o)
{
  struct call *c = &fx.calls[fx.ncalls++];

  str_copy(c->verb, verb, sizeof(c->verb));
  str_copy(c->resource, g->resource, sizeof(c->resource));
  c->obj = o ? json_deep_copy(o) : NULL;
}

static int k_create(void *arg, const struct k8s_gvr *g, const char *ns,
                    json_t *obj, k8s_obj_cb cb, void *cbarg)
{
  record("create", g, obj);
  cb(fx.write_err, fx.write_err ? NULL : obj, NULL, cbarg);
  return 0;
}

static int k_update_status(void *arg, const struct k8s_gvr *g, json_t *obj,
                           k8s_obj_cb cb, void *cbarg)
{
  record("update_status", g, obj);
  cb(fx.write_err, fx.write_err ? NULL : obj, NULL, cbarg);
  return 0;
}

static void k_event(void *arg, json_t *obj, const char *type,
                    const char *reason, const char *msg)
{
  fx.nevents++;
  str_copy(fx.ev_reason, reason, sizeof(fx.ev_reason));
}

static void limit(void *arg, bool *allows, bool *has_total, long long *total)
{
  *allows = fx.allows;
  *has_total = true;
  *total = 10;
}

static void rng(void *arg, unsigned char out[6])
{
  memset(out, 0, 6);
}

static time_t clock_fn(void *arg)
{
  return fx.now;
}

static void done(void *arg, const char *key, const struct ctrl_result *r)
{
  fx.ndone++;
  fx.res = *r;
}

static void put(struct store *s, const char *js)
{
  json_t *o = json_loads(js, 0, NULL);

  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(store_put_new(s, o, NULL), 0);
}

static void setup(void)
{
  struct pool_exec_deps d = { 0 };

  memset(&fx, 0, sizeof(fx));
  fx.pools = store_new(0);
  fx.accounts = store_new(0);
  fx.cm = store_new(0);
  fx.reg = met_registry_new();
  fx.allows = true;
  put(fx.pools, POOL);
  put(fx.cm, CM);
  d.kio = (struct exec_kio){ .create = k_create,
                             .update_status = k_update_status,
                             .event = k_event };
  d.pools = fx.pools;
  d.accounts = fx.accounts;
  d.configmap = fx.cm;
  d.limit = limit;
  d.rng = rng;
  fx.now = 1700000000;
  d.clock = clock_fn;
  d.metrics = fx.reg;
  d.ns = "aws-account-operator";
  fx.p = pool_exec_new(&d);
}

static void teardown(void)
{
  for (int i = 0; i < fx.ncalls; i++)
    json_decref(fx.calls[i].obj);
  pool_exec_free(fx.p);
  store_free(fx.pools);
  store_free(fx.accounts);
  store_free(fx.cm);
  met_registry_free(fx.reg);
}

static int run(const char *key)
{
  struct ctrl_result out;

  return pool_exec_reconcile(fx.p, key, &out, done, NULL);
}

static char rendered[8192];

static const char *render(void)
{
  struct buf b;

  buf_init(&b, 1 << 20);
  ck_assert_int_eq(met_render(fx.reg, &b), 0);
  str_copy(rendered, b.data ? b.data : "", sizeof(rendered));
  buf_cleanup(&b);
  return rendered;
}

/* The status is stale (awsLimitDelta): the first step writes it. */
START_TEST(status_written_first)
{
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 1);
  ck_assert_str_eq(fx.calls[0].verb, "update_status");
  ck_assert_str_eq(fx.calls[0].resource, "accountpools");
  ck_assert_int_eq(obj_int(fx.calls[0].obj, "status.awsLimitDelta", -1), 90);
  ck_assert_str_eq(obj_str0(fx.calls[0].obj, "metadata.resourceVersion"), "7");
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert_int_eq(fx.res.err, 0);
}
END_TEST

static void fresh_status(void)
{
  json_t *p = json_loads(POOL, 0, NULL);

  obj_set_new(p, "status.awsLimitDelta", json_integer(90));
  ck_assert_int_eq(store_put_new(fx.pools, p, NULL), 0);
}

/* Counters right, pool short: one Account CR is POSTed. */
START_TEST(creates_one_account)
{
  fresh_status();
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 1);
  ck_assert_str_eq(fx.calls[0].verb, "create");
  ck_assert_str_eq(fx.calls[0].resource, "accounts");
  ck_assert_str_eq(obj_name(fx.calls[0].obj), "osd-creds-mgmt-aaaaaa");
  ck_assert_str_eq(obj_owner_name(fx.calls[0].obj, "AccountPool"), "hive");
  ck_assert(obj_has_finalizer(fx.calls[0].obj, OBJ_FINALIZER));
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert_int_eq(fx.res.err, 0);
  ck_assert_int_eq(fx.nevents, 1);
  /* pool gauges follow the counters */
  ck_assert_ptr_nonnull(strstr(
      render(), "aws_account_operator_account_pool_size{name=\"aws-account-"
                "operator\",namespace=\"aws-account-operator\","
                "pool_name=\"hive\"} 3"));
}
END_TEST

/* A stale write (409) requeues at once, without an event. */
START_TEST(conflict_requeues_at_once)
{
  fresh_status();
  fx.write_err = OP_ECONFLICT;
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert_int_eq(fx.res.err, 0);
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  ck_assert_int_eq(fx.nevents, 0);
}
END_TEST

/* Any other error takes the rate-limited requeue. */
START_TEST(error_is_returned)
{
  fx.write_err = OP_EIO;
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_int_eq(fx.res.err, OP_EIO);
}
END_TEST

/* The watcher refuses: nothing is created, the pool waits. */
START_TEST(limit_blocks_creation)
{
  fresh_status();
  fx.allows = false;
  struct ctrl_result out;
  ck_assert_int_eq(
      pool_exec_reconcile(fx.p, "aws-account-operator/hive", &out, done, NULL),
      0);
  ck_assert_int_eq(fx.ncalls, 0);
  ck_assert_uint_gt(out.requeue_after_ms, 0);
}
END_TEST

/* A deleted pool: nothing to do. */
START_TEST(missing_pool_is_done)
{
  struct ctrl_result out;

  ck_assert_int_eq(
      pool_exec_reconcile(fx.p, "aws-account-operator/gone", &out, done, NULL),
      0);
  ck_assert_int_eq(fx.ncalls, 0);
  ck_assert_int_eq(fx.ndone, 0);
}
END_TEST

/* The informer has not shown the Account just created: a second pass
 * (e.g. another Account's event) must not create the same account again;
 * once the cache has it, the pool goes on from the cache. */
START_TEST(creation_waits_for_the_cache)
{
  struct ctrl_result out;

  fresh_status();
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_str_eq(fx.calls[0].verb, "create");
  ck_assert_int_eq(
      pool_exec_reconcile(fx.p, "aws-account-operator/hive", &out, done, NULL),
      0);
  ck_assert_int_eq(fx.ncalls, 1);
  ck_assert_uint_eq(out.requeue_after_ms, 1000);
  ck_assert_int_eq(
      store_put_new(fx.accounts, json_deep_copy(fx.calls[0].obj), NULL), 0);
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 2);
  ck_assert_str_eq(fx.calls[1].verb, "update_status");
  ck_assert_int_eq(obj_int(fx.calls[1].obj, "status.accountsPending", -1), 1);
}
END_TEST

/* Counters that change again within a second of a status write wait
 * for the second to end (one write per second at most, a fill changes
 * them per account state) while creation goes on. */
START_TEST(status_written_once_a_second)
{
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_str_eq(fx.calls[0].verb, "update_status");
  /* the write is in the cache; an Account appears: counters change */
  fresh_status();
  put(fx.accounts, "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\","
                   "\"kind\":\"Account\",\"metadata\":{\"name\":\"a1\","
                   "\"namespace\":\"aws-account-operator\",\"ownerReferences\":"
                   "[{\"kind\":\"AccountPool\",\"name\":\"hive\"}]},"
                   "\"spec\":{\"accountPool\":\"hive\"}}");
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 2);
  ck_assert_str_eq(fx.calls[1].verb, "create");
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1000);
  ck_assert_int_eq(
      store_put_new(fx.accounts, json_deep_copy(fx.calls[1].obj), NULL), 0);
  fx.now += 1;
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 3);
  ck_assert_str_eq(fx.calls[2].verb, "update_status");
  ck_assert_int_eq(obj_int(fx.calls[2].obj, "status.accountsPending", -1), 2);
}
END_TEST

/* The counters come from a cache index: an Account with an empty
 * spec.accountPool counts for the default pool (hive), one naming another
 * pool or owned by none does not; a state change moves it. */
START_TEST(counters_from_the_index)
{
  json_t *a;

  put(fx.accounts, "{\"metadata\":{\"name\":\"d1\",\"namespace\":"
                   "\"aws-account-operator\",\"ownerReferences\":[{\"kind\":"
                   "\"AccountPool\",\"name\":\"hive\"}]},\"spec\":{},"
                   "\"status\":{\"state\":\"Ready\"}}");
  put(fx.accounts, "{\"metadata\":{\"name\":\"o1\",\"namespace\":"
                   "\"aws-account-operator\"},\"spec\":{\"accountPool\":"
                   "\"other\"},\"status\":{\"state\":\"Ready\"}}");
  put(fx.accounts, "{\"metadata\":{\"name\":\"n1\",\"namespace\":"
                   "\"aws-account-operator\"},\"spec\":{},"
                   "\"status\":{\"state\":\"Ready\"}}");
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_str_eq(fx.calls[0].verb, "update_status");
  ck_assert_int_eq(obj_int(fx.calls[0].obj, "status.availableAccounts", -1), 1);
  ck_assert_int_eq(obj_int(fx.calls[0].obj, "status.unclaimedAccounts", -1), 1);
  a = json_deep_copy(store_get(fx.accounts, "aws-account-operator/d1"));
  obj_set_str(a, "status.state", "Creating");
  ck_assert_int_eq(store_put_new(fx.accounts, a, NULL), 0);
  fx.now += 1;
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_str_eq(fx.calls[1].verb, "update_status");
  ck_assert_int_eq(obj_int(fx.calls[1].obj, "status.availableAccounts", -1), 0);
  ck_assert_int_eq(obj_int(fx.calls[1].obj, "status.accountsProgressing", -1),
                   1);
}
END_TEST

/* A refused create leaves nothing to wait for: the next pass creates. */
START_TEST(failed_creation_is_not_awaited)
{
  fresh_status();
  fx.write_err = OP_EIO;
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  fx.write_err = 0;
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 2);
  ck_assert_str_eq(fx.calls[1].verb, "create");
}
END_TEST

/* A watch event that never comes stops the pool for a minute, not for
 * good (the informer's relist would show the account long before). */
START_TEST(expectation_expires)
{
  struct ctrl_result out;

  fresh_status();
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  fx.now += 60;
  ck_assert_int_eq(
      pool_exec_reconcile(fx.p, "aws-account-operator/hive", &out, done, NULL),
      0);
  ck_assert_int_eq(fx.ncalls, 1);
  fx.now += 1;
  ck_assert_int_eq(run("aws-account-operator/hive"), CTRL_PENDING);
  ck_assert_int_eq(fx.ncalls, 2);
  ck_assert_str_eq(fx.calls[1].verb, "create");
}
END_TEST

static Suite *pool_exec_suite(void)
{
  Suite *s = suite_create("pool_exec");
  TCase *tc = tcase_create("exec");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, status_written_first);
  tcase_add_test(tc, status_written_once_a_second);
  tcase_add_test(tc, counters_from_the_index);
  tcase_add_test(tc, creates_one_account);
  tcase_add_test(tc, conflict_requeues_at_once);
  tcase_add_test(tc, error_is_returned);
  tcase_add_test(tc, limit_blocks_creation);
  tcase_add_test(tc, missing_pool_is_done);
  tcase_add_test(tc, creation_waits_for_the_cache);
  tcase_add_test(tc, failed_creation_is_not_awaited);
  tcase_add_test(tc, expectation_expires);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(pool_exec_suite)
