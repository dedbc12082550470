/* AccountClaim executor: the Organizations actions (OU find-or-create,
 * MoveAccount, CloseAccount). Each ends in one struct claim_obs. */
#include <stdlib.h>
#include <string.h>

#include "aws/core/errors.h"
#include "controllers/accountclaim/exec.h"
#include "util/err.h"
#include "util/str.h"

struct org_job {
  struct aws_api *api;
  struct aws_target t;
  struct claim_obs obs;
  char name[VALIDATE_OU_NAME_MAX + 1], parent[64]; /* a whole OU name */
  char account_id[16];
  claim_aws_done done;
  void *arg;
};

static void org_finish(struct org_job *j, int err, const struct aws_error *ae)
{
  j->obs.result = err;
  if (ae && ae->code[0] && !j->obs.aws_code[0])
    str_copy(j->obs.aws_code, ae->code, sizeof(j->obs.aws_code));
  j->done(j->arg, &j->obs);
  free(j);
}

static int list_ous(struct org_job *j, const char *token);

static void list_ous_done(int err, const struct aws_error *ae,
                          const struct aws_org_ous_result *r, void *arg)
{
  struct org_job *j = arg;
  const char *next = NULL;
  int rc;

  if (err) {
    org_finish(j, err, ae);
    return;
  }
  for (size_t i = 0; i < r->n; i++) {
    if (str_eq(r->v[i].name, j->name) && r->v[i].id) {
      str_copy(j->obs.ou_id, r->v[i].id, sizeof(j->obs.ou_id));
      org_finish(j, 0, NULL);
      return;
    }
  }
  if (!aws_page_next_token(r->next_token, &next)) {
    org_finish(j, OP_ENOTFOUND, NULL);
    return;
  }
  rc = list_ous(j, next);
  if (rc < 0)
    org_finish(j, rc, NULL);
}

static int list_ous(struct org_job *j, const char *token)
{
  struct aws_list_ous_req rq = { .parent_id = j->parent, .next_token = token };

  return j->api->list_organizational_units_for_parent(j->api, &j->t, &rq,
                                                      list_ous_done, j);
}

static void create_ou_done(int err, const struct aws_error *ae,
                           const struct aws_org_ou_result *r, void *arg)
{
  struct org_job *j = arg;
  int rc;

  if (!err) {
    str_copy(j->obs.ou_id, r->ou.id ? r->ou.id : "", sizeof(j->obs.ou_id));
    org_finish(j, 0, NULL);
    return;
  }
  if (!ae || !str_eq(ae->code, "DuplicateOrganizationalUnitException")) {
    org_finish(j, err, ae);
    return;
  }
  rc = list_ous(j, NULL);
  if (rc < 0)
    org_finish(j, rc, NULL);
}

static int list_children(struct org_job *j, const char *token);

static void children_done(int err, const struct aws_error *ae,
                          const struct aws_org_refs_result *r, void *arg)
{
  struct org_job *j = arg;
  const char *next = NULL;
  int rc;

  if (err) {
    org_finish(j, err, ae);
    return;
  }
  for (size_t i = 0; i < r->n; i++) {
    if (str_eq(r->v[i].id, j->account_id)) {
      j->obs.already_there = true;
      org_finish(j, 0, NULL);
      return;
    }
  }
  if (!aws_page_next_token(r->next_token, &next)) {
    org_finish(j, OP_ENOTFOUND, NULL);
    return;
  }
  rc = list_children(j, next);
  if (rc < 0)
    org_finish(j, rc, NULL);
}

static int list_children(struct org_job *j, const char *token)
{
  struct aws_list_children_req rq = { .parent_id = j->obs.ou_id,
                                      .child_type = "ACCOUNT",
                                      .next_token = token };

  return j->api->list_children(j->api, &j->t, &rq, children_done, j);
}

static void move_done(int err, const struct aws_error *ae,
                      const struct aws_empty_result *r, void *arg)
{
  struct org_job *j = arg;
  int rc;

  (void)r;
  if (err && ae && str_eq(ae->code, "DuplicateAccountException")) {
    /* AWS: the account already sits in the destination. */
    str_copy(j->obs.aws_code, ae->code, sizeof(j->obs.aws_code));
    j->obs.already_there = true;
    org_finish(j, 0, NULL);
    return;
  }
  if (!err || !ae || !str_eq(ae->code, "AccountNotFoundException")) {
    org_finish(j, err, ae);
    return;
  }
  /* Not in the source parent any more: maybe already moved. */
  str_copy(j->obs.aws_code, ae->code, sizeof(j->obs.aws_code));
  rc = list_children(j, NULL);
  if (rc < 0)
    org_finish(j, rc, NULL);
}

static void close_done(int err, const struct aws_error *ae,
                       const struct aws_empty_result *r, void *arg)
{
  struct org_job *j = arg;

  (void)r;
  if (err && ae && str_eq(ae->code, "AccountAlreadyClosedException")) {
    str_copy(j->obs.aws_code, ae->code, sizeof(j->obs.aws_code));
    err = 0;
  } else if (err && ae && str_eq(ae->code, "ConstraintViolationException") &&
             ae->reason[0]) {
    str_copy(j->obs.aws_code, ae->reason, sizeof(j->obs.aws_code));
  }
  org_finish(j, err, ae);
}

static int org_start(struct org_job *j, const struct claim_step *st)
{
  switch (st->action) {
  case CLAIM_ENSURE_OU: {
    struct aws_create_ou_req rq = { .parent_id = j->parent, .name = j->name };

    return j->api->create_organizational_unit(j->api, &j->t, &rq,
                                              create_ou_done, j);
  }
  case CLAIM_MOVE_ACCOUNT: {
    struct aws_move_account_req rq = { .account_id = j->account_id,
                                       .source_parent_id = j->parent,
                                       .destination_parent_id = j->obs.ou_id };

    return j->api->move_account(j->api, &j->t, &rq, move_done, j);
  }
  case CLAIM_CLOSE_ACCOUNT: {
    struct aws_org_account_id_req rq = { .account_id = j->account_id };

    return j->api->close_account(j->api, &j->t, &rq, close_done, j);
  }
  default:
    return OP_EINVAL;
  }
}

int claim__exec_aws(struct aws_api *api, struct aws_creds *mgmt,
                    const struct claim_step *st, claim_aws_done done, void *arg)
{
  struct org_job *j;
  int rc;

  if (!mgmt)
    return OP_ENOTFOUND;
  j = calloc(1, sizeof(*j));
  if (!j)
    return OP_ENOMEM;
  j->api = api;
  j->t = (struct aws_target){ .creds = mgmt, .controller = "accountclaim" };
  j->obs.action = st->action;
  str_copy(j->obs.ou_id, st->ou_id, sizeof(j->obs.ou_id));
  str_copy(j->name, st->ou_name, sizeof(j->name));
  str_copy(j->parent, st->parent, sizeof(j->parent));
  str_copy(j->account_id, st->account_id, sizeof(j->account_id));
  j->done = done;
  j->arg = arg;
  rc = org_start(j, st);
  if (rc < 0)
    free(j);
  return rc;
}
