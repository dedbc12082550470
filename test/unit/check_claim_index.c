/* pkg/controllers/accountclaim/exec_index: what one Account event
 * enqueues (through the descriptor's own mapping), the Accounts a claim's
 * snapshot holds, and that a satisfied claim costs no request. */
#include <stdio.h>
#include <string.h>

#include "cache/store.h"
#include "controllers/accountclaim/exec.h"
#include "controllers/common/obj.h"
#include "controllers/exec/written.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define NS "aws-account-operator"
#define TEAM "team"

static struct {
  struct store *claims, *accounts, *cm;
  struct claim_exec *e;
  int nk;              /* Kubernetes requests */
  char updated[128];   /* "resource ns/name" of the last update */
  char link[64];       /* its spec.accountLink */
  char keys[2048][64]; /* the mapping's keys */
  size_t nkeys;
} fx;

static void request(const struct k8s_gvr *g, const json_t *obj)
{
  fx.nk++;
  if (obj) {
    str_fmt(fx.updated, sizeof(fx.updated), "%s %s/%s", g->resource,
            obj_namespace(obj), obj_name(obj));
    str_copy(fx.link, obj_str0(obj, "spec.accountLink"), sizeof(fx.link));
  }
}

static int k_get(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  (void)arg;
  (void)ns;
  (void)name;
  request(g, NULL);
  cb(OP_ENOTFOUND, NULL, NULL, cbarg);
  return 0;
}

static int k_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                    k8s_obj_cb cb, void *cbarg)
{
  (void)arg;
  request(g, obj);
  cb(0, obj, NULL, cbarg);
  return 0;
}

static json_t *account(const char *name, const char *state, bool claimed,
                       const char *claim)
{
  return json_pack(
      "{s:{s:s,s:s,s:s},s:{s:s,s:s,s:s,s:s},s:{s:s,s:b}}", "metadata", "name",
      name, "namespace", NS, "creationTimestamp", "2026-01-01T00:00:00Z",
      "spec", "awsAccountID", "111122223333", "iamUserSecret", "s", "claimLink",
      claim ? claim : "", "claimLinkNamespace", claim ? TEAM : "", "status",
      "state", state, "claimed", claimed);
}

static json_t *claim(const char *name, const char *state, const char *link)
{
  return json_pack("{s:{s:s,s:s,s:s,s:[s]},s:{s:s,s:s,s:{s:s,s:s}},s:{s:s}}",
                   "metadata", "name", name, "namespace", TEAM,
                   "creationTimestamp", "2026-01-01T00:00:00Z", "finalizers",
                   OBJ_FINALIZER, "spec", "accountLink", link ? link : "",
                   "accountOU", link ? "ou-1" : "", "awsCredentialSecret",
                   "name", "aws", "namespace", TEAM, "status", "state", state);
}

static void put(struct store *s, json_t *o)
{
  ck_assert_int_eq(store_put_new(s, o, NULL), 0);
}

static void setup(void)
{
  struct claim_exec_deps d = { 0 };

  memset(&fx, 0, sizeof(fx));
  fx.claims = store_new(0);
  fx.accounts = store_new(STORE_COMPACT); /* as the manager's */
  fx.cm = store_new(0);
  put(fx.cm, json_pack("{s:{s:s,s:s},s:{s:s,s:s,s:s}}", "metadata", "name",
                       "aws-account-operator-configmap", "namespace", NS,
                       "data", "root", "r-1", "base", "ou-base", "accountpool",
                       "hive:\n  default: true\n"));
  d.kio = (struct exec_kio){ .get = k_get, .update = k_update };
  d.claims = fx.claims;
  d.accounts = fx.accounts;
  d.configmap = fx.cm;
  d.ns = NS;
  fx.e = claim_exec_new(&d);
  ck_assert_ptr_nonnull(fx.e);
}

static void teardown(void)
{
  claim_exec_free(fx.e);
  store_free(fx.claims);
  store_free(fx.accounts);
  store_free(fx.cm);
}

static void add_key(const char *key, void *arg)
{
  (void)arg;
  if (fx.nkeys < sizeof(fx.keys) / sizeof(fx.keys[0]))
    str_copy(fx.keys[fx.nkeys++], key, sizeof(fx.keys[0]));
}

/* The claim controller's mapping of an Account event. */
static void account_event(const char *name)
{
  char key[STORE_KEY_MAX];

  str_fmt(key, sizeof(key), NS "/%s", name);
  fx.nkeys = 0;
  ctrl_map_keys(claim_desc.watches[0].map, fx.e, store_get(fx.accounts, key),
                add_key, NULL);
}

static bool mapped(const char *key)
{
  for (size_t i = 0; i < fx.nkeys; i++)
    if (str_eq(fx.keys[i], key))
      return true;
  return false;
}

/* 1,000 unlinked Ready (fake) claims beside 3 Pending ones: a free
 * Account wakes only the Pending ones. */
START_TEST(free_account_enqueues_only_the_waiting)
{
  char name[32];

  for (int i = 0; i < 1000; i++) {
    str_fmt(name, sizeof(name), "ready-%04d", i);
    put(fx.claims, claim(name, "Ready", NULL));
  }
  put(fx.claims, claim("p1", "Pending", NULL));
  put(fx.claims, claim("p2", "Pending", NULL));
  put(fx.claims, claim("new", "", NULL));
  put(fx.accounts, account("free", "Ready", false, NULL));
  account_event("free");
  ck_assert_uint_eq(fx.nkeys, 3);
  ck_assert(mapped(TEAM "/p1") && mapped(TEAM "/p2") && mapped(TEAM "/new"));
}
END_TEST

/* A claimed Account (or one not Ready) cannot satisfy a waiting claim:
 * only the claims linked to it are enqueued. */
START_TEST(busy_account_enqueues_only_its_claims)
{
  put(fx.claims, claim("p1", "Pending", NULL));
  put(fx.claims, claim("mine", "Ready", "busy"));
  put(fx.claims, claim("other", "Ready", "elsewhere"));
  put(fx.accounts, account("busy", "Ready", true, "mine"));
  put(fx.accounts, account("creating", "Creating", false, NULL));
  account_event("busy");
  ck_assert(mapped(TEAM "/mine"));
  ck_assert(!mapped(TEAM "/p1") && !mapped(TEAM "/other"));
  account_event("creating");
  ck_assert_uint_eq(fx.nkeys, 0);
}
END_TEST

/* The indexes follow the store: a claim that got its account stops
 * waiting. */
START_TEST(linked_claim_stops_waiting)
{
  put(fx.claims, claim("p1", "Pending", NULL));
  put(fx.accounts, account("free", "Ready", false, NULL));
  account_event("free");
  ck_assert_uint_eq(fx.nkeys, 1);
  put(fx.claims, claim("p1", "Pending", "free"));
  put(fx.accounts, account("free", "Ready", true, "p1"));
  account_event("free");
  ck_assert(mapped(TEAM "/p1"));
  put(fx.claims, claim("p2", "Pending", NULL));
  account_event("free");
  ck_assert(!mapped(TEAM "/p2"));
}
END_TEST

static void done(void *arg, const char *key, const struct ctrl_result *r)
{
  (void)arg;
  (void)key;
  (void)r;
}

static int reconcile(const char *key)
{
  struct ctrl_result out;

  fx.nk = 0;
  fx.updated[0] = 0;
  return claim_exec_reconcile(fx.e, key, &out, done, NULL);
}

/* A bound, satisfied claim: planned from the caches alone. */
START_TEST(satisfied_claim_makes_no_request)
{
  put(fx.accounts, account("a1", "Ready", true, "c1"));
  put(fx.claims, claim("c1", "Ready", "a1"));
  ck_assert_int_eq(reconcile(TEAM "/c1"), 0);
  ck_assert_int_eq(fx.nk, 0);
}
END_TEST

/* The snapshot's free Accounts (an index, not the fleet) still lead a
 * Pending claim to the one free Account among claimed ones. */
START_TEST(pending_claim_takes_the_free_account)
{
  char name[32], cn[32];

  for (int i = 0; i < 200; i++) {
    str_fmt(name, sizeof(name), "busy-%03d", i);
    str_fmt(cn, sizeof(cn), "c-%03d", i);
    put(fx.accounts, account(name, "Ready", true, cn));
  }
  put(fx.accounts, account("free", "Ready", false, NULL));
  put(fx.claims, claim("p1", "Pending", NULL));
  ck_assert_int_ge(reconcile(TEAM "/p1"), 0);
  ck_assert_str_eq(fx.updated, "accountclaims " TEAM "/p1");
  /* linked on its side: the reservation of that account follows */
  put(fx.claims, claim("p1", "Pending", "free"));
  ck_assert_int_ge(reconcile(TEAM "/p1"), 0);
  ck_assert_str_eq(fx.updated, "accounts " NS "/free");
}
END_TEST

/* A pool of 300 free Accounts, 100 of each age (creationTimestamp has
 * seconds: the pool creates many in one): the snapshot decodes them in
 * age and name order up to the first the claim may take (here the second:
 * the first has no IAM user yet), not the pool, and the claim links it. */
START_TEST(pending_claim_decodes_the_oldest_free_accounts_only)
{
  char name[32], ts[32];
  json_t *a;

  for (int i = 0; i < 300; i++) {
    str_fmt(name, sizeof(name), "a-%03d", 299 - i); /* names against age */
    str_fmt(ts, sizeof(ts), "2026-01-01T00:00:%02dZ", i / 100);
    a = account(name, "Ready", false, NULL);
    obj_set_str(a, "metadata.creationTimestamp", ts);
    if (i == 99) /* a-200: the first of the oldest by name */
      obj_set_str(a, "spec.iamUserSecret", "");
    put(fx.accounts, a);
  }
  store_trim(fx.accounts);
  put(fx.claims, claim("p1", "Pending", NULL));
  ck_assert_int_ge(reconcile(TEAM "/p1"), 0);
  ck_assert_str_eq(fx.updated, "accountclaims " TEAM "/p1");
  ck_assert_str_eq(fx.link, "a-201");
  ck_assert_uint_le(store_hot(fx.accounts), 2);
}
END_TEST

static json_t *of_entity(json_t *o, const char *le, bool reused)
{
  obj_set_str(o, "spec.legalEntity.id", le);
  if (reused)
    obj_set_new(o, "status.reused", json_true());
  return o;
}

/* An Account reused by a legal entity goes back to that entity's claims
 * (before any older fresh one); another entity's claim takes the oldest
 * fresh one and never the reused one. */
START_TEST(reused_account_goes_to_its_legal_entity)
{
  json_t *a = account("fresh", "Ready", false, NULL);

  put(fx.accounts, a);
  a = account("reused", "Ready", false, NULL);
  obj_set_str(a, "metadata.creationTimestamp", "2026-01-02T00:00:00Z");
  put(fx.accounts, of_entity(a, "le-1", true));
  put(fx.claims, of_entity(claim("p1", "Pending", NULL), "le-1", false));
  put(fx.claims, of_entity(claim("p2", "Pending", NULL), "le-2", false));
  ck_assert_int_ge(reconcile(TEAM "/p1"), 0);
  ck_assert_str_eq(fx.link, "reused");
  ck_assert_int_ge(reconcile(TEAM "/p2"), 0);
  ck_assert_str_eq(fx.link, "fresh");
}
END_TEST

static json_t *at_rv(json_t *o, const char *rv)
{
  obj_set_str(o, "metadata.resourceVersion", rv);
  return o;
}

/* The claim controller's own Account writes, newer than the cache, are
 * what its snapshot sees: an account it gave another claim is not free,
 * and one it reserved for this claim is linked (no second reservation). */
START_TEST(snapshot_sees_its_own_account_writes)
{
  struct exec_written *w = claim_exec_written(fx.e);
  json_t *mine;

  put(fx.accounts, at_rv(account("a0", "Ready", false, NULL), "5"));
  put(fx.accounts, at_rv(account("a1", "Ready", false, NULL), "5"));
  mine = at_rv(account("a0", "Ready", false, "other"), "6");
  ck_assert_int_eq(exec_written_put(w, "accounts", mine, 1e9), 0);
  json_decref(mine);
  put(fx.claims, claim("p1", "Pending", NULL));
  ck_assert_int_ge(reconcile(TEAM "/p1"), 0);
  ck_assert_str_eq(fx.updated, "accountclaims " TEAM "/p1");
  ck_assert_str_eq(fx.link, "a1");
  /* p2 linked a1 and reserved it; the informer has not seen that yet */
  mine = at_rv(account("a1", "Ready", false, "p2"), "7");
  ck_assert_int_eq(exec_written_put(w, "accounts", mine, 1e9), 0);
  json_decref(mine);
  put(fx.claims, claim("p2", "Pending", "a1"));
  ck_assert_int_ge(reconcile(TEAM "/p2"), 0);
  ck_assert_str_eq(fx.updated, "accountclaims " TEAM "/p2"); /* next step */
  /* the informer caught up with a0 (version 6): the cache again */
  put(fx.accounts, at_rv(account("a0", "Ready", false, NULL), "6"));
  put(fx.claims, claim("p3", "Pending", NULL));
  ck_assert_int_ge(reconcile(TEAM "/p3"), 0);
  ck_assert_str_eq(fx.link, "a0");
}
END_TEST

static Suite *claim_index_suite(void)
{
  Suite *s = suite_create("claim_index");
  TCase *tc = tcase_create("index");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, free_account_enqueues_only_the_waiting);
  tcase_add_test(tc, busy_account_enqueues_only_its_claims);
  tcase_add_test(tc, linked_claim_stops_waiting);
  tcase_add_test(tc, satisfied_claim_makes_no_request);
  tcase_add_test(tc, pending_claim_takes_the_free_account);
  tcase_add_test(tc, pending_claim_decodes_the_oldest_free_accounts_only);
  tcase_add_test(tc, reused_account_goes_to_its_legal_entity);
  tcase_add_test(tc, snapshot_sees_its_own_account_writes);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(claim_index_suite)
