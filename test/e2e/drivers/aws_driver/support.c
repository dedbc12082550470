/* aws_driver, all-ops: the Support, Service Quotas and Account steps
 * (support case, quota increase, region opt-in). */
#include "driver_int.h"
#include "util/err.h"
#include "util/str.h"

#define QUOTA_SVC "ec2"
#define QUOTA_CODE "L-1216C47A"
#define OPT_REGION "ap-east-1"

/* ---- Support ------------------------------------------------------------- */

static int a_case(struct drv *d, const void *res)
{
  const struct aws_create_case_result *r = res;

  return copy_id(d->id.case_id, sizeof(d->id.case_id), r->case_id);
}

int s_create_case(struct drv *d)
{
  struct aws_create_case_req rq = {
    .subject = "Add account to Enterprise Support",
    .communication_body = "Please add this account to Enterprise Support.",
    .service_code = "customer-account",
    .severity_code = "urgent",
    .category_code = "other-account-issues",
    .language = "en",
    .issue_type = "customer-service"
  };

  return CALL(d, create_case, &d->xt, &rq, a_case);
}

static int a_cases(struct drv *d, const void *res)
{
  const struct aws_describe_cases_result *r = res;

  return r->n == 1 && str_eq(r->v[0].case_id, d->id.case_id) ? 0 : OP_EPARSE;
}

int s_describe_cases(struct drv *d)
{
  const char *ids[] = { d->id.case_id };
  struct aws_describe_cases_req rq = { ids, 1, true, NULL };

  return CALL(d, describe_cases, &d->xt, &rq, a_cases);
}

/* ---- Service Quotas and Account ------------------------------------------ */

int s_get_quota(struct drv *d)
{
  struct aws_quota_req rq = { QUOTA_SVC, QUOTA_CODE };

  return CALL(d, get_service_quota, &d->xt, &rq, NULL);
}

int s_request_quota(struct drv *d)
{
  struct aws_quota_increase_req rq = { QUOTA_SVC, QUOTA_CODE, 64 };

  return CALL(d, request_service_quota_increase, &d->xt, &rq, NULL);
}

static int a_quota_history(struct drv *d, const void *res)
{
  const struct aws_quota_changes_result *r = res;

  return r->n >= 1 ? 0 : OP_EPARSE;
}

int s_quota_history(struct drv *d)
{
  struct aws_quota_history_req rq = { QUOTA_SVC, QUOTA_CODE, NULL, NULL };

  return CALL(d, list_quota_change_history_by_quota, &d->xt, &rq,
              a_quota_history);
}

int s_region_opt(struct drv *d)
{
  struct aws_region_opt_req rq = { OPT_REGION, d->id.acct };

  return CALL(d, get_region_opt_status, &d->mt, &rq, NULL);
}

int s_enable_region(struct drv *d)
{
  struct aws_region_opt_req rq = { OPT_REGION, d->id.acct };

  return CALL(d, enable_region, &d->mt, &rq, NULL);
}
