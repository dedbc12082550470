/* pkg/controllers/validation/plan: AccountValidation and
 * AccountPoolValidation decisions, table driven. Account rows: the
 * Account (patch over ACCT), ConfigMap patch, the key's last observation
 * and its tags, the clock -> expected step. Pool rows: Accounts (patches
 * over PACCT), ConfigMap patch, the last report -> expected step. */
#include <string.h>

#include "controllers/common/opcfg.h"
#include "controllers/validation/plan.h"
#include "fixtures/plans/plantest.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define ACCT                                                                   \
  "{\"kind\":\"Account\",\"metadata\":{\"name\":\"a1\",\"namespace\":"         \
  "\"aws-account-operator\"},\"spec\":{\"awsAccountID\":\"111122223333\","     \
  "\"legalEntity\":{\"id\":\"\",\"name\":\"\"}},\"status\":{\"state\":"        \
  "\"Ready\"}}"
#define CM                                                                     \
  "{\"root\":\"r-root\",\"base\":\"ou-base\",\"shard-name\":\"e2e\","          \
  "\"payer-account-ids\":\"999999999999\",\"app-code\":\"ac\","                \
  "\"service-phase\":\"prod\",\"cost-center\":\"cc\",\"accountpool\":"         \
  "\"hive:\\n  default: true\\n  servicequotas:\\n    default:\\n      "       \
  "L-1216C47A: '750'\\n    us-east-1:\\n      L-0EA8095F: 200\\n  "            \
  "globalservicequotas:\\n    L-FE177D64: '5000'\\n\"}"
#define ON(f) "{\"feature." f "\":\"true\"}"
#define LE "{\"spec\":{\"legalEntity\":{\"id\":\"le1\"}}}"
#define OWNER_OK "{\"owner\":\"e2e\"}"

#define OPTIN_CM                                                               \
  "{\"feature.opt_in_regions\":\"true\",\"opt-in-regions\":\"af-south-1,"      \
  "ap-southeast-4,me-south-1\",\"disabled-regions\":\"me-south-1\"}"
/* An Account with spec quotas and regions us-east-1, me-south-1; status
 * fields x. */
#define QUOTA_ACCT(x)                                                          \
  "{\"metadata\":{\"annotations\":{\"aws.managed.openshift.io/region-init\":"  \
  "\"{\\\"me-south-1\\\":\\\"done\\\",\\\"us-east-1\\\":\\\"done\\\"}\"}},"    \
  "\"spec\":{\"regionalServiceQuotas\":{\"default\":{\"L-1216C47A\":{"         \
  "\"value\":750}},\"us-east-1\":{\"L-0EA8095F\":{\"value\":200}}},"           \
  "\"globalServiceQuotas\":{\"L-FE177D64\":{\"value\":5000}}},"                \
  "\"status\":{" x "}}"

#define PERIOD_S 600
#define START PT_T0
#define NOW (PT_T0 + 1000)

/* An observation: action, result, parent, expected, missing, tags_read,
 * read_at and at (seconds before NOW; -1 = never). */
struct obs_spec {
  bool set;
  enum val_action action;
  int result;
  const char *parent, *expected;
  bool missing, tags_read;
  int read_ago, at_ago;
};
#define READ_OK(p, e)                                                          \
  {                                                                            \
    true, VAL_READ, 0, p, e, false, true, 10, 10                               \
  }

struct row {
  const char *name;
  const char *acct, *cm;
  struct obs_spec obs;
  const char *tags; /* the READ's tags */
  long now_off;     /* NOW + now_off */
  enum val_action want;
  long long requeue_s;
  const char *expect; /* "why:..", "ev:REASON", "msg:..", "dst:..", "tag:k=v",
                         "root:..", "ou:..", "notags" */
  const char *expect2;
};

static const struct row rows[] = {
  { "ready, no observation, past its slot: read",
    NULL,
    NULL,
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    "root:r-root",
    "readtags" },
  { "ready, first slot not reached: wait for it (phase 0.5 of 600 s)",
    NULL,
    NULL,
    { 0 },
    NULL,
    -(1000 - 10),
    VAL_DONE,
    290,
    "why:first validation",
    NULL },
  { "created by this process 400 s ago: counts as read then (600 s pass)",
    "{\"metadata\":{\"annotations\":{\"aws.managed.openshift.io/"
    "create-account-requested-at\":\"2026-01-01T01:10:00Z\"}}}",
    NULL,
    { 0 },
    NULL,
    0,
    VAL_DONE,
    200,
    "why:first validation",
    NULL },
  { "CreateAccount before this process started: read in its slot",
    "{\"metadata\":{\"annotations\":{\"aws.managed.openshift.io/"
    "create-account-requested-at\":\"2026-01-01T00:59:59Z\"}}}",
    NULL,
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    "root:r-root",
    "readtags" },
  { "legal entity: OU le1 under base",
    LE,
    NULL,
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    "ou:le1",
    "root:" },
  { "empty shard-name: no tag read",
    NULL,
    "{\"shard-name\":\"\"}",
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    "notags",
    NULL },
  { "not Ready: nothing",
    "{\"status\":{\"state\":\"Creating\"}}",
    NULL,
    { 0 },
    NULL,
    0,
    VAL_DONE,
    0,
    NULL,
    NULL },
  { "CCS: nothing",
    "{\"spec\":{\"byoc\":true}}",
    NULL,
    { 0 },
    NULL,
    0,
    VAL_DONE,
    0,
    NULL,
    NULL },
  { "no AWS id: nothing",
    "{\"spec\":{\"awsAccountID\":\"\"}}",
    NULL,
    { 0 },
    NULL,
    0,
    VAL_DONE,
    0,
    NULL,
    NULL },
  { "paused",
    "{\"metadata\":{\"annotations\":{\"aws.managed.openshift.com/"
    "pause-reconciliation\":\"true\"}}}",
    NULL,
    { 0 },
    NULL,
    0,
    VAL_DONE,
    0,
    NULL,
    NULL },
  { "deleting",
    "{\"metadata\":{\"deletionTimestamp\":\"x\"}}",
    NULL,
    { 0 },
    NULL,
    0,
    VAL_DONE,
    0,
    NULL,
    NULL },
  { "payer account: never acted on",
    "{\"spec\":{\"awsAccountID\":\"999999999999\"}}",
    NULL,
    { 0 },
    NULL,
    0,
    VAL_DONE,
    0,
    "why:payer",
    NULL },
  { "failed, no AWS id, delete flag: delete",
    "{\"spec\":{\"awsAccountID\":\"\"},\"status\":{\"state\":\"Failed\"}}",
    ON("validation_delete_account"),
    { 0 },
    NULL,
    0,
    VAL_DELETE,
    0,
    "ev:FailedAccountDeleted",
    NULL },
  { "creation failed, no AWS id, flag off: report",
    "{\"spec\":{\"awsAccountID\":\"\"},\"status\":{\"state\":"
    "\"AccountCreationFailed\"}}",
    NULL,
    { 0 },
    NULL,
    0,
    VAL_REPORT,
    0,
    "ev:ValidationDryRun",
    "msg:would delete" },
  { "failed, no AWS id, reported: done",
    "{\"spec\":{\"awsAccountID\":\"\"},\"status\":{\"state\":\"Failed\"}}",
    NULL,
    { true, VAL_REPORT, 0, "", "", false, false, -1, 5 },
    NULL,
    0,
    VAL_DONE,
    0,
    NULL,
    NULL },
  { "failed with an AWS id: not deleted",
    "{\"status\":{\"state\":\"Failed\"}}",
    ON("validation_delete_account"),
    { 0 },
    NULL,
    0,
    VAL_DONE,
    0,
    NULL,
    NULL },
  { "misplaced, move flag: move back", NULL, ON("validation_move_account"),
    READ_OK("ou-x", "r-root"), OWNER_OK, 0, VAL_MOVE, 0, "dst:r-root",
    "ev:AccountMoved" },
  { "misplaced, flag off: report what it would do", NULL, NULL,
    READ_OK("ou-x", "r-root"), OWNER_OK, 0, VAL_REPORT, 0,
    "msg:would move it from ou-x to r-root", "ev:ValidationDryRun" },
  { "misplaced, flag off, reported: wait for the period",
    NULL,
    NULL,
    { true, VAL_REPORT, 0, "ou-x", "r-root", false, true, 10, 5 },
    OWNER_OK,
    0,
    VAL_DONE,
    PERIOD_S - 10,
    NULL,
    NULL },
  { "owner tag missing, tag flag: tag", NULL, ON("validation_tag_account"),
    READ_OK("r-root", "r-root"), "{}", 0, VAL_TAG, 0, "tag:owner=e2e",
    "ev:AccountTagged" },
  { "owner tag wrong, flag off: report", NULL, NULL,
    READ_OK("r-root", "r-root"), "{\"owner\":\"other\"}", 0, VAL_REPORT, 0,
    "msg:would set tags owner=e2e", NULL },
  { "compliance tags missing, both flags: tag", NULL,
    "{\"feature.validation_tag_account\":\"true\","
    "\"feature.compliance_tags\":\"true\"}",
    READ_OK("r-root", "r-root"), OWNER_OK, 0, VAL_TAG, 0, "tag:app-code=ac",
    "tag:cost-center=cc" },
  { "misplaced and untagged, both flags: the move first", NULL,
    "{\"feature.validation_move_account\":\"true\","
    "\"feature.validation_tag_account\":\"true\"}",
    READ_OK("ou-x", "r-root"), "{}", 0, VAL_MOVE, 0, "dst:r-root", NULL },
  { "expected OU missing: report",
    LE,
    ON("validation_move_account"),
    { true, VAL_READ, 0, "r-root", "", true, true, 10, 10 },
    OWNER_OK,
    0,
    VAL_REPORT,
    0,
    "msg:expected OU le1 not found under ou-base",
    NULL },
  { "all in order: done until the period ends", NULL, NULL,
    READ_OK("r-root", "r-root"), OWNER_OK, 0, VAL_DONE, PERIOD_S - 10,
    "why:validated", NULL },
  { "tags not read (no shard-name then): not compared",
    NULL,
    NULL,
    { true, VAL_READ, 0, "r-root", "r-root", false, false, 10, 10 },
    NULL,
    0,
    VAL_DONE,
    PERIOD_S - 10,
    NULL,
    NULL },
  { "period over: read again",
    NULL,
    NULL,
    { true, VAL_READ, 0, "r-root", "r-root", false, true, PERIOD_S, PERIOD_S },
    OWNER_OK,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "after a move: read again at once",
    NULL,
    ON("validation_move_account"),
    { true, VAL_MOVE, 0, "", "", false, false, -1, 1 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "after a tag: read again at once",
    NULL,
    NULL,
    { true, VAL_TAG, 0, "", "", false, false, 20, 1 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "failed move: wait 5 min",
    NULL,
    ON("validation_move_account"),
    { true, VAL_MOVE, OP_EAWS, "", "", false, false, -1, 60 },
    NULL,
    0,
    VAL_DONE,
    240,
    "why:retry wait",
    NULL },
  { "failed move, 5 min later: read",
    NULL,
    ON("validation_move_account"),
    { true, VAL_MOVE, OP_EAWS, "", "", false, false, -1, 300 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "failed read: wait",
    NULL,
    NULL,
    { true, VAL_READ, OP_EAWS, "", "", false, false, -1, 100 },
    NULL,
    0,
    VAL_DONE,
    200,
    NULL,
    NULL },
  { "disabled region's quotas in status: scrubbed",
    "{\"status\":{\"regionalServiceQuotas\":{\"us-east-1\":{},"
    "\"ap-east-1\":{\"L-1216C47A\":{\"value\":5}}}}}",
    "{\"disabled-regions\":\"ap-east-1,me-south-1\"}",
    { 0 },
    NULL,
    0,
    VAL_SCRUB,
    0,
    "scrubbed:ap-east-1",
    "ev:DisabledRegionsScrubbed" },
  { "disabled region's quotas, no shard-name key: left",
    "{\"status\":{\"regionalServiceQuotas\":{\"ap-east-1\":{}}}}",
    "{\"disabled-regions\":\"ap-east-1\",\"shard-name\":null}",
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "no disabled region in status: validation goes on",
    "{\"status\":{\"regionalServiceQuotas\":{\"us-east-1\":{}}}}",
    "{\"disabled-regions\":\"ap-east-1\"}",
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  /* (e) and (f): entries seeded, the Account controller works them */
  { "opt-in region missing from status: seeded TODO (disabled skipped)",
    "{\"status\":{\"optInRegions\":{\"af-south-1\":{\"status\":"
    "\"ENABLED\"}}}}",
    OPTIN_CM,
    { 0 },
    NULL,
    0,
    VAL_SEED,
    0,
    "str:status.optInRegions.ap-southeast-4.status=TODO",
    "str:status.optInRegions.me-south-1=-" },
  { "seeded opt-in region keeps the others' status",
    "{\"status\":{\"optInRegions\":{\"af-south-1\":{\"status\":"
    "\"ENABLED\"}}}}",
    OPTIN_CM,
    { 0 },
    NULL,
    0,
    VAL_SEED,
    0,
    "str:status.optInRegions.af-south-1.status=ENABLED",
    "ev:ValidationSeeded" },
  { "opt-in regions all present: validation goes on",
    "{\"status\":{\"optInRegions\":{\"af-south-1\":{\"status\":"
    "\"ENABLED\"},\"ap-southeast-4\":{\"status\":\"MANUAL_ACTION\"}}}}",
    OPTIN_CM,
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "opt-in flag off: not seeded",
    NULL,
    "{\"opt-in-regions\":\"af-south-1\"}",
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "9 accounts opting in: not seeded now",
    NULL,
    OPTIN_CM,
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "9 opting in, this one among them: its missing region seeded",
    "{\"status\":{\"optInRegions\":{\"af-south-1\":{\"status\":"
    "\"ENABLING\"}}}}",
    OPTIN_CM,
    { 0 },
    NULL,
    0,
    VAL_SEED,
    0,
    "str:status.optInRegions.ap-southeast-4.status=TODO",
    NULL },
  { "no shard-name key: no seeding",
    NULL,
    "{\"feature.opt_in_regions\":\"true\",\"opt-in-regions\":"
    "\"af-south-1\",\"shard-name\":null}",
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "status quotas reset: expanded from spec (disabled region skipped)",
    QUOTA_ACCT("\"regionalServiceQuotas\":{},\"globalServiceQuotas\":{}"),
    "{\"disabled-regions\":\"me-south-1\"}",
    { 0 },
    NULL,
    0,
    VAL_SEED,
    0,
    "str:status.regionalServiceQuotas.us-east-1.L-1216C47A.status=TODO",
    "str:status.regionalServiceQuotas.me-south-1=-" },
  { "status quotas absent: global ones expanded too",
    QUOTA_ACCT("\"state\":\"Ready\""),
    NULL,
    { 0 },
    NULL,
    0,
    VAL_SEED,
    0,
    "str:status.globalServiceQuotas.L-FE177D64.status=TODO",
    "str:status.regionalServiceQuotas.us-east-1.L-0EA8095F.status=TODO" },
  { "status quotas present: left to the Account controller",
    QUOTA_ACCT("\"regionalServiceQuotas\":{\"us-east-1\":{"
               "\"L-1216C47A\":{\"value\":750,\"status\":\"IN_PROGRESS\"}}"
               "},\"globalServiceQuotas\":{\"L-FE177D64\":{\"value\":5000,"
               "\"status\":\"COMPLETED\"}}"),
    NULL,
    { 0 },
    NULL,
    0,
    VAL_READ,
    0,
    NULL,
    NULL },
  { "no ConfigMap: 30 s",
    NULL,
    "null",
    { 0 },
    NULL,
    0,
    VAL_DONE,
    30,
    NULL,
    NULL },
};

static const char *tag_of(const struct val_step *s, const char *k)
{
  return json_string_value(json_object_get(s->tags, k));
}

static void check(const struct row *r, const struct val_step *s, const char *e)
{
  char buf[256], *v;

  if (!e)
    return;
  str_copy(buf, e, sizeof(buf));
  if (!strcmp(buf, "readtags") || !strcmp(buf, "notags")) {
    ck_assert_msg(s->read_tags == !strcmp(buf, "readtags"), "row '%s': %s",
                  r->name, buf);
    return;
  }
  v = strchr(buf, ':');
  ck_assert_ptr_nonnull(v);
  *v++ = '\0';
  if (!strcmp(buf, "why"))
    ck_assert_msg(strstr(s->why, v), "row '%s': why '%s'", r->name, s->why);
  else if (!strcmp(buf, "ev"))
    ck_assert_msg(str_eq(s->event.reason, v), "row '%s': event '%s'", r->name,
                  s->event.reason);
  else if (!strcmp(buf, "msg"))
    ck_assert_msg(strstr(s->event.message, v), "row '%s': message '%s'",
                  r->name, s->event.message);
  else if (!strcmp(buf, "dst"))
    ck_assert_msg(str_eq(s->dst_parent, v) && str_eq(s->src_parent, "ou-x"),
                  "row '%s': move %s -> %s", r->name, s->src_parent,
                  s->dst_parent);
  else if (!strcmp(buf, "scrubbed")) {
    const json_t *rq = obj_get(s->object_new, "status.regionalServiceQuotas");

    ck_assert_msg(!json_object_get(rq, v) && json_object_get(rq, "us-east-1"),
                  "row '%s': status quotas not scrubbed", r->name);
  } else if (!strcmp(buf, "str")) {
    char *val = strchr(v, '=');
    const char *got;

    *val++ = '\0';
    got = obj_str(s->object_new, v);
    if (!strcmp(val, "-"))
      ck_assert_msg(!obj_get(s->object_new, v), "row '%s': %s present", r->name,
                    v);
    else
      ck_assert_msg(str_eq(got, val), "row '%s': %s = '%s'", r->name, v,
                    got ? got : "(null)");
  } else if (!strcmp(buf, "root"))
    ck_assert_msg(str_eq(s->root, v), "row '%s': root '%s'", r->name, s->root);
  else if (!strcmp(buf, "ou"))
    ck_assert_msg(str_eq(s->ou_name, v) && str_eq(s->base, "ou-base"),
                  "row '%s': ou '%s'", r->name, s->ou_name);
  else if (!strcmp(buf, "tag")) {
    char *val = strchr(v, '=');

    *val++ = '\0';
    ck_assert_msg(str_eq(tag_of(s, v), val), "row '%s': tag %s", r->name, v);
  } else
    ck_abort_msg("bad expectation %s", e);
}

/* 10,000 accounts need 5,000 s at VAL_READS_PER_S: the pass is that long,
 * not the 600 s period (phase 0.5: the slot is 2,500 s in, NOW 1,000 s). */
static const struct {
  struct row r;
  size_t naccounts;
} fleet_rows[] = {
  { { "10,000 accounts: the first slot is half of a 5,000 s pass away",
      NULL,
      NULL,
      { 0 },
      NULL,
      0,
      VAL_DONE,
      2500 - 1000,
      "why:first validation",
      NULL },
    10000 },
  { { "10,000 accounts, read one period ago: wait for the pass",
      NULL,
      NULL,
      { true, VAL_READ, 0, "r-root", "r-root", false, true, PERIOD_S,
        PERIOD_S },
      OWNER_OK,
      0,
      VAL_DONE,
      5000 - PERIOD_S,
      "why:validated",
      NULL },
    10000 },
  { { "1,000 accounts fit the period: read again after it",
      NULL,
      NULL,
      { true, VAL_READ, 0, "r-root", "r-root", false, true, PERIOD_S,
        PERIOD_S },
      OWNER_OK,
      0,
      VAL_READ,
      0,
      NULL,
      NULL },
    1000 },
};

static void fill_obs(const struct obs_spec *o, struct val_obs *out)
{
  memset(out, 0, sizeof(*out));
  out->action = o->action;
  out->result = o->result;
  str_copy(out->parent_id, o->parent, sizeof(out->parent_id));
  str_copy(out->expected_id, o->expected, sizeof(out->expected_id));
  out->expected_missing = o->missing;
  out->tags_read = o->tags_read;
  out->read_at = o->read_ago < 0 ? 0 : NOW - o->read_ago;
  out->at = NOW - o->at_ago;
}

static void run_row(const struct row *r, size_t naccounts)
{
  json_t *a = pt_build(ACCT, r->acct), *tags = NULL, *cm = NULL;
  struct val_snap sn = { 0 };
  struct val_obs obs;
  struct val_step s;
  struct opcfg cfg;
  char err[256];
  bool no_cm = r->cm && !strcmp(r->cm, "null");

  if (!no_cm) {
    cm = pt_build(CM, r->cm);
    ck_assert_msg(opcfg_parse(&cfg, cm, err, sizeof(err)) == 0, "%s", err);
    sn.cfg = &cfg;
  }
  if (r->obs.set) {
    fill_obs(&r->obs, &obs);
    sn.obs = &obs;
  }
  if (r->tags)
    sn.obs_tags = tags = pt_load(r->tags);
  sn.account = a;
  sn.now = NOW + r->now_off;
  sn.start = START;
  sn.period_ms = PERIOD_S * 1000ull;
  sn.phase = 0.5;
  sn.naccounts = naccounts;
  /* rows named "9 ...": nine accounts opting in */
  sn.accounts_opting_in = !strncmp(r->name, "9 ", 2) ? 9 : 0;
  ck_assert_int_eq(val_plan(&sn, &s), 0);
  ck_assert_msg(s.action == r->want, "row '%s': action %s want %s (%s)",
                r->name, val_action_name(s.action), val_action_name(r->want),
                s.why);
  ck_assert_msg(s.requeue_ms == (uint64_t)r->requeue_s * 1000,
                "row '%s': requeue %llu", r->name,
                (unsigned long long)s.requeue_ms);
  check(r, &s, r->expect);
  check(r, &s, r->expect2);
  if (s.action == VAL_DELETE)
    ck_assert_str_eq(s.target_name, "a1");
  val_step_cleanup(&s);
  if (sn.cfg)
    opcfg_cleanup(&cfg);
  json_decref(cm);
  json_decref(tags);
  json_decref(a);
}

START_TEST(account_table)
{
  run_row(&rows[_i], 1);
}
END_TEST

START_TEST(fleet_table)
{
  run_row(&fleet_rows[_i].r, fleet_rows[_i].naccounts);
}
END_TEST

/* ---- AccountPoolValidation ---------------------------------------------- */

#define POOL                                                                   \
  "{\"kind\":\"AccountPool\",\"metadata\":{\"name\":\"hive\",\"namespace\":"   \
  "\"aws-account-operator\"},\"spec\":{\"poolSize\":3}}"
/* An Account of hive whose spec quotas are the pool's. */
#define PACCT                                                                  \
  "{\"kind\":\"Account\",\"metadata\":{\"name\":\"p1\",\"namespace\":"         \
  "\"aws-account-operator\",\"ownerReferences\":[{\"kind\":\"AccountPool\","   \
  "\"name\":\"hive\"}]},\"spec\":{\"accountPool\":\"hive\","                   \
  "\"regionalServiceQuotas\":{\"default\":{\"L-1216C47A\":{\"value\":750,"     \
  "\"status\":\"\"}},\"us-east-1\":{\"L-0EA8095F\":{\"value\":200}}},"         \
  "\"globalServiceQuotas\":{\"L-FE177D64\":{\"value\":5000}}},\"status\":{}}"
#define OLD_750                                                                \
  "{\"spec\":{\"regionalServiceQuotas\":{\"default\":{\"L-1216C47A\":{"        \
  "\"value\":500}}}}}"
#define STALE_STATUS                                                           \
  "{\"status\":{\"regionalServiceQuotas\":{\"us-west-2\":{\"L-1216C47A\":{"    \
  "\"value\":500,\"status\":\"COMPLETED\"}}}}}"
#define GOOD_STATUS                                                            \
  "{\"status\":{\"regionalServiceQuotas\":{\"us-east-1\":{\"L-1216C47A\":{"    \
  "\"value\":750,\"status\":\"COMPLETED\"},\"L-0EA8095F\":{\"value\":200}}},"  \
  "\"globalServiceQuotas\":{\"L-FE177D64\":{\"value\":5000}}}}"
#define PON "{\"feature.accountpool_validation\":\"true\"}"

struct prow {
  const char *name;
  const char *accounts; /* JSON array of patches over PACCT */
  const char *cm;
  bool reported; /* the last report's signature is this drift's */
  enum pv_action want;
  const char *expect[3];
};

static const struct prow prows[] = {
  { "no drift", "[{}]", PON, false, PV_DONE, { NULL } },
  { "drift, flag on: the spec takes the pool's quotas",
    "[" OLD_750 "]",
    PON,
    false,
    PV_ACCOUNT_UPDATE,
    { "str=metadata.name=p1", "str=spec.accountPool=hive", NULL } },
  { "drift, flag off: reported",
    "[{}," OLD_750 "]",
    NULL,
    false,
    PV_REPORT,
    { NULL } },
  { "drift, flag off, already reported: done",
    "[" OLD_750 "]",
    NULL,
    true,
    PV_DONE,
    { NULL } },
  { "global quota drift",
    "[{\"spec\":{\"globalServiceQuotas\":{\"L-FE177D64\":{\"value\":1}}}}]",
    PON,
    false,
    PV_ACCOUNT_UPDATE,
    { NULL } },
  { "an extra region in the spec is drift",
    "[{\"spec\":{\"regionalServiceQuotas\":{\"eu-west-1\":{}}}}]",
    PON,
    false,
    PV_ACCOUNT_UPDATE,
    { NULL } },
  { "spec right, status stale: reset",
    "[" STALE_STATUS "]",
    PON,
    false,
    PV_ACCOUNT_RESET,
    { "str=metadata.name=p1", NULL } },
  { "spec right, status right: done",
    "[" GOOD_STATUS "]",
    PON,
    false,
    PV_DONE,
    { NULL } },
  { "spec right, status stale, flag off: nothing",
    "[" STALE_STATUS "]",
    NULL,
    false,
    PV_DONE,
    { NULL } },
  { "paused account skipped",
    "[{\"metadata\":{\"annotations\":{\"aws.managed.openshift.com/"
    "pause-reconciliation\":\"true\"}},\"spec\":{\"regionalServiceQuotas\":"
    "{}}}]",
    PON,
    false,
    PV_DONE,
    { NULL } },
  { "another pool's account skipped",
    "[{\"metadata\":{\"ownerReferences\":[{\"kind\":\"AccountPool\","
    "\"name\":\"other\"}]},\"spec\":{\"accountPool\":\"other\","
    "\"regionalServiceQuotas\":{}}}]",
    PON,
    false,
    PV_DONE,
    { NULL } },
  { "pool not in the ConfigMap: done",
    "[" OLD_750 "]",
    "{\"accountpool\":\"other:\\n  default: true\\n\","
    "\"feature.accountpool_validation\":\"true\"}",
    false,
    PV_DONE,
    { NULL } },
};

static void run_prow(const struct prow *r)
{
  json_t *pool = pt_load(POOL), *cm = pt_build(CM, r->cm), *patches, *p;
  json_t *accts[4];
  struct pv_snap sn = { 0 };
  struct pv_obs obs = { 0 };
  struct pv_step s;
  struct opcfg cfg;
  char err[256], msg[600];
  size_t i, n = 0;

  ck_assert_msg(opcfg_parse(&cfg, cm, err, sizeof(err)) == 0, "%s", err);
  patches = pt_load(r->accounts);
  json_array_foreach(patches, i, p)
  {
    accts[n] = pt_load(PACCT);
    pt_merge(accts[n++], p);
  }
  sn.pool = pool;
  sn.accounts = (const json_t *const *)accts;
  sn.naccounts = n;
  sn.cfg = &cfg;
  if (r->reported) { /* the signature the same drift had */
    ck_assert_int_eq(pv_plan(&sn, &s), 0);
    obs.sig = s.sig;
    ck_assert_uint_ne(obs.sig, 0);
    pv_step_cleanup(&s);
    sn.obs = &obs;
  }
  ck_assert_int_eq(pv_plan(&sn, &s), 0);
  ck_assert_msg(s.action == r->want, "row '%s': action %s want %s (%s)",
                r->name, pv_action_name(s.action), pv_action_name(r->want),
                s.why);
  for (i = 0; i < 3 && r->expect[i]; i++) {
    const char *e = pt_check_obj(s.object_new, r->expect[i], msg, sizeof(msg));

    ck_assert_msg(!e, "row '%s': %s", r->name, e);
  }
  if (s.action == PV_ACCOUNT_UPDATE) { /* the pool's quotas, exactly */
    const struct opcfg_pool *cp = opcfg_pool(&cfg, "hive");

    ck_assert(pv_quotas_equal(s.object_new, cp));
    ck_assert_str_eq(s.event.reason, "AccountQuotasUpdated");
  }
  if (s.action == PV_ACCOUNT_RESET) {
    ck_assert_uint_eq(
        json_object_size(obj_get(s.object_new, "status.regionalServiceQuotas")),
        0);
    ck_assert_ptr_nonnull(obj_get(s.object_new, "status.globalServiceQuotas"));
  }
  if (s.action == PV_REPORT) {
    ck_assert_ptr_nonnull(strstr(s.event.message, "p1"));
    ck_assert_str_eq(s.event.reason, "ValidationDryRun");
  }
  pv_step_cleanup(&s);
  opcfg_cleanup(&cfg);
  for (i = 0; i < n; i++)
    json_decref(accts[i]);
  json_decref(patches);
  json_decref(cm);
  json_decref(pool);
}

START_TEST(pool_table)
{
  run_prow(&prows[_i]);
}
END_TEST

/* The report signature does not depend on the cache's order. */
START_TEST(pool_report_order)
{
  json_t *pool = pt_load(POOL), *cm = pt_build(CM, NULL);
  json_t *a = pt_build(PACCT, OLD_750), *b = pt_build(PACCT, OLD_750);
  const json_t *ab[2], *ba[2];
  struct pv_snap sn = { 0 };
  struct pv_step s;
  struct opcfg cfg;
  char err[256];
  uint64_t s1;

  obj_set_str(b, "metadata.name", "p2");
  ab[0] = ba[1] = a;
  ab[1] = ba[0] = b;
  ck_assert_int_eq(opcfg_parse(&cfg, cm, err, sizeof(err)), 0);
  sn.pool = pool;
  sn.cfg = &cfg;
  sn.naccounts = 2;
  sn.accounts = ab;
  ck_assert_int_eq(pv_plan(&sn, &s), 0);
  s1 = s.sig;
  pv_step_cleanup(&s);
  sn.accounts = ba;
  ck_assert_int_eq(pv_plan(&sn, &s), 0);
  ck_assert_uint_eq(s.sig, s1);
  pv_step_cleanup(&s);
  opcfg_cleanup(&cfg);
  json_decref(a);
  json_decref(b);
  json_decref(cm);
  json_decref(pool);
}
END_TEST

/* Bad input never crashes. */
START_TEST(malformed_inputs)
{
  json_t *a = pt_load("{\"metadata\":3,\"spec\":{\"awsAccountID\":7},"
                      "\"status\":{\"state\":[]}}");
  json_t *cm = pt_build(CM, NULL);
  const json_t *accts[1] = { a };
  struct val_snap sn = { 0 };
  struct pv_snap ps = { 0 };
  struct val_step s;
  struct pv_step p;
  struct opcfg cfg;
  char err[256];

  ck_assert_int_eq(opcfg_parse(&cfg, cm, err, sizeof(err)), 0);
  ck_assert_int_eq(val_plan(&sn, &s), OP_EINVAL);
  sn.account = a;
  sn.cfg = &cfg;
  ck_assert_int_eq(val_plan(&sn, &s), 0);
  ck_assert_int_eq(s.action, VAL_DONE);
  val_step_cleanup(&s);
  ck_assert_int_eq(pv_plan(&ps, &p), OP_EINVAL);
  ps.pool = a;
  ps.accounts = accts;
  ps.naccounts = 1;
  ps.cfg = &cfg;
  ck_assert_int_eq(pv_plan(&ps, &p), 0);
  pv_step_cleanup(&p);
  opcfg_cleanup(&cfg);
  json_decref(cm);
  json_decref(a);
}
END_TEST

static Suite *plan_validation_suite(void)
{
  Suite *s = suite_create("plan_validation");
  TCase *tc = tcase_create("table");

  tcase_add_loop_test(tc, account_table, 0,
                      (int)(sizeof(rows) / sizeof(rows[0])));
  tcase_add_loop_test(tc, fleet_table, 0,
                      (int)(sizeof(fleet_rows) / sizeof(fleet_rows[0])));
  tcase_add_loop_test(tc, pool_table, 0,
                      (int)(sizeof(prows) / sizeof(prows[0])));
  tcase_add_test(tc, pool_report_order);
  tcase_add_test(tc, malformed_inputs);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(plan_validation_suite)
