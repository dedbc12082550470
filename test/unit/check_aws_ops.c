/* pkg/aws operations, request side: the Query and EC2 form encoders, JSON
 * 1.1 / REST-JSON bodies and headers, S3 and Route 53 REST-XML requests,
 * compared with the exact bytes botocore would send. */
#include <string.h>

#include "aws/api.h"
#include "aws/proto/json11.h"
#include "aws/ops_int.h"
#include "aws/proto/query.h"
#include "aws/proto/restxml.h"
#include "testutil.h"
#include "util/err.h"

/* Encode with fn into a fresh wire, asserting success. */
#define ENCODE(f, rq, w)                                                       \
  do {                                                                         \
    aws_wire_init(w);                                                          \
    ck_assert_int_eq(aws_enc_##f(rq, w), 0);                                   \
  } while (0)

static const char *body(const struct aws_wire *w)
{
  return buf_str(&w->body);
}

START_TEST(query_percent_encoding)
{
  struct aws_query q;

  aws_query_init(&q, false, "AssumeRole", "2011-06-15");
  aws_query_add(&q, "RoleArn", "arn:aws:iam::1:role/R");
  aws_query_add(&q, "ExternalId", "a b+c&d=e~f_g.h-i*\xc3\xa9");
  aws_query_add(&q, "Skipped", NULL);
  aws_query_add_int(&q, "DurationSeconds", 3600);
  aws_query_add_bool(&q, "Flag", false);
  ck_assert_int_eq(aws_query_finish(&q), 0);
  ck_assert_str_eq(buf_str(&q.b),
                   "Action=AssumeRole&Version=2011-06-15"
                   "&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2FR"
                   "&ExternalId=a%20b%2Bc%26d%3De~f_g.h-i%2A%C3%A9"
                   "&DurationSeconds=3600&Flag=false");
  aws_query_cleanup(&q);
}
END_TEST

START_TEST(query_lists_maps_tags)
{
  static const char *const items[] = { "x", "y" };
  static const char *const keys[] = { "k1", "k2" };
  static const char *const vals[] = { "v1", "v 2" };
  static const struct aws_tag tags[] = { { "owner", "shard-1" },
                                         { "empty", NULL } };
  struct aws_query q;

  aws_query_init(&q, false, "Op", "1");
  aws_query_add_list(&q, "Names", items, 2, false);
  aws_query_add_list(&q, "Flat", items, 1, true);
  aws_query_add_list(&q, "None", items, 0, false);
  aws_query_add_tags(&q, "Tags", tags, 2);
  aws_query_add_map(&q, "Attributes", keys, vals, 2, NULL, NULL, false);
  aws_query_add_map(&q, "M", keys, vals, 1, "Name", "Value", true);
  ck_assert_int_eq(aws_query_finish(&q), 0);
  ck_assert_str_eq(buf_str(&q.b),
                   "Action=Op&Version=1&Names.member.1=x&Names.member.2=y"
                   "&Flat.1=x&Tags.member.1.Key=owner"
                   "&Tags.member.1.Value=shard-1&Tags.member.2.Key=empty"
                   "&Tags.member.2.Value=&Attributes.entry.1.key=k1"
                   "&Attributes.entry.1.value=v1&Attributes.entry.2.key=k2"
                   "&Attributes.entry.2.value=v%202&M.1.Name=k1&M.1.Value=v1");
  aws_query_cleanup(&q);

  /* EC2 lists never carry ".member". */
  aws_query_init(&q, true, "Op", "1");
  aws_query_add_list(&q, "InstanceId", items, 2, false);
  aws_query_add_tags(&q, "Tag", tags, 1);
  ck_assert_str_eq(buf_str(&q.b), "Action=Op&Version=1&InstanceId.1=x"
                                  "&InstanceId.2=y&Tag.1.Key=owner"
                                  "&Tag.1.Value=shard-1");
  aws_query_cleanup(&q);
}
END_TEST

START_TEST(query_errors_are_sticky)
{
  struct aws_query q;
  char longkey[300];

  memset(longkey, 'k', sizeof(longkey) - 1);
  longkey[sizeof(longkey) - 1] = '\0';
  aws_query_init(&q, false, "Op", "1");
  aws_query_addk(&q, "v", "%s", longkey);
  aws_query_add(&q, "After", "x");
  ck_assert_int_eq(aws_query_finish(&q), OP_ETOOBIG);
  aws_query_cleanup(&q);
}
END_TEST

START_TEST(sts_requests)
{
  struct aws_assume_role_req ar = {
    .role_arn = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole",
    .role_session_name = "awsAccountOperator",
    .duration_seconds = 3600,
    .external_id = "ext-1",
  };
  struct aws_assume_role_wi_req wi = { .role_arn = "arn:aws:iam::1:role/r",
                                       .role_session_name = "s",
                                       .web_identity_token = "eyJ.tok" };
  static const char *const arns[] = { "arn:aws:iam::aws:policy/ReadOnly" };
  struct aws_federation_token_req ft = { .name = "Bob",
                                         .duration_seconds = 900,
                                         .policy_arns = arns,
                                         .npolicy_arns = 1 };
  struct aws_sts_none_req none = { 0 };
  struct aws_wire w;

  ENCODE(assume_role, &ar, &w);
  ck_assert_str_eq(w.method, "POST");
  ck_assert_str_eq(w.path, "/");
  ck_assert_ptr_null(w.query);
  ck_assert_str_eq(aws_wire_get_header(&w, "Content-Type"),
                   "application/x-www-form-urlencoded; charset=utf-8");
  ck_assert_str_eq(body(&w),
                   "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3A"
                   "iam%3A%3A111111111111%3Arole%2FOrganizationAccountAccess"
                   "Role&RoleSessionName=awsAccountOperator"
                   "&DurationSeconds=3600&ExternalId=ext-1");
  aws_wire_cleanup(&w);

  ENCODE(assume_role_with_web_identity, &wi, &w);
  ck_assert_str_eq(body(&w), "Action=AssumeRoleWithWebIdentity"
                             "&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A"
                             "%3A1%3Arole%2Fr&RoleSessionName=s"
                             "&WebIdentityToken=eyJ.tok");
  ck_assert_int_eq(w.body.secret, 1);
  aws_wire_cleanup(&w);

  ENCODE(get_federation_token, &ft, &w);
  ck_assert_str_eq(body(&w), "Action=GetFederationToken&Version=2011-06-15"
                             "&Name=Bob&DurationSeconds=900"
                             "&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3A"
                             "aws%3Apolicy%2FReadOnly");
  aws_wire_cleanup(&w);

  ENCODE(get_caller_identity, &none, &w);
  ck_assert_str_eq(body(&w), "Action=GetCallerIdentity&Version=2011-06-15");
  aws_wire_cleanup(&w);

  ar.role_arn = NULL;
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_assume_role(&ar, &w), OP_EINVAL);
  aws_wire_cleanup(&w);
}
END_TEST

START_TEST(iam_requests)
{
  static const struct aws_tag tags[] = { { "clusterAccountName", "osd-x" },
                                         { "clusterNamespace",
                                           "aws-account-operator" } };
  struct aws_create_user_req cu = { .user_name = "osdManagedAdmin-abc",
                                    .tags = tags,
                                    .ntags = 2 };
  struct aws_create_role_req cr = {
    .role_name = "ManagedOpenShift-Support-abc",
    .assume_role_policy_document = "{\"Version\":\"2012-10-17\"}",
    .description = "AdminAccess for BYOC",
    .max_session_duration = 3600,
  };
  struct aws_iam_user_page_req lk = {
    .user_name = "u", .marker = "m/1=", .max_items = 100
  };
  struct aws_list_policies_req lp = { .scope = "AWS", .only_attached = false };
  struct aws_iam_delete_access_key_req dk = { .user_name = "u",
                                              .access_key_id = "AKIA1" };
  struct aws_create_policy_version_req pv = { .policy_arn = "arn:p",
                                              .policy_document = "{}",
                                              .set_as_default = true };
  struct aws_wire w;

  ENCODE(create_user, &cu, &w);
  ck_assert_str_eq(body(&w), "Action=CreateUser&Version=2010-05-08"
                             "&UserName=osdManagedAdmin-abc"
                             "&Tags.member.1.Key=clusterAccountName"
                             "&Tags.member.1.Value=osd-x"
                             "&Tags.member.2.Key=clusterNamespace"
                             "&Tags.member.2.Value=aws-account-operator");
  aws_wire_cleanup(&w);

  ENCODE(create_role, &cr, &w);
  ck_assert_str_eq(body(&w),
                   "Action=CreateRole&Version=2010-05-08"
                   "&RoleName=ManagedOpenShift-Support-abc"
                   "&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-"
                   "17%22%7D&Description=AdminAccess%20for%20BYOC"
                   "&MaxSessionDuration=3600");
  aws_wire_cleanup(&w);

  ENCODE(list_access_keys, &lk, &w);
  ck_assert_str_eq(body(&w), "Action=ListAccessKeys&Version=2010-05-08"
                             "&UserName=u&Marker=m%2F1%3D&MaxItems=100");
  aws_wire_cleanup(&w);

  ENCODE(list_policies, &lp, &w);
  ck_assert_str_eq(body(&w), "Action=ListPolicies&Version=2010-05-08"
                             "&Scope=AWS");
  aws_wire_cleanup(&w);

  ENCODE(delete_access_key, &dk, &w);
  ck_assert_str_eq(body(&w), "Action=DeleteAccessKey&Version=2010-05-08"
                             "&UserName=u&AccessKeyId=AKIA1");
  aws_wire_cleanup(&w);

  ENCODE(create_policy_version, &pv, &w);
  ck_assert_str_eq(body(&w), "Action=CreatePolicyVersion&Version=2010-05-08"
                             "&PolicyArn=arn%3Ap&PolicyDocument=%7B%7D"
                             "&SetAsDefault=true");
  aws_wire_cleanup(&w);
}
END_TEST

START_TEST(iam_required_members)
{
  struct aws_iam_user_req u = { 0 };
  struct aws_iam_role_policy_req rp = { .role_name = "r" };
  struct aws_put_role_policy_req pr = { .role_name = "r", .policy_name = "p" };
  struct aws_iam_tag_role_req tr = { .role_name = "r" };
  struct aws_wire w;

  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_get_user(&u, &w), OP_EINVAL);
  ck_assert_int_eq(aws_enc_attach_role_policy(&rp, &w), OP_EINVAL);
  ck_assert_int_eq(aws_enc_put_role_policy(&pr, &w), OP_EINVAL);
  ck_assert_int_eq(aws_enc_tag_role(&tr, &w), OP_EINVAL);
  aws_wire_cleanup(&w);
}
END_TEST

START_TEST(ec2_requests)
{
  static const char *const ids[] = { "i-1", "i-2" };
  static const char *const keys[] = { "clusterAccountName",
                                      "clusterNamespace" };
  static const char *const types[] = { "t3.micro" };
  static const struct aws_ec2_filter filt[] = { { "tag-key", keys, 2 } };
  static const struct aws_tag tags[] = { { "Name", "red-hat-region-init" } };
  static const struct aws_ec2_tag_spec specs[] = { { "instance", tags, 1 },
                                                   { "volume", tags, 1 } };
  static const char *const owners[] = { "309956199498" };
  static const char *const all[] = { "all" };
  struct aws_describe_instances_req di = { .instance_ids = ids,
                                           .ninstance_ids = 2,
                                           .filters = { filt, 1 },
                                           .dry_run = true };
  struct aws_describe_instance_types_req dt = { .instance_types = types,
                                                .ninstance_types = 1 };
  static const char *const self[] = { "self" };
  struct aws_ec2_image_req dr = { .image_id = "ami-1" };
  struct aws_describe_images_req im = { .owners = owners,
                                        .nowners = 1,
                                        .executable_users = all,
                                        .nexecutable_users = 1 };
  struct aws_run_instances_req ri = { .image_id = "ami-1",
                                      .instance_type = "t3.micro",
                                      .min_count = 1,
                                      .max_count = 1,
                                      .tag_specs = specs,
                                      .ntag_specs = 2,
                                      .device_name = "/dev/sda1",
                                      .volume_size_gib = 10,
                                      .volume_type = "gp3",
                                      .encrypted = true,
                                      .delete_on_termination = true,
                                      .kms_key_id = "k/1" };
  struct aws_wire w;

  ENCODE(describe_instances, &di, &w);
  ck_assert_str_eq(body(&w), "Action=DescribeInstances&Version=2016-11-15"
                             "&InstanceId.1=i-1&InstanceId.2=i-2"
                             "&Filter.1.Name=tag-key"
                             "&Filter.1.Value.1=clusterAccountName"
                             "&Filter.1.Value.2=clusterNamespace"
                             "&DryRun=true");
  aws_wire_cleanup(&w);

  ENCODE(describe_instance_types, &dt, &w);
  ck_assert_str_eq(body(&w), "Action=DescribeInstanceTypes&Version=2016-11-15"
                             "&InstanceType.1=t3.micro");
  aws_wire_cleanup(&w);

  ENCODE(describe_images, &im, &w);
  ck_assert_str_eq(body(&w), "Action=DescribeImages&Version=2016-11-15"
                             "&ExecutableBy.1=all&Owner.1=309956199498");
  aws_wire_cleanup(&w);

  /* the reuse cleanup: the account's own images, page by page */
  im = (struct aws_describe_images_req){
    .owners = self, .nowners = 1, .next_token = "p2", .max_results = 100
  };
  ENCODE(describe_images, &im, &w);
  ck_assert_str_eq(body(&w), "Action=DescribeImages&Version=2016-11-15"
                             "&Owner.1=self&NextToken=p2&MaxResults=100");
  aws_wire_cleanup(&w);
  ENCODE(deregister_image, &dr, &w);
  ck_assert_str_eq(body(&w), "Action=DeregisterImage&Version=2016-11-15"
                             "&ImageId=ami-1");
  aws_wire_cleanup(&w);
  dr.image_id = NULL;
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_deregister_image(&dr, &w), OP_EINVAL);
  aws_wire_cleanup(&w);

  ENCODE(run_instances, &ri, &w);
  ck_assert_str_eq(body(&w),
                   "Action=RunInstances&Version=2016-11-15&ImageId=ami-1"
                   "&InstanceType=t3.micro&MinCount=1&MaxCount=1"
                   "&BlockDeviceMapping.1.DeviceName=%2Fdev%2Fsda1"
                   "&BlockDeviceMapping.1.Ebs.VolumeSize=10"
                   "&BlockDeviceMapping.1.Ebs.VolumeType=gp3"
                   "&BlockDeviceMapping.1.Ebs.Encrypted=true"
                   "&BlockDeviceMapping.1.Ebs.DeleteOnTermination=true"
                   "&BlockDeviceMapping.1.Ebs.KmsKeyId=k%2F1"
                   "&TagSpecification.1.ResourceType=instance"
                   "&TagSpecification.1.Tag.1.Key=Name"
                   "&TagSpecification.1.Tag.1.Value=red-hat-region-init"
                   "&TagSpecification.2.ResourceType=volume"
                   "&TagSpecification.2.Tag.1.Key=Name"
                   "&TagSpecification.2.Tag.1.Value=red-hat-region-init");
  aws_wire_cleanup(&w);

  ri.min_count = 0;
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_run_instances(&ri, &w), OP_EINVAL);
  aws_wire_cleanup(&w);
}
END_TEST

START_TEST(ec2_requests_misc)
{
  static const char *const ids[] = { "i-1" };
  static const char *const self[] = { "self" };
  static const char *const svc[] = { "vpce-svc-1", "vpce-svc-2" };
  struct aws_describe_regions_req dr = { .all_regions = false };
  struct aws_ec2_instance_ids_req ti = { .instance_ids = ids,
                                         .ninstance_ids = 1 };
  struct aws_ec2_instance_ids_req none = { 0 };
  struct aws_ec2_page_req ds = { .owner_ids = self,
                                 .nowner_ids = 1,
                                 .next_token = "t+1" };
  struct aws_ec2_service_ids_req dv = { .service_ids = svc, .nservice_ids = 2 };
  struct aws_describe_instance_status_req st = {
    .instance_ids = ids, .ninstance_ids = 1, .include_all_instances = true
  };
  struct aws_ec2_volume_req vol = { "vol-1" };
  struct aws_wire w;

  ENCODE(describe_regions, &dr, &w);
  ck_assert_str_eq(body(&w), "Action=DescribeRegions&Version=2016-11-15");
  aws_wire_cleanup(&w);
  ENCODE(terminate_instances, &ti, &w);
  ck_assert_str_eq(body(&w), "Action=TerminateInstances&Version=2016-11-15"
                             "&InstanceId.1=i-1");
  aws_wire_cleanup(&w);
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_terminate_instances(&none, &w), OP_EINVAL);
  aws_wire_cleanup(&w);
  ENCODE(describe_snapshots, &ds, &w);
  ck_assert_str_eq(body(&w), "Action=DescribeSnapshots&Version=2016-11-15"
                             "&Owner.1=self&NextToken=t%2B1");
  aws_wire_cleanup(&w);
  ENCODE(delete_vpc_endpoint_service_configurations, &dv, &w);
  ck_assert_str_eq(body(&w), "Action=DeleteVpcEndpointServiceConfigurations"
                             "&Version=2016-11-15&ServiceId.1=vpce-svc-1"
                             "&ServiceId.2=vpce-svc-2");
  aws_wire_cleanup(&w);
  ENCODE(describe_instance_status, &st, &w);
  ck_assert_str_eq(body(&w), "Action=DescribeInstanceStatus"
                             "&Version=2016-11-15&InstanceId.1=i-1"
                             "&IncludeAllInstances=true");
  aws_wire_cleanup(&w);
  ENCODE(delete_volume, &vol, &w);
  ck_assert_str_eq(body(&w), "Action=DeleteVolume&Version=2016-11-15"
                             "&VolumeId=vol-1");
  aws_wire_cleanup(&w);
}
END_TEST

START_TEST(json11_requests)
{
  static const struct aws_tag tags[] = { { "owner", "shard-1" } };
  static const char *const states[] = { "IN_PROGRESS" };
  struct aws_create_account_req ca = { .email = "osd+abc@redhat.com",
                                       .account_name = "osd-abc",
                                       .tags = tags,
                                       .ntags = 1 };
  struct aws_list_car_status_req lc = {
    .states = states, .nstates = 1, .next_token = "n1", .max_results = 20
  };
  struct aws_org_none_req none = { 0 };
  struct aws_move_account_req mv = { "111111111111", "r-abcd",
                                     "ou-abcd-12345678" };
  struct aws_wire w;

  ENCODE(create_account, &ca, &w);
  ck_assert_str_eq(w.method, "POST");
  ck_assert_str_eq(w.path, "/");
  ck_assert_str_eq(aws_wire_get_header(&w, "Content-Type"),
                   "application/x-amz-json-1.1");
  ck_assert_str_eq(aws_wire_get_header(&w, "X-Amz-Target"),
                   "AWSOrganizationsV20161128.CreateAccount");
  ck_assert_str_eq(body(&w), "{\"AccountName\":\"osd-abc\","
                             "\"Email\":\"osd+abc@redhat.com\","
                             "\"Tags\":[{\"Key\":\"owner\","
                             "\"Value\":\"shard-1\"}]}");
  aws_wire_cleanup(&w);

  ENCODE(list_create_account_status, &lc, &w);
  ck_assert_str_eq(body(&w), "{\"MaxResults\":20,\"NextToken\":\"n1\","
                             "\"States\":[\"IN_PROGRESS\"]}");
  aws_wire_cleanup(&w);

  ENCODE(describe_organization, &none, &w);
  ck_assert_str_eq(body(&w), "{}");
  ck_assert_str_eq(aws_wire_get_header(&w, "X-Amz-Target"),
                   "AWSOrganizationsV20161128.DescribeOrganization");
  aws_wire_cleanup(&w);

  ENCODE(move_account, &mv, &w);
  ck_assert_str_eq(body(&w), "{\"AccountId\":\"111111111111\","
                             "\"DestinationParentId\":\"ou-abcd-12345678\","
                             "\"SourceParentId\":\"r-abcd\"}");
  aws_wire_cleanup(&w);

  ca.email = NULL;
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_create_account(&ca, &w), OP_EINVAL);
  aws_wire_cleanup(&w);
}
END_TEST

START_TEST(json11_support_quotas_account)
{
  static const char *const ids[] = { "case-1" };
  struct aws_create_case_req cc = {
    .subject = "Add account 1 to Enterprise Support",
    .communication_body = "Hi",
    .service_code = "customer-account",
    .severity_code = "high",
    .category_code = "other-account-issues",
    .language = "en",
    .issue_type = "customer-service",
  };
  struct aws_describe_cases_req dc = { .case_ids = ids,
                                       .ncase_ids = 1,
                                       .include_resolved_cases = true };
  struct aws_quota_increase_req qi = { "ec2", "L-1216C47A", 100 };
  struct aws_quota_history_req qh = { "ec2", "L-1216C47A", NULL, "tok" };
  struct aws_region_opt_req ro = { "af-south-1", "111111111111" };
  struct aws_region_opt_req er = { "af-south-1", NULL };
  struct aws_wire w;

  ENCODE(create_case, &cc, &w);
  ck_assert_str_eq(aws_wire_get_header(&w, "X-Amz-Target"),
                   "AWSSupport_20130415.CreateCase");
  ck_assert_str_eq(body(&w),
                   "{\"categoryCode\":\"other-account-issues\","
                   "\"communicationBody\":\"Hi\",\"issueType\":"
                   "\"customer-service\",\"language\":\"en\","
                   "\"serviceCode\":\"customer-account\","
                   "\"severityCode\":\"high\","
                   "\"subject\":\"Add account 1 to Enterprise Support\"}");
  aws_wire_cleanup(&w);

  ENCODE(describe_cases, &dc, &w);
  ck_assert_str_eq(body(&w), "{\"caseIdList\":[\"case-1\"],"
                             "\"includeResolvedCases\":true}");
  aws_wire_cleanup(&w);

  ENCODE(request_service_quota_increase, &qi, &w);
  ck_assert_str_eq(aws_wire_get_header(&w, "X-Amz-Target"),
                   "ServiceQuotasV20190624.RequestServiceQuotaIncrease");
  ck_assert_str_eq(body(&w), "{\"DesiredValue\":100.0,\"QuotaCode\":"
                             "\"L-1216C47A\",\"ServiceCode\":\"ec2\"}");
  aws_wire_cleanup(&w);

  ENCODE(list_quota_change_history_by_quota, &qh, &w);
  ck_assert_str_eq(aws_wire_get_header(&w, "X-Amz-Target"),
                   "ServiceQuotasV20190624."
                   "ListRequestedServiceQuotaChangeHistoryByQuota");
  ck_assert_str_eq(body(&w), "{\"NextToken\":\"tok\",\"QuotaCode\":"
                             "\"L-1216C47A\",\"ServiceCode\":\"ec2\"}");
  aws_wire_cleanup(&w);

  ENCODE(get_region_opt_status, &ro, &w);
  ck_assert_str_eq(w.method, "POST");
  ck_assert_str_eq(w.path, "/getRegionOptStatus");
  ck_assert_str_eq(aws_wire_get_header(&w, "Content-Type"), "application/json");
  ck_assert_ptr_null(aws_wire_get_header(&w, "X-Amz-Target"));
  ck_assert_str_eq(body(&w), "{\"AccountId\":\"111111111111\","
                             "\"RegionName\":\"af-south-1\"}");
  aws_wire_cleanup(&w);

  ENCODE(enable_region, &er, &w);
  ck_assert_str_eq(w.path, "/enableRegion");
  ck_assert_str_eq(body(&w), "{\"RegionName\":\"af-south-1\"}");
  aws_wire_cleanup(&w);
}
END_TEST

START_TEST(s3_requests)
{
  static const char *const keys[] = { "a/b.txt", "a & <c>.log" };
  struct aws_list_objects_req lo = { .bucket = "logs",
                                     .prefix = "a b",
                                     .continuation_token = "1ue/x+=",
                                     .max_keys = 500 };
  struct aws_list_objects_req lo1 = { .bucket = "logs" };
  struct aws_delete_objects_req del = { "logs", keys, 2, true };
  struct aws_s3_bucket_req db = { "logs" };
  struct aws_s3_bucket_req bad = { "a/b" };
  struct aws_put_object_req po = { "logs", "dir/x y.txt", "hi", 2 };
  struct aws_create_bucket_req cb = { "logs", "eu-west-1" };
  struct aws_s3_none_req none = { 0 };
  struct aws_wire w;

  ENCODE(list_buckets, &none, &w);
  ck_assert_str_eq(w.method, "GET");
  ck_assert_str_eq(w.path, "/");
  aws_wire_cleanup(&w);

  ENCODE(list_objects_v2, &lo, &w);
  ck_assert_str_eq(w.method, "GET");
  ck_assert_str_eq(w.path, "/logs");
  ck_assert_str_eq(w.query, "continuation-token=1ue%2Fx%2B%3D&list-type=2"
                            "&max-keys=500&prefix=a%20b");
  ck_assert_uint_eq(w.body.len, 0);
  aws_wire_cleanup(&w);
  ENCODE(list_objects_v2, &lo1, &w);
  ck_assert_str_eq(w.query, "list-type=2");
  aws_wire_cleanup(&w);

  ENCODE(delete_objects, &del, &w);
  ck_assert_str_eq(w.method, "POST");
  ck_assert_str_eq(w.path, "/logs");
  ck_assert_str_eq(w.query, "delete=");
  ck_assert_str_eq(body(&w), "<Delete xmlns=\"http://s3.amazonaws.com/doc/"
                             "2006-03-01/\"><Object><Key>a/b.txt</Key>"
                             "</Object><Object><Key>a &amp; &lt;c&gt;.log"
                             "</Key></Object><Quiet>true</Quiet></Delete>");
  ck_assert_str_eq(aws_wire_get_header(&w, "Content-MD5"),
                   "PBfzrddJzdQsSUuSt1SH5A==");
  aws_wire_cleanup(&w);

  del.nkeys = 0;
  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_delete_objects(&del, &w), OP_EINVAL);
  ck_assert_int_eq(aws_enc_delete_bucket(&bad, &w), OP_EINVAL);
  aws_wire_cleanup(&w);

  ENCODE(delete_bucket, &db, &w);
  ck_assert_str_eq(w.method, "DELETE");
  ck_assert_str_eq(w.path, "/logs");
  aws_wire_cleanup(&w);

  ENCODE(put_object, &po, &w);
  ck_assert_str_eq(w.method, "PUT");
  ck_assert_str_eq(w.path, "/logs/dir/x%20y.txt");
  ck_assert_str_eq(body(&w), "hi");
  aws_wire_cleanup(&w);

  ENCODE(create_bucket, &cb, &w);
  ck_assert_str_eq(w.method, "PUT");
  ck_assert_str_eq(body(&w), "<CreateBucketConfiguration xmlns=\"http://s3."
                             "amazonaws.com/doc/2006-03-01/\">"
                             "<LocationConstraint>eu-west-1"
                             "</LocationConstraint>"
                             "</CreateBucketConfiguration>");
  aws_wire_cleanup(&w);
}
END_TEST

START_TEST(route53_requests)
{
  char *ns[] = { "ns-1.awsdns-01.org." };
  struct aws_r53_rrset txt = { .name = "x.example.com.",
                               .type = "TXT",
                               .ttl = 300,
                               .weight = -1,
                               .records = { ns, 1 } };
  struct aws_r53_rrset alias = { .name = "api.example.com.",
                                 .type = "A",
                                 .ttl = -1,
                                 .weight = 10,
                                 .set_identifier = "blue",
                                 .alias_hosted_zone_id = "Z35",
                                 .alias_dns_name = "elb.amazonaws.com." };
  struct aws_r53_change ch[] = { { "DELETE", &txt }, { "DELETE", &alias } };
  struct aws_r53_change_req cr = { "/hostedzone/Z1D633PJN98FT9", NULL, ch, 2 };
  struct aws_r53_page_req lz = { .marker = "Z3", .max_items = 100 };
  struct aws_r53_rrsets_req lr = { .hosted_zone_id = "Z1",
                                   .start_record_name = "x.example.com.",
                                   .start_record_type = "TXT" };
  struct aws_r53_zone_req dz = { "/hostedzone/Z1" };
  struct aws_r53_zone_req bad = { "/hostedzone/" };
  struct aws_wire w;

  ENCODE(list_hosted_zones, &lz, &w);
  ck_assert_str_eq(w.method, "GET");
  ck_assert_str_eq(w.path, "/2013-04-01/hostedzone");
  ck_assert_str_eq(w.query, "marker=Z3&maxitems=100");
  aws_wire_cleanup(&w);

  ENCODE(list_resource_record_sets, &lr, &w);
  ck_assert_str_eq(w.path, "/2013-04-01/hostedzone/Z1/rrset");
  ck_assert_str_eq(w.query, "name=x.example.com.&type=TXT");
  aws_wire_cleanup(&w);

  ENCODE(change_resource_record_sets, &cr, &w);
  ck_assert_str_eq(w.method, "POST");
  ck_assert_str_eq(w.path, "/2013-04-01/hostedzone/Z1D633PJN98FT9/rrset/");
  ck_assert_str_eq(
      body(&w),
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<ChangeResourceRecordSetsRequest xmlns=\"https://route53.amazonaws.com/"
      "doc/2013-04-01/\"><ChangeBatch><Changes>"
      "<Change><Action>DELETE</Action><ResourceRecordSet>"
      "<Name>x.example.com.</Name><Type>TXT</Type><TTL>300</TTL>"
      "<ResourceRecords><ResourceRecord><Value>ns-1.awsdns-01.org.</Value>"
      "</ResourceRecord></ResourceRecords></ResourceRecordSet></Change>"
      "<Change><Action>DELETE</Action><ResourceRecordSet>"
      "<Name>api.example.com.</Name><Type>A</Type>"
      "<SetIdentifier>blue</SetIdentifier><Weight>10</Weight>"
      "<AliasTarget><HostedZoneId>Z35</HostedZoneId>"
      "<DNSName>elb.amazonaws.com.</DNSName>"
      "<EvaluateTargetHealth>false</EvaluateTargetHealth></AliasTarget>"
      "</ResourceRecordSet></Change></Changes></ChangeBatch>"
      "</ChangeResourceRecordSetsRequest>");
  aws_wire_cleanup(&w);

  {
    struct aws_r53_create_zone_req cz = { "example.com.", "ref-1", "c" };
    ENCODE(create_hosted_zone, &cz, &w);
    ck_assert_str_eq(w.method, "POST");
    ck_assert_str_eq(w.path, "/2013-04-01/hostedzone");
    ck_assert_str_eq(body(&w),
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                     "<CreateHostedZoneRequest xmlns=\"https://route53."
                     "amazonaws.com/doc/2013-04-01/\"><Name>example.com."
                     "</Name><CallerReference>ref-1</CallerReference>"
                     "<HostedZoneConfig><Comment>c</Comment>"
                     "</HostedZoneConfig></CreateHostedZoneRequest>");
    aws_wire_cleanup(&w);
  }
  ENCODE(delete_hosted_zone, &dz, &w);
  ck_assert_str_eq(w.method, "DELETE");
  ck_assert_str_eq(w.path, "/2013-04-01/hostedzone/Z1");
  aws_wire_cleanup(&w);

  aws_wire_init(&w);
  ck_assert_int_eq(aws_enc_delete_hosted_zone(&bad, &w), OP_EINVAL);
  cr.nchanges = 0;
  ck_assert_int_eq(aws_enc_change_resource_record_sets(&cr, &w), OP_EINVAL);
  aws_wire_cleanup(&w);
}
END_TEST

START_TEST(xml_escape_and_md5)
{
  struct buf b;
  char md5[25];

  buf_init(&b, 1024);
  ck_assert_int_eq(aws_xml_escape(&b, "a<b>&\"'\n\tz"), 0);
  ck_assert_str_eq(buf_str(&b), "a&lt;b&gt;&amp;&quot;&apos;&#xA;\tz");
  buf_cleanup(&b);
  aws_content_md5("", 0, md5);
  ck_assert_str_eq(md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
}
END_TEST

/* The remaining operations, one exact wire string each. Query bodies are
 * botocore's own serialization of the same input (percent-encoded per RFC
 * 3986); JSON bodies are compact with sorted keys. */
#define ADMIN "arn:aws:iam::aws:policy/AdministratorAccess"
static const struct aws_tag vtags[] = { { "k", "v w" } };
static const char *const ukeys[] = { "owner" };
static const char *const vstatus[] = { "available" };
static const struct aws_ec2_filter vfilt[] = { { "status", vstatus, 1 } };

/* target NULL: the operation sends no X-Amz-Target (Query/EC2). */
static void check_target(const struct aws_wire *w, const char *target)
{
  const char *got = aws_wire_get_header(w, "X-Amz-Target");

  if (!target)
    ck_assert_ptr_null(got);
  else
    ck_assert_str_eq(got, target);
}

#define WIRE_CASE(f, reqt, target, want, ...)                                  \
  do {                                                                         \
    const struct aws_##reqt rq_ = __VA_ARGS__;                                 \
    struct aws_wire w_;                                                        \
    aws_wire_init(&w_);                                                        \
    ck_assert_msg(aws_enc_##f(&rq_, &w_) == 0, "%s", #f);                      \
    ck_assert_str_eq(buf_str(&w_.body), want);                                 \
    check_target(&w_, target);                                                 \
    aws_wire_cleanup(&w_);                                                     \
  } while (0)

START_TEST(remaining_operations_wire)
{
  WIRE_CASE(delete_user, iam_user_req, NULL,
            "Action=DeleteUser&Version=2010-05-08&UserName=u1", { "u1" });
  WIRE_CASE(list_users, iam_list_req, NULL,
            "Action=ListUsers&Version=2010-05-08&PathPrefix=%2F&Marker=m1&"
            "MaxItems=50",
            { .path_prefix = "/", .marker = "m1", .max_items = 50 });
  WIRE_CASE(list_user_tags, iam_user_page_req, NULL,
            "Action=ListUserTags&Version=2010-05-08&UserName=u1&Marker=m1",
            { .user_name = "u1", .marker = "m1" });
  WIRE_CASE(tag_user, iam_tag_user_req, NULL,
            "Action=TagUser&Version=2010-05-08&UserName=u1&Tags.member.1.Key=k&"
            "Tags.member.1.Value=v%20w",
            { "u1", vtags, 1 });
  WIRE_CASE(attach_user_policy, iam_user_policy_req, NULL,
            "Action=AttachUserPolicy&Version=2010-05-08&UserName=u1&PolicyArn="
            "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess",
            { "u1", ADMIN });
  WIRE_CASE(detach_user_policy, iam_user_policy_req, NULL,
            "Action=DetachUserPolicy&Version=2010-05-08&UserName=u1&PolicyArn="
            "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess",
            { "u1", ADMIN });
  WIRE_CASE(list_attached_user_policies, iam_user_page_req, NULL,
            "Action=ListAttachedUserPolicies&Version=2010-05-08&UserName=u1",
            { .user_name = "u1" });
  WIRE_CASE(create_access_key, iam_user_req, NULL,
            "Action=CreateAccessKey&Version=2010-05-08&UserName=u1", { "u1" });
  WIRE_CASE(get_role, iam_role_req, NULL,
            "Action=GetRole&Version=2010-05-08&RoleName=r1", { "r1" });
  WIRE_CASE(delete_role, iam_role_req, NULL,
            "Action=DeleteRole&Version=2010-05-08&RoleName=r1", { "r1" });
  WIRE_CASE(list_roles, iam_list_req, NULL,
            "Action=ListRoles&Version=2010-05-08&Marker=m%2F2",
            { .marker = "m/2" });
  WIRE_CASE(list_role_tags, iam_role_page_req, NULL,
            "Action=ListRoleTags&Version=2010-05-08&RoleName=r1",
            { .role_name = "r1" });
  WIRE_CASE(detach_role_policy, iam_role_policy_req, NULL,
            "Action=DetachRolePolicy&Version=2010-05-08&RoleName=r1&PolicyArn="
            "arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess",
            { "r1", ADMIN });
  WIRE_CASE(list_attached_role_policies, iam_role_page_req, NULL,
            "Action=ListAttachedRolePolicies&Version=2010-05-08&RoleName=r1&"
            "MaxItems=10",
            { .role_name = "r1", .max_items = 10 });
  WIRE_CASE(delete_role_policy, delete_role_policy_req, NULL,
            "Action=DeleteRolePolicy&Version=2010-05-08&RoleName=r1&PolicyName="
            "AAO-CustomPolicy",
            { "r1", "AAO-CustomPolicy" });
  WIRE_CASE(update_assume_role_policy, update_assume_role_policy_req, NULL,
            "Action=UpdateAssumeRolePolicy&Version=2010-05-08&RoleName=r1&"
            "PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D",
            { "r1", "{\"Version\":\"2012-10-17\"}" });
  WIRE_CASE(list_role_policies, iam_role_page_req, NULL,
            "Action=ListRolePolicies&Version=2010-05-08&RoleName=r1",
            { .role_name = "r1" });
  WIRE_CASE(
      create_policy, create_policy_req, NULL,
      "Action=CreatePolicy&Version=2010-05-08&PolicyName=custom-1&"
      "PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D&Description=d",
      { .policy_name = "custom-1",
        .policy_document = "{\"Version\":\"2012-10-17\"}",
        .description = "d" });
  WIRE_CASE(get_policy, iam_policy_req, NULL,
            "Action=GetPolicy&Version=2010-05-08&PolicyArn=arn%3Aaws%3Aiam%3A%"
            "3Aaws%3Apolicy%2FAdministratorAccess",
            { ADMIN });
  WIRE_CASE(delete_policy, iam_policy_req, NULL,
            "Action=DeletePolicy&Version=2010-05-08&PolicyArn=arn%3Aaws%3Aiam%"
            "3A%3Aaws%3Apolicy%2FAdministratorAccess",
            { ADMIN });
  WIRE_CASE(get_policy_version, iam_policy_version_req, NULL,
            "Action=GetPolicyVersion&Version=2010-05-08&PolicyArn=arn%3Aaws%"
            "3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess&VersionId=v2",
            { ADMIN, "v2" });
  WIRE_CASE(list_policy_versions, iam_policy_page_req, NULL,
            "Action=ListPolicyVersions&Version=2010-05-08&PolicyArn=arn%3Aaws%"
            "3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess",
            { .policy_arn = ADMIN });
  WIRE_CASE(delete_policy_version, iam_policy_version_req, NULL,
            "Action=DeletePolicyVersion&Version=2010-05-08&PolicyArn=arn%3Aaws%"
            "3Aiam%3A%3Aaws%3Apolicy%2FAdministratorAccess&VersionId=v1",
            { ADMIN, "v1" });
  WIRE_CASE(
      describe_volumes, ec2_page_req, NULL,
      "Action=DescribeVolumes&Version=2016-11-15&Filter.1.Name=status&Filter.1."
      "Value.1=available&NextToken=t1&MaxResults=100",
      { .filters = { vfilt, 1 }, .next_token = "t1", .max_results = 100 });
  WIRE_CASE(delete_snapshot, ec2_snapshot_req, NULL,
            "Action=DeleteSnapshot&Version=2016-11-15&SnapshotId=snap-1",
            { "snap-1" });
  WIRE_CASE(describe_account, org_account_id_req,
            "AWSOrganizationsV20161128.DescribeAccount",
            "{\"AccountId\":\"111111111111\"}", { "111111111111" });
  WIRE_CASE(close_account, org_account_id_req,
            "AWSOrganizationsV20161128.CloseAccount",
            "{\"AccountId\":\"111111111111\"}", { "111111111111" });
  WIRE_CASE(list_parents, list_parents_req,
            "AWSOrganizationsV20161128.ListParents",
            "{\"ChildId\":\"111111111111\",\"NextToken\":\"n\"}",
            { .child_id = "111111111111", .next_token = "n" });
  WIRE_CASE(list_children, list_children_req,
            "AWSOrganizationsV20161128.ListChildren",
            "{\"ChildType\":\"ORGANIZATIONAL_UNIT\",\"ParentId\":\"r-1\"}",
            { .parent_id = "r-1", .child_type = "ORGANIZATIONAL_UNIT" });
  WIRE_CASE(create_organizational_unit, create_ou_req,
            "AWSOrganizationsV20161128.CreateOrganizationalUnit",
            "{\"Name\":\"le-1\",\"ParentId\":\"r-1\"}",
            { .parent_id = "r-1", .name = "le-1" });
  WIRE_CASE(org_tag_resource, org_tag_req,
            "AWSOrganizationsV20161128.TagResource",
            "{\"ResourceId\":\"111111111111\",\"Tags\":[{\"Key\":\"k\","
            "\"Value\":\"v w\"}]}",
            { "111111111111", vtags, 1 });
  WIRE_CASE(org_untag_resource, org_untag_req,
            "AWSOrganizationsV20161128.UntagResource",
            "{\"ResourceId\":\"111111111111\",\"TagKeys\":[\"owner\"]}",
            { "111111111111", ukeys, 1 });
  WIRE_CASE(org_list_tags_for_resource, org_list_tags_req,
            "AWSOrganizationsV20161128.ListTagsForResource",
            "{\"ResourceId\":\"111111111111\"}",
            { .resource_id = "111111111111" });
  WIRE_CASE(get_service_quota, quota_req,
            "ServiceQuotasV20190624.GetServiceQuota",
            "{\"QuotaCode\":\"L-1216C47A\",\"ServiceCode\":\"ec2\"}",
            { "ec2", "L-1216C47A" });
}
END_TEST

static Suite *aws_ops_suite(void)
{
  Suite *s = suite_create("aws_ops");
  TCase *tc = tcase_create("enc");

  tcase_add_test(tc, query_percent_encoding);
  tcase_add_test(tc, query_lists_maps_tags);
  tcase_add_test(tc, query_errors_are_sticky);
  tcase_add_test(tc, sts_requests);
  tcase_add_test(tc, iam_requests);
  tcase_add_test(tc, iam_required_members);
  tcase_add_test(tc, ec2_requests);
  tcase_add_test(tc, ec2_requests_misc);
  tcase_add_test(tc, json11_requests);
  tcase_add_test(tc, json11_support_quotas_account);
  tcase_add_test(tc, s3_requests);
  tcase_add_test(tc, route53_requests);
  tcase_add_test(tc, xml_escape_and_md5);
  tcase_add_test(tc, remaining_operations_wire);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(aws_ops_suite)
