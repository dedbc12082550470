/* pkg/controllers/accountclaim/exec: the AccountClaim executor against a
 * replacement aws_api table (a tiny in-memory organization and member
 * account) and a recording Kubernetes seam: each action's calls, results,
 * observations, requeues and events. */
#include <string.h>

#include "aws/core/creds.h"
#include "aws/core/errors.h"
#include "cache/store.h"
#include "controllers/account/plan.h"
#include "controllers/accountclaim/exec.h"
#include "controllers/common/obj.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define NS "aws-account-operator"
#define KEY "team/c1"
#define CM                                                                     \
  "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"                            \
  "\"aws-account-operator-configmap\",\"namespace\":\"" NS "\"},"              \
  "\"data\":{\"account-limit\":\"100\",\"root\":\"r-root\",\"base\":"          \
  "\"ou-base\"}}"
#define ACCT                                                                   \
  "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\",\"kind\":"            \
  "\"Account\",\"metadata\":{\"name\":\"osd-creds-mgmt-abc123\","              \
  "\"namespace\":\"" NS "\",\"uid\":\"u1\",\"resourceVersion\":\"3\","         \
  "\"labels\":{\"iamUserId\":\"abc123\"},\"creationTimestamp\":"               \
  "\"2026-01-01T00:00:00Z\"},\"spec\":{\"awsAccountID\":\"111122223333\","     \
  "\"iamUserSecret\":\"osd-creds-mgmt-abc123-secret\",\"claimLink\":\"c1\","   \
  "\"claimLinkNamespace\":\"team\",\"legalEntity\":{\"id\":\"le1\","           \
  "\"name\":\"LE\"}},\"status\":{\"state\":\"Ready\",\"claimed\":true}}"
/* A linked claim with supportRoleARN: next comes OU placement. */
#define CLAIM                                                                  \
  "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\",\"kind\":"            \
  "\"AccountClaim\",\"metadata\":{\"name\":\"c1\",\"namespace\":\"team\","     \
  "\"uid\":\"cu\",\"resourceVersion\":\"9\",\"creationTimestamp\":"            \
  "\"2026-01-01T00:00:00Z\",\"finalizers\":[\""                                \
  "finalizer.aws.managed.openshift.io\"]},\"spec\":{\"legalEntity\":{"         \
  "\"id\":\"le1\",\"name\":\"LE\"},\"awsCredentialSecret\":{\"name\":"         \
  "\"aws\",\"namespace\":\"team\"},\"aws\":{\"regions\":[{\"name\":"           \
  "\"us-east-1\"}]},\"accountLink\":\"osd-creds-mgmt-abc123\","                \
  "\"supportRoleARN\":\"arn:aws:iam::111122223333:role/x\"},"                  \
  "\"status\":{\"state\":\"Pending\"}}"

/* ---- the fake world ------------------------------------------------------ */

static struct fx {
  struct store *claims, *accounts, *cm;
  /* Kubernetes */
  char kcalls[16][96];
  int nk;
  json_t *created; /* last created object */
  json_t *updated; /* last updated object */
  bool secret_exists;
  bool byoc_fin;      /* the BYOC Secret "byoc" carries its finalizer */
  bool create_exists; /* create -> AlreadyExists */
  int bump_rv;        /* > 0: updates answer with a newer resourceVersion */
  int nevents;
  char ev_reason[64];
  /* AWS */
  char acalls[256][48];
  int na;
  bool ou_exists; /* CreateOrganizationalUnit -> Duplicate */
  bool ou_async;  /* CreateOrganizationalUnit answers when the test says */
  aws_create_organizational_unit_cb ou_cb;
  void *ou_arg;
  bool moved;    /* MoveAccount -> AccountNotFound, account in OU */
  bool move_dup; /* MoveAccount -> DuplicateAccountException */
  int images, snapshots, volumes, vpces, zones, zone_records;
  int foreign_snapshots; /* public snapshots of another owner, listed too */
  const char *region;    /* member calls go there; NULL = us-east-1 */
  int buckets, objects;
  const char *fail_op; /* this op fails with AccessDenied */
  char assumed_arn[128];
  struct aws_creds *session; /* the shared member session, when offered */
  char session_acct[16];     /* the account it was asked for */
  int nsession;
  /* result */
  int ndone;
  struct ctrl_result res;
  struct aws_creds *mgmt;
  struct claim_exec *e;
  struct aws_api api;
} fx;

static void kcall(const char *verb, const struct k8s_gvr *g, const char *ns,
                  const char *name)
{
  str_fmt(fx.kcalls[fx.nk++], sizeof(fx.kcalls[0]), "%s %s %s/%s", verb,
          g->resource, ns ? ns : "", name ? name : "");
}

static int k_get(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  json_t *o = NULL;

  kcall("get", g, ns, name);
  if (str_eq(name, "byoc")) {
    o = json_pack("{s:{s:s,s:s,s:[]},s:{s:s}}", "metadata", "name", "byoc",
                  "namespace", "team", "finalizers", "data",
                  "aws_access_key_id", "QUtJQQ==");
    if (fx.byoc_fin)
      obj_add_finalizer(o, "finalizer.aws.managed.openshift.io/byoc");
  } else if (str_eq(name, "osd-creds-mgmt-abc123-secret"))
    o = json_pack("{s:{s:s,s:s,s:s}}", "data", "aws_access_key_id",
                  "QUtJQQ==", "aws_secret_access_key", "c2VjcmV0", "other",
                  "eA==");
  else if (fx.secret_exists)
    o = json_pack("{s:{s:s,s:s},s:{}}", "metadata", "name", name, "namespace",
                  ns, "data");
  cb(o ? 0 : OP_ENOTFOUND, o, NULL, cbarg);
  json_decref(o);
  return 0;
}

static int k_create(void *arg, const struct k8s_gvr *g, const char *ns,
                    json_t *obj, k8s_obj_cb cb, void *cbarg)
{
  kcall("create", g, ns, obj_name(obj));
  if (fx.create_exists) {
    cb(OP_EEXIST, NULL, NULL, cbarg);
    return 0;
  }
  json_decref(fx.created);
  fx.created = json_deep_copy(obj);
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                    k8s_obj_cb cb, void *cbarg)
{
  kcall("update", g, obj_namespace(obj), obj_name(obj));
  json_decref(fx.updated);
  fx.updated = json_deep_copy(obj);
  if (fx.bump_rv) { /* answer as a server does: a newer resourceVersion */
    char rv[24];

    str_fmt(rv, sizeof(rv), "%d", 1000 + fx.bump_rv++);
    obj_set_str(obj, "metadata.resourceVersion", rv);
  }
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_update_status(void *arg, const struct k8s_gvr *g, json_t *obj,
                           k8s_obj_cb cb, void *cbarg)
{
  kcall("update_status", g, obj_namespace(obj), obj_name(obj));
  json_decref(fx.updated);
  fx.updated = json_deep_copy(obj);
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_del(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  kcall("delete", g, ns, name);
  cb(0, NULL, NULL, cbarg);
  return 0;
}

static void k_event(void *arg, json_t *obj, const char *type,
                    const char *reason, const char *msg)
{
  fx.nevents++;
  str_copy(fx.ev_reason, reason, sizeof(fx.ev_reason));
  ck_assert_ptr_null(strstr(msg, "c2VjcmV0"));
}

/* Record op; true when the test wants it to fail. */
static bool acall(const char *op)
{
  str_copy(fx.acalls[fx.na++ % 256], op, sizeof(fx.acalls[0]));
  return str_eq(fx.fail_op, op);
}

static struct aws_error denied = { .code = "AccessDenied" };

#define FAIL_IF(op, cb)                                                        \
  do {                                                                         \
    if (acall(op)) {                                                           \
      cb(OP_EAWS, &denied, NULL, arg);                                         \
      return 0;                                                                \
    }                                                                          \
  } while (0)

static int f_create_ou(struct aws_api *api, const struct aws_target *t,
                       const struct aws_create_ou_req *rq,
                       aws_create_organizational_unit_cb cb, void *arg)
{
  static struct aws_error dup = { .code =
                                      "DuplicateOrganizationalUnitException" };
  struct aws_org_ou_result r = { { "ou-new", NULL, NULL } };

  FAIL_IF("CreateOrganizationalUnit", cb);
  ck_assert_str_eq(rq->parent_id, "ou-base");
  ck_assert_str_eq(rq->name, "le1");
  if (fx.ou_async) {
    fx.ou_cb = cb;
    fx.ou_arg = arg;
  } else if (fx.ou_exists)
    cb(OP_EAWS, &dup, NULL, arg);
  else
    cb(0, NULL, &r, arg);
  return 0;
}

static int f_list_ous(struct aws_api *api, const struct aws_target *t,
                      const struct aws_list_ous_req *rq,
                      aws_list_organizational_units_for_parent_cb cb, void *arg)
{
  struct aws_org_ou p1[] = { { "ou-other", NULL, "other" } };
  struct aws_org_ou p2[] = { { "ou-le1", NULL, "le1" } };
  struct aws_org_ous_result r1 = { p1, 1, "page2" }, r2 = { p2, 1, NULL };

  FAIL_IF("ListOrganizationalUnitsForParent", cb);
  cb(0, NULL, rq->next_token ? &r2 : &r1, arg);
  return 0;
}

static int f_move(struct aws_api *api, const struct aws_target *t,
                  const struct aws_move_account_req *rq, aws_move_account_cb cb,
                  void *arg)
{
  static struct aws_error nf = { .code = "AccountNotFoundException" };
  static struct aws_error dup = { .code = "DuplicateAccountException" };
  struct aws_empty_result r = { 0 };

  FAIL_IF("MoveAccount", cb);
  if (fx.move_dup) {
    cb(OP_ECONFLICT, &dup, NULL, arg);
    return 0;
  }
  ck_assert_str_eq(rq->account_id, "111122223333");
  ck_assert_str_eq(rq->source_parent_id, "r-root");
  ck_assert_str_eq(rq->destination_parent_id, "ou-le1");
  if (fx.moved)
    cb(OP_EAWS, &nf, NULL, arg);
  else
    cb(0, NULL, &r, arg);
  fx.moved = true;
  return 0;
}

static int f_children(struct aws_api *api, const struct aws_target *t,
                      const struct aws_list_children_req *rq,
                      aws_list_children_cb cb, void *arg)
{
  struct aws_org_ref v[] = { { "111122223333", "ACCOUNT" } };
  struct aws_org_refs_result r = { v, fx.moved ? 1 : 0, NULL };

  FAIL_IF("ListChildren", cb);
  ck_assert_str_eq(rq->parent_id, "ou-le1");
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_assume(struct aws_api *api, const struct aws_target *t,
                    const struct aws_assume_role_req *rq, aws_assume_role_cb cb,
                    void *arg)
{
  struct aws_sts_creds_result r = { { "ASIAX", "sek", "tok", NULL },
                                    NULL,
                                    NULL };

  FAIL_IF("AssumeRole", cb);
  ck_assert_ptr_eq(t->creds, fx.mgmt);
  str_copy(fx.assumed_arn, rq->role_arn, sizeof(fx.assumed_arn));
  cb(0, NULL, &r, arg);
  return 0;
}

/* Member-account calls must use the assumed session, in the region. */
static void member(const struct aws_target *t)
{
  ck_assert_ptr_nonnull(t->creds);
  ck_assert_ptr_ne(t->creds, fx.mgmt);
  ck_assert_str_eq(t->region, fx.region ? fx.region : "us-east-1");
}

#define OWNER "111122223333"
#define OTHER "999988887777"

/* Page 1: an image of another owner (never touched, even if AWS listed
 * it for Owner=self); page 2: the account's. */
static int f_desc_images(struct aws_api *api, const struct aws_target *t,
                         const struct aws_describe_images_req *rq,
                         aws_describe_images_cb cb, void *arg)
{
  struct aws_ec2_image v[4] = { 0 };
  char ids[4][32];
  struct aws_ec2_images_result r = { v, 0, NULL };

  FAIL_IF("DescribeImages", cb);
  member(t);
  ck_assert_uint_eq(rq->nowners, 1);
  ck_assert_str_eq(rq->owners[0], "self");
  if (!rq->next_token) {
    v[0] =
        (struct aws_ec2_image){ .image_id = "ami-foreign", .owner_id = OTHER };
    r.n = 1;
    r.next_token = "img-p2";
  } else {
    ck_assert_str_eq(rq->next_token, "img-p2");
    for (int i = 0; i < fx.images && i < 4; i++) {
      str_fmt(ids[i], sizeof(ids[i]), "ami-own-%d", i);
      v[i] = (struct aws_ec2_image){ .image_id = ids[i], .owner_id = OWNER };
      r.n++;
    }
  }
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_dereg(struct aws_api *api, const struct aws_target *t,
                   const struct aws_ec2_image_req *rq,
                   aws_deregister_image_cb cb, void *arg)
{
  struct aws_empty_result r = { 0 };

  FAIL_IF("DeregisterImage", cb);
  member(t);
  ck_assert(str_has_prefix(rq->image_id, "ami-own-"));
  fx.images--;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_ids(int n, const char *prefix, aws_describe_volumes_cb cb,
                 void *arg)
{
  char id[32], *v[1] = { id };
  struct aws_ec2_ids_result r = { { v, n > 0 ? 1 : 0 }, NULL };

  str_fmt(id, sizeof(id), "%s-%d", prefix, n);
  cb(0, NULL, &r, arg);
  return 0;
}

/* Foreign public snapshots first, then the account's. */
static int f_desc_snap(struct aws_api *api, const struct aws_target *t,
                       const struct aws_ec2_page_req *rq,
                       aws_describe_snapshots_cb cb, void *arg)
{
  struct aws_ec2_snapshot v[8] = { 0 };
  char ids[8][32];
  struct aws_ec2_snapshots_result r = { v, 0, NULL };

  FAIL_IF("DescribeSnapshots", cb);
  member(t);
  ck_assert_uint_eq(rq->nowner_ids, 1);
  ck_assert_str_eq(rq->owner_ids[0], "self");
  for (int i = 0; i < fx.foreign_snapshots + fx.snapshots && i < 8; i++) {
    bool foreign = i < fx.foreign_snapshots;
    str_fmt(ids[i], sizeof(ids[i]), "snap-%s-%d", foreign ? "public" : "own",
            i);
    v[r.n++] = (struct aws_ec2_snapshot){ .snapshot_id = ids[i],
                                          .owner_id = foreign ? OTHER : OWNER };
  }
  cb(0, NULL, &r, arg);
  return 0;
}

/* A registered image keeps its snapshot InUse, as in EC2. */
static int f_del_snap(struct aws_api *api, const struct aws_target *t,
                      const struct aws_ec2_snapshot_req *rq,
                      aws_delete_snapshot_cb cb, void *arg)
{
  static struct aws_error in_use = { .code = "InvalidSnapshot.InUse" };
  struct aws_empty_result r = { 0 };

  FAIL_IF("DeleteSnapshot", cb);
  ck_assert_msg(str_has_prefix(rq->snapshot_id, "snap-own-"),
                "deleted %s of another owner", rq->snapshot_id);
  if (fx.images > 0) {
    cb(OP_EAWS, &in_use, NULL, arg);
    return 0;
  }
  fx.snapshots--;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_desc_vol(struct aws_api *api, const struct aws_target *t,
                      const struct aws_ec2_page_req *rq,
                      aws_describe_volumes_cb cb, void *arg)
{
  FAIL_IF("DescribeVolumes", cb);
  member(t);
  return f_ids(fx.volumes, "vol", cb, arg);
}

static int f_del_vol(struct aws_api *api, const struct aws_target *t,
                     const struct aws_ec2_volume_req *rq,
                     aws_delete_volume_cb cb, void *arg)
{
  struct aws_empty_result r = { 0 };

  FAIL_IF("DeleteVolume", cb);
  fx.volumes--;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_list_buckets(struct aws_api *api, const struct aws_target *t,
                          const struct aws_s3_none_req *rq,
                          aws_list_buckets_cb cb, void *arg)
{
  struct aws_s3_bucket b[] = { { "vended-bucket", NULL } };
  struct aws_s3_buckets_result r = { b, fx.buckets > 0 ? 1 : 0 };

  FAIL_IF("ListBuckets", cb);
  member(t);
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_list_objects(struct aws_api *api, const struct aws_target *t,
                          const struct aws_list_objects_req *rq,
                          aws_list_objects_v2_cb cb, void *arg)
{
  struct aws_s3_object o[] = { { "k1", 1 }, { "k2", 2 } };
  struct aws_s3_objects_result r = { o, (size_t)fx.objects, false, NULL };

  FAIL_IF("ListObjectsV2", cb);
  ck_assert_str_eq(rq->bucket, "vended-bucket");
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_delete_objects(struct aws_api *api, const struct aws_target *t,
                            const struct aws_delete_objects_req *rq,
                            aws_delete_objects_cb cb, void *arg)
{
  struct aws_s3_delete_result r = { { NULL, 0 }, NULL, 0 };

  FAIL_IF("DeleteObjects", cb);
  ck_assert_uint_eq(rq->nkeys, (size_t)fx.objects);
  ck_assert_str_eq(rq->keys[0], "k1");
  fx.objects = 0;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_delete_bucket(struct aws_api *api, const struct aws_target *t,
                           const struct aws_s3_bucket_req *rq,
                           aws_delete_bucket_cb cb, void *arg)
{
  struct aws_empty_result r = { 0 };

  FAIL_IF("DeleteBucket", cb);
  ck_assert_int_eq(fx.objects, 0);
  fx.buckets--;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_desc_vpce(struct aws_api *api, const struct aws_target *t,
                       const struct aws_ec2_service_ids_req *rq,
                       aws_describe_vpc_endpoint_service_configurations_cb cb,
                       void *arg)
{
  FAIL_IF("DescribeVpcEndpointServiceConfigurations", cb);
  return f_ids(fx.vpces, "vpce-svc", cb, arg);
}

static int f_del_vpce(struct aws_api *api, const struct aws_target *t,
                      const struct aws_ec2_service_ids_req *rq,
                      aws_delete_vpc_endpoint_service_configurations_cb cb,
                      void *arg)
{
  struct aws_ec2_unsuccessful_result r = { NULL, 0 };

  FAIL_IF("DeleteVpcEndpointServiceConfigurations", cb);
  ck_assert_uint_eq(rq->nservice_ids, 1);
  fx.vpces = 0;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_list_zones(struct aws_api *api, const struct aws_target *t,
                        const struct aws_r53_page_req *rq,
                        aws_list_hosted_zones_cb cb, void *arg)
{
  struct aws_r53_zone z[] = { { "/hostedzone/Z1", "example.com.", false } };
  struct aws_r53_zones_result r = { z, fx.zones > 0 ? 1 : 0, false, NULL };

  FAIL_IF("ListHostedZones", cb);
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_list_rr(struct aws_api *api, const struct aws_target *t,
                     const struct aws_r53_rrsets_req *rq,
                     aws_list_resource_record_sets_cb cb, void *arg)
{
  struct aws_r53_rrset v[3] = { { .name = "example.com.", .type = "SOA" },
                                { .name = "example.com.", .type = "NS" },
                                { .name = "a.example.com.", .type = "A" } };
  struct aws_r53_rrsets_result r = { .v = v, .n = 2 + (size_t)fx.zone_records };

  FAIL_IF("ListResourceRecordSets", cb);
  ck_assert_str_eq(rq->hosted_zone_id, "/hostedzone/Z1");
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_change_rr(struct aws_api *api, const struct aws_target *t,
                       const struct aws_r53_change_req *rq,
                       aws_change_resource_record_sets_cb cb, void *arg)
{
  struct aws_r53_change_info_result r = { NULL, NULL };

  FAIL_IF("ChangeResourceRecordSets", cb);
  ck_assert_uint_eq(rq->nchanges, 1);
  ck_assert_str_eq(rq->changes[0].action, "DELETE");
  ck_assert_str_eq(rq->changes[0].rrset->type, "A");
  fx.zone_records = 0;
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_del_zone(struct aws_api *api, const struct aws_target *t,
                      const struct aws_r53_zone_req *rq,
                      aws_delete_hosted_zone_cb cb, void *arg)
{
  struct aws_r53_change_info_result r = { NULL, NULL };

  FAIL_IF("DeleteHostedZone", cb);
  ck_assert_int_eq(fx.zone_records, 0);
  fx.zones--;
  cb(0, NULL, &r, arg);
  return 0;
}

/* ---- harness ------------------------------------------------------------- */

static void done(void *arg, const char *key, const struct ctrl_result *r)
{
  fx.ndone++;
  fx.res = *r;
}

static json_t *load(const char *js)
{
  json_t *o = json_loads(js, 0, NULL);

  ck_assert_ptr_nonnull(o);
  return o;
}

static void put_claim(json_t *c)
{
  ck_assert_int_eq(store_put_new(fx.claims, c, NULL), 0);
}

static struct aws_creds *mgmt_creds(void *arg)
{
  return fx.mgmt;
}

static int account_creds(void *arg, const char *account_id,
                         struct aws_creds **out)
{
  fx.nsession++;
  str_copy(fx.session_acct, account_id, sizeof(fx.session_acct));
  *out = fx.session;
  return 0;
}

static void setup(void)
{
  struct claim_exec_deps d = { 0 };
  struct aws_creds *sess = fx.session; /* set by a test before setup() */

  memset(&fx, 0, sizeof(fx));
  fx.session = sess;
  fx.claims = store_new(0);
  fx.accounts = store_new(0);
  fx.cm = store_new(0);
  ck_assert_int_eq(store_put_new(fx.cm, load(CM), NULL), 0);
  ck_assert_int_eq(store_put_new(fx.accounts, load(ACCT), NULL), 0);
  put_claim(load(CLAIM));
  fx.mgmt = aws_creds_static_new("AKIAMGMT", "mgmt-secret", NULL);
  fx.api = (struct aws_api){
    .create_organizational_unit = f_create_ou,
    .list_organizational_units_for_parent = f_list_ous,
    .move_account = f_move,
    .list_children = f_children,
    .assume_role = f_assume,
    .describe_images = f_desc_images,
    .deregister_image = f_dereg,
    .describe_snapshots = f_desc_snap,
    .delete_snapshot = f_del_snap,
    .describe_volumes = f_desc_vol,
    .delete_volume = f_del_vol,
    .list_buckets = f_list_buckets,
    .list_objects_v2 = f_list_objects,
    .delete_objects = f_delete_objects,
    .delete_bucket = f_delete_bucket,
    .describe_vpc_endpoint_service_configurations = f_desc_vpce,
    .delete_vpc_endpoint_service_configurations = f_del_vpce,
    .list_hosted_zones = f_list_zones,
    .list_resource_record_sets = f_list_rr,
    .change_resource_record_sets = f_change_rr,
    .delete_hosted_zone = f_del_zone,
  };
  d.kio = (struct exec_kio){ .get = k_get,
                             .create = k_create,
                             .update = k_update,
                             .update_status = k_update_status,
                             .del = k_del,
                             .event = k_event };
  d.claims = fx.claims;
  d.accounts = fx.accounts;
  d.configmap = fx.cm;
  d.api = &fx.api;
  d.mgmt_creds = mgmt_creds;
  d.ns = NS;
  if (fx.session)
    d.account_creds = account_creds;
  fx.e = claim_exec_new(&d);
}

static void teardown(void)
{
  claim_exec_free(fx.e);
  aws_creds_unref(fx.mgmt);
  aws_creds_unref(fx.session);
  fx.session = NULL;
  json_decref(fx.created);
  json_decref(fx.updated);
  store_free(fx.claims);
  store_free(fx.accounts);
  store_free(fx.cm);
}

/* One reconcile; the result lands in fx.res either way. */
static void run(void)
{
  struct ctrl_result out;
  int rc;

  fx.nk = fx.na = fx.ndone = 0;
  rc = claim_exec_reconcile(fx.e, KEY, &out, done, NULL);
  if (rc < 0) /* failed before anything went async */
    fx.res = (struct ctrl_result){ .err = rc };
  else if (rc == 0)
    fx.res = out;
  else
    ck_assert_int_eq(fx.ndone, 1);
}

static const struct claim_obs *obs(void)
{
  const struct claim_obs *o = claim_exec_obs(fx.e, KEY);

  ck_assert_ptr_nonnull(o);
  return o;
}

/* ---- tests --------------------------------------------------------------- */

/* An unclaimed Ready account of the default pool, named n. */
static json_t *free_account(const char *n)
{
  json_t *a = load(ACCT);

  obj_set_str(a, "metadata.name", n);
  json_object_del(json_object_get(a, "spec"), "claimLink");
  json_object_del(json_object_get(a, "spec"), "claimLinkNamespace");
  json_object_del(json_object_get(a, "spec"), "legalEntity");
  json_object_set_new(json_object_get(a, "status"), "claimed", json_false());
  return a;
}

/* No update of acc-a in the last run. */
static void assert_acc_a_untouched(void)
{
  for (int i = 0; i < fx.nk; i++)
    ck_assert_msg(!str_eq(fx.kcalls[i], "update accounts " NS "/acc-a"),
                  "a second account was reserved");
  if (fx.nk && fx.updated)
    ck_assert_msg(!str_eq(obj_str(fx.updated, "spec.accountLink"), "acc-a"),
                  "the claim was linked to a second account");
}

/* A fresh claim taking acc-b, its writes answered newer (read-your-writes). */
static void fresh_claim(void)
{
  json_t *c = load(CLAIM);

  ck_assert_int_eq(
      store_put_new(fx.cm,
                    json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:s,s:s}}", "metadata",
                              "name", "aws-account-operator-configmap",
                              "namespace", NS, "data", "account-limit", "100",
                              "root", "r-root", "base", "ou-base",
                              "accountpool", "hive:\n  default: true\n"),
                    NULL),
      0);
  json_decref(store_delete_take(fx.accounts, NS "/osd-creds-mgmt-abc123"));
  ck_assert_int_eq(store_put_new(fx.accounts, free_account("acc-b"), NULL), 0);
  json_object_del(json_object_get(c, "spec"), "accountLink");
  json_object_del(json_object_get(c, "spec"), "supportRoleARN");
  put_claim(c);
  fx.bump_rv = 1;
}

/* The link and the reservation were written, but the informer has not
 * delivered them when another event re-queues the claim (here: an older
 * account became free): the claim must not take a second account. Seen
 * under a 409 storm, where one claim held two accounts 2 ms apart. */
START_TEST(reservation_not_repeated_before_the_cache_shows_it)
{
  json_t *busy = free_account("acc-a");

  fresh_claim();
  obj_set_str(busy, "status.state", "InitializingRegions");
  ck_assert_int_eq(store_put_new(fx.accounts, busy, NULL), 0);
  run(); /* the claim side of the link (and the reads started after it) */
  ck_assert_int_eq(fx.nk, 2); /* the link's own write goes first */
  ck_assert_str_eq(fx.kcalls[0], "update accountclaims team/c1");
  ck_assert_str_eq(fx.kcalls[1],
                   "get secrets " NS "/osd-creds-mgmt-abc123-secret");
  ck_assert_str_eq(obj_str(fx.updated, "spec.accountLink"), "acc-b");
  /* acc-a (older) becomes free; no write of ours is cached yet */
  ck_assert_int_eq(store_put_new(fx.accounts, free_account("acc-a"), NULL), 0);
  run(); /* the reservation */
  assert_acc_a_untouched();
  ck_assert_int_eq(fx.nk, 1);
  ck_assert_str_eq(fx.kcalls[0], "update accounts " NS "/acc-b");
  run(); /* the next step, still from our own writes */
  assert_acc_a_untouched();
  ck_assert_int_eq(fx.res.err, 0);
}
END_TEST

/* No free account: the claim waits, writing nothing but its status.
 * (The empty free index once went to qsort as a NULL array: UBSan's
 * nonnull report, caught by the ASan e2e scenario.) */
START_TEST(no_free_account_takes_nothing)
{
  fresh_claim();
  json_decref(store_delete_take(fx.accounts, NS "/acc-b"));
  run();
  ck_assert_int_eq(fx.res.err, 0);
  for (int i = 0; i < fx.nk; i++)
    ck_assert_msg(!strstr(fx.kcalls[i], "update accounts "), "%s",
                  fx.kcalls[i]);
  ck_assert_ptr_null(obj_str(fx.updated, "spec.accountLink"));
}
END_TEST

/* The link write starts the OU and the IAM Secret read beside it; the
 * steps that need them later take their outcomes and call nothing. */
START_TEST(ou_and_secret_started_beside_the_link)
{
  fresh_claim();
  fx.ou_exists = true; /* found by name: ou-le1, where f_move expects it */
  run();
  ck_assert_int_eq(fx.nk, 2); /* the link's own write goes first */
  ck_assert_str_eq(fx.kcalls[0], "update accountclaims team/c1");
  ck_assert_str_eq(fx.kcalls[1],
                   "get secrets " NS "/osd-creds-mgmt-abc123-secret");
  ck_assert_int_eq(fx.na, 3);
  ck_assert_str_eq(fx.acalls[0], "CreateOrganizationalUnit");
  run(); /* the reservation starts nothing more */
  ck_assert_int_eq(fx.nk, 1);
  ck_assert_str_eq(fx.kcalls[0], "update accounts " NS "/acc-b");
  ck_assert_int_eq(fx.na, 0);
  run(); /* the OU: taken */
  ck_assert_int_eq(fx.na + fx.nk, 0);
  ck_assert_int_eq(obs()->action, CLAIM_ENSURE_OU);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_str_eq(obs()->ou_id, "ou-le1");
  run();
  ck_assert_int_eq(fx.na, 1);
  ck_assert_str_eq(fx.acalls[0], "MoveAccount");
  run(); /* the Secret: its source read taken */
  ck_assert_int_eq(fx.na, 0);
  ck_assert_int_eq(fx.nk, 1);
  ck_assert_str_eq(fx.kcalls[0], "create secrets team/aws");
  ck_assert_str_eq(obj_str(fx.created, "data.aws_access_key_id"), "QUtJQQ==");
  ck_assert_int_eq(obs()->action, CLAIM_WRITE_SECRET);
  ck_assert_int_eq(obs()->result, 0);
}
END_TEST

/* The OU call still in flight when its step comes: the step waits for it
 * (one CreateOrganizationalUnit in all) and ends with its answer. */
START_TEST(ou_step_waits_for_the_call_in_flight)
{
  struct aws_org_ou_result r = { { "ou-le1", NULL, NULL } };
  struct ctrl_result out;

  fresh_claim();
  fx.ou_async = true;
  run();
  ck_assert_int_eq(fx.na, 1);
  ck_assert_ptr_nonnull(fx.ou_cb);
  run(); /* the reservation */
  fx.nk = fx.na = fx.ndone = 0;
  ck_assert_int_eq(claim_exec_reconcile(fx.e, KEY, &out, done, NULL),
                   CTRL_PENDING);
  ck_assert_int_eq(fx.na + fx.nk + fx.ndone, 0);
  fx.ou_cb(0, NULL, &r, fx.ou_arg);
  ck_assert_int_eq(fx.ndone, 1);
  ck_assert_int_eq(obs()->action, CLAIM_ENSURE_OU);
  ck_assert_str_eq(obs()->ou_id, "ou-le1");
  ck_assert_int_eq(fx.na, 0);
}
END_TEST

/* A call started ahead that failed is made again by its step. */
START_TEST(failed_ou_ahead_is_called_again)
{
  fresh_claim();
  fx.fail_op = "CreateOrganizationalUnit";
  run();
  ck_assert_int_eq(fx.na, 1);
  run();
  fx.fail_op = NULL;
  run();
  ck_assert_int_eq(fx.na, 1);
  ck_assert_str_eq(fx.acalls[0], "CreateOrganizationalUnit");
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_str_eq(obs()->ou_id, "ou-new");
}
END_TEST

START_TEST(finalizer_added_first)
{
  json_t *c = load(CLAIM);

  obj_remove_finalizer(c, OBJ_FINALIZER);
  put_claim(c);
  run();
  ck_assert_int_eq(fx.nk, 1);
  ck_assert_str_eq(fx.kcalls[0], "update accountclaims team/c1");
  ck_assert(obj_has_finalizer(fx.updated, OBJ_FINALIZER));
  ck_assert_str_eq(obj_str0(fx.updated, "metadata.resourceVersion"), "9");
  ck_assert_int_eq(fx.na, 0);
}
END_TEST

START_TEST(ensure_ou_creates)
{
  run();
  ck_assert_int_eq(fx.na, 1);
  ck_assert_str_eq(fx.acalls[0], "CreateOrganizationalUnit");
  ck_assert_int_eq(obs()->action, CLAIM_ENSURE_OU);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_str_eq(obs()->ou_id, "ou-new");
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  ck_assert_int_eq(fx.res.err, 0);
}
END_TEST

/* Duplicate OU: found by name over two pages; then moved; then the
 * Secret (what the user waits for); then the OU recorded with the key. */
START_TEST(duplicate_ou_then_move_then_record)
{
  fx.ou_exists = true;
  run();
  ck_assert_int_eq(fx.na, 3);
  ck_assert_str_eq(fx.acalls[1], "ListOrganizationalUnitsForParent");
  ck_assert_str_eq(fx.acalls[2], "ListOrganizationalUnitsForParent");
  ck_assert_str_eq(obs()->ou_id, "ou-le1");
  run();
  ck_assert_int_eq(fx.na, 1);
  ck_assert_str_eq(fx.acalls[0], "MoveAccount");
  ck_assert_int_eq(obs()->action, CLAIM_MOVE_ACCOUNT);
  ck_assert_int_eq(obs()->result, 0);
  run();
  ck_assert_int_eq(fx.na, 0);
  ck_assert_int_eq(fx.nk, 2); /* no GET of the claim's Secret first */
  ck_assert_str_eq(fx.kcalls[0],
                   "get secrets " NS "/osd-creds-mgmt-abc123-secret");
  ck_assert_str_eq(fx.kcalls[1], "create secrets team/aws");
  ck_assert_int_eq(obs()->action, CLAIM_WRITE_SECRET);
  ck_assert_str_eq(obs()->ou_id, "ou-le1");
  run();
  ck_assert_int_eq(fx.na, 0);
  ck_assert_str_eq(fx.kcalls[0], "update accountclaims team/c1");
  ck_assert_str_eq(obj_str0(fx.updated, "spec.accountOU"), "ou-le1");
  ck_assert_str_eq(fx.ev_reason, "AccountMoved");
}
END_TEST

/* The account left root already (AccountNotFound): ListChildren proves it
 * sits in the OU. */
START_TEST(move_already_there)
{
  fx.ou_exists = true;
  run();
  fx.moved = true;
  run();
  ck_assert_int_eq(fx.na, 2);
  ck_assert_str_eq(fx.acalls[1], "ListChildren");
  ck_assert(obs()->already_there);
  ck_assert_str_eq(obs()->aws_code, "AccountNotFoundException");
}
END_TEST

/* A reused account already sits in the OU: MoveAccount's
 * DuplicateAccountException counts as placed. */
START_TEST(move_duplicate_is_already_there)
{
  fx.ou_exists = true;
  run();
  fx.move_dup = true;
  run();
  ck_assert_int_eq(fx.na, 1);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert(obs()->already_there);
  run(); /* the Secret */
  run();
  ck_assert_str_eq(obj_str0(fx.updated, "spec.accountOU"), "ou-le1");
}
END_TEST

/* An AWS failure is an observation; the plan then waits (no call). */
START_TEST(ou_failure_observed_then_waits)
{
  fx.fail_op = "CreateOrganizationalUnit";
  run();
  ck_assert_int_lt(obs()->result, 0);
  ck_assert_str_eq(obs()->aws_code, "AccessDenied");
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  ck_assert_int_eq(fx.nevents, 0);
  run();
  ck_assert_int_eq(fx.na, 0);
  ck_assert_uint_gt(fx.res.requeue_after_ms, 1000);
}
END_TEST

/* No management credentials yet: the step fails and is retried. */
START_TEST(no_credentials_is_an_error)
{
  aws_creds_unref(fx.mgmt);
  fx.mgmt = NULL;
  run();
  ck_assert_int_eq(fx.na, 0);
  ck_assert_int_eq(fx.res.err, OP_ENOTFOUND); /* rate-limited retry */
  ck_assert_ptr_null(claim_exec_obs(fx.e, KEY));
}
END_TEST

static json_t *placed_claim(void)
{
  json_t *c = load(CLAIM);

  obj_set_str(c, "spec.accountOU", "ou-le1");
  return c;
}

/* The two keys are copied from <account>-secret, nothing else. */
START_TEST(secret_copied_then_ready)
{
  put_claim(placed_claim());
  run();
  ck_assert_int_eq(fx.nk, 3);
  ck_assert_str_eq(fx.kcalls[1],
                   "get secrets " NS "/osd-creds-mgmt-abc123-secret");
  ck_assert_str_eq(fx.kcalls[2], "create secrets team/aws");
  ck_assert_str_eq(obj_str0(fx.created, "data.aws_access_key_id"), "QUtJQQ==");
  ck_assert_str_eq(obj_str0(fx.created, "data.aws_secret_access_key"),
                   "c2VjcmV0");
  ck_assert_uint_eq(json_object_size(obj_get(fx.created, "data")), 2);
  ck_assert_str_eq(obj_str0(fx.created, "type"), "Opaque");
  ck_assert_int_eq(obs()->action, CLAIM_WRITE_SECRET);
  ck_assert_int_eq(obs()->result, 0);
  fx.secret_exists = true;
  run(); /* the Secret it wrote is not read back */
  ck_assert_int_eq(fx.nk, 1);
  ck_assert_str_eq(fx.kcalls[0], "update_status accountclaims team/c1");
  ck_assert_str_eq(obj_str0(fx.updated, "status.state"), "Ready");
}
END_TEST

/* The Account's key was rotated: the existing claim Secret gets the new
 * keys (updated, other keys kept), then the claim records the key id. */
START_TEST(secret_updated_after_rotation)
{
  json_t *a = load(ACCT);

  obj_set_annotation(a, "aws.managed.openshift.io/iam-access-key",
                     "{\"created\":\"2026-01-01T00:00:00Z\",\"id\":\"AKIA\"}");
  ck_assert_int_eq(store_put_new(fx.accounts, a, NULL), 0);
  put_claim(placed_claim());
  fx.secret_exists = fx.create_exists = true;
  run();
  ck_assert_int_eq(fx.nk, 5);
  ck_assert_str_eq(fx.kcalls[1],
                   "get secrets " NS "/osd-creds-mgmt-abc123-secret");
  ck_assert_str_eq(fx.kcalls[2], "create secrets team/aws");
  ck_assert_str_eq(fx.kcalls[3], "get secrets team/aws");
  ck_assert_str_eq(fx.kcalls[4], "update secrets team/aws");
  ck_assert_str_eq(obj_str0(fx.updated, "data.aws_access_key_id"), "QUtJQQ==");
  ck_assert_str_eq(obj_str0(fx.updated, "data.aws_secret_access_key"),
                   "c2VjcmV0");
  ck_assert_int_eq(obs()->action, CLAIM_WRITE_SECRET);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_str_eq(obs()->key_id, "AKIA");
  run();
  ck_assert_str_eq(fx.kcalls[0], "update accountclaims team/c1");
  ck_assert_str_eq(
      obj_annotation(fx.updated, "aws.managed.openshift.io/credentials-key-id"),
      "AKIA");
}
END_TEST

static json_t *deleting_claim(void)
{
  json_t *c = placed_claim();

  obj_set_str(c, "metadata.deletionTimestamp", "2026-01-02T00:00:00Z");
  return c;
}

/* Deletion: every resource kind is emptied inside the account. */
START_TEST(cleanup_region_empties_account)
{
  put_claim(deleting_claim());
  fx.images = 2;
  fx.snapshots = 2;
  fx.foreign_snapshots = 1;
  fx.volumes = 1;
  fx.buckets = 1;
  fx.objects = 2;
  fx.vpces = 1;
  fx.zones = 1;
  fx.zone_records = 1;
  /* one plan step per kind of resource; each empties only its own */
  run();
  ck_assert_str_eq(fx.assumed_arn, "arn:aws:iam::111122223333:role/"
                                   "OrganizationAccountAccessRole");
  /* the AMIs first: their snapshots cannot go while they are registered */
  ck_assert_int_eq(fx.images, 0);
  ck_assert_int_eq(fx.snapshots, 2);
  ck_assert_str_eq(obs()->next_stage, "snapshots");
  run();
  ck_assert_int_eq(fx.snapshots, 0);
  ck_assert_int_eq(fx.foreign_snapshots, 1); /* never touched */
  ck_assert_int_eq(fx.volumes, 1);
  ck_assert_str_eq(obs()->next_stage, "volumes");
  run();
  ck_assert_int_eq(fx.volumes, 0);
  ck_assert_int_eq(fx.buckets, 1);
  ck_assert_str_eq(obs()->next_stage, "buckets");
  run();
  ck_assert_int_eq(fx.buckets + fx.objects, 0);
  ck_assert_int_eq(fx.vpces, 1);
  ck_assert_str_eq(obs()->next_stage, "vpce");
  run();
  ck_assert_int_eq(fx.vpces, 0);
  ck_assert_int_eq(fx.zones, 1);
  ck_assert_str_eq(obs()->next_stage, "zones");
  run();
  ck_assert_int_eq(fx.images + fx.snapshots + fx.volumes + fx.buckets +
                       fx.objects + fx.vpces + fx.zones + fx.zone_records,
                   0);
  ck_assert_int_eq(obs()->action, CLAIM_CLEANUP_REGION);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_str_eq(obs()->region, "us-east-1");
  ck_assert_str_eq(obs()->next_stage, "");
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
  run(); /* the only region: the unlink records it, not a claim write */
  ck_assert_str_eq(fx.kcalls[0],
                   "update accounts " NS "/osd-creds-mgmt-abc123");
  ck_assert_str_eq(obj_str0(fx.updated, "spec.claimLink"), "");
  ck_assert_str_eq(obj_annotation(fx.updated, ACCT_ANN_RELEASED), "cu");
}
END_TEST

static int acalls_of(const char *op)
{
  int n = 0;

  for (int i = 0; i < fx.na && i < 256; i++)
    n += str_eq(fx.acalls[i], op);
  return n;
}

/* With the process's member session offered (the Account controller's),
 * a release makes no AssumeRole of its own: one listing per kind. */
START_TEST(cleanup_reuses_shared_session)
{
  struct aws_creds *sess = aws_creds_static_new("ASIASHARED", "s", "t");

  teardown();
  fx.session = sess;
  setup(); /* again, now with the session */
  put_claim(deleting_claim());
  for (int i = 0; i < 6; i++)
    run();
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_str_eq(obs()->next_stage, "");
  ck_assert_int_eq(acalls_of("AssumeRole"), 0);
  ck_assert_int_eq(fx.nsession, 6);
  ck_assert_str_eq(fx.session_acct, "111122223333");
}
END_TEST

/* A cleanup failure is observed and the Account is then marked Failed. */
START_TEST(cleanup_failure_marks_account_failed)
{
  put_claim(deleting_claim());
  fx.buckets = 1;
  fx.fail_op = "DeleteBucket";
  run(); /* images */
  run(); /* snapshots */
  run(); /* volumes */
  run(); /* buckets */
  ck_assert_int_lt(obs()->result, 0);
  ck_assert_str_eq(obs()->aws_code, "AccessDenied");
  run();
  ck_assert_str_eq(fx.kcalls[0],
                   "update_status accounts " NS "/osd-creds-mgmt-abc123");
  ck_assert_str_eq(obj_str0(fx.updated, "status.state"), "Failed");
  ck_assert_str_eq(fx.ev_reason, "ReuseFailed");
}
END_TEST

/* Snapshots before images (an old step, or a stage order bug) fail with
 * InvalidSnapshot.InUse: that is why images come first. */
START_TEST(snapshot_in_use_while_image_registered)
{
  put_claim(deleting_claim());
  fx.images = 1;
  fx.snapshots = 1;
  run(); /* images */
  ck_assert_int_eq(fx.images, 0);
  fx.images = 1; /* registered again behind our back */
  run();         /* snapshots */
  ck_assert_int_lt(obs()->result, 0);
  ck_assert_str_eq(obs()->aws_code, "InvalidSnapshot.InUse");
}
END_TEST

/* FedRAMP: the role ARN is in aws-us-gov and a claim without regions is
 * cleaned in us-gov-west-1. */
START_TEST(cleanup_in_govcloud)
{
  json_t *cm = load(CM), *c = deleting_claim();

  obj_set_str(cm, "data.fedramp", "true");
  ck_assert_int_eq(store_put_new(fx.cm, cm, NULL), 0);
  json_object_del(json_object_get(c, "spec"), "aws");
  put_claim(c);
  fx.region = "us-gov-west-1";
  fx.images = 1;
  run();
  ck_assert_str_eq(fx.assumed_arn, "arn:aws-us-gov:iam::111122223333:role/"
                                   "OrganizationAccountAccessRole");
  ck_assert_str_eq(obs()->region, "us-gov-west-1");
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_int_eq(fx.images, 0);
}
END_TEST

/* A failed AssumeRole ends the job before any member call. */
START_TEST(cleanup_assume_role_failure)
{
  put_claim(deleting_claim());
  fx.fail_op = "AssumeRole";
  run();
  ck_assert_int_eq(fx.na, 1);
  ck_assert_int_lt(obs()->result, 0);
}
END_TEST

/* A CCS claim: its BYOC Secret is read before planning; the finalizer is
 * added by GET + PUT of that Secret (metadata only). */
static json_t *ccs_claim(void)
{
  json_t *c = load(CLAIM);

  obj_set_str(c, "spec.accountLink", "");
  obj_set_new(c, "spec.byoc", json_true());
  obj_set_str(c, "spec.byocAWSAccountID", "222233334444");
  obj_set_str(c, "spec.byocSecretRef.name", "byoc");
  obj_set_str(c, "spec.byocSecretRef.namespace", "team");
  return c;
}

START_TEST(ccs_byoc_secret_finalizer_added)
{
  put_claim(ccs_claim());
  run();
  ck_assert_int_eq(fx.nk, 3);
  ck_assert_str_eq(fx.kcalls[0], "get secrets team/byoc");
  ck_assert_str_eq(fx.kcalls[1], "get secrets team/byoc");
  ck_assert_str_eq(fx.kcalls[2], "update secrets team/byoc");
  ck_assert(
      obj_has_finalizer(fx.updated, "finalizer.aws.managed.openshift.io/byoc"));
  ck_assert_int_eq(obs()->action, CLAIM_BYOC_FINALIZER);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_int_eq(fx.na, 0);
}
END_TEST

/* With the finalizer in place: the Account CR is created in the operator
 * namespace under the name derived from the claim's uid. */
START_TEST(ccs_account_created)
{
  fx.byoc_fin = true;
  put_claim(ccs_claim());
  run();
  ck_assert_int_eq(fx.nk, 2);
  ck_assert_str_eq(fx.kcalls[1],
                   "create accounts " NS "/osd-creds-mgmt-d57ogm");
  ck_assert(obj_bool(fx.created, "spec.byoc"));
  ck_assert_str_eq(obj_str0(fx.created, "spec.awsAccountID"), "222233334444");
  ck_assert_str_eq(obj_str0(fx.created, "spec.claimLinkNamespace"), "team");
  ck_assert_ptr_null(obj_get(fx.created, "metadata.ownerReferences"));
  ck_assert_str_eq(fx.ev_reason, "AccountCreated");
  ck_assert_int_eq(obs()->action, CLAIM_CREATE_ACCOUNT);
  ck_assert_int_eq(obs()->result, 0);
}
END_TEST

/* Created before a crash (or the cache lags): AlreadyExists is success. */
START_TEST(ccs_account_already_exists)
{
  fx.byoc_fin = true;
  fx.create_exists = true;
  put_claim(ccs_claim());
  run();
  ck_assert_int_eq(obs()->action, CLAIM_CREATE_ACCOUNT);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_int_eq(fx.res.err, 0);
}
END_TEST

/* Deleted with its Account gone: the BYOC Secret finalizer is removed. */
START_TEST(ccs_deleted_byoc_finalizer_removed)
{
  json_t *c = ccs_claim();

  fx.byoc_fin = true;
  obj_set_str(c, "metadata.deletionTimestamp", "2026-01-02T00:00:00Z");
  obj_set_str(c, "spec.accountLink", "osd-creds-mgmt-gone");
  put_claim(c);
  run();
  ck_assert_str_eq(fx.kcalls[2], "update secrets team/byoc");
  ck_assert(!obj_has_finalizer(fx.updated,
                               "finalizer.aws.managed.openshift.io/byoc"));
  ck_assert_int_eq(obs()->action, CLAIM_BYOC_FINALIZER);
}
END_TEST

START_TEST(deleted_claim_drops_observation)
{
  struct ctrl_result out;

  run();
  ck_assert_ptr_nonnull(claim_exec_obs(fx.e, KEY));
  json_decref(store_delete_take(fx.claims, KEY));
  ck_assert_int_eq(claim_exec_reconcile(fx.e, KEY, &out, done, NULL), 0);
  ck_assert_ptr_null(claim_exec_obs(fx.e, KEY));
}
END_TEST

/* ---- Fleet Manager (exec_fleet.c) ------------------------------------------
 * A scripted IAM in the member account: managed-sts-role (its trust
 * document, inline and attached policies) and users u0..u2 over two pages,
 * u0 and u2 tagged for the account; u0 has two keys and a policy. */

#define FM_ARN "arn:aws:iam::999999999999:user/fleet-manager"
#define FM_CM                                                                  \
  "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"                            \
  "\"aws-account-operator-configmap\",\"namespace\":\"" NS "\"},"              \
  "\"data\":{\"account-limit\":\"100\",\"root\":\"r-root\",\"base\":"          \
  "\"ou-base\",\"feature.accountclaim_fleet_manager_trusted_arn\":\"true\"}}"
/* base64("arn:aws:iam::111122223333:role/managed-sts-role") */
#define FM_ROLE_B64                                                            \
  "YXJuOmF3czppYW06OjExMTEyMjIyMzMzMzpyb2xlL21hbmFnZWQtc3RzLXJvbGU="

static struct fw {
  bool role;
  char trust[512];
  char policy[4096];
  int inline_extra, attached;
  bool user_gone[3];
  int keys[3], upol[3];
  bool secret_exists_on_create;
  int nupdates;
} fw;

static struct aws_error no_entity = { .code = "NoSuchEntity" };

static int fm_get_role(struct aws_api *api, const struct aws_target *t,
                       const struct aws_iam_role_req *rq, aws_get_role_cb cb,
                       void *arg)
{
  struct aws_iam_role_result r = { { 0 } };

  FAIL_IF("GetRole", cb);
  ck_assert_ptr_ne(t->creds, fx.mgmt);
  ck_assert_str_eq(rq->role_name, "managed-sts-role");
  r.role.assume_role_policy_document = fw.trust;
  if (fw.role)
    cb(0, NULL, &r, arg);
  else
    cb(OP_EAWS, &no_entity, NULL, arg);
  return 0;
}

static int fm_create_role(struct aws_api *api, const struct aws_target *t,
                          const struct aws_create_role_req *rq,
                          aws_create_role_cb cb, void *arg)
{
  struct aws_iam_role_result r = { { 0 } };

  FAIL_IF("CreateRole", cb);
  ck_assert(!fw.role);
  ck_assert_str_eq(rq->description, "Managed by AAO");
  str_copy(fw.trust, rq->assume_role_policy_document, sizeof(fw.trust));
  fw.role = true;
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_put_policy(struct aws_api *api, const struct aws_target *t,
                         const struct aws_put_role_policy_req *rq,
                         aws_put_role_policy_cb cb, void *arg)
{
  struct aws_empty_result r = { 0 };

  FAIL_IF("PutRolePolicy", cb);
  ck_assert(fw.role);
  ck_assert_str_eq(rq->policy_name, "AAO-CustomPolicy");
  str_copy(fw.policy, rq->policy_document, sizeof(fw.policy));
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_list_inline(struct aws_api *api, const struct aws_target *t,
                          const struct aws_iam_role_page_req *rq,
                          aws_list_role_policies_cb cb, void *arg)
{
  char *names[2] = { "AAO-CustomPolicy", "extra" };
  struct aws_iam_names_result r = { { names + (fw.policy[0] ? 0 : 1), 0 },
                                    false,
                                    NULL };

  FAIL_IF("ListRolePolicies", cb);
  if (!fw.role) {
    cb(OP_EAWS, &no_entity, NULL, arg);
    return 0;
  }
  r.names.n = (fw.policy[0] ? 1 : 0) + (size_t)fw.inline_extra;
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_del_inline(struct aws_api *api, const struct aws_target *t,
                         const struct aws_delete_role_policy_req *rq,
                         aws_delete_role_policy_cb cb, void *arg)
{
  struct aws_empty_result r = { 0 };

  FAIL_IF("DeleteRolePolicy", cb);
  if (str_eq(rq->policy_name, "extra"))
    fw.inline_extra = 0;
  else
    fw.policy[0] = '\0';
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_list_attached(struct aws_api *api, const struct aws_target *t,
                            const struct aws_iam_role_page_req *rq,
                            aws_list_attached_role_policies_cb cb, void *arg)
{
  struct aws_iam_attached v[] = { { "ReadOnly",
                                    "arn:aws:iam::aws:policy/RO" } };
  struct aws_iam_attached_result r = { v, (size_t)fw.attached, false, NULL };

  FAIL_IF("ListAttachedRolePolicies", cb);
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_detach(struct aws_api *api, const struct aws_target *t,
                     const struct aws_iam_role_policy_req *rq,
                     aws_detach_role_policy_cb cb, void *arg)
{
  struct aws_empty_result r = { 0 };

  FAIL_IF("DetachRolePolicy", cb);
  ck_assert_str_eq(rq->policy_arn, "arn:aws:iam::aws:policy/RO");
  fw.attached = 0;
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_del_role(struct aws_api *api, const struct aws_target *t,
                       const struct aws_iam_role_req *rq, aws_delete_role_cb cb,
                       void *arg)
{
  struct aws_empty_result r = { 0 };

  FAIL_IF("DeleteRole", cb);
  /* IAM refuses a role that still has policies */
  ck_assert(!fw.policy[0] && !fw.inline_extra && !fw.attached);
  fw.role = false;
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_list_users(struct aws_api *api, const struct aws_target *t,
                         const struct aws_iam_list_req *rq,
                         aws_list_users_cb cb, void *arg)
{
  struct aws_iam_user p1[] = { { "u0", NULL, NULL, NULL },
                               { "u1", NULL, NULL, NULL } };
  struct aws_iam_user p2[] = { { "u2", NULL, NULL, NULL } };
  struct aws_iam_users_result r1 = { p1, 2, true, "m2" };
  struct aws_iam_users_result r2 = { p2, 1, false, NULL };

  FAIL_IF("ListUsers", cb);
  cb(0, NULL, rq->marker ? &r2 : &r1, arg);
  return 0;
}

static int user_no(const char *u)
{
  return u[1] - '0';
}

static int fm_user_tags(struct aws_api *api, const struct aws_target *t,
                        const struct aws_iam_user_page_req *rq,
                        aws_list_user_tags_cb cb, void *arg)
{
  struct aws_rtag ours[] = { { "clusterAccountName", "osd-creds-mgmt-abc123" },
                             { "clusterNamespace", NS } };
  struct aws_rtag other[] = { { "clusterAccountName", "osd-creds-mgmt-abc123" },
                              { "clusterNamespace", "elsewhere" } };
  struct aws_tags_result r = { user_no(rq->user_name) == 1 ? other : ours, 2,
                               false, NULL };

  FAIL_IF("ListUserTags", cb);
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_list_keys(struct aws_api *api, const struct aws_target *t,
                        const struct aws_iam_user_page_req *rq,
                        aws_list_access_keys_cb cb, void *arg)
{
  struct aws_iam_access_key v[] = { { NULL, "AKIA1", NULL, NULL },
                                    { NULL, "AKIA2", NULL, NULL } };
  struct aws_iam_access_keys_result r = {
    v + (2 - fw.keys[user_no(rq->user_name)]),
    (size_t)fw.keys[user_no(rq->user_name)], false, NULL
  };

  FAIL_IF("ListAccessKeys", cb);
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_del_key(struct aws_api *api, const struct aws_target *t,
                      const struct aws_iam_delete_access_key_req *rq,
                      aws_delete_access_key_cb cb, void *arg)
{
  struct aws_empty_result r = { 0 };

  FAIL_IF("DeleteAccessKey", cb);
  fw.keys[user_no(rq->user_name)]--;
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_user_policies(struct aws_api *api, const struct aws_target *t,
                            const struct aws_iam_user_page_req *rq,
                            aws_list_attached_user_policies_cb cb, void *arg)
{
  struct aws_iam_attached v[] = { { "Admin",
                                    "arn:aws:iam::aws:policy/Admin" } };
  struct aws_iam_attached_result r = { v,
                                       (size_t)fw.upol[user_no(rq->user_name)],
                                       false, NULL };

  FAIL_IF("ListAttachedUserPolicies", cb);
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_detach_user(struct aws_api *api, const struct aws_target *t,
                          const struct aws_iam_user_policy_req *rq,
                          aws_detach_user_policy_cb cb, void *arg)
{
  struct aws_empty_result r = { 0 };

  FAIL_IF("DetachUserPolicy", cb);
  fw.upol[user_no(rq->user_name)] = 0;
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_del_user(struct aws_api *api, const struct aws_target *t,
                       const struct aws_iam_user_req *rq, aws_delete_user_cb cb,
                       void *arg)
{
  struct aws_empty_result r = { 0 };
  int n = user_no(rq->user_name);

  FAIL_IF("DeleteUser", cb);
  ck_assert_int_eq(fw.keys[n] + fw.upol[n], 0);
  fw.user_gone[n] = true;
  cb(0, NULL, &r, arg);
  return 0;
}

static int fm_create(void *arg, const struct k8s_gvr *g, const char *ns,
                     json_t *obj, k8s_obj_cb cb, void *cbarg)
{
  if (fw.secret_exists_on_create) {
    kcall("create", g, ns, obj_name(obj));
    cb(OP_EEXIST, NULL, NULL, cbarg);
    return 0;
  }
  return k_create(arg, g, ns, obj, cb, cbarg);
}

static int fm_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                     k8s_obj_cb cb, void *cbarg)
{
  fw.nupdates++;
  return k_update(arg, g, obj, cb, cbarg);
}

static json_t *fleet_claim(void)
{
  json_t *c = placed_claim();

  obj_set_str(c, "spec.accountPool", "fleet");
  obj_set_str(c, "spec.fleetManagerConfig.trustedARN", FM_ARN);
  return c;
}

static void fleet_setup(void)
{
  struct claim_exec_deps d = { 0 };

  setup();
  claim_exec_free(fx.e);
  memset(&fw, 0, sizeof(fw));
  ck_assert_int_eq(store_put_new(fx.cm, load(FM_CM), NULL), 0);
  put_claim(fleet_claim());
  fx.api.get_role = fm_get_role;
  fx.api.create_role = fm_create_role;
  fx.api.put_role_policy = fm_put_policy;
  fx.api.list_role_policies = fm_list_inline;
  fx.api.delete_role_policy = fm_del_inline;
  fx.api.list_attached_role_policies = fm_list_attached;
  fx.api.detach_role_policy = fm_detach;
  fx.api.delete_role = fm_del_role;
  fx.api.list_users = fm_list_users;
  fx.api.list_user_tags = fm_user_tags;
  fx.api.list_access_keys = fm_list_keys;
  fx.api.delete_access_key = fm_del_key;
  fx.api.list_attached_user_policies = fm_user_policies;
  fx.api.detach_user_policy = fm_detach_user;
  fx.api.delete_user = fm_del_user;
  d.kio = (struct exec_kio){ .get = k_get,
                             .create = fm_create,
                             .update = fm_update,
                             .update_status = k_update_status,
                             .del = k_del,
                             .event = k_event };
  d.claims = fx.claims;
  d.accounts = fx.accounts;
  d.configmap = fx.cm;
  d.api = &fx.api;
  d.mgmt_creds = mgmt_creds;
  d.ns = NS;
  fx.e = claim_exec_new(&d);
}

/* A restart: the claim's observation is gone, the claim is c again. */
static void restart_with(json_t *c)
{
  struct ctrl_result out;

  json_decref(store_delete_take(fx.claims, KEY));
  ck_assert_int_eq(claim_exec_reconcile(fx.e, KEY, &out, done, NULL), 0);
  ck_assert_ptr_null(claim_exec_obs(fx.e, KEY));
  put_claim(c);
}

static bool called(const char *op)
{
  for (int i = 0; i < fx.na && i < 256; i++)
    if (str_eq(fx.acalls[i], op))
      return true;
  return false;
}

/* No role yet: created trusting exactly the ARN, with the account-scoped
 * policy; member calls use the assumed session. */
START_TEST(fleet_role_created)
{
  run();
  ck_assert_str_eq(fx.assumed_arn, "arn:aws:iam::111122223333:role/"
                                   "OrganizationAccountAccessRole");
  ck_assert_int_eq(fx.na, 4);
  ck_assert_str_eq(fx.acalls[1], "GetRole");
  ck_assert_str_eq(fx.acalls[2], "CreateRole");
  ck_assert_str_eq(fx.acalls[3], "PutRolePolicy");
  ck_assert_int_eq(obs()->action, CLAIM_FLEET_ENSURE_ROLE);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert_str_eq(fw.trust,
                   "{\"Version\":\"2012-10-17\",\"Statement\":[{"
                   "\"Effect\":\"Allow\",\"Action\":[\"sts:"
                   "AssumeRole\"],\"Principal\":{\"AWS\":[\"" FM_ARN "\"]}}]}");
  ck_assert_ptr_nonnull(
      strstr(fw.policy, "\"arn:aws:iam::111122223333:role/*\""));
  ck_assert_ptr_nonnull(strstr(fw.policy, "sts:AssumeRoleWithWebIdentity"));
  ck_assert_ptr_nonnull(strstr(fw.policy, "\"s3:*\""));
  ck_assert_uint_eq(fx.res.requeue_after_ms, 1);
}
END_TEST

/* A repeat (e.g. after kill -9) converges: same trust, policy put again. */
START_TEST(fleet_role_repeat_converges)
{
  run();
  fw.policy[0] = '\0';
  restart_with(fleet_claim());
  run();
  ck_assert_int_eq(fx.na, 3);
  ck_assert_str_eq(fx.acalls[2], "PutRolePolicy");
  ck_assert(!called("CreateRole") && !called("DeleteRole"));
  ck_assert(fw.policy[0]);
}
END_TEST

/* A role trusting someone else is emptied, deleted and created again. */
START_TEST(fleet_role_other_trust_replaced)
{
  fw.role = true;
  str_copy(
      fw.trust,
      "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\","
      "\"Principal\":{\"AWS\":\"arn:aws:iam::1:root\"}}]}",
      sizeof(fw.trust));
  str_copy(fw.policy, "{}", sizeof(fw.policy));
  fw.inline_extra = 1;
  fw.attached = 1;
  run();
  ck_assert_int_eq(obs()->result, 0);
  ck_assert(called("DeleteRolePolicy") && called("DetachRolePolicy") &&
            called("DeleteRole") && called("CreateRole"));
  ck_assert_ptr_nonnull(strstr(fw.trust, FM_ARN));
  ck_assert_int_eq(fw.inline_extra + fw.attached, 0);
  ck_assert(fw.policy[0]);
}
END_TEST

/* The whole chain: role, users, the account's Secret and its record, the
 * role_arn Secret, Ready. */
START_TEST(fleet_chain_to_ready)
{
  fw.keys[0] = 2;
  fw.upol[0] = 1;
  fw.keys[1] = 1;
  run(); /* ensure role */
  run(); /* users */
  ck_assert_int_eq(obs()->action, CLAIM_FLEET_DELETE_USERS);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert(fw.user_gone[0] && !fw.user_gone[1] && fw.user_gone[2]);
  ck_assert_int_eq(fw.keys[1], 1); /* not ours: untouched */
  run();                           /* the account's IAM Secret */
  ck_assert_str_eq(fx.kcalls[1],
                   "delete secrets " NS "/osd-creds-mgmt-abc123-secret");
  run(); /* its record */
  ck_assert_str_eq(fx.kcalls[1],
                   "update accounts " NS "/osd-creds-mgmt-abc123");
  ck_assert_str_eq(obj_str0(fx.updated, "spec.iamUserSecret"), "");
  ck_assert_int_eq(store_put_new(fx.accounts, json_deep_copy(fx.updated), NULL),
                   0);
  run(); /* the role_arn Secret */
  ck_assert_str_eq(fx.kcalls[1], "create secrets team/aws");
  ck_assert_str_eq(obj_str0(fx.created, "data.role_arn"), FM_ROLE_B64);
  ck_assert_uint_eq(json_object_size(obj_get(fx.created, "data")), 1);
  ck_assert_int_eq(obs()->action, CLAIM_FLEET_WRITE_SECRET);
  fx.secret_exists = true;
  run();
  ck_assert_str_eq(fx.kcalls[1], "update_status accountclaims team/c1");
  ck_assert_str_eq(obj_str0(fx.updated, "status.state"), "Ready");
}
END_TEST

/* A Secret already there (e.g. with IAM keys) ends up holding role_arn only. */
START_TEST(fleet_existing_secret_replaced)
{
  json_t *a = load(ACCT);

  obj_set_str(a, "spec.iamUserSecret", "");
  ck_assert_int_eq(store_put_new(fx.accounts, a, NULL), 0);
  run();
  run(); /* users (none tagged have keys) */
  fw.secret_exists_on_create = true;
  fx.secret_exists = true;
  run();
  ck_assert_str_eq(fx.kcalls[1], "create secrets team/aws");
  ck_assert_str_eq(fx.kcalls[2], "get secrets team/aws");
  ck_assert_int_eq(fw.nupdates, 1);
  ck_assert_str_eq(obj_str0(fx.updated, "data.role_arn"), FM_ROLE_B64);
  ck_assert_uint_eq(json_object_size(obj_get(fx.updated, "data")), 1);
  ck_assert_int_eq(obs()->result, 0);
}
END_TEST

/* Deletion: the role goes with its policies; a missing one is success. */
START_TEST(fleet_role_deleted)
{
  json_t *c = fleet_claim();

  obj_set_str(c, "metadata.deletionTimestamp", "2026-01-02T00:00:00Z");
  put_claim(c);
  fw.role = true;
  str_copy(fw.policy, "{}", sizeof(fw.policy));
  fw.attached = 1;
  run();
  ck_assert_int_eq(obs()->action, CLAIM_FLEET_DELETE_ROLE);
  ck_assert_int_eq(obs()->result, 0);
  ck_assert(!fw.role);
  run();
  ck_assert_str_eq(obj_annotation(fx.updated, CLAIM_ANN_FLEET_CLEANED), "true");
  ck_assert_str_eq(fx.ev_reason, "FleetRoleRemoved");
  c = fleet_claim();
  obj_set_str(c, "metadata.deletionTimestamp", "2026-01-02T00:00:00Z");
  restart_with(c);
  run(); /* no role at all */
  ck_assert_int_eq(fx.na, 2);
  ck_assert_str_eq(fx.acalls[1], "ListRolePolicies");
  ck_assert_int_eq(obs()->result, 0);
}
END_TEST

/* A refused AssumeRole is observed; the plan then waits without a call. */
START_TEST(fleet_assume_failure_waits)
{
  fx.fail_op = "AssumeRole";
  run();
  ck_assert_int_eq(fx.na, 1);
  ck_assert_int_lt(obs()->result, 0);
  ck_assert_str_eq(obs()->aws_code, "AccessDenied");
  run();
  ck_assert_int_eq(fx.na, 0);
  ck_assert_uint_gt(fx.res.requeue_after_ms, 20000);
}
END_TEST

static TCase *fleet_tcase(void)
{
  TCase *tc = tcase_create("fleet");

  tcase_add_checked_fixture(tc, fleet_setup, teardown);
  tcase_add_test(tc, fleet_role_created);
  tcase_add_test(tc, fleet_role_repeat_converges);
  tcase_add_test(tc, fleet_role_other_trust_replaced);
  tcase_add_test(tc, fleet_chain_to_ready);
  tcase_add_test(tc, fleet_existing_secret_replaced);
  tcase_add_test(tc, fleet_role_deleted);
  tcase_add_test(tc, fleet_assume_failure_waits);
  return tc;
}
/* ---- end of Fleet Manager ------------------------------------------------ */

static Suite *claim_exec_suite(void)
{
  Suite *s = suite_create("claim_exec");
  TCase *tc = tcase_create("exec");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, ou_and_secret_started_beside_the_link);
  tcase_add_test(tc, ou_step_waits_for_the_call_in_flight);
  tcase_add_test(tc, failed_ou_ahead_is_called_again);
  tcase_add_test(tc, finalizer_added_first);
  tcase_add_test(tc, reservation_not_repeated_before_the_cache_shows_it);
  tcase_add_test(tc, no_free_account_takes_nothing);
  tcase_add_test(tc, ensure_ou_creates);
  tcase_add_test(tc, duplicate_ou_then_move_then_record);
  tcase_add_test(tc, move_already_there);
  tcase_add_test(tc, move_duplicate_is_already_there);
  tcase_add_test(tc, ou_failure_observed_then_waits);
  tcase_add_test(tc, no_credentials_is_an_error);
  tcase_add_test(tc, secret_copied_then_ready);
  tcase_add_test(tc, secret_updated_after_rotation);
  tcase_add_test(tc, cleanup_region_empties_account);
  tcase_add_test(tc, cleanup_failure_marks_account_failed);
  tcase_add_test(tc, cleanup_assume_role_failure);
  tcase_add_test(tc, cleanup_reuses_shared_session);
  tcase_add_test(tc, snapshot_in_use_while_image_registered);
  tcase_add_test(tc, cleanup_in_govcloud);
  tcase_add_test(tc, deleted_claim_drops_observation);
  tcase_add_test(tc, ccs_byoc_secret_finalizer_added);
  tcase_add_test(tc, ccs_account_created);
  tcase_add_test(tc, ccs_account_already_exists);
  tcase_add_test(tc, ccs_deleted_byoc_finalizer_removed);
  suite_add_tcase(s, tc);
  suite_add_tcase(s, fleet_tcase());
  return s;
}

TEST_MAIN(claim_exec_suite)
