/* Amazon EC2 (EC2 query protocol, version 2016-11-15, XML responses). */
#include "aws/ec2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ops_int.h"
#include "aws/proto/query.h"
#include "util/err.h"
#include "util/util.h"

#define EC2_VERSION "2016-11-15"

static void ec2_q(struct aws_query *q, const char *action)
{
  aws_query_init(q, true, action, EC2_VERSION);
}

/* Filter.N.Name, Filter.N.Value.M */
static void add_filters(struct aws_query *q, const struct aws_ec2_filters *f)
{
  size_t i, j;

  for (i = 0; i < f->n; i++) {
    aws_query_addk(q, f->v[i].name, "Filter.%zu.Name", i + 1);
    for (j = 0; j < f->v[i].nvalues; j++)
      aws_query_addk(q, f->v[i].values[j], "Filter.%zu.Value.%zu", i + 1,
                     j + 1);
  }
}

static void add_page(struct aws_query *q, const char *next_token,
                     int max_results)
{
  aws_query_add(q, "NextToken", next_token);
  if (max_results > 0)
    aws_query_add_int(q, "MaxResults", max_results);
}

/* Open <opResponse> and return its root. */
static int open_resp(const char *body, size_t len, const char *op,
                     struct aws_xml **doc, aws_xnode *root)
{
  char name[96];

  snprintf(name, sizeof(name), "%sResponse", op);
  *doc = aws_ox_parse_new(body, len, name);
  if (!*doc)
    return OP_EPARSE;
  *root = aws_xml_root(*doc);
  return 0;
}

static int fix(int rc)
{
  return rc && rc != OP_ETOOBIG ? OP_EPARSE : rc;
}

/* ---- DescribeRegions ---------------------------------------------------- */

int aws_enc_describe_regions(const struct aws_describe_regions_req *rq,
                             struct aws_wire *w)
{
  struct aws_query q;

  ec2_q(&q, "DescribeRegions");
  if (rq->all_regions)
    aws_query_add_bool(&q, "AllRegions", true);
  add_filters(&q, &rq->filters);
  return aws_query_request(w, &q);
}

static int region_item(aws_xnode n, void *elem)
{
  struct aws_ec2_region *r = elem;

  r->region_name = aws_ox_str_new(n, "regionName");
  r->endpoint = aws_ox_str_new(n, "regionEndpoint");
  r->opt_in_status = aws_ox_str_new(n, "optInStatus");
  return r->region_name ? 0 : OP_EPARSE;
}

int aws_dec_describe_regions(const char *body, size_t len,
                             struct aws_ec2_regions_result **out)
{
  struct aws_ec2_regions_result *r;
  struct aws_xml *doc;
  aws_xnode root;
  int rc = open_resp(body, len, "DescribeRegions", &doc, &root);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_ox_each(aws_ox_child(root, "regionInfo"), "item", sizeof(*r->v),
                   region_item, (void **)&r->v, &r->n);
  aws_xml_free(doc);
  if (rc) {
    aws_ec2_regions_result_free(r);
    return fix(rc);
  }
  *out = r;
  return 0;
}

void aws_ec2_regions_result_free(struct aws_ec2_regions_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].region_name);
    free(r->v[i].endpoint);
    free(r->v[i].opt_in_status);
  }
  free(r->v);
  free(r);
}

/* ---- instances ---------------------------------------------------------- */

static int instance_item(aws_xnode n, void *elem)
{
  struct aws_ec2_instance *i = elem;
  int err = 0;

  i->instance_id = aws_ox_str_new(n, "instanceId");
  i->instance_type = aws_ox_str_new(n, "instanceType");
  i->image_id = aws_ox_str_new(n, "imageId");
  i->state_name = aws_ox_str_new(n, "instanceState/name");
  i->state_code = (int)aws_ox_int(n, "instanceState/code", -1, &err);
  if (!err)
    err = aws_ox_tags(aws_ox_child(n, "tagSet"), "item", &i->tags, &i->ntags);
  return err || !i->instance_id ? OP_EPARSE : 0;
}

static void instance_clean(struct aws_ec2_instance *i)
{
  free(i->instance_id);
  free(i->instance_type);
  free(i->image_id);
  free(i->state_name);
  aws_rtags_free(i->tags, i->ntags);
}

void aws_ec2_instances_result_free(struct aws_ec2_instances_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    instance_clean(&r->v[i]);
  free(r->v);
  free(r->next_token);
  free(r);
}

int aws_enc_describe_instances(const struct aws_describe_instances_req *rq,
                               struct aws_wire *w)
{
  struct aws_query q;

  ec2_q(&q, "DescribeInstances");
  aws_query_add_list(&q, "InstanceId", rq->instance_ids, rq->ninstance_ids,
                     false);
  add_filters(&q, &rq->filters);
  if (rq->dry_run)
    aws_query_add_bool(&q, "DryRun", true);
  add_page(&q, rq->next_token, rq->max_results);
  return aws_query_request(w, &q);
}

int aws_dec_describe_instances(const char *body, size_t len,
                               struct aws_ec2_instances_result **out)
{
  struct aws_ec2_instances_result *r;
  struct aws_xml *doc;
  aws_xnode root, res;
  int rc = open_resp(body, len, "DescribeInstances", &doc, &root);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  /* Reservations are flattened: the operator only looks at instances. */
  for (res = aws_ox_child(aws_ox_child(root, "reservationSet"), "item");
       res && !rc; res = aws_ox_next(res, "item"))
    rc = aws_ox_each(aws_ox_child(res, "instancesSet"), "item", sizeof(*r->v),
                     instance_item, (void **)&r->v, &r->n);
  r->next_token = aws_ox_str_new(root, "nextToken");
  aws_xml_free(doc);
  if (rc) {
    aws_ec2_instances_result_free(r);
    return fix(rc);
  }
  *out = r;
  return 0;
}

static void add_block_device(struct aws_query *q,
                             const struct aws_run_instances_req *rq)
{
  if (!rq->device_name)
    return;
  aws_query_add(q, "BlockDeviceMapping.1.DeviceName", rq->device_name);
  if (rq->volume_size_gib > 0)
    aws_query_add_int(q, "BlockDeviceMapping.1.Ebs.VolumeSize",
                      rq->volume_size_gib);
  aws_query_add(q, "BlockDeviceMapping.1.Ebs.VolumeType", rq->volume_type);
  aws_query_add_bool(q, "BlockDeviceMapping.1.Ebs.Encrypted", rq->encrypted);
  aws_query_add_bool(q, "BlockDeviceMapping.1.Ebs.DeleteOnTermination",
                     rq->delete_on_termination);
  aws_query_add(q, "BlockDeviceMapping.1.Ebs.KmsKeyId", rq->kms_key_id);
}

int aws_enc_run_instances(const struct aws_run_instances_req *rq,
                          struct aws_wire *w)
{
  struct aws_query q;
  size_t i, j;

  if (rq->min_count <= 0 || rq->max_count < rq->min_count)
    return OP_EINVAL;
  ec2_q(&q, "RunInstances");
  aws_query_add(&q, "ImageId", rq->image_id);
  aws_query_add(&q, "InstanceType", rq->instance_type);
  aws_query_add_int(&q, "MinCount", rq->min_count);
  aws_query_add_int(&q, "MaxCount", rq->max_count);
  add_block_device(&q, rq);
  for (i = 0; i < rq->ntag_specs; i++) {
    const struct aws_ec2_tag_spec *ts = &rq->tag_specs[i];
    aws_query_addk(&q, ts->resource_type, "TagSpecification.%zu.ResourceType",
                   i + 1);
    for (j = 0; j < ts->ntags; j++) {
      aws_query_addk(&q, ts->tags[j].key, "TagSpecification.%zu.Tag.%zu.Key",
                     i + 1, j + 1);
      aws_query_addk(&q, ts->tags[j].value ? ts->tags[j].value : "",
                     "TagSpecification.%zu.Tag.%zu.Value", i + 1, j + 1);
    }
  }
  if (rq->dry_run)
    aws_query_add_bool(&q, "DryRun", true);
  return aws_query_request(w, &q);
}

int aws_dec_run_instances(const char *body, size_t len,
                          struct aws_ec2_instances_result **out)
{
  struct aws_ec2_instances_result *r;
  struct aws_xml *doc;
  aws_xnode root;
  int rc = open_resp(body, len, "RunInstances", &doc, &root);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_ox_each(aws_ox_child(root, "instancesSet"), "item", sizeof(*r->v),
                   instance_item, (void **)&r->v, &r->n);
  aws_xml_free(doc);
  if (!rc && r->n == 0)
    rc = OP_EPARSE; /* a successful launch names its instances */
  if (rc) {
    aws_ec2_instances_result_free(r);
    return fix(rc);
  }
  *out = r;
  return 0;
}

/* ---- instance states ---------------------------------------------------- */

static int state_item_at(aws_xnode n, void *elem, const char *state)
{
  struct aws_ec2_instance_state *s = elem;
  char path[64];
  int err = 0;

  s->instance_id = aws_ox_str_new(n, "instanceId");
  snprintf(path, sizeof(path), "%s/name", state);
  s->state_name = aws_ox_str_new(n, path);
  snprintf(path, sizeof(path), "%s/code", state);
  s->state_code = (int)aws_ox_int(n, path, -1, &err);
  return err || !s->instance_id ? OP_EPARSE : 0;
}

static int status_item(aws_xnode n, void *elem)
{
  return state_item_at(n, elem, "instanceState");
}

static int current_item(aws_xnode n, void *elem)
{
  return state_item_at(n, elem, "currentState");
}

void aws_ec2_instance_states_result_free(
    struct aws_ec2_instance_states_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].instance_id);
    free(r->v[i].state_name);
  }
  free(r->v);
  free(r->next_token);
  free(r);
}

static int dec_states(const char *body, size_t len, const char *op,
                      const char *set, aws_ox_item_fn fn,
                      struct aws_ec2_instance_states_result **out)
{
  struct aws_ec2_instance_states_result *r;
  struct aws_xml *doc;
  aws_xnode root;
  int rc = open_resp(body, len, op, &doc, &root);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_ox_each(aws_ox_child(root, set), "item", sizeof(*r->v), fn,
                   (void **)&r->v, &r->n);
  r->next_token = aws_ox_str_new(root, "nextToken");
  aws_xml_free(doc);
  if (rc) {
    aws_ec2_instance_states_result_free(r);
    return fix(rc);
  }
  *out = r;
  return 0;
}

int aws_enc_describe_instance_status(
    const struct aws_describe_instance_status_req *rq, struct aws_wire *w)
{
  struct aws_query q;

  ec2_q(&q, "DescribeInstanceStatus");
  aws_query_add_list(&q, "InstanceId", rq->instance_ids, rq->ninstance_ids,
                     false);
  if (rq->include_all_instances)
    aws_query_add_bool(&q, "IncludeAllInstances", true);
  add_page(&q, rq->next_token, 0);
  return aws_query_request(w, &q);
}

int aws_dec_describe_instance_status(
    const char *body, size_t len, struct aws_ec2_instance_states_result **out)
{
  return dec_states(body, len, "DescribeInstanceStatus", "instanceStatusSet",
                    status_item, out);
}

int aws_enc_terminate_instances(const struct aws_ec2_instance_ids_req *rq,
                                struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->ninstance_ids)
    return OP_EINVAL;
  ec2_q(&q, "TerminateInstances");
  aws_query_add_list(&q, "InstanceId", rq->instance_ids, rq->ninstance_ids,
                     false);
  if (rq->dry_run)
    aws_query_add_bool(&q, "DryRun", true);
  return aws_query_request(w, &q);
}

int aws_dec_terminate_instances(const char *body, size_t len,
                                struct aws_ec2_instance_states_result **out)
{
  return dec_states(body, len, "TerminateInstances", "instancesSet",
                    current_item, out);
}

/* ---- id lists: instance types, volumes, snapshots, services ------------- */

void aws_ec2_ids_result_free(struct aws_ec2_ids_result *r)
{
  if (!r)
    return;
  aws_strs_cleanup(&r->ids);
  free(r->next_token);
  free(r);
}

/* <set><item><field>id</field>...</item></set><nextToken/> */
static int dec_ids(const char *body, size_t len, const char *op,
                   const char *set, const char *field,
                   struct aws_ec2_ids_result **out)
{
  struct aws_ec2_ids_result *r;
  struct aws_xml *doc;
  aws_xnode root, it;
  int rc = open_resp(body, len, op, &doc, &root);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  for (it = aws_ox_child(aws_ox_child(root, set), "item"); it && !rc;
       it = aws_ox_next(it, "item")) {
    char **slot;
    rc = aws_arr_push((void **)&r->ids.v, &r->ids.n, sizeof(char *),
                      (void **)&slot);
    if (!rc && !(*slot = aws_ox_str_new(it, field)))
      rc = OP_EPARSE;
  }
  r->next_token = aws_ox_str_new(root, "nextToken");
  aws_xml_free(doc);
  if (rc) {
    aws_ec2_ids_result_free(r);
    return fix(rc);
  }
  *out = r;
  return 0;
}

int aws_enc_describe_instance_types(
    const struct aws_describe_instance_types_req *rq, struct aws_wire *w)
{
  struct aws_query q;

  ec2_q(&q, "DescribeInstanceTypes");
  aws_query_add_list(&q, "InstanceType", rq->instance_types,
                     rq->ninstance_types, false);
  add_filters(&q, &rq->filters);
  add_page(&q, rq->next_token, 0);
  return aws_query_request(w, &q);
}

int aws_dec_describe_instance_types(const char *body, size_t len,
                                    struct aws_ec2_ids_result **out)
{
  return dec_ids(body, len, "DescribeInstanceTypes", "instanceTypeSet",
                 "instanceType", out);
}

int aws_enc_describe_volumes(const struct aws_ec2_page_req *rq,
                             struct aws_wire *w)
{
  struct aws_query q;

  ec2_q(&q, "DescribeVolumes");
  add_filters(&q, &rq->filters);
  add_page(&q, rq->next_token, rq->max_results);
  return aws_query_request(w, &q);
}

int aws_dec_describe_volumes(const char *body, size_t len,
                             struct aws_ec2_ids_result **out)
{
  return dec_ids(body, len, "DescribeVolumes", "volumeSet", "volumeId", out);
}

int aws_enc_describe_snapshots(const struct aws_ec2_page_req *rq,
                               struct aws_wire *w)
{
  struct aws_query q;

  ec2_q(&q, "DescribeSnapshots");
  aws_query_add_list(&q, "Owner", rq->owner_ids, rq->nowner_ids, false);
  add_filters(&q, &rq->filters);
  add_page(&q, rq->next_token, rq->max_results);
  return aws_query_request(w, &q);
}

static int snapshot_item(aws_xnode n, void *elem)
{
  struct aws_ec2_snapshot *sn = elem;

  sn->snapshot_id = aws_ox_str_new(n, "snapshotId");
  sn->owner_id = aws_ox_str_new(n, "ownerId");
  sn->volume_id = aws_ox_str_new(n, "volumeId");
  sn->state = aws_ox_str_new(n, "status");
  return sn->snapshot_id ? 0 : OP_EPARSE;
}

int aws_dec_describe_snapshots(const char *body, size_t len,
                               struct aws_ec2_snapshots_result **out)
{
  struct aws_ec2_snapshots_result *r;
  struct aws_xml *doc;
  aws_xnode root;
  int rc = open_resp(body, len, "DescribeSnapshots", &doc, &root);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_ox_each(aws_ox_child(root, "snapshotSet"), "item", sizeof(*r->v),
                   snapshot_item, (void **)&r->v, &r->n);
  r->next_token = aws_ox_str_new(root, "nextToken");
  aws_xml_free(doc);
  if (rc) {
    aws_ec2_snapshots_result_free(r);
    return fix(rc);
  }
  *out = r;
  return 0;
}

void aws_ec2_snapshots_result_free(struct aws_ec2_snapshots_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].snapshot_id);
    free(r->v[i].owner_id);
    free(r->v[i].volume_id);
    free(r->v[i].state);
  }
  free(r->v);
  free(r->next_token);
  free(r);
}

int aws_enc_describe_vpc_endpoint_service_configurations(
    const struct aws_ec2_service_ids_req *rq, struct aws_wire *w)
{
  struct aws_query q;

  ec2_q(&q, "DescribeVpcEndpointServiceConfigurations");
  aws_query_add_list(&q, "ServiceId", rq->service_ids, rq->nservice_ids, false);
  add_page(&q, rq->next_token, 0);
  return aws_query_request(w, &q);
}

int aws_dec_describe_vpc_endpoint_service_configurations(
    const char *body, size_t len, struct aws_ec2_ids_result **out)
{
  return dec_ids(body, len, "DescribeVpcEndpointServiceConfigurations",
                 "serviceConfigurationSet", "serviceId", out);
}

/* ---- deletes ------------------------------------------------------------ */

static int enc_delete(struct aws_wire *w, const char *op, const char *key,
                      const char *id)
{
  struct aws_query q;

  if (!id)
    return OP_EINVAL;
  ec2_q(&q, op);
  aws_query_add(&q, key, id);
  return aws_query_request(w, &q);
}

int aws_enc_delete_volume(const struct aws_ec2_volume_req *rq,
                          struct aws_wire *w)
{
  return enc_delete(w, "DeleteVolume", "VolumeId", rq->volume_id);
}

int aws_dec_delete_volume(const char *body, size_t len,
                          struct aws_empty_result **out)
{
  return aws_dec_empty_xml(body, len, out);
}

int aws_enc_delete_snapshot(const struct aws_ec2_snapshot_req *rq,
                            struct aws_wire *w)
{
  return enc_delete(w, "DeleteSnapshot", "SnapshotId", rq->snapshot_id);
}

int aws_dec_delete_snapshot(const char *body, size_t len,
                            struct aws_empty_result **out)
{
  return aws_dec_empty_xml(body, len, out);
}

int aws_enc_delete_vpc_endpoint_service_configurations(
    const struct aws_ec2_service_ids_req *rq, struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->nservice_ids)
    return OP_EINVAL;
  ec2_q(&q, "DeleteVpcEndpointServiceConfigurations");
  aws_query_add_list(&q, "ServiceId", rq->service_ids, rq->nservice_ids, false);
  return aws_query_request(w, &q);
}

static int unsuccessful_item(aws_xnode n, void *elem)
{
  struct aws_ec2_unsuccessful *u = elem;

  u->resource_id = aws_ox_str_new(n, "resourceId");
  u->code = aws_ox_str_new(n, "error/code");
  u->message = aws_ox_str_new(n, "error/message");
  return 0;
}

int aws_dec_delete_vpc_endpoint_service_configurations(
    const char *body, size_t len, struct aws_ec2_unsuccessful_result **out)
{
  struct aws_ec2_unsuccessful_result *r;
  struct aws_xml *doc;
  aws_xnode root;
  int rc = open_resp(body, len, "DeleteVpcEndpointServiceConfigurations", &doc,
                     &root);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_ox_each(aws_ox_child(root, "unsuccessful"), "item", sizeof(*r->v),
                   unsuccessful_item, (void **)&r->v, &r->n);
  aws_xml_free(doc);
  if (rc) {
    aws_ec2_unsuccessful_result_free(r);
    return fix(rc);
  }
  *out = r;
  return 0;
}

void aws_ec2_unsuccessful_result_free(struct aws_ec2_unsuccessful_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].resource_id);
    free(r->v[i].code);
    free(r->v[i].message);
  }
  free(r->v);
  free(r);
}

/* ---- DescribeImages ----------------------------------------------------- */

int aws_enc_describe_images(const struct aws_describe_images_req *rq,
                            struct aws_wire *w)
{
  struct aws_query q;

  ec2_q(&q, "DescribeImages");
  aws_query_add_list(&q, "ExecutableBy", rq->executable_users,
                     rq->nexecutable_users, false);
  add_filters(&q, &rq->filters);
  aws_query_add_list(&q, "ImageId", rq->image_ids, rq->nimage_ids, false);
  aws_query_add_list(&q, "Owner", rq->owners, rq->nowners, false);
  add_page(&q, rq->next_token, rq->max_results);
  return aws_query_request(w, &q);
}

static int image_item(aws_xnode n, void *elem)
{
  struct aws_ec2_image *i = elem;

  i->image_id = aws_ox_str_new(n, "imageId");
  i->name = aws_ox_str_new(n, "name");
  i->architecture = aws_ox_str_new(n, "architecture");
  i->state = aws_ox_str_new(n, "imageState");
  i->creation_date = aws_ox_str_new(n, "creationDate");
  i->owner_id = aws_ox_str_new(n, "imageOwnerId");
  return i->image_id ? 0 : OP_EPARSE;
}

int aws_dec_describe_images(const char *body, size_t len,
                            struct aws_ec2_images_result **out)
{
  struct aws_ec2_images_result *r;
  struct aws_xml *doc;
  aws_xnode root;
  int rc = open_resp(body, len, "DescribeImages", &doc, &root);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_ox_each(aws_ox_child(root, "imagesSet"), "item", sizeof(*r->v),
                   image_item, (void **)&r->v, &r->n);
  r->next_token = aws_ox_str_new(root, "nextToken");
  aws_xml_free(doc);
  if (rc) {
    aws_ec2_images_result_free(r);
    return fix(rc);
  }
  *out = r;
  return 0;
}

void aws_ec2_images_result_free(struct aws_ec2_images_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].image_id);
    free(r->v[i].name);
    free(r->v[i].architecture);
    free(r->v[i].state);
    free(r->v[i].creation_date);
    free(r->v[i].owner_id);
  }
  free(r->v);
  free(r->next_token);
  free(r);
}

int aws_enc_deregister_image(const struct aws_ec2_image_req *rq,
                             struct aws_wire *w)
{
  return enc_delete(w, "DeregisterImage", "ImageId", rq->image_id);
}

/* <DeregisterImageResponse><return>true</return>: nothing to keep. */
int aws_dec_deregister_image(const char *body, size_t len,
                             struct aws_empty_result **out)
{
  return aws_dec_empty_xml(body, len, out);
}
