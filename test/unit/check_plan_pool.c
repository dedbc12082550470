/* pkg/controllers/accountpool/plan: counters and the fill decision, table
 * driven. Each row: the pool (patch over BASE), Accounts (JSON array of
 * patches over ACCT), ConfigMap patch, watcher view -> expected counters
 * and step. */
#include <string.h>

#include "controllers/accountpool/plan.h"
#include "controllers/common/opcfg.h"
#include "fixtures/plans/plantest.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define BASE                                                                   \
  "{\"kind\":\"AccountPool\",\"metadata\":{\"name\":\"hive\",\"namespace\":"   \
  "\"aws-account-operator\",\"uid\":\"pool-uid\"},\"spec\":{\"poolSize\":3},"  \
  "\"status\":{\"poolSize\":3,\"unclaimedAccounts\":0,\"claimedAccounts\":0,"  \
  "\"availableAccounts\":0,\"accountsProgressing\":0,\"accountsPending\":0,"   \
  "\"awsLimitDelta\":0}}"
#define ACCT                                                                   \
  "{\"kind\":\"Account\",\"metadata\":{\"name\":\"a\",\"namespace\":"          \
  "\"aws-account-operator\",\"ownerReferences\":[{\"kind\":\"AccountPool\","   \
  "\"name\":\"hive\"}]},\"spec\":{\"accountPool\":\"hive\"},\"status\":{}}"
#define CM                                                                     \
  "{\"account-limit\":\"100\",\"accountpool\":\"hive:\\n  default: true\\n  "  \
  "servicequotas:\\n    default:\\n      L-1216C47A: '750'\\n    "             \
  "us-east-1:\\n      L-0EA8095F: 200\\n  globalservicequotas:\\n    "         \
  "L-FE177D64: '5000'\\nother: {}\\n\"}"
#define R(st) "{\"status\":{\"state\":\"" st "\"}}"
#define FULL_STATUS(n)                                                         \
  "{\"status\":{\"availableAccounts\":" #n ",\"unclaimedAccounts\":" #n "}}"

enum {
  F_NO_LIMIT = 1,
  F_NO_CM = 2,
  F_TOTAL = 4,
  F_UNSEEN = 8,
  F_STATUS_WAIT = 16 /* the status was written 1 s ago: wait 1 s */
};

struct row {
  const char *name;
  const char *pool;
  const char *accounts;
  const char *cm;
  int flags;
  const char
      *counts; /* "size,unclaimed,claimed,available,progr,pending,delta" */
  enum pool_action want;
  long long requeue_s;
  const char *expect[5];
};

static const struct row rows[] = {
  { "empty pool: status already right, create one",
    NULL,
    NULL,
    NULL,
    0,
    "3,0,0,0,0,0,0",
    POOL_CREATE_ACCOUNT,
    0,
    { "str=metadata.name=osd-creds-mgmt-abc123", "label=iamUserId=abc123",
      "str=spec.accountPool=hive", "fin", "str=spec.awsAccountID=" } },
  { "the Account goes into the pool's namespace (the operator's)",
    "{\"metadata\":{\"namespace\":\"ops\"}}",
    NULL,
    NULL,
    0,
    "3,0,0,0,0,0,0",
    POOL_CREATE_ACCOUNT,
    0,
    { "str=metadata.namespace=ops", NULL } },
  { "counters: each state",
    NULL,
    "[" R("Ready") "," R("Creating") "," R("PendingVerification") "," R(
        "InitializingRegions") ",{},{\"metadata\":{\"deletionTimestamp\":"
                               "\"x\"}}," R("Failed") "]",
    NULL,
    0,
    "3,6,0,1,3,1,0",
    POOL_UPDATE_STATUS,
    0,
    { "str=metadata.name=hive" } },
  { "counters: claimed = legal entity or reused",
    NULL,
    "[{\"spec\":{\"legalEntity\":{\"id\":\"le\"}},\"status\":{\"state\":"
    "\"Ready\",\"claimed\":true}},{\"status\":{\"state\":\"Ready\","
    "\"reused\":true}}]",
    NULL,
    0,
    "3,0,2,0,0,0,0",
    POOL_UPDATE_STATUS,
    0,
    { NULL } },
  { "default pool: empty spec.accountPool counts",
    NULL,
    "[{\"spec\":{\"accountPool\":\"\"},\"status\":{\"state\":\"Ready\"}}]",
    NULL,
    0,
    "3,1,0,1,0,0,0",
    POOL_UPDATE_STATUS,
    0,
    { NULL } },
  { "other pool's accounts do not count",
    NULL,
    "[{\"spec\":{\"accountPool\":\"other\"},\"status\":{\"state\":"
    "\"Ready\"}}]",
    NULL,
    0,
    "3,0,0,0,0,0,0",
    POOL_CREATE_ACCOUNT,
    0,
    { NULL } },
  { "accounts not owned by any pool do not count",
    NULL,
    "[{\"metadata\":{\"ownerReferences\":null},\"spec\":{\"accountPool\":"
    "\"\"},\"status\":{\"state\":\"Ready\"}}]",
    NULL,
    0,
    "3,0,0,0,0,0,0",
    POOL_CREATE_ACCOUNT,
    0,
    { NULL } },
  { "not the default pool: empty accountPool does not count",
    "{\"metadata\":{\"name\":\"other\"}}",
    "[{\"spec\":{\"accountPool\":\"\"},\"status\":{\"state\":\"Ready\"}}]",
    NULL,
    0,
    "3,0,0,0,0,0,0",
    POOL_CREATE_ACCOUNT,
    0,
    { "str=spec.accountPool=other" } },
  { "status changed: written first (with awsLimitDelta)",
    NULL,
    "[{}]",
    NULL,
    F_TOTAL,
    "3,1,0,0,0,1,58",
    POOL_UPDATE_STATUS,
    0,
    { "str=metadata.name=hive" } },
  { "status changed, written just before: creation goes on, status later",
    NULL,
    "[{}]",
    NULL,
    F_TOTAL | F_STATUS_WAIT,
    "3,1,0,0,0,1,58",
    POOL_CREATE_ACCOUNT,
    1,
    { "str=metadata.name=osd-creds-mgmt-abc123" } },
  { "status changed, written just before, pool full: back in 1 s",
    "{\"spec\":{\"poolSize\":1}}",
    "[{}]",
    NULL,
    F_STATUS_WAIT,
    "1,1,0,0,0,1,0",
    POOL_DONE,
    1,
    { NULL } },
  { "full: done",
    FULL_STATUS(3),
    "[" R("Ready") "," R("Ready") "," R("Ready") "]",
    NULL,
    0,
    "3,3,0,3,0,0,0",
    POOL_DONE,
    0,
    { NULL } },
  { "size 2 with 1 available + 1 pending: done",
    "{\"spec\":{\"poolSize\":2},\"status\":{\"poolSize\":2,"
    "\"availableAccounts\":1,\"unclaimedAccounts\":2,\"accountsPending\":1}"
    "}",
    "[" R("Ready") ",{}]",
    NULL,
    0,
    "2,2,0,1,0,1,0",
    POOL_DONE,
    0,
    { NULL } },
  { "limit reached: 5 min",
    NULL,
    NULL,
    NULL,
    F_NO_LIMIT,
    "3,0,0,0,0,0,0",
    POOL_DONE,
    300,
    { NULL } },
  { "no ConfigMap: 30 s",
    NULL,
    NULL,
    NULL,
    F_NO_CM,
    "3,0,0,0,0,0,0",
    POOL_DONE,
    30,
    { NULL } },
  { "own creation not in the cache yet: no second create, 1 s",
    NULL,
    NULL,
    NULL,
    F_UNSEEN,
    "3,0,0,0,0,0,0",
    POOL_DONE,
    1,
    { NULL } },
  { "own creation not in the cache yet: stale counters not written",
    NULL,
    "[{}]",
    NULL,
    F_UNSEEN | F_TOTAL,
    "3,1,0,0,0,1,58",
    POOL_DONE,
    1,
    { NULL } },
  { "paused pool",
    "{\"metadata\":{\"annotations\":{\"aws.managed.openshift.com/"
    "pause-reconciliation\":\"true\"}}}",
    NULL,
    NULL,
    0,
    NULL,
    POOL_DONE,
    0,
    { NULL } },
  { "deleting pool",
    "{\"metadata\":{\"deletionTimestamp\":\"x\"}}",
    NULL,
    NULL,
    0,
    NULL,
    POOL_DONE,
    0,
    { NULL } },
};

static void check_counts(const struct row *r, const struct pool_counts *c)
{
  char got[128];

  if (!r->counts)
    return;
  str_fmt(got, sizeof(got), "%lld,%lld,%lld,%lld,%lld,%lld,%lld", c->pool_size,
          c->unclaimed, c->claimed, c->available, c->progressing, c->pending,
          c->aws_limit_delta);
  ck_assert_msg(str_eq(got, r->counts), "row '%s': counts %s, want %s", r->name,
                got, r->counts);
}

static void run_row(const struct row *r)
{
  json_t *pool = pt_build(BASE, r->pool), *patches = NULL, *p;
  json_t *accts[10];
  struct pool_snap sn = { 0 };
  struct pool_step s;
  struct opcfg cfg;
  char err[256], msg[600];
  size_t i, n = 0;

  if (r->accounts) {
    patches = pt_load(r->accounts);
    json_array_foreach(patches, i, p)
    {
      accts[n] = pt_load(ACCT);
      pt_merge(accts[n++], p);
    }
  }
  if (!(r->flags & F_NO_CM)) {
    json_t *cm = pt_build(CM, r->cm);

    ck_assert_msg(opcfg_parse(&cfg, cm, err, sizeof(err)) == 0, "%s", err);
    json_decref(cm);
    sn.cfg = &cfg;
  }
  sn.pool = pool;
  sn.accounts = (const json_t *const *)accts;
  sn.naccounts = n;
  sn.now = PT_T0;
  sn.limit_allows = !(r->flags & F_NO_LIMIT);
  sn.has_total = (r->flags & F_TOTAL) != 0;
  sn.total_accounts = 42;
  sn.name_suffix = "abc123";
  sn.unseen_creations = (r->flags & F_UNSEEN) ? 1 : 0;
  sn.status_wait_ms = (r->flags & F_STATUS_WAIT) ? 1000 : 0;
  ck_assert_int_eq(pool_plan(&sn, &s), 0);
  ck_assert_msg(s.action == r->want, "row '%s': action %s want %s (%s)",
                r->name, pool_action_name(s.action), pool_action_name(r->want),
                s.why);
  ck_assert_msg(s.requeue_ms == (uint64_t)r->requeue_s * 1000,
                "row '%s': requeue %llu", r->name,
                (unsigned long long)s.requeue_ms);
  check_counts(r, &s.counts);
  for (i = 0; i < 5 && r->expect[i]; i++) {
    const char *e = pt_check_obj(s.object_new, r->expect[i], msg, sizeof(msg));

    ck_assert_msg(!e, "row '%s': %s", r->name, e);
  }
  pool_step_cleanup(&s);
  if (sn.cfg)
    opcfg_cleanup(&cfg);
  for (i = 0; i < n; i++)
    json_decref(accts[i]);
  json_decref(patches);
  json_decref(pool);
}

START_TEST(table)
{
  run_row(&rows[_i]);
}
END_TEST

/* The created Account carries the pool's quotas and owner reference. */
START_TEST(account_shape)
{
  json_t *pool = pt_build(BASE, NULL), *cm = pt_build(CM, NULL), *a;
  struct pool_snap sn = { 0 };
  struct pool_step s;
  struct opcfg cfg;
  char err[256];

  ck_assert_int_eq(opcfg_parse(&cfg, cm, err, sizeof(err)), 0);
  sn.pool = pool;
  sn.cfg = &cfg;
  sn.limit_allows = true;
  sn.name_suffix = "zz9zz9";
  ck_assert_int_eq(pool_plan(&sn, &s), 0);
  ck_assert_int_eq(s.action, POOL_CREATE_ACCOUNT);
  a = s.object_new;
  ck_assert_int_eq(obj_int(a,
                           "spec.regionalServiceQuotas.default.L-"
                           "1216C47A.value",
                           0),
                   750);
  ck_assert_int_eq(
      obj_int(a, "spec.regionalServiceQuotas.us-east-1.L-0EA8095F.value", 0),
      200);
  ck_assert_int_eq(obj_int(a, "spec.globalServiceQuotas.L-FE177D64.value", 0),
                   5000);
  ck_assert_str_eq(obj_owner_name(a, "AccountPool"), "hive");
  ck_assert(obj_bool(json_array_get(obj_get(a, "metadata.ownerReferences"), 0),
                     "controller"));
  ck_assert_str_eq(obj_str(json_array_get(obj_get(a, "metadata."
                                                     "ownerReferences"),
                                          0),
                           "uid"),
                   "pool-uid");
  ck_assert_str_eq(s.event.reason, "AccountCreated");
  pool_step_cleanup(&s);
  /* A bad suffix from the executor is refused. */
  sn.name_suffix = "ABC";
  ck_assert_int_eq(pool_plan(&sn, &s), OP_EINVAL);
  pool_step_cleanup(&s);
  opcfg_cleanup(&cfg);
  json_decref(cm);
  json_decref(pool);
}
END_TEST

/* Bad input never crashes. */
START_TEST(malformed_inputs)
{
  json_t *pool = pt_load("{\"metadata\":{\"name\":\"hive\"},\"spec\":{"
                         "\"poolSize\":\"3\"},\"status\":[]}");
  json_t *a1 = pt_load("{\"metadata\":3}");
  json_t *a2 = pt_load("{\"metadata\":{\"ownerReferences\":{}},\"spec\":{"
                       "\"accountPool\":7},\"status\":{\"state\":1}}");
  const json_t *accts[2] = { a1, a2 };
  struct pool_snap sn = { 0 };
  struct pool_step s;

  sn.pool = pool;
  sn.accounts = accts;
  sn.naccounts = 2;
  sn.limit_allows = true;
  sn.name_suffix = "abcdef";
  ck_assert_int_eq(pool_plan(&sn, &s), 0);
  ck_assert_int_eq(s.counts.pool_size, 0);
  pool_step_cleanup(&s);
  json_decref(pool);
  json_decref(a1);
  json_decref(a2);
}
END_TEST

/* A poolSize that is negative or not an integer: the counters are written,
 * then nothing is created and a Warning Event says why. */
static const char *const bad_sizes[] = { "-5",   "\"ten\"",
                                         "null", "1.5",
                                         "[]",   "-9223372036854775807" };

START_TEST(invalid_size)
{
  char patch[96];
  json_t *pool, *cm = pt_build(CM, NULL);
  struct pool_snap sn = { 0 };
  struct pool_step s;
  struct opcfg cfg;
  char err[256];

  str_fmt(patch, sizeof(patch), "{\"spec\":{\"poolSize\":%s}}", bad_sizes[_i]);
  pool = pt_build(BASE, patch);
  ck_assert_int_eq(opcfg_parse(&cfg, cm, err, sizeof(err)), 0);
  sn.cfg = &cfg;
  sn.limit_allows = true;
  sn.name_suffix = "abc123";
  sn.pool = pool;
  ck_assert_int_eq(pool_plan(&sn, &s), 0);
  ck_assert_int_eq(s.action, POOL_UPDATE_STATUS);
  json_decref(pool);
  pool = json_incref(s.object_new);
  pool_step_cleanup(&s);
  sn.pool = pool;
  ck_assert_int_eq(pool_plan(&sn, &s), 0);
  ck_assert_msg(s.action == POOL_DONE, "%s: %s", bad_sizes[_i],
                pool_action_name(s.action));
  ck_assert_str_eq(s.event.type, "Warning");
  ck_assert_str_eq(s.event.reason, "InvalidAccountPool");
  ck_assert_ptr_nonnull(strstr(s.event.message, "poolSize"));
  ck_assert_ptr_nonnull(pool_invalid(pool));
  pool_step_cleanup(&s);
  opcfg_cleanup(&cfg);
  json_decref(cm);
  json_decref(pool);
}
END_TEST

START_TEST(valid_sizes)
{
  json_t *zero = pt_build(BASE, "{\"spec\":{\"poolSize\":0}}");
  json_t *three = pt_build(BASE, NULL);

  ck_assert_ptr_null(pool_invalid(zero));
  ck_assert_ptr_null(pool_invalid(three));
  json_decref(zero);
  json_decref(three);
}
END_TEST

static Suite *plan_pool_suite(void)
{
  Suite *s = suite_create("plan_pool");
  TCase *tc = tcase_create("table");

  tcase_add_loop_test(tc, table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
  tcase_add_test(tc, account_shape);
  tcase_add_test(tc, malformed_inputs);
  tcase_add_loop_test(tc, invalid_size, 0,
                      (int)(sizeof(bad_sizes) / sizeof(bad_sizes[0])));
  tcase_add_test(tc, valid_sizes);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(plan_pool_suite)
