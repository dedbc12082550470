/* pkg/controllers/accountclaim/plan: the non-CCS claim flow, table driven.
 * Each row: a claim (patch over BASE), the Accounts in the operator
 * namespace (a JSON array of patches over ACCT), ConfigMap patch, whether
 * the claim's Secret exists, the last observation -> expected step. */
#include <string.h>

#include "controllers/accountclaim/plan.h"
#include "controllers/common/opcfg.h"
#include "fixtures/plans/plantest.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define BASE                                                                   \
  "{\"kind\":\"AccountClaim\",\"metadata\":{\"name\":\"c1\",\"namespace\":"    \
  "\"ns1\",\"uid\":\"cu\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\","     \
  "\"finalizers\":[\"finalizer.aws.managed.openshift.io\"]},\"spec\":{"        \
  "\"legalEntity\":{\"name\":\"ACME\",\"id\":\"le-1\"},"                       \
  "\"awsCredentialSecret\":{\"name\":\"aws\",\"namespace\":\"ns1\"},\"aws\":"  \
  "{\"regions\":[{\"name\":\"us-east-1\"}]},\"accountLink\":\"\"},"            \
  "\"status\":{\"state\":\"Pending\"}}"
#define ACCT                                                                   \
  "{\"kind\":\"Account\",\"metadata\":{\"name\":\"a1\",\"namespace\":"         \
  "\"aws-account-operator\",\"creationTimestamp\":\"2026-01-01T00:00:00Z\","   \
  "\"labels\":{\"iamUserId\":\"abc123\"}},\"spec\":{\"awsAccountID\":"         \
  "\"123456789012\",\"iamUserSecret\":\"a1-secret\",\"accountPool\":\"\"},"    \
  "\"status\":{\"state\":\"Ready\"}}"
#define CM                                                                     \
  "{\"root\":\"r-1\",\"base\":\"ou-base\",\"accountpool\":\"hive:\\n  "        \
  "default: true\\nother: {}\\n\",\"payer-account-ids\":\"999999999999\"}"

#define LINKED(x) "{\"spec\":{\"accountLink\":\"a1\"" x "}}"
#define LINKED_OK ",\"supportRoleARN\":\"arn\",\"accountOU\":\"ou-x\""
#define A_LINKED                                                               \
  "[{\"spec\":{\"claimLink\":\"c1\",\"claimLinkNamespace\":\"ns1\"},"          \
  "\"status\":{\"claimed\":true}}]"
#define DELETING(x)                                                            \
  "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:59:00Z\"},\"spec\":{"  \
  "\"accountLink\":\"a1\"" x "}"
#define FAKE "\"annotations\":{\"managed.openshift.com/fake\":\"true\"}"

#define CLEANED                                                                \
  "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:59:00Z\","             \
  "\"annotations\":{\"aws.managed.openshift.io/cleanup-regions\":"             \
  "\"{\\\"us-east-1\\\":\\\"done\\\"}\"}},\"spec\":{\"accountLink\":\"a1\"}}"
#define CLOSED                                                                 \
  "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:59:00Z\","             \
  "\"annotations\":{\"aws.managed.openshift.io/cleanup-regions\":"             \
  "\"{\\\"us-east-1\\\":\\\"done\\\"}\",\"aws.managed.openshift.io/"           \
  "account-closed\":\"true\"}},\"spec\":{\"accountLink\":\"a1\"}}"
#define CLOSE_CM                                                               \
  "{\"feature.close_on_release\":\"true\",\"close_account.dry_run\":"          \
  "\"false\"}"

enum {
  F_SECRET = 1,
  F_NO_CM = 2,
  F_BYOC_SECRET = 4,
  F_BYOC_FIN = 8,
  F_POOL_MISSING = 16, /* the claim's AccountPool was looked up: missing */
  F_POOL_OK = 32,      /* ... and found */
};
#define F_BYOC_ALL (F_BYOC_SECRET | F_BYOC_FIN)

struct row {
  const char *name;
  const char *claim;
  const char *accounts; /* JSON array of patches over ACCT, NULL = none */
  const char *cm;
  int flags;
  struct claim_obs obs;
  enum claim_action want;
  long long requeue_s;
  const char *event;
  const char *expect[5];
};

#define OBS(...)                                                               \
  {                                                                            \
    __VA_ARGS__                                                                \
  }

static const struct row rows[] = {
#include "fixtures/plans/claim_rows.inc"
#include "fixtures/plans/claim_ccs_rows.inc"
#include "fixtures/plans/claim_key_rows.inc"
};

/* ---- Fleet Manager rows (plan_fleet.c) ---- */
#define FM_ARN "arn:aws:iam::999999999999:user/fleet-manager"
#define FM_SPEC                                                                \
  ",\"accountPool\":\"other\",\"fleetManagerConfig\":{"                        \
  "\"trustedARN\":\"" FM_ARN "\"}"
#define FLEET(x) LINKED(LINKED_OK FM_SPEC x)
#define FLEET_CM "{\"feature.accountclaim_fleet_manager_trusted_arn\":\"true\"}"
#define A_LINKED_NO_IAM                                                        \
  "[{\"spec\":{\"claimLink\":\"c1\",\"claimLinkNamespace\":\"ns1\","           \
  "\"iamUserSecret\":\"\"},\"status\":{\"claimed\":true}}]"
#define FLEET_DELETING(x) DELETING(FM_SPEC x "}")
#define FLEET_CLEANED_DELETING                                                 \
  "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:59:00Z\","             \
  "\"annotations\":{\"aws.managed.openshift.io/fleet-role-removed\":"          \
  "\"true\"}},\"spec\":{\"accountLink\":\"a1\"" FM_SPEC "}}"

static const struct row fleet_rows[] = {
#include "fixtures/plans/claim_fleet_rows.inc"
};

static const char *check_field(const struct claim_step *s, const char *spec,
                               char *msg, size_t msgsz)
{
  static const struct {
    const char *n;
    size_t off;
  } f[] = {
    { "account_name", offsetof(struct claim_step, account_name) },
    { "account_id", offsetof(struct claim_step, account_id) },
    { "ou_name", offsetof(struct claim_step, ou_name) },
    { "ou_id", offsetof(struct claim_step, ou_id) },
    { "parent", offsetof(struct claim_step, parent) },
    { "region", offsetof(struct claim_step, region) },
    { "stage", offsetof(struct claim_step, stage) },
    { "partition", offsetof(struct claim_step, partition) },
    { "src_secret", offsetof(struct claim_step, src_secret) },
    { "secret_name", offsetof(struct claim_step, secret_name) },
    { "secret_namespace", offsetof(struct claim_step, secret_namespace) },
    { "partition", offsetof(struct claim_step, partition) },
    { "trust_arn", offsetof(struct claim_step, trust_arn) },
    { "role_arn", offsetof(struct claim_step, role_arn) },
  };
  const char *eq = strchr(spec + 2, '=');
  size_t i, n = eq ? (size_t)(eq - spec - 2) : 0;

  for (i = 0; eq && i < sizeof(f) / sizeof(f[0]); i++) {
    const char *got = (const char *)s + f[i].off;

    if (strlen(f[i].n) != n || strncmp(f[i].n, spec + 2, n))
      continue;
    if (str_eq(got, eq + 1))
      return NULL;
    str_fmt(msg, msgsz, "field %s: want '%s' got '%s'", f[i].n, eq + 1, got);
    return msg;
  }
  return "unknown field";
}

static void check_row(const struct row *r, const struct claim_step *s)
{
  char msg[600];
  size_t i;

  ck_assert_msg(s->action == r->want, "row '%s': action %s, want %s (%s)",
                r->name, claim_action_name(s->action),
                claim_action_name(r->want), s->why);
  if (r->requeue_s >= 0)
    ck_assert_msg(s->requeue_ms == (uint64_t)r->requeue_s * 1000,
                  "row '%s': requeue %llu ms, want %lld s", r->name,
                  (unsigned long long)s->requeue_ms, r->requeue_s);
  if (r->event)
    ck_assert_msg(str_eq(s->event.reason, r->event),
                  "row '%s': event '%s', want '%s'", r->name, s->event.reason,
                  r->event);
  for (i = 0; i < 5 && r->expect[i]; i++) {
    const char *e = r->expect[i], *err;

    if (!strncmp(e, "f.", 2))
      err = check_field(s, e, msg, sizeof(msg));
    else if (!strncmp(e, "why~", 4))
      err = strstr(s->why, e + 4) ? NULL : s->why;
    else
      err = s->object_new ? pt_check_obj(s->object_new, e, msg, sizeof(msg))
                          : "no object_new";
    ck_assert_msg(!err, "row '%s': %s: %s", r->name, e, err);
  }
}

static void run_row(const struct row *r)
{
  json_t *claim = pt_build(BASE, r->claim), *patches = NULL, *p;
  json_t *accts[8];
  struct claim_obs obs = r->obs;
  struct claim_snap sn = { 0 };
  struct claim_step s;
  struct opcfg cfg;
  char err[256];
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
  sn.claim = claim;
  sn.accounts = (const json_t *const *)accts;
  sn.naccounts = n;
  sn.now = PT_T0;
  sn.secret_exists = (r->flags & F_SECRET) != 0;
  sn.byoc_secret_exists = (r->flags & F_BYOC_SECRET) != 0;
  sn.byoc_secret_finalized = (r->flags & F_BYOC_FIN) != 0;
  sn.pool_checked = (r->flags & (F_POOL_MISSING | F_POOL_OK)) != 0;
  sn.pool_exists = (r->flags & F_POOL_OK) != 0;
  if (obs.at == 0)
    obs.at = sn.now;
  sn.obs = r->obs.action != CLAIM_DONE ? &obs : NULL;
  ck_assert_int_eq(claim_plan(&sn, &s), 0);
  check_row(r, &s);
  claim_step_cleanup(&s);
  if (sn.cfg)
    opcfg_cleanup(&cfg);
  for (i = 0; i < n; i++)
    json_decref(accts[i]);
  json_decref(patches);
  json_decref(claim);
}

START_TEST(table)
{
  run_row(&rows[_i]);
}
END_TEST

START_TEST(fleet_table)
{
  run_row(&fleet_rows[_i]);
}
END_TEST

START_TEST(null_snapshot)
{
  struct claim_step s;
  struct claim_snap sn = { 0 };

  ck_assert_int_eq(claim_plan(&sn, &s), OP_EINVAL);
}
END_TEST

/* Bad input never crashes. */
static const char *const malformed[] = {
  "{}",
  "{\"metadata\":[],\"spec\":1,\"status\":\"x\"}",
  "{\"metadata\":{\"name\":\"c\",\"finalizers\":[\"finalizer.aws.managed."
  "openshift.io\"]},\"spec\":{\"accountLink\":\"a1\",\"aws\":{\"regions\":"
  "[1,{\"name\":2}]}},\"status\":{\"state\":\"Pending\"}}",
  "{\"metadata\":{\"name\":\"c\",\"deletionTimestamp\":\"x\","
  "\"finalizers\":[\"finalizer.aws.managed.openshift.io\"],\"annotations\":"
  "{\"aws.managed.openshift.io/cleanup-regions\":\"[\"}},\"spec\":{"
  "\"accountLink\":\"a1\",\"aws\":{\"regions\":\"x\"}}}",
};

START_TEST(malformed_inputs)
{
  json_t *c = pt_load(malformed[_i]), *a = pt_load(ACCT);
  json_t *weird = pt_load("{\"metadata\":7,\"spec\":\"s\"}");
  json_t *cm = pt_build(CM, NULL);
  const json_t *accts[2] = { a, weird };
  struct claim_obs obs = { .action = CLAIM_CLEANUP_REGION };
  struct claim_snap sn = { 0 };
  struct claim_step s;
  struct opcfg cfg;
  char err[256];
  int pass;

  ck_assert_int_eq(opcfg_parse(&cfg, cm, err, sizeof(err)), 0);
  sn.claim = c;
  sn.accounts = accts;
  sn.naccounts = 2;
  sn.cfg = &cfg;
  sn.now = PT_T0;
  for (pass = 0; pass < 2; pass++) {
    sn.obs = pass ? &obs : NULL;
    ck_assert_int_eq(claim_plan(&sn, &s), 0);
    claim_step_cleanup(&s);
  }
  opcfg_cleanup(&cfg);
  json_decref(cm);
  json_decref(a);
  json_decref(weird);
  json_decref(c);
}
END_TEST

static Suite *plan_claim_suite(void)
{
  Suite *s = suite_create("plan_claim");
  TCase *tc = tcase_create("table");

  tcase_add_loop_test(tc, table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
  tcase_add_loop_test(tc, fleet_table, 0,
                      (int)(sizeof(fleet_rows) / sizeof(fleet_rows[0])));
  tcase_add_test(tc, null_snapshot);
  tcase_add_loop_test(tc, malformed_inputs, 0,
                      (int)(sizeof(malformed) / sizeof(malformed[0])));
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(plan_claim_suite)
