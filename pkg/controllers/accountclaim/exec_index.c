/* AccountClaim controller: the cache indexes that keep one event and one
 * reconcile independent of the fleet's size. On the claims: by
 * spec.accountLink, and the claims waiting for an account (unlinked,
 * not Ready). On the Accounts: by the claim they link
 * (claimLinkNamespace/claimLink), and the free ones (Ready, unclaimed,
 * unlinked), the only ones a waiting claim can take. */
#include <stdlib.h>
#include <string.h>

#include "cache/store.h"
#include "controllers/accountclaim/exec_int.h"
#include "controllers/common/obj.h"
#include "controllers/exec/written.h"
#include "util/err.h"
#include "util/str.h"

#define IX_LINK "claim.accountLink"
#define IX_WAITING "claim.waiting"
#define IX_BY_CLAIM "claim.account.byClaim"
#define IX_FREE "claim.account.free"

static void ix_link(const json_t *c, struct store_values *out, void *arg)
{
  const char *link = obj_str(c, "spec.accountLink");

  (void)arg;
  if (!str_empty(link))
    store_values_add(out, link);
}

/* Takes an account from the pool: unlinked, not CCS (which creates its
 * own Account). */
static bool takes_free(const json_t *c)
{
  return str_empty(obj_str(c, "spec.accountLink")) &&
         !obj_bool(c, "spec.byoc") && !obj_bool(c, "spec.manualSTSMode");
}

/* Still waiting for one: live and not Ready (a Ready claim without a
 * link is a fake claim, which never takes one). */
static bool waiting(const json_t *c)
{
  return takes_free(c) && !obj_deleting(c) &&
         !str_eq(obj_str(c, "status.state"), "Ready");
}

/* The plan may pick a free account: unlinked, or linked but not served
 * yet (the link comes before the reservation, which may lose a race). */
static bool snap_free(const json_t *c)
{
  return takes_free(c) || (!obj_deleting(c) && !obj_bool(c, "spec.byoc") &&
                           !obj_bool(c, "spec.manualSTSMode") &&
                           !str_eq(obj_str(c, "status.state"), "Ready"));
}

static void ix_waiting(const json_t *c, struct store_values *out, void *arg)
{
  (void)arg;
  if (waiting(c))
    store_values_add(out, "1");
}

static void ix_by_claim(const json_t *a, struct store_values *out, void *arg)
{
  const char *n = obj_str(a, "spec.claimLink");
  const char *ns = obj_str(a, "spec.claimLinkNamespace");
  char key[STORE_KEY_MAX];

  (void)arg;
  if (!str_empty(n) && !str_empty(ns) &&
      str_fmt(key, sizeof(key), "%s/%s", ns, n) >= 0)
    store_values_add(out, key);
}

bool claim__account_free(const json_t *a)
{
  return str_eq(obj_str(a, "status.state"), "Ready") &&
         !obj_bool(a, "status.claimed") &&
         str_empty(obj_str(a, "spec.claimLink"));
}

/* Free accounts by what a claim may take of them: a fresh one by its age
 * ("f/" and creationTimestamp: RFC 3339 in UTC sorts as time does), a
 * reused one by its legal entity ("r/" and the id: only a claim of that
 * entity takes it). A claim's snapshot then decodes the oldest fresh ones
 * up to the first it may take, not every free one (claim_pick_account). */
static void ix_free(const json_t *a, struct store_values *out, void *arg)
{
  char v[STORE_KEY_MAX];

  (void)arg;
  if (!claim__account_free(a))
    return;
  if (obj_bool(a, "status.reused"))
    str_fmt(v, sizeof(v), "r/%s", obj_str0(a, "spec.legalEntity.id"));
  else
    str_fmt(v, sizeof(v), "f/%s", obj_str0(a, "metadata.creationTimestamp"));
  store_values_add(out, v);
}

static int add(struct store *s, const char *name, store_index_fn fn)
{
  int rc = s ? store_add_index(s, name, fn, NULL) : 0;

  return rc == OP_EEXIST ? 0 : rc;
}

int claim__index_install(struct store *claims, struct store *accounts)
{
  int rc = add(claims, IX_LINK, ix_link);

  if (!rc)
    rc = add(claims, IX_WAITING, ix_waiting);
  if (!rc)
    rc = add(accounts, IX_BY_CLAIM, ix_by_claim);
  if (!rc)
    rc = add(accounts, IX_FREE, ix_free);
  return rc;
}

static void keys_of(const struct store *s, const char *ix, const char *value,
                    struct ctrl_keys *out)
{
  size_t i, n = 0;
  char **keys = s ? store_index_keys_new(s, ix, value, &n) : NULL;

  for (i = 0; i < n; i++)
    ctrl_keys_add(out, keys[i]);
  store_keys_free(keys, n);
}

/* A changed Account matters to the claims linked to it by
 * spec.accountLink and, when it is free, to the claims waiting for one
 * (the Account's claimLink leads to its own claim, claim_desc). */
void claim__account_to_waiting(const json_t *a, struct ctrl_keys *out,
                               void *arg)
{
  struct claim_exec *e = arg;

  keys_of(e->d.claims, IX_LINK, obj_name(a), out);
  if (claim__account_free(a))
    keys_of(e->d.claims, IX_WAITING, "1", out);
}

size_t claim__waiting_count(const struct claim_exec *e)
{
  return e->d.claims ? store_index_count(e->d.claims, IX_WAITING, "1") : 0;
}

/* The cache's Account, or this controller's own newer write of it. */
static const json_t *account_view(const struct claim_exec *e, const json_t *a)
{
  return exec_written_view(exec_runner_written(e->run),
                           exec_gvr_accounts.resource, obj_namespace(a),
                           obj_name(a), a);
}

static const json_t *named(const void *arg, const char *name)
{
  const struct claim_exec *e = arg;
  char key[STORE_KEY_MAX];
  const json_t *a;

  if (!e->d.accounts || str_empty(name) ||
      str_fmt(key, sizeof(key), "%s/%s", e->ns, name) < 0)
    return NULL;
  a = store_get(e->d.accounts, key);
  return a ? account_view(e, a) : NULL;
}

static bool linked(const json_t *a, const json_t *claim)
{
  return str_eq(obj_str(a, "spec.claimLink"), obj_name(claim)) &&
         str_eq(obj_str(a, "spec.claimLinkNamespace"), obj_namespace(claim));
}

static bool listed(const json_t *const *v, size_t n, const json_t *a)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (str_eq(obj_name(v[i]), obj_name(a)))
      return true;
  return false;
}

/* The snapshot's Accounts as this controller last wrote them, and those
 * its own writes linked to the claim before the informer saw them. */
static int overlay_accounts(struct claim_exec *e, struct claim_snap *sn)
{
  struct exec_written *w = exec_runner_written(e->run);
  const json_t **v = (const json_t **)sn->accounts, **grown;
  const json_t *a;
  size_t i, it = 0;

  for (i = 0; i < sn->naccounts; i++)
    v[i] = account_view(e, v[i]);
  while (exec_written_next(w, exec_gvr_accounts.resource, &it, &a)) {
    if (!linked(a, sn->claim) || listed(v, sn->naccounts, a))
      continue;
    /* named() may drop the entry (the cache caught up): use its answer */
    a = named(e, obj_name(a));
    if (!a || !linked(a, sn->claim))
      continue;
    grown = realloc((void *)v, (sn->naccounts + 2) * sizeof(*v));
    if (!grown)
      return OP_ENOMEM;
    v = grown;
    sn->accounts = v;
    v[sn->naccounts++] = a;
  }
  return 0;
}

/* The free Accounts are for a claim that may still pick one; one whose
 * linked account names it back (reserved), or that it may reserve now,
 * picks no other, and each free one would be decoded from a compact
 * cache on every pass of its steps. */
static bool needs_free(const struct claim_exec *e, const struct claim_snap *sn)
{
  const json_t *c = sn->claim, *a;

  if (!snap_free(c))
    return false;
  a = named(e, obj_str(c, "spec.accountLink"));
  return !a || !(linked(a, c) || claim_may_take(sn, a));
}

/* The fresh accounts' ages (index values), oldest first. */
struct ages {
  char **v;
  size_t n, cap;
  bool failed;
};

static void age_add(const char *value, size_t n, void *arg)
{
  struct ages *a = arg;
  char **grown;

  if (!n || strncmp(value, "f/", 2) != 0)
    return;
  if (a->n == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 16;

    if (!(grown = realloc(a->v, cap * sizeof(*grown)))) {
      a->failed = true;
      return;
    }
    a->v = grown;
    a->cap = cap;
  }
  a->v[a->n++] = (char *)value;
}

static int age_cmp(const void *x, const void *y)
{
  return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Name order within one age (claim_pick_account's tie-break). */
static int name_cmp(const void *x, const void *y)
{
  const char *a = *(char *const *)x, *b = *(char *const *)y;
  const char *sa = strchr(a, '/'), *sb = strchr(b, '/');

  return strcmp(sa ? sa + 1 : a, sb ? sb + 1 : b);
}

/* Append the Accounts under one IX_FREE value, in name order; first: stop
 * after the first one the claim may take (*takes). false = out of
 * memory. Only what is appended is decoded. */
static bool append_free(struct claim_exec *e, struct claim_snap *sn,
                        const char *value, bool first, bool *takes)
{
  size_t k, i;
  char **keys = store_index_keys_new(e->d.accounts, IX_FREE, value, &k);
  const json_t **grown, *a;

  if (!keys)
    return true;
  grown =
      realloc((void *)sn->accounts, (sn->naccounts + k + 1) * sizeof(*grown));
  if (grown)
    sn->accounts = grown;
  qsort(keys, k, sizeof(*keys), name_cmp);
  for (i = 0; grown && i < k && !(first && *takes); i++) {
    a = store_get(e->d.accounts, keys[i]);
    if (!a || listed(grown, sn->naccounts, a = account_view(e, a)))
      continue; /* listed: linked by our own write */
    grown[sn->naccounts++] = a;
    *takes = *takes || claim_may_take(sn, a);
  }
  store_keys_free(keys, k);
  return grown != NULL;
}

/* The free accounts claim_pick_account needs: every reused one of the
 * claim's legal entity (preferred, or waited for), and the fresh ones by
 * age and name up to the first the claim may take (the one picked among
 * them). The store is stable meanwhile: the values borrowed stay valid. */
static int snap_free_accounts(struct claim_exec *e, struct claim_snap *sn)
{
  char rv[STORE_KEY_MAX];
  struct ages ages = { 0 };
  bool takes = false, ok;
  size_t i;

  str_fmt(rv, sizeof(rv), "r/%s", obj_str0(sn->claim, "spec.legalEntity.id"));
  ok = append_free(e, sn, rv, false, &takes);
  takes = false; /* a reused one does not end the fresh ones' scan */
  store_index_each(e->d.accounts, IX_FREE, age_add, &ages);
  if (ages.n > 1) /* no free account: ages.v is NULL, which qsort may not get */
    qsort(ages.v, ages.n, sizeof(*ages.v), age_cmp);
  ok = ok && !ages.failed;
  for (i = 0; ok && !takes && i < ages.n; i++)
    ok = append_free(e, sn, ages.v[i], true, &takes);
  free(ages.v);
  return ok ? 0 : OP_ENOMEM;
}

/* The Accounts the plan may scan: those linked to this claim, and the
 * free ones when the claim has no account yet and takes one from the
 * pool (a CCS claim creates its own). Lookups by name go to the cache. */
int claim__snap_accounts(struct claim_exec *e, struct claim_snap *sn)
{
  char key[STORE_KEY_MAX];
  bool keyed = !store_obj_key(sn->claim, key, sizeof(key));
  struct exec_ix q[] = { { keyed ? IX_BY_CLAIM : NULL, key } };
  int rc;

  sn->account_named = named;
  sn->account_arg = e;
  sn->accounts = exec_store_by_index(e->d.accounts, q, 1, &sn->naccounts);
  if (!sn->accounts)
    return OP_ENOMEM;
  rc = overlay_accounts(e, sn);
  if (!rc && e->d.accounts && needs_free(e, sn))
    rc = snap_free_accounts(e, sn);
  return rc;
}
