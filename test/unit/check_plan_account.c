/* pkg/controllers/account/plan: the non-CCS Account state machine, table
 * driven. Each row: an Account (merge patch over BASE), optional claim,
 * ConfigMap (patch over CM, or "none"), clock offset, gates, the last
 * observation -> expected action, requeue, event and written fields. */
#include <string.h>

#include "controllers/account/plan.h"
#include "controllers/common/opcfg.h"
#include "fixtures/plans/plantest.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define BASE                                                                   \
  "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\",\"kind\":"            \
  "\"Account\",\"metadata\":{\"name\":\"osd-creds-mgmt-abc123\","              \
  "\"namespace\":\"aws-account-operator\",\"uid\":\"u-1\","                    \
  "\"creationTimestamp\":\"2026-01-01T00:59:00Z\",\"labels\":{\"iamUserId\":"  \
  "\"abc123\"},\"finalizers\":[\"finalizer.aws.managed.openshift.io\"],"       \
  "\"ownerReferences\":[{\"kind\":\"AccountPool\",\"name\":\"hive\"}]},"       \
  "\"spec\":{\"awsAccountID\":\"\",\"iamUserSecret\":\"\",\"accountPool\":"    \
  "\"hive\"},\"status\":{}}"
#define CM                                                                     \
  "{\"sts-jump-role\":\"arn:aws:iam::1:role/"                                  \
  "sts-jump\",\"account-limit\":\"100\",\"root\":\"r-1\",\"base\":\"ou-"       \
  "base\","                                                                    \
  "\"shard-name\":\"shard1\",\"ami-owner\":\"111\",\"accountpool\":"           \
  "\"hive:\\n  default: true\\n\",\"payer-account-ids\":\"999999999999\","     \
  "\"support-jump-role\":\"arn:aws:iam::1:role/jump\",\"app-code\":\"A1\"}"
#define CLAIM                                                                  \
  "{\"kind\":\"AccountClaim\",\"metadata\":{\"name\":\"c1\",\"namespace\":"    \
  "\"ns1\"},\"spec\":{},\"status\":{\"state\":\"Ready\",\"conditions\":[{"     \
  "\"type\":\"Claimed\",\"status\":\"True\",\"reason\":\"x\"}]}}"

/* ids and annotations */
#define ID "\"spec\":{\"awsAccountID\":\"123456789012\"}"
#define EMAIL_ANN                                                              \
  "\"aws.managed.openshift.io/create-account-email\":"                         \
  "\"osd-creds-mgmt+abc123@redhat.com\""
#define REQ_ANN                                                                \
  EMAIL_ANN ",\"aws.managed.openshift.io/create-account-request-id\":"         \
            "\"car-1\",\"aws.managed.openshift.io/create-account-requested-"   \
            "at\":\"2026-01-01T00:52:00Z\""
#define ANNS(x) "\"metadata\":{\"annotations\":{" x "}}"
#define ST(s) "\"status\":{\"state\":\"" s "\""
#define COND(t, probe, trans)                                                  \
  "{\"type\":\"" t "\",\"status\":\"True\",\"reason\":\"r\",\"message\":"      \
  "\"m\",\"lastProbeTime\":\"" probe "\",\"lastTransitionTime\":\"" trans      \
  "\"}"
#define CREATING(probe)                                                        \
  ST("Creating") ",\"conditions\":[" COND("Creating", probe, probe) "]}"
#define DONE_IAM                                                               \
  "\"aws.managed.openshift.io/account-tagged\":\"true\","                      \
  "\"aws.managed.openshift.io/iam-bootstrap\":\"user-policy\""
#define INIT(regions)                                                          \
  "{" ID "," ST("InitializingRegions") ",\"conditions\":[" COND(               \
      "InitializingRegions", "2026-01-01T00:50:00Z",                           \
      "2026-01-01T00:50:00Z") "]}," ANNS("\"aws.managed.openshift.io/region-"  \
                                         "init\":" regions) "}"
#define PV(extra)                                                              \
  "{\"spec\":{\"awsAccountID\":\"123456789012\"},\"status\":{\"state\":"       \
  "\"PendingVerification\"" extra "}}"
#define DEL(x) "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:59:30Z\"" x

#define OPTIN_CM                                                               \
  "{\"feature.opt_in_regions\":\"true\",\"opt-in-regions\":\"af-south-1,"      \
  "ap-southeast-4\",\"disabled-regions\":\"ap-southeast-4\"}"
#define OPTING(m)                                                              \
  "{" ID ",\"status\":{\"state\":\"OptingInRegions\",\"optInRegions\":{" m     \
  "}}," ANNS("\"aws.managed.openshift.io/account-tagged\":\"true\"") "}"
#define SIX_ENABLING                                                           \
  "\"r1\":{\"status\":\"ENABLING\"},\"r2\":{\"status\":\"ENABLING\"},"         \
  "\"r3\":{\"status\":\"ENABLING\"},\"r4\":{\"status\":\"ENABLING\"},"         \
  "\"r5\":{\"status\":\"ENABLING\"},\"r6\":{\"status\":\"ENABLING\"}"

enum {
  F_NO_LIMIT = 1,
  F_NO_SLOT = 2,
  F_SECRET = 4,
  F_OPTING9 = 8,
  F_BYOC = 16,
  F_EST10 = 32,         /* the organization's creations take 10 s */
  F_SECRET_UNKNOWN = 64 /* the IAM Secret not read (the prepare pass) */
};

struct row {
  const char *name;
  const char *acct;  /* patch over BASE */
  const char *claim; /* patch over CLAIM, NULL = no claim */
  const char *cm;    /* patch over CM; "none" = no ConfigMap */
  long now;          /* seconds after PT_T0 */
  int flags;
  struct acct_obs obs; /* .action == ACCT_DONE: no observation */
  const char *obs_regions;
  enum acct_action want;
  long long requeue_s; /* -1: not checked */
  const char *event;   /* NULL: not checked, "": none */
  const char *expect[5];
};

#define OBS(...)                                                               \
  {                                                                            \
    __VA_ARGS__                                                                \
  }

static const struct row rows[] = {
#include "fixtures/plans/account_rows.inc"
#include "fixtures/plans/account_ccs_rows.inc"
#include "fixtures/plans/account_key_rows.inc"
};

/* Rows with a --support-case-poll-interval (seconds) in the snapshot. */
static const struct {
  unsigned case_poll_s;
  struct row r;
} poll_rows[] = {
#include "fixtures/plans/account_poll_rows.inc"
};

static const char *check_field(const struct acct_step *s, const char *spec,
                               char *msg, size_t msgsz)
{
  static const struct {
    const char *n;
    size_t off;
  } f[] = {
    { "email", offsetof(struct acct_step, email) },
    { "name", offsetof(struct acct_step, name) },
    { "request_id", offsetof(struct acct_step, request_id) },
    { "region", offsetof(struct acct_step, region) },
    { "instance_id", offsetof(struct acct_step, instance_id) },
    { "case_id", offsetof(struct acct_step, case_id) },
    { "role_name", offsetof(struct acct_step, role_name) },
    { "user_name", offsetof(struct acct_step, user_name) },
    { "secret_name", offsetof(struct acct_step, secret_name) },
    { "trust_arn", offsetof(struct acct_step, trust_arn) },
    { "ami_owner", offsetof(struct acct_step, ami_owner) },
    { "account_id", offsetof(struct acct_step, account_id) },
    { "quota_code", offsetof(struct acct_step, quota_code) },
    { "service_code", offsetof(struct acct_step, service_code) },
    { "partition", offsetof(struct acct_step, partition) },
    { "cred_role", offsetof(struct acct_step, cred_role) },
    { "cred_jump", offsetof(struct acct_step, cred_jump) },
    { "external_id", offsetof(struct acct_step, external_id) },
    { "kms_key_id", offsetof(struct acct_step, kms_key_id) },
    { "key_id", offsetof(struct acct_step, key_id) },
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

static const char *check_tag(const struct acct_step *s, const char *spec,
                             char *msg, size_t msgsz)
{
  char buf[256], *eq;

  str_copy(buf, spec + 4, sizeof(buf));
  eq = strchr(buf, '=');
  if (!eq)
    return "bad tag spec";
  *eq++ = '\0';
  if (str_eq(json_string_value(json_object_get(s->tags, buf)), eq))
    return NULL;
  str_fmt(msg, msgsz, "tag %s != %s", buf, eq);
  return msg;
}

static const char *first_of(const json_t *work)
{
  const json_t *w = json_array_get(work, 0);
  const char *u = json_string_value(json_object_get(w, "user"));

  return u ? u : json_string_value(json_object_get(w, "role"));
}

static void check_expect(const struct row *r, const struct acct_step *s)
{
  char msg[600];
  size_t i;

  for (i = 0; i < 5 && r->expect[i]; i++) {
    const char *e = r->expect[i], *err;

    if (!strncmp(e, "f.", 2))
      err = check_field(s, e, msg, sizeof(msg));
    else if (!strncmp(e, "tag=", 4))
      err = check_tag(s, e, msg, sizeof(msg));
    else if (!strncmp(e, "work=", 5))
      err = json_array_size(s->work) == strtoul(e + 5, NULL, 10) ? NULL
                                                                 : "work size";
    else if (!strcmp(e, "wants_slot"))
      err = s->wants_slot ? NULL : "wants_slot not set";
    else if (!strcmp(e, "slot_poll"))
      err = s->slot_poll ? NULL : "slot_poll not set";
    else if (!strcmp(e, "need_iam_secret"))
      err = s->need_iam_secret ? NULL : "need_iam_secret not set";
    else if (!strncmp(e, "why~", 4))
      err = strstr(s->why, e + 4) ? NULL : s->why;
    else if (!strncmp(e, "mode=", 5)) /* enum acct_creds */
      err = (int)s->cred_mode == atoi(e + 5) ? NULL : "cred_mode";
    else if (!strncmp(e, "first=", 6)) /* the work's first user or role */
      err = str_eq(first_of(s->work), e + 6) ? NULL : first_of(s->work);
    else
      err = s->object_new ? pt_check_obj(s->object_new, e, msg, sizeof(msg))
                          : "no object_new";
    ck_assert_msg(!err, "row '%s': %s: %s", r->name, e, err);
  }
}

static void run_row(const struct row *r, unsigned case_poll_s)
{
  json_t *acct = pt_build(BASE, r->acct);
  json_t *claim = r->claim ? pt_build(CLAIM, r->claim) : NULL;
  json_t *regions = r->obs_regions ? pt_load(r->obs_regions) : NULL;
  struct opcfg cfg;
  struct acct_obs obs = r->obs;
  struct acct_snap sn = { 0 };
  struct acct_step s;
  char err[256];

  if (!str_eq(r->cm, "none")) {
    json_t *cm = pt_build(CM, r->cm);

    ck_assert_msg(opcfg_parse(&cfg, cm, err, sizeof(err)) == 0, "%s", err);
    json_decref(cm);
    sn.cfg = &cfg;
  }
  sn.account = acct;
  sn.claim = claim;
  sn.now = PT_T0 + r->now;
  sn.limit_allows = !(r->flags & F_NO_LIMIT);
  sn.create_slot_free = !(r->flags & F_NO_SLOT);
  sn.iam_secret_exists = (r->flags & F_SECRET) != 0;
  sn.iam_secret_unknown = (r->flags & F_SECRET_UNKNOWN) != 0;
  sn.byoc_creds = (r->flags & F_BYOC) != 0;
  sn.accounts_opting_in = (r->flags & F_OPTING9) ? 9 : 8;
  sn.case_poll_s = case_poll_s;
  sn.create_estimate_s = (r->flags & F_EST10) ? 10.0 : 0;
  obs.regions = regions;
  obs.work = regions; /* the aux value, whichever the action reads */
  if (obs.at == 0)
    obs.at = sn.now;
  sn.obs = r->obs.action != ACCT_DONE ? &obs : NULL;
  ck_assert_int_eq(acct_plan(&sn, &s), 0);
  ck_assert_msg(s.action == r->want, "row '%s': action %s, want %s (%s)",
                r->name, acct_action_name(s.action), acct_action_name(r->want),
                s.why);
  if (r->requeue_s >= 0)
    ck_assert_msg(s.requeue_ms == (uint64_t)r->requeue_s * 1000,
                  "row '%s': requeue %llu ms, want %lld s", r->name,
                  (unsigned long long)s.requeue_ms, r->requeue_s);
  if (r->event)
    ck_assert_msg(str_eq(s.event.reason, r->event),
                  "row '%s': event '%s', want '%s'", r->name, s.event.reason,
                  r->event);
  check_expect(r, &s);
  /* Inputs are never mutated. */
  {
    json_t *again = pt_build(BASE, r->acct);

    ck_assert_msg(json_equal(again, acct), "row '%s' mutated its input",
                  r->name);
    json_decref(again);
  }
  acct_step_cleanup(&s);
  if (sn.cfg)
    opcfg_cleanup(&cfg);
  json_decref(acct);
  json_decref(claim);
  json_decref(regions);
}

START_TEST(table)
{
  run_row(&rows[_i], 0);
}
END_TEST

START_TEST(poll_interval)
{
  run_row(&poll_rows[_i].r, poll_rows[_i].case_poll_s);
}
END_TEST

/* The status poll after a CreateAccount request: just after the
 * organization's usual creation time, then a sixteenth of the time spent;
 * without an estimate a quarter; never more than a minute. */
START_TEST(create_poll_times)
{
  ck_assert_uint_eq(acct_create_poll_ms(0, 10.0), 10010);
  ck_assert_uint_eq(acct_create_poll_ms(4000, 10.0), 6010);
  ck_assert_uint_eq(acct_create_poll_ms(10010, 10.0), 625);
  ck_assert_uint_eq(acct_create_poll_ms(1010, 1.0), 63);
  ck_assert_uint_eq(acct_create_poll_ms(700, 1.0), 310);
  ck_assert_uint_eq(acct_create_poll_ms(1010, 0.5), 63);
  ck_assert_uint_eq(acct_create_poll_ms(600, 0.3), 50);
  ck_assert_uint_eq(acct_create_poll_ms(90000, 60.0), 5625);
  ck_assert_uint_eq(acct_create_poll_ms(3600000, 60.0), 60000);
  ck_assert_uint_eq(acct_create_poll_ms(0, 0), 1000);
  ck_assert_uint_eq(acct_create_poll_ms(2000, 0), 1000);
  ck_assert_uint_eq(acct_create_poll_ms(20000, 0), 5000);
  ck_assert_uint_eq(acct_create_poll_ms(600000, 0), 60000);
}
END_TEST

START_TEST(null_snapshot)
{
  struct acct_step s;
  struct acct_snap sn = { 0 };

  ck_assert_int_eq(acct_plan(&sn, &s), OP_EINVAL);
  ck_assert_int_eq(acct_plan(NULL, &s), OP_EINVAL);
}
END_TEST

/* Bad input never crashes and never yields a write of garbage. */
static const char *const malformed[] = {
  "{}",
  "{\"metadata\":1,\"spec\":[],\"status\":\"x\"}",
  "{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"finalizer.aws.managed."
  "openshift.io\"],\"annotations\":{\"aws.managed.openshift.io/region-init\":"
  "\"not json\"}},\"spec\":{\"awsAccountID\":\"1\"},\"status\":{\"state\":"
  "\"InitializingRegions\",\"conditions\":\"x\"}}",
  "{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"finalizer.aws.managed."
  "openshift.io\"],\"annotations\":{\"aws.managed.openshift.io/"
  "create-account-email\":\"e\",\"aws.managed.openshift.io/"
  "create-account-request-id\":\"r\",\"aws.managed.openshift.io/"
  "create-account-requested-at\":\"garbage\"}},\"status\":{}}",
  "{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"finalizer.aws.managed."
  "openshift.io\"]},\"spec\":{\"awsAccountID\":\"1\"},\"status\":{"
  "\"state\":\"PendingVerification\",\"supportCaseID\":\"c\","
  "\"regionalServiceQuotas\":{\"r\":7},\"globalServiceQuotas\":[1]}}",
  "{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"finalizer.aws.managed."
  "openshift.io\"]},\"spec\":{\"awsAccountID\":\"1\"},\"status\":{"
  "\"state\":\"OptingInRegions\",\"optInRegions\":{\"r\":5}}}",
};

START_TEST(malformed_inputs)
{
  json_t *a = pt_load(malformed[_i]);
  json_t *cm = pt_build(CM, NULL);
  struct acct_obs obs = { .action = ACCT_OPT_IN_REGION,
                          .region = "r",
                          .optin_status = "ENABLED" };
  struct acct_snap sn = { 0 };
  struct acct_step s;
  struct opcfg cfg;
  char err[256];
  int pass;

  ck_assert_int_eq(opcfg_parse(&cfg, cm, err, sizeof(err)), 0);
  sn.account = a;
  sn.cfg = &cfg;
  sn.now = PT_T0;
  for (pass = 0; pass < 2; pass++) {
    sn.obs = pass ? &obs : NULL;
    ck_assert_int_eq(acct_plan(&sn, &s), 0);
    acct_step_cleanup(&s);
  }
  opcfg_cleanup(&cfg);
  json_decref(cm);
  json_decref(a);
}
END_TEST

/* What a server without the CRD schema lets through: Failed with reason
 * InvalidAccount, once; never an AWS call. */
static const char *const wrong_types[] = {
  "{\"spec\":{\"awsAccountID\":123456789012}}",
  "{\"spec\":{\"awsAccountID\":\"12345\"}}",
  "{\"spec\":{\"iamUserSecret\":[\"x\"]}}",
  "{\"spec\":{\"byoc\":\"yes\"}}",
  "{\"spec\":{\"legalEntity\":\"le\"}}",
  "{\"spec\":{\"claimLink\":{}}}",
  "{\"status\":\"broken\"}",
  "{\"spec\":7}",
};

START_TEST(wrong_type_fields)
{
  json_t *a = pt_build(BASE, wrong_types[_i]), *cm = pt_build(CM, NULL), *f;
  struct acct_snap sn = { 0 };
  struct acct_step s;
  struct opcfg cfg;
  char err[256];

  ck_assert_int_eq(opcfg_parse(&cfg, cm, err, sizeof(err)), 0);
  sn.account = a;
  sn.cfg = &cfg;
  sn.now = PT_T0;
  ck_assert_ptr_nonnull(acct_invalid(a));
  ck_assert_int_eq(acct_plan(&sn, &s), 0);
  ck_assert_msg(s.action == ACCT_UPDATE_STATUS, "%s: %s", wrong_types[_i],
                acct_action_name(s.action));
  ck_assert_str_eq(obj_str0(s.object_new, "status.state"), "Failed");
  ck_assert_str_eq(s.event.reason, "InvalidAccount");
  ck_assert_str_eq(s.event.type, "Warning");
  f = json_incref(s.object_new);
  acct_step_cleanup(&s);
  sn.account = f; /* Failed: nothing more */
  ck_assert_int_eq(acct_plan(&sn, &s), 0);
  ck_assert_msg(s.action != ACCT_UPDATE_STATUS ||
                    !str_eq(s.event.reason, "InvalidAccount"),
                "%s: Failed twice", wrong_types[_i]);
  acct_step_cleanup(&s);
  json_decref(f);
  opcfg_cleanup(&cfg);
  json_decref(cm);
  json_decref(a);
}
END_TEST

START_TEST(valid_types)
{
  json_t *a = pt_build(BASE, "{\"spec\":{\"awsAccountID\":\"123456789012\","
                             "\"byoc\":false,\"legalEntity\":{\"id\":\"\"}}}");

  ck_assert_ptr_null(acct_invalid(a));
  json_decref(a);
}
END_TEST

/* CCS accounts with bad claims and observations never crash. */
static const char *const malformed_ccs[] = {
  "{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"finalizer.aws.managed."
  "openshift.io\"]},\"spec\":{\"byoc\":true,\"claimLink\":\"c\"},"
  "\"status\":{\"state\":\"Creating\",\"claimed\":true}}",
  "{\"metadata\":{\"name\":\"x\",\"finalizers\":[\"finalizer.aws.managed."
  "openshift.io\"],\"annotations\":{\"aws.managed.openshift.io/"
  "iam-bootstrap\":\"user-policy\",\"aws.managed.openshift.io/region-init\":"
  "\"[1]\"}},\"spec\":{\"byoc\":true,\"manualSTSMode\":true},\"status\":{"
  "\"state\":\"InitializingRegions\",\"claimed\":true}}",
  "{\"metadata\":{\"name\":\"x\",\"deletionTimestamp\":\"x\",\"finalizers\":"
  "[\"finalizer.aws.managed.openshift.io\"]},\"spec\":{\"byoc\":true}}",
};
static const char *const malformed_claims[] = {
  "{\"spec\":{\"customTags\":7,\"aws\":{\"regions\":\"x\"},\"kmsKeyId\":[]}}",
  "{\"spec\":{\"customTags\":\"=\\n\\n==\\nk=\",\"aws\":{\"regions\":[1,{"
  "\"name\":7}]},\"stsRoleARN\":5}}",
};

START_TEST(malformed_ccs_inputs)
{
  json_t *cm = pt_build(CM, NULL), *work = pt_load("[1,{\"role\":[]},\"x\"]");
  struct acct_obs obs[] = {
    { .action = ACCT_DESCRIBE_REGIONS, .regions = work },
    { .action = ACCT_CLEANUP_IAM, .work = work },
    { .action = ACCT_ASSUME_CHECK, .result = OP_EAUTH },
  };
  struct acct_snap sn = { 0 };
  struct acct_step s;
  struct opcfg cfg;
  char err[256];
  size_t i, k;

  ck_assert_int_eq(opcfg_parse(&cfg, cm, err, sizeof(err)), 0);
  sn.cfg = &cfg;
  sn.now = PT_T0;
  sn.byoc_creds = true;
  for (i = 0; i < sizeof(malformed_claims) / sizeof(malformed_claims[0]); i++) {
    json_t *a = pt_load(malformed_ccs[_i]), *c = pt_load(malformed_claims[i]);

    sn.account = a;
    sn.claim = c;
    for (k = 0; k <= sizeof(obs) / sizeof(obs[0]); k++) {
      sn.obs = k < sizeof(obs) / sizeof(obs[0]) ? &obs[k] : NULL;
      ck_assert_int_eq(acct_plan(&sn, &s), 0);
      acct_step_cleanup(&s);
    }
    json_decref(a);
    json_decref(c);
  }
  opcfg_cleanup(&cfg);
  json_decref(cm);
  json_decref(work);
}
END_TEST

static Suite *plan_account_suite(void)
{
  Suite *s = suite_create("plan_account");
  TCase *tc = tcase_create("table");

  tcase_add_loop_test(tc, table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
  tcase_add_loop_test(tc, poll_interval, 0,
                      (int)(sizeof(poll_rows) / sizeof(poll_rows[0])));
  tcase_add_test(tc, null_snapshot);
  tcase_add_test(tc, create_poll_times);
  tcase_add_loop_test(tc, wrong_type_fields, 0,
                      (int)(sizeof(wrong_types) / sizeof(wrong_types[0])));
  tcase_add_test(tc, valid_types);
  tcase_add_loop_test(tc, malformed_inputs, 0,
                      (int)(sizeof(malformed) / sizeof(malformed[0])));
  tcase_add_loop_test(tc, malformed_ccs_inputs, 0,
                      (int)(sizeof(malformed_ccs) / sizeof(malformed_ccs[0])));
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(plan_account_suite)
