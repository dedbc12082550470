/* cmd/aws-account-operator: FORCE_DEV_MODE (devmode.c) and CCS-Access-Arn
 * (ccs_access.c) against a replacement aws_api and a recording ConfigMap
 * seam. */
#include <string.h>

#include "aws/api.h"
#include "aws/core/creds.h"
#include "cmd/aws-account-operator/ccs_access.h"
#include "cmd/aws-account-operator/devmode.h"
#include "controllers/common/obj.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

/* ---- FORCE_DEV_MODE ------------------------------------------------------ */

START_TEST(devmode_unset_or_empty_is_production)
{
  char msg[512];

  ck_assert_int_eq(devmode_check(NULL, NULL, msg, sizeof(msg)), DEVMODE_OFF);
  ck_assert_int_eq(devmode_check("", "http://127.0.0.1:1", msg, sizeof(msg)),
                   DEVMODE_OFF);
  ck_assert_str_eq(msg, "");
}
END_TEST

START_TEST(devmode_against_real_aws_is_refused)
{
  char msg[512];

  ck_assert_int_eq(devmode_check("local", NULL, msg, sizeof(msg)),
                   DEVMODE_REFUSE);
  ck_assert_ptr_nonnull(strstr(msg, "FORCE_DEV_MODE=local"));
  ck_assert_ptr_nonnull(strstr(msg, "--aws-endpoint-url"));
  ck_assert_int_eq(devmode_check("cluster", "", msg, sizeof(msg)),
                   DEVMODE_REFUSE);
}
END_TEST

START_TEST(devmode_with_a_stand_in_warns)
{
  char msg[512];

  ck_assert_int_eq(
      devmode_check("cluster", "http://127.0.0.1:9", msg, sizeof(msg)),
      DEVMODE_WARN);
  ck_assert_ptr_nonnull(strstr(msg, "ignored"));
  ck_assert_ptr_nonnull(strstr(msg, "http://127.0.0.1:9"));
}
END_TEST

/* ---- CCS-Access-Arn ------------------------------------------------------ */

#define ROLE_ARN "arn:aws:iam::123456789012:role/RH-SRE-CCS-Access"

static struct {
  struct aws_api api;
  struct aws_creds *mgmt;
  struct opcfg cfg;
  bool have_cfg;
  const char *fail_code; /* GetRole fails with it */
  int conflicts;         /* updates answered 409 */
  char cm_value[256];    /* the ConfigMap's current CCS-Access-Arn */
  int ngets, nupdates, nroles;
  bool hold;               /* keep the GetRole callback */
  aws_get_role_cb held_cb; /* held callback */
  void *held_arg;
  char last_ns[64], last_name[64];
} cx;

static void role_answer(aws_get_role_cb cb, void *arg)
{
  static struct aws_error e;
  struct aws_iam_role_result r = { { 0 } };

  r.role.arn = ROLE_ARN;
  if (cx.fail_code) {
    str_copy(e.code, cx.fail_code, sizeof(e.code));
    cb(OP_EAWS, &e, NULL, arg);
  } else {
    cb(0, NULL, &r, arg);
  }
}

static int c_get_role(struct aws_api *api, const struct aws_target *t,
                      const struct aws_iam_role_req *rq, aws_get_role_cb cb,
                      void *arg)
{
  cx.nroles++;
  ck_assert_ptr_eq(t->creds, cx.mgmt);
  ck_assert_str_eq(rq->role_name, "RH-SRE-CCS-Access");
  if (cx.hold) {
    cx.held_cb = cb;
    cx.held_arg = arg;
    return 0;
  }
  role_answer(cb, arg);
  return 0;
}

static int c_get(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  json_t *o =
      json_pack("{s:{s:s,s:s,s:s},s:{s:s}}", "metadata", "name", name,
                "namespace", ns, "resourceVersion", "7", "data", "root", "r-1");

  cx.ngets++;
  ck_assert_str_eq(g->resource, "configmaps");
  str_copy(cx.last_ns, ns, sizeof(cx.last_ns));
  str_copy(cx.last_name, name, sizeof(cx.last_name));
  if (cx.cm_value[0])
    obj_set_str(o, "data.CCS-Access-Arn", cx.cm_value);
  cb(0, o, NULL, cbarg);
  json_decref(o);
  return 0;
}

static int c_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                    k8s_obj_cb cb, void *cbarg)
{
  cx.nupdates++;
  ck_assert_str_eq(obj_str0(obj, "metadata.resourceVersion"), "7");
  ck_assert_str_eq(obj_str0(obj, "data.root"), "r-1"); /* other keys kept */
  if (cx.conflicts > 0) {
    cx.conflicts--;
    cb(OP_ECONFLICT, NULL, NULL, cbarg);
    return 0;
  }
  str_copy(cx.cm_value, obj_str0(obj, "data.CCS-Access-Arn"),
           sizeof(cx.cm_value));
  cb(0, obj, NULL, cbarg);
  return 0;
}

static struct aws_creds *c_mgmt(void *arg)
{
  return cx.mgmt;
}

static const struct opcfg *c_cfg(void *arg)
{
  return cx.have_cfg ? &cx.cfg : NULL;
}

static struct ccs_access *new_ccs(void)
{
  struct ccs_access_deps d = { .api = &cx.api,
                               .mgmt = c_mgmt,
                               .cfg = c_cfg,
                               .kio = { .get = c_get, .update = c_update },
                               .ns = "aao" };

  return ccs_access_new(&d);
}

static void ccs_setup(void)
{
  memset(&cx, 0, sizeof(cx));
  cx.api.get_role = c_get_role;
  cx.mgmt = aws_creds_static_new("AKIAMGMT", "mgmt-secret", NULL);
  cx.have_cfg = true;
}

static void ccs_teardown(void)
{
  aws_creds_unref(cx.mgmt);
}

START_TEST(ccs_written_once_both_are_there)
{
  struct ccs_access *c = new_ccs();
  struct aws_creds *m = cx.mgmt;

  cx.mgmt = NULL; /* credentials not there yet */
  ccs_access_kick(c);
  cx.mgmt = m;
  cx.have_cfg = false; /* nor the ConfigMap */
  ccs_access_kick(c);
  ck_assert_int_eq(cx.nroles, 0);
  ck_assert_int_eq(ccs_access_state(c), CCS_ACCESS_WAITING);
  cx.have_cfg = true;
  ccs_access_kick(c);
  ck_assert_int_eq(ccs_access_state(c), CCS_ACCESS_WRITTEN);
  ck_assert_str_eq(cx.cm_value, ROLE_ARN);
  ck_assert_str_eq(cx.last_ns, "aao");
  ck_assert_str_eq(cx.last_name, "aws-account-operator-configmap");
  ccs_access_kick(c); /* one attempt per process */
  ck_assert_int_eq(cx.nroles, 1);
  ck_assert_int_eq(cx.nupdates, 1);
  ccs_access_free(c);
}
END_TEST

START_TEST(ccs_unchanged_value_is_not_written)
{
  struct ccs_access *c = new_ccs();

  str_copy(cx.cm_value, ROLE_ARN, sizeof(cx.cm_value));
  ccs_access_kick(c);
  ck_assert_int_eq(ccs_access_state(c), CCS_ACCESS_UNCHANGED);
  ck_assert_int_eq(cx.nupdates, 0);
  ccs_access_free(c);
}
END_TEST

START_TEST(ccs_conflict_reads_again)
{
  struct ccs_access *c = new_ccs();

  cx.conflicts = 1;
  ccs_access_kick(c);
  ck_assert_int_eq(ccs_access_state(c), CCS_ACCESS_WRITTEN);
  ck_assert_int_eq(cx.ngets, 2);
  ck_assert_int_eq(cx.nupdates, 2);
  ccs_access_free(c);
}
END_TEST

START_TEST(ccs_failure_is_not_fatal_nor_retried)
{
  struct ccs_access *c = new_ccs();

  cx.fail_code = "NoSuchEntity";
  ccs_access_kick(c);
  ck_assert_int_eq(ccs_access_state(c), CCS_ACCESS_FAILED);
  ck_assert_int_eq(cx.ngets, 0);
  ccs_access_kick(c);
  ck_assert_int_eq(cx.nroles, 1);
  cx.conflicts = 100; /* every write conflicts: gives up */
  ccs_access_free(c);
  c = new_ccs();
  cx.fail_code = NULL;
  ccs_access_kick(c);
  ck_assert_int_eq(ccs_access_state(c), CCS_ACCESS_FAILED);
  ck_assert_int_eq(cx.nupdates, 3);
  ccs_access_free(c);
}
END_TEST

/* Freed (shutdown) with GetRole in flight: the late answer is dropped. */
START_TEST(ccs_freed_while_running)
{
  struct ccs_access *c = new_ccs();

  cx.hold = true;
  ccs_access_kick(c);
  ck_assert_int_eq(ccs_access_state(c), CCS_ACCESS_RUNNING);
  ccs_access_free(c);
  role_answer(cx.held_cb, cx.held_arg);
  ck_assert_int_eq(cx.ngets, 0);
}
END_TEST

static Suite *cmd_suite(void)
{
  Suite *s = suite_create("cmd");
  TCase *tc = tcase_create("devmode");
  TCase *cc = tcase_create("ccs_access");

  tcase_add_test(tc, devmode_unset_or_empty_is_production);
  tcase_add_test(tc, devmode_against_real_aws_is_refused);
  tcase_add_test(tc, devmode_with_a_stand_in_warns);
  suite_add_tcase(s, tc);
  tcase_add_checked_fixture(cc, ccs_setup, ccs_teardown);
  tcase_add_test(cc, ccs_written_once_both_are_there);
  tcase_add_test(cc, ccs_unchanged_value_is_not_written);
  tcase_add_test(cc, ccs_conflict_reads_again);
  tcase_add_test(cc, ccs_failure_is_not_fatal_nor_retried);
  tcase_add_test(cc, ccs_freed_while_running);
  suite_add_tcase(s, cc);
  return s;
}

TEST_MAIN(cmd_suite)
