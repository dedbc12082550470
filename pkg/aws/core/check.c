/* aws-check diagnosis. See check.h. */
#include "aws/core/check.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core/endpoints.h"
#include "aws/core/xml.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

struct check_run {
  struct aws_client *c;
  struct aws_creds *creds;
  aws_check_cb cb;
  void *arg;
  struct aws_check_result r;
};

static const char *const names[] = {
  "ok",          "no_credentials", "unknown_key",   "bad_signature",
  "clock_skew",  "expired_token",  "access_denied", "not_in_organization",
  "unreachable", "throttled",      "other",
};

static const char *const advice[] = {
  "credentials work and the organization is reachable",
  "no AWS credentials: set the aws-account-operator-credentials Secret "
  "(aws_access_key_id, aws_secret_access_key) or AWS_ACCESS_KEY_ID/"
  "AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS does not recognise the access key id: it was deleted, mistyped, "
  "or belongs to another partition",
  "the signature does not match: the secret access key is wrong for this "
  "access key id",
  "the local clock is too far from AWS time: fix NTP on the node",
  "the session token has expired: refresh the temporary credentials",
  "the identity is valid but lacks permission for this call: check its IAM "
  "policy (organizations:DescribeOrganization, sts:GetCallerIdentity)",
  "the account is not a member of an AWS Organization: use the "
  "organization's management account credentials",
  "the AWS endpoint cannot be reached: check DNS, proxy, egress rules or "
  "--aws-endpoint-url",
  "AWS is throttling these requests: retry later",
  "unexpected AWS error: see the code and message",
};

const char *aws_check_diag_name(enum aws_check_diag d)
{
  return (unsigned)d < UTIL_ARRAY_SIZE(names) ? names[d] : "other";
}

const char *aws_check_diag_advice(enum aws_check_diag d)
{
  return (unsigned)d < UTIL_ARRAY_SIZE(advice) ? advice[d]
                                               : advice[AWS_CHECK_OTHER];
}

static int code_in(const char *code, const char *const *list)
{
  for (; *list; list++)
    if (str_eq(code, *list))
      return 1;
  return 0;
}

enum aws_check_diag aws_check_diagnose(int err, const struct aws_error *e)
{
  static const char *const unknown[] = { "InvalidClientTokenId",
                                         "UnrecognizedClientException",
                                         "InvalidAccessKeyId", "AuthFailure",
                                         NULL };
  static const char *const badsig[] = { "SignatureDoesNotMatch",
                                        "InvalidSignatureException",
                                        "IncompleteSignature", NULL };
  static const char *const expired[] = { "ExpiredToken",
                                         "ExpiredTokenException",
                                         "RequestExpired", NULL };

  if (err == 0)
    return AWS_CHECK_OK;
  if (!e)
    return AWS_CHECK_OTHER;
  if (str_eq(e->code, "CredentialsUnavailable"))
    return AWS_CHECK_NO_CREDENTIALS;
  if (e->http_status == 0)
    return e->cls == AWS_ERR_TRANSIENT || err == OP_ETLS ? AWS_CHECK_UNREACHABLE
                                                         : AWS_CHECK_OTHER;
  if (e->cls == AWS_ERR_CLOCK_SKEW && !str_eq(e->code, "RequestExpired"))
    return AWS_CHECK_CLOCK_SKEW;
  if (code_in(e->code, unknown))
    return AWS_CHECK_UNKNOWN_KEY;
  if (code_in(e->code, badsig))
    return AWS_CHECK_BAD_SIGNATURE;
  if (code_in(e->code, expired))
    return AWS_CHECK_EXPIRED_TOKEN;
  if (str_eq(e->code, "AWSOrganizationsNotInUseException"))
    return AWS_CHECK_NOT_IN_ORG;
  if (e->cls == AWS_ERR_AUTH)
    return AWS_CHECK_ACCESS_DENIED;
  if (e->cls == AWS_ERR_THROTTLED)
    return AWS_CHECK_THROTTLED;
  return AWS_CHECK_OTHER;
}

int aws_check_parse_identity(const char *body, size_t len,
                             struct aws_check_result *r)
{
  const struct aws_xml_node *res;
  struct aws_xml *x;
  int rc = aws_xml_parse(body, len, &x);

  if (rc)
    return rc;
  res = aws_xml_path(aws_xml_root(x), "GetCallerIdentityResult");
  if (!res)
    rc = OP_EPARSE;
  if (rc == 0)
    rc = aws_xml_copy(res, "Account", r->account, sizeof(r->account));
  if (rc == 0)
    rc = aws_xml_copy(res, "Arn", r->arn, sizeof(r->arn));
  if (rc == 0)
    aws_xml_copy(res, "UserId", r->user_id, sizeof(r->user_id));
  if (rc == 0 &&
      aws_arn_partition(r->arn, r->partition, sizeof(r->partition)) != 0)
    rc = OP_EPARSE;
  aws_xml_free(x);
  return rc ? OP_EPARSE : 0;
}

static void copy_json(json_t *o, const char *key, char *out, size_t n)
{
  json_t *v = json_object_get(o, key);

  if (json_is_string(v))
    str_copy(out, json_string_value(v), n);
}

int aws_check_parse_org(const char *body, size_t len,
                        struct aws_check_result *r)
{
  json_error_t e;
  json_t *root = json_loadb(body, len, 0, &e);
  json_t *org = json_object_get(root, "Organization");
  int rc = 0;

  if (!json_is_object(org)) {
    rc = OP_EPARSE;
  } else {
    copy_json(org, "Id", r->org_id, sizeof(r->org_id));
    copy_json(org, "MasterAccountId", r->mgmt_account, sizeof(r->mgmt_account));
    copy_json(org, "FeatureSet", r->feature_set, sizeof(r->feature_set));
    if (!r->org_id[0])
      rc = OP_EPARSE;
  }
  json_decref(root);
  return rc;
}

static void check_done(struct check_run *k, int err, const char *call,
                       const struct aws_error *e)
{
  k->r.rc = err;
  if (err) {
    k->r.failed_call = call;
    if (e)
      k->r.aerr = *e;
    else
      aws_error_from_transport(err, "malformed response", &k->r.aerr);
    k->r.diag = aws_check_diagnose(err, e ? e : &k->r.aerr);
  }
  k->cb(&k->r, k->arg);
  aws_creds_unref(k->creds);
  free(k);
}

static void on_org(int err, const struct aws_resp *resp,
                   const struct aws_error *e, void *arg)
{
  struct check_run *k = arg;

  if (err == 0 && aws_check_parse_org(resp->body, resp->body_len, &k->r))
    err = OP_EPARSE;
  check_done(k, err, "organizations:DescribeOrganization", err ? e : NULL);
}

static void describe_org(struct check_run *k)
{
  static const struct aws_header h[] = {
    { "Content-Type", "application/x-amz-json-1.1" },
    { "X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization" },
  };
  struct aws_call call = { .service = "organizations",
                           .operation = "DescribeOrganization",
                           .method = "POST",
                           .path = "/",
                           .headers = h,
                           .nheaders = 2,
                           .body = "{}",
                           .body_len = 2,
                           .protocol = AWS_PROTO_JSON11,
                           .idempotent = true,
                           .controller = "aws-check" };
  int rc = aws_call_start(k->c, k->creds, &call, on_org, k);

  if (rc)
    check_done(k, rc, "organizations:DescribeOrganization", NULL);
}

static void on_identity(int err, const struct aws_resp *resp,
                        const struct aws_error *e, void *arg)
{
  struct check_run *k = arg;

  if (err == 0 &&
      aws_check_parse_identity(resp->body, resp->body_len, &k->r) != 0)
    err = OP_EPARSE;
  if (err)
    check_done(k, err, "sts:GetCallerIdentity", e);
  else
    describe_org(k);
}

int aws_check_start(struct aws_client *c, struct aws_creds *creds,
                    aws_check_cb cb, void *arg)
{
  static const struct aws_header h[] = {
    { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
  };
  static const char body[] = "Action=GetCallerIdentity&Version=2011-06-15";
  struct aws_call call = { .service = "sts",
                           .operation = "GetCallerIdentity",
                           .method = "POST",
                           .path = "/",
                           .headers = h,
                           .nheaders = 1,
                           .body = body,
                           .body_len = sizeof(body) - 1,
                           .protocol = AWS_PROTO_QUERY,
                           .idempotent = true,
                           .controller = "aws-check" };
  struct check_run *k;
  int rc;

  if (!c || !cb)
    return OP_EINVAL;
  k = util_xcalloc(1, sizeof(*k));
  k->c = c;
  k->cb = cb;
  k->arg = arg;
  if (!creds) {
    k->r.rc = OP_EAUTH;
    k->r.diag = AWS_CHECK_NO_CREDENTIALS;
    k->r.failed_call = "credentials";
    cb(&k->r, arg);
    free(k);
    return 0;
  }
  k->creds = aws_creds_ref(creds);
  rc = aws_call_start(c, creds, &call, on_identity, k);
  if (rc) {
    aws_creds_unref(k->creds);
    free(k);
  }
  return rc;
}

int aws_check_format(const struct aws_check_result *r, struct buf *out)
{
  if (r->rc == 0)
    return buf_printf(out,
                      "aws-check: OK\n  account:            %s\n"
                      "  arn:                %s\n  partition:          %s\n"
                      "  organization:       %s\n"
                      "  management account: %s\n  feature set:        %s\n",
                      r->account, r->arn, r->partition, r->org_id,
                      r->mgmt_account, r->feature_set);
  return buf_printf(
      out,
      "aws-check: FAILED (%s)\n  call:    %s\n"
      "  error:   %s%s%s (HTTP %ld)%s%s\n  request: %s\n"
      "  what to do: %s\n",
      aws_check_diag_name(r->diag), r->failed_call ? r->failed_call : "-",
      r->aerr.code[0] ? r->aerr.code : op_err_name(r->rc),
      r->aerr.message[0] ? ": " : "", r->aerr.message, r->aerr.http_status,
      r->account[0] ? "\n  account: " : "", r->account,
      r->aerr.request_id[0] ? r->aerr.request_id : "-",
      aws_check_diag_advice(r->diag));
}
