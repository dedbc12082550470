/* AWSFederatedAccountAccess executor: FA_SCAN (read-only calls into the
 * observation's JSON) and the single IAM call of every other AWS action
 * (plan.h). Every outcome ends in one exec_job_observed. */
#include <stdio.h>
#include <string.h>

#include "aws/core/endpoints.h"
#include "controllers/common/obj.h"
#include "controllers/federatedaccess/exec_int.h"
#include "util/err.h"
#include "util/str.h"

#define API(j) ((j)->e->d.api)
#define NO_ENTITY(ae) ((ae) && str_eq((ae)->code, "NoSuchEntity"))

static void finish(struct fa_job *j, int err, const struct aws_error *ae)
{
  json_t *aux = NULL;

  j->o.action = j->st.action;
  j->o.result = err;
  str_copy(j->o.aws_code, ae ? ae->code : "", sizeof(j->o.aws_code));
  j->o.at = fa__now(j->e);
  j->o.creds = j->st.creds;
  str_copy(j->o.role_update, j->st.role_update, sizeof(j->o.role_update));
  if (!err && j->st.action == FA_SCAN) {
    aux = j->scan;
    j->scan = NULL;
  }
  exec_job_observed(&j->base, err, j->o.aws_code, &j->o, aux);
}

static void empty_done(int err, const struct aws_error *ae,
                       const struct aws_empty_result *r, void *arg)
{
  (void)r;
  finish(arg, err, ae);
}

/* ---- scan ---------------------------------------------------------------- */

static void scan_versions(struct fa_job *j, json_t *pol);

static void versions_got(int err, const struct aws_error *ae,
                         const struct aws_iam_policy_versions_result *r,
                         void *arg)
{
  struct fa_job *j = arg;
  json_t *pol = j->st.deleting
                    ? json_array_get(json_object_get(j->scan, "orphans"), 0)
                    : json_object_get(j->scan, "policy");
  json_t *vs = json_object_get(pol, "versions");
  size_t i;

  if (err)
    return finish(j, err, ae);
  for (i = 0; i < r->n; i++) {
    json_array_append_new(vs, json_string(r->v[i].version_id));
    if (r->v[i].is_default_version)
      json_object_set_new(pol, "default", json_string(r->v[i].version_id));
  }
  if (r->is_truncated && r->marker) {
    str_copy(j->marker, r->marker, sizeof(j->marker));
    return scan_versions(j, pol);
  }
  finish(j, 0, NULL);
}

static void scan_versions(struct fa_job *j, json_t *pol)
{
  struct aws_iam_policy_page_req rq = { .policy_arn = obj_str(pol, "arn"),
                                        .marker =
                                            j->marker[0] ? j->marker : NULL };
  int rc;

  if (!json_is_array(json_object_get(pol, "versions"))) {
    json_object_set_new(pol, "versions", json_array());
    j->marker[0] = 0;
    rq.marker = NULL;
  }
  rc = API(j)->list_policy_versions(API(j), &j->t, &rq, versions_got, j);
  if (rc)
    finish(j, rc, NULL);
}

static void version_got(int err, const struct aws_error *ae,
                        const struct aws_iam_policy_version_result *r,
                        void *arg)
{
  struct fa_job *j = arg;
  json_t *pol = json_object_get(j->scan, "policy");

  if (err)
    return finish(j, err, ae);
  json_object_set_new(
      pol, "doc", json_string(r->version.document ? r->version.document : ""));
  scan_versions(j, pol);
}

static void policy_got(int err, const struct aws_error *ae,
                       const struct aws_iam_policy_result *r, void *arg)
{
  struct fa_job *j = arg;
  struct aws_iam_policy_version_req rq = { 0 };
  json_t *pol;
  int rc;

  if (NO_ENTITY(ae)) {
    json_object_set_new(j->scan, "policy", json_null());
    return finish(j, 0, NULL);
  }
  if (err)
    return finish(j, err, ae);
  pol = json_pack(
      "{s:s,s:s}", "arn", r->policy.arn ? r->policy.arn : "", "default",
      r->policy.default_version_id ? r->policy.default_version_id : "");
  json_object_set_new(j->scan, "policy", pol);
  rq.policy_arn = obj_str(pol, "arn");
  rq.version_id = obj_str(pol, "default");
  rc = API(j)->get_policy_version(API(j), &j->t, &rq, version_got, j);
  if (rc)
    finish(j, rc, NULL);
}

static void scan_policy(struct fa_job *j)
{
  char res[256], arn[320];
  struct aws_iam_policy_req rq = { .policy_arn = arn };
  int rc;

  if (!j->st.policy_name[0]) {
    json_object_set_new(j->scan, "policy", json_null());
    return finish(j, 0, NULL);
  }
  if (str_fmt(res, sizeof(res), "policy/%s", j->st.policy_name) < 0 ||
      aws_arn_fmt(arn, sizeof(arn), j->st.partition, "iam", j->account, res))
    return finish(j, OP_ETOOBIG, NULL);
  rc = API(j)->get_policy(API(j), &j->t, &rq, policy_got, j);
  if (rc)
    finish(j, rc, NULL);
}

static void scan_orphans(struct fa_job *j);

static void policies_got(int err, const struct aws_error *ae,
                         const struct aws_iam_policies_result *r, void *arg)
{
  struct fa_job *j = arg;
  json_t *orph = json_object_get(j->scan, "orphans");
  char suffix[16];
  size_t i;

  if (err)
    return finish(j, err, ae);
  str_fmt(suffix, sizeof(suffix), "-%s", j->st.uid);
  for (i = 0; i < r->n; i++) {
    if (str_has_suffix(r->v[i].policy_name, suffix) && r->v[i].arn)
      json_array_append_new(orph, json_pack("{s:s}", "arn", r->v[i].arn));
  }
  if (r->is_truncated && r->marker) {
    str_copy(j->marker, r->marker, sizeof(j->marker));
    return scan_orphans(j);
  }
  j->marker[0] = 0;
  if (!json_array_size(orph))
    return finish(j, 0, NULL);
  scan_versions(j, json_array_get(orph, 0));
}

static void scan_orphans(struct fa_job *j)
{
  struct aws_list_policies_req rq = { .scope = "Local",
                                      .marker =
                                          j->marker[0] ? j->marker : NULL };
  int rc;

  if (!json_is_array(json_object_get(j->scan, "orphans")))
    json_object_set_new(j->scan, "orphans", json_array());
  rc = API(j)->list_policies(API(j), &j->t, &rq, policies_got, j);
  if (rc)
    finish(j, rc, NULL);
}

static void scan_next(struct fa_job *j)
{
  j->marker[0] = 0;
  if (j->st.deleting)
    scan_orphans(j);
  else
    scan_policy(j);
}

static void scan_attached(struct fa_job *j);

static void attached_got(int err, const struct aws_error *ae,
                         const struct aws_iam_attached_result *r, void *arg)
{
  struct fa_job *j = arg;
  json_t *att = json_object_get(j->scan, "attached");
  size_t i;

  if (NO_ENTITY(ae))
    return scan_next(j);
  if (err)
    return finish(j, err, ae);
  for (i = 0; i < r->n; i++)
    json_array_append_new(
        att, json_string(r->v[i].policy_arn ? r->v[i].policy_arn : ""));
  if (r->is_truncated && r->marker) {
    str_copy(j->marker, r->marker, sizeof(j->marker));
    return scan_attached(j);
  }
  scan_next(j);
}

static void scan_attached(struct fa_job *j)
{
  struct aws_iam_role_page_req rq = { .role_name = j->st.role_name,
                                      .marker =
                                          j->marker[0] ? j->marker : NULL };
  int rc =
      API(j)->list_attached_role_policies(API(j), &j->t, &rq, attached_got, j);

  if (rc)
    finish(j, rc, NULL);
}

static void role_got(int err, const struct aws_error *ae,
                     const struct aws_iam_role_result *r, void *arg)
{
  struct fa_job *j = arg;
  const char *trust;

  if (NO_ENTITY(ae)) {
    json_object_set_new(j->scan, "role", json_null());
    return scan_next(j);
  }
  if (err)
    return finish(j, err, ae);
  trust = r->role.assume_role_policy_document;
  json_object_set_new(j->scan, "role",
                      json_pack("{s:s}", "trust", trust ? trust : ""));
  j->marker[0] = 0;
  scan_attached(j);
}

static void caller_got(int err, const struct aws_error *ae,
                       const struct aws_caller_identity_result *r, void *arg)
{
  struct fa_job *j = arg;
  struct aws_iam_role_req rq = { .role_name = j->st.role_name };
  int rc;

  if (err)
    return finish(j, err, ae);
  str_copy(j->account, r->account ? r->account : "", sizeof(j->account));
  json_object_set_new(j->scan, "account", json_string(j->account));
  rc = API(j)->get_role(API(j), &j->t, &rq, role_got, j);
  if (rc)
    finish(j, rc, NULL);
}

static int start_scan(struct fa_job *j)
{
  struct aws_sts_none_req rq = { 0 };

  j->scan = json_pack("{s:n,s:[]}", "role", "attached");
  if (!j->scan)
    return OP_ENOMEM;
  return API(j)->get_caller_identity(API(j), &j->t, &rq, caller_got, j);
}

/* ---- one IAM call ------------------------------------------------------ */

static void policy_made(int err, const struct aws_error *ae,
                        const struct aws_iam_policy_result *r, void *arg)
{
  (void)r;
  finish(arg, err, ae);
}

static void version_made(int err, const struct aws_error *ae,
                         const struct aws_iam_policy_version_result *r,
                         void *arg)
{
  (void)r;
  finish(arg, err, ae);
}

static void role_made(int err, const struct aws_error *ae,
                      const struct aws_iam_role_result *r, void *arg)
{
  (void)r;
  finish(arg, err, ae);
}

static int start_policy_call(struct fa_job *j)
{
  const struct fa_step *s = &j->st;
  struct aws_api *a = API(j);

  switch (s->action) {
  case FA_CREATE_POLICY: {
    struct aws_create_policy_req rq = { .policy_name = s->policy_name,
                                        .policy_document = s->doc,
                                        .description = s->description[0]
                                                           ? s->description
                                                           : NULL };
    return a->create_policy(a, &j->t, &rq, policy_made, j);
  }
  case FA_CREATE_POLICY_VER: {
    struct aws_create_policy_version_req rq = { .policy_arn = s->policy_arn,
                                                .policy_document = s->doc,
                                                .set_as_default = true };
    return a->create_policy_version(a, &j->t, &rq, version_made, j);
  }
  case FA_DELETE_POLICY_VER: {
    struct aws_iam_policy_version_req rq = { .policy_arn = s->policy_arn,
                                             .version_id = s->version_id };
    return a->delete_policy_version(a, &j->t, &rq, empty_done, j);
  }
  default: {
    struct aws_iam_policy_req rq = { .policy_arn = s->policy_arn };
    return a->delete_policy(a, &j->t, &rq, empty_done, j);
  }
  }
}

static int start_role_call(struct fa_job *j)
{
  const struct fa_step *s = &j->st;
  struct aws_api *a = API(j);
  struct aws_iam_role_policy_req rp = { .role_name = s->role_name,
                                        .policy_arn = s->policy_arn };

  switch (s->action) {
  case FA_CREATE_ROLE: {
    struct aws_create_role_req rq = { .role_name = s->role_name,
                                      .assume_role_policy_document = s->doc,
                                      .description = s->description[0]
                                                         ? s->description
                                                         : NULL };
    return a->create_role(a, &j->t, &rq, role_made, j);
  }
  case FA_UPDATE_TRUST: {
    struct aws_update_assume_role_policy_req rq = { .role_name = s->role_name,
                                                    .policy_document = s->doc };
    return a->update_assume_role_policy(a, &j->t, &rq, empty_done, j);
  }
  case FA_ATTACH:
    return a->attach_role_policy(a, &j->t, &rp, empty_done, j);
  case FA_DETACH:
    return a->detach_role_policy(a, &j->t, &rp, empty_done, j);
  default: {
    struct aws_iam_role_req rq = { .role_name = s->role_name };
    return a->delete_role(a, &j->t, &rq, empty_done, j);
  }
  }
}

static int target(struct fa_job *j)
{
  struct aws_creds *c = NULL;
  int rc;

  if (j->st.creds == FA_CREDS_SECRET) {
    c = j->secret;
  } else if (j->e->d.org_role) {
    rc = j->e->d.org_role(j->e->d.org_role_arg, j->st.account_id, &c);
    if (rc)
      return rc;
  }
  if (!c)
    return OP_ENOTFOUND;
  j->t = (struct aws_target){ .creds = c,
                              .controller = "awsfederatedaccountaccess" };
  return 0;
}

int fa__start_aws(struct exec_job *b)
{
  struct fa_job *j = (struct fa_job *)b;
  int rc = target(j);

  if (rc) {
    /* observed, so the plan sees the failure (and, deleting, falls back) */
    finish(j, rc, NULL);
    return 0;
  }
  switch (j->st.action) {
  case FA_SCAN:
    rc = start_scan(j);
    break;
  case FA_CREATE_POLICY:
  case FA_CREATE_POLICY_VER:
  case FA_DELETE_POLICY_VER:
  case FA_DELETE_POLICY:
    rc = start_policy_call(j);
    break;
  default:
    rc = start_role_call(j);
  }
  return rc;
}
