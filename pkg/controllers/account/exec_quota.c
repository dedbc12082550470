/* Account executor: service quotas and opt-in regions, in the account
 * through its OrganizationAccountAccessRole. */
#include <stdlib.h>
#include <string.h>

#include "aws/core/endpoints.h"
#include "controllers/account/exec_int.h"
#include "util/err.h"
#include "util/str.h"

#define API(j) exec_aws_api((j)->e->d.aws)

static void set_quota(struct acct_job *j, const char *st)
{
  str_copy(j->obs.quota_status, st, sizeof(j->obs.quota_status));
}

static void increase_done(int err, const struct aws_error *ae,
                          const struct aws_quota_change_result *r, void *arg)
{
  struct acct_job *j = arg;

  (void)r;
  if (!err || acct__code_is(ae, "ResourceAlreadyExistsException")) {
    set_quota(j, "IN_PROGRESS");
    return acct__aws_finish(j, 0, NULL);
  }
  acct__aws_finish(j, err, ae);
}

static const char *history_status(const char *s)
{
  if (str_eq(s, "PENDING") || str_eq(s, "CASE_OPENED"))
    return "IN_PROGRESS";
  if (str_eq(s, "APPROVED") || str_eq(s, "CASE_CLOSED"))
    return "COMPLETED";
  if (str_eq(s, "DENIED"))
    return "DENIED";
  return NULL;
}

static void history_got(int err, const struct aws_error *ae,
                        const struct aws_quota_changes_result *r, void *arg)
{
  struct acct_job *j = arg;
  struct aws_quota_increase_req rq = { j->st.service_code, j->st.quota_code,
                                       (double)j->st.quota_value };
  const char *st;
  int rc;

  if (err)
    return acct__aws_finish(j, err, ae);
  for (size_t i = 0; i < r->n; i++) {
    st = history_status(r->v[i].status);
    if (st && r->v[i].desired_value >= (double)j->st.quota_value) {
      set_quota(j, st);
      return acct__aws_finish(j, 0, NULL);
    }
  }
  rc = API(j)->request_service_quota_increase(API(j), &j->acct_t, &rq,
                                              increase_done, j);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

static void quota_got(int err, const struct aws_error *ae,
                      const struct aws_service_quota_result *r, void *arg)
{
  struct acct_job *j = arg;
  struct aws_quota_history_req rq = { j->st.service_code, j->st.quota_code,
                                      NULL, NULL };
  int rc;

  if (acct__code_is(ae, "NoSuchResourceException")) {
    set_quota(j, "MANUAL_ACTION");
    return acct__aws_finish(j, 0, NULL);
  }
  if (err)
    return acct__aws_finish(j, err, ae);
  if (r->has_value && r->value >= (double)j->st.quota_value) {
    set_quota(j, "COMPLETED");
    return acct__aws_finish(j, 0, NULL);
  }
  rc = API(j)->list_quota_change_history_by_quota(API(j), &j->acct_t, &rq,
                                                  history_got, j);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

/* ---- opt-in regions ---- */

static void set_optin(struct acct_job *j, const char *st)
{
  str_copy(j->obs.optin_status, st, sizeof(j->obs.optin_status));
}

static void enabled(int err, const struct aws_error *ae,
                    const struct aws_empty_result *r, void *arg)
{
  struct acct_job *j = arg;

  (void)r;
  if (!err || acct__code_is(ae, "ConflictException")) {
    set_optin(j, "ENABLING");
    return acct__aws_finish(j, 0, NULL);
  }
  acct__aws_finish(j, err, ae);
}

static void optin_got(int err, const struct aws_error *ae,
                      const struct aws_region_opt_result *r, void *arg)
{
  struct acct_job *j = arg;
  struct aws_region_opt_req rq = { j->st.region, NULL };
  const char *s = r ? r->region_opt_status : NULL;
  int rc;

  if (acct__code_is(ae, "AccessDeniedException"))
    set_optin(j, "MANUAL_ACTION");
  else if (acct__code_is(ae, "ValidationException"))
    set_optin(j, "DROP");
  if (err)
    return acct__aws_finish(j, j->obs.optin_status[0] ? 0 : err, ae);
  if (str_eq(s, "ENABLED") || str_eq(s, "ENABLED_BY_DEFAULT"))
    set_optin(j, "ENABLED");
  else if (str_eq(s, "ENABLING"))
    set_optin(j, "ENABLING");
  if (j->obs.optin_status[0])
    return acct__aws_finish(j, 0, NULL);
  rc = API(j)->enable_region(API(j), &j->acct_t, &rq, enabled, j);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

int acct__exec_quota(struct acct_job *j)
{
  struct aws_quota_req qq = { j->st.service_code, j->st.quota_code };
  struct aws_region_opt_req oq = { j->st.region, NULL };
  bool global = str_empty(j->st.region);
  /* global quotas: the partition's global region (us-gov-west-1 in
   * FedRAMP), where IAM's quotas live */
  int rc = acct__account_target(
      j, j->st.action == ACCT_QUOTA && global
             ? aws_partition_default_region(j->st.partition)
             : j->st.region);

  if (rc)
    return rc;
  if (j->st.action == ACCT_QUOTA)
    return API(j)->get_service_quota(API(j), &j->acct_t, &qq, quota_got, j);
  j->acct_t.region = NULL; /* the Account API is global */
  return API(j)->get_region_opt_status(API(j), &j->acct_t, &oq, optin_got, j);
}
