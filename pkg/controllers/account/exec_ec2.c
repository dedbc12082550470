/* Account executor: region initialisation steps in one region (EC2 in
 * the account through its OrganizationAccountAccessRole). */
#include <stdlib.h>
#include <string.h>

#include "controllers/account/exec_int.h"
#include "util/err.h"
#include "util/str.h"

#define API(j) exec_aws_api((j)->e->d.aws)
#define VCPU_QUOTA "L-1216C47A"
#define MAX_TAGS 32

static const char *const init_types[] = { "t3.micro", "t2.micro" };
static const char *const tag_keys[] = { "clusterAccountName",
                                        "clusterNamespace", "clusterClaimLink",
                                        "clusterClaimLinkNamespace" };

/* ---- ACCT_REGION_CLEANUP: terminate hanging init instances ---- */

static bool has_init_tags(const struct aws_ec2_instance *in)
{
  for (size_t k = 0; k < 4; k++) {
    bool found = false;

    for (size_t t = 0; t < in->ntags; t++)
      found = found || str_eq(in->tags[t].key, tag_keys[k]);
    if (!found)
      return false;
  }
  return true;
}

static void terminated(int err, const struct aws_error *ae,
                       const struct aws_ec2_instance_states_result *r,
                       void *arg)
{
  struct acct_job *j = arg;

  (void)r;
  if (j->st.action == ACCT_REGION_TERMINATE)
    j->obs.instance_done = err == 0;
  acct__aws_finish(j, err, ae);
}

static int terminate(struct acct_job *j, const char *const *ids, size_t n)
{
  struct aws_ec2_instance_ids_req rq = { .instance_ids = ids,
                                         .ninstance_ids = n };

  return API(j)->terminate_instances(API(j), &j->acct_t, &rq, terminated, j);
}

static void hanging_listed(int err, const struct aws_error *ae,
                           const struct aws_ec2_instances_result *r, void *arg)
{
  struct acct_job *j = arg;
  const char *ids[64];
  size_t n = 0;
  int rc;

  if (err)
    return acct__aws_finish(j, err, ae);
  for (size_t i = 0; i < r->n && n < 64; i++)
    if (r->v[i].instance_id && has_init_tags(&r->v[i]))
      ids[n++] = r->v[i].instance_id;
  j->obs.hanging = (int)n;
  if (!n)
    return acct__aws_finish(j, 0, NULL);
  rc = terminate(j, ids, n);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

/* Pending too: an instance launched just before a restart (region
 * progress between the durable writes lives in memory) is still booting
 * when the regions start over. */
static int region_cleanup(struct acct_job *j)
{
  static const char *const live[] = { "pending", "running" };
  struct aws_ec2_filter f[2] = {
    { "instance-state-name", live, 2 },
    { "instance-type", init_types, 2 },
  };
  struct aws_describe_instances_req rq = { .filters = { f, 2 } };

  return API(j)->describe_instances(API(j), &j->acct_t, &rq, hanging_listed, j);
}

/* ---- ACCT_REGION_LAUNCH ---- */

static void launched(int err, const struct aws_error *ae,
                     const struct aws_ec2_instances_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (!err && r->n && r->v[0].instance_id)
    str_copy(j->obs.instance_id, r->v[0].instance_id,
             sizeof(j->obs.instance_id));
  else if (!err)
    err = OP_EPARSE;
  acct__aws_finish(j, err, ae);
}

static void run_instance(struct acct_job *j)
{
  struct aws_tag tags[MAX_TAGS];
  size_t n = 0;
  const char *k;
  json_t *v;
  struct aws_ec2_tag_spec ts[2];
  struct aws_run_instances_req rq = {
    .image_id = json_string_value(json_array_get(j->list, 0)),
    .instance_type = json_string_value(json_array_get(j->list, 1)),
    .min_count = 1,
    .max_count = 1,
    .tag_specs = ts,
    .ntag_specs = 2,
    .device_name = "/dev/sda1",
    .volume_size_gib = 10,
    .encrypted = true,
    .delete_on_termination = true,
    .kms_key_id = j->st.kms_key_id[0] ? j->st.kms_key_id : NULL,
  };
  int rc;

  json_object_foreach(j->st.tags, k, v)
  {
    if (n < MAX_TAGS && json_is_string(v))
      tags[n++] = (struct aws_tag){ k, json_string_value(v) };
  }
  ts[0] = (struct aws_ec2_tag_spec){ "instance", tags, n };
  ts[1] = (struct aws_ec2_tag_spec){ "volume", tags, n };
  rc = API(j)->run_instances(API(j), &j->acct_t, &rq, launched, j);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

static void quota_requested(int err, const struct aws_error *ae,
                            const struct aws_quota_change_result *r, void *arg)
{
  (void)err;
  (void)ae;
  (void)r;
  run_instance(arg); /* best effort, as upstream */
}

static void vcpu_got(int err, const struct aws_error *ae,
                     const struct aws_service_quota_result *r, void *arg)
{
  struct acct_job *j = arg;
  struct aws_quota_increase_req rq = { "ec2", VCPU_QUOTA,
                                       (double)j->st.quota_vcpu };

  (void)ae;
  if (err || (r->has_value && r->value >= (double)j->st.quota_vcpu) ||
      API(j)->request_service_quota_increase(API(j), &j->acct_t, &rq,
                                             quota_requested, j))
    run_instance(j);
}

static void after_type(struct acct_job *j)
{
  struct aws_quota_req rq = { "ec2", VCPU_QUOTA };

  if (j->st.quota_vcpu <= 0 ||
      API(j)->get_service_quota(API(j), &j->acct_t, &rq, vcpu_got, j))
    run_instance(j);
}

static void types_got(int err, const struct aws_error *ae,
                      const struct aws_ec2_ids_result *r, void *arg)
{
  struct acct_job *j = arg;
  bool t3 = !err && r && r->ids.n > 0;

  /* an answer (t3 offered or not) holds for every account of the region */
  if (!err || acct__code_is(ae, "InvalidInstanceType"))
    json_object_set_new(j->e->init_types, j->st.region,
                        json_string(init_types[t3 ? 0 : 1]));
  json_array_append_new(j->list, json_string(init_types[t3 ? 0 : 1]));
  after_type(j);
}

static bool image_ok(const struct aws_ec2_image *im)
{
  return im->image_id && im->name && !strstr(im->name, "SAP") &&
         !strstr(im->name, "BETA");
}

static void images_got(int err, const struct aws_error *ae,
                       const struct aws_ec2_images_result *r, void *arg)
{
  struct acct_job *j = arg;
  struct aws_describe_instance_types_req rq = { .instance_types = init_types,
                                                .ninstance_types = 1 };
  int rc;

  if (err)
    return acct__aws_finish(j, err, ae);
  json_decref(j->list);
  j->list = json_array();
  for (size_t i = 0; i < r->n && !json_array_size(j->list); i++)
    if (image_ok(&r->v[i]))
      json_array_append_new(j->list, json_string(r->v[i].image_id));
  if (!json_array_size(j->list))
    return acct__aws_finish(j, OP_ENOTFOUND, NULL);
  if (json_object_get(j->e->init_types, j->st.region)) {
    json_array_append(j->list, json_object_get(j->e->init_types, j->st.region));
    return after_type(j);
  }
  rc = API(j)->describe_instance_types(API(j), &j->acct_t, &rq, types_got, j);
  if (rc)
    types_got(rc, NULL, NULL, j);
}

static int region_launch(struct acct_job *j)
{
  static const char *const arch[] = { "x86_64" };
  static const char *const all[] = { "all" };
  const char *owners[1] = { j->st.ami_owner };
  struct aws_ec2_filter f[1] = { { "architecture", arch, 1 } };
  struct aws_describe_images_req rq = {
    .owners = owners,
    .nowners = str_empty(j->st.ami_owner) ? 0 : 1,
    .executable_users = all,
    .nexecutable_users = 1,
    .filters = { f, 1 },
  };

  return API(j)->describe_images(API(j), &j->acct_t, &rq, images_got, j);
}

/* ---- ACCT_REGION_TERMINATE ---- */

static void status_got(int err, const struct aws_error *ae,
                       const struct aws_ec2_instance_states_result *r,
                       void *arg)
{
  struct acct_job *j = arg;
  const char *ids[1] = { j->st.instance_id };
  int code = -1, rc;

  if (acct__code_is(ae, "InvalidInstanceID.NotFound")) {
    j->obs.instance_done = true;
    return acct__aws_finish(j, 0, NULL);
  }
  if (err)
    return acct__aws_finish(j, err, ae);
  for (size_t i = 0; i < r->n; i++)
    if (str_eq(r->v[i].instance_id, j->st.instance_id))
      code = r->v[i].state_code & 0xff;
  if (code == 32 || code == 48) { /* shutting-down, terminated */
    j->obs.instance_done = true;
    return acct__aws_finish(j, 0, NULL);
  }
  if (code != 16) /* not running yet */
    return acct__aws_finish(j, 0, NULL);
  rc = terminate(j, ids, 1);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

static int region_terminate(struct acct_job *j)
{
  const char *ids[1] = { j->st.instance_id };
  struct aws_describe_instance_status_req rq = {
    .instance_ids = ids,
    .ninstance_ids = 1,
    .include_all_instances = true,
  };

  str_copy(j->obs.instance_id, j->st.instance_id, sizeof(j->obs.instance_id));
  return API(j)->describe_instance_status(API(j), &j->acct_t, &rq, status_got,
                                          j);
}

int acct__exec_ec2(struct acct_job *j)
{
  int rc = acct__account_target(j, j->st.region);

  if (rc)
    return rc;
  switch (j->st.action) {
  case ACCT_REGION_CLEANUP:
    return region_cleanup(j);
  case ACCT_REGION_LAUNCH:
    acct__fresh_launch(j->e, j->base.key, j->base.obj, j->st.region);
    return region_launch(j);
  case ACCT_REGION_TERMINATE:
    return region_terminate(j);
  default:
    return OP_EINVAL;
  }
}
