/* Account executor: the IAM cleanup on deletion, in the account (its
 * OrganizationAccountAccessRole).
 *
 * ACCT_CLEANUP_IAM only reads: every page of users and roles, and for
 * those tagged clusterAccountName=<name> and clusterNamespace=<ns> their
 * access keys, attached and inline policies. Its observation is the work
 * list, one IAM call per item, in the order IAM accepts them (a user loses
 * its keys and policies before it is deleted).
 * ACCT_CLEANUP_IAM_STEP makes the first call of the list the plan passes
 * and observes the rest, so the plan sees every deletion and a restart
 * scans again and goes on with what is left. Errors of the calls are
 * logged only (as upstream); a failed assume or user listing is the
 * observation's result. */
#include <stdlib.h>
#include <string.h>

#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"

#define API(j) exec_aws_api((j)->e->d.aws)
#define T(j) (&(j)->acct_t)

static void entity_next(struct acct_job *j);
static int list_page(struct acct_job *j);

static const char *cur_name(struct acct_job *j)
{
  return obj_str(json_array_get(j->list, j->idx), "name");
}

static bool cur_is_role(struct acct_job *j)
{
  return str_eq(obj_str(json_array_get(j->list, j->idx), "kind"), "role");
}

static void warn(struct acct_job *j, const char *what, int err,
                 const struct aws_error *ae)
{
  log_warn("account", "%s: IAM cleanup: %s %s: %s", j->base.key, what,
           cur_name(j) ? cur_name(j) : "",
           ae && ae->code[0] ? ae->code : op_strerror(err));
}

/* Append {"op": op, kind: name, field: value} to the work list. */
static void work_add(struct acct_job *j, const char *op, const char *field,
                     const char *value)
{
  json_t *w = json_pack("{s:s, s:s}", "op", op,
                        cur_is_role(j) ? "role" : "user", cur_name(j));

  if (w && field)
    json_object_set_new(w, field, json_string(value));
  if (w)
    json_array_append_new(j->aux, w);
}

/* Keep a page's marker for the next request (the result is freed after
 * its callback). */
static bool next_marker(struct acct_job *j, bool truncated, const char *m)
{
  free(j->marker);
  j->marker = truncated && !str_empty(m) ? strdup(m) : NULL;
  return j->marker != NULL;
}

/* ---- the scan: users and roles, all pages ------------------------------- */

static void add_entity(struct acct_job *j, const char *kind, const char *name)
{
  json_array_append_new(j->list,
                        json_pack("{s:s, s:s}", "kind", kind, "name", name));
}

static void users_got(int err, const struct aws_error *ae,
                      const struct aws_iam_users_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (err)
    return acct__aws_finish(j, err, ae);
  for (size_t i = 0; i < r->n; i++)
    add_entity(j, "user", r->v[i].user_name);
  if (!next_marker(j, r->is_truncated, r->marker))
    j->roles = true;
  if (list_page(j))
    acct__aws_finish(j, OP_ENOMEM, NULL);
}

static void roles_got(int err, const struct aws_error *ae,
                      const struct aws_iam_roles_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (err) {
    warn(j, "list roles", err, ae);
    j->idx = 0;
    return entity_next(j);
  }
  for (size_t i = 0; i < r->n; i++)
    add_entity(j, "role", r->v[i].role_name);
  if (next_marker(j, r->is_truncated, r->marker)) {
    if (list_page(j) == 0)
      return;
  }
  j->idx = 0;
  entity_next(j);
}

static int list_page(struct acct_job *j)
{
  struct aws_iam_list_req rq = { .marker = j->marker };

  if (j->roles)
    return API(j)->list_roles(API(j), T(j), &rq, roles_got, j);
  return API(j)->list_users(API(j), T(j), &rq, users_got, j);
}

/* ---- per tagged entity: keys, attached and inline policies -------------- */

static void move_on(struct acct_job *j)
{
  work_add(j, cur_is_role(j) ? "DeleteRole" : "DeleteUser", NULL, NULL);
  j->idx++;
  entity_next(j);
}

static void inline_got(int err, const struct aws_error *ae,
                       const struct aws_iam_names_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (err)
    warn(j, "list inline policies of", err, ae);
  for (size_t i = 0; !err && i < r->names.n; i++)
    work_add(j, "DeleteRolePolicy", "policy", r->names.v[i]);
  move_on(j);
}

static void attached_got(int err, const struct aws_error *ae,
                         const struct aws_iam_attached_result *r, void *arg)
{
  struct acct_job *j = arg;
  struct aws_iam_role_page_req rq = { .role_name = cur_name(j) };

  if (err)
    warn(j, "list policies of", err, ae);
  for (size_t i = 0; !err && i < r->n; i++)
    work_add(j, cur_is_role(j) ? "DetachRolePolicy" : "DetachUserPolicy", "arn",
             r->v[i].policy_arn);
  if (!cur_is_role(j) ||
      API(j)->list_role_policies(API(j), T(j), &rq, inline_got, j))
    move_on(j);
}

static void list_attached(struct acct_job *j)
{
  struct aws_iam_user_page_req uq = { .user_name = cur_name(j) };
  struct aws_iam_role_page_req rq = { .role_name = cur_name(j) };
  int rc = cur_is_role(j)
               ? API(j)->list_attached_role_policies(API(j), T(j), &rq,
                                                     attached_got, j)
               : API(j)->list_attached_user_policies(API(j), T(j), &uq,
                                                     attached_got, j);

  if (rc) {
    warn(j, "list policies of", rc, NULL);
    move_on(j);
  }
}

static void keys_got(int err, const struct aws_error *ae,
                     const struct aws_iam_access_keys_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (err)
    warn(j, "list keys of", err, ae);
  for (size_t i = 0; !err && i < r->n; i++)
    work_add(j, "DeleteAccessKey", "key", r->v[i].access_key_id);
  list_attached(j);
}

static bool tagged_for_us(struct acct_job *j, const struct aws_tags_result *r)
{
  int hits = 0;

  for (size_t i = 0; i < r->n; i++) {
    if (str_eq(r->v[i].key, "clusterAccountName") &&
        str_eq(r->v[i].value, obj_name(j->base.obj)))
      hits++;
    if (str_eq(r->v[i].key, "clusterNamespace") &&
        str_eq(r->v[i].value, obj_namespace(j->base.obj)))
      hits++;
  }
  return hits >= 2;
}

static void tags_got(int err, const struct aws_error *ae,
                     const struct aws_tags_result *r, void *arg)
{
  struct acct_job *j = arg;
  struct aws_iam_user_page_req kq = { .user_name = cur_name(j) };

  if (err)
    warn(j, "list tags of", err, ae);
  if (err || !tagged_for_us(j, r)) {
    j->idx++;
    return entity_next(j);
  }
  if (cur_is_role(j))
    return list_attached(j);
  if (API(j)->list_access_keys(API(j), T(j), &kq, keys_got, j))
    list_attached(j);
}

static void entity_next(struct acct_job *j)
{
  struct aws_iam_user_page_req uq = { .user_name = cur_name(j) };
  struct aws_iam_role_page_req rq = { .role_name = cur_name(j) };
  int rc;

  if (!cur_name(j))
    return acct__aws_finish(j, 0, NULL); /* j->aux: the work list */
  rc = cur_is_role(j) ? API(j)->list_role_tags(API(j), T(j), &rq, tags_got, j)
                      : API(j)->list_user_tags(API(j), T(j), &uq, tags_got, j);
  if (rc) {
    warn(j, "list tags of", rc, NULL);
    j->idx++;
    entity_next(j);
  }
}

int acct__exec_cleanup_iam(struct acct_job *j)
{
  int rc = acct__account_target(j, NULL);

  if (rc)
    return rc;
  j->list = json_array();
  j->aux = json_array();
  if (!j->list || !j->aux)
    return OP_ENOMEM;
  j->roles = false;
  return list_page(j);
}

/* ---- one call of the work list ------------------------------------------ */

static void step_done(int err, const struct aws_error *ae,
                      const struct aws_empty_result *r, void *arg)
{
  struct acct_job *j = arg;
  const json_t *w = json_array_get(j->st.work, 0);
  size_t i;

  (void)r;
  if (err && !acct__code_is(ae, "NoSuchEntity"))
    log_warn("account", "%s: IAM cleanup: %s %s%s: %s", j->base.key,
             obj_str(w, "op"), obj_str(w, "user") ? obj_str(w, "user") : "",
             obj_str(w, "role") ? obj_str(w, "role") : "",
             ae && ae->code[0] ? ae->code : op_strerror(err));
  json_decref(j->aux);
  j->aux = json_array();
  for (i = 1; j->aux && i < json_array_size(j->st.work); i++)
    json_array_append(j->aux, json_array_get(j->st.work, i));
  acct__aws_finish(j, j->aux ? 0 : OP_ENOMEM, NULL);
}

static int step_call(struct acct_job *j, const json_t *w)
{
  const char *op = obj_str(w, "op");
  const char *user = obj_str(w, "user"), *role = obj_str(w, "role");
  struct aws_iam_delete_access_key_req kq = { user, obj_str(w, "key") };
  struct aws_iam_user_policy_req up = { user, obj_str(w, "arn") };
  struct aws_iam_role_policy_req rp = { role, obj_str(w, "arn") };
  struct aws_delete_role_policy_req ip = { role, obj_str(w, "policy") };
  struct aws_iam_user_req uq = { user };
  struct aws_iam_role_req rq = { role };
  struct aws_api *a = API(j);

  if (str_eq(op, "DeleteAccessKey") && user && kq.access_key_id)
    return a->delete_access_key(a, T(j), &kq, step_done, j);
  if (str_eq(op, "DetachUserPolicy") && user && up.policy_arn)
    return a->detach_user_policy(a, T(j), &up, step_done, j);
  if (str_eq(op, "DeleteUser") && user)
    return a->delete_user(a, T(j), &uq, step_done, j);
  if (str_eq(op, "DetachRolePolicy") && role && rp.policy_arn)
    return a->detach_role_policy(a, T(j), &rp, step_done, j);
  if (str_eq(op, "DeleteRolePolicy") && role && ip.policy_name)
    return a->delete_role_policy(a, T(j), &ip, step_done, j);
  if (str_eq(op, "DeleteRole") && role)
    return a->delete_role(a, T(j), &rq, step_done, j);
  step_done(OP_EINVAL, NULL, NULL, j); /* skip an item we cannot make */
  return 0;
}

int acct__exec_cleanup_step(struct acct_job *j)
{
  const json_t *w = json_array_get(j->st.work, 0);
  int rc = w ? acct__account_target(j, NULL) : OP_EINVAL;

  return rc ? rc : step_call(j, w);
}
