/* pkg/controllers/federatedrole/exec: the AWSFederatedRole executor
 * against a scripted IAM (ListPolicies pages, CreatePolicy, DeletePolicy)
 * and a recording Kubernetes seam: which calls each action makes, what it
 * observes, the shared managed-policy cache, the crash leftover cleanup. */
#include <string.h>

#include "aws/api.h"
#include "aws/core/creds.h"
#include "aws/core/errors.h"
#include "cache/store.h"
#include "controllers/common/obj.h"
#include "controllers/federatedrole/exec.h"
#include "controllers/federatedrole/plan.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define NS "aws-account-operator"
#define CM                                                                     \
  "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"                            \
  "\"aws-account-operator-configmap\",\"namespace\":\"" NS "\"},"              \
  "\"data\":{\"account-limit\":\"100\"}}"
#define ROLE(managed)                                                          \
  "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\",\"kind\":"            \
  "\"AWSFederatedRole\",\"metadata\":{\"name\":\"r1\",\"namespace\":\"" NS     \
  "\",\"uid\":\"u1\",\"generation\":1,\"resourceVersion\":\"5\","              \
  "\"finalizers\":[\"finalizer.aws.managed.openshift.io\"]},\"spec\":{"        \
  "\"roleDisplayName\":\"r\",\"roleDescription\":\"d\",\"awsCustomPolicy\":{"  \
  "\"name\":\"P\",\"description\":\"d\",\"awsStatements\":[{\"effect\":"       \
  "\"Allow\",\"action\":[\"s3:Get*\"],\"resource\":[\"*\"]}]},"                \
  "\"awsManagedPolicies\":[" managed "]}}"

static struct fx {
  struct store *roles, *accesses, *cm;
  struct aws_api api;
  struct aws_creds *mgmt;
  struct frole_exec *e;
  char acalls[32][96];
  int na;
  char kcalls[16][64];
  int nk;
  json_t *written;
  bool probe_exists; /* CreatePolicy -> EntityAlreadyExists */
  bool malformed;    /* CreatePolicy -> MalformedPolicyDocument */
  int ndone;
  struct ctrl_result res;
} fx;

static void acall(const char *op, const char *a)
{
  ck_assert_int_lt(fx.na, 32);
  str_fmt(fx.acalls[fx.na++], sizeof(fx.acalls[0]), "%s %s", op, a ? a : "");
}

/* Three pages of AWS managed policies; one local page of probes. */
static int f_list(struct aws_api *api, const struct aws_target *t,
                  const struct aws_list_policies_req *rq,
                  aws_list_policies_cb cb, void *arg)
{
  static struct aws_iam_policy p1[] = { { .policy_name = "ReadOnlyAccess",
                                          .path = "/" } };
  static struct aws_iam_policy p2[] = { { .policy_name = "Billing",
                                          .path = "/job-function/" } };
  static struct aws_iam_policy p3[] = {
    { .policy_name = "AmazonEC2ReadOnlyAccess", .path = "/" }
  };
  static struct aws_iam_policy loc[] = {
    { .policy_name = "frole-probe-u1-1",
      .arn = "arn:aws:iam::111:policy/aws-account-operator-probe/"
             "frole-probe-u1-1" },
    { .policy_name = "frole-probe-u2-1",
      .arn = "arn:aws:iam::111:policy/aws-account-operator-probe/"
             "frole-probe-u2-1" },
  };
  struct aws_iam_policies_result r = { 0 };
  const char *m = rq->marker ? rq->marker : "";

  acall("ListPolicies", rq->scope);
  ck_assert_ptr_eq(t->creds, fx.mgmt);
  if (str_eq(rq->scope, "Local")) {
    ck_assert_str_eq(rq->path_prefix, FROLE_PROBE_PATH);
    r.v = loc;
    r.n = 2;
  } else if (!*m) {
    r = (struct aws_iam_policies_result){ p1, 1, true, "m2" };
  } else if (str_eq(m, "m2")) {
    r = (struct aws_iam_policies_result){ p2, 1, true, "m3" };
  } else {
    r = (struct aws_iam_policies_result){ p3, 1, false, NULL };
  }
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_create(struct aws_api *api, const struct aws_target *t,
                    const struct aws_create_policy_req *rq,
                    aws_create_policy_cb cb, void *arg)
{
  static struct aws_error dup = { .code = "EntityAlreadyExists" };
  static struct aws_error bad = { .code = "MalformedPolicyDocument",
                                  .message = "Syntax errors in policy." };
  struct aws_iam_policy_result r = { 0 };

  acall("CreatePolicy", rq->policy_name);
  ck_assert_str_eq(rq->path, FROLE_PROBE_PATH);
  ck_assert_ptr_nonnull(strstr(rq->policy_document, "\"s3:Get*\""));
  if (fx.malformed) {
    cb(OP_EAWS, &bad, NULL, arg);
    return 0;
  }
  if (fx.probe_exists) {
    cb(OP_EEXIST, &dup, NULL, arg);
    return 0;
  }
  r.policy.arn = "arn:aws:iam::111:policy/aws-account-operator-probe/"
                 "frole-probe-u1-1";
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_delete(struct aws_api *api, const struct aws_target *t,
                    const struct aws_iam_policy_req *rq,
                    aws_delete_policy_cb cb, void *arg)
{
  struct aws_empty_result r = { 0 };

  acall("DeletePolicy", strrchr(rq->policy_arn, '/') + 1);
  fx.probe_exists = false;
  cb(0, NULL, &r, arg);
  return 0;
}

static int k_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                    k8s_obj_cb cb, void *cbarg)
{
  str_fmt(fx.kcalls[fx.nk++], sizeof(fx.kcalls[0]), "update %s", g->resource);
  json_decref(fx.written);
  fx.written = json_deep_copy(obj);
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_update_status(void *arg, const struct k8s_gvr *g, json_t *obj,
                           k8s_obj_cb cb, void *cbarg)
{
  str_fmt(fx.kcalls[fx.nk++], sizeof(fx.kcalls[0]), "status %s", g->resource);
  json_decref(fx.written);
  fx.written = json_deep_copy(obj);
  cb(0, obj, NULL, cbarg);
  return 0;
}

static void k_event(void *arg, json_t *obj, const char *type,
                    const char *reason, const char *msg)
{
}

static struct aws_creds *mgmt(void *arg)
{
  return fx.mgmt;
}

static void done(void *arg, const char *key, const struct ctrl_result *r)
{
  fx.ndone++;
  fx.res = *r;
}

static void put_role(const char *js)
{
  ck_assert_int_eq(store_put_new(fx.roles, json_loads(js, 0, NULL), NULL), 0);
}

static void setup(void)
{
  struct frole_exec_deps d = { 0 };

  memset(&fx, 0, sizeof(fx));
  fx.roles = store_new(0);
  fx.accesses = store_new(0);
  fx.cm = store_new(0);
  ck_assert_int_eq(store_put_new(fx.cm, json_loads(CM, 0, NULL), NULL), 0);
  fx.mgmt = aws_creds_static_new("AKIAMGMT", "mgmt-secret", NULL);
  fx.api = (struct aws_api){ .list_policies = f_list,
                             .create_policy = f_create,
                             .delete_policy = f_delete };
  d.kio = (struct exec_kio){ .update = k_update,
                             .update_status = k_update_status,
                             .event = k_event };
  d.roles = fx.roles;
  d.accesses = fx.accesses;
  d.configmap = fx.cm;
  d.api = &fx.api;
  d.mgmt_creds = mgmt;
  fx.e = frole_exec_new(&d);
  ck_assert_ptr_nonnull(fx.e);
}

static void teardown(void)
{
  frole_exec_free(fx.e);
  aws_creds_unref(fx.mgmt);
  json_decref(fx.written);
  store_free(fx.roles);
  store_free(fx.accesses);
  store_free(fx.cm);
}

static void run(void)
{
  struct ctrl_result out;

  ck_assert_int_eq(frole_exec_reconcile(fx.e, NS "/r1", &out, done, NULL),
                   CTRL_PENDING);
}

static const char *verdict(void)
{
  const json_t *c;
  size_t i;

  json_array_foreach(obj_get(fx.written, "status.conditions"), i, c)
  {
    if (str_eq(obj_str(c, "status"), "True"))
      return obj_str0(c, "message");
  }
  return "";
}

/* Every page is listed once; the unknown name is the verdict. */
START_TEST(managed_all_pages_unknown_named)
{
  put_role(ROLE("\"AmazonEC2ReadOnlyAccess\",\"job-function/Billing\","
                "\"Nope\",\"Billing2\""));
  run();
  ck_assert_int_eq(fx.na, 3);
  ck_assert_str_eq(fx.acalls[0], "ListPolicies AWS");
  ck_assert_int_eq(fx.res.requeue_after_ms, 1);
  run();
  ck_assert_str_eq(fx.kcalls[0], "status awsfederatedroles");
  ck_assert_str_eq(obj_str0(fx.written, "status.state"), "Invalid");
  ck_assert_str_eq(verdict(), "unknown AWS managed policies: Nope, Billing2");
}
END_TEST

/* Managed ok -> probe (create, delete) -> Valid; the list is cached for
 * the next role. */
START_TEST(probe_then_valid_and_cache_shared)
{
  put_role(ROLE("\"AmazonEC2ReadOnlyAccess\""));
  run();
  run();
  ck_assert_int_eq(fx.na, 5);
  ck_assert_str_eq(fx.acalls[3], "CreatePolicy frole-probe-u1-1");
  ck_assert_str_eq(fx.acalls[4], "DeletePolicy frole-probe-u1-1");
  run();
  ck_assert_str_eq(obj_str0(fx.written, "status.state"), "Valid");
  ck_assert_int_eq(frole_exec_managed_lists(fx.e), 1);
  /* another generation: the managed check uses the cached list */
  {
    json_t *r = json_loads(ROLE("\"ReadOnlyAccess\""), 0, NULL);

    obj_set_new(r, "metadata.generation", json_integer(2));
    ck_assert_int_eq(store_put_new(fx.roles, r, NULL), 0);
  }
  fx.na = 0;
  run();
  ck_assert_int_eq(fx.na, 0);
  ck_assert_int_eq(frole_exec_managed_lists(fx.e), 1);
}
END_TEST

/* A probe left by a crash: EntityAlreadyExists -> only this role's
 * leftovers deleted -> probe again. */
START_TEST(leftover_probe_cleaned)
{
  put_role(ROLE(""));
  fx.probe_exists = true;
  run();
  ck_assert_str_eq(fx.acalls[0], "CreatePolicy frole-probe-u1-1");
  fx.probe_exists = true;
  run();
  ck_assert_int_eq(fx.na, 3);
  ck_assert_str_eq(fx.acalls[1], "ListPolicies Local");
  ck_assert_str_eq(fx.acalls[2], "DeletePolicy frole-probe-u1-1");
  run();
  ck_assert_str_eq(fx.acalls[3], "CreatePolicy frole-probe-u1-1");
  ck_assert_str_eq(fx.acalls[4], "DeletePolicy frole-probe-u1-1");
  run();
  ck_assert_str_eq(obj_str0(fx.written, "status.state"), "Valid");
}
END_TEST

START_TEST(malformed_is_invalid_with_iam_message)
{
  put_role(ROLE(""));
  fx.malformed = true;
  run();
  run();
  ck_assert_str_eq(obj_str0(fx.written, "status.state"), "Invalid");
  ck_assert_str_eq(verdict(),
                   "IAM rejected custom policy P: Syntax errors in policy.");
}
END_TEST

/* No credentials yet: no call, the plan waits and retries. */
START_TEST(no_credentials_waits)
{
  put_role(ROLE(""));
  aws_creds_unref(fx.mgmt);
  fx.mgmt = NULL;
  run();
  ck_assert_int_eq(fx.na, 0);
  {
    struct ctrl_result out = { 0 };

    ck_assert_int_eq(frole_exec_reconcile(fx.e, NS "/r1", &out, done, NULL), 0);
    ck_assert_int_eq(fx.nk, 0);
    ck_assert_int_eq(fx.na, 0);
    ck_assert_uint_gt(out.requeue_after_ms, 1000);
  }
}
END_TEST

static Suite *frole_exec_suite(void)
{
  Suite *s = suite_create("frole_exec");
  TCase *tc = tcase_create("core");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, managed_all_pages_unknown_named);
  tcase_add_test(tc, probe_then_valid_and_cache_shared);
  tcase_add_test(tc, leftover_probe_cleaned);
  tcase_add_test(tc, malformed_is_invalid_with_iam_message);
  tcase_add_test(tc, no_credentials_waits);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(frole_exec_suite)
