/* Account executor: ACCT_CLEANUP_IAM on deletion. In the account (its
 * OrganizationAccountAccessRole), delete the IAM users and roles tagged
 * clusterAccountName=<name> and clusterNamespace=<ns>: users lose their
 * access keys and attached policies first, roles their attached policies.
 * Errors after the role was assumed are logged only (upstream). */
#include <stdlib.h>
#include <string.h>

#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"

#define API(j) exec_aws_api((j)->e->d.aws)
#define T(j) (&(j)->acct_t)

enum { ST_KEYS, ST_POLICIES, ST_DELETE };

static void next_entity(struct acct_job *j);
static void entity_step(struct acct_job *j);
static void list_entities(struct acct_job *j);

static const char *cur(struct acct_job *j)
{
  return json_string_value(json_array_get(j->list, j->idx));
}

static void warn(struct acct_job *j, const char *what, int err,
                 const struct aws_error *ae)
{
  log_warn("account", "%s: cleanup %s %s: %s", j->base.key, what, cur(j),
           ae && ae->code[0] ? ae->code : op_strerror(err));
}

static void inner_done(int err, const struct aws_error *ae,
                       const struct aws_empty_result *r, void *arg)
{
  struct acct_job *j = arg;

  (void)r;
  if (err)
    warn(j, "item of", err, ae);
  entity_step(j);
}

static void deleted(int err, const struct aws_error *ae,
                    const struct aws_empty_result *r, void *arg)
{
  struct acct_job *j = arg;

  (void)r;
  if (err)
    warn(j, "delete", err, ae);
  else
    log_info("account", "%s: deleted IAM %s %s", j->base.key,
             j->roles ? "role" : "user", cur(j));
  next_entity(j);
}

static void set_inner(struct acct_job *j, json_t *v, int stage)
{
  json_decref(j->inner);
  j->inner = v;
  j->iidx = 0;
  j->stage = stage;
}

static void attached_got(int err, const struct aws_error *ae,
                         const struct aws_iam_attached_result *r, void *arg)
{
  struct acct_job *j = arg;
  json_t *v = json_array();

  for (size_t i = 0; !err && i < r->n; i++)
    json_array_append_new(v, json_string(r->v[i].policy_arn));
  if (err)
    warn(j, "list policies of", err, ae);
  set_inner(j, v, ST_POLICIES);
  entity_step(j);
}

static void keys_got(int err, const struct aws_error *ae,
                     const struct aws_iam_access_keys_result *r, void *arg)
{
  struct acct_job *j = arg;
  json_t *v = json_array();

  for (size_t i = 0; !err && i < r->n; i++)
    json_array_append_new(v, json_string(r->v[i].access_key_id));
  if (err)
    warn(j, "list keys of", err, ae);
  set_inner(j, v, ST_KEYS);
  entity_step(j);
}

static int list_attached(struct acct_job *j)
{
  struct aws_iam_user_page_req uq = { .user_name = cur(j) };
  struct aws_iam_role_page_req rq = { .role_name = cur(j) };

  j->stage = ST_POLICIES;
  if (j->roles)
    return API(j)->list_attached_role_policies(API(j), T(j), &rq, attached_got,
                                               j);
  return API(j)->list_attached_user_policies(API(j), T(j), &uq, attached_got,
                                             j);
}

static int delete_entity(struct acct_job *j)
{
  struct aws_iam_user_req uq = { cur(j) };
  struct aws_iam_role_req rq = { cur(j) };

  j->stage = ST_DELETE;
  if (j->roles)
    return API(j)->delete_role(API(j), T(j), &rq, deleted, j);
  return API(j)->delete_user(API(j), T(j), &uq, deleted, j);
}

/* Work through j->inner for the current stage, then move on. */
static void entity_step(struct acct_job *j)
{
  const char *item = json_string_value(json_array_get(j->inner, j->iidx));
  struct aws_iam_delete_access_key_req kq = { cur(j), item };
  struct aws_iam_user_policy_req up = { cur(j), item };
  struct aws_iam_role_policy_req rp = { cur(j), item };
  int rc;

  if (item) {
    j->iidx++;
    if (j->stage == ST_KEYS)
      rc = API(j)->delete_access_key(API(j), T(j), &kq, inner_done, j);
    else if (j->roles)
      rc = API(j)->detach_role_policy(API(j), T(j), &rp, inner_done, j);
    else
      rc = API(j)->detach_user_policy(API(j), T(j), &up, inner_done, j);
  } else if (j->stage == ST_KEYS) {
    rc = list_attached(j);
  } else {
    rc = delete_entity(j);
  }
  if (rc) {
    warn(j, "step for", rc, NULL);
    next_entity(j);
  }
}

static void tags_got(int err, const struct aws_error *ae,
                     const struct aws_tags_result *r, void *arg)
{
  struct acct_job *j = arg;
  struct aws_iam_user_page_req kq = { .user_name = cur(j) };
  int hits = 0, rc;

  for (size_t i = 0; !err && i < r->n; i++) {
    if (str_eq(r->v[i].key, "clusterAccountName") &&
        str_eq(r->v[i].value, obj_name(j->base.obj)))
      hits++;
    if (str_eq(r->v[i].key, "clusterNamespace") &&
        str_eq(r->v[i].value, obj_namespace(j->base.obj)))
      hits++;
  }
  if (err)
    warn(j, "list tags of", err, ae);
  if (hits < 2)
    return next_entity(j);
  rc = j->roles ? list_attached(j)
                : API(j)->list_access_keys(API(j), T(j), &kq, keys_got, j);
  if (rc) {
    warn(j, "list of", rc, NULL);
    next_entity(j);
  }
}

static void entity_start(struct acct_job *j)
{
  struct aws_iam_user_page_req uq = { .user_name = cur(j) };
  struct aws_iam_role_page_req rq = { .role_name = cur(j) };
  int rc;

  if (!cur(j)) {
    if (j->roles)
      return acct__aws_finish(j, 0, NULL);
    j->roles = true;
    return list_entities(j);
  }
  rc = j->roles ? API(j)->list_role_tags(API(j), T(j), &rq, tags_got, j)
                : API(j)->list_user_tags(API(j), T(j), &uq, tags_got, j);
  if (rc) {
    warn(j, "tags of", rc, NULL);
    next_entity(j);
  }
}

static void next_entity(struct acct_job *j)
{
  j->idx++;
  entity_start(j);
}

static void users_got(int err, const struct aws_error *ae,
                      const struct aws_iam_users_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (err)
    return acct__aws_finish(j, err, ae);
  for (size_t i = 0; i < r->n; i++)
    json_array_append_new(j->list, json_string(r->v[i].user_name));
  j->idx = 0;
  entity_start(j);
}

static void roles_got(int err, const struct aws_error *ae,
                      const struct aws_iam_roles_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (err) {
    warn(j, "list roles", err, ae);
    return acct__aws_finish(j, 0, NULL);
  }
  for (size_t i = 0; i < r->n; i++)
    json_array_append_new(j->list, json_string(r->v[i].role_name));
  j->idx = 0;
  entity_start(j);
}

static void list_entities(struct acct_job *j)
{
  struct aws_iam_list_req rq = { 0 };
  int rc;

  json_decref(j->list);
  j->list = json_array();
  rc = j->roles ? API(j)->list_roles(API(j), T(j), &rq, roles_got, j)
                : API(j)->list_users(API(j), T(j), &rq, users_got, j);
  if (rc)
    acct__aws_finish(j, j->roles ? 0 : rc, NULL);
}

int acct__exec_cleanup_iam(struct acct_job *j)
{
  int rc = acct__account_target(j, NULL);

  if (rc)
    return rc;
  list_entities(j);
  return 0;
}
