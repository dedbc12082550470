/* AWS Organizations (JSON 1.1, AWSOrganizationsV20161128). */
#include "aws/orgs.h"

#include <stdlib.h>
#include <string.h>

#include "aws/ops_int.h"
#include "aws/proto/json11.h"
#include "util/err.h"
#include "util/util.h"

#define ORGS "AWSOrganizationsV20161128" /* JSON 1.1 target prefix */

static void page(json_t *b, const char *next_token, int max_results)
{
  aws_js_set_str(b, "NextToken", next_token);
  if (max_results > 0)
    json_object_set_new(b, "MaxResults", json_integer(max_results));
}

/* ---- element decoders / frees ------------------------------------------ */

static int car_item(const json_t *o, void *elem)
{
  struct aws_org_car_status *s = elem;

  s->id = aws_js_str_new(o, "Id");
  s->account_name = aws_js_str_new(o, "AccountName");
  s->state = aws_js_str_new(o, "State");
  s->account_id = aws_js_str_new(o, "AccountId");
  s->failure_reason = aws_js_str_new(o, "FailureReason");
  s->requested_at = json_number_value(json_object_get(o, "RequestedTimestamp"));
  s->completed_at = json_number_value(json_object_get(o, "CompletedTimestamp"));
  return s->state ? 0 : OP_EPARSE;
}

static void car_clean(struct aws_org_car_status *s)
{
  free(s->id);
  free(s->account_name);
  free(s->state);
  free(s->account_id);
  free(s->failure_reason);
}

static int account_item(const json_t *o, void *elem)
{
  struct aws_org_account *a = elem;

  a->id = aws_js_str_new(o, "Id");
  a->arn = aws_js_str_new(o, "Arn");
  a->name = aws_js_str_new(o, "Name");
  a->email = aws_js_str_new(o, "Email");
  a->status = aws_js_str_new(o, "Status");
  return a->id ? 0 : OP_EPARSE;
}

static void account_clean(struct aws_org_account *a)
{
  free(a->id);
  free(a->arn);
  free(a->name);
  free(a->email);
  free(a->status);
}

static int ref_item(const json_t *o, void *elem)
{
  struct aws_org_ref *r = elem;

  r->id = aws_js_str_new(o, "Id");
  r->type = aws_js_str_new(o, "Type");
  return r->id ? 0 : OP_EPARSE;
}

static int ou_item(const json_t *o, void *elem)
{
  struct aws_org_ou *u = elem;

  u->id = aws_js_str_new(o, "Id");
  u->arn = aws_js_str_new(o, "Arn");
  u->name = aws_js_str_new(o, "Name");
  return u->id ? 0 : OP_EPARSE;
}

static void ou_clean(struct aws_org_ou *u)
{
  free(u->id);
  free(u->arn);
  free(u->name);
}

static int tag_item(const json_t *o, void *elem)
{
  struct aws_rtag *t = elem;

  t->key = aws_js_str_new(o, "Key");
  t->value = aws_js_str_new(o, "Value");
  return t->key ? 0 : OP_EPARSE;
}

/* An object member decoded with fn into *elem; missing = OP_EPARSE. */
static int one(const char *body, size_t len, const char *key, aws_js_item_fn fn,
               void *elem)
{
  json_t *o = aws_js_parse_new(body, len), *m;
  int rc = OP_EPARSE;

  m = o ? json_object_get(o, key) : NULL;
  if (json_is_object(m))
    rc = fn(m, elem) ? OP_EPARSE : 0;
  json_decref(o);
  return rc;
}

/* A list member plus NextToken. */
static int list(const char *body, size_t len, const char *key, size_t sz,
                aws_js_item_fn fn, void **v, size_t *n, char **next)
{
  json_t *o = aws_js_parse_new(body, len);
  int rc;

  if (!o)
    return OP_EPARSE;
  rc = aws_js_each(o, key, sz, fn, v, n);
  *next = aws_js_str_new(o, "NextToken");
  json_decref(o);
  return rc;
}

/* ---- CreateAccount / DescribeCreateAccountStatus ------------------------ */

int aws_enc_create_account(const struct aws_create_account_req *rq,
                           struct aws_wire *w)
{
  json_t *b;

  if (!rq->email || !rq->account_name)
    return OP_EINVAL;
  b = json_pack("{s:s,s:s}", "Email", rq->email, "AccountName",
                rq->account_name);
  aws_js_set_str(b, "RoleName", rq->role_name);
  aws_js_set_str(b, "IamUserAccessToBilling", rq->iam_user_access_to_billing);
  if (rq->ntags)
    json_object_set_new(b, "Tags", aws_js_tags_new(rq->tags, rq->ntags));
  return aws_json11_request(w, ORGS, "CreateAccount", b);
}

static int dec_car(const char *body, size_t len,
                   struct aws_car_status_result **out)
{
  struct aws_car_status_result *r = util_xcalloc(1, sizeof(*r));
  int rc = one(body, len, "CreateAccountStatus", car_item, &r->status);

  if (rc) {
    aws_car_status_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

int aws_dec_create_account(const char *body, size_t len,
                           struct aws_car_status_result **out)
{
  return dec_car(body, len, out);
}

int aws_enc_describe_create_account_status(
    const struct aws_describe_car_status_req *rq, struct aws_wire *w)
{
  if (!rq->create_account_request_id)
    return OP_EINVAL;
  return aws_json11_request(w, ORGS, "DescribeCreateAccountStatus",
                            json_pack("{s:s}", "CreateAccountRequestId",
                                      rq->create_account_request_id));
}

int aws_dec_describe_create_account_status(const char *body, size_t len,
                                           struct aws_car_status_result **out)
{
  return dec_car(body, len, out);
}

void aws_car_status_result_free(struct aws_car_status_result *r)
{
  if (!r)
    return;
  car_clean(&r->status);
  free(r);
}

/* ---- ListCreateAccountStatus -------------------------------------------- */

int aws_enc_list_create_account_status(const struct aws_list_car_status_req *rq,
                                       struct aws_wire *w)
{
  json_t *b = json_object();

  if (rq->nstates)
    json_object_set_new(b, "States", aws_js_strs_new(rq->states, rq->nstates));
  page(b, rq->next_token, rq->max_results);
  return aws_json11_request(w, ORGS, "ListCreateAccountStatus", b);
}

int aws_dec_list_create_account_status(const char *body, size_t len,
                                       struct aws_car_status_list_result **out)
{
  struct aws_car_status_list_result *r = util_xcalloc(1, sizeof(*r));
  int rc = list(body, len, "CreateAccountStatuses", sizeof(*r->v), car_item,
                (void **)&r->v, &r->n, &r->next_token);

  if (rc) {
    aws_car_status_list_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_car_status_list_result_free(struct aws_car_status_list_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    car_clean(&r->v[i]);
  free(r->v);
  free(r->next_token);
  free(r);
}

/* ---- ListAccounts / DescribeAccount / DescribeOrganization -------------- */

int aws_enc_list_accounts(const struct aws_org_page_req *rq, struct aws_wire *w)
{
  json_t *b = json_object();

  page(b, rq->next_token, rq->max_results);
  return aws_json11_request(w, ORGS, "ListAccounts", b);
}

int aws_dec_list_accounts(const char *body, size_t len,
                          struct aws_org_accounts_result **out)
{
  struct aws_org_accounts_result *r = util_xcalloc(1, sizeof(*r));
  int rc = list(body, len, "Accounts", sizeof(*r->v), account_item,
                (void **)&r->v, &r->n, &r->next_token);

  if (rc) {
    aws_org_accounts_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_org_accounts_result_free(struct aws_org_accounts_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    account_clean(&r->v[i]);
  free(r->v);
  free(r->next_token);
  free(r);
}

int aws_enc_describe_account(const struct aws_org_account_id_req *rq,
                             struct aws_wire *w)
{
  if (!rq->account_id)
    return OP_EINVAL;
  return aws_json11_request(w, ORGS, "DescribeAccount",
                            json_pack("{s:s}", "AccountId", rq->account_id));
}

int aws_dec_describe_account(const char *body, size_t len,
                             struct aws_org_account_result **out)
{
  struct aws_org_account_result *r = util_xcalloc(1, sizeof(*r));
  int rc = one(body, len, "Account", account_item, &r->account);

  if (rc) {
    aws_org_account_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_org_account_result_free(struct aws_org_account_result *r)
{
  if (!r)
    return;
  account_clean(&r->account);
  free(r);
}

int aws_enc_describe_organization(const struct aws_org_none_req *rq,
                                  struct aws_wire *w)
{
  return aws_json11_request(w, ORGS, "DescribeOrganization", NULL);
}

static int org_item(const json_t *o, void *elem)
{
  struct aws_org_organization_result *r = elem;

  r->id = aws_js_str_new(o, "Id");
  r->arn = aws_js_str_new(o, "Arn");
  r->master_account_id = aws_js_str_new(o, "MasterAccountId");
  r->master_account_arn = aws_js_str_new(o, "MasterAccountArn");
  r->feature_set = aws_js_str_new(o, "FeatureSet");
  return r->id ? 0 : OP_EPARSE;
}

int aws_dec_describe_organization(const char *body, size_t len,
                                  struct aws_org_organization_result **out)
{
  struct aws_org_organization_result *r = util_xcalloc(1, sizeof(*r));
  int rc = one(body, len, "Organization", org_item, r);

  if (rc) {
    aws_org_organization_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_org_organization_result_free(struct aws_org_organization_result *r)
{
  if (!r)
    return;
  free(r->id);
  free(r->arn);
  free(r->master_account_id);
  free(r->master_account_arn);
  free(r->feature_set);
  free(r);
}

/* ---- MoveAccount / CloseAccount ----------------------------------------- */

int aws_enc_move_account(const struct aws_move_account_req *rq,
                         struct aws_wire *w)
{
  if (!rq->account_id || !rq->source_parent_id || !rq->destination_parent_id)
    return OP_EINVAL;
  return aws_json11_request(
      w, ORGS, "MoveAccount",
      json_pack("{s:s,s:s,s:s}", "AccountId", rq->account_id, "SourceParentId",
                rq->source_parent_id, "DestinationParentId",
                rq->destination_parent_id));
}

int aws_dec_move_account(const char *body, size_t len,
                         struct aws_empty_result **out)
{
  return aws_dec_empty_json(body, len, out);
}

int aws_enc_close_account(const struct aws_org_account_id_req *rq,
                          struct aws_wire *w)
{
  if (!rq->account_id)
    return OP_EINVAL;
  return aws_json11_request(w, ORGS, "CloseAccount",
                            json_pack("{s:s}", "AccountId", rq->account_id));
}

int aws_dec_close_account(const char *body, size_t len,
                          struct aws_empty_result **out)
{
  return aws_dec_empty_json(body, len, out);
}

/* ---- ListParents / ListChildren ----------------------------------------- */

int aws_enc_list_parents(const struct aws_list_parents_req *rq,
                         struct aws_wire *w)
{
  json_t *b;

  if (!rq->child_id)
    return OP_EINVAL;
  b = json_pack("{s:s}", "ChildId", rq->child_id);
  page(b, rq->next_token, rq->max_results);
  return aws_json11_request(w, ORGS, "ListParents", b);
}

static int dec_refs(const char *body, size_t len, const char *key,
                    struct aws_org_refs_result **out)
{
  struct aws_org_refs_result *r = util_xcalloc(1, sizeof(*r));
  int rc = list(body, len, key, sizeof(*r->v), ref_item, (void **)&r->v, &r->n,
                &r->next_token);

  if (rc) {
    aws_org_refs_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

int aws_dec_list_parents(const char *body, size_t len,
                         struct aws_org_refs_result **out)
{
  return dec_refs(body, len, "Parents", out);
}

int aws_enc_list_children(const struct aws_list_children_req *rq,
                          struct aws_wire *w)
{
  json_t *b;

  if (!rq->parent_id || !rq->child_type)
    return OP_EINVAL;
  b = json_pack("{s:s,s:s}", "ParentId", rq->parent_id, "ChildType",
                rq->child_type);
  page(b, rq->next_token, rq->max_results);
  return aws_json11_request(w, ORGS, "ListChildren", b);
}

int aws_dec_list_children(const char *body, size_t len,
                          struct aws_org_refs_result **out)
{
  return dec_refs(body, len, "Children", out);
}

void aws_org_refs_result_free(struct aws_org_refs_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].id);
    free(r->v[i].type);
  }
  free(r->v);
  free(r->next_token);
  free(r);
}

/* ---- OUs ---------------------------------------------------------------- */

int aws_enc_create_organizational_unit(const struct aws_create_ou_req *rq,
                                       struct aws_wire *w)
{
  json_t *b;

  if (!rq->parent_id || !rq->name)
    return OP_EINVAL;
  b = json_pack("{s:s,s:s}", "ParentId", rq->parent_id, "Name", rq->name);
  if (rq->ntags)
    json_object_set_new(b, "Tags", aws_js_tags_new(rq->tags, rq->ntags));
  return aws_json11_request(w, ORGS, "CreateOrganizationalUnit", b);
}

int aws_dec_create_organizational_unit(const char *body, size_t len,
                                       struct aws_org_ou_result **out)
{
  struct aws_org_ou_result *r = util_xcalloc(1, sizeof(*r));
  int rc = one(body, len, "OrganizationalUnit", ou_item, &r->ou);

  if (rc) {
    aws_org_ou_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_org_ou_result_free(struct aws_org_ou_result *r)
{
  if (!r)
    return;
  ou_clean(&r->ou);
  free(r);
}

int aws_enc_list_organizational_units_for_parent(
    const struct aws_list_ous_req *rq, struct aws_wire *w)
{
  json_t *b;

  if (!rq->parent_id)
    return OP_EINVAL;
  b = json_pack("{s:s}", "ParentId", rq->parent_id);
  page(b, rq->next_token, rq->max_results);
  return aws_json11_request(w, ORGS, "ListOrganizationalUnitsForParent", b);
}

int aws_dec_list_organizational_units_for_parent(
    const char *body, size_t len, struct aws_org_ous_result **out)
{
  struct aws_org_ous_result *r = util_xcalloc(1, sizeof(*r));
  int rc = list(body, len, "OrganizationalUnits", sizeof(*r->v), ou_item,
                (void **)&r->v, &r->n, &r->next_token);

  if (rc) {
    aws_org_ous_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_org_ous_result_free(struct aws_org_ous_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    ou_clean(&r->v[i]);
  free(r->v);
  free(r->next_token);
  free(r);
}

/* ---- tags --------------------------------------------------------------- */

int aws_enc_org_tag_resource(const struct aws_org_tag_req *rq,
                             struct aws_wire *w)
{
  if (!rq->resource_id || !rq->ntags)
    return OP_EINVAL;
  return aws_json11_request(w, ORGS, "TagResource",
                            json_pack("{s:s,s:o}", "ResourceId",
                                      rq->resource_id, "Tags",
                                      aws_js_tags_new(rq->tags, rq->ntags)));
}

int aws_dec_org_tag_resource(const char *body, size_t len,
                             struct aws_empty_result **out)
{
  return aws_dec_empty_json(body, len, out);
}

int aws_enc_org_untag_resource(const struct aws_org_untag_req *rq,
                               struct aws_wire *w)
{
  if (!rq->resource_id || !rq->nkeys)
    return OP_EINVAL;
  return aws_json11_request(
      w, ORGS, "UntagResource",
      json_pack("{s:s,s:o}", "ResourceId", rq->resource_id, "TagKeys",
                aws_js_strs_new(rq->tag_keys, rq->nkeys)));
}

int aws_dec_org_untag_resource(const char *body, size_t len,
                               struct aws_empty_result **out)
{
  return aws_dec_empty_json(body, len, out);
}

int aws_enc_org_list_tags_for_resource(const struct aws_org_list_tags_req *rq,
                                       struct aws_wire *w)
{
  json_t *b;

  if (!rq->resource_id)
    return OP_EINVAL;
  b = json_pack("{s:s}", "ResourceId", rq->resource_id);
  page(b, rq->next_token, 0);
  return aws_json11_request(w, ORGS, "ListTagsForResource", b);
}

int aws_dec_org_list_tags_for_resource(const char *body, size_t len,
                                       struct aws_tags_result **out)
{
  struct aws_tags_result *r = util_xcalloc(1, sizeof(*r));
  int rc = list(body, len, "Tags", sizeof(*r->v), tag_item, (void **)&r->v,
                &r->n, &r->next_token);

  if (rc) {
    aws_tags_result_free(r);
    return rc;
  }
  r->is_truncated = r->next_token != NULL;
  *out = r;
  return 0;
}
