/* pkg/controllers/federatedaccess/plan: validation, metadata, the scan
 * cadence, the converging IAM steps and deletion, table driven. Each row:
 * the access and role (patches over ACC and ROLE), the key's observation
 * and its scan (a patch over a converged scan built from the same role)
 * -> the step, its requeue and what it writes or calls. */
#include <stdlib.h>
#include <string.h>

#include "controllers/common/opcfg.h"
#include "controllers/federatedaccess/plan.h"
#include "fixtures/plans/plantest.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define ACC                                                                    \
  "{\"kind\":\"AWSFederatedAccountAccess\",\"metadata\":{\"name\":\"acc\","    \
  "\"namespace\":\"team\",\"uid\":\"uid-1\",\"finalizers\":["                  \
  "\"finalizer.aws.managed.openshift.io\"],\"labels\":{\"uid\":\"abc123\","    \
  "\"awsFederatedRoleName\":\"ro\",\"awsAccountID\":\"111122223333\"}},"       \
  "\"spec\":{\"externalCustomerAWSIAMARN\":"                                   \
  "\"arn:aws:iam::999900001111:user/ext\",\"awsCustomerCredentialSecret\":{"   \
  "\"name\":\"creds\",\"namespace\":\"team\"},\"awsFederatedRole\":{\"name\":" \
  "\"ro\",\"namespace\":\"team\"}},\"status\":{}}"
#define ROLE                                                                   \
  "{\"metadata\":{\"name\":\"ro\",\"namespace\":\"team\"},\"spec\":{"          \
  "\"roleDisplayName\":\"RO\",\"roleDescription\":\"read only\","              \
  "\"awsCustomPolicy\":{\"name\":\"cp\",\"description\":\"d\","                \
  "\"awsStatements\":[{\"effect\":\"Allow\",\"action\":[\"ec2:Describe*\"],"   \
  "\"resource\":[\"*\"]}]},\"awsManagedPolicies\":[\"ReadOnlyAccess\"]},"      \
  "\"status\":{\"state\":\"Valid\"}}"
#define ACCT "111122223333"
#define CP_ARN "arn:aws:iam::" ACCT ":policy/cp-abc123"
#define RO_ARN "arn:aws:iam::aws:policy/ReadOnlyAccess"
#define READY                                                                  \
  "{\"status\":{\"state\":\"Ready\",\"consoleURL\":\"https://"                 \
  "signin.aws.amazon.com/switchrole?account=" ACCT "&roleName=ro-abc123\","    \
  "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"message\":"       \
  "\"Account Access Ready\"}]}}"
#define DEL "{\"metadata\":{\"deletionTimestamp\":\"2026-01-01T00:00:00Z\"}}"

enum { F_NO_CM = 1, F_NO_SECRET = 2, F_NO_ROLE = 4, F_GOV = 8 };
enum { NO_OBS = -1 };

struct row {
  const char *name;
  const char *access, *role;
  int flags;
  int obs_action; /* NO_OBS or an fa_action */
  int obs_result;
  const char *obs_code;
  int obs_age_s;
  int obs_creds;
  const char *scan; /* patch over the converged scan */
  enum fa_action want;
  long long requeue_s;
  const char *expect[3]; /* on object_new */
  const char *field;     /* "name=value" of the step, "doc~sub" */
};

#define SCAN(p) FA_SCAN, 0, NULL, 5, FA_CREDS_SECRET, p

static const struct row rows[] = {
  /* validation and metadata */
  { "Secret in another namespace: Failed, Invalid spec",
    "{\"spec\":{\"awsCustomerCredentialSecret\":{\"namespace\":\"other\"}}}",
    NULL,
    0,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_UPDATE_STATUS,
    0,
    { "str=status.state=Failed", "cond=Failed=Failed" },
    NULL },
  { "already Failed with that message: done, no requeue",
    "{\"spec\":{\"awsCustomerCredentialSecret\":{\"namespace\":\"other\"}},"
    "\"status\":{\"state\":\"Failed\",\"conditions\":[{\"type\":\"Failed\","
    "\"status\":\"True\",\"message\":\"Invalid spec: the credential Secret "
    "must be in the access's namespace team, not 'other'\"}]}}",
    NULL,
    0,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_DONE,
    0,
    { NULL },
    NULL },
  { "role missing: Failed",
    NULL,
    NULL,
    F_NO_ROLE,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_UPDATE_STATUS,
    0,
    { "str=status.state=Failed" },
    NULL },
  { "no finalizer: add it",
    "{\"metadata\":{\"finalizers\":null}}",
    NULL,
    0,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_UPDATE,
    0,
    { "fin" },
    NULL },
  { "no uid label: derived from metadata.uid, role label set",
    "{\"metadata\":{\"labels\":{\"uid\":null,\"awsFederatedRoleName\":null}}}",
    NULL,
    0,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_UPDATE,
    0,
    { "label=awsFederatedRoleName=ro" },
    NULL },
  { "role not Valid: InProgress, requeue 30 s",
    NULL,
    "{\"status\":{\"state\":\"Invalid\"}}",
    0,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_UPDATE_STATUS,
    30,
    { "str=status.state=InProgress" },
    NULL },
  { "no ConfigMap: wait",
    NULL,
    NULL,
    F_NO_CM,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_DONE,
    30,
    { NULL },
    NULL },
  { "Secret missing: Failed, retry in a minute",
    NULL,
    NULL,
    F_NO_SECRET,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_UPDATE_STATUS,
    60,
    { "str=status.state=Failed" },
    NULL },
  /* the scan cadence */
  { "no observation: scan",
    NULL,
    NULL,
    0,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_SCAN,
    0,
    { NULL },
    "role_name=ro-abc123" },
  { "scan names the custom policy",
    NULL,
    NULL,
    0,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_SCAN,
    0,
    { NULL },
    "policy_name=cp-abc123" },
  { "after an IAM change: scan again",
    NULL,
    NULL,
    0,
    FA_ATTACH,
    0,
    NULL,
    1,
    0,
    NULL,
    FA_SCAN,
    0,
    { NULL },
    NULL },
  { "stale scan (10 min): resync",
    READY,
    NULL,
    0,
    FA_SCAN,
    0,
    NULL,
    601,
    0,
    "{}",
    FA_SCAN,
    0,
    { NULL },
    NULL },
  { "lastRoleUpdate changed since the scan: rescan",
    "{\"metadata\":{\"annotations\":{\"lastRoleUpdate\":\"t2\"}}}",
    NULL,
    0,
    SCAN("{}"),
    FA_SCAN,
    0,
    { NULL },
    "role_update=t2" },
  /* converging */
  { "converged: Ready with the console URL",
    NULL,
    NULL,
    0,
    SCAN("{}"),
    FA_UPDATE_STATUS,
    600,
    { "str=status.state=Ready", "cond=Ready=Ready",
      "str=status.consoleURL=https://signin.aws.amazon.com/switchrole?"
      "account=" ACCT "&roleName=ro-abc123" },
    NULL },
  { "converged and Ready: done, resync in 10 min",
    READY,
    NULL,
    0,
    SCAN("{}"),
    FA_DONE,
    600,
    { NULL },
    NULL },
  { "GovCloud: the console URL of the partition",
    NULL,
    NULL,
    F_GOV,
    SCAN("{\"attached\":[\"arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess\","
         "\"arn:aws-us-gov:iam::" ACCT ":policy/cp-abc123\"]}"),
    FA_UPDATE_STATUS,
    600,
    { "str=status.consoleURL=https://signin.amazonaws-us-gov.com/switchrole?"
      "account=" ACCT "&roleName=ro-abc123" },
    NULL },
  { "account label differs: set it",
    "{\"metadata\":{\"labels\":{\"awsAccountID\":null}}}",
    NULL,
    0,
    SCAN("{}"),
    FA_UPDATE,
    0,
    { "label=awsAccountID=" ACCT },
    NULL },
  { "no custom policy: create it",
    NULL,
    NULL,
    0,
    SCAN("{\"policy\":null}"),
    FA_CREATE_POLICY,
    0,
    { NULL },
    "doc~ec2:Describe*" },
  { "custom policy drifted: new default version",
    NULL,
    NULL,
    0,
    SCAN("{\"policy\":{\"doc\":\"{\\\"Version\\\":\\\"2012-10-17\\\","
         "\\\"Statement\\\":[]}\"}}"),
    FA_CREATE_POLICY_VER,
    0,
    { NULL },
    "policy_arn=" CP_ARN },
  { "drifted at the 5-version limit: delete the oldest non-default",
    NULL,
    NULL,
    0,
    SCAN("{\"policy\":{\"doc\":\"{}\",\"default\":\"v2\",\"versions\":["
         "\"v7\",\"v5\",\"v2\",\"v3\",\"v4\"]}}"),
    FA_DELETE_POLICY_VER,
    0,
    { NULL },
    "version_id=v3" },
  { "one-element lists compare equal to scalars",
    NULL,
    NULL,
    0,
    SCAN("{\"policy\":{\"doc\":\"{\\\"Version\\\":\\\"2012-10-17\\\","
         "\\\"Statement\\\":{\\\"Effect\\\":\\\"Allow\\\",\\\"Action\\\":"
         "\\\"ec2:Describe*\\\",\\\"Resource\\\":\\\"*\\\"}}\"}}"),
    FA_UPDATE_STATUS,
    600,
    { "str=status.state=Ready" },
    NULL },
  { "no role: create it trusting the principal",
    NULL,
    NULL,
    0,
    SCAN("{\"role\":null,\"attached\":[]}"),
    FA_CREATE_ROLE,
    0,
    { NULL },
    "doc~arn:aws:iam::999900001111:user/ext" },
  { "trust drifted: update it",
    NULL,
    NULL,
    0,
    SCAN("{\"role\":{\"trust\":\"{}\"}}"),
    FA_UPDATE_TRUST,
    0,
    { NULL },
    "role_name=ro-abc123" },
  { "managed policy not attached: attach",
    NULL,
    NULL,
    0,
    SCAN("{\"attached\":[\"" CP_ARN "\"]}"),
    FA_ATTACH,
    0,
    { NULL },
    "policy_arn=" RO_ARN },
  { "custom policy not attached: attach",
    NULL,
    NULL,
    0,
    SCAN("{\"attached\":[\"" RO_ARN "\"]}"),
    FA_ATTACH,
    0,
    { NULL },
    "policy_arn=" CP_ARN },
  { "a foreign policy attached: detach",
    NULL,
    NULL,
    0,
    SCAN("{\"attached\":[\"" RO_ARN "\",\"" CP_ARN "\","
         "\"arn:aws:iam::aws:policy/AdministratorAccess\"]}"),
    FA_DETACH,
    0,
    { NULL },
    "policy_arn=arn:aws:iam::aws:policy/AdministratorAccess" },
  { "role without custom policy: only managed ones",
    NULL,
    "{\"spec\":{\"awsCustomPolicy\":null}}",
    0,
    SCAN("{\"policy\":null}"),
    FA_DETACH,
    0,
    { NULL },
    "policy_arn=" CP_ARN },
  /* failures */
  { "CreateRole failed: Failed with upstream's message and the code",
    NULL,
    NULL,
    0,
    FA_CREATE_ROLE,
    OP_EAWS,
    "MalformedPolicyDocument",
    1,
    0,
    NULL,
    FA_UPDATE_STATUS,
    59,
    { "str=status.state=Failed" },
    NULL },
  { "failed scan, recorded, a minute later: scan again",
    "{\"status\":{\"state\":\"Failed\",\"conditions\":[{\"type\":\"Failed\","
    "\"status\":\"True\",\"message\":\"Failed to read the target account: "
    "InvalidClientTokenId\"}]}}",
    NULL,
    0,
    FA_SCAN,
    OP_EAWS,
    "InvalidClientTokenId",
    61,
    0,
    NULL,
    FA_SCAN,
    0,
    { NULL },
    NULL },
  /* deletion */
  { "deleting, never provisioned: remove the finalizer",
    "{\"metadata\":{\"deletionTimestamp\":\"x\",\"labels\":{\"uid\":null}}}",
    NULL,
    0,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_REMOVE_FINALIZER,
    0,
    { "nofin" },
    NULL },
  { "deleting: scan for the policies",
    DEL,
    NULL,
    0,
    SCAN("{}"),
    FA_SCAN,
    0,
    { NULL },
    "deleting=1" },
  { "deleting: detach first",
    DEL,
    NULL,
    0,
    SCAN("{\"orphans\":[{\"arn\":\"" CP_ARN "\",\"default\":\"v1\","
         "\"versions\":[\"v1\"]}]}"),
    FA_DETACH,
    0,
    { NULL },
    "policy_arn=" RO_ARN },
  { "deleting: non-default versions before the policy",
    DEL,
    NULL,
    0,
    SCAN("{\"attached\":[],\"orphans\":[{\"arn\":\"" CP_ARN "\",\"default\":"
         "\"v2\",\"versions\":[\"v2\",\"v1\"]}]}"),
    FA_DELETE_POLICY_VER,
    0,
    { NULL },
    "version_id=v1" },
  { "deleting: then the policy",
    DEL,
    NULL,
    0,
    SCAN("{\"attached\":[],\"orphans\":[{\"arn\":\"" CP_ARN "\",\"default\":"
         "\"v2\",\"versions\":[\"v2\"]}]}"),
    FA_DELETE_POLICY,
    0,
    { NULL },
    "policy_arn=" CP_ARN },
  { "deleting: then the role (role CR gone is fine)",
    DEL,
    NULL,
    F_NO_ROLE,
    SCAN("{\"attached\":[],\"orphans\":[]}"),
    FA_DELETE_ROLE,
    0,
    { NULL },
    "role_name=ro-abc123" },
  { "deleting: all gone, remove the finalizer",
    DEL,
    NULL,
    0,
    SCAN("{\"role\":null,\"attached\":[],\"orphans\":[]}"),
    FA_REMOVE_FINALIZER,
    0,
    { "nofin" },
    NULL },
  { "deleting: NoSuchEntity is success",
    DEL,
    NULL,
    0,
    FA_DELETE_ROLE,
    OP_EAWS,
    "NoSuchEntity",
    1,
    0,
    NULL,
    FA_SCAN,
    0,
    { NULL },
    NULL },
  { "deleting: Secret's keys failed: OrganizationAccountAccessRole",
    DEL,
    NULL,
    0,
    FA_SCAN,
    OP_EAWS,
    "InvalidClientTokenId",
    1,
    FA_CREDS_SECRET,
    NULL,
    FA_SCAN,
    0,
    { NULL },
    "creds=1" },
  { "deleting: the fallback role worked: it stays in use",
    DEL,
    NULL,
    0,
    FA_DETACH,
    0,
    NULL,
    1,
    FA_CREDS_ORG_ROLE,
    NULL,
    FA_SCAN,
    0,
    { NULL },
    "creds=1" },
  { "deleting: Secret gone: OrganizationAccountAccessRole",
    DEL,
    NULL,
    F_NO_SECRET,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_SCAN,
    0,
    { NULL },
    "account_id=" ACCT },
  { "deleting: both failed: wait a minute",
    DEL,
    NULL,
    0,
    FA_SCAN,
    OP_EAWS,
    "AccessDenied",
    10,
    FA_CREDS_ORG_ROLE,
    NULL,
    FA_DONE,
    50,
    { NULL },
    NULL },
  { "deleting: no Secret and no account id: nothing to clean up",
    "{\"metadata\":{\"deletionTimestamp\":\"x\",\"labels\":{\"awsAccountID\":"
    "null}}}",
    NULL,
    F_NO_SECRET,
    NO_OBS,
    0,
    NULL,
    0,
    0,
    NULL,
    FA_REMOVE_FINALIZER,
    0,
    { "nofin" },
    NULL },
};

/* The converged scan of ROLE for ACC, with patch merged. */
static json_t *scan_new(const json_t *role, const char *patch)
{
  char *trust = fa_trust_doc("arn:aws:iam::999900001111:user/ext");
  char *doc = fa_policy_doc(role);
  json_t *s = json_pack("{s:s,s:{s:s},s:[s,s],s:{s:s,s:s,s:s,s:[s]}}",
                        "account", ACCT, "role", "trust", trust, "attached",
                        RO_ARN, CP_ARN, "policy", "arn", CP_ARN, "doc",
                        doc ? doc : "", "default", "v1", "versions", "v1");
  json_t *p = pt_load(patch);

  pt_merge(s, p);
  json_decref(p);
  free(trust);
  free(doc);
  return s;
}

static const char *step_field(const struct fa_step *s, const char *name,
                              char *tmp)
{
  if (!strcmp(name, "role_name"))
    return s->role_name;
  if (!strcmp(name, "policy_name"))
    return s->policy_name;
  if (!strcmp(name, "policy_arn"))
    return s->policy_arn;
  if (!strcmp(name, "version_id"))
    return s->version_id;
  if (!strcmp(name, "account_id"))
    return s->account_id;
  if (!strcmp(name, "role_update"))
    return s->role_update;
  if (!strcmp(name, "doc"))
    return s->doc ? s->doc : "";
  if (!strcmp(name, "deleting"))
    return s->deleting ? "1" : "0";
  if (!strcmp(name, "creds")) {
    tmp[0] = (char)('0' + (int)s->creds);
    tmp[1] = 0;
    return tmp;
  }
  return "?";
}

static void check_field(const struct row *r, const struct fa_step *s)
{
  char buf[256], tmp[4], *sep;
  const char *got;
  bool sub;

  if (!r->field)
    return;
  str_copy(buf, r->field, sizeof(buf));
  sep = strpbrk(buf, "=~");
  ck_assert_ptr_nonnull(sep);
  sub = *sep == '~';
  *sep++ = 0;
  got = step_field(s, buf, tmp);
  ck_assert_msg(sub ? strstr(got, sep) != NULL : str_eq(got, sep),
                "row '%s': %s is '%s', want %s'%s'", r->name, buf, got,
                sub ? "containing " : "", sep);
}

static void run_row(const struct row *r)
{
  json_t *acc = pt_build(ACC, r->access), *role = pt_build(ROLE, r->role);
  json_t *cm = pt_load((r->flags & F_GOV) ? "{\"fedramp\":\"true\"}" : "{}");
  json_t *scan = r->scan ? scan_new(role, r->scan) : NULL;
  struct fa_obs o = { 0 };
  struct fa_snap sn = { 0 };
  struct fa_step s;
  struct opcfg cfg;
  char err[256], msg[256];
  size_t i;

  ck_assert_int_eq(opcfg_parse(&cfg, cm, err, sizeof(err)), 0);
  sn.access = acc;
  sn.role = (r->flags & F_NO_ROLE) ? NULL : role;
  sn.cfg = (r->flags & F_NO_CM) ? NULL : &cfg;
  sn.secret_ok = !(r->flags & F_NO_SECRET);
  sn.now = PT_T0;
  if (r->obs_action != NO_OBS) {
    o.action = (enum fa_action)r->obs_action;
    o.result = r->obs_result;
    str_copy(o.aws_code, r->obs_code ? r->obs_code : "", sizeof(o.aws_code));
    o.at = PT_T0 - r->obs_age_s;
    o.creds = (enum fa_creds)r->obs_creds;
    str_copy(o.role_update, "", sizeof(o.role_update));
    if (obj_annotation(acc, FA_ANN_ROLE_UPDATE))
      str_copy(o.role_update, obj_annotation(acc, FA_ANN_ROLE_UPDATE),
               sizeof(o.role_update));
    if (!strcmp(r->name, "lastRoleUpdate changed since the scan: rescan"))
      str_copy(o.role_update, "t1", sizeof(o.role_update));
    sn.obs = &o;
    sn.scan = scan;
  }
  ck_assert_int_eq(fa_plan(&sn, &s), 0);
  ck_assert_msg(s.action == r->want, "row '%s': action %s want %s (%s)",
                r->name, fa_action_name(s.action), fa_action_name(r->want),
                s.why);
  ck_assert_msg(s.requeue_ms == (uint64_t)r->requeue_s * 1000,
                "row '%s': requeue %llu", r->name,
                (unsigned long long)s.requeue_ms);
  for (i = 0; i < 3 && r->expect[i]; i++) {
    const char *e = pt_check_obj(s.object_new, r->expect[i], msg, sizeof(msg));

    ck_assert_msg(!e, "row '%s': %s", r->name, e);
  }
  check_field(r, &s);
  fa_step_cleanup(&s);
  opcfg_cleanup(&cfg);
  json_decref(scan);
  json_decref(cm);
  json_decref(role);
  json_decref(acc);
}

START_TEST(table)
{
  run_row(&rows[_i]);
}
END_TEST

/* The documents: the role's statements in IAM's shape, the trust. */
START_TEST(documents)
{
  json_t *role = pt_load(
      "{\"spec\":{\"awsCustomPolicy\":{\"name\":\"n\",\"awsStatements\":[{"
      "\"effect\":\"Deny\",\"action\":[\"s3:*\"],\"resource\":[\"*\"],"
      "\"condition\":{\"StringEquals\":{\"aws:RequestedRegion\":\"eu-west-1\""
      "}},\"principal\":{\"AWS\":[\"arn:aws:iam::1:root\"]}}]}}}");
  char *doc = fa_policy_doc(role), *trust = fa_trust_doc("arn:x");

  ck_assert_str_eq(doc,
                   "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                   "\"Deny\",\"Action\":[\"s3:*\"],\"Resource\":[\"*\"],"
                   "\"Condition\":{\"StringEquals\":{\"aws:RequestedRegion\":"
                   "\"eu-west-1\"}},\"Principal\":{\"AWS\":[\"arn:aws:iam::1:"
                   "root\"]}}]}");
  ck_assert_str_eq(trust, "{\"Version\":\"2012-10-17\",\"Statement\":[{"
                          "\"Effect\":\"Allow\",\"Principal\":{\"AWS\":"
                          "\"arn:x\"},\"Action\":\"sts:AssumeRole\"}]}");
  ck_assert(fa_doc_equal("{\"a\":[1]}", "{\"a\":1}"));
  ck_assert(!fa_doc_equal("{\"a\":[1,2]}", "{\"a\":[2,1]}"));
  ck_assert(!fa_doc_equal(NULL, "{}"));
  ck_assert(!fa_doc_equal("not json", "not json"));
  free(doc);
  free(trust);
  json_decref(role);
  role = pt_load("{\"spec\":{\"awsCustomPolicy\":{\"name\":\"n\"}}}");
  ck_assert_ptr_null(fa_policy_doc(role));
  json_decref(role);
}
END_TEST

/* The uid label is deterministic, and an existing one is kept. */
START_TEST(uid_label)
{
  json_t *acc = pt_build(ACC, "{\"metadata\":{\"labels\":{\"uid\":null}}}");
  struct fa_snap sn = { .access = acc, .secret_ok = true, .now = PT_T0 };
  struct fa_step s1, s2;
  json_t *role = pt_build(ROLE, NULL);

  sn.role = role;
  ck_assert_int_eq(fa_plan(&sn, &s1), 0);
  ck_assert_int_eq(fa_plan(&sn, &s2), 0);
  ck_assert_int_eq(s1.action, FA_UPDATE);
  ck_assert_int_eq(strlen(obj_label(s1.object_new, "uid")), 6);
  ck_assert_str_eq(obj_label(s1.object_new, "uid"),
                   obj_label(s2.object_new, "uid"));
  fa_step_cleanup(&s1);
  fa_step_cleanup(&s2);
  ck_assert_int_eq(fa_plan(NULL, &s1), OP_EINVAL);
  json_decref(role);
  json_decref(acc);
}
END_TEST

static Suite *plan_fedaccess_suite(void)
{
  Suite *s = suite_create("plan_fedaccess");
  TCase *tc = tcase_create("table");

  tcase_add_loop_test(tc, table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
  tcase_add_test(tc, documents);
  tcase_add_test(tc, uid_label);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(plan_fedaccess_suite)
