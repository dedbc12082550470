/* pkg/controllers/common: accessors, conditions, ConfigMap, names. */
#include <string.h>

#include "cache/store.h"
#include "controllers/common/cond.h"
#include "controllers/common/names.h"
#include "controllers/common/obj.h"
#include "controllers/common/opcfg.h"
#include "fixtures/plans/plantest.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define OBJ                                                                    \
  "{\"metadata\":{\"name\":\"n\",\"namespace\":\"ns\",\"uid\":\"u\","          \
  "\"creationTimestamp\":\"2026-01-01T00:00:00Z\",\"labels\":{\"l\":\"v\"},"   \
  "\"annotations\":{\"a/b.c\":\"x\"},\"finalizers\":[\"f1\",\"f2\"],"          \
  "\"ownerReferences\":[{\"kind\":\"AccountPool\",\"name\":\"p\"}]},"          \
  "\"spec\":{\"legalEntity\":{\"id\":\"le\"},\"byoc\":true,\"n\":7}}"

START_TEST(accessors)
{
  json_t *o = pt_load(OBJ);
  time_t t;

  ck_assert_str_eq(obj_name(o), "n");
  ck_assert_str_eq(obj_namespace(o), "ns");
  ck_assert_str_eq(obj_uid(o), "u");
  ck_assert_int_eq(obj_creation_time(o, &t), 0);
  ck_assert_int_eq(t, 1767225600);
  ck_assert(!obj_deleting(o));
  ck_assert_str_eq(obj_label(o, "l"), "v");
  ck_assert_str_eq(obj_annotation(o, "a/b.c"), "x");
  ck_assert_ptr_null(obj_annotation(o, "zz"));
  ck_assert(obj_has_finalizer(o, "f2"));
  ck_assert(!obj_has_finalizer(o, "f3"));
  ck_assert_uint_eq(obj_finalizer_count(o), 2);
  ck_assert_str_eq(obj_owner_name(o, "AccountPool"), "p");
  ck_assert_ptr_null(obj_owner_name(o, "AccountClaim"));
  ck_assert_str_eq(obj_str(o, "spec.legalEntity.id"), "le");
  ck_assert_str_eq(obj_str0(o, "spec.missing.x"), "");
  ck_assert(obj_bool(o, "spec.byoc"));
  ck_assert_int_eq(obj_int(o, "spec.n", -1), 7);
  ck_assert_int_eq(obj_int(o, "spec.legalEntity", -1), -1);
  ck_assert(!obj_paused(o));
  ck_assert_int_eq(obj_time(o, "spec.none", &t), OP_ENOTFOUND);
  json_decref(o);
}
END_TEST

START_TEST(builders_copy)
{
  json_t *o = pt_load(OBJ), *c = obj_copy_new(o), *orig = obj_copy_new(o);

  obj_set_str(c, "spec.a.b.c", "deep");
  obj_set_annotation(c, "k", "v");
  obj_del_annotation(c, "a/b.c");
  obj_set_label(c, "iamUserId", "abc");
  obj_remove_finalizer(c, "f1");
  obj_add_finalizer(c, "f2"); /* no duplicate */
  obj_add_finalizer(c, "f9");
  obj_del(c, "spec.n");
  ck_assert_str_eq(obj_str(c, "spec.a.b.c"), "deep");
  ck_assert_str_eq(obj_annotation(c, "k"), "v");
  ck_assert_ptr_null(obj_annotation(c, "a/b.c"));
  ck_assert_str_eq(obj_label(c, "iamUserId"), "abc");
  ck_assert_uint_eq(obj_finalizer_count(c), 2);
  ck_assert(!obj_has_finalizer(c, "f1"));
  ck_assert_int_eq(obj_int(c, "spec.n", -1), -1);
  ck_assert(json_equal(o, orig)); /* original untouched */
  json_decref(o);
  json_decref(c);
  json_decref(orig);
}
END_TEST

/* Upstream SetCondition semantics. */
START_TEST(conditions)
{
  json_t *c0 = json_array(), *c1, *c2, *c3, *c4;
  const json_t *c;

  /* A False condition that does not exist is not recorded. */
  c1 = cond_upsert_new(c0, "Ready", false, "r", "m", 100, COND_UPDATE_ALWAYS);
  ck_assert_uint_eq(json_array_size(c1), 0);
  json_decref(c1);
  c1 =
      cond_upsert_new(NULL, "Ready", true, "r1", "m1", 100, COND_UPDATE_IF_NEW);
  c = cond_find(c1, "Ready");
  ck_assert_str_eq(obj_str(c, "status"), "True");
  ck_assert_str_eq(obj_str(c, "reason"), "r1");
  ck_assert_str_eq(obj_str(c, "lastTransitionTime"), "1970-01-01T00:01:40Z");
  /* Same status: transition kept, probe refreshed, reason kept. */
  c2 = cond_upsert_new(c1, "Ready", true, "r2", "m2", 200, COND_UPDATE_IF_NEW);
  c = cond_find(c2, "Ready");
  ck_assert_str_eq(obj_str(c, "lastTransitionTime"), "1970-01-01T00:01:40Z");
  ck_assert_str_eq(obj_str(c, "lastProbeTime"), "1970-01-01T00:03:20Z");
  ck_assert_str_eq(obj_str(c, "reason"), "r1");
  ck_assert_str_eq(obj_str(c, "message"), "m1");
  /* Asked to overwrite. */
  c3 = cond_upsert_new(c2, "Ready", true, "r3", "m3", 300, COND_UPDATE_ALWAYS);
  ck_assert_str_eq(obj_str(cond_find(c3, "Ready"), "reason"), "r3");
  /* Flip: new transition time and reason. */
  c4 = cond_upsert_new(c3, "Ready", false, "r4", "m4", 400, COND_UPDATE_IF_NEW);
  c = cond_find(c4, "Ready");
  ck_assert_str_eq(obj_str(c, "status"), "False");
  ck_assert_str_eq(obj_str(c, "lastTransitionTime"), "1970-01-01T00:06:40Z");
  ck_assert_str_eq(obj_str(c, "reason"), "r4");
  ck_assert(!cond_is_true(c4, "Ready"));
  ck_assert(cond_is_true(c3, "Ready"));
  /* Inputs never mutated. */
  ck_assert_str_eq(obj_str(cond_find(c1, "Ready"), "reason"), "r1");
  ck_assert_str_eq(obj_str(cond_find(c1, "Ready"), "lastProbeTime"),
                   "1970-01-01T00:01:40Z");
  cond_all_false(c3, 500);
  ck_assert(!cond_is_true(c3, "Ready"));
  json_decref(c0);
  json_decref(c1);
  json_decref(c2);
  json_decref(c3);
  json_decref(c4);
}
END_TEST

START_TEST(cond_obj)
{
  json_t *o = pt_load("{\"status\":{\"state\":\"\"}}");
  json_t *n = cond_obj_set_new(o, "Creating", true, "r", "m", "Creating", 10,
                               COND_UPDATE_ALWAYS);

  ck_assert_str_eq(obj_str(n, "status.state"), "Creating");
  ck_assert(cond_is_true(obj_get(n, "status.conditions"), "Creating"));
  ck_assert_str_eq(obj_str(o, "status.state"), "");
  ck_assert_ptr_null(obj_get(o, "status.conditions"));
  json_decref(o);
  json_decref(n);
}
END_TEST

#define FULLCM                                                                 \
  "{\"metadata\":{\"name\":\"aws-account-operator-configmap\"},\"data\":{"     \
  "\"account-limit\":\"4700\",\"root\":\"r-1\",\"base\":\"ou-b\","             \
  "\"sts-jump-role\":\"arn:sts\",\"support-jump-role\":\"arn:sup\","           \
  "\"shard-name\":\"hive-1\",\"ami-owner\":\"123\",\"quota.vcpu\":\"64\","     \
  "\"aws-managed-tags\":\"a=1\\nb = x=y\\n\\nbad\\n\",\"accountpool\":"        \
  "\"hive:\\n  default: true\\n  servicequotas:\\n    default:\\n      "       \
  "L-1216C47A: '750'\\n  globalservicequotas:\\n    L-FE177D64: 5000\\n"       \
  "fm:\\n  default: false\\n\",\"MaxConcurrentReconciles.account\":\"4\","     \
  "\"fedramp\":\"false\",\"feature.validation_move_account\":\"true\","        \
  "\"feature.validation_tag_account\":\"true\","                               \
  "\"feature.validation_delete_account\":\"true\","                            \
  "\"feature.accountpool_validation\":\"true\","                               \
  "\"feature.accountclaim_fleet_manager_trusted_arn\":\"true\","               \
  "\"feature.opt_in_regions\":\"true\",\"feature.compliance_tags\":\"true\","  \
  "\"feature.close_on_release\":\"true\",\"close_account.dry_run\":"           \
  "\"false\",\"opt-in-regions\":\"af-south-1, ap-southeast-4\","               \
  "\"disabled-regions\":\"me-south-1\",\"app-code\":\"A\",\"service-phase\":"  \
  "\"P\",\"cost-center\":\"C\",\"payer-account-ids\":\"111111111111,"          \
  "222222222222,333333333333\","                                               \
  "\"CCS-Access-Arn\":\"arn:ccs\"}}"

START_TEST(opcfg_all_keys)
{
  json_t *cm = pt_load(FULLCM);
  const struct opcfg_pool *p;
  struct opcfg c;
  char err[256];

  ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), 0);
  ck_assert(c.has_account_limit);
  ck_assert_int_eq(c.account_limit, 4700);
  ck_assert_str_eq(c.root, "r-1");
  ck_assert_str_eq(c.base, "ou-b");
  ck_assert_str_eq(c.sts_jump_role, "arn:sts");
  ck_assert_str_eq(c.support_jump_role, "arn:sup");
  ck_assert(c.has_shard_name);
  ck_assert_str_eq(c.shard_name, "hive-1");
  ck_assert_str_eq(c.ami_owner, "123");
  ck_assert(c.has_quota_vcpu);
  ck_assert_int_eq(c.quota_vcpu, 64);
  ck_assert_str_eq(json_string_value(json_object_get(c.aws_managed_tags, "a")),
                   "1");
  ck_assert_str_eq(json_string_value(json_object_get(c.aws_managed_tags, "b")),
                   "x=y");
  ck_assert_uint_eq(json_object_size(c.aws_managed_tags), 2);
  ck_assert_uint_eq(c.npools, 2);
  p = opcfg_default_pool(&c);
  ck_assert_str_eq(p->name, "hive");
  ck_assert_int_eq(obj_int(p->servicequotas, "default.L-1216C47A", 0), 750);
  ck_assert_int_eq(obj_int(p->globalservicequotas, "L-FE177D64", 0), 5000);
  ck_assert_ptr_eq(opcfg_pool(&c, ""), p);
  ck_assert_str_eq(opcfg_pool(&c, "fm")->name, "fm");
  ck_assert_ptr_null(opcfg_pool(&c, "nope"));
  ck_assert(opcfg_pool_match(&c, "", "hive"));
  ck_assert(!opcfg_pool_match(&c, "", "fm"));
  ck_assert_int_eq(c.max_concurrent[OPCFG_CTRL_ACCOUNT], 4);
  ck_assert_int_eq(c.max_concurrent[OPCFG_CTRL_ACCOUNTCLAIM], 1);
  ck_assert_str_eq(opcfg_ctrl_name(OPCFG_CTRL_AWSFEDERATEDROLE),
                   "awsfederatedrole");
  ck_assert(!c.fedramp);
  ck_assert(c.feat_validation_move_account && c.feat_validation_tag_account &&
            c.feat_validation_delete_account && c.feat_accountpool_validation &&
            c.feat_fleet_manager_trusted_arn && c.feat_opt_in_regions &&
            c.feat_compliance_tags && c.feat_close_on_release);
  ck_assert(!c.close_account_dry_run);
  ck_assert_uint_eq(json_array_size(c.opt_in_regions), 2);
  ck_assert_str_eq(json_string_value(json_array_get(c.opt_in_regions, 1)),
                   "ap-southeast-4");
  ck_assert(opcfg_region_disabled(&c, "me-south-1"));
  ck_assert(!opcfg_region_disabled(&c, "us-east-1"));
  ck_assert_str_eq(c.app_code, "A");
  ck_assert_str_eq(c.service_phase, "P");
  ck_assert_str_eq(c.cost_center, "C");
  ck_assert_str_eq(c.ccs_access_arn, "arn:ccs");
  ck_assert(opcfg_is_payer(&c, "222222222222"));
  ck_assert(!opcfg_is_payer(&c, "444444444444"));
  ck_assert(!opcfg_is_payer(&c, ""));
  opcfg_cleanup(&c);
  json_decref(cm);
}
END_TEST

START_TEST(opcfg_defaults)
{
  json_t *cm = pt_load("{\"data\":{}}");
  struct opcfg c;
  char err[256];
  size_t i;

  ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), 0);
  ck_assert(!c.has_account_limit); /* creation blocked */
  ck_assert_ptr_null(c.root);
  ck_assert(!c.has_shard_name);
  ck_assert_str_eq(c.shard_name, "");
  ck_assert_str_eq(c.ami_owner, OPCFG_DEFAULT_AMI_OWNER);
  ck_assert(!c.has_quota_vcpu);
  ck_assert(c.close_account_dry_run);
  ck_assert(!c.fedramp);
  ck_assert_uint_eq(c.npools, 0);
  ck_assert_ptr_null(opcfg_default_pool(&c));
  for (i = 0; i < OPCFG_CTRL_COUNT; i++)
    ck_assert_int_eq(c.max_concurrent[i], 1);
  ck_assert_int_eq(c.iam_key_max_age_s, 0); /* rotation off */
  ck_assert_int_eq(c.iam_key_grace_s, OPCFG_DEFAULT_KEY_GRACE_S);
  ck_assert(c.revoke_on_reuse);
  opcfg_cleanup(&c);
  json_decref(cm);
  /* The data object alone is accepted too; invalid dry_run means true. */
  cm = pt_load("{\"close_account.dry_run\":\"maybe\",\"shard-name\":\"\"}");
  ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), 0);
  ck_assert(c.close_account_dry_run);
  ck_assert(c.has_shard_name);
  opcfg_cleanup(&c);
  json_decref(cm);
}
END_TEST

static const struct {
  const char *data;
  const char *word;
} bad_cms[] = {
  { "{\"account-limit\":\"lots\"}", "account-limit" },
  { "{\"account-limit\":\"-1\"}", "account-limit" },
  { "{\"quota.vcpu\":\"1.5\"}", "quota.vcpu" },
  { "{\"fedramp\":\"perhaps\"}", "fedramp" },
  { "{\"feature.opt_in_regions\":\"yes please\"}", "feature.opt_in_regions" },
  { "{\"MaxConcurrentReconciles.account\":\"0\"}", "MaxConcurrentReconciles" },
  { "{\"accountpool\":\"[unclosed\"}", "invalid YAML" },
  { "{\"accountpool\":\"- a\\n- b\\n\"}", "mapping" },
  { "{\"accountpool\":\"a:\\n  default: maybe\\n\"}", "default" },
  { "{\"accountpool\":\"a:\\n  default: true\\nb:\\n  default: true\\n\"}",
    "more than one" },
  { "{\"accountpool\":\"a:\\n  servicequotas:\\n    default:\\n      L-1: "
    "x\\n\"}",
    "integer" },
  /* hostile values: each refused, naming its key */
  { "{\"account-limit\":\"99999999999999999999999\"}", "account-limit" },
  { "{\"account-limit\":\"1e3\"}", "account-limit" },
  { "{\"MaxConcurrentReconciles.account\":\"-3\"}", "MaxConcurrentReconciles" },
  { "{\"feature.close_on_release\":\"1.0\"}", "feature.close_on_release" },
  { "{\"opt-in-regions\":\"af-south-1,not a region\"}", "opt-in-regions" },
  { "{\"opt-in-regions\":\"../../x\"}", "opt-in-regions" },
  { "{\"disabled-regions\":\"US-EAST-1\"}", "disabled-regions" },
  { "{\"payer-account-ids\":\"12345\"}", "payer-account-ids" },
  { "{\"payer-account-ids\":\"111111111111,abc\"}", "payer-account-ids" },
  { "{\"iam-key-max-age\":\"90\"}", "iam-key-max-age" },
  { "{\"iam-key-max-age\":\"1d\"}", "iam-key-max-age" },
  { "{\"iam-key-max-age\":\"0s\"}", "iam-key-max-age" },
  { "{\"iam-key-max-age\":\"-5m\"}", "iam-key-max-age" },
  { "{\"iam-key-rotation-grace\":\"1.5h\"}", "iam-key-rotation-grace" },
  { "{\"iam-key-rotation-grace\":\"99999999999999999999h\"}",
    "iam-key-rotation-grace" },
  { "{\"revoke-credentials-on-reuse\":\"sometimes\"}",
    "revoke-credentials-on-reuse" },
};

START_TEST(opcfg_errors)
{
  json_t *cm = pt_load(bad_cms[_i].data);
  struct opcfg c;
  char err[256] = "";

  ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), OP_ECONFIG);
  ck_assert_msg(strstr(err, bad_cms[_i].word), "error '%s' lacks '%s'", err,
                bad_cms[_i].word);
  json_decref(cm);
}
END_TEST

/* Values that become AWS tags are held to the tag limits. */
START_TEST(opcfg_key_rotation)
{
  json_t *cm = pt_load("{\"iam-key-max-age\":\" 2160h \","
                       "\"iam-key-rotation-grace\":\"1m30s\","
                       "\"revoke-credentials-on-reuse\":\"false\"}");
  struct opcfg c;
  char err[256];

  ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), 0);
  ck_assert_int_eq(c.iam_key_max_age_s, 2160LL * 3600);
  ck_assert_int_eq(c.iam_key_grace_s, 90);
  ck_assert(!c.revoke_on_reuse);
  opcfg_cleanup(&c);
  json_decref(cm);
  /* empty means the default, as for the other keys */
  cm = pt_load("{\"iam-key-max-age\":\"\",\"iam-key-rotation-grace\":\"\"}");
  ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), 0);
  ck_assert_int_eq(c.iam_key_max_age_s, 0);
  ck_assert_int_eq(c.iam_key_grace_s, OPCFG_DEFAULT_KEY_GRACE_S);
  opcfg_cleanup(&c);
  json_decref(cm);
}
END_TEST

START_TEST(opcfg_tag_limits)
{
  static const char *const keys[] = { "shard-name", "app-code", "service-phase",
                                      "cost-center", "aws-managed-tags" };
  char v[400], kv[600];
  struct opcfg c;
  char err[256];
  json_t *cm;

  memset(v, 'x', 257);
  v[257] = '\0';
  cm = json_object();
  json_object_set_new(cm, keys[_i], json_string(v));
  if (_i == 4) { /* a 129-character key, then a 257-character value */
    v[129] = '\0';
    str_fmt(kv, sizeof(kv), "%s=1\nok=2", v);
    json_object_set_new(cm, keys[_i], json_string(kv));
  }
  ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), OP_ECONFIG);
  ck_assert_msg(strstr(err, keys[_i]), "%s", err);
  if (_i == 4) {
    memset(v, 'x', 257);
    v[257] = '\0';
    str_fmt(kv, sizeof(kv), "k=%s", v);
    json_object_set_new(cm, keys[_i], json_string(kv));
    ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), OP_ECONFIG);
  }
  v[256] = '\0'; /* at the limit: accepted */
  str_fmt(kv, sizeof(kv), "k=%s", v);
  json_object_set_new(cm, keys[_i], json_string(_i == 4 ? kv : v));
  ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), 0);
  opcfg_cleanup(&c);
  json_decref(cm);
}
END_TEST

/* FedRAMP decides the partition of every ARN and the global region. */
START_TEST(opcfg_partition_and_region)
{
  json_t *cm = pt_load("{\"fedramp\":\"true\"}");
  struct opcfg c;
  char err[256];

  ck_assert_str_eq(opcfg_partition(NULL), "aws");
  ck_assert_str_eq(opcfg_global_region(NULL), "us-east-1");
  ck_assert_int_eq(opcfg_parse(&c, cm, err, sizeof(err)), 0);
  ck_assert_str_eq(opcfg_partition(&c), "aws-us-gov");
  ck_assert_str_eq(opcfg_global_region(&c), "us-gov-west-1");
  c.fedramp = false;
  ck_assert_str_eq(opcfg_partition(&c), "aws");
  ck_assert_str_eq(opcfg_global_region(&c), "us-east-1");
  opcfg_cleanup(&c);
  json_decref(cm);
}
END_TEST

START_TEST(names)
{
  const unsigned char rnd[6] = { 0, 25, 26, 35, 36, 255 };
  char sfx[8], name[64], email[128], d1[8], d2[8];

  names_suffix(rnd, sfx);
  ck_assert_str_eq(sfx, "az09ad");
  ck_assert_int_eq(names_account_name(sfx, name, sizeof(name)), 0);
  ck_assert_str_eq(name, "osd-creds-mgmt-az09ad");
  ck_assert_int_eq(names_account_email(name, email, sizeof(email)), 0);
  ck_assert_str_eq(email, "osd-creds-mgmt+az09ad@redhat.com");
  ck_assert_int_eq(names_account_email("libra-ops-x1", email, sizeof(email)),
                   0);
  ck_assert_str_eq(email, "libra-ops+x1@redhat.com");
  ck_assert_int_eq(names_account_email("solo", email, sizeof(email)), 0);
  ck_assert_str_eq(email, "solo+solo@redhat.com");
  ck_assert_int_eq(names_account_email("", email, sizeof(email)), OP_EINVAL);
  ck_assert_int_eq(names_account_email("a-b", email, 4), OP_ETOOBIG);
  names_suffix_from("uid-1", d1);
  names_suffix_from("uid-1", d2);
  ck_assert_str_eq(d1, d2);
  ck_assert_uint_eq(strlen(d1), 6);
}
END_TEST

/* Accesses indexed by the role they reference; no namespace means their
 * own, no name means none. */
START_TEST(access_role_index)
{
  struct store *s = store_new(0);

  ck_assert_int_eq(
      store_add_index(s, NAMES_IX_ACCESS_ROLE, names_ix_access_role, NULL), 0);
  store_put_new(s,
                json_pack("{s:{s:s,s:s},s:{s:{s:s,s:s}}}", "metadata", "name",
                          "a", "namespace", "t1", "spec", "awsFederatedRole",
                          "name", "ro", "namespace", "roles"),
                NULL);
  store_put_new(s,
                json_pack("{s:{s:s,s:s},s:{s:{s:s}}}", "metadata", "name", "b",
                          "namespace", "t1", "spec", "awsFederatedRole", "name",
                          "ro"),
                NULL);
  store_put_new(s,
                json_pack("{s:{s:s,s:s},s:{}}", "metadata", "name", "c",
                          "namespace", "t1", "spec"),
                NULL);
  ck_assert_uint_eq(store_index_count(s, NAMES_IX_ACCESS_ROLE, "roles/ro"), 1);
  ck_assert_uint_eq(store_index_count(s, NAMES_IX_ACCESS_ROLE, "t1/ro"), 1);
  ck_assert_uint_eq(store_index_count(s, NAMES_IX_ACCESS_ROLE, "t1/"), 0);
  store_free(s);
}
END_TEST

static Suite *ctrl_common_suite(void)
{
  Suite *s = suite_create("ctrl_common");
  TCase *tc = tcase_create("common");

  tcase_add_test(tc, accessors);
  tcase_add_test(tc, builders_copy);
  tcase_add_test(tc, conditions);
  tcase_add_test(tc, cond_obj);
  tcase_add_test(tc, opcfg_key_rotation);
  tcase_add_test(tc, opcfg_all_keys);
  tcase_add_test(tc, opcfg_defaults);
  tcase_add_loop_test(tc, opcfg_tag_limits, 0, 5);
  tcase_add_loop_test(tc, opcfg_errors, 0,
                      (int)(sizeof(bad_cms) / sizeof(bad_cms[0])));
  tcase_add_test(tc, opcfg_partition_and_region);
  tcase_add_test(tc, names);
  tcase_add_test(tc, access_role_index);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(ctrl_common_suite)
