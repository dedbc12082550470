/* aws_driver, all-ops: the Organizations steps. */
#include <unistd.h>

#include "driver_int.h"
#include "util/err.h"
#include "util/str.h"

static int a_org(struct drv *d, const void *res)
{
  const struct aws_org_organization_result *r = res;

  return copy_id(d->id.mgmt, sizeof(d->id.mgmt), r->master_account_id);
}

int s_describe_org(struct drv *d)
{
  struct aws_org_none_req rq = { 0 };

  return CALL(d, describe_organization, &d->mt, &rq, a_org);
}

static int a_create_account(struct drv *d, const void *res)
{
  const struct aws_car_status_result *r = res;

  return copy_id(d->id.car, sizeof(d->id.car), r->status.id);
}

int s_create_account(struct drv *d)
{
  static const struct aws_tag tags[] = { { "owner", "aws_driver" } };
  struct aws_create_account_req rq = { .email = d->id.email,
                                       .account_name = "aint-all-ops",
                                       .tags = tags,
                                       .ntags = 1 };

  return CALL(d, create_account, &d->mt, &rq, a_create_account);
}

static int a_car_status(struct drv *d, const void *res)
{
  const struct aws_car_status_result *r = res;

  if (str_eq(r->status.state, "IN_PROGRESS")) {
    d->repeat_ms = d->o.poll_ms;
    return 0;
  }
  if (!str_eq(r->status.state, "SUCCEEDED")) {
    fprintf(stderr, "aws_driver: CreateAccount ended %s (%s)\n",
            r->status.state ? r->status.state : "?",
            r->status.failure_reason ? r->status.failure_reason : "-");
    return OP_EAWS;
  }
  return copy_id(d->id.acct, sizeof(d->id.acct), r->status.account_id);
}

int s_describe_car(struct drv *d)
{
  struct aws_describe_car_status_req rq = { d->id.car };

  return CALL(d, describe_create_account_status, &d->mt, &rq, a_car_status);
}

/* Other tests may share the organization: a first page that is not empty
 * is what this call must show. */
static int a_list_car(struct drv *d, const void *res)
{
  const struct aws_car_status_list_result *r = res;

  return r->n ? 0 : OP_ENOTFOUND;
}

int s_list_car(struct drv *d)
{
  static const char *const states[] = { "SUCCEEDED" };
  struct aws_list_car_status_req rq = { .states = states, .nstates = 1 };

  return CALL(d, list_create_account_status, &d->mt, &rq, a_list_car);
}

/* Other tests may share the organization: a first page that is not empty
 * is what this call must show. */
static int a_list_accounts(struct drv *d, const void *res)
{
  const struct aws_org_accounts_result *r = res;

  return r->n ? 0 : OP_ENOTFOUND;
}

int s_list_accounts(struct drv *d)
{
  struct aws_org_page_req rq = { .max_results = 20 };

  return CALL(d, list_accounts, &d->mt, &rq, a_list_accounts);
}

int s_describe_account(struct drv *d)
{
  struct aws_org_account_id_req rq = { d->id.acct };

  return CALL(d, describe_account, &d->mt, &rq, NULL);
}

static int a_parents(struct drv *d, const void *res)
{
  const struct aws_org_refs_result *r = res;

  return r->n == 1 ? copy_id(d->id.root, sizeof(d->id.root), r->v[0].id)
                   : OP_EPARSE;
}

int s_list_parents(struct drv *d)
{
  struct aws_list_parents_req rq = { .child_id = d->id.acct };

  return CALL(d, list_parents, &d->mt, &rq, a_parents);
}

int s_list_children(struct drv *d)
{
  struct aws_list_children_req rq = { .parent_id = d->id.root,
                                      .child_type = "ACCOUNT" };

  return CALL(d, list_children, &d->mt, &rq, NULL);
}

static int a_create_ou(struct drv *d, const void *res)
{
  const struct aws_org_ou_result *r = res;

  return copy_id(d->id.ou, sizeof(d->id.ou), r->ou.id);
}

int s_create_ou(struct drv *d)
{
  char name[64];
  struct aws_create_ou_req rq = { .parent_id = d->id.root, .name = name };

  str_fmt(name, sizeof(name), "aint-ou-%ld", (long)getpid());
  return CALL(d, create_organizational_unit, &d->mt, &rq, a_create_ou);
}

int s_list_ous(struct drv *d)
{
  struct aws_list_ous_req rq = { .parent_id = d->id.root };

  return CALL(d, list_organizational_units_for_parent, &d->mt, &rq, NULL);
}

int s_move_account(struct drv *d)
{
  struct aws_move_account_req rq = { d->id.acct, d->id.root, d->id.ou };

  return CALL(d, move_account, &d->mt, &rq, NULL);
}

int s_org_tag(struct drv *d)
{
  static const struct aws_tag tags[] = { { "claimed", "false" },
                                         { "pool", "default" } };
  struct aws_org_tag_req rq = { d->id.acct, tags, 2 };

  return CALL(d, org_tag_resource, &d->mt, &rq, NULL);
}

static int a_org_tags(struct drv *d, const void *res)
{
  const struct aws_tags_result *r = res;

  return r->n >= 2 ? 0 : OP_EPARSE;
}

int s_org_list_tags(struct drv *d)
{
  struct aws_org_list_tags_req rq = { .resource_id = d->id.acct };

  return CALL(d, org_list_tags_for_resource, &d->mt, &rq, a_org_tags);
}

int s_org_untag(struct drv *d)
{
  static const char *const keys[] = { "claimed" };
  struct aws_org_untag_req rq = { d->id.acct, keys, 1 };

  return CALL(d, org_untag_resource, &d->mt, &rq, NULL);
}

int s_close_account(struct drv *d)
{
  struct aws_org_account_id_req rq = { d->id.acct };

  return CALL(d, close_account, &d->mt, &rq, NULL);
}
