/* aws_driver, all-ops: the EC2 steps (region initialization, then the
 * cleanup of volumes, AMIs, snapshots and VPC endpoint services). */
#include <stdio.h>

#include "driver_int.h"
#include "util/err.h"
#include "util/str.h"

#define EC2_OWNER "309956199498"

int s_describe_regions(struct drv *d)
{
  struct aws_describe_regions_req rq = { .all_regions = true };

  return CALL(d, describe_regions, &d->xt, &rq, NULL);
}

static int a_images(struct drv *d, const void *res)
{
  const struct aws_ec2_images_result *r = res;

  return r->n ? copy_id(d->id.image, sizeof(d->id.image), r->v[0].image_id)
              : OP_ENOTFOUND;
}

int s_describe_images(struct drv *d)
{
  static const char *const owners[] = { EC2_OWNER };
  static const char *const arch[] = { "x86_64" };
  static const struct aws_ec2_filter f[] = { { "architecture", arch, 1 } };
  struct aws_describe_images_req rq = { .owners = owners,
                                        .nowners = 1,
                                        .filters = { f, 1 } };

  return CALL(d, describe_images, &d->xt, &rq, a_images);
}

int s_describe_instance_types(struct drv *d)
{
  static const char *const types[] = { "t3.micro" };
  struct aws_describe_instance_types_req rq = { types, 1, { 0 }, NULL };

  return CALL(d, describe_instance_types, &d->xt, &rq, NULL);
}

static int a_run(struct drv *d, const void *res)
{
  const struct aws_ec2_instances_result *r = res;

  return r->n == 1 ? copy_id(d->id.instance, sizeof(d->id.instance),
                             r->v[0].instance_id)
                   : OP_EPARSE;
}

int s_run_instances(struct drv *d)
{
  static const struct aws_tag tags[] = { { "Name", "aint-region-init" } };
  static const struct aws_ec2_tag_spec ts[] = { { "instance", tags, 1 } };
  struct aws_run_instances_req rq = { .image_id = d->id.image,
                                      .instance_type = "t3.micro",
                                      .min_count = 1,
                                      .max_count = 1,
                                      .tag_specs = ts,
                                      .ntag_specs = 1,
                                      .device_name = "/dev/sda1",
                                      .volume_size_gib = 10,
                                      .volume_type = "gp2",
                                      .delete_on_termination = false };

  return CALL(d, run_instances, &d->xt, &rq, a_run);
}

/* Poll until the instance reaches `want` (running, terminated). */
static int instance_in(struct drv *d, const struct aws_ec2_instances_result *r,
                       const char *want)
{
  if (r->n != 1)
    return OP_EPARSE;
  if (!str_eq(r->v[0].state_name, want))
    d->repeat_ms = d->o.poll_ms;
  return 0;
}

static int a_running(struct drv *d, const void *res)
{
  return instance_in(d, res, "running");
}

static int a_terminated(struct drv *d, const void *res)
{
  return instance_in(d, res, "terminated");
}

static int describe_instance(struct drv *d, after_fn aft)
{
  const char *ids[] = { d->id.instance };
  struct aws_describe_instances_req rq = { .instance_ids = ids,
                                           .ninstance_ids = 1 };

  return CALL(d, describe_instances, &d->xt, &rq, aft);
}

int s_wait_running(struct drv *d)
{
  return describe_instance(d, a_running);
}

int s_wait_terminated(struct drv *d)
{
  return describe_instance(d, a_terminated);
}

static int a_status(struct drv *d, const void *res)
{
  const struct aws_ec2_instance_states_result *r = res;

  return r->n == 1 && str_eq(r->v[0].instance_id, d->id.instance) ? 0
                                                                  : OP_EPARSE;
}

int s_instance_status(struct drv *d)
{
  const char *ids[] = { d->id.instance };
  struct aws_describe_instance_status_req rq = { ids, 1, true, NULL };

  return CALL(d, describe_instance_status, &d->xt, &rq, a_status);
}

int s_terminate(struct drv *d)
{
  const char *ids[] = { d->id.instance };
  struct aws_ec2_instance_ids_req rq = { ids, 1, false };

  return CALL(d, terminate_instances, &d->xt, &rq, NULL);
}

static int a_volumes(struct drv *d, const void *res)
{
  const struct aws_ec2_ids_result *r = res;

  return r->ids.n == 1
             ? copy_id(d->id.volume, sizeof(d->id.volume), r->ids.v[0])
             : OP_EPARSE;
}

int s_describe_volumes(struct drv *d)
{
  static const char *const avail[] = { "available" };
  static const struct aws_ec2_filter f[] = { { "status", avail, 1 } };
  struct aws_ec2_page_req rq = { .filters = { f, 1 } };

  return CALL(d, describe_volumes, &d->xt, &rq, a_volumes);
}

static int r_snapshot(struct drv *d, const char *body, size_t len)
{
  return xml_pick(body, len, "snapshotId", d->id.snapshot,
                  sizeof(d->id.snapshot));
}

int s_seed_snapshot(struct drv *d)
{
  char body[256];

  str_fmt(body, sizeof(body),
          "Action=CreateSnapshot&Version=2016-11-15&VolumeId=%s", d->id.volume);
  return ec2_raw(d, "CreateSnapshot", body, r_snapshot);
}

static int r_image(struct drv *d, const char *body, size_t len)
{
  return xml_pick(body, len, "imageId", d->id.own_image,
                  sizeof(d->id.own_image));
}

/* An AMI of the account backed by the seeded snapshot (a tenant's). */
int s_seed_image(struct drv *d)
{
  char body[512];

  str_fmt(body, sizeof(body),
          "Action=RegisterImage&Version=2016-11-15&Name=aint-tenant-image"
          "&RootDeviceName=%%2Fdev%%2Fsda1"
          "&BlockDeviceMapping.1.DeviceName=%%2Fdev%%2Fsda1"
          "&BlockDeviceMapping.1.Ebs.SnapshotId=%s",
          d->id.snapshot);
  return ec2_raw(d, "RegisterImage", body, r_image);
}

static int a_own_images(struct drv *d, const void *res)
{
  const struct aws_ec2_images_result *r = res;

  return r->n == 1 && str_eq(r->v[0].image_id, d->id.own_image) ? 0 : OP_EPARSE;
}

int s_describe_own_images(struct drv *d)
{
  static const char *const self[] = { "self" };
  struct aws_describe_images_req rq = { .owners = self, .nowners = 1 };

  return CALL(d, describe_images, &d->xt, &rq, a_own_images);
}

int s_deregister_image(struct drv *d)
{
  struct aws_ec2_image_req rq = { d->id.own_image };

  return CALL(d, deregister_image, &d->xt, &rq, NULL);
}

static int a_snapshots(struct drv *d, const void *res)
{
  const struct aws_ec2_snapshots_result *r = res;

  return r->n == 1 && str_eq(r->v[0].snapshot_id, d->id.snapshot) ? 0
                                                                  : OP_EPARSE;
}

int s_describe_snapshots(struct drv *d)
{
  static const char *const self[] = { "self" };
  struct aws_ec2_page_req rq = { .owner_ids = self, .nowner_ids = 1 };

  return CALL(d, describe_snapshots, &d->xt, &rq, a_snapshots);
}

int s_delete_snapshot(struct drv *d)
{
  struct aws_ec2_snapshot_req rq = { d->id.snapshot };

  return CALL(d, delete_snapshot, &d->xt, &rq, NULL);
}

int s_delete_volume(struct drv *d)
{
  struct aws_ec2_volume_req rq = { d->id.volume };

  return CALL(d, delete_volume, &d->xt, &rq, NULL);
}

static int r_vpce(struct drv *d, const char *body, size_t len)
{
  return xml_pick(body, len, "serviceConfiguration/serviceId", d->id.vpce,
                  sizeof(d->id.vpce));
}

int s_seed_vpce(struct drv *d)
{
  return ec2_raw(d, "CreateVpcEndpointServiceConfiguration",
                 "Action=CreateVpcEndpointServiceConfiguration"
                 "&Version=2016-11-15&AcceptanceRequired=false",
                 r_vpce);
}

static int a_vpce(struct drv *d, const void *res)
{
  const struct aws_ec2_ids_result *r = res;

  return r->ids.n == 1 && str_eq(r->ids.v[0], d->id.vpce) ? 0 : OP_EPARSE;
}

int s_describe_vpce(struct drv *d)
{
  struct aws_ec2_service_ids_req rq = { 0 };

  return CALL(d, describe_vpc_endpoint_service_configurations, &d->xt, &rq,
              a_vpce);
}

static int a_vpce_deleted(struct drv *d, const void *res)
{
  const struct aws_ec2_unsuccessful_result *r = res;

  return r->n == 0 ? 0 : OP_EPARSE;
}

int s_delete_vpce(struct drv *d)
{
  const char *ids[] = { d->id.vpce };
  struct aws_ec2_service_ids_req rq = { ids, 1, NULL };

  return CALL(d, delete_vpc_endpoint_service_configurations, &d->xt, &rq,
              a_vpce_deleted);
}
