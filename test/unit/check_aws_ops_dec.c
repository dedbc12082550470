/* pkg/aws operations, response side: every decoder against fixtures in
 * each protocol's real shape (test/unit/fixtures/aws/ops/), plus empty
 * lists, pagination tokens, missing optional fields, and malformed or
 * truncated bodies (OP_EPARSE, never a crash or a leak). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "aws/ops_int.h"
#include "testutil.h"
#include "util/err.h"
#include "util/util.h"

#define FIXDIR "test/unit/fixtures/aws/ops/"

static char *fixture(const char *name, size_t *len)
{
  char path[256];
  FILE *f;
  char *data;
  long n;

  snprintf(path, sizeof(path), FIXDIR "%s", name);
  f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "missing fixture %s (run from the checkout)", path);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  data = malloc((size_t)n + 1);
  ck_assert_uint_eq(fread(data, 1, (size_t)n, f), (size_t)n);
  data[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return data;
}

/* Decode fixture `name` with aws_dec_<f> into `r` (type aws_<res>). */
#define DECODE(f, name, r)                                                     \
  do {                                                                         \
    size_t len_;                                                               \
    char *b_ = fixture(name, &len_);                                           \
    ck_assert_int_eq(aws_dec_##f(b_, len_, &(r)), 0);                          \
    ck_assert_ptr_nonnull(r);                                                  \
    free(b_);                                                                  \
  } while (0)

#define DECODE_FAILS(f, name, want)                                            \
  do {                                                                         \
    size_t len_;                                                               \
    char *b_ = fixture(name, &len_);                                           \
    void *r_ = NULL;                                                           \
    ck_assert_int_eq(aws_dec_##f(b_, len_, (void *)&r_), want);                \
    ck_assert_ptr_null(r_);                                                    \
    free(b_);                                                                  \
  } while (0)

/* Type-erased decoders for the table-driven tests. */
typedef int (*tdec_fn)(const char *b, size_t n);
#define TDEC(f, op, svc, proto, idem, req, res)                                \
  static int tdec_##f(const char *b, size_t n)                                 \
  {                                                                            \
    struct aws_##res *r = NULL;                                                \
    int rc = aws_dec_##f(b, n, &r);                                            \
    ck_assert(rc == 0 ? r != NULL : r == NULL);                                \
    aws_##res##_free(r);                                                       \
    return rc;                                                                 \
  }
AWS_OPS(TDEC)
#undef TDEC

struct tdec_entry {
  const char *name;
  tdec_fn fn;
};

static const struct tdec_entry all_decoders[] = {
#define TENT(f, op, svc, proto, idem, req, res) { #f, tdec_##f },
  AWS_OPS(TENT)
#undef TENT
};

/* REST calls answered with no body (204 or empty 200) accept anything. */
static bool accepts_any(const char *name)
{
  static const char *const any[] = { "enable_region", "delete_bucket",
                                     "create_bucket", "put_object" };
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(any); i++)
    if (!strcmp(any[i], name))
      return true;
  return false;
}

/* ---- Organizations ------------------------------------------------------ */

START_TEST(orgs_decoders)
{
  struct aws_car_status_result *car = NULL;
  struct aws_car_status_list_result *cl = NULL;
  struct aws_org_accounts_result *acc = NULL;
  struct aws_org_account_result *one = NULL;
  struct aws_org_organization_result *org = NULL;
  struct aws_org_refs_result *refs = NULL;
  struct aws_org_ou_result *ou = NULL;
  struct aws_org_ous_result *ous = NULL;
  struct aws_tags_result *tags = NULL;

  DECODE(create_account, "orgs_create_account.json", car);
  ck_assert_str_eq(car->status.id, "car-0123456789abcdef0123456789abcdef");
  ck_assert_str_eq(car->status.state, "IN_PROGRESS");
  ck_assert_ptr_null(car->status.account_id);
  ck_assert_ptr_null(car->status.failure_reason);
  aws_car_status_result_free(car);

  DECODE(describe_create_account_status, "orgs_describe_car_failed.json", car);
  ck_assert_str_eq(car->status.state, "FAILED");
  ck_assert_str_eq(car->status.failure_reason, "ACCOUNT_LIMIT_EXCEEDED");
  aws_car_status_result_free(car);

  DECODE(list_create_account_status, "orgs_list_car_status.json", cl);
  ck_assert_uint_eq(cl->n, 2);
  ck_assert_str_eq(cl->v[1].account_id, "111122223333");
  ck_assert_str_eq(cl->next_token, "tok/2+==");
  aws_car_status_list_result_free(cl);

  DECODE(list_accounts, "orgs_list_accounts_page1.json", acc);
  ck_assert_uint_eq(acc->n, 2);
  ck_assert_str_eq(acc->v[0].id, "111111111111");
  ck_assert_str_eq(acc->v[1].status, "SUSPENDED");
  ck_assert_str_eq(acc->next_token, "AAEAAQ");
  aws_org_accounts_result_free(acc);

  DECODE(list_accounts, "orgs_list_accounts_empty.json", acc);
  ck_assert_uint_eq(acc->n, 0);
  ck_assert_ptr_null(acc->next_token);
  aws_org_accounts_result_free(acc);
  DECODE_FAILS(list_accounts, "orgs_accounts_not_array.json", OP_EPARSE);

  DECODE(describe_account, "orgs_describe_account.json", one);
  ck_assert_str_eq(one->account.status, "PENDING_CLOSURE");
  aws_org_account_result_free(one);

  DECODE(describe_organization, "orgs_describe_organization.json", org);
  ck_assert_str_eq(org->master_account_id, "999999999999");
  ck_assert_str_eq(org->feature_set, "ALL");
  aws_org_organization_result_free(org);

  DECODE(list_parents, "orgs_list_parents.json", refs);
  ck_assert_uint_eq(refs->n, 1);
  ck_assert_str_eq(refs->v[0].type, "ORGANIZATIONAL_UNIT");
  ck_assert_ptr_null(refs->next_token);
  aws_org_refs_result_free(refs);
  DECODE(list_children, "orgs_list_children.json", refs);
  ck_assert_uint_eq(refs->n, 2);
  ck_assert_str_eq(refs->next_token, "next-children");
  aws_org_refs_result_free(refs);

  DECODE(create_organizational_unit, "orgs_create_ou.json", ou);
  ck_assert_str_eq(ou->ou.id, "ou-ab12-newou123");
  ck_assert_str_eq(ou->ou.name, "legal-entity-1");
  aws_org_ou_result_free(ou);
  DECODE(list_organizational_units_for_parent, "orgs_list_ous.json", ous);
  ck_assert_uint_eq(ous->n, 2);
  ck_assert_str_eq(ous->v[1].name, "le-b");
  aws_org_ous_result_free(ous);

  DECODE(org_list_tags_for_resource, "orgs_list_tags.json", tags);
  ck_assert_uint_eq(tags->n, 2);
  ck_assert_str_eq(tags->v[0].key, "owner");
  ck_assert_str_eq(tags->v[1].value, "");
  ck_assert(!tags->is_truncated);
  aws_tags_result_free(tags);

  /* A described account without its object, a status without State. */
  ck_assert_int_eq(tdec_describe_account("{}", 2), OP_EPARSE);
  ck_assert_int_eq(tdec_create_account("{\"CreateAccountStatus\":{}}", 26),
                   OP_EPARSE);
  ck_assert_int_eq(tdec_move_account("{}", 2), 0);
}
END_TEST

/* ---- STS ---------------------------------------------------------------- */

START_TEST(sts_decoders)
{
  struct aws_sts_creds_result *c = NULL;
  struct aws_caller_identity_result *id = NULL;

  DECODE(assume_role, "sts_assume_role.xml", c);
  ck_assert_str_eq(c->creds.access_key_id, "ASIAJEXAMPLEXEG2JICEA");
  ck_assert_str_eq(c->creds.secret_access_key,
                   "9drTJvcXLB89EXAMPLELB8923FB892xMFI");
  ck_assert(strncmp(c->creds.session_token, "AQoXdzELDDY", 11) == 0);
  ck_assert_str_eq(c->creds.expiration, "2026-11-23T17:00:00Z");
  ck_assert_str_eq(c->assumed_role_id,
                   "AROA3XFRBF535PLBIFPI4:awsAccountOperator");
  aws_sts_creds_result_free(c);

  DECODE(assume_role_with_web_identity, "sts_web_identity.xml", c);
  ck_assert_str_eq(c->creds.access_key_id, "ASIAIOSFODNN7EXAMPLE");
  ck_assert_str_eq(c->arn,
                   "arn:aws:sts::999999999999:assumed-role/aao-irsa/op");
  aws_sts_creds_result_free(c);

  DECODE(get_federation_token, "sts_federation_token.xml", c);
  ck_assert_str_eq(c->assumed_role_id, "999999999999:Bob");
  aws_sts_creds_result_free(c);

  DECODE(get_caller_identity, "sts_caller_identity.xml", id);
  ck_assert_str_eq(id->account, "999999999999");
  ck_assert_str_eq(id->arn, "arn:aws:iam::999999999999:user/aao");
  aws_caller_identity_result_free(id);

  DECODE_FAILS(assume_role, "sts_assume_role_no_creds.xml", OP_EPARSE);
  /* The right shape under the wrong operation is not accepted. */
  DECODE_FAILS(get_federation_token, "sts_assume_role.xml", OP_EPARSE);
}
END_TEST

/* ---- IAM ---------------------------------------------------------------- */

START_TEST(iam_user_decoders)
{
  struct aws_iam_user_result *u = NULL;
  struct aws_iam_users_result *us = NULL;
  struct aws_tags_result *t = NULL;
  struct aws_iam_attached_result *ap = NULL;
  struct aws_iam_access_key_result *k = NULL;
  struct aws_iam_access_keys_result *ks = NULL;
  struct aws_empty_result *e = NULL;

  DECODE(get_user, "iam_get_user.xml", u);
  ck_assert_str_eq(u->user.user_name, "osdManagedAdmin-abc123");
  ck_assert_str_eq(u->user.user_id, "AIDAUSER1");
  ck_assert_str_eq(u->user.arn,
                   "arn:aws:iam::111111111111:user/osdManagedAdmin-abc123");
  aws_iam_user_result_free(u);
  DECODE(create_user, "iam_create_user.xml", u);
  ck_assert_str_eq(u->user.path, "/");
  aws_iam_user_result_free(u);

  DECODE(list_users, "iam_list_users_truncated.xml", us);
  ck_assert_uint_eq(us->n, 2);
  ck_assert(us->is_truncated);
  ck_assert_str_eq(us->marker, "bWFya2VyLTE=");
  ck_assert_str_eq(us->v[1].user_name, "u2");
  aws_iam_users_result_free(us);
  DECODE(list_users, "iam_list_users_empty.xml", us);
  ck_assert_uint_eq(us->n, 0);
  ck_assert(!us->is_truncated);
  ck_assert_ptr_null(us->marker);
  aws_iam_users_result_free(us);
  DECODE_FAILS(list_users, "iam_list_users_truncated_no_marker.xml", OP_EPARSE);

  DECODE(list_user_tags, "iam_list_user_tags.xml", t);
  ck_assert_uint_eq(t->n, 2);
  ck_assert_str_eq(t->v[1].value, "aws-account-operator");
  aws_tags_result_free(t);

  DECODE(list_attached_user_policies, "iam_list_attached_user_policies.xml",
         ap);
  ck_assert_uint_eq(ap->n, 1);
  ck_assert_str_eq(ap->v[0].policy_arn,
                   "arn:aws:iam::aws:policy/AdministratorAccess");
  aws_iam_attached_result_free(ap);

  DECODE(create_access_key, "iam_create_access_key.xml", k);
  ck_assert_str_eq(k->key.access_key_id, "AKIAIOSFODNN7EXAMPLE");
  ck_assert_str_eq(k->key.secret_access_key,
                   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
  aws_iam_access_key_result_free(k);
  DECODE_FAILS(create_access_key, "iam_create_access_key_no_secret.xml",
               OP_EPARSE);

  DECODE(list_access_keys, "iam_list_access_keys.xml", ks);
  ck_assert_uint_eq(ks->n, 2);
  ck_assert_str_eq(ks->v[1].status, "Inactive");
  ck_assert_ptr_null(ks->v[0].secret_access_key);
  aws_iam_access_keys_result_free(ks);

  DECODE(delete_user, "iam_delete_user.xml", e);
  aws_empty_result_free(e);
  DECODE_FAILS(get_user, "iam_doctype.xml", OP_EPARSE);
}
END_TEST

START_TEST(iam_role_policy_decoders)
{
  struct aws_iam_role_result *r = NULL;
  struct aws_iam_roles_result *rs = NULL;
  struct aws_tags_result *t = NULL;
  struct aws_iam_attached_result *ap = NULL;
  struct aws_iam_names_result *nm = NULL;
  struct aws_iam_policy_result *p = NULL;
  struct aws_iam_policy_version_result *pv = NULL;
  struct aws_iam_policy_versions_result *pvs = NULL;
  struct aws_iam_policies_result *ps = NULL;
  struct aws_empty_result *e = NULL;

  DECODE(get_role, "iam_get_role.xml", r);
  ck_assert_str_eq(r->role.role_id, "AROAROLE1");
  ck_assert_str_eq(r->role.description, "AdminAccess for BYOC");
  ck_assert_str_eq(r->role.assume_role_policy_document,
                   "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                   "\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::"
                   "999999999999:user/aao\"},\"Action\":\"sts:AssumeRole\"}]}");
  aws_iam_role_result_free(r);
  DECODE(create_role, "iam_create_role.xml", r);
  ck_assert_str_eq(r->role.role_name, "managed-sts-role");
  aws_iam_role_result_free(r);

  DECODE(list_roles, "iam_list_roles.xml", rs);
  ck_assert_uint_eq(rs->n, 2);
  ck_assert_ptr_null(rs->v[1].description);
  ck_assert_ptr_null(rs->v[1].assume_role_policy_document);
  aws_iam_roles_result_free(rs);

  DECODE(list_role_tags, "iam_list_role_tags.xml", t);
  ck_assert(t->is_truncated);
  ck_assert_str_eq(t->next_token, "m2");
  aws_tags_result_free(t);

  DECODE(list_attached_role_policies, "iam_list_attached_role_policies.xml",
         ap);
  ck_assert_uint_eq(ap->n, 2);
  ck_assert_str_eq(ap->v[1].policy_name, "ReadOnlyAccess");
  aws_iam_attached_result_free(ap);

  DECODE(update_assume_role_policy, "iam_update_assume_role_policy.xml", e);
  aws_empty_result_free(e);

  DECODE(list_role_policies, "iam_list_role_policies.xml", nm);
  ck_assert_uint_eq(nm->names.n, 2);
  ck_assert_str_eq(nm->names.v[0], "AAO-CustomPolicy");
  aws_iam_names_result_free(nm);

  DECODE(create_policy, "iam_create_policy.xml", p);
  ck_assert_str_eq(p->policy.arn,
                   "arn:aws:iam::111111111111:policy/custom-abc123");
  ck_assert_str_eq(p->policy.default_version_id, "v1");
  aws_iam_policy_result_free(p);
  DECODE(get_policy, "iam_get_policy.xml", p);
  aws_iam_policy_result_free(p);

  DECODE(get_policy_version, "iam_get_policy_version.xml", pv);
  ck_assert(pv->version.is_default_version);
  ck_assert_str_eq(pv->version.version_id, "v2");
  ck_assert(strncmp(pv->version.document, "{\"Version\"", 10) == 0);
  aws_iam_policy_version_result_free(pv);
  DECODE(create_policy_version, "iam_create_policy_version.xml", pv);
  ck_assert_ptr_null(pv->version.document);
  aws_iam_policy_version_result_free(pv);

  DECODE(list_policy_versions, "iam_list_policy_versions.xml", pvs);
  ck_assert_uint_eq(pvs->n, 2);
  ck_assert(!pvs->v[0].is_default_version);
  ck_assert(pvs->v[1].is_default_version);
  aws_iam_policy_versions_result_free(pvs);

  DECODE(list_policies, "iam_list_policies.xml", ps);
  ck_assert_uint_eq(ps->n, 2);
  ck_assert(ps->is_truncated);
  ck_assert_str_eq(ps->marker, "pol-marker");
  aws_iam_policies_result_free(ps);
}
END_TEST

/* ---- Support, Service Quotas, Account ----------------------------------- */

START_TEST(json_service_decoders)
{
  struct aws_create_case_result *cc = NULL;
  struct aws_describe_cases_result *dc = NULL;
  struct aws_service_quota_result *q = NULL;
  struct aws_quota_change_result *ch = NULL;
  struct aws_quota_changes_result *hs = NULL;
  struct aws_region_opt_result *ro = NULL;

  DECODE(create_case, "support_create_case.json", cc);
  ck_assert_str_eq(cc->case_id, "case-999999999999-muen-2026-abcdef0123456789");
  aws_create_case_result_free(cc);
  DECODE(describe_cases, "support_describe_cases.json", dc);
  ck_assert_uint_eq(dc->n, 1);
  ck_assert_str_eq(dc->v[0].status, "resolved");
  ck_assert_str_eq(dc->v[0].display_id, "11111111");
  ck_assert_ptr_null(dc->next_token); /* JSON null */
  aws_describe_cases_result_free(dc);

  DECODE(get_service_quota, "sq_get_quota.json", q);
  ck_assert(q->has_value);
  ck_assert(q->value == 5.0);
  ck_assert(q->adjustable);
  ck_assert_str_eq(q->quota_code, "L-1216C47A");
  aws_service_quota_result_free(q);
  DECODE(get_service_quota, "sq_get_quota_no_value.json", q);
  ck_assert(!q->has_value);
  ck_assert(!q->adjustable);
  aws_service_quota_result_free(q);

  DECODE(request_service_quota_increase, "sq_request_increase.json", ch);
  ck_assert_str_eq(ch->change.status, "PENDING");
  ck_assert(ch->change.desired_value == 100.0);
  aws_quota_change_result_free(ch);

  DECODE(list_quota_change_history_by_quota, "sq_history.json", hs);
  ck_assert_uint_eq(hs->n, 2);
  ck_assert_str_eq(hs->v[0].status, "CASE_OPENED");
  ck_assert_str_eq(hs->v[1].status, "DENIED");
  ck_assert_ptr_null(hs->v[1].case_id);
  ck_assert_str_eq(hs->next_token, "sq-next");
  aws_quota_changes_result_free(hs);

  DECODE(get_region_opt_status, "acct_region_opt.json", ro);
  ck_assert_str_eq(ro->region_opt_status, "DISABLED");
  ck_assert_str_eq(ro->region_name, "af-south-1");
  aws_region_opt_result_free(ro);

  ck_assert_int_eq(tdec_create_case("{}", 2), OP_EPARSE);
  ck_assert_int_eq(tdec_get_service_quota("{\"Quota\":[]}", 12), OP_EPARSE);
  ck_assert_int_eq(tdec_describe_cases("{\"cases\":[1]}", 13), OP_EPARSE);
}
END_TEST

/* ---- EC2 ---------------------------------------------------------------- */

START_TEST(ec2_decoders)
{
  struct aws_ec2_regions_result *rg = NULL;
  struct aws_ec2_instances_result *in = NULL;
  struct aws_ec2_instance_states_result *st = NULL;
  struct aws_ec2_ids_result *ids = NULL;
  struct aws_ec2_images_result *im = NULL;
  struct aws_ec2_snapshots_result *sn = NULL;
  struct aws_ec2_unsuccessful_result *un = NULL;
  struct aws_empty_result *e = NULL;

  DECODE(describe_regions, "ec2_describe_regions.xml", rg);
  ck_assert_uint_eq(rg->n, 2);
  ck_assert_str_eq(rg->v[1].region_name, "af-south-1");
  ck_assert_str_eq(rg->v[1].opt_in_status, "opted-in");
  aws_ec2_regions_result_free(rg);

  DECODE(describe_instances, "ec2_describe_instances.xml", in);
  ck_assert_uint_eq(in->n, 3); /* two reservations, flattened */
  ck_assert_str_eq(in->v[0].instance_id, "i-0000000000000001a");
  ck_assert_int_eq(in->v[0].state_code, 16);
  ck_assert_uint_eq(in->v[0].ntags, 2);
  ck_assert_str_eq(in->v[0].tags[1].value, "red-hat-region-init");
  ck_assert_uint_eq(in->v[1].ntags, 0);
  ck_assert_int_eq(in->v[2].state_code, 48);
  ck_assert_str_eq(in->next_token, "eyJ2IjoiMiJ9");
  aws_ec2_instances_result_free(in);
  DECODE(describe_instances, "ec2_describe_instances_empty.xml", in);
  ck_assert_uint_eq(in->n, 0);
  ck_assert_ptr_null(in->next_token);
  aws_ec2_instances_result_free(in);
  DECODE_FAILS(describe_instances, "ec2_describe_instances_badcode.xml",
               OP_EPARSE);

  DECODE(run_instances, "ec2_run_instances.xml", in);
  ck_assert_uint_eq(in->n, 1);
  ck_assert_str_eq(in->v[0].instance_id, "i-0abc123def4567890");
  aws_ec2_instances_result_free(in);

  DECODE(describe_instance_status, "ec2_instance_status.xml", st);
  ck_assert_uint_eq(st->n, 1);
  ck_assert_int_eq(st->v[0].state_code, 16);
  aws_ec2_instance_states_result_free(st);
  DECODE(terminate_instances, "ec2_terminate.xml", st);
  ck_assert_str_eq(st->v[0].state_name, "shutting-down");
  ck_assert_int_eq(st->v[0].state_code, 32);
  aws_ec2_instance_states_result_free(st);

  DECODE(describe_instance_types, "ec2_instance_types.xml", ids);
  ck_assert_uint_eq(ids->ids.n, 1);
  ck_assert_str_eq(ids->ids.v[0], "t3.micro");
  aws_ec2_ids_result_free(ids);
  DECODE(describe_instance_types, "ec2_instance_types_empty.xml", ids);
  ck_assert_uint_eq(ids->ids.n, 0);
  aws_ec2_ids_result_free(ids);
  DECODE(describe_volumes, "ec2_volumes.xml", ids);
  ck_assert_uint_eq(ids->ids.n, 2);
  ck_assert_str_eq(ids->next_token, "vol-next");
  aws_ec2_ids_result_free(ids);
  DECODE(describe_snapshots, "ec2_snapshots.xml", sn);
  ck_assert_uint_eq(sn->n, 2);
  ck_assert_str_eq(sn->v[0].snapshot_id, "snap-0001");
  ck_assert_str_eq(sn->v[0].owner_id, "111111111111");
  ck_assert_str_eq(sn->v[0].volume_id, "vol-0001");
  ck_assert_str_eq(sn->v[0].state, "completed");
  ck_assert_str_eq(sn->v[1].owner_id, "222222222222");
  ck_assert_str_eq(sn->next_token, "snap-next");
  aws_ec2_snapshots_result_free(sn);
  DECODE(describe_vpc_endpoint_service_configurations, "ec2_vpce_configs.xml",
         ids);
  ck_assert_str_eq(ids->ids.v[0], "vpce-svc-0001");
  aws_ec2_ids_result_free(ids);

  DECODE(describe_images, "ec2_describe_images.xml", im);
  ck_assert_uint_eq(im->n, 2);
  ck_assert_str_eq(im->v[0].name, "RHEL_HA-9.2.0_HVM-x86_64-SAP");
  ck_assert_str_eq(im->v[1].architecture, "x86_64");
  ck_assert_str_eq(im->v[1].owner_id, "309956199498");
  ck_assert_ptr_null(im->next_token);
  aws_ec2_images_result_free(im);
  DECODE(describe_images, "ec2_describe_images_self.xml", im);
  ck_assert_uint_eq(im->n, 1);
  ck_assert_str_eq(im->v[0].image_id, "ami-0ccccccccccccccc3");
  ck_assert_str_eq(im->v[0].owner_id, "111111111111");
  ck_assert_str_eq(im->next_token, "img-page-2");
  aws_ec2_images_result_free(im);
  DECODE(deregister_image, "ec2_deregister_image.xml", e);
  aws_empty_result_free(e);

  DECODE(delete_vpc_endpoint_service_configurations, "ec2_delete_vpce.xml", un);
  ck_assert_uint_eq(un->n, 1);
  ck_assert_str_eq(un->v[0].code, "InvalidVpcEndpointService.NotFound");
  ck_assert_str_eq(un->v[0].resource_id, "vpce-svc-0002");
  aws_ec2_unsuccessful_result_free(un);

  DECODE(delete_volume, "ec2_delete_volume.xml", e);
  aws_empty_result_free(e);
  /* A response for another operation is rejected. */
  DECODE_FAILS(describe_volumes, "ec2_snapshots.xml", OP_EPARSE);
}
END_TEST

/* ---- S3 and Route 53 ---------------------------------------------------- */

START_TEST(restxml_decoders)
{
  struct aws_s3_buckets_result *b = NULL;
  struct aws_s3_objects_result *o = NULL;
  struct aws_s3_delete_result *d = NULL;
  struct aws_r53_zones_result *z = NULL;
  struct aws_r53_rrsets_result *rr = NULL;
  struct aws_r53_change_info_result *ci = NULL;

  DECODE(list_buckets, "s3_list_buckets.xml", b);
  ck_assert_uint_eq(b->n, 2);
  ck_assert_str_eq(b->v[1].name, "image-registry-us-east-1");
  aws_s3_buckets_result_free(b);

  DECODE(list_objects_v2, "s3_list_objects_truncated.xml", o);
  ck_assert_uint_eq(o->n, 2);
  ck_assert_str_eq(o->v[1].key, "a & c.log");
  ck_assert_int_eq(o->v[1].size, 1048576);
  ck_assert(o->is_truncated);
  ck_assert_str_eq(o->next_continuation_token,
                   "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  aws_s3_objects_result_free(o);
  DECODE(list_objects_v2, "s3_list_objects_empty.xml", o);
  ck_assert_uint_eq(o->n, 0);
  ck_assert(!o->is_truncated);
  aws_s3_objects_result_free(o);

  DECODE(delete_objects, "s3_delete_result.xml", d);
  ck_assert_uint_eq(d->deleted.n, 1);
  ck_assert_uint_eq(d->nerrors, 1);
  ck_assert_str_eq(d->errors[0].code, "AccessDenied");
  ck_assert_str_eq(d->errors[0].key, "a & c.log");
  aws_s3_delete_result_free(d);

  DECODE(list_hosted_zones, "r53_list_zones.xml", z);
  ck_assert_uint_eq(z->n, 2);
  ck_assert_str_eq(z->v[0].id, "/hostedzone/Z1D633PJN98FT9");
  ck_assert(!z->v[0].private_zone);
  ck_assert(z->v[1].private_zone);
  ck_assert(z->is_truncated);
  ck_assert_str_eq(z->next_marker, "Z3NEXT");
  aws_r53_zones_result_free(z);

  DECODE(list_resource_record_sets, "r53_list_rrsets.xml", rr);
  ck_assert_uint_eq(rr->n, 4);
  ck_assert_str_eq(rr->v[0].type, "NS");
  ck_assert_uint_eq(rr->v[0].records.n, 2);
  ck_assert_int_eq(rr->v[0].ttl, 172800);
  ck_assert_int_eq(rr->v[2].ttl, -1);
  ck_assert_str_eq(rr->v[2].alias_dns_name,
                   "elb-1.us-east-1.elb.amazonaws.com.");
  ck_assert_uint_eq(rr->v[2].records.n, 0);
  ck_assert_str_eq(rr->v[3].set_identifier, "blue");
  ck_assert_int_eq(rr->v[3].weight, 10);
  ck_assert(rr->is_truncated);
  ck_assert_str_eq(rr->next_record_name, "x.example.com.");
  ck_assert_str_eq(rr->next_record_type, "TXT");
  ck_assert_ptr_null(rr->next_record_identifier);
  aws_r53_rrsets_result_free(rr);

  DECODE(change_resource_record_sets, "r53_change.xml", ci);
  ck_assert_str_eq(ci->status, "PENDING");
  aws_r53_change_info_result_free(ci);
  {
    struct aws_r53_zone_result *cz = NULL;
    DECODE(create_hosted_zone, "r53_create_zone.xml", cz);
    ck_assert_str_eq(cz->zone.id, "/hostedzone/Z0123456789ABCDEFGHIJ");
    ck_assert_str_eq(cz->zone.name, "e2e.example.com.");
    aws_r53_zone_result_free(cz);
  }
  DECODE(delete_hosted_zone, "r53_delete_zone.xml", ci);
  ck_assert_str_eq(ci->id, "/change/C1PA6795UKMFR9");
  aws_r53_change_info_result_free(ci);
}
END_TEST

/* A record listed by ListResourceRecordSets goes back into a DELETE with
 * every field, in the order Route 53's schema wants. */
START_TEST(route53_delete_round_trip)
{
  struct aws_r53_rrsets_result *rr = NULL;
  struct aws_r53_change ch;
  struct aws_r53_change_req cr = { "Z1", NULL, &ch, 1 };
  struct aws_wire w;

  DECODE(list_resource_record_sets, "r53_rrsets_geo.xml", rr);
  ck_assert_uint_eq(rr->n, 1);
  ck_assert(!rr->is_truncated);
  ch.action = "DELETE";
  ch.rrset = &rr->v[0];
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_change_resource_record_sets(&cr, &w), 0);
  ck_assert_ptr_nonnull(
      strstr(buf_str(&w.body),
             "<ResourceRecordSet><Name>geo.example.com.</Name><Type>A</Type>"
             "<SetIdentifier>eu</SetIdentifier><GeoLocation><ContinentCode>EU"
             "</ContinentCode></GeoLocation><MultiValueAnswer>true"
             "</MultiValueAnswer><TTL>60</TTL><ResourceRecords>"
             "<ResourceRecord><Value>192.0.2.1</Value></ResourceRecord>"
             "</ResourceRecords><HealthCheckId>abcdef11-2222-3333-4444-"
             "555555fedcba</HealthCheckId></ResourceRecordSet>"));
  aws_wire_cleanup(&w);
  aws_r53_rrsets_result_free(rr);
}
END_TEST

/* ---- pagination --------------------------------------------------------- */

START_TEST(pagination_helpers)
{
  struct aws_org_accounts_result *acc = NULL;
  struct aws_iam_users_result *us = NULL;
  struct aws_s3_objects_result *o = NULL;
  struct aws_r53_zones_result *z = NULL;
  struct aws_r53_rrsets_result *rr = NULL;
  struct aws_org_page_req la = { 0 };
  struct aws_iam_list_req lu = { 0 };
  struct aws_list_objects_req lo = { .bucket = "b" };
  struct aws_r53_page_req lz = { 0 };
  struct aws_r53_rrsets_req lr = { .hosted_zone_id = "Z1" };
  struct aws_wire w;

  DECODE(list_accounts, "orgs_list_accounts_page1.json", acc);
  ck_assert(aws_page_next_token(acc->next_token, &la.next_token));
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_list_accounts(&la, &w), 0);
  ck_assert_str_eq(buf_str(&w.body), "{\"NextToken\":\"AAEAAQ\"}");
  aws_wire_cleanup(&w);
  aws_org_accounts_result_free(acc);
  DECODE(list_accounts, "orgs_list_accounts_empty.json", acc);
  la.next_token = NULL;
  ck_assert(!aws_page_next_token(acc->next_token, &la.next_token));
  ck_assert_ptr_null(la.next_token);
  aws_org_accounts_result_free(acc);

  DECODE(list_users, "iam_list_users_truncated.xml", us);
  ck_assert(aws_page_next_marker(us->is_truncated, us->marker, &lu.marker));
  ck_assert_str_eq(lu.marker, "bWFya2VyLTE=");
  aws_iam_users_result_free(us);
  DECODE(list_users, "iam_list_users_empty.xml", us);
  ck_assert(!aws_page_next_marker(us->is_truncated, us->marker, &lu.marker));
  aws_iam_users_result_free(us);

  DECODE(list_objects_v2, "s3_list_objects_truncated.xml", o);
  ck_assert(aws_s3_objects_next(o, &lo));
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_list_objects_v2(&lo, &w), 0);
  ck_assert_str_eq(w.query, "continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgve"
                            "Ds2J%2Fwm36Hy4vbOwM%3D&list-type=2");
  aws_wire_cleanup(&w);
  aws_s3_objects_result_free(o);
  DECODE(list_objects_v2, "s3_list_objects_empty.xml", o);
  ck_assert(!aws_s3_objects_next(o, &lo));
  aws_s3_objects_result_free(o);

  DECODE(list_hosted_zones, "r53_list_zones.xml", z);
  ck_assert(aws_r53_zones_next(z, &lz));
  ck_assert_str_eq(lz.marker, "Z3NEXT");
  aws_r53_zones_result_free(z);

  DECODE(list_resource_record_sets, "r53_list_rrsets.xml", rr);
  ck_assert(aws_r53_rrsets_next(rr, &lr));
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_list_resource_record_sets(&lr, &w), 0);
  ck_assert_str_eq(w.query, "name=x.example.com.&type=TXT");
  aws_wire_cleanup(&w);
  aws_r53_rrsets_result_free(rr);
}
END_TEST

/* ---- hostile input for every decoder ------------------------------------ */

START_TEST(garbage_is_eparse)
{
  static const char *const junk[] = {
    "<<<", "{\"a\":", "not a document", "\x00\x01\x02", "<a><b></a>", "[1,2,3"
  };
  size_t i, j;

  for (i = 0; i < UTIL_ARRAY_SIZE(all_decoders); i++)
    for (j = 0; j < UTIL_ARRAY_SIZE(junk); j++) {
      int rc =
          all_decoders[i].fn(junk[j], strlen(junk[j]) ? strlen(junk[j]) : 3);
      ck_assert_msg(rc == (accepts_any(all_decoders[i].name) ? 0 : OP_EPARSE),
                    "%s on junk %zu: %d", all_decoders[i].name, j, rc);
    }
}
END_TEST

struct fixture_op {
  const char *fixture;
  tdec_fn fn;
};

static const struct fixture_op fixture_ops[] = {
  { "orgs_create_account.json", tdec_create_account },
  { "orgs_list_car_status.json", tdec_list_create_account_status },
  { "orgs_list_accounts_page1.json", tdec_list_accounts },
  { "orgs_describe_organization.json", tdec_describe_organization },
  { "orgs_list_children.json", tdec_list_children },
  { "orgs_list_tags.json", tdec_org_list_tags_for_resource },
  { "sts_assume_role.xml", tdec_assume_role },
  { "sts_caller_identity.xml", tdec_get_caller_identity },
  { "iam_get_user.xml", tdec_get_user },
  { "iam_list_users_truncated.xml", tdec_list_users },
  { "iam_create_access_key.xml", tdec_create_access_key },
  { "iam_list_access_keys.xml", tdec_list_access_keys },
  { "iam_get_role.xml", tdec_get_role },
  { "iam_list_role_policies.xml", tdec_list_role_policies },
  { "iam_get_policy_version.xml", tdec_get_policy_version },
  { "iam_list_policies.xml", tdec_list_policies },
  { "support_describe_cases.json", tdec_describe_cases },
  { "ec2_describe_regions.xml", tdec_describe_regions },
  { "ec2_describe_instances.xml", tdec_describe_instances },
  { "ec2_terminate.xml", tdec_terminate_instances },
  { "ec2_describe_images.xml", tdec_describe_images },
  { "ec2_describe_images_self.xml", tdec_describe_images },
  { "ec2_snapshots.xml", tdec_describe_snapshots },
  { "ec2_delete_vpce.xml", tdec_delete_vpc_endpoint_service_configurations },
  { "sq_get_quota.json", tdec_get_service_quota },
  { "sq_history.json", tdec_list_quota_change_history_by_quota },
  { "acct_region_opt.json", tdec_get_region_opt_status },
  { "s3_list_objects_truncated.xml", tdec_list_objects_v2 },
  { "s3_delete_result.xml", tdec_delete_objects },
  { "r53_list_zones.xml", tdec_list_hosted_zones },
  { "r53_list_rrsets.xml", tdec_list_resource_record_sets },
  { "r53_change.xml", tdec_change_resource_record_sets },
  { "r53_create_zone.xml", tdec_create_hosted_zone },
};

/* Every prefix of a real response either decodes or is OP_EPARSE; the
 * half-way cut never decodes. Under ASan this is the leak/overflow sweep. */
START_TEST(truncated_responses)
{
  size_t i, cut;

  for (i = 0; i < UTIL_ARRAY_SIZE(fixture_ops); i++) {
    size_t len;
    char *full = fixture(fixture_ops[i].fixture, &len);
    ck_assert_int_eq(fixture_ops[i].fn(full, len), 0);
    for (cut = 1; cut < len; cut += (len > 400 ? 7 : 1)) {
      char *part = malloc(cut); /* exact size: overreads trip ASan */
      int rc;
      memcpy(part, full, cut);
      rc = fixture_ops[i].fn(part, cut);
      ck_assert_msg(rc == 0 || rc == OP_EPARSE, "%s cut %zu: %d",
                    fixture_ops[i].fixture, cut, rc);
      if (cut == len / 2)
        ck_assert_int_eq(rc, OP_EPARSE);
      free(part);
    }
    free(full);
  }
}
END_TEST

static Suite *aws_ops_dec_suite(void)
{
  Suite *s = suite_create("aws_ops_dec");
  TCase *tc = tcase_create("dec");

  tcase_add_test(tc, orgs_decoders);
  tcase_add_test(tc, sts_decoders);
  tcase_add_test(tc, iam_user_decoders);
  tcase_add_test(tc, iam_role_policy_decoders);
  tcase_add_test(tc, json_service_decoders);
  tcase_add_test(tc, ec2_decoders);
  tcase_add_test(tc, restxml_decoders);
  tcase_add_test(tc, route53_delete_round_trip);
  tcase_add_test(tc, pagination_helpers);
  tcase_add_test(tc, garbage_is_eparse);
  tcase_add_test(tc, truncated_responses);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(aws_ops_dec_suite)
