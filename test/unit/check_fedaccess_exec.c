/* pkg/controllers/federatedaccess/exec: the AWSFederatedAccountAccess
 * executor against a recording Kubernetes seam (writes land in the cache,
 * as the informer would show them) and a scripted IAM in the target
 * account: provisioning to Ready, the version limit, a failure's status,
 * deletion with the Secret's keys and with the fallback role. */
#include <stdlib.h>
#include <string.h>

#include "aws/core/creds.h"
#include "cache/store.h"
#include "controllers/common/obj.h"
#include "controllers/federatedaccess/exec.h"
#include "k8s/config.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define ACCT "111122223333"
#define KEY "team/acc"
#define ACC                                                                    \
  "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\",\"kind\":"            \
  "\"AWSFederatedAccountAccess\",\"metadata\":{\"name\":\"acc\","              \
  "\"namespace\":\"team\",\"uid\":\"uid-1\",\"resourceVersion\":\"3\","        \
  "\"labels\":{\"uid\":\"abc123\"}},"                                          \
  "\"spec\":{\"externalCustomerAWSIAMARN\":"                                   \
  "\"arn:aws:iam::999900001111:user/ext\",\"awsCustomerCredentialSecret\":{"   \
  "\"name\":\"creds\",\"namespace\":\"team\"},\"awsFederatedRole\":{\"name\":" \
  "\"ro\",\"namespace\":\"team\"}}}"
#define ROLE                                                                   \
  "{\"metadata\":{\"name\":\"ro\",\"namespace\":\"team\"},\"spec\":{"          \
  "\"roleDisplayName\":\"RO\",\"roleDescription\":\"read only\","              \
  "\"awsCustomPolicy\":{\"name\":\"cp\",\"description\":\"d\","                \
  "\"awsStatements\":[{\"effect\":\"Allow\",\"action\":[\"ec2:Describe*\"],"   \
  "\"resource\":[\"*\"]}]},\"awsManagedPolicies\":[\"ReadOnlyAccess\"]},"      \
  "\"status\":{\"state\":\"Valid\"}}"
#define CM                                                                     \
  "{\"metadata\":{\"name\":\"aws-account-operator-configmap\",\"namespace\":"  \
  "\"aws-account-operator\"},\"data\":{}}"
#define ROLE_NAME "ro-abc123"
#define CP_ARN "arn:aws:iam::" ACCT ":policy/cp-abc123"
#define RO_ARN "arn:aws:iam::aws:policy/ReadOnlyAccess"

/* ---- the scripted IAM of the target account ---------------------------- */

struct pol {
  char arn[256], name[128], def[8];
  char docs[8][512]; /* by version number; "" = none */
};

static struct fx {
  struct store *accesses, *roles, *cm;
  struct aws_api api;
  struct fa_exec *e;
  time_t now;
  bool secret_present;
  /* IAM */
  bool role_exists;
  char trust[512];
  char attached[8][256];
  int nattached;
  struct pol pols[4];
  int npols;
  char fail_op[32]; /* this operation answers fail_code */
  char fail_code[32];
  char fail_creds[32]; /* "" = any credentials, else only these */
  /* records */
  int calls, writes, org_role_calls;
  char last_creds[32];
  bool other_creds;
  int nevents;
  struct aws_creds *org;
} fx;

static bool failing(const char *op, const struct aws_target *t,
                    struct aws_error *ae)
{
  const char *l = aws_creds_label(t->creds);

  fx.calls++;
  str_copy(fx.last_creds, l ? l : "", sizeof(fx.last_creds));
  memset(ae, 0, sizeof(*ae));
  if (strcmp(op, fx.fail_op) ||
      (fx.fail_creds[0] && strcmp(fx.fail_creds, fx.last_creds)))
    return false;
  str_copy(ae->code, fx.fail_code, sizeof(ae->code));
  return true;
}

#define FAILS(op, t, cb, arg)                                                  \
  do {                                                                         \
    struct aws_error ae_;                                                      \
    if (failing(op, t, &ae_)) {                                                \
      cb(OP_EAWS, &ae_, NULL, arg);                                            \
      return 0;                                                                \
    }                                                                          \
  } while (0)

static void no_entity(void (*cb)(int, const struct aws_error *, const void *,
                                 void *),
                      void *arg)
{
  struct aws_error ae = { 0 };

  str_copy(ae.code, "NoSuchEntity", sizeof(ae.code));
  cb(OP_EAWS, &ae, NULL, arg);
}
#define NO_ENTITY(cb, arg)                                                     \
  no_entity((void (*)(int, const struct aws_error *, const void *, void *))cb, \
            arg)

static struct pol *pol_find(const char *arn)
{
  for (int i = 0; i < fx.npols; i++)
    if (!strcmp(fx.pols[i].arn, arn))
      return &fx.pols[i];
  return NULL;
}

static int nversions(const struct pol *p)
{
  int n = 0;

  for (int i = 0; i < 8; i++)
    n += p->docs[i][0] != 0;
  return n;
}

static int f_caller(struct aws_api *a, const struct aws_target *t,
                    const struct aws_sts_none_req *rq,
                    aws_get_caller_identity_cb cb, void *arg)
{
  struct aws_caller_identity_result r = { .account = ACCT };

  FAILS("GetCallerIdentity", t, cb, arg);
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_get_role(struct aws_api *a, const struct aws_target *t,
                      const struct aws_iam_role_req *rq, aws_get_role_cb cb,
                      void *arg)
{
  struct aws_iam_role_result r = { 0 };

  FAILS("GetRole", t, cb, arg);
  if (!fx.role_exists)
    return NO_ENTITY(cb, arg), 0;
  ck_assert_str_eq(rq->role_name, ROLE_NAME);
  r.role.assume_role_policy_document = fx.trust;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_list_attached(struct aws_api *a, const struct aws_target *t,
                           const struct aws_iam_role_page_req *rq,
                           aws_list_attached_role_policies_cb cb, void *arg)
{
  struct aws_iam_attached v[8];
  struct aws_iam_attached_result r = { .v = v, .n = (size_t)fx.nattached };

  FAILS("ListAttachedRolePolicies", t, cb, arg);
  if (!fx.role_exists)
    return NO_ENTITY(cb, arg), 0;
  for (int i = 0; i < fx.nattached; i++)
    v[i] = (struct aws_iam_attached){ .policy_arn = fx.attached[i] };
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_get_policy(struct aws_api *a, const struct aws_target *t,
                        const struct aws_iam_policy_req *rq,
                        aws_get_policy_cb cb, void *arg)
{
  struct pol *p = pol_find(rq->policy_arn);
  struct aws_iam_policy_result r = { 0 };

  FAILS("GetPolicy", t, cb, arg);
  if (!p)
    return NO_ENTITY(cb, arg), 0;
  r.policy.arn = p->arn;
  r.policy.policy_name = p->name;
  r.policy.default_version_id = p->def;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_get_version(struct aws_api *a, const struct aws_target *t,
                         const struct aws_iam_policy_version_req *rq,
                         aws_get_policy_version_cb cb, void *arg)
{
  struct pol *p = pol_find(rq->policy_arn);
  struct aws_iam_policy_version_result r = { 0 };
  int n = atoi(rq->version_id + 1);

  FAILS("GetPolicyVersion", t, cb, arg);
  if (!p || n < 1 || n > 7 || !p->docs[n][0])
    return NO_ENTITY(cb, arg), 0;
  r.version.version_id = (char *)rq->version_id;
  r.version.document = p->docs[n];
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_list_versions(struct aws_api *a, const struct aws_target *t,
                           const struct aws_iam_policy_page_req *rq,
                           aws_list_policy_versions_cb cb, void *arg)
{
  struct pol *p = pol_find(rq->policy_arn);
  struct aws_iam_policy_version v[8];
  char ids[8][8];
  struct aws_iam_policy_versions_result r = { .v = v };

  FAILS("ListPolicyVersions", t, cb, arg);
  if (!p)
    return NO_ENTITY(cb, arg), 0;
  for (int i = 7; i >= 1; i--) {
    if (!p->docs[i][0])
      continue;
    str_fmt(ids[r.n], sizeof(ids[0]), "v%d", i);
    v[r.n] = (struct aws_iam_policy_version){ .version_id = ids[r.n],
                                              .is_default_version =
                                                  !strcmp(ids[r.n], p->def) };
    r.n++;
  }
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_list_policies(struct aws_api *a, const struct aws_target *t,
                           const struct aws_list_policies_req *rq,
                           aws_list_policies_cb cb, void *arg)
{
  struct aws_iam_policy v[4];
  struct aws_iam_policies_result r = { .v = v, .n = (size_t)fx.npols };

  FAILS("ListPolicies", t, cb, arg);
  ck_assert_str_eq(rq->scope, "Local");
  for (int i = 0; i < fx.npols; i++)
    v[i] = (struct aws_iam_policy){ .arn = fx.pols[i].arn,
                                    .policy_name = fx.pols[i].name };
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_create_policy(struct aws_api *a, const struct aws_target *t,
                           const struct aws_create_policy_req *rq,
                           aws_create_policy_cb cb, void *arg)
{
  struct pol *p = &fx.pols[fx.npols];
  struct aws_iam_policy_result r = { 0 };

  FAILS("CreatePolicy", t, cb, arg);
  ck_assert_str_eq(rq->description, "d");
  memset(p, 0, sizeof(*p));
  str_fmt(p->arn, sizeof(p->arn), "arn:aws:iam::%s:policy/%s", ACCT,
          rq->policy_name);
  str_copy(p->name, rq->policy_name, sizeof(p->name));
  str_copy(p->def, "v1", sizeof(p->def));
  str_copy(p->docs[1], rq->policy_document, sizeof(p->docs[1]));
  fx.npols++;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_create_version(struct aws_api *a, const struct aws_target *t,
                            const struct aws_create_policy_version_req *rq,
                            aws_create_policy_version_cb cb, void *arg)
{
  struct pol *p = pol_find(rq->policy_arn);
  struct aws_iam_policy_version_result r = { 0 };
  int n = 1;

  FAILS("CreatePolicyVersion", t, cb, arg);
  ck_assert_ptr_nonnull(p);
  ck_assert(rq->set_as_default);
  ck_assert_int_lt(nversions(p), 5); /* IAM's limit: LimitExceeded */
  for (int i = 1; i < 8; i++)
    if (p->docs[i][0])
      n = i + 1;
  ck_assert_int_lt(n, 8);
  str_copy(p->docs[n], rq->policy_document, sizeof(p->docs[n]));
  str_fmt(p->def, sizeof(p->def), "v%d", n);
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_delete_version(struct aws_api *a, const struct aws_target *t,
                            const struct aws_iam_policy_version_req *rq,
                            aws_delete_policy_version_cb cb, void *arg)
{
  struct pol *p = pol_find(rq->policy_arn);

  FAILS("DeletePolicyVersion", t, cb, arg);
  ck_assert_ptr_nonnull(p);
  ck_assert_str_ne(rq->version_id, p->def);
  p->docs[atoi(rq->version_id + 1)][0] = 0;
  cb(0, NULL, &(struct aws_empty_result){ 0 }, arg);
  return 0;
}

static int f_delete_policy(struct aws_api *a, const struct aws_target *t,
                           const struct aws_iam_policy_req *rq,
                           aws_delete_policy_cb cb, void *arg)
{
  struct pol *p = pol_find(rq->policy_arn);

  FAILS("DeletePolicy", t, cb, arg);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(nversions(p), 1); /* DeleteConflict otherwise */
  for (int i = 0; i < fx.nattached; i++)
    ck_assert_str_ne(fx.attached[i], p->arn);
  *p = fx.pols[--fx.npols];
  cb(0, NULL, &(struct aws_empty_result){ 0 }, arg);
  return 0;
}

static int f_create_role(struct aws_api *a, const struct aws_target *t,
                         const struct aws_create_role_req *rq,
                         aws_create_role_cb cb, void *arg)
{
  struct aws_iam_role_result r = { 0 };

  FAILS("CreateRole", t, cb, arg);
  ck_assert(!fx.role_exists);
  ck_assert_str_eq(rq->role_name, ROLE_NAME);
  ck_assert_str_eq(rq->description, "read only");
  fx.role_exists = true;
  str_copy(fx.trust, rq->assume_role_policy_document, sizeof(fx.trust));
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_update_trust(struct aws_api *a, const struct aws_target *t,
                          const struct aws_update_assume_role_policy_req *rq,
                          aws_update_assume_role_policy_cb cb, void *arg)
{
  FAILS("UpdateAssumeRolePolicy", t, cb, arg);
  str_copy(fx.trust, rq->policy_document, sizeof(fx.trust));
  cb(0, NULL, &(struct aws_empty_result){ 0 }, arg);
  return 0;
}

static int f_attach(struct aws_api *a, const struct aws_target *t,
                    const struct aws_iam_role_policy_req *rq,
                    aws_attach_role_policy_cb cb, void *arg)
{
  FAILS("AttachRolePolicy", t, cb, arg);
  ck_assert_int_lt(fx.nattached, 8);
  str_copy(fx.attached[fx.nattached++], rq->policy_arn, 256);
  cb(0, NULL, &(struct aws_empty_result){ 0 }, arg);
  return 0;
}

static int f_detach(struct aws_api *a, const struct aws_target *t,
                    const struct aws_iam_role_policy_req *rq,
                    aws_detach_role_policy_cb cb, void *arg)
{
  FAILS("DetachRolePolicy", t, cb, arg);
  for (int i = 0; i < fx.nattached; i++) {
    if (!strcmp(fx.attached[i], rq->policy_arn)) {
      memcpy(fx.attached[i], fx.attached[--fx.nattached], 256);
      cb(0, NULL, &(struct aws_empty_result){ 0 }, arg);
      return 0;
    }
  }
  return NO_ENTITY(cb, arg), 0;
}

static int f_delete_role(struct aws_api *a, const struct aws_target *t,
                         const struct aws_iam_role_req *rq,
                         aws_delete_role_cb cb, void *arg)
{
  FAILS("DeleteRole", t, cb, arg);
  if (!fx.role_exists)
    return NO_ENTITY(cb, arg), 0;
  ck_assert_int_eq(fx.nattached, 0);
  fx.role_exists = false;
  cb(0, NULL, &(struct aws_empty_result){ 0 }, arg);
  return 0;
}

/* ---- the Kubernetes seam ------------------------------------------------ */

static void put(struct store *s, const char *js)
{
  json_t *o = json_loads(js, 0, NULL);

  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(store_put_new(s, o, NULL), 0);
}

static int k_get(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  json_t *s;

  ck_assert_str_eq(g->resource, "secrets");
  ck_assert_str_eq(ns, "team");
  ck_assert_str_eq(name, "creds");
  if (!fx.secret_present) {
    cb(OP_ENOTFOUND, NULL, NULL, cbarg);
    return 0;
  }
  /* base64 of AKIASECRET and shh */
  s = json_pack("{s:{s:s,s:s}}", "data", "aws_access_key_id",
                "QUtJQVNFQ1JFVA==", "aws_secret_access_key", "c2ho");
  cb(0, s, NULL, cbarg);
  json_decref(s);
  return 0;
}

static int k_write(json_t *obj, k8s_obj_cb cb, void *cbarg)
{
  fx.writes++;
  ck_assert_int_eq(store_put_new(fx.accesses, json_deep_copy(obj), NULL), 0);
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                    k8s_obj_cb cb, void *cbarg)
{
  ck_assert_str_eq(g->resource, "awsfederatedaccountaccesses");
  return k_write(obj, cb, cbarg);
}

static int k_update_status(void *arg, const struct k8s_gvr *g, json_t *obj,
                           k8s_obj_cb cb, void *cbarg)
{
  return k_update(arg, g, obj, cb, cbarg);
}

static void k_event(void *arg, json_t *obj, const char *type,
                    const char *reason, const char *msg)
{
  fx.nevents++;
}

static int org_role(void *arg, const char *account, struct aws_creds **out)
{
  fx.org_role_calls++;
  ck_assert_str_eq(account, ACCT);
  *out = fx.org;
  return 0;
}

static time_t clock_fn(void *arg)
{
  return fx.now;
}

static void setup(void)
{
  struct fa_exec_deps d = { 0 };

  memset(&fx, 0, sizeof(fx));
  fx.accesses = store_new(0);
  fx.roles = store_new(0);
  fx.cm = store_new(0);
  put(fx.accesses, ACC);
  put(fx.roles, ROLE);
  put(fx.cm, CM);
  fx.secret_present = true;
  fx.now = 1700000000;
  fx.org = aws_creds_static_new("AKIAORGROLE", "x", NULL);
  fx.api = (struct aws_api){
    .get_caller_identity = f_caller,
    .get_role = f_get_role,
    .list_attached_role_policies = f_list_attached,
    .get_policy = f_get_policy,
    .get_policy_version = f_get_version,
    .list_policy_versions = f_list_versions,
    .list_policies = f_list_policies,
    .create_policy = f_create_policy,
    .create_policy_version = f_create_version,
    .delete_policy_version = f_delete_version,
    .delete_policy = f_delete_policy,
    .create_role = f_create_role,
    .update_assume_role_policy = f_update_trust,
    .attach_role_policy = f_attach,
    .detach_role_policy = f_detach,
    .delete_role = f_delete_role,
  };
  d.kio = (struct exec_kio){ .get = k_get,
                             .update = k_update,
                             .update_status = k_update_status,
                             .event = k_event };
  d.accesses = fx.accesses;
  d.roles = fx.roles;
  d.configmap = fx.cm;
  d.api = &fx.api;
  d.org_role = org_role;
  d.clock = clock_fn;
  fx.e = fa_exec_new(&d);
  ck_assert_ptr_nonnull(fx.e);
}

static void teardown(void)
{
  fa_exec_free(fx.e);
  aws_creds_unref(fx.org);
  store_free(fx.accesses);
  store_free(fx.roles);
  store_free(fx.cm);
}

static void done(void *arg, const char *key, const struct ctrl_result *r)
{
  (void)arg;
  (void)key;
  (void)r;
}

/* Reconcile until a pass makes no write and no AWS call (at most n). */
static int drive(int n)
{
  struct ctrl_result out;
  int passes = 0;

  while (passes < n) {
    int before = fx.calls + fx.writes;

    fa_exec_reconcile(fx.e, KEY, &out, done, NULL);
    passes++;
    if (fx.calls + fx.writes == before)
      break;
  }
  ck_assert_int_lt(passes, n);
  return passes;
}

static const json_t *access_obj(void)
{
  return store_get(fx.accesses, KEY);
}

static bool is_attached(const char *arn)
{
  for (int i = 0; i < fx.nattached; i++)
    if (!strcmp(fx.attached[i], arn))
      return true;
  return false;
}

/* From nothing to Ready: labels, finalizer, policy, role, attachments,
 * console URL; every call signed with the Secret's keys. */
START_TEST(provisions_to_ready)
{
  const json_t *a;

  drive(40);
  a = access_obj();
  ck_assert_str_eq(obj_str(a, "status.state"), "Ready");
  ck_assert_str_eq(obj_str(a, "status.consoleURL"),
                   "https://signin.aws.amazon.com/switchrole?account=" ACCT
                   "&roleName=" ROLE_NAME);
  ck_assert_str_eq(obj_label(a, "awsAccountID"), ACCT);
  ck_assert_str_eq(obj_label(a, "awsFederatedRoleName"), "ro");
  ck_assert(obj_has_finalizer(a, OBJ_FINALIZER));
  ck_assert(fx.role_exists);
  ck_assert_ptr_nonnull(strstr(fx.trust, "arn:aws:iam::999900001111:user/ext"));
  ck_assert_int_eq(fx.nattached, 2);
  ck_assert(is_attached(RO_ARN) && is_attached(CP_ARN));
  ck_assert_ptr_nonnull(strstr(pol_find(CP_ARN)->docs[1], "ec2:Describe*"));
  ck_assert_str_eq(fx.last_creds, "AKIASECRET");
  ck_assert_int_eq(fx.org_role_calls, 0);
  /* converged: another pass makes no call */
  int calls = fx.calls;
  drive(3);
  ck_assert_int_eq(fx.calls, calls);
}
END_TEST

/* The custom policy drifted at IAM's 5-version limit: the oldest
 * non-default version goes, the role's document becomes the default; a
 * foreign attachment is detached. */
START_TEST(version_limit_and_foreign_policy)
{
  struct pol *p = &fx.pols[fx.npols++];

  str_copy(p->arn, CP_ARN, sizeof(p->arn));
  str_copy(p->name, "cp-abc123", sizeof(p->name));
  for (int i = 1; i <= 5; i++)
    str_copy(p->docs[i], "{\"Version\":\"2012-10-17\",\"Statement\":[]}", 512);
  str_copy(p->def, "v3", sizeof(p->def));
  fx.role_exists = true;
  str_copy(fx.trust, "{}", sizeof(fx.trust));
  str_copy(fx.attached[fx.nattached++], "arn:aws:iam::aws:policy/Admin", 256);
  drive(40);
  ck_assert_str_eq(obj_str(access_obj(), "status.state"), "Ready");
  ck_assert_int_eq(nversions(p), 5);
  ck_assert(!p->docs[1][0]); /* the oldest non-default */
  ck_assert_str_eq(p->def, "v6");
  ck_assert_ptr_nonnull(strstr(p->docs[6], "ec2:Describe*"));
  ck_assert_ptr_nonnull(strstr(fx.trust, "999900001111"));
  ck_assert(!is_attached("arn:aws:iam::aws:policy/Admin"));
  ck_assert(is_attached(RO_ARN) && is_attached(CP_ARN));
}
END_TEST

/* CreateRole fails: Failed with upstream's message and the code, an
 * Event; nothing more until the retry delay passed. */
START_TEST(failure_sets_failed)
{
  str_copy(fx.fail_op, "CreateRole", sizeof(fx.fail_op));
  str_copy(fx.fail_code, "MalformedPolicyDocument", sizeof(fx.fail_code));
  drive(40);
  ck_assert_str_eq(obj_str(access_obj(), "status.state"), "Failed");
  ck_assert_str_eq(
      obj_str(json_array_get(obj_get(access_obj(), "status.conditions"), 0),
              "message"),
      "Failed to create role: MalformedPolicyDocument");
  ck_assert_int_gt(fx.nevents, 0);
  fx.fail_op[0] = 0;
  fx.now += 61;
  drive(40);
  ck_assert_str_eq(obj_str(access_obj(), "status.state"), "Ready");
}
END_TEST

static void mark_deleting(void)
{
  json_t *a = json_deep_copy(access_obj());

  obj_set_str(a, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z");
  ck_assert_int_eq(store_put_new(fx.accesses, a, NULL), 0);
}

/* Deletion: detach, delete the custom policy's versions and itself, the
 * role, then the finalizer. */
START_TEST(deletion_cleans_up)
{
  drive(40);
  fx.now += 1;
  /* one more version, so the cleanup deletes a non-default one first */
  str_copy(pol_find(CP_ARN)->docs[2], "{}", 512);
  mark_deleting();
  drive(40);
  ck_assert(!fx.role_exists);
  ck_assert_int_eq(fx.npols, 0);
  ck_assert(!obj_has_finalizer(access_obj(), OBJ_FINALIZER));
  ck_assert_str_eq(fx.last_creds, "AKIASECRET");
}
END_TEST

/* The Secret went first: OrganizationAccountAccessRole in the account of
 * the awsAccountID label does the cleanup. */
START_TEST(deletion_falls_back_to_org_role)
{
  drive(40);
  fx.secret_present = false;
  mark_deleting();
  drive(40);
  ck_assert(!fx.role_exists);
  ck_assert_int_eq(fx.npols, 0);
  ck_assert_int_gt(fx.org_role_calls, 0);
  ck_assert_str_eq(fx.last_creds, "AKIAORGROLE");
  ck_assert(!obj_has_finalizer(access_obj(), OBJ_FINALIZER));
}
END_TEST

/* The Secret's keys are refused: the fallback role is tried at once. */
START_TEST(deletion_bad_keys_fall_back)
{
  drive(40);
  mark_deleting();
  str_copy(fx.fail_op, "GetCallerIdentity", sizeof(fx.fail_op));
  str_copy(fx.fail_code, "InvalidClientTokenId", sizeof(fx.fail_code));
  str_copy(fx.fail_creds, "AKIASECRET", sizeof(fx.fail_creds));
  drive(40);
  ck_assert(!fx.role_exists);
  ck_assert_int_eq(fx.npols, 0);
  ck_assert_int_gt(fx.org_role_calls, 0);
  ck_assert(!obj_has_finalizer(access_obj(), OBJ_FINALIZER));
}
END_TEST

/* A Secret in another namespace is never read; Failed, Invalid spec. */
START_TEST(secret_elsewhere_fails)
{
  json_t *a = json_deep_copy(access_obj());

  obj_set_str(a, "spec.awsCustomerCredentialSecret.namespace", "other");
  ck_assert_int_eq(store_put_new(fx.accesses, a, NULL), 0);
  drive(10);
  ck_assert_str_eq(obj_str(access_obj(), "status.state"), "Failed");
  ck_assert_int_eq(fx.calls, 0);
}
END_TEST

/* A role not Valid yet: InProgress, no AWS call. */
START_TEST(waits_for_a_valid_role)
{
  json_t *r = json_loads(ROLE, 0, NULL);

  obj_set_str(r, "status.state", "Invalid");
  ck_assert_int_eq(store_put_new(fx.roles, r, NULL), 0);
  drive(10);
  ck_assert_str_eq(obj_str(access_obj(), "status.state"), "InProgress");
  ck_assert_int_eq(fx.calls, 0);
}
END_TEST

static char mapped[256];

static void map_key(const char *key, void *arg)
{
  (void)arg;
  str_fmt(mapped + strlen(mapped), sizeof(mapped) - strlen(mapped), "%s ", key);
}

/* A role event enqueues the accesses that reference it (spec namespace,
 * or the access's own when unset), and no other. */
START_TEST(role_event_maps_to_its_accesses)
{
  json_t *a = json_loads(ACC, 0, NULL), *b = json_loads(ACC, 0, NULL);

  obj_set_str(a, "metadata.name", "same-ns");
  obj_set_str(a, "spec.awsFederatedRole.namespace", "");
  ck_assert_int_eq(store_put_new(fx.accesses, a, NULL), 0);
  obj_set_str(b, "metadata.name", "other-role");
  obj_set_str(b, "spec.awsFederatedRole.name", "rw");
  ck_assert_int_eq(store_put_new(fx.accesses, b, NULL), 0);
  mapped[0] = 0;
  ctrl_map_keys(fa_desc.watches[0].map, fx.e, store_get(fx.roles, "team/ro"),
                map_key, NULL);
  ck_assert_str_eq(mapped, "team/acc team/same-ns ");
}
END_TEST

static Suite *fedaccess_exec_suite(void)
{
  Suite *s = suite_create("fedaccess_exec");
  TCase *tc = tcase_create("exec");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, provisions_to_ready);
  tcase_add_test(tc, version_limit_and_foreign_policy);
  tcase_add_test(tc, failure_sets_failed);
  tcase_add_test(tc, deletion_cleans_up);
  tcase_add_test(tc, deletion_falls_back_to_org_role);
  tcase_add_test(tc, deletion_bad_keys_fall_back);
  tcase_add_test(tc, secret_elsewhere_fails);
  tcase_add_test(tc, waits_for_a_valid_role);
  tcase_add_test(tc, role_event_maps_to_its_accesses);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(fedaccess_exec_suite)
