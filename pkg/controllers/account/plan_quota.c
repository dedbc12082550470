/* Account plan, PendingVerification: service quota requests (upstream
 * 2.1.4), one quota per step, tracked in status as upstream does. */
#include "controllers/account/plan_int.h"

#include <stdlib.h>
#include <string.h>

#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define MAX_IN_FLIGHT 20
#define RETRY_S 30
#define SWEEP_S (10 * 60)

struct qent {
  const char *region; /* "" = global */
  const char *code;
  long long value;
  const char *status;
};

static const char *service_code(const char *code)
{
  static const char *const map[][2] = {
    { "L-0EA8095F", "vpc" },
    { "L-1216C47A", "ec2" },
    { "L-69A177A2", "elasticloadbalancing" },
    { "L-0263D0A3", "ec2" },
    { "L-2AEEBF1A", "vpc" },
    { "L-7A658B76", "ebs" },
    { "L-FE177D64", "iam" },
  };
  size_t i;

  for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
    if (str_eq(code, map[i][0]))
      return map[i][1];
  }
  return "";
}

static json_t *entry_new(const json_t *v)
{
  json_t *e = json_object();

  json_object_set_new(e, "value",
                      json_integer(obj_int(v, "value", json_integer_value(v))));
  json_object_set_new(e, "status", json_string("TODO"));
  return e;
}

static void add_codes(json_t *dst, const json_t *src)
{
  const char *k;
  json_t *v;

  json_object_foreach((json_t *)src, k, v)
  {
    json_object_set_new(dst, k, entry_new(v));
  }
}

void acct__quotas_expand(const struct acct_snap *sn, json_t *status)
{
  const json_t *sr = obj_get(sn->account, "spec.regionalServiceQuotas");
  const json_t *sg = obj_get(sn->account, "spec.globalServiceQuotas");
  const char *txt = obj_annotation(sn->account, ACCT_ANN_REGIONS), *r;
  json_t *regions = txt ? json_loads(txt, 0, NULL) : NULL, *v;
  json_t *reg = json_object(), *glob = json_object();

  json_object_foreach(regions, r, v)
  {
    json_t *m = json_object();

    if (opcfg_region_disabled(sn->cfg, r)) {
      json_decref(m);
      continue;
    }
    add_codes(m, json_object_get(sr, "default"));
    add_codes(m, json_object_get(sr, r));
    if (json_object_size(m))
      json_object_set_new(reg, r, m);
    else
      json_decref(m);
  }
  add_codes(glob, sg);
  json_decref(regions);
  if (json_object_size(reg))
    json_object_set_new(status, "regionalServiceQuotas", reg);
  else
    json_decref(reg);
  if (json_object_size(glob))
    json_object_set_new(status, "globalServiceQuotas", glob);
  else
    json_decref(glob);
}

bool acct_quotas_fill(const json_t *a, const struct opcfg *cfg, json_t *status)
{
  struct acct_snap sn = { .account = a, .cfg = cfg };
  json_t *exp = json_object();
  bool changed = false;
  const char *k;
  json_t *v;

  acct__quotas_expand(&sn, exp);
  json_object_foreach(exp, k, v)
  {
    if (json_object_size(json_object_get(status, k)))
      continue;
    json_object_set(status, k, v);
    changed = true;
  }
  json_decref(exp);
  return changed;
}

static int qcmp(const void *a, const void *b)
{
  const struct qent *x = a, *y = b;
  int c = strcmp(x->region, y->region);

  return c ? c : strcmp(x->code, y->code);
}

static void push(struct qent **v, size_t *n, const char *region,
                 const char *code, const json_t *e)
{
  *v = util_xrealloc(*v, (*n + 1) * sizeof(**v));
  (*v)[*n].region = region;
  (*v)[*n].code = code;
  (*v)[*n].value = obj_int(e, "value", 0);
  (*v)[*n].status = obj_str0(e, "status");
  (*n)++;
}

/* Sorted (region, code) view of the status maps; caller frees. */
static struct qent *flatten(const json_t *a, size_t *n)
{
  const json_t *sr = obj_get(a, "status.regionalServiceQuotas");
  const json_t *sg = obj_get(a, "status.globalServiceQuotas");
  struct qent *v = NULL;
  const char *r, *c;
  json_t *m, *e;

  *n = 0;
  json_object_foreach((json_t *)sr, r, m)
  {
    json_object_foreach(m, c, e)
    {
      push(&v, n, r, c, e);
    }
  }
  json_object_foreach((json_t *)sg, c, e)
  {
    push(&v, n, "", c, e);
  }
  if (*n)
    qsort(v, *n, sizeof(*v), qcmp);
  return v;
}

static void quota_step(const struct acct_snap *sn, struct acct_step *s,
                       const struct qent *q)
{
  acct__aws(s, sn, ACCT_QUOTA, "service quota");
  str_copy(s->region, q->region, sizeof(s->region));
  str_copy(s->quota_code, q->code, sizeof(s->quota_code));
  str_copy(s->service_code, service_code(q->code), sizeof(s->service_code));
  s->quota_value = q->value;
}

static void record(const struct acct_snap *sn, struct acct_step *s,
                   const struct acct_obs *o)
{
  char path[128];

  s->action = ACCT_UPDATE_STATUS;
  s->object_new = obj_copy_new(sn->account);
  if (*o->region)
    str_fmt(path, sizeof(path), "status.regionalServiceQuotas.%s.%s.status",
            o->region, o->quota_code);
  else
    str_fmt(path, sizeof(path), "status.globalServiceQuotas.%s.status",
            o->quota_code);
  obj_set_str(s->object_new, path, o->quota_status);
  str_fmt(s->why, sizeof(s->why), "quota %s/%s: %s", o->region, o->quota_code,
          o->quota_status);
}

/* Position of the observed quota, or n. */
static size_t find(const struct qent *v, size_t n, const struct acct_obs *o)
{
  size_t i;

  for (i = 0; o && i < n; i++) {
    if (str_eq(v[i].region, o->region) && str_eq(v[i].code, o->quota_code))
      return i;
  }
  return n;
}

/* Quotas are re-checked on the support case's poll (upstream's 10 min,
 * or --support-case-poll-interval). */
static time_t sweep_s(const struct acct_snap *sn)
{
  return sn->case_poll_s ? (time_t)sn->case_poll_s : SWEEP_S;
}

/* Next IN_PROGRESS quota to re-check in this sweep, or NULL. */
static const struct qent *sweep(const struct acct_snap *sn,
                                const struct qent *v, size_t n,
                                const struct acct_obs *o)
{
  const struct acct_obs *c = acct__obs(sn, ACCT_DESCRIBE_CASE);
  size_t i = 0;

  if (o)
    i = find(v, n, o) + 1;
  else if (sn->obs && !(c && sn->now - c->at >= sweep_s(sn)))
    return NULL; /* a sweep starts after the case poll wait */
  for (; i < n; i++) {
    if (str_eq(v[i].status, "IN_PROGRESS"))
      return &v[i];
  }
  return NULL;
}

static bool due(const struct acct_snap *sn, struct acct_step *s,
                const struct qent *v, size_t n, size_t inprog)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_QUOTA);
  const struct qent *q;
  size_t i = find(v, n, o);

  if (o && o->result == 0 && i < n && !str_eq(v[i].status, o->quota_status)) {
    record(sn, s, o);
    return true;
  }
  if (o && o->result < 0 && sn->now - o->at < RETRY_S) {
    acct__done(s, (uint64_t)(o->at + RETRY_S - sn->now) * PLAN_SEC,
               "quota retry wait");
    return true;
  }
  for (i = 0; i < n && inprog < MAX_IN_FLIGHT; i++) {
    if (str_eq(v[i].status, "TODO")) {
      quota_step(sn, s, &v[i]);
      return true;
    }
  }
  q = sweep(sn, v, n, o);
  if (q)
    quota_step(sn, s, q);
  return q != NULL;
}

bool acct__plan_quotas(const struct acct_snap *sn, struct acct_step *s,
                       size_t *open)
{
  size_t n, i, inprog = 0;
  struct qent *v = flatten(sn->account, &n);
  bool chosen = false;

  *open = 0;
  for (i = 0; i < n; i++) {
    inprog += str_eq(v[i].status, "IN_PROGRESS");
    *open += str_eq(v[i].status, "IN_PROGRESS") || str_eq(v[i].status, "TODO");
    if (str_eq(v[i].status, "DENIED") && !chosen &&
        !str_eq(obj_str(sn->account, "status.state"), ACCT_ST_READY)) {
      acct__fail(s, sn, ACCT_ST_FAILED, "QuotaIncreaseDenied",
                 "A service quota increase was denied");
      chosen = true;
    }
  }
  if (!chosen)
    chosen = due(sn, s, v, n, inprog);
  free(v);
  return chosen;
}

/* Ready: TODO requests submitted, IN_PROGRESS ones re-checked in sweeps
 * one poll interval apart (the last quota observation's age). */
bool acct__plan_quotas_ready(const struct acct_snap *sn, struct acct_step *s)
{
  const struct acct_obs *o = acct__obs(sn, ACCT_QUOTA);
  struct acct_snap fresh;
  size_t open;

  if (acct__plan_quotas(sn, s, &open))
    return true;
  if (!open)
    return false;
  if (o && sn->now - o->at < sweep_s(sn)) {
    acct__done(s, (uint64_t)(o->at + sweep_s(sn) - sn->now) * PLAN_SEC,
               "quota requests in progress");
    return true;
  }
  /* a new sweep from the first IN_PROGRESS request */
  fresh = *sn;
  fresh.obs = NULL;
  if (acct__plan_quotas(&fresh, s, &open))
    return true;
  acct__done(s, (uint64_t)sweep_s(sn) * PLAN_SEC, "quota requests open");
  return true;
}
