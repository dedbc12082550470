/* AccountClaim executor: CLAIM_CLEANUP_REGION, one stage. Assume
 * OrganizationAccountAccessRole (in the step's partition) in the claimed
 * account (or reuse the process's session there), then empty one kind of
 * resource of the region (the plan's step names it): AMIs owned by the account
 * (before the snapshots, which a registered AMI keeps InUse), EBS snapshots
 * whose OwnerId is the account, EBS volumes, S3 buckets (objects first), VPC
 * endpoint service configurations, Route 53 hosted zones (records first). A
 * stage lists, deletes and lists again until nothing is left (the EC2 stages a
 * page of ids at a time, the others the first item), so no list result outlives
 * its callback and a restart just lists again; any failure ends the job with
 * the AWS code. The observation names the next stage, so the plan sees each
 * one. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core/creds.h"
#include "aws/core/errors.h"
#include "controllers/accountclaim/exec.h"
#include "util/err.h"
#include "util/str.h"

#define CLEANUP_MAX_OPS 4000 /* a resource that never goes away */

enum cl_stage {
  CL_IMAGES,
  CL_SNAPSHOTS,
  CL_VOLUMES,
  CL_BUCKETS,
  CL_VPCE,
  CL_ZONES
};

struct cl_job {
  struct aws_api *api;
  struct aws_target t;
  struct aws_creds *acct; /* owned: the assumed role's session */
  enum cl_stage stage;
  unsigned ops;
  char cur[256], cur_name[256]; /* bucket, or zone id and name */
  char account_id[16];
  json_t *ids;      /* owned: the EC2 page's ids of the account */
  size_t idx;       /* next of ids to delete */
  unsigned deleted; /* deletions that worked on this page */
  char token[1024]; /* EC2: the next page ("" = the first) */
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
  json_decref(j->ids);
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
  [CL_IMAGES] = "images",   [CL_SNAPSHOTS] = "snapshots",
  [CL_VOLUMES] = "volumes", [CL_BUCKETS] = "buckets",
  [CL_VPCE] = "vpce",       [CL_ZONES] = "zones",
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

/* ---- AMIs, EBS snapshots and volumes ---------------------------------- *
 * A page is listed, what the account owns on it is deleted one by one,
 * then the listing starts over (a deletion may move the pages) until a
 * pass deletes nothing: then the next page, or the next stage. Items of
 * another owner are never touched, whatever the request's Owner said. */

static void ec2_next(struct cl_job *j);

static bool gone(const struct aws_error *ae)
{
  return ae &&
         (strstr(ae->code, "NotFound") || strstr(ae->code, "Unavailable"));
}

static void ec2_deleted(int err, const struct aws_error *ae,
                        const struct aws_empty_result *r, void *arg)
{
  struct cl_job *j = arg;

  (void)r;
  if (err && !gone(ae)) {
    cl_finish(j, err, ae);
    return;
  }
  if (!err)
    j->deleted++;
  ec2_next(j);
}

static int ec2_delete(struct cl_job *j, const char *id)
{
  struct aws_ec2_image_req irq = { .image_id = id };
  struct aws_ec2_snapshot_req srq = { .snapshot_id = id };
  struct aws_ec2_volume_req vrq = { .volume_id = id };

  if (j->stage == CL_IMAGES)
    return j->api->deregister_image(j->api, &j->t, &irq, ec2_deleted, j);
  if (j->stage == CL_SNAPSHOTS)
    return j->api->delete_snapshot(j->api, &j->t, &srq, ec2_deleted, j);
  return j->api->delete_volume(j->api, &j->t, &vrq, ec2_deleted, j);
}

/* The next id of the page, or what follows the page. */
static void ec2_next(struct cl_job *j)
{
  size_t n = json_array_size(j->ids);

  if (j->idx < n) {
    const char *id = json_string_value(json_array_get(j->ids, j->idx++));
    cl_check(j, ec2_delete(j, id));
    return;
  }
  if (j->deleted)
    j->token[0] = '\0'; /* start over */
  if (j->deleted || j->token[0])
    cl_step(j);
  else
    cl_next_stage(j);
}

/* Keep the page's ids (owner NULL: the account's by definition). */
static void ec2_page(struct cl_job *j, const char *next_token)
{
  str_copy(j->token, next_token ? next_token : "", sizeof(j->token));
  j->idx = 0;
  j->deleted = 0;
  ec2_next(j);
}

static void ec2_keep(struct cl_job *j, const char *id, const char *owner,
                     bool need_owner)
{
  if (id && (!need_owner || str_eq(owner, j->account_id)))
    json_array_append_new(j->ids, json_string(id));
}

static void images_listed(int err, const struct aws_error *ae,
                          const struct aws_ec2_images_result *r, void *arg)
{
  struct cl_job *j = arg;

  if (err) {
    cl_finish(j, err, ae);
    return;
  }
  json_array_clear(j->ids);
  for (size_t i = 0; i < r->n; i++)
    ec2_keep(j, r->v[i].image_id, r->v[i].owner_id, true);
  ec2_page(j, r->next_token);
}

static void snapshots_listed(int err, const struct aws_error *ae,
                             const struct aws_ec2_snapshots_result *r,
                             void *arg)
{
  struct cl_job *j = arg;

  if (err) {
    cl_finish(j, err, ae);
    return;
  }
  json_array_clear(j->ids);
  for (size_t i = 0; i < r->n; i++)
    ec2_keep(j, r->v[i].snapshot_id, r->v[i].owner_id, true);
  ec2_page(j, r->next_token);
}

static void volumes_listed(int err, const struct aws_error *ae,
                           const struct aws_ec2_ids_result *r, void *arg)
{
  struct cl_job *j = arg;

  if (err) {
    cl_finish(j, err, ae);
    return;
  }
  json_array_clear(j->ids);
  for (size_t i = 0; i < r->ids.n; i++)
    ec2_keep(j, r->ids.v[i], NULL, false);
  ec2_page(j, r->next_token);
}

static int ec2_list(struct cl_job *j)
{
  static const char *const self[] = { "self" };
  const char *tok = j->token[0] ? j->token : NULL;
  struct aws_ec2_page_req rq = { .next_token = tok };
  struct aws_describe_images_req irq = { .owners = self,
                                         .nowners = 1,
                                         .next_token = tok };

  if (j->stage == CL_IMAGES)
    return j->api->describe_images(j->api, &j->t, &irq, images_listed, j);
  if (j->stage == CL_VOLUMES)
    return j->api->describe_volumes(j->api, &j->t, &rq, volumes_listed, j);
  rq.owner_ids = self;
  rq.nowner_ids = 1;
  return j->api->describe_snapshots(j->api, &j->t, &rq, snapshots_listed, j);
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
  case CL_IMAGES:
  case CL_SNAPSHOTS:
  case CL_VOLUMES:
    rc = ec2_list(j);
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

/* The member account's session is ready: empty the stage. */
static void cl_start(struct cl_job *j, struct aws_creds *acct)
{
  j->acct = acct;
  j->t.creds = acct;
  j->t.account = j->account_id; /* rate-governor key: the member account */
  cl_step(j);
}

static void assumed(int err, const struct aws_error *ae,
                    const struct aws_sts_creds_result *r, void *arg)
{
  struct cl_job *j = arg;
  struct aws_creds *c;

  if (err) {
    cl_finish(j, err, ae);
    return;
  }
  c = aws_creds_static_new(r->creds.access_key_id, r->creds.secret_access_key,
                           r->creds.session_token);
  if (!c) {
    cl_finish(j, OP_EAUTH, NULL);
    return;
  }
  cl_start(j, c);
}

static struct cl_job *cl_job_new(const struct claim_exec_deps *d,
                                 const struct claim_step *st,
                                 enum cl_stage stage, claim_aws_done done,
                                 void *arg)
{
  struct cl_job *j = calloc(1, sizeof(*j));

  if (!j)
    return NULL;
  j->api = d->api;
  j->ids = json_array();
  j->obs.action = CLAIM_CLEANUP_REGION;
  j->stage = stage;
  j->obs.region_started = st->region_started;
  str_copy(j->obs.region, st->region, sizeof(j->obs.region));
  str_copy(j->account_id, st->account_id, sizeof(j->account_id));
  j->t = (struct aws_target){ .region = j->obs.region,
                              .controller = "accountclaim" };
  j->done = done;
  j->arg = arg;
  return j;
}

/* The shared session when the deps offer one (one AssumeRole per account
 * and process, the Account controller's too, refreshed before it expires),
 * else an AssumeRole for this stage. */
int claim__exec_cleanup(const struct claim_exec_deps *d, struct aws_creds *mgmt,
                        const struct claim_step *st, claim_aws_done done,
                        void *arg)
{
  enum cl_stage stage;
  char arn[128];
  struct aws_creds *sess = NULL;
  struct cl_job *j;
  struct aws_assume_role_req rq = { .role_arn = arn,
                                    .role_session_name = "awsAccountOperator" };
  int rc;

  if (!mgmt)
    return OP_ENOTFOUND;
  if (str_empty(st->account_id) || str_empty(st->region) ||
      stage_of(st->stage, &stage))
    return OP_EINVAL;
  if (exec_role_arn(st->partition, st->account_id,
                    "OrganizationAccountAccessRole", arn, sizeof(arn)))
    return OP_EINVAL;
  if (d->account_creds &&
      (rc = d->account_creds(d->creds_arg, st->account_id, &sess)) < 0)
    return rc;
  j = cl_job_new(d, st, stage, done, arg);
  if (!j)
    return OP_ENOMEM;
  if (sess) {
    cl_start(j, aws_creds_ref(sess));
    return 0;
  }
  j->t.creds = mgmt;
  rc = d->api->assume_role(d->api, &j->t, &rq, assumed, j);
  if (rc < 0) {
    json_decref(j->ids);
    free(j);
  }
  return rc;
}
