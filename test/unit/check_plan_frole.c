/* pkg/controllers/federatedrole/plan: the AWSFederatedRole decisions,
 * table driven (fixtures/plans/frole_rows.inc). */
#include <string.h>

#include "controllers/common/opcfg.h"
#include "controllers/federatedrole/plan.h"
#include "controllers/federatedrole/policy.h"
#include "fixtures/plans/plantest.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define ROLE                                                                   \
  "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\",\"kind\":"            \
  "\"AWSFederatedRole\",\"metadata\":{\"name\":\"read-only\",\"namespace\":"   \
  "\"aws-account-operator\",\"uid\":\"role-uid\",\"generation\":2,"            \
  "\"finalizers\":[\"finalizer.aws.managed.openshift.io\"]},\"spec\":{"        \
  "\"roleDisplayName\":\"Read only\",\"roleDescription\":\"d\","               \
  "\"awsCustomPolicy\":{\"name\":\"BillingReadOnlyAccess\",\"description\":"   \
  "\"d\",\"awsStatements\":[{\"effect\":\"Allow\",\"action\":["                \
  "\"aws-portal:ViewAccount\"],\"resource\":[\"*\"]}]},"                       \
  "\"awsManagedPolicies\":[\"AmazonEC2ReadOnlyAccess\"]}}"
#define ACCESS                                                                 \
  "{\"kind\":\"AWSFederatedAccountAccess\",\"metadata\":{\"name\":\"acc\","    \
  "\"namespace\":\"team\",\"labels\":{\"awsFederatedRoleName\":"               \
  "\"read-only\"}},\"spec\":{\"awsFederatedRole\":{\"name\":\"read-only\","    \
  "\"namespace\":\"aws-account-operator\"}}}"

enum { F_NO_CM = 1, F_FEDRAMP = 2, F_OLD_OBS = 4 };

struct row {
  const char *name;
  const char *role;
  const char *accesses;
  int flags;
  const struct frole_obs *obs;
  enum frole_action want;
  long long requeue_s;
  const char *msg; /* substring of the verdict condition's message */
  const char *expect[4];
};

#include "fixtures/plans/frole_rows.inc"

static const char *verdict_msg(const json_t *o)
{
  const json_t *c;
  size_t i;

  json_array_foreach(obj_get(o, "status.conditions"), i, c)
  {
    if (str_eq(obj_str(c, "status"), "True"))
      return obj_str0(c, "message");
  }
  return "";
}

START_TEST(plan_rows)
{
  const struct row *r = &rows[_i];
  json_t *role = pt_build(ROLE, r->role), *acc[4] = { NULL }, *p, *ps = NULL;
  struct frole_snap sn = { 0 };
  struct frole_step s;
  struct frole_obs ob;
  struct opcfg cfg = { 0 };
  char msg[256];
  size_t i, n = 0;

  if (r->accesses) {
    ps = pt_load(r->accesses);
    json_array_foreach(ps, i, p)
    {
      acc[n] = pt_load(ACCESS);
      pt_merge(acc[n++], p);
    }
  }
  cfg.fedramp = (r->flags & F_FEDRAMP) != 0;
  sn.cfg = (r->flags & F_NO_CM) ? NULL : &cfg;
  sn.role = role;
  sn.accesses = (const json_t *const *)acc;
  sn.naccesses = n;
  sn.now = PT_T0;
  if (r->obs) {
    ob = *r->obs;
    if (r->flags & F_OLD_OBS)
      ob.generation = 1;
    sn.obs = &ob;
  }
  ck_assert_int_eq(frole_plan(&sn, &s), 0);
  ck_assert_msg(s.action == r->want, "row '%s': action %s want %s (%s)",
                r->name, frole_action_name(s.action),
                frole_action_name(r->want), s.why);
  ck_assert_msg(s.requeue_ms == (uint64_t)r->requeue_s * 1000,
                "row '%s': requeue %llu", r->name,
                (unsigned long long)s.requeue_ms);
  if (r->msg)
    ck_assert_msg(strstr(verdict_msg(s.object_new), r->msg),
                  "row '%s': message '%s'", r->name, verdict_msg(s.object_new));
  for (i = 0; i < 4 && r->expect[i]; i++) {
    const char *e = pt_check_obj(s.object_new, r->expect[i], msg, sizeof(msg));

    ck_assert_msg(!e, "row '%s': %s", r->name, e);
  }
  if (s.action == FROLE_DELETE_ACCESS) {
    ck_assert_str_eq(s.target_ns, "team");
    ck_assert_str_eq(s.target_name, "a1");
  }
  if (s.action == FROLE_PROBE_POLICY) {
    ck_assert_str_eq(s.probe_name, "frole-probe-role-uid-2");
    ck_assert_ptr_nonnull(strstr(s.doc, "\"Effect\":\"Allow\""));
  }
  frole_step_cleanup(&s);
  for (i = 0; i < n; i++)
    json_decref(acc[i]);
  json_decref(ps);
  json_decref(role);
}
END_TEST

/* The document sent to IAM keeps the statements' fields. */
START_TEST(policy_doc)
{
  json_t *c = pt_load("{\"name\":\"n\",\"awsStatements\":[{\"effect\":"
                      "\"Allow\",\"action\":[\"s3:Get*\"],\"resource\":"
                      "[\"arn:aws:s3:::b/*\"],\"condition\":{\"StringLike\":"
                      "{\"s3:prefix\":\"home/*\"}}}]}");
  char *d = frole_policy_doc_new(c), msg[256];

  ck_assert_str_eq(d, "{\"Version\":\"2012-10-17\",\"Statement\":[{"
                      "\"Effect\":\"Allow\",\"Action\":[\"s3:Get*\"],"
                      "\"Resource\":[\"arn:aws:s3:::b/*\"],\"Condition\":{"
                      "\"StringLike\":{\"s3:prefix\":\"home/*\"}}}]}");
  ck_assert_int_eq(frole_policy_check(c, msg, sizeof(msg)), 0);
  free(d);
  json_decref(c);
}
END_TEST

/* Accepted and refused forms, one field at a time. */
START_TEST(policy_forms)
{
  static const struct {
    const char *stmt;
    int bad;
  } t[] = {
    { "{\"effect\":\"Allow\",\"action\":[\"*\"]}", 0 },
    { "{\"effect\":\"Allow\",\"action\":[\"ec2:*\",\"s3:Get?bject\"]}", 0 },
    { "{\"effect\":\"Allow\",\"action\":[\"EC2:Describe\"]}", 0 },
    { "{\"effect\":\"Allow\",\"action\":[\"ec2 :Describe\"]}", 1 },
    { "{\"effect\":\"Allow\",\"action\":[\"s3:Get:Object\"]}", 1 },
    { "{\"effect\":\"Allow\",\"action\":[\"ec2:\"]}", 1 },
    { "{\"effect\":\"Allow\",\"action\":[]}", 1 },
    { "{\"effect\":\"Allow\"}", 1 },
    { "{\"effect\":\"Allow\",\"action\":[\"s3:*\"],\"resource\":["
      "\"arn:aws:iam::123456789012:role/x\"]}",
      0 },
    { "{\"effect\":\"Allow\",\"action\":[\"s3:*\"],\"resource\":["
      "\"arn:aws::::x\"]}",
      1 },
    { "{\"effect\":\"Allow\",\"action\":[\"s3:*\"],\"resource\":["
      "\"arn:aws:s3:::\"]}",
      1 },
    { "{\"effect\":\"Allow\",\"action\":[\"s3:*\"],\"condition\":{"
      "\"ForAnyValue:StringLikeIfExists\":{\"k\":[\"a\",\"b\"]}}}",
      0 },
    { "{\"effect\":\"Allow\",\"action\":[\"s3:*\"],\"condition\":{"
      "\"StringLike\":{}}}",
      1 },
    { "{\"effect\":\"Allow\",\"action\":[\"s3:*\"],\"principal\":{\"AWS\":["
      "\"123456789012\",\"*\",\"arn:aws:iam::123456789012:root\"]}}",
      0 },
  };
  char buf[512], msg[256];
  size_t i;

  for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    json_t *c;

    str_fmt(buf, sizeof(buf), "{\"name\":\"p\",\"awsStatements\":[%s]}",
            t[i].stmt);
    c = pt_load(buf);
    ck_assert_msg(frole_policy_check(c, msg, sizeof(msg)) == t[i].bad, "%s: %s",
                  t[i].stmt, t[i].bad ? "accepted" : msg);
    json_decref(c);
  }
}
END_TEST

static Suite *plan_frole_suite(void)
{
  Suite *s = suite_create("plan_frole");
  TCase *tc = tcase_create("core");

  tcase_add_loop_test(tc, plan_rows, 0, sizeof(rows) / sizeof(rows[0]));
  tcase_add_test(tc, policy_doc);
  tcase_add_test(tc, policy_forms);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(plan_frole_suite)
