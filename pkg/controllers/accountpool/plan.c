/* AccountPool plan (see plan.h). */
#include "controllers/accountpool/plan.h"

#include <stdio.h>
#include <string.h>

#include "controllers/account/plan.h"
#include "controllers/common/names.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

static const char *const fields[] = {
  "poolSize",          "unclaimedAccounts",   "claimedAccounts",
  "availableAccounts", "accountsProgressing", "accountsPending",
  "awsLimitDelta",
};

const char *pool_action_name(enum pool_action a)
{
  static const char *const n[] = { "done", "update-status", "create-account" };

  return (unsigned)a < 3 ? n[a] : "?";
}

void pool_step_init(struct pool_step *s)
{
  memset(s, 0, sizeof(*s));
}

void pool_step_cleanup(struct pool_step *s)
{
  json_decref(s->object_new);
  memset(s, 0, sizeof(*s));
}

bool pool_owns(const struct opcfg *cfg, const json_t *pool, const json_t *a)
{
  if (!obj_owner_name(a, "AccountPool") &&
      str_empty(obj_str(a, "spec.accountPool")))
    return false;
  return opcfg_pool_match(cfg, obj_str(a, "spec.accountPool"), obj_name(pool));
}

static bool in_pool(const struct pool_snap *sn, const json_t *a)
{
  return pool_owns(sn->cfg, sn->pool, a);
}

void pool_count_one(const json_t *a, struct pool_counts *c)
{
  const char *st = obj_str0(a, "status.state");
  bool ever = !str_empty(obj_str(a, "spec.legalEntity.id")) ||
              obj_bool(a, "status.reused");

  if (ever)
    c->claimed++;
  else if (!acct_state_failed(st))
    c->unclaimed++;
  if (!ever && str_eq(st, ACCT_ST_READY))
    c->available++;
  if (str_eq(st, ACCT_ST_CREATING) ||
      str_eq(st, ACCT_ST_PENDING_VERIFICATION) ||
      str_eq(st, ACCT_ST_INIT_REGIONS))
    c->progressing++;
  if (!*st && !ever && !obj_deleting(a))
    c->pending++;
}

void pool_count(const struct pool_snap *sn, struct pool_counts *c)
{
  size_t i;

  memset(c, 0, sizeof(*c));
  if (sn->counted)
    *c = *sn->counted;
  for (i = 0; !sn->counted && i < sn->naccounts; i++) {
    if (in_pool(sn, sn->accounts[i]))
      pool_count_one(sn->accounts[i], c);
  }
  c->pool_size = obj_int(sn->pool, "spec.poolSize", 0);
  if (sn->has_total && sn->cfg && sn->cfg->has_account_limit)
    c->aws_limit_delta = sn->cfg->account_limit - sn->total_accounts;
  else /* unknown: keep what the status says */
    c->aws_limit_delta = obj_int(sn->pool, "status.awsLimitDelta", 0);
}

static json_t *status_new(const struct pool_counts *c)
{
  const long long v[] = { c->pool_size,      c->unclaimed,   c->claimed,
                          c->available,      c->progressing, c->pending,
                          c->aws_limit_delta };
  json_t *st = json_object();
  size_t i;

  for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
    json_object_set_new(st, fields[i], json_integer(v[i]));
  return st;
}

static bool status_differs(const json_t *pool, const json_t *st)
{
  const char *k;
  json_t *v;

  json_object_foreach((json_t *)st, k, v)
  {
    json_t *cur = json_object_get(json_object_get(pool, "status"), k);

    if (!json_is_integer(cur) ||
        json_integer_value(cur) != json_integer_value(v))
      return true;
  }
  return false;
}

json_t *pool_quotas_new(const json_t *src, bool regional)
{
  json_t *out = json_object(), *v;
  const char *k;

  json_object_foreach((json_t *)src, k, v)
  {
    if (regional) {
      json_object_set_new(out, k, pool_quotas_new(v, false));
    } else {
      json_t *q = json_object();

      json_object_set_new(q, "value", json_integer(json_integer_value(v)));
      /* required by the CRD; upstream sends its zero value */
      json_object_set_new(q, "status", json_string(""));
      json_object_set_new(out, k, q);
    }
  }
  return out;
}

static json_t *owner_ref_new(const json_t *pool)
{
  json_t *refs = json_array(), *r = json_object();

  json_object_set_new(r, "apiVersion", json_string(OBJ_API_VERSION));
  json_object_set_new(r, "kind", json_string("AccountPool"));
  json_object_set_new(r, "name", json_string(obj_name(pool)));
  json_object_set_new(r, "uid", json_string(obj_uid(pool)));
  json_object_set_new(r, "controller", json_true());
  json_object_set_new(r, "blockOwnerDeletion", json_true());
  json_array_append_new(refs, r);
  return refs;
}

static json_t *account_new(const struct pool_snap *sn, const char *name)
{
  const struct opcfg_pool *cp = opcfg_pool(sn->cfg, obj_name(sn->pool));
  json_t *a = json_object();

  json_object_set_new(a, "apiVersion", json_string(OBJ_API_VERSION));
  json_object_set_new(a, "kind", json_string("Account"));
  obj_set_str(a, "metadata.name", name);
  /* the pool's own namespace, which is the operator's (--namespace), not
   * the default name: the create request goes there */
  obj_set_str(a, "metadata.namespace", obj_namespace(sn->pool));
  obj_set_label(a, OBJ_LABEL_IAM_USER_ID, sn->name_suffix);
  obj_add_finalizer(a, OBJ_FINALIZER);
  obj_set_new(a, "metadata.ownerReferences", owner_ref_new(sn->pool));
  obj_set_str(a, "spec.awsAccountID", "");
  obj_set_str(a, "spec.iamUserSecret", "");
  obj_set_str(a, "spec.claimLink", "");
  obj_set_str(a, "spec.accountPool", obj_name(sn->pool));
  if (cp && json_object_size(cp->servicequotas))
    obj_set_new(a, "spec.regionalServiceQuotas",
                pool_quotas_new(cp->servicequotas, true));
  if (cp && json_object_size(cp->globalservicequotas))
    obj_set_new(a, "spec.globalServiceQuotas",
                pool_quotas_new(cp->globalservicequotas, false));
  return a;
}

static bool suffix_ok(const char *s)
{
  size_t i;

  for (i = 0; s && s[i]; i++) {
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
      return false;
  }
  return s && i == NAMES_SUFFIX_LEN;
}

static int plan_create(const struct pool_snap *sn, struct pool_step *s)
{
  char name[64];

  if (!sn->limit_allows) {
    s->requeue_ms = 5 * PLAN_MIN;
    str_copy(s->why, "account limit reached", sizeof(s->why));
    return 0;
  }
  if (!sn->cfg) {
    s->requeue_ms = 30 * PLAN_SEC;
    str_copy(s->why, "operator configmap missing or invalid", sizeof(s->why));
    return 0;
  }
  if (!suffix_ok(sn->name_suffix))
    return OP_EINVAL;
  names_account_name(sn->name_suffix, name, sizeof(name));
  s->action = POOL_CREATE_ACCOUNT;
  s->object_new = account_new(sn, name);
  str_copy(s->why, "pool below size", sizeof(s->why));
  plan_event_set(&s->event, "Normal", "AccountCreated",
                 "Account %s created to fill the pool", name);
  return 0;
}

const char *pool_invalid(const json_t *pool)
{
  const json_t *n = obj_get(pool, "spec.poolSize");

  if (!json_is_integer(n))
    return "spec.poolSize must be an integer: no accounts are created";
  if (json_integer_value(n) < 0)
    return "spec.poolSize must not be negative: no accounts are created";
  return NULL;
}

/* Counters changed: write them now, or (written just before) plan on and
 * come back when the write may go. True when the write is the step. */
static bool plan_status(const struct pool_snap *sn, struct pool_step *s,
                        uint64_t *later)
{
  json_t *st = status_new(&s->counts);

  if (!status_differs(sn->pool, st)) {
    json_decref(st);
    return false;
  }
  if (sn->status_wait_ms) {
    *later = sn->status_wait_ms;
    json_decref(st);
    return false;
  }
  s->action = POOL_UPDATE_STATUS;
  s->object_new = obj_copy_new(sn->pool);
  if (json_is_object(obj_get(s->object_new, "status"))) {
    json_object_update(obj_get_mut(s->object_new, "status"), st);
    json_decref(st);
  } else {
    obj_set_new(s->object_new, "status", st);
  }
  str_copy(s->why, "status counters changed", sizeof(s->why));
  return true;
}

static int plan_fill(const struct pool_snap *sn, struct pool_step *s)
{
  const struct pool_counts *c = &s->counts;

  if (pool_invalid(sn->pool)) {
    str_copy(s->why, pool_invalid(sn->pool), sizeof(s->why));
    plan_event_set(&s->event, "Warning", "InvalidAccountPool", "%s",
                   pool_invalid(sn->pool));
    return 0;
  }
  if (c->available + c->progressing + c->pending >= c->pool_size) {
    str_copy(s->why, "pool full", sizeof(s->why));
    return 0;
  }
  return plan_create(sn, s);
}

int pool_plan(const struct pool_snap *sn, struct pool_step *s)
{
  struct pool_counts *c = &s->counts;
  uint64_t later = 0;
  int rc;

  pool_step_init(s);
  if (!sn || !sn->pool)
    return OP_EINVAL;
  if (obj_deleting(sn->pool) || obj_paused(sn->pool)) {
    str_copy(s->why, "pool deleting or paused", sizeof(s->why));
    return 0;
  }
  pool_count(sn, c);
  if (sn->unseen_creations) {
    /* Neither the counters nor a creation may be based on a cache that
     * misses our own creations; their ADDED events requeue the pool. */
    s->requeue_ms = PLAN_SEC;
    snprintf(s->why, sizeof(s->why),
             "waiting for %zu created Account(s) to reach the cache",
             sn->unseen_creations);
    return 0;
  }
  if (plan_status(sn, s, &later))
    return 0;
  rc = plan_fill(sn, s);
  if (later && (!s->requeue_ms || s->requeue_ms > later))
    s->requeue_ms = later;
  return rc;
}
