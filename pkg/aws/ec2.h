/* Amazon EC2 (EC2 query protocol): requests, results and the operation list
 * AWS_OPS_EC2, which aws/api.h assembles into struct aws_api. Strings,
 * frees and the calling contract: see aws/api.h and aws/proto/shapes.h.
 */
#ifndef PKG_AWS_EC2_H
#define PKG_AWS_EC2_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/errors.h"
#include "aws/proto/shapes.h"

struct aws_ec2_filter {
  const char *name;
  const char *const *values;
  size_t nvalues;
};
struct aws_ec2_filters { /* embedded in describe requests */
  const struct aws_ec2_filter *v;
  size_t n;
};
struct aws_describe_regions_req {
  bool all_regions;
  struct aws_ec2_filters filters;
};
struct aws_ec2_region {
  char *region_name, *endpoint, *opt_in_status;
};
struct aws_ec2_regions_result {
  struct aws_ec2_region *v;
  size_t n;
};
struct aws_ec2_instance {
  char *instance_id, *instance_type, *state_name, *image_id;
  int state_code;
  struct aws_rtag *tags;
  size_t ntags;
};
struct aws_describe_instances_req {
  const char *const *instance_ids;
  size_t ninstance_ids;
  struct aws_ec2_filters filters;
  bool dry_run;
  const char *next_token;
  int max_results;
};
struct aws_ec2_instances_result { /* DescribeInstances (flattened), Run */
  struct aws_ec2_instance *v;
  size_t n;
  char *next_token;
};
struct aws_describe_instance_status_req {
  const char *const *instance_ids;
  size_t ninstance_ids;
  bool include_all_instances;
  const char *next_token;
};
struct aws_ec2_instance_state {
  char *instance_id, *state_name;
  int state_code;
};
struct aws_ec2_instance_states_result { /* DescribeInstanceStatus, Terminate */
  struct aws_ec2_instance_state *v;
  size_t n;
  char *next_token;
};
struct aws_describe_instance_types_req {
  const char *const *instance_types;
  size_t ninstance_types;
  struct aws_ec2_filters filters;
  const char *next_token;
};
struct aws_ec2_ids_result { /* instance types, snapshot ids, ... */
  struct aws_strs ids;
  char *next_token;
};
struct aws_describe_images_req {
  const char *const *owners;
  size_t nowners;
  const char *const *executable_users;
  size_t nexecutable_users;
  const char *const *image_ids;
  size_t nimage_ids;
  struct aws_ec2_filters filters;
  const char *next_token; /* DescribeImages paginates */
  int max_results;        /* 0 = not sent (AWS: every image at once) */
};
struct aws_ec2_image {
  char *image_id, *name, *architecture, *state, *creation_date;
  char *owner_id; /* imageOwnerId */
};
struct aws_ec2_images_result {
  struct aws_ec2_image *v;
  size_t n;
  char *next_token;
};
struct aws_ec2_image_req { /* DeregisterImage */
  const char *image_id;
};
struct aws_ec2_tag_spec {
  const char *resource_type; /* instance, volume */
  const struct aws_tag *tags;
  size_t ntags;
};
struct aws_run_instances_req {
  const char *image_id, *instance_type;
  int min_count, max_count; /* required */
  const struct aws_ec2_tag_spec *tag_specs;
  size_t ntag_specs;
  const char *device_name; /* one EBS block device when set */
  int volume_size_gib;
  const char *volume_type;
  bool encrypted, delete_on_termination;
  const char *kms_key_id;
  bool dry_run;
};
struct aws_ec2_instance_ids_req { /* TerminateInstances */
  const char *const *instance_ids;
  size_t ninstance_ids;
  bool dry_run;
};
struct aws_ec2_page_req { /* DescribeVolumes, DescribeSnapshots */
  struct aws_ec2_filters filters;
  const char *const *owner_ids; /* DescribeSnapshots only ("self") */
  size_t nowner_ids;
  const char *next_token;
  int max_results;
};
struct aws_ec2_volume_req {
  const char *volume_id;
};
struct aws_ec2_snapshot_req {
  const char *snapshot_id;
};
struct aws_ec2_snapshot {
  char *snapshot_id, *owner_id, *volume_id, *state;
};
struct aws_ec2_snapshots_result { /* DescribeSnapshots */
  struct aws_ec2_snapshot *v;
  size_t n;
  char *next_token;
};
struct aws_ec2_service_ids_req { /* VPC endpoint service configurations */
  const char *const *service_ids;
  size_t nservice_ids;
  const char *next_token;
};
struct aws_ec2_unsuccessful {
  char *resource_id, *code, *message;
};
struct aws_ec2_unsuccessful_result {
  struct aws_ec2_unsuccessful *v;
  size_t n;
};

/* ---- operations ------------------------------------------------------- */

/* XX(field, Operation, service, protocol, idempotent, request, result) */
#define AWS_OPS_EC2(XX)                                                        \
  XX(describe_regions, DescribeRegions, "ec2", AWS_PROTO_EC2, true,            \
     describe_regions_req, ec2_regions_result)                                 \
  XX(describe_instances, DescribeInstances, "ec2", AWS_PROTO_EC2, true,        \
     describe_instances_req, ec2_instances_result)                             \
  XX(describe_instance_status, DescribeInstanceStatus, "ec2", AWS_PROTO_EC2,   \
     true, describe_instance_status_req, ec2_instance_states_result)           \
  XX(describe_instance_types, DescribeInstanceTypes, "ec2", AWS_PROTO_EC2,     \
     true, describe_instance_types_req, ec2_ids_result)                        \
  XX(describe_images, DescribeImages, "ec2", AWS_PROTO_EC2, true,              \
     describe_images_req, ec2_images_result)                                   \
  XX(deregister_image, DeregisterImage, "ec2", AWS_PROTO_EC2, true,            \
     ec2_image_req, empty_result)                                              \
  XX(run_instances, RunInstances, "ec2", AWS_PROTO_EC2, false,                 \
     run_instances_req, ec2_instances_result)                                  \
  XX(terminate_instances, TerminateInstances, "ec2", AWS_PROTO_EC2, true,      \
     ec2_instance_ids_req, ec2_instance_states_result)                         \
  XX(describe_volumes, DescribeVolumes, "ec2", AWS_PROTO_EC2, true,            \
     ec2_page_req, ec2_ids_result)                                             \
  XX(delete_volume, DeleteVolume, "ec2", AWS_PROTO_EC2, true, ec2_volume_req,  \
     empty_result)                                                             \
  XX(describe_snapshots, DescribeSnapshots, "ec2", AWS_PROTO_EC2, true,        \
     ec2_page_req, ec2_snapshots_result)                                       \
  XX(delete_snapshot, DeleteSnapshot, "ec2", AWS_PROTO_EC2, true,              \
     ec2_snapshot_req, empty_result)                                           \
  XX(describe_vpc_endpoint_service_configurations,                             \
     DescribeVpcEndpointServiceConfigurations, "ec2", AWS_PROTO_EC2, true,     \
     ec2_service_ids_req, ec2_ids_result)                                      \
  XX(delete_vpc_endpoint_service_configurations,                               \
     DeleteVpcEndpointServiceConfigurations, "ec2", AWS_PROTO_EC2, true,       \
     ec2_service_ids_req, ec2_unsuccessful_result)

/* Result types; each has aws_<type>_free (NULL is fine). */
#define AWS_RESULTS_EC2(XX)                                                    \
  XX(ec2_regions_result)                                                       \
  XX(ec2_instances_result)                                                     \
  XX(ec2_instance_states_result)                                               \
  XX(ec2_ids_result)                                                           \
  XX(ec2_images_result)                                                        \
  XX(ec2_snapshots_result)                                                     \
  XX(ec2_unsuccessful_result)
AWS_RESULTS_EC2(AWS_RESULT_FREE_DECL)

#endif
