/* AWS STS (Query protocol, version 2011-06-15, XML responses). */
#include "aws/sts.h"

#include <stdlib.h>
#include <string.h>

#include "aws/ops_int.h"
#include "aws/proto/query.h"
#include "util/err.h"
#include "util/util.h"

#define STS_VERSION "2011-06-15"

static void creds_clean(struct aws_sts_creds *c)
{
  util_free_secret(c->access_key_id);
  util_free_secret(c->secret_access_key);
  util_free_secret(c->session_token);
  free(c->expiration);
  memset(c, 0, sizeof(*c));
}

void aws_sts_creds_result_free(struct aws_sts_creds_result *r)
{
  if (!r)
    return;
  creds_clean(&r->creds);
  free(r->assumed_role_id);
  free(r->arn);
  free(r);
}

/* <Credentials> plus the user element (AssumedRoleUser/FederatedUser). */
static int dec_creds(const char *body, size_t len, const char *op,
                     const char *user, const char *id_name,
                     struct aws_sts_creds_result **out)
{
  struct aws_sts_creds_result *r;
  struct aws_xml *doc;
  aws_xnode res, c, u;
  int rc = aws_ox_query_open(body, len, op, &doc, &res);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  c = aws_ox_child(res, "Credentials");
  u = aws_ox_child(res, user);
  r->creds.access_key_id = aws_ox_str_new(c, "AccessKeyId");
  r->creds.secret_access_key = aws_ox_str_new(c, "SecretAccessKey");
  r->creds.session_token = aws_ox_str_new(c, "SessionToken");
  r->creds.expiration = aws_ox_str_new(c, "Expiration");
  r->assumed_role_id = aws_ox_str_new(u, id_name);
  r->arn = aws_ox_str_new(u, "Arn");
  aws_ox_wipe(c, "SecretAccessKey");
  aws_ox_wipe(c, "SessionToken");
  aws_xml_free(doc);
  if (!r->creds.access_key_id || !r->creds.secret_access_key) {
    aws_sts_creds_result_free(r);
    return OP_EPARSE;
  }
  *out = r;
  return 0;
}

int aws_enc_assume_role(const struct aws_assume_role_req *rq,
                        struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->role_arn || !rq->role_session_name)
    return OP_EINVAL;
  aws_query_init(&q, false, "AssumeRole", STS_VERSION);
  aws_query_add(&q, "RoleArn", rq->role_arn);
  aws_query_add(&q, "RoleSessionName", rq->role_session_name);
  if (rq->duration_seconds > 0)
    aws_query_add_int(&q, "DurationSeconds", rq->duration_seconds);
  aws_query_add(&q, "ExternalId", rq->external_id);
  aws_query_add(&q, "Policy", rq->policy);
  return aws_query_request(w, &q);
}

int aws_dec_assume_role(const char *body, size_t len,
                        struct aws_sts_creds_result **out)
{
  return dec_creds(body, len, "AssumeRole", "AssumedRoleUser", "AssumedRoleId",
                   out);
}

int aws_enc_assume_role_with_web_identity(
    const struct aws_assume_role_wi_req *rq, struct aws_wire *w)
{
  struct aws_query q;
  int rc;

  if (!rq->role_arn || !rq->role_session_name || !rq->web_identity_token)
    return OP_EINVAL;
  aws_query_init(&q, false, "AssumeRoleWithWebIdentity", STS_VERSION);
  q.b.secret = 1; /* the token is a bearer secret */
  aws_query_add(&q, "RoleArn", rq->role_arn);
  aws_query_add(&q, "RoleSessionName", rq->role_session_name);
  aws_query_add(&q, "WebIdentityToken", rq->web_identity_token);
  if (rq->duration_seconds > 0)
    aws_query_add_int(&q, "DurationSeconds", rq->duration_seconds);
  w->body.secret = 1;
  rc = aws_query_request(w, &q);
  return rc;
}

int aws_dec_assume_role_with_web_identity(const char *body, size_t len,
                                          struct aws_sts_creds_result **out)
{
  return dec_creds(body, len, "AssumeRoleWithWebIdentity", "AssumedRoleUser",
                   "AssumedRoleId", out);
}

int aws_enc_get_federation_token(const struct aws_federation_token_req *rq,
                                 struct aws_wire *w)
{
  struct aws_query q;
  size_t i;

  if (!rq->name)
    return OP_EINVAL;
  aws_query_init(&q, false, "GetFederationToken", STS_VERSION);
  aws_query_add(&q, "Name", rq->name);
  if (rq->duration_seconds > 0)
    aws_query_add_int(&q, "DurationSeconds", rq->duration_seconds);
  aws_query_add(&q, "Policy", rq->policy);
  for (i = 0; i < rq->npolicy_arns; i++)
    aws_query_addk(&q, rq->policy_arns[i], "PolicyArns.member.%zu.arn", i + 1);
  return aws_query_request(w, &q);
}

int aws_dec_get_federation_token(const char *body, size_t len,
                                 struct aws_sts_creds_result **out)
{
  return dec_creds(body, len, "GetFederationToken", "FederatedUser",
                   "FederatedUserId", out);
}

int aws_enc_get_caller_identity(const struct aws_sts_none_req *rq,
                                struct aws_wire *w)
{
  struct aws_query q;

  aws_query_init(&q, false, "GetCallerIdentity", STS_VERSION);
  return aws_query_request(w, &q);
}

int aws_dec_get_caller_identity(const char *body, size_t len,
                                struct aws_caller_identity_result **out)
{
  struct aws_caller_identity_result *r;
  struct aws_xml *doc;
  aws_xnode res;
  int rc = aws_ox_query_open(body, len, "GetCallerIdentity", &doc, &res);

  if (rc)
    return rc;
  r = util_xcalloc(1, sizeof(*r));
  r->account = aws_ox_str_new(res, "Account");
  r->arn = aws_ox_str_new(res, "Arn");
  r->user_id = aws_ox_str_new(res, "UserId");
  aws_xml_free(doc);
  if (!r->account || !r->arn) {
    aws_caller_identity_result_free(r);
    return OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_caller_identity_result_free(struct aws_caller_identity_result *r)
{
  if (!r)
    return;
  free(r->account);
  free(r->arn);
  free(r->user_id);
  free(r);
}
