/* Account executor: Organizations, Support and DescribeRegions actions,
 * and the dispatcher for every AWS action (exec_int.h). */
#include <stdlib.h>
#include <string.h>

#include "aws/core/creds.h"
#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"

#define API(j) exec_aws_api((j)->e->d.aws)

int acct__account_target(struct acct_job *j, const char *region)
{
  struct aws_creds *c = NULL;
  int rc;

  if (j->st.cred_mode != ACCT_CREDS_ORG)
    return acct__ccs_target(j, region);
  rc = exec_aws_account_creds(j->e->d.aws, j->st.account_id, &c);
  if (rc)
    return rc;
  if (!j->creds)
    j->creds = aws_creds_ref(c);
  j->acct_t.creds = j->creds;
  j->acct_t.region = str_empty(region) ? NULL : region;
  j->acct_t.controller = "account";
  j->acct_t.account = j->st.account_id;
  return 0;
}

/* ---- ACCT_RECOVER: ListCreateAccountStatus by name, ListAccounts by
 * e-mail ---- */

static const char *const recover_states[] = { "IN_PROGRESS", "SUCCEEDED" };

static int recover_cars(struct acct_job *j);
static int recover_accounts(struct acct_job *j);

static void recover_accounts_done(int err, const struct aws_error *ae,
                                  const struct aws_org_accounts_result *r,
                                  void *arg)
{
  struct acct_job *j = arg;
  int rc;

  if (err)
    return acct__aws_finish(j, err, ae);
  for (size_t i = 0; i < r->n; i++)
    if (str_case_eq(r->v[i].email, j->st.email) && r->v[i].id) {
      str_copy(j->obs.account_id, r->v[i].id, sizeof(j->obs.account_id));
      return acct__aws_finish(j, 0, NULL);
    }
  if (str_empty(r->next_token))
    return acct__aws_finish(j, 0, NULL);
  str_copy(j->token, r->next_token, sizeof(j->token));
  if ((rc = recover_accounts(j)))
    acct__aws_finish(j, rc, NULL);
}

static int recover_accounts(struct acct_job *j)
{
  struct aws_org_page_req rq = { .next_token = j->token[0] ? j->token : NULL };

  return API(j)->list_accounts(API(j), &j->mgmt_t, &rq, recover_accounts_done,
                               j);
}

static void recover_cars_done(int err, const struct aws_error *ae,
                              const struct aws_car_status_list_result *r,
                              void *arg)
{
  struct acct_job *j = arg;
  int rc;

  if (err)
    return acct__aws_finish(j, err, ae);
  for (size_t i = 0; i < r->n; i++) {
    const struct aws_org_car_status *s = &r->v[i];

    if (!str_eq(s->account_name, j->st.name))
      continue;
    if (str_eq(s->state, "SUCCEEDED") && s->account_id) {
      str_copy(j->obs.account_id, s->account_id, sizeof(j->obs.account_id));
      return acct__aws_finish(j, 0, NULL);
    }
    if (str_eq(s->state, "IN_PROGRESS") && s->id) {
      str_copy(j->obs.request_id, s->id, sizeof(j->obs.request_id));
      str_copy(j->obs.create_state, s->state, sizeof(j->obs.create_state));
    }
  }
  if (!str_empty(r->next_token)) {
    str_copy(j->token, r->next_token, sizeof(j->token));
    rc = recover_cars(j);
  } else {
    j->token[0] = 0;
    rc = recover_accounts(j);
  }
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

static int recover_cars(struct acct_job *j)
{
  struct aws_list_car_status_req rq = {
    .states = recover_states,
    .nstates = 2,
    .next_token = j->token[0] ? j->token : NULL,
  };

  return API(j)->list_create_account_status(API(j), &j->mgmt_t, &rq,
                                            recover_cars_done, j);
}

/* ---- ACCT_CREATE_ACCOUNT composite ---- */

static void annotations_written(int err, json_t *obj,
                                const struct op_error *det, void *arg)
{
  struct acct_job *j = arg;
  static const char *const anns[] = { ACCT_ANN_REQUEST_ID,
                                      ACCT_ANN_REQUESTED_AT, ACCT_ANN_TAGGED };

  /* the next pass plans before the watch shows the write: it would record
   * the request again over the old resourceVersion (a 409 per account) */
  for (size_t i = 0; !err && obj && i < sizeof(anns) / sizeof(anns[0]); i++)
    acct__soft_hold(j->e, j->base.key, obj, anns[i]);
  if (err)
    log_warn("account",
             "%s: recording CreateAccount request %s failed (%s); the "
             "observation carries it",
             j->base.key, j->obs.request_id,
             det && det->msg[0] ? det->msg : op_strerror(err));
  acct__aws_finish(j, 0, NULL);
}

/* The request id is written at once, not kept for the account id's write:
 * after a crash the organization's lists may not show the request yet
 * (eventually consistent), and a second CreateAccount would follow. */
static void created(int err, const struct aws_error *ae,
                    const struct aws_car_status_result *r, void *arg)
{
  struct acct_job *j = arg;
  const struct exec_kio *k = &j->e->d.kio;
  char ts[TIME_RFC3339_LEN];
  json_t *o;
  int rc;

  if (err || !r->status.id) {
    exec_watcher_create_end(j->e->d.watcher, j->base.key);
    return acct__aws_finish(j, err ? err : OP_EPARSE, ae);
  }
  str_copy(j->obs.request_id, r->status.id, sizeof(j->obs.request_id));
  str_copy(j->obs.create_state, r->status.state ? r->status.state : "",
           sizeof(j->obs.create_state));
  j->obs.requested_at = r->status.requested_at;
  if (str_eq(r->status.state, "SUCCEEDED"))
    exec_watcher_create_succeeded(j->e->d.watcher, j->base.key);
  else if (!str_eq(r->status.state, "IN_PROGRESS") &&
           !str_empty(r->status.state))
    exec_watcher_create_end(j->e->d.watcher, j->base.key);
  log_info("account", "%s: CreateAccount request %s (%s)", j->base.key,
           j->obs.request_id, j->st.email);
  time_rfc3339(acct__now(j->e), ts);
  o = obj_copy_new(j->base.obj);
  obj_set_annotation(o, ACCT_ANN_REQUEST_ID, j->obs.request_id);
  obj_set_annotation(o, ACCT_ANN_REQUESTED_AT, ts);
  obj_set_annotation(o, ACCT_ANN_TAGGED, "true"); /* the call carried them */
  rc = k->update(k->arg, &exec_gvr_accounts, o, annotations_written, j);
  json_decref(o);
  if (rc)
    annotations_written(rc, NULL, NULL, j);
}

/* The step's tags object as an array of at most max (borrowed strings). */
static size_t tag_array(const json_t *o, struct aws_tag *t, size_t max)
{
  size_t n = 0;
  const char *k;
  json_t *v;

  json_object_foreach((json_t *)o, k, v)
  {
    if (n < max && json_is_string(v))
      t[n++] = (struct aws_tag){ k, json_string_value(v) };
  }
  return n;
}

/* The owner tags go in the call itself (one TagResource fewer). */
static int create_account(struct acct_job *j)
{
  struct aws_tag tags[32];
  struct aws_create_account_req rq = {
    .email = j->st.email,
    .account_name = j->st.name,
    .tags = tags,
    .ntags = tag_array(j->st.tags, tags, 32),
  };
  int rc;

  exec_watcher_create_sent(j->e->d.watcher, j->base.key);
  rc = API(j)->create_account(API(j), &j->mgmt_t, &rq, created, j);
  if (rc)
    exec_watcher_create_end(j->e->d.watcher, j->base.key);
  return rc;
}

static void described_create(int err, const struct aws_error *ae,
                             const struct aws_car_status_result *r, void *arg)
{
  struct acct_job *j = arg;
  const struct aws_org_car_status *s = r ? &r->status : NULL;

  if (err)
    return acct__aws_finish(j, err, ae);
  str_copy(j->obs.request_id, j->st.request_id, sizeof(j->obs.request_id));
  str_copy(j->obs.create_state, s->state ? s->state : "",
           sizeof(j->obs.create_state));
  str_copy(j->obs.failure_reason, s->failure_reason ? s->failure_reason : "",
           sizeof(j->obs.failure_reason));
  str_copy(j->obs.account_id, s->account_id ? s->account_id : "",
           sizeof(j->obs.account_id));
  j->obs.requested_at = s->requested_at;
  if (str_eq(s->state, "SUCCEEDED") && !str_empty(s->account_id))
    acct__fresh_set(j->e, j->base.key, s->account_id);
  if (str_eq(s->state, "SUCCEEDED") && s->completed_at > s->requested_at &&
      s->requested_at > 0)
    exec_watcher_create_took(j->e->d.watcher,
                             s->completed_at - s->requested_at);
  if (str_eq(s->state, "IN_PROGRESS"))
    exec_watcher_create_begin(j->e->d.watcher, j->base.key);
  else if (str_eq(s->state, "SUCCEEDED"))
    exec_watcher_create_succeeded(j->e->d.watcher, j->base.key);
  else
    exec_watcher_create_end(j->e->d.watcher, j->base.key);
  acct__aws_finish(j, 0, NULL);
}

static int describe_create(struct acct_job *j)
{
  struct aws_describe_car_status_req rq = {
    .create_account_request_id = j->st.request_id,
  };

  return API(j)->describe_create_account_status(API(j), &j->mgmt_t, &rq,
                                                described_create, j);
}

/* ---- TagResource, DescribeAccount ---- */

static void empty_done(int err, const struct aws_error *ae,
                       const struct aws_empty_result *r, void *arg)
{
  (void)r;
  acct__aws_finish(arg, err, ae);
}

static int tag_account(struct acct_job *j)
{
  struct aws_tag tags[32];
  struct aws_org_tag_req rq = { .resource_id = j->st.account_id };

  rq.tags = tags;
  rq.ntags = tag_array(j->st.tags, tags, 32);
  return API(j)->org_tag_resource(API(j), &j->mgmt_t, &rq, empty_done, j);
}

static void described_account(int err, const struct aws_error *ae,
                              const struct aws_org_account_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (!err && r->account.status)
    str_copy(j->obs.account_status, r->account.status,
             sizeof(j->obs.account_status));
  acct__aws_finish(j, err, ae);
}

static int describe_account(struct acct_job *j)
{
  struct aws_org_account_id_req rq = { .account_id = j->st.account_id };

  return API(j)->describe_account(API(j), &j->mgmt_t, &rq, described_account,
                                  j);
}

/* ---- Support ---- */

static void case_created(int err, const struct aws_error *ae,
                         const struct aws_create_case_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (!err && r->case_id)
    str_copy(j->obs.case_id, r->case_id, sizeof(j->obs.case_id));
  acct__aws_finish(j, err, ae);
}

/* The subject CreateCase uses and ACCT_FIND_CASE looks for. */
static void case_subject(const struct acct_job *j, char *out, size_t n)
{
  str_fmt(out, n, "Add account %s to Enterprise Support", j->st.account_id);
}

static int find_case_page(struct acct_job *j, const char *token);

static void cases_found(int err, const struct aws_error *ae,
                        const struct aws_describe_cases_result *r, void *arg)
{
  struct acct_job *j = arg;
  char subject[128];

  if (err)
    return acct__aws_finish(j, err, ae);
  case_subject(j, subject, sizeof(subject));
  for (size_t i = 0; i < r->n && !j->obs.case_id[0]; i++)
    if (str_eq(r->v[i].subject, subject) && r->v[i].case_id)
      str_copy(j->obs.case_id, r->v[i].case_id, sizeof(j->obs.case_id));
  if (!j->obs.case_id[0] && !str_empty(r->next_token) &&
      find_case_page(j, r->next_token) == 0)
    return;
  acct__aws_finish(j, 0, NULL);
}

/* The token lives in the result, freed after its callback: copied. */
static int find_case_page(struct acct_job *j, const char *token)
{
  struct aws_describe_cases_req rq = { .include_resolved_cases = true };

  str_copy(j->token, token ? token : "", sizeof(j->token));
  rq.next_token = j->token[0] ? j->token : NULL;
  return API(j)->describe_cases(API(j), &j->mgmt_t, &rq, cases_found, j);
}

static int find_case(struct acct_job *j)
{
  return find_case_page(j, NULL);
}

static int create_case(struct acct_job *j)
{
  char subject[128], body[512];
  struct aws_create_case_req rq = {
    .subject = subject,
    .communication_body = body,
    .service_code = "customer-account",
    .severity_code = "high",
    .category_code = "other-account-issues",
    .language = "en",
    .issue_type = "customer-service",
  };

  case_subject(j, subject, sizeof(subject));
  str_fmt(body, sizeof(body),
          "Hello AWS Team, please add account %s to Enterprise Support. "
          "Internal account name: %s. Thank you.",
          j->st.account_id, j->st.name);
  return API(j)->create_case(API(j), &j->mgmt_t, &rq, case_created, j);
}

static void cases_described(int err, const struct aws_error *ae,
                            const struct aws_describe_cases_result *r,
                            void *arg)
{
  struct acct_job *j = arg;

  str_copy(j->obs.case_id, j->st.case_id, sizeof(j->obs.case_id));
  for (size_t i = 0; !err && i < r->n; i++)
    if (str_eq(r->v[i].case_id, j->st.case_id) &&
        str_eq(r->v[i].status, "resolved"))
      j->obs.case_resolved = true;
  acct__aws_finish(j, err, ae);
}

static int describe_case(struct acct_job *j)
{
  const char *ids[1] = { j->st.case_id };
  struct aws_describe_cases_req rq = {
    .case_ids = ids,
    .ncase_ids = 1,
    .include_resolved_cases = true,
  };

  return API(j)->describe_cases(API(j), &j->mgmt_t, &rq, cases_described, j);
}

/* ---- DescribeRegions (in the account) ---- */

static void regions_described(int err, const struct aws_error *ae,
                              const struct aws_ec2_regions_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (!err) {
    j->aux = json_array();
    for (size_t i = 0; i < r->n; i++)
      if (r->v[i].region_name)
        json_array_append_new(j->aux, json_string(r->v[i].region_name));
  }
  acct__aws_finish(j, err, ae);
}

static int describe_regions(struct acct_job *j)
{
  struct aws_describe_regions_req rq = { .all_regions = false };
  int rc = acct__account_target(j, NULL);

  if (rc)
    return rc;
  return API(j)->describe_regions(API(j), &j->acct_t, &rq, regions_described,
                                  j);
}

int acct__exec_aws(struct acct_job *j)
{
  switch (j->st.action) {
  case ACCT_RECOVER:
    return recover_cars(j);
  case ACCT_CREATE_ACCOUNT:
    return create_account(j);
  case ACCT_DESCRIBE_CREATE:
    return describe_create(j);
  case ACCT_TAG_ACCOUNT:
    return tag_account(j);
  case ACCT_DESCRIBE_ACCOUNT:
    return describe_account(j);
  case ACCT_CREATE_CASE:
    return create_case(j);
  case ACCT_DESCRIBE_CASE:
    return describe_case(j);
  case ACCT_FIND_CASE:
    return find_case(j);
  case ACCT_ASSUME_CHECK:
    return acct__exec_assume_check(j);
  case ACCT_DESCRIBE_REGIONS:
    return describe_regions(j);
  case ACCT_ENSURE_SUPPORT_ROLE:
  case ACCT_ENSURE_IAM_USER:
  case ACCT_ATTACH_USER_POLICY:
    return acct__exec_iam(j);
  case ACCT_CREATE_ACCESS_KEY_SECRET:
    return acct__exec_keysecret(j);
  case ACCT_CLEANUP_IAM:
    return acct__exec_cleanup_iam(j);
  case ACCT_CLEANUP_IAM_STEP:
    return acct__exec_cleanup_step(j);
  case ACCT_REGION_CLEANUP:
  case ACCT_REGION_LAUNCH:
  case ACCT_REGION_TERMINATE:
    return acct__exec_ec2(j);
  case ACCT_QUOTA:
  case ACCT_OPT_IN_REGION:
    return acct__exec_quota(j);
  default:
    return OP_EINVAL;
  }
}
