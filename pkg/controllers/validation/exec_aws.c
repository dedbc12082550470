/* AccountValidation executor: READ, MOVE and TAG against Organizations
 * with the management credentials. Each ends in one struct val_obs (READ:
 * the tags as the observation's aux object). */
#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "aws/core/errors.h"
#include "controllers/validation/exec_int.h"
#include "util/err.h"
#include "util/str.h"

struct val_call {
  struct val_job *j;
  struct val_exec *e;
  struct aws_target t;
  struct val_obs obs;
  json_t *tags; /* READ: what ListTagsForResource returned */
};

static void call_end(struct val_call *c, int err, const struct aws_error *ae)
{
  struct val_job *j = c->j;
  json_t *aux = NULL;

  c->obs.result = err;
  if (ae && ae->code[0] && !c->obs.aws_code[0])
    str_copy(c->obs.aws_code, ae->code, sizeof(c->obs.aws_code));
  c->obs.at = val__now(c->e);
  if (c->obs.action == VAL_READ && !err) {
    c->obs.read_at = c->obs.at;
    aux = c->tags;
    c->tags = NULL;
  }
  if (c->obs.action == VAL_MOVE && err)
    val__ou_forget(c->e);
  json_decref(c->tags);
  exec_job_observed(&j->base, err, c->obs.aws_code, &c->obs, aux);
  free(c);
}

/* ---- READ: tags, parents, expected OU ----------------------------------- */

static int list_tags(struct val_call *c, const char *token);

static void tags_done(int err, const struct aws_error *ae,
                      const struct aws_tags_result *r, void *arg)
{
  struct val_call *c = arg;
  const char *next = NULL;
  int rc;

  if (err) {
    call_end(c, err, ae);
    return;
  }
  for (size_t i = 0; i < r->n; i++) {
    if (r->v[i].key)
      json_object_set_new(c->tags, r->v[i].key,
                          json_string(r->v[i].value ? r->v[i].value : ""));
  }
  if (!aws_page_next_token(r->next_token, &next)) {
    c->obs.tags_read = true;
    call_end(c, 0, NULL);
    return;
  }
  rc = list_tags(c, next);
  if (rc < 0)
    call_end(c, rc, NULL);
}

static int list_tags(struct val_call *c, const char *token)
{
  struct aws_org_list_tags_req rq = { .resource_id = c->j->st.account_id,
                                      .next_token = token };

  if (!c->tags)
    c->tags = json_object();
  return c->e->d.api->org_list_tags_for_resource(c->e->d.api, &c->t, &rq,
                                                 tags_done, c);
}

static void parents_done(int err, const struct aws_error *ae,
                         const struct aws_org_refs_result *r, void *arg)
{
  struct val_call *c = arg;
  int rc = 0;

  if (err) {
    call_end(c, err, ae);
    return;
  }
  /* An account has exactly one parent. */
  if (r->n && r->v[0].id)
    str_copy(c->obs.parent_id, r->v[0].id, sizeof(c->obs.parent_id));
  if (!c->j->st.read_tags) {
    call_end(c, 0, NULL);
    return;
  }
  rc = list_tags(c, NULL);
  if (rc < 0)
    call_end(c, rc, NULL);
}

static int list_parents(struct val_call *c)
{
  struct aws_list_parents_req rq = { .child_id = c->j->st.account_id };

  return c->e->d.api->list_parents(c->e->d.api, &c->t, &rq, parents_done, c);
}

static int list_ous(struct val_call *c, const char *token);

/* Every OU under base goes into the cache: one listing serves every
 * legal entity's accounts. */
static void ous_done(int err, const struct aws_error *ae,
                     const struct aws_org_ous_result *r, void *arg)
{
  struct val_call *c = arg;
  const struct val_step *st = &c->j->st;
  const char *next = NULL, *id;
  int rc;

  if (err) {
    call_end(c, err, ae);
    return;
  }
  for (size_t i = 0; i < r->n; i++) {
    if (r->v[i].name && r->v[i].id)
      val__ou_put(c->e, st->base, r->v[i].name, r->v[i].id);
  }
  if (aws_page_next_token(r->next_token, &next)) {
    rc = list_ous(c, next);
  } else {
    id = val__ou_get(c->e, st->base, st->ou_name);
    if (id)
      str_copy(c->obs.expected_id, id, sizeof(c->obs.expected_id));
    c->obs.expected_missing = !id;
    rc = list_parents(c);
  }
  if (rc < 0)
    call_end(c, rc, NULL);
}

static int list_ous(struct val_call *c, const char *token)
{
  struct aws_list_ous_req rq = { .parent_id = c->j->st.base,
                                 .next_token = token };

  return c->e->d.api->list_organizational_units_for_parent(c->e->d.api, &c->t,
                                                           &rq, ous_done, c);
}

static int read_start(struct val_call *c)
{
  const struct val_step *st = &c->j->st;
  const char *id;

  if (!st->ou_name[0]) {
    str_copy(c->obs.expected_id, st->root, sizeof(c->obs.expected_id));
    return list_parents(c);
  }
  id = val__ou_get(c->e, st->base, st->ou_name);
  if (!id)
    return list_ous(c, NULL);
  str_copy(c->obs.expected_id, id, sizeof(c->obs.expected_id));
  return list_parents(c);
}

/* ---- MOVE, TAG ------------------------------------------------------------
 */

static void move_done(int err, const struct aws_error *ae,
                      const struct aws_empty_result *r, void *arg)
{
  struct val_call *c = arg;

  (void)r;
  if (err && ae && str_eq(ae->code, "DuplicateAccountException")) {
    /* already in the destination (AWS's answer) */
    str_copy(c->obs.aws_code, ae->code, sizeof(c->obs.aws_code));
    err = 0;
  }
  call_end(c, err, ae);
}

static void empty_done(int err, const struct aws_error *ae,
                       const struct aws_empty_result *r, void *arg)
{
  (void)r;
  call_end(arg, err, ae);
}

static int tag_start(struct val_call *c)
{
  const json_t *tags = c->j->st.tags;
  size_t n = json_object_size(tags), i = 0;
  struct aws_tag *v = calloc(n ? n : 1, sizeof(*v));
  struct aws_org_tag_req rq = { .resource_id = c->j->st.account_id };
  const char *k;
  json_t *val;
  int rc;

  if (!v)
    return OP_ENOMEM;
  json_object_foreach((json_t *)tags, k, val)
  {
    v[i].key = k;
    v[i++].value = json_string_value(val);
  }
  rq.tags = v;
  rq.ntags = n;
  /* the request is encoded before the call returns: v may go */
  rc = c->e->d.api->org_tag_resource(c->e->d.api, &c->t, &rq, empty_done, c);
  free(v);
  return rc;
}

static int call_start(struct val_call *c)
{
  const struct val_step *st = &c->j->st;

  switch (st->action) {
  case VAL_READ:
    return read_start(c);
  case VAL_MOVE: {
    struct aws_move_account_req rq = { .account_id = st->account_id,
                                       .source_parent_id = st->src_parent,
                                       .destination_parent_id =
                                           st->dst_parent };

    return c->e->d.api->move_account(c->e->d.api, &c->t, &rq, move_done, c);
  }
  case VAL_TAG:
    return tag_start(c);
  default:
    return OP_EINVAL;
  }
}

int val__start_aws(struct exec_job *b)
{
  struct val_job *j = (struct val_job *)b;
  struct val_exec *e = b->ctl;
  struct aws_creds *mgmt =
      e->d.mgmt_creds ? e->d.mgmt_creds(e->d.creds_arg) : NULL;
  struct val_call *c;
  int rc;

  if (!mgmt || !e->d.api)
    return OP_ENOTFOUND;
  c = calloc(1, sizeof(*c));
  if (!c)
    return OP_ENOMEM;
  c->j = j;
  c->e = e;
  c->t =
      (struct aws_target){ .creds = mgmt, .controller = "accountvalidation" };
  c->obs.action = j->st.action;
  rc = call_start(c);
  if (rc < 0) {
    json_decref(c->tags);
    free(c);
  }
  return rc;
}
