/* AccountClaim executor: CLAIM_CLEANUP_REGION, one stage. Assume
 * OrganizationAccountAccessRole in the claimed account, then empty one
 * kind of resource of the region (the plan's step names it): EBS
 * snapshots owned by the account, EBS volumes, S3 buckets (objects first),
 * VPC endpoint service configurations, Route 53 hosted zones (records
 * first). The stage lists, deletes the first item and lists again until
 * nothing is left, so no list result outlives its callback and a restart
 * just lists again; any failure ends the job with the AWS code. The
 * observation names the next stage, so the plan sees each one. */
#include <stdlib.h>
#include <string.h>

#include "aws/core/creds.h"
#include "aws/core/errors.h"
#include "controllers/accountclaim/exec.h"
#include "util/err.h"
#include "util/str.h"

#define CLEANUP_MAX_OPS 4000 /* a resource that never goes away */

enum cl_stage { CL_SNAPSHOTS, CL_VOLUMES, CL_BUCKETS, CL_VPCE, CL_ZONES };

struct cl_job {
  struct aws_api *api;
  struct aws_target t;
  struct aws_creds *acct; /* owned: the assumed role's session */
  enum cl_stage stage;
  unsigned ops;
  char cur[256], cur_name[256]; /* bucket, or zone id and name */
  char account_id[16];
  struct claim_obs obs;
  claim_aws_done done;
  void *arg;
};

static void cl_step(struct cl_job *j);

static void cl_finish(struct cl_job *j, int err, const struct aws_error *ae)
{
  j->obs.result = err;
  if (err && ae && ae->code[0])
    str_copy(j->obs.aws_code, ae->code, sizeof(j->obs.aws_code));
  if (j->acct)
    aws_creds_unref(j->acct);
  j->done(j->arg, &j->obs);
  free(j);
}

/* After starting a call: a synchronous failure ends the job. */
static void cl_check(struct cl_job *j, int rc)
{
  if (rc < 0)
    cl_finish(j, rc, NULL);
}

static const char *const stage_names[] = {
  [CL_SNAPSHOTS] = "snapshots", [CL_VOLUMES] = "volumes",
  [CL_BUCKETS] = "buckets",     [CL_VPCE] = "vpce",
  [CL_ZONES] = "zones",
};

static int stage_of(const char *name, enum cl_stage *out)
{
  size_t i;

  for (i = 0; i < sizeof(stage_names) / sizeof(stage_names[0]); i++)
    if (str_eq(name, stage_names[i])) {
      *out = (enum cl_stage)i;
      return 0;
    }
  return OP_EINVAL;
}

/* The stage is empty: the plan gets the next one. */
static void cl_next_stage(struct cl_job *j)
{
  str_copy(j->obs.next_stage, claim_cleanup_next(stage_names[j->stage]),
           sizeof(j->obs.next_stage));
  cl_finish(j, 0, NULL);
}

/* ---- EBS snapshots and volumes ---------------------------------------- */

static void ebs_deleted(int err, const struct aws_error *ae,
                        const struct aws_empty_result *r, void *arg)
{
  struct cl_job *j = arg;

  (void)r;
  if (err && !(ae && strstr(ae->code, "NotFound")))
    cl_finish(j, err, ae);
  else
    cl_step(j);
}

static void ebs_listed(int err, const struct aws_error *ae,
                       const struct aws_ec2_ids_result *r, void *arg)
{
  struct cl_job *j = arg;

  if (err) {
    cl_finish(j, err, ae);
  } else if (r->ids.n == 0) {
    cl_next_stage(j);
  } else if (j->stage == CL_SNAPSHOTS) {
    struct aws_ec2_snapshot_req rq = { .snapshot_id = r->ids.v[0] };

    cl_check(j, j->api->delete_snapshot(j->api, &j->t, &rq, ebs_deleted, j));
  } else {
    struct aws_ec2_volume_req rq = { .volume_id = r->ids.v[0] };

    cl_check(j, j->api->delete_volume(j->api, &j->t, &rq, ebs_deleted, j));
  }
}

static int ebs_list(struct cl_job *j)
{
  static const char *const self[] = { "self" };
  struct aws_ec2_page_req rq = { 0 };

  if (j->stage == CL_VOLUMES)
    return j->api->describe_volumes(j->api, &j->t, &rq, ebs_listed, j);
  rq.owner_ids = self;
  rq.nowner_ids = 1;
  return j->api->describe_snapshots(j->api, &j->t, &rq, ebs_listed, j);
}

/* ---- S3 ------------------------------------------------------------------ */

static int s3_list_objects(struct cl_job *j);

static void s3_bucket_deleted(int err, const struct aws_error *ae,
                              const struct aws_empty_result *r, void *arg)
{
  struct cl_job *j = arg;

  (void)r;
  if (err && !(ae && str_eq(ae->code, "NoSuchBucket")))
    cl_finish(j, err, ae);
  else
    cl_step(j);
}

static void s3_objects_deleted(int err, const struct aws_error *ae,
                               const struct aws_s3_delete_result *r, void *arg)
{
  struct cl_job *j = arg;

  if (err)
    cl_finish(j, err, ae);
  else if (r->nerrors)
    cl_finish(j, OP_EAWS, NULL);
  else
    cl_check(j, s3_list_objects(j));
}

static void s3_objects_listed(int err, const struct aws_error *ae,
                              const struct aws_s3_objects_result *r, void *arg)
{
  struct cl_job *j = arg;
  struct aws_s3_bucket_req brq = { .bucket = j->cur };
  const char **keys;
  size_t n;
  int rc;

  if (err) {
    cl_finish(j, err, ae);
    return;
  }
  if (r->n == 0) {
    cl_check(j,
             j->api->delete_bucket(j->api, &j->t, &brq, s3_bucket_deleted, j));
    return;
  }
  n = r->n > 1000 ? 1000 : r->n;
  keys = calloc(n, sizeof(*keys));
  if (!keys) {
    cl_finish(j, OP_ENOMEM, NULL);
    return;
  }
  for (size_t i = 0; i < n; i++)
    keys[i] = r->v[i].key;
  struct aws_delete_objects_req rq = {
    .bucket = j->cur, .keys = keys, .nkeys = n, .quiet = true
  };
  rc = j->api->delete_objects(j->api, &j->t, &rq, s3_objects_deleted, j);
  free(keys);
  cl_check(j, rc);
}

static int s3_list_objects(struct cl_job *j)
{
  struct aws_list_objects_req rq = { .bucket = j->cur };

  if (++j->ops > CLEANUP_MAX_OPS)
    return OP_ETIMEDOUT;
  return j->api->list_objects_v2(j->api, &j->t, &rq, s3_objects_listed, j);
}

static void s3_buckets_listed(int err, const struct aws_error *ae,
                              const struct aws_s3_buckets_result *r, void *arg)
{
  struct cl_job *j = arg;

  if (err) {
    cl_finish(j, err, ae);
  } else if (r->n == 0 || !r->v[0].name) {
    cl_next_stage(j);
  } else {
    str_copy(j->cur, r->v[0].name, sizeof(j->cur));
    cl_check(j, s3_list_objects(j));
  }
}

/* ---- VPC endpoint service configurations ------------------------------- */

static void vpce_deleted(int err, const struct aws_error *ae,
                         const struct aws_ec2_unsuccessful_result *r, void *arg)
{
  struct cl_job *j = arg;

  if (err)
    cl_finish(j, err, ae);
  else if (r->n)
    cl_finish(j, OP_EAWS, NULL);
  else
    cl_next_stage(j);
}

static void vpce_listed(int err, const struct aws_error *ae,
                        const struct aws_ec2_ids_result *r, void *arg)
{
  struct cl_job *j = arg;
  struct aws_ec2_service_ids_req rq = { 0 };

  if (err) {
    cl_finish(j, err, ae);
  } else if (r->ids.n == 0) {
    cl_next_stage(j);
  } else {
    rq.service_ids = (const char *const *)r->ids.v;
    rq.nservice_ids = r->ids.n;
    cl_check(j, j->api->delete_vpc_endpoint_service_configurations(
                    j->api, &j->t, &rq, vpce_deleted, j));
  }
}

/* ---- Route 53 ------------------------------------------------------------ */

static int r53_list_records(struct cl_job *j);

static void r53_zone_deleted(int err, const struct aws_error *ae,
                             const struct aws_r53_change_info_result *r,
                             void *arg)
{
  struct cl_job *j = arg;

  (void)r;
  if (err && !(ae && str_eq(ae->code, "NoSuchHostedZone")))
    cl_finish(j, err, ae);
  else
    cl_step(j);
}

static void r53_changed(int err, const struct aws_error *ae,
                        const struct aws_r53_change_info_result *r, void *arg)
{
  struct cl_job *j = arg;

  (void)r;
  if (err)
    cl_finish(j, err, ae);
  else
    cl_check(j, r53_list_records(j));
}

/* SOA and the apex NS records go with the zone itself. */
static bool r53_deletable(const struct cl_job *j, const struct aws_r53_rrset *s)
{
  if (str_eq(s->type, "SOA"))
    return false;
  return !(str_eq(s->type, "NS") && str_eq(s->name, j->cur_name));
}

static void r53_records_listed(int err, const struct aws_error *ae,
                               const struct aws_r53_rrsets_result *r, void *arg)
{
  struct cl_job *j = arg;
  struct aws_r53_change *ch;
  size_t n = 0;
  int rc;

  if (err) {
    cl_finish(j, err, ae);
    return;
  }
  ch = calloc(r->n + 1, sizeof(*ch));
  if (!ch) {
    cl_finish(j, OP_ENOMEM, NULL);
    return;
  }
  for (size_t i = 0; i < r->n; i++)
    if (r53_deletable(j, &r->v[i]))
      ch[n++] = (struct aws_r53_change){ "DELETE", &r->v[i] };
  if (n) {
    struct aws_r53_change_req rq = { .hosted_zone_id = j->cur,
                                     .changes = ch,
                                     .nchanges = n };
    rc =
        j->api->change_resource_record_sets(j->api, &j->t, &rq, r53_changed, j);
  } else {
    struct aws_r53_zone_req rq = { .hosted_zone_id = j->cur };
    rc = j->api->delete_hosted_zone(j->api, &j->t, &rq, r53_zone_deleted, j);
  }
  free(ch);
  cl_check(j, rc);
}

static int r53_list_records(struct cl_job *j)
{
  struct aws_r53_rrsets_req rq = { .hosted_zone_id = j->cur };

  if (++j->ops > CLEANUP_MAX_OPS)
    return OP_ETIMEDOUT;
  return j->api->list_resource_record_sets(j->api, &j->t, &rq,
                                           r53_records_listed, j);
}

static void r53_zones_listed(int err, const struct aws_error *ae,
                             const struct aws_r53_zones_result *r, void *arg)
{
  struct cl_job *j = arg;

  if (err) {
    cl_finish(j, err, ae);
  } else if (r->n == 0 || !r->v[0].id) {
    cl_next_stage(j);
  } else {
    str_copy(j->cur, r->v[0].id, sizeof(j->cur));
    str_copy(j->cur_name, r->v[0].name ? r->v[0].name : "",
             sizeof(j->cur_name));
    cl_check(j, r53_list_records(j));
  }
}

/* ---- driver -------------------------------------------------------------- */

static void cl_step(struct cl_job *j)
{
  struct aws_s3_none_req s3rq = { 0 };
  struct aws_ec2_service_ids_req vrq = { 0 };
  struct aws_r53_page_req zrq = { 0 };
  int rc;

  if (++j->ops > CLEANUP_MAX_OPS) {
    cl_finish(j, OP_ETIMEDOUT, NULL);
    return;
  }
  switch (j->stage) {
  case CL_SNAPSHOTS:
  case CL_VOLUMES:
    rc = ebs_list(j);
    break;
  case CL_BUCKETS:
    rc = j->api->list_buckets(j->api, &j->t, &s3rq, s3_buckets_listed, j);
    break;
  case CL_VPCE:
    rc = j->api->describe_vpc_endpoint_service_configurations(
        j->api, &j->t, &vrq, vpce_listed, j);
    break;
  default:
    rc = j->api->list_hosted_zones(j->api, &j->t, &zrq, r53_zones_listed, j);
    break;
  }
  cl_check(j, rc);
}

static void assumed(int err, const struct aws_error *ae,
                    const struct aws_sts_creds_result *r, void *arg)
{
  struct cl_job *j = arg;

  if (err) {
    cl_finish(j, err, ae);
    return;
  }
  j->acct =
      aws_creds_static_new(r->creds.access_key_id, r->creds.secret_access_key,
                           r->creds.session_token);
  if (!j->acct) {
    cl_finish(j, OP_EAUTH, NULL);
    return;
  }
  j->t.creds = j->acct;
  j->t.account = j->account_id; /* rate-governor key: the member account */
  cl_step(j);
}

int claim__exec_cleanup(struct aws_api *api, struct aws_creds *mgmt,
                        const struct claim_step *st, claim_aws_done done,
                        void *arg)
{
  const char *account_id = st->account_id, *region = st->region;
  enum cl_stage stage;
  char arn[128];
  struct cl_job *j;
  struct aws_assume_role_req rq = { .role_arn = arn,
                                    .role_session_name = "awsAccountOperator" };
  int rc;

  if (!mgmt)
    return OP_ENOTFOUND;
  if (str_empty(account_id) || str_empty(region) || stage_of(st->stage, &stage))
    return OP_EINVAL;
  if (str_fmt(arn, sizeof(arn), "arn:aws:iam::%s:role/%s", account_id,
              "OrganizationAccountAccessRole") < 0)
    return OP_ETOOBIG;
  j = calloc(1, sizeof(*j));
  if (!j)
    return OP_ENOMEM;
  j->api = api;
  j->obs.action = CLAIM_CLEANUP_REGION;
  j->stage = stage;
  j->obs.region_started = st->region_started;
  str_copy(j->obs.region, region, sizeof(j->obs.region));
  str_copy(j->account_id, account_id, sizeof(j->account_id));
  j->t = (struct aws_target){ .creds = mgmt,
                              .region = j->obs.region,
                              .controller = "accountclaim" };
  j->done = done;
  j->arg = arg;
  rc = api->assume_role(api, &j->t, &rq, assumed, j);
  if (rc < 0)
    free(j);
  return rc;
}
