/* aws_driver, all-ops: the STS steps. */
#include "driver_int.h"
#include "util/err.h"
#include "util/str.h"

#define MGMT_ROLE "OrganizationAccountAccessRole"

int s_caller_identity(struct drv *d)
{
  struct aws_sts_none_req rq = { 0 };

  return CALL(d, get_caller_identity, &d->mt, &rq, NULL);
}

static int a_assume(struct drv *d, const void *res)
{
  const struct aws_sts_creds_result *r = res;

  d->member =
      aws_creds_static_new(r->creds.access_key_id, r->creds.secret_access_key,
                           r->creds.session_token);
  if (!d->member)
    return OP_EPARSE;
  d->xt.creds = d->member;
  d->xt.account = d->id.acct;
  d->xt.region = "us-east-1";
  d->xt.controller = "aws_driver";
  return 0;
}

int s_assume_role(struct drv *d)
{
  char arn[128];
  struct aws_assume_role_req rq = { .role_arn = arn,
                                    .role_session_name = "aint-driver",
                                    .duration_seconds = 900 };

  str_fmt(arn, sizeof(arn), "arn:aws:iam::%s:role/" MGMT_ROLE, d->id.acct);
  return CALL(d, assume_role, &d->mt, &rq, a_assume);
}

/* The member credentials answer as the assumed role in the new account. */
static int a_member_identity(struct drv *d, const void *res)
{
  const struct aws_caller_identity_result *r = res;

  return str_eq(r->account, d->id.acct) ? 0 : OP_EAUTH;
}

int s_member_identity(struct drv *d)
{
  struct aws_sts_none_req rq = { 0 };

  return CALL(d, get_caller_identity, &d->xt, &rq, a_member_identity);
}

int s_federation_token(struct drv *d)
{
  static const char *const arns[] = {
    "arn:aws:iam::aws:policy/ReadOnlyAccess"
  };
  struct aws_federation_token_req rq = { .name = "aint-fed",
                                         .duration_seconds = 900,
                                         .policy_arns = arns,
                                         .npolicy_arns = 1 };

  return CALL(d, get_federation_token, &d->mt, &rq, NULL);
}

int s_assume_web(struct drv *d)
{
  struct aws_assume_role_wi_req rq = { .role_arn = d->id.role_arn,
                                       .role_session_name = "aint-web",
                                       .web_identity_token = d->o.web_token,
                                       .duration_seconds = 900 };

  return CALL(d, assume_role_with_web_identity, &d->xt, &rq, NULL);
}
