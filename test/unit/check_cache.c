/* pkg/cache: the store (keys, stripping, indexes, relist diff, memory) and
 * the informer state machine against a scripted list/watch source. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache/delta.h"
#include "cache/informer.h"
#include "cache/store.h"
#include "http/httpc.h"
#include "k8s/client.h"
#include "support/testsrv.h"
#include "support/cache_fake.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

static json_t *obj_labels(const char *ns, const char *name, const char *rv,
                          const char *app)
{
  json_t *o = cache_fake_obj_new(ns, name, rv);

  if (app)
    json_object_set_new(json_object_get(o, "metadata"), "labels",
                        json_pack("{s:s, s:s}", "app", app, "tier", "x"));
  return o;
}

static json_t *obj_owned(const char *ns, const char *name, const char *owner)
{
  json_t *o = cache_fake_obj_new(ns, name, "1");

  json_object_set_new(json_object_get(o, "metadata"), "ownerReferences",
                      json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion",
                                "v1", "kind", "Pool", "name", owner, "uid",
                                owner, "controller", 1));
  return o;
}

/* ---- store ------------------------------------------------------------ */

START_TEST(store_put_get_delete)
{
  struct store *s = store_new(0);
  json_t *old = NULL, *o;
  char key[STORE_KEY_MAX];

  ck_assert_int_eq(store_put_new(s, cache_fake_obj_new("ns", "a", "1"), &old),
                   0);
  ck_assert_ptr_null(old);
  ck_assert_str_eq(store_obj_rv(store_get(s, "ns/a")), "1");
  ck_assert_int_eq(store_put_new(s, cache_fake_obj_new("ns", "a", "2"), &old),
                   0);
  ck_assert_str_eq(store_obj_rv(old), "1");
  json_decref(old);
  ck_assert_str_eq(store_obj_rv(store_get(s, "ns/a")), "2");
  ck_assert_uint_eq(store_len(s), 1);
  /* Cluster-scoped objects are keyed by name alone. */
  o = json_pack("{s:{s:s}}", "metadata", "name", "global");
  ck_assert_int_eq(store_obj_key(o, key, sizeof(key)), 0);
  ck_assert_str_eq(key, "global");
  ck_assert_int_eq(store_put_new(s, o, NULL), 0);
  ck_assert_ptr_nonnull(store_get(s, "global"));
  /* Nameless objects are refused (and released). */
  ck_assert_int_eq(store_put_new(s, json_pack("{s:{}}", "metadata"), NULL),
                   OP_EINVAL);
  o = store_delete_take(s, "ns/a");
  ck_assert_ptr_nonnull(o);
  json_decref(o);
  ck_assert_ptr_null(store_delete_take(s, "ns/a"));
  ck_assert_ptr_null(store_get(s, "ns/a"));
  ck_assert_uint_eq(store_len(s), 1);
  store_free(s);
}
END_TEST

START_TEST(store_strips_bookkeeping)
{
  struct store *s = store_new(0), *keep = store_new(STORE_KEEP_LAST_APPLIED);
  json_t *o = cache_fake_obj_new("ns", "a", "1");
  const json_t *m;

  json_object_set_new(json_object_get(o, "metadata"), "managedFields",
                      json_pack("[{s:s}]", "manager", "kubectl"));
  json_object_set_new(json_object_get(o, "metadata"), "annotations",
                      json_pack("{s:s, s:s}", STORE_LAST_APPLIED_ANNOTATION,
                                "{...}", "keep", "me"));
  ck_assert_int_eq(store_put_new(keep, json_deep_copy(o), NULL), 0);
  ck_assert_int_eq(store_put_new(s, o, NULL), 0);
  m = json_object_get(store_get(s, "ns/a"), "metadata");
  ck_assert_ptr_null(json_object_get(m, "managedFields"));
  ck_assert_ptr_null(json_object_get(json_object_get(m, "annotations"),
                                     STORE_LAST_APPLIED_ANNOTATION));
  ck_assert_str_eq(json_string_value(json_object_get(
                       json_object_get(m, "annotations"), "keep")),
                   "me");
  m = json_object_get(store_get(keep, "ns/a"), "metadata");
  ck_assert_ptr_null(json_object_get(m, "managedFields"));
  ck_assert_ptr_nonnull(json_object_get(json_object_get(m, "annotations"),
                                        STORE_LAST_APPLIED_ANNOTATION));
  store_free(s);
  store_free(keep);
}
END_TEST

/* A custom index with 0..N values: spec.claims[] strings. */
static void index_claims(const json_t *obj, struct store_values *out, void *arg)
{
  const json_t *claims =
      json_object_get(json_object_get(obj, "spec"), "claims");
  size_t i;
  json_t *c;

  (void)arg;
  json_array_foreach(claims, i, c)
  {
    store_values_add(out, json_string_value(c));
  }
}

static const char *name_of(const json_t *o)
{
  return json_string_value(
      json_object_get(json_object_get(o, "metadata"), "name"));
}

/* store_index_each: sums the counts it is given per value. */
static void sum_counts(const char *value, size_t n, void *arg)
{
  json_t *sums = arg;

  json_object_set_new(
      sums, value,
      json_integer((json_int_t)n +
                   json_integer_value(json_object_get(sums, value))));
}

/* A counting index follows puts, replacements and deletes like a plain
 * one, keeps no keys, and is read without decoding a compact store. */
START_TEST(store_counters)
{
  struct store *s = store_new(STORE_COMPACT);
  json_t *sums = json_object();
  size_t n;

  ck_assert_int_eq(store_put_new(s, obj_labels("ns", "a", "1", "web"), NULL),
                   0);
  ck_assert_int_eq(store_add_counter(s, "app", store_index_labels, NULL), 0);
  ck_assert_int_eq(store_add_counter(s, "app", store_index_labels, NULL),
                   OP_EEXIST);
  store_put_new(s, obj_labels("ns", "b", "1", "web"), NULL);
  store_put_new(s, obj_labels("ns", "c", "1", "db"), NULL);
  ck_assert_uint_eq(store_index_count(s, "app", "app=web"), 2);
  ck_assert_uint_eq(store_index_count(s, "app", "tier=x"), 3);
  /* a replacement moves the count, a delete removes it */
  store_put_new(s, obj_labels("ns", "a", "2", "db"), NULL);
  json_decref(store_delete_take(s, "ns/c"));
  store_trim(s);
  store_index_each(s, "app", sum_counts, sums);
  ck_assert_int_eq(json_integer_value(json_object_get(sums, "app=web")), 1);
  ck_assert_int_eq(json_integer_value(json_object_get(sums, "app=db")), 1);
  ck_assert_int_eq(json_integer_value(json_object_get(sums, "tier=x")), 2);
  ck_assert_uint_eq(json_object_size(sums), 3);
  ck_assert_uint_eq(store_hot(s), 0); /* nothing decoded to read them */
  /* no key sets behind a counter */
  ck_assert_ptr_null(store_by_index_new(s, "app", "app=web", &n));
  ck_assert_ptr_null(store_index_keys_new(s, "app", "app=web", &n));
  ck_assert_uint_eq(n, 0);
  store_index_each(s, "unknown", sum_counts, sums);
  ck_assert_uint_eq(json_object_size(sums), 3);
  json_decref(sums);
  store_free(s);
}
END_TEST

START_TEST(store_indexes)
{
  struct store *s = store_new(0);
  const json_t **l;
  json_t *o;
  size_t n;

  ck_assert_int_eq(store_put_new(s, obj_labels("ns", "b", "1", "web"), NULL),
                   0);
  ck_assert_int_eq(store_put_new(s, obj_labels("ns", "a", "1", "web"), NULL),
                   0);
  ck_assert_int_eq(store_put_new(s, obj_labels("ns", "c", "1", "db"), NULL), 0);
  /* Added after objects exist: indexes them at once. */
  ck_assert_int_eq(store_add_index(s, "label", store_index_labels, NULL), 0);
  ck_assert_int_eq(store_add_index(s, "label", store_index_labels, NULL),
                   OP_EEXIST);
  ck_assert_int_eq(store_add_index(s, "owner", store_index_owner_uids, NULL),
                   0);
  ck_assert_int_eq(store_add_index(s, "claims", index_claims, NULL), 0);
  l = store_by_index_new(s, "label", "app=web", &n);
  ck_assert_uint_eq(n, 2);
  ck_assert_str_eq(name_of(l[0]), "a"); /* sorted by key */
  ck_assert_str_eq(name_of(l[1]), "b");
  free(l);
  ck_assert_uint_eq(store_index_count(s, "label", "tier=x"), 3);
  /* Labels change: the index follows. */
  store_put_new(s, obj_labels("ns", "a", "2", "db"), NULL);
  ck_assert_uint_eq(store_index_count(s, "label", "app=web"), 1);
  ck_assert_uint_eq(store_index_count(s, "label", "app=db"), 2);
  store_put_new(s, obj_labels("ns", "a", "3", NULL), NULL);
  ck_assert_uint_eq(store_index_count(s, "label", "app=db"), 1);
  ck_assert_uint_eq(store_index_count(s, "label", "tier=x"), 2);
  /* Owners. */
  store_put_new(s, obj_owned("ns", "o1", "pool-uid"), NULL);
  store_put_new(s, obj_owned("ns", "o2", "pool-uid"), NULL);
  ck_assert_uint_eq(store_index_count(s, "owner", "pool-uid"), 2);
  json_decref(store_delete_take(s, "ns/o1"));
  ck_assert_uint_eq(store_index_count(s, "owner", "pool-uid"), 1);
  /* Custom: several values, duplicates collapse, none at all. */
  o = cache_fake_obj_new("ns", "m", "1");
  json_object_set_new(o, "spec",
                      json_pack("{s:[s,s,s]}", "claims", "x", "y", "x"));
  store_put_new(s, o, NULL);
  ck_assert_uint_eq(store_index_count(s, "claims", "x"), 1);
  ck_assert_uint_eq(store_index_count(s, "claims", "y"), 1);
  o = cache_fake_obj_new("ns", "m", "2");
  json_object_set_new(o, "spec", json_pack("{s:[s]}", "claims", "y"));
  store_put_new(s, o, NULL);
  ck_assert_uint_eq(store_index_count(s, "claims", "x"), 0);
  ck_assert_uint_eq(store_index_count(s, "claims", "y"), 1);
  /* Unknown index or value. */
  ck_assert_ptr_null(store_by_index_new(s, "nope", "x", &n));
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_null(store_by_index_new(s, "label", "app=none", &n));
  store_free(s);
}
END_TEST

struct replace_log {
  char added[256], updated[256], vanished[256];
};

static void cat_name(char *dst, const char *name)
{
  size_t n = strlen(dst);

  snprintf(dst + n, 256 - n, "%s,", name);
}

static void rl_added(const json_t *o, void *arg)
{
  cat_name(((struct replace_log *)arg)->added, name_of(o));
}

static void rl_updated(const json_t *o, const json_t *n, void *arg)
{
  (void)o;
  cat_name(((struct replace_log *)arg)->updated, name_of(n));
}

static void rl_vanished(const char *key, const json_t *last, void *arg)
{
  struct replace_log *l = arg;

  ck_assert_str_eq(name_of(last), strchr(key, '/') + 1);
  cat_name(l->vanished, key);
}

/* _i: 0 = decoded store, 1 = STORE_COMPACT. */
START_TEST(store_replace_reports_vanished)
{
  static const struct store_replace_ops ops = { rl_added, rl_updated,
                                                rl_vanished };
  struct store *s = store_new(_i ? STORE_COMPACT : 0);
  struct replace_log log = { 0 };
  json_t *items;

  store_add_index(s, "label", store_index_labels, NULL);
  store_put_new(s, obj_labels("ns", "a", "1", "web"), NULL);
  store_put_new(s, obj_labels("ns", "b", "1", "web"), NULL);
  store_put_new(s, obj_labels("ns", "c", "1", "web"), NULL);
  items = json_pack("[o,o,o]", obj_labels("ns", "b", "2", "db"),
                    obj_labels("ns", "c", "1", "web"),
                    obj_labels("ns", "d", "1", "web"));
  ck_assert_int_eq(store_replace(s, items, &ops, &log), 0);
  json_decref(items);
  ck_assert_str_eq(log.added, "d,");
  ck_assert_str_eq(log.updated, "b,c,");
  ck_assert_str_eq(log.vanished, "ns/a,");
  ck_assert_uint_eq(store_len(s), 3);
  ck_assert_ptr_null(store_get(s, "ns/a"));
  ck_assert_uint_eq(store_index_count(s, "label", "app=web"), 2);
  ck_assert_uint_eq(store_index_count(s, "label", "app=db"), 1);
  ck_assert_uint_eq(store_hot(s), 0); /* released item by item */
  ck_assert_int_eq(store_replace(s, NULL, &ops, &log), OP_EINVAL);
  /* Replace with nothing empties the store. */
  items = json_array();
  ck_assert_int_eq(store_replace(s, items, NULL, NULL), 0);
  json_decref(items);
  ck_assert_uint_eq(store_len(s), 0);
  ck_assert_uint_eq(store_index_count(s, "label", "tier=x"), 0);
  store_free(s);
}
END_TEST

/* A relist gathered page by page: stripped (and, compact, encoded) as it
 * is added, so the caller may drop its pages at once; items that cannot be
 * cached are dropped. _i: 0 = decoded store, 1 = STORE_COMPACT. */
START_TEST(store_relist_in_pages)
{
  static const struct store_replace_ops ops = { rl_added, rl_updated,
                                                rl_vanished };
  struct store *s = store_new(_i ? STORE_COMPACT : 0);
  struct replace_log log = { 0 };
  struct store_relist *r;
  json_t *page = json_pack("[o,o]", obj_labels("ns", "b", "2", "db"),
                           cache_fake_obj_new("ns", "c", "1"));
  json_t *nameless = cache_fake_obj_new("ns", "x", "1"), *item;
  size_t i;

  store_put_new(s, obj_labels("ns", "a", "1", "web"), NULL);
  store_put_new(s, obj_labels("ns", "b", "1", "web"), NULL);
  json_object_set_new(json_object_get(json_array_get(page, 0), "metadata"),
                      "managedFields", json_pack("[{s:s}]", "manager", "k"));
  json_object_del(json_object_get(nameless, "metadata"), "name");
  r = store_relist_new(s);
  json_array_foreach(page, i, item)
  {
    store_relist_add(r, json_incref(item));
  }
  json_decref(page); /* the page is gone before the relist is applied */
  store_relist_add(r, json_string("not an object"));
  store_relist_add(r, nameless);
  ck_assert_uint_eq(store_relist_len(r), 3);
  ck_assert_int_eq(store_relist_apply(s, r, &ops, &log), 0);
  ck_assert_str_eq(log.added, "c,");
  ck_assert_str_eq(log.updated, "b,");
  ck_assert_str_eq(log.vanished, "ns/a,");
  ck_assert_uint_eq(store_len(s), 2);
  ck_assert_uint_eq(store_hot(s), 0);
  ck_assert_ptr_null(json_object_get(
      json_object_get(store_get(s, "ns/b"), "metadata"), "managedFields"));
  ck_assert_str_eq(store_obj_rv(store_get(s, "ns/b")), "2");
  /* An unapplied relist is freed with its items. */
  r = store_relist_new(s);
  store_relist_add(r, cache_fake_obj_new("ns", "d", "1"));
  store_relist_free(r);
  store_relist_free(NULL);
  ck_assert_uint_eq(store_len(s), 2);
  store_free(s);
}
END_TEST

/* A realistic ~2 KiB Account custom resource. */
static json_t *account_obj(int i)
{
  char name[64], uid[64], acct[16];
  json_t *o;

  snprintf(name, sizeof(name), "osd-creds-mgmt-%08d", i);
  snprintf(uid, sizeof(uid), "5f0c7f7e-1a2b-4c3d-9e8f-%012d", i);
  snprintf(acct, sizeof(acct), "%012d", 100000000 + i);
  o = json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:i, s:{s:s, s:s}, s:[s], "
      "s:[{s:s, s:s, s:s, s:s, s:b, s:b}], s:{s:s}}, "
      "s:{s:s, s:s, s:s, s:b, s:b, s:s, s:{s:s}}, "
      "s:{s:s, s:b, s:b, s:b, s:s, s:[{s:s, s:s, s:s, s:s, s:s, s:s}, "
      "{s:s, s:s, s:s, s:s, s:s, s:s}], s:{s:{s:s, s:s}}}}",
      "apiVersion", "aws.managed.openshift.io/v1alpha1", "kind", "Account",
      "metadata", "name", name, "namespace", "aws-account-operator", "uid", uid,
      "resourceVersion", "123456789", "creationTimestamp",
      "2024-01-01T00:00:00Z", "generation", 3, "labels", "hive.openshift.io/",
      "x", "aws.managed.openshift.io/pool", "default", "finalizers",
      "finalizer.aws.managed.openshift.io", "ownerReferences", "apiVersion",
      "aws.managed.openshift.io/v1alpha1", "kind", "AccountPool", "name",
      "default", "uid", "0b7c8d9e-0000-4000-8000-000000000001", "controller", 1,
      "blockOwnerDeletion", 1, "annotations", "note",
      "a moderately long annotation value kept to make the object realistic",
      "spec", "awsAccountID", acct, "iamUserSecret", "osd-creds-mgmt-secret",
      "claimLink", "", "byoc", 0, "manualSTSMode", 0, "legalEntity", "",
      "accountPool", "name", "default", "status", "state", "Ready", "claimed",
      0, "supportCaseID", 0, "rotateCredentials", 0, "reused", "false",
      "conditions", "type", "Ready", "status", "True", "reason", "Ready",
      "message",
      "Account is ready to be claimed by a cluster deployment in any region",
      "lastProbeTime", "2024-01-01T00:10:00Z", "lastTransitionTime",
      "2024-01-01T00:10:00Z", "type", "Creating", "status", "False", "reason",
      "Creating", "message",
      "Attempting to create account via AWS Organizations CreateAccount",
      "lastProbeTime", "2024-01-01T00:00:00Z", "lastTransitionTime",
      "2024-01-01T00:00:00Z", "regionInitialization", "us-east-1", "state",
      "Completed", "message", "region us-east-1 initialized with t3.micro");
  json_object_set_new(json_object_get(o, "metadata"), "managedFields",
                      json_pack("[{s:s, s:s, s:s, s:{s:{s:{}}}}]", "manager",
                                "aws-account-operator", "operation", "Update",
                                "apiVersion", "v1alpha1", "fieldsV1",
                                "f:status", "f:conditions"));
  return o;
}

/* Bytes per object for 10,000 Accounts in a store with flags, or 0 when
 * malloc statistics are unavailable (ASan, valgrind). */
static size_t measure(unsigned flags, size_t *text)
{
  struct mallinfo2 before, after;
  struct store *s;
  size_t per = 0;
  int i;

  *text = 0;
  before = mallinfo2();
  s = store_new(flags);
  store_add_index(s, "label", store_index_labels, NULL);
  store_add_index(s, "owner", store_index_owner_uids, NULL);
  for (i = 0; i < 10000; i++) {
    json_t *o = account_obj(i);
    char *t = json_dumps(o, JSON_COMPACT);
    *text += strlen(t);
    free(t);
    ck_assert_int_eq(store_put_new(s, o, NULL), 0);
  }
  store_trim(s);
  after = mallinfo2();
  if (after.uordblks > before.uordblks)
    per = (after.uordblks - before.uordblks) / 10000;
  ck_assert_uint_eq(
      store_index_count(s, "label", "aws.managed.openshift.io/pool=default"),
      10000);
  store_free(s);
  *text /= 10000;
  return per;
}

START_TEST(store_memory_10k)
{
  size_t text, plain = measure(0, &text),
               packed = measure(STORE_COMPACT, &text);

  if (!plain) {
    printf("store memory: not measurable under this allocator\n");
    return;
  }
  printf("store memory: 10000 Accounts of %zu bytes of JSON: %zu bytes per "
         "object decoded (jansson), %zu bytes per object with "
         "STORE_COMPACT (incl. key, label and owner indexes)\n",
         text, plain, packed);
  /* Not tight: 10,000 objects must fit comfortably. */
  ck_assert_uint_lt(plain, 16384);
  ck_assert_uint_lt(packed, 4096);
  /* Near copies of one another: delta-encoded, the store costs less than
   * the objects' own JSON text, key and indexes included. */
  ck_assert_uint_lt(packed, text);
}
END_TEST

static void delta_round_trip(const struct delta_dict *d, const char *text,
                             size_t *enc_len)
{
  size_t len = strlen(text);
  unsigned char *enc = delta_encode(d, text, len, enc_len);
  char *out = malloc(len + 1);

  ck_assert_uint_eq(delta_raw_len(enc, *enc_len), len);
  ck_assert_int_eq(delta_decode(d, enc, *enc_len, out), 0);
  ck_assert_int_eq(memcmp(out, text, len), 0);
  free(out);
  free(enc);
}

/* A near copy of the dictionary costs its differences; anything else
 * round-trips too, at most a few bytes over its length. */
START_TEST(delta_encodes_against_the_dictionary)
{
  static const char *ref =
      "{\"metadata\":{\"name\":\"fleet-a-00000\",\"namespace\":\"aws-account-"
      "operator\",\"resourceVersion\":\"30266\"},\"spec\":{\"claimLink\":"
      "\"fleet-c-00000\",\"legalEntity\":{\"id\":\"le-000\"}},\"status\":"
      "{\"state\":\"Ready\",\"claimed\":true}}";
  static const char *near =
      "{\"metadata\":{\"name\":\"fleet-a-04711\",\"namespace\":\"aws-account-"
      "operator\",\"resourceVersion\":\"98765\"},\"spec\":{\"claimLink\":"
      "\"fleet-c-04711\",\"legalEntity\":{\"id\":\"le-000\"}},\"status\":"
      "{\"state\":\"Ready\",\"claimed\":true}}";
  static const char *other[] = { "", "x", "abc", "[1,2,3,4,5,6,7,8,9]",
                                 "no match at all here: 0123456789" };
  struct delta_dict *d = delta_dict_new(ref, strlen(ref));
  size_t n, i;

  delta_round_trip(d, ref, &n);
  ck_assert_uint_lt(n, 8);
  delta_round_trip(d, near, &n);
  ck_assert_uint_lt(n, strlen(near) / 3);
  for (i = 0; i < sizeof(other) / sizeof(*other); i++) {
    delta_round_trip(d, other[i], &n);
    ck_assert_uint_le(n, strlen(other[i]) + 2);
  }
  delta_dict_free(d);
  d = delta_dict_new("", 0); /* an empty dictionary matches nothing */
  delta_round_trip(d, near, &n);
  ck_assert_uint_le(n, strlen(near) + 4);
  delta_dict_free(d);
}
END_TEST

/* Malformed encodings are refused, never read or written out of bounds. */
START_TEST(delta_rejects_malformed)
{
  static const char *ref = "0123456789abcdefghij";
  struct delta_dict *d = delta_dict_new(ref, strlen(ref));
  /* raw 8: 0 literals, then a match of 8 at 16 (past the dictionary) */
  static const unsigned char past[] = { 8, 0, 8, 16 };
  static const unsigned char trunc[] = { 5, 5, 'a', 'b' };
  static const unsigned char extra[] = { 1, 1, 'a', 'z' };
  static const unsigned char zero_match[] = { 4, 0, 0, 3 };
  static const unsigned char longlit[] = { 2, 3, 'a', 'b', 'c' };
  static const unsigned char ok[] = { 12, 2, 'x', 'y', 10, 0 };
  char out[32];

  ck_assert_int_eq(delta_decode(d, past, sizeof(past), out), OP_EINVAL);
  ck_assert_int_eq(delta_decode(d, trunc, sizeof(trunc), out), OP_EINVAL);
  ck_assert_int_eq(delta_decode(d, extra, sizeof(extra), out), OP_EINVAL);
  ck_assert_int_eq(delta_decode(d, zero_match, sizeof(zero_match), out),
                   OP_EINVAL);
  ck_assert_int_eq(delta_decode(d, longlit, sizeof(longlit), out), OP_EINVAL);
  ck_assert_uint_eq(delta_raw_len((const unsigned char *)"\x80", 1),
                    (size_t)-1);
  ck_assert_int_eq(delta_decode(d, ok, sizeof(ok), out), 0);
  ck_assert_int_eq(memcmp(out, "xy0123456789", 12), 0);
  delta_dict_free(d);
}
END_TEST

/* What a reconcile pays to read one compact object (decode on access):
 * printed for docs/memory.md; the bound only catches a pathology. */
START_TEST(store_compact_read_cost)
{
  struct store *s = store_new(STORE_COMPACT);
  char key[STORE_KEY_MAX];
  struct timespec t0, t1;
  double us;
  int i;

  for (i = 0; i < 10000; i++)
    ck_assert_int_eq(store_put_new(s, account_obj(i), NULL), 0);
  store_trim(s);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  for (i = 0; i < 10000; i++) {
    snprintf(key, sizeof(key), "aws-account-operator/osd-creds-mgmt-%08d", i);
    ck_assert_ptr_nonnull(store_get(s, key));
    store_trim(s);
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
        (double)(t1.tv_nsec - t0.tv_nsec)) /
       1e3 / 10000;
  printf("store read: %.1f us of CPU per compact Account read (decode and "
         "free)\n",
         us);
  /* 1 ms per read, scaled like every timed bound under valgrind. */
  ck_assert(us < 1000.0 * test_ms(1));
  store_free(s);
}
END_TEST

START_TEST(store_compact)
{
  struct store *s = store_new(STORE_COMPACT);
  const json_t *got, **l;
  json_t *o, *old = NULL;
  size_t n;

  store_add_index(s, "label", store_index_labels, NULL);
  o = obj_labels("ns", "a", "1", "web");
  json_object_set_new(json_object_get(o, "metadata"), "managedFields",
                      json_array());
  store_put_new(s, o, NULL);
  store_put_new(s, obj_labels("ns", "b", "1", "web"), NULL);
  ck_assert_uint_eq(store_hot(s), 2); /* just ingested */
  store_trim(s);
  ck_assert_uint_eq(store_hot(s), 0);
  got = store_get(s, "ns/a");
  ck_assert_str_eq(store_obj_rv(got), "1");
  ck_assert_ptr_null(
      json_object_get(json_object_get(got, "metadata"), "managedFields"));
  ck_assert_ptr_eq(store_get(s, "ns/a"), got); /* decoded once */
  ck_assert_uint_eq(store_hot(s), 1);
  store_trim(s);
  /* Replaced and deleted objects outlive the trim (new references). */
  store_put_new(s, obj_labels("ns", "a", "2", "db"), &old);
  store_trim(s);
  ck_assert_str_eq(store_obj_rv(old), "1");
  json_decref(old);
  ck_assert_uint_eq(store_index_count(s, "label", "app=web"), 1);
  ck_assert_uint_eq(store_index_count(s, "label", "app=db"), 1);
  {
    /* Keys under an index value come without decoding an object. */
    char **keys = store_index_keys_new(s, "label", "tier=x", &n);

    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(keys[0], "ns/a");
    ck_assert_str_eq(keys[1], "ns/b");
    ck_assert_uint_eq(store_hot(s), 0);
    store_keys_free(keys, n);
    ck_assert_ptr_null(store_index_keys_new(s, "label", "app=none", &n));
    ck_assert_uint_eq(n, 0);
  }
  l = store_by_index_new(s, "label", "tier=x", &n);
  ck_assert_uint_eq(n, 2);
  ck_assert_str_eq(store_obj_rv(l[0]), "2");
  free(l);
  o = store_delete_take(s, "ns/b");
  store_trim(s);
  ck_assert_str_eq(name_of(o), "b");
  json_decref(o);
  ck_assert_uint_eq(store_index_count(s, "label", "app=web"), 0);
  /* Deleted while decoded, then freed with the store. */
  store_get(s, "ns/a");
  store_put_new(s, obj_labels("ns", "c", "1", "web"), NULL);
  json_decref(store_delete_take(s, "ns/c"));
  store_free(s);
}
END_TEST

/* ---- informer -------------------------------------------------------- */

struct ev_log {
  char buf[1024];
  int adds, updates, deletes, unknown, synced;
};

static void lg(struct ev_log *l, const char *what, const json_t *o)
{
  size_t n = strlen(l->buf);

  snprintf(l->buf + n, sizeof(l->buf) - n, "%s:%s@%s ", what, name_of(o),
           store_obj_rv(o));
}

static void h_add(const json_t *o, void *arg)
{
  struct ev_log *l = arg;

  l->adds++;
  lg(l, "add", o);
}

static void h_update(const json_t *o, const json_t *n, void *arg)
{
  struct ev_log *l = arg;

  l->updates++;
  lg(l, "upd", o);
  lg(l, "to", n);
}

static void h_delete(const json_t *o, bool unknown, void *arg)
{
  struct ev_log *l = arg;

  l->deletes++;
  l->unknown += unknown;
  lg(l, unknown ? "gone" : "del", o);
}

static void h_synced(void *arg)
{
  ((struct ev_log *)arg)->synced++;
}

static uv_loop_t loop;
static struct cache_fake fake;
static struct inf *inf;
static struct ev_log elog;
static uint64_t clock_ns;

static uint64_t fake_clock(void *arg)
{
  (void)arg;
  return clock_ns;
}

static bool setup_stream; /* the next inf_setup's informer streams */

static void inf_setup(void)
{
  struct inf_opts o = { 0 };
  struct inf_handler h = { h_add, h_update, h_delete, h_synced, &elog };

  ck_assert_int_eq(uv_loop_init(&loop), 0);
  cache_fake_init(&fake, &loop);
  memset(&elog, 0, sizeof(elog));
  clock_ns = 1000000000ull;
  o.gvr.group = "aws.managed.openshift.io";
  o.gvr.version = "v1alpha1";
  o.gvr.resource = "accounts";
  o.gvr.namespaced = true;
  o.namespace = "aws-account-operator";
  o.page_size = 2;
  o.rng_seed = 42;
  o.clock = fake_clock;
  o.watch_list = setup_stream;
  setup_stream = false;
  inf = inf_new_source(&loop, &cache_fake_source, &fake, &o);
  ck_assert_int_gt(inf_add_handler(inf, &h), 0);
}

static int inf_closed;

static void on_inf_closed(void *arg)
{
  *(int *)arg = 1;
}

static void inf_teardown(void)
{
  inf_closed = 0;
  inf_close(inf, on_inf_closed, &inf_closed);
  ck_assert(test_run_until(&loop, &inf_closed, 1000));
  cache_fake_cleanup(&fake);
  ASSERT_LOOP_CLEAN(&loop);
}

/* List (two pages) and start watching at rv 10. */
static void list_and_watch(void)
{
  ck_assert_int_eq(inf_start(inf), 0);
  ck_assert_int_eq(fake.nlists, 1);
  ck_assert_str_eq(fake.lists[0].rv, "(null)"); /* consistent, paginated */
  ck_assert_str_eq(fake.lists[0].ns, "aws-account-operator");
  ck_assert_int_eq(fake.lists[0].limit, 2);
  ck_assert(!inf_has_synced(inf));
  cache_fake_list_reply(&fake, 0,
                        json_pack("[o,o]", cache_fake_obj_new("ns", "a", "1"),
                                  cache_fake_obj_new("ns", "b", "2")),
                        "5", "tok1");
  ck_assert_int_eq(fake.nlists, 2);
  ck_assert_str_eq(fake.lists[1].cont, "tok1");
  ck_assert_str_eq(fake.lists[1].rv, "(null)");
  ck_assert(!inf_has_synced(inf));
  /* The first list hands each page over as it comes (nothing to diff
   * against); synced only once the last page is in. */
  ck_assert_int_eq(elog.adds, 2);
  ck_assert_int_eq(elog.synced, 0);
  ck_assert_uint_eq(store_len(inf_store(inf)), 2);
  cache_fake_list_reply(&fake, 0,
                        json_pack("[o]", cache_fake_obj_new("ns", "c", "3")),
                        "10", NULL);
  ck_assert(inf_has_synced(inf));
  ck_assert_int_eq(elog.synced, 1);
  ck_assert_int_eq(elog.adds, 3);
  ck_assert_uint_eq(store_len(inf_store(inf)), 3);
  ck_assert_int_eq(inf_state(inf), INF_WATCHING);
  ck_assert_int_eq(fake.nwatches, 1);
  ck_assert_str_eq(fake.watches[0].rv, "10");
  ck_assert(fake.watches[0].bookmarks);
  ck_assert_str_eq(fake.watches[0].ns, "aws-account-operator");
}

START_TEST(inf_list_then_watch)
{
  list_and_watch();
  elog.buf[0] = 0;
  cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", "d", "11"));
  /* Same resourceVersion: no update. */
  cache_fake_event(&fake, K8S_EV_MODIFIED, cache_fake_obj_new("ns", "d", "11"));
  cache_fake_event(&fake, K8S_EV_MODIFIED, cache_fake_obj_new("ns", "a", "12"));
  cache_fake_event(&fake, K8S_EV_DELETED, cache_fake_obj_new("ns", "b", "13"));
  ck_assert_str_eq(elog.buf, "add:d@11 upd:a@1 to:a@12 del:b@13 ");
  ck_assert_str_eq(inf_resource_version(inf), "13");
  ck_assert_ptr_null(store_get(inf_store(inf), "ns/b"));
  ck_assert_str_eq(store_obj_rv(store_get(inf_store(inf), "ns/a")), "12");
  /* Bookmarks only move the version. */
  cache_fake_event(&fake, K8S_EV_BOOKMARK,
                   json_pack("{s:{s:s}}", "metadata", "resourceVersion", "20"));
  ck_assert_str_eq(elog.buf, "add:d@11 upd:a@1 to:a@12 del:b@13 ");
  ck_assert_str_eq(inf_resource_version(inf), "20");
  ck_assert_uint_eq(store_len(inf_store(inf)), 3);
  /* An ERROR event is logged and does not move the version. */
  cache_fake_event(&fake, K8S_EV_ERROR,
                   json_pack("{s:s, s:i}", "message", "boom", "code", 500));
  ck_assert_str_eq(inf_resource_version(inf), "20");
}
END_TEST

START_TEST(inf_clean_close_rewatches)
{
  list_and_watch();
  cache_fake_event(&fake, K8S_EV_BOOKMARK,
                   json_pack("{s:{s:s}}", "metadata", "resourceVersion", "15"));
  cache_fake_watch_end(&fake, 0);
  ck_assert_int_eq(fake.nwatches, 2);
  ck_assert_str_eq(fake.watches[1].rv, "15");
  ck_assert_int_eq(fake.nlists, 2);
  ck_assert_int_eq(inf_state(inf), INF_WATCHING);
}
END_TEST

static void expect_backoff(uint64_t lo);

START_TEST(inf_very_short_watch_backs_off)
{
  list_and_watch();
  /* Closed at once, no event: an error, not a server timeout. */
  cache_fake_watch_end(&fake, 0);
  expect_backoff(800);
  inf_retry_now(inf);
  ck_assert_int_eq(fake.nwatches, 2);
  ck_assert_str_eq(fake.watches[1].rv, "10");
  /* Closed at once after an event: fine. */
  cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", "e", "14"));
  cache_fake_watch_end(&fake, 0);
  ck_assert_int_eq(inf_state(inf), INF_WATCHING);
  ck_assert_int_eq(fake.nwatches, 3);
  ck_assert_str_eq(fake.watches[2].rv, "14");
}
END_TEST

START_TEST(inf_cut_after_events_rewatches_at_once)
{
  int k;

  list_and_watch();
  for (k = 0; k < 5; k++) {
    char rv[16];

    snprintf(rv, sizeof(rv), "%d", 20 + k);
    cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", "e", rv));
    cache_fake_watch_end(&fake, OP_EIO);
    ck_assert_int_eq(inf_state(inf), INF_WATCHING);
    ck_assert_int_eq(fake.nwatches, 2 + k);
    ck_assert_str_eq(fake.watches[1 + k].rv, rv);
  }
  /* A cut watch that delivered nothing still backs off, from the start. */
  cache_fake_watch_end(&fake, OP_EIO);
  expect_backoff(800);
}
END_TEST

START_TEST(inf_gone_relists_with_deletes)
{
  list_and_watch();
  elog.buf[0] = 0;
  cache_fake_watch_end(&fake, OP_EGONE);
  ck_assert_int_eq(inf_state(inf), INF_LISTING);
  ck_assert_int_eq(fake.nlists, 3);
  ck_assert_str_eq(fake.lists[2].rv, "(null)"); /* consistent read */
  cache_fake_list_reply(&fake, 0,
                        json_pack("[o,o]", cache_fake_obj_new("ns", "a", "1"),
                                  cache_fake_obj_new("ns", "c", "30")),
                        "40", NULL);
  /* a unchanged (no event), c updated, b vanished. */
  ck_assert_str_eq(elog.buf, "upd:c@3 to:c@30 gone:b@2 ");
  ck_assert_int_eq(elog.unknown, 1);
  ck_assert_int_eq(elog.synced, 1); /* only after the first list */
  ck_assert_int_eq(fake.nwatches, 2);
  ck_assert_str_eq(fake.watches[1].rv, "40");
  /* 410 at watch start relists too (after a normal-length watch). */
  fake.watch_err = OP_EGONE;
  clock_ns += 2000000000ull;
  cache_fake_watch_end(&fake, 0);
  ck_assert_int_eq(inf_state(inf), INF_LISTING);
  ck_assert_int_eq(fake.nlists, 4);
  fake.watch_err = 0;
  cache_fake_list_reply(&fake, 0, NULL, "50", NULL);
  ck_assert_str_eq(fake.watches[fake.nwatches - 1].rv, "50");
  ck_assert_uint_eq(store_len(inf_store(inf)), 0);
  ck_assert_int_eq(elog.unknown, 3);
}
END_TEST

START_TEST(inf_expired_continue_restarts_list)
{
  ck_assert_int_eq(inf_start(inf), 0);
  cache_fake_list_reply(&fake, 0,
                        json_pack("[o,o]", cache_fake_obj_new("ns", "a", "1"),
                                  cache_fake_obj_new("ns", "b", "2")),
                        "5", "tok1");
  cache_fake_list_reply(&fake, OP_EGONE, NULL, NULL, NULL);
  ck_assert_int_eq(fake.nlists, 3);
  ck_assert_str_eq(fake.lists[2].cont, "");
  ck_assert_str_eq(fake.lists[2].rv, "(null)");
  /* The first page went in as it came; the list that starts over is a
   * relist: what the first page put and the new list lacks is gone. */
  ck_assert_int_eq(elog.adds, 2);
  cache_fake_list_reply(&fake, 0,
                        json_pack("[o]", cache_fake_obj_new("ns", "a", "1")),
                        "6", NULL);
  ck_assert_int_eq(elog.adds, 2);
  ck_assert_int_eq(elog.updates, 0);
  ck_assert_int_eq(elog.unknown, 1);
  ck_assert_uint_eq(store_len(inf_store(inf)), 1);
  ck_assert_ptr_null(store_get(inf_store(inf), "ns/b"));
  ck_assert(inf_has_synced(inf));
}
END_TEST

static void expect_backoff(uint64_t lo)
{
  ck_assert_int_eq(inf_state(inf), INF_BACKOFF);
  /* jitter 1.0: [d, 2d) */
  ck_assert_uint_ge(inf_backoff_ms(inf), lo);
  ck_assert_uint_lt(inf_backoff_ms(inf), 2 * lo);
}

START_TEST(inf_reconnect_backoff)
{
  static const uint64_t seq[] = { 800,   1600,  3200,  6400,
                                  12800, 25600, 30000, 30000 };
  size_t k;
  int nw;

  list_and_watch();
  for (k = 0; k < sizeof(seq) / sizeof(seq[0]); k++) {
    nw = fake.nwatches;
    cache_fake_watch_end(&fake, OP_EIO);
    expect_backoff(seq[k]);
    ck_assert_int_eq(fake.nwatches, nw); /* waits */
    clock_ns += 1000000000ull;           /* 1 s: not healthy long enough */
    inf_retry_now(inf);
    ck_assert_int_eq(fake.nwatches, nw + 1);
    ck_assert_str_eq(fake.watches[nw].rv, "10"); /* same version */
    ck_assert_int_eq(fake.nlists, 2);            /* no relist */
  }
  /* Two minutes without failures reset the backoff. */
  clock_ns += 121000000000ull;
  cache_fake_watch_end(&fake, OP_EIO);
  expect_backoff(800);
  /* The real timer fires too. */
  nw = fake.nwatches;
  ck_assert_int_eq(uv_run(&loop, UV_RUN_DEFAULT), 0);
  ck_assert_int_eq(fake.nwatches, nw + 1);
  ck_assert_int_eq(inf_state(inf), INF_WATCHING);
}
END_TEST

START_TEST(inf_list_error_backoff)
{
  fake.list_err = OP_EIO;
  ck_assert_int_eq(inf_start(inf), 0);
  expect_backoff(800);
  inf_retry_now(inf);
  ck_assert_int_eq(fake.nlists, 2);
  expect_backoff(1600);
  fake.list_err = 0;
  inf_retry_now(inf);
  ck_assert_int_eq(fake.nlists, 3);
  ck_assert_str_eq(fake.lists[2].rv, "(null)");
  /* An asynchronous failure too. */
  cache_fake_list_reply(&fake, OP_ETHROTTLED, NULL, NULL, NULL);
  expect_backoff(3200);
  inf_retry_now(inf);
  cache_fake_list_reply(&fake, 0, NULL, "7", NULL);
  ck_assert(inf_has_synced(inf));
  ck_assert_int_eq(elog.synced, 1);
}
END_TEST

START_TEST(inf_late_handler_and_removal)
{
  struct ev_log late = { 0 };
  struct inf_handler h = { h_add, h_update, h_delete, h_synced, &late };
  int id;

  list_and_watch();
  id = inf_add_handler(inf, &h);
  ck_assert_int_eq(late.adds, 3); /* replayed */
  ck_assert_int_eq(late.synced, 1);
  inf_remove_handler(inf, id);
  cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", "z", "99"));
  ck_assert_int_eq(late.adds, 3);
  ck_assert_int_eq(elog.adds, 4);
}
END_TEST

START_TEST(inf_stop_cancels_watch)
{
  list_and_watch();
  inf_stop(inf);
  ck_assert_int_eq(inf_state(inf), INF_STOPPED);
  ck_assert(fake.watch_stopped);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert(!fake.watch_active);
  ck_assert_int_eq(inf_start(inf), OP_ESTATE);
  /* The store keeps its contents. */
  ck_assert_uint_eq(store_len(inf_store(inf)), 3);
}
END_TEST

START_TEST(inf_close_with_list_in_flight)
{
  ck_assert_int_eq(inf_start(inf), 0);
  ck_assert(cache_fake_list_pending(&fake));
  inf_closed = 0;
  inf_close(inf, on_inf_closed, &inf_closed);
  uv_run(&loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(inf_closed, 0); /* waits for the list callback */
  cache_fake_list_reply(&fake, 0, NULL, "1", NULL);
  ck_assert_int_eq(inf_closed, 1);
  ck_assert_int_eq(fake.nwatches, 0);
  inf = NULL;
  cache_fake_cleanup(&fake);
  ASSERT_LOOP_CLEAN(&loop);
}
END_TEST

static void on_spin(uv_timer_t *t)
{
  *(int *)t->data = 1;
}

/* One loop iteration with something alive (the trim handle is unref'd and
 * rides along with whatever keeps the daemon's loop running). */
static void spin_once(void)
{
  uv_timer_t t;
  int fired = 0;

  uv_timer_init(&loop, &t);
  t.data = &fired;
  uv_timer_start(&t, on_spin, 0, 0);
  ck_assert(test_run_until(&loop, &fired, 1000));
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}

/* Swap the fixture's informer for a compact one, listed and watching. */
static void compact_informer(void)
{
  struct inf_opts o = { 0 };
  struct inf_handler h = { h_add, h_update, h_delete, h_synced, &elog };

  inf_closed = 0;
  inf_close(inf, on_inf_closed, &inf_closed);
  ck_assert(test_run_until(&loop, &inf_closed, 1000));
  o.gvr.resource = "accounts";
  o.store_flags = STORE_COMPACT;
  o.namespace = "aws-account-operator";
  o.page_size = 2;
  o.rng_seed = 7;
  inf = inf_new_source(&loop, &cache_fake_source, &fake, &o);
  inf_add_handler(inf, &h);
  list_and_watch();
}

START_TEST(inf_compact_trims_each_iteration)
{
  const json_t *a;

  compact_informer();
  /* The relist decodes one item at a time and releases it. */
  ck_assert_uint_eq(store_hot(inf_store(inf)), 0);
  ck_assert_ptr_nonnull(store_get(inf_store(inf), "ns/a"));
  ck_assert_uint_eq(store_hot(inf_store(inf)), 1);
  spin_once(); /* the prepare phase trims */
  ck_assert_uint_eq(store_hot(inf_store(inf)), 0);
  cache_fake_event(&fake, K8S_EV_MODIFIED, cache_fake_obj_new("ns", "a", "12"));
  ck_assert_ptr_nonnull(strstr(elog.buf, "upd:a@1 to:a@12 "));
  a = store_get(inf_store(inf), "ns/a");
  ck_assert_str_eq(store_obj_rv(a), "12");
  spin_once();
  ck_assert_uint_eq(store_hot(inf_store(inf)), 0);
}
END_TEST

struct release_wait {
  const struct inf *inf;
  size_t before;
  int done;
};

static void on_release_poll(uv_timer_t *t)
{
  struct release_wait *w = t->data;

  if (inf_pages_released(w->inf) > w->before)
    w->done = 1;
}

/* A burst of reads after the list (a resync decoding every object) hands
 * its free pages back once it is over, as the list itself does. */
START_TEST(inf_releases_pages_after_a_burst_of_reads)
{
  struct release_wait w = { 0 };
  uv_timer_t poll;

  compact_informer();
  w.inf = inf;
  uv_timer_init(&loop, &poll);
  poll.data = &w;
  uv_timer_start(&poll, on_release_poll, 10, 10);
  ck_assert(test_run_until(&loop, &w.done, 3000)); /* the list's release */
  w.before = inf_pages_released(inf);
  w.done = 0;
  for (int k = 0; k < INF_RELEASE_AFTER - 1; k++) {
    ck_assert_ptr_nonnull(store_get(inf_store(inf), "ns/a"));
    spin_once();
  }
  /* one object short of a burst: nothing is released */
  ck_assert(!test_run_until(&loop, &w.done, 2 * INF_RELEASE_DELAY_MS));
  ck_assert_ptr_nonnull(store_get(inf_store(inf), "ns/a"));
  ck_assert(test_run_until(&loop, &w.done, 3 * INF_RELEASE_DELAY_MS));
  ck_assert_uint_eq(inf_pages_released(inf), w.before + 1);
  uv_close((uv_handle_t *)&poll, NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
}
END_TEST

/* ---- informer over the real Kubernetes client ------------------------ */

#define ACCOUNTS_PATH                                                          \
  "/apis/aws.managed.openshift.io/v1alpha1/namespaces/ns/accounts"

struct wire {
  uv_loop_t loop;
  struct httpc *h;
  struct testsrv *srv;
  struct k8s_client *c;
  struct inf *inf;
  int synced, saw_c;
  char list_url[512], watch_url[512];
};

/* The test server routes by path only and list and watch share one: once
 * the list is in, the same path starts answering as a watch stream. */
static void wire_synced(void *arg)
{
  static const char events[] =
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"c\","
      "\"namespace\":\"ns\",\"resourceVersion\":\"11\"}}}\n"
      "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{"
      "\"resourceVersion\":\"12\"}}}\n";
  static const size_t cuts[] = { 7, 60 };
  struct wire *w = arg;
  const struct testsrv_req *r = testsrv_last(w->srv);

  w->synced = 1;
  str_copy(w->list_url, r ? buf_str(&r->url) : "", sizeof(w->list_url));
  testsrv_route_chunked(w->srv, ACCOUNTS_PATH, events, sizeof(events) - 1, cuts,
                        2, 0);
}

static void wire_add(const json_t *o, void *arg)
{
  struct wire *w = arg;

  if (str_eq(name_of(o), "c")) {
    const struct testsrv_req *r = testsrv_last(w->srv);
    str_copy(w->watch_url, r ? buf_str(&r->url) : "", sizeof(w->watch_url));
    w->saw_c = 1;
    inf_stop(w->inf); /* the stream would be re-watched at once */
  }
}

static void set_flag(void *arg)
{
  *(int *)arg = 1;
}

START_TEST(inf_against_k8s_client)
{
  static const char list[] =
      "{\"kind\":\"AccountList\",\"metadata\":{\"resourceVersion\":\"10\"},"
      "\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\","
      "\"resourceVersion\":\"5\",\"managedFields\":[{}]}}]}";
  struct wire w = { 0 };
  struct k8s_config cfg = { 0 };
  struct inf_opts o = { 0 };
  struct inf_handler h = { wire_add, NULL, NULL, wire_synced, &w };
  char url[128];
  int done = 0, hc = 0, sc = 0;

  ck_assert_int_eq(uv_loop_init(&w.loop), 0);
  ck_assert_int_eq(httpc_new(&w.loop, NULL, &w.h), 0);
  ck_assert_int_eq(testsrv_new(&w.loop, &w.srv), 0);
  testsrv_url(w.srv, "", url, sizeof(url));
  cfg.server = url;
  cfg.namespace = "ns";
  ck_assert_int_eq(k8s_client_new(&w.loop, w.h, &cfg, NULL, &w.c), 0);
  testsrv_route_fixed(w.srv, ACCOUNTS_PATH, 200,
                      "Content-Type: application/json\r\n", list,
                      sizeof(list) - 1);
  o.gvr.group = "aws.managed.openshift.io";
  o.gvr.version = "v1alpha1";
  o.gvr.resource = "accounts";
  o.gvr.namespaced = true;
  o.namespace = "ns";
  w.inf = inf_new(&w.loop, w.c, &o);
  inf_add_handler(w.inf, &h);
  ck_assert_int_eq(inf_start(w.inf), 0);
  ck_assert(test_run_until(&w.loop, &w.synced, 5000));
  /* consistent and paginated: no resourceVersion (see start_list) */
  ck_assert_ptr_null(strstr(w.list_url, "resourceVersion="));
  ck_assert_ptr_nonnull(strstr(w.list_url, "limit=500"));
  ck_assert_ptr_null(json_object_get(
      json_object_get(store_get(inf_store(w.inf), "ns/a"), "metadata"),
      "managedFields"));
  ck_assert(test_run_until(&w.loop, &w.saw_c, 5000));
  ck_assert_uint_eq(store_len(inf_store(w.inf)), 2);
  ck_assert_ptr_nonnull(strstr(w.watch_url, "watch=1"));
  ck_assert_ptr_nonnull(strstr(w.watch_url, "resourceVersion=10"));
  ck_assert_ptr_nonnull(strstr(w.watch_url, "allowWatchBookmarks=true"));
  ck_assert_str_eq(inf_resource_version(w.inf), "11");
  inf_close(w.inf, set_flag, &done);
  ck_assert(test_run_until(&w.loop, &done, 5000));
  done = 0;
  k8s_client_close(w.c, set_flag, &done);
  ck_assert(test_run_until(&w.loop, &done, 5000));
  httpc_close(w.h, set_flag, &hc);
  testsrv_close(w.srv, set_flag, &sc);
  while (!(hc && sc) && uv_run(&w.loop, UV_RUN_ONCE))
    ;
  ASSERT_LOOP_CLEAN(&w.loop);
}
END_TEST

/* ---- streaming list ---------------------------------------------------- */

static void inf_setup_stream(void)
{
  setup_stream = true;
  inf_setup();
}

static json_t *end_bookmark(const char *rv)
{
  return json_pack("{s:{s:s, s:{s:s}}}", "metadata", "resourceVersion", rv,
                   "annotations", K8S_INITIAL_EVENTS_END, "true");
}

START_TEST(inf_stream_lists_then_watches_on)
{
  ck_assert_int_eq(inf_start(inf), 0);
  ck_assert_int_eq(fake.nlists, 0);
  ck_assert_int_eq(fake.nwatches, 1);
  ck_assert(fake.watches[0].initial);
  ck_assert(fake.watches[0].bookmarks);
  ck_assert_str_eq(fake.watches[0].rv, "(null)"); /* a consistent read */
  ck_assert_int_eq(inf_state(inf), INF_LISTING);
  cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", "a", "7"));
  cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", "b", "3"));
  /* handed over one by one; a plain bookmark changes nothing */
  cache_fake_event(&fake, K8S_EV_BOOKMARK,
                   json_pack("{s:{s:s}}", "metadata", "resourceVersion", "8"));
  ck_assert_int_eq(elog.adds, 2);
  ck_assert_int_eq(elog.synced, 0);
  ck_assert(!inf_has_synced(inf));
  ck_assert_uint_eq(store_len(inf_store(inf)), 2);
  cache_fake_event(&fake, K8S_EV_BOOKMARK, end_bookmark("10"));
  ck_assert(inf_has_synced(inf));
  ck_assert_int_eq(elog.synced, 1);
  ck_assert_int_eq(inf_state(inf), INF_WATCHING);
  ck_assert_str_eq(inf_resource_version(inf), "10");
  /* the same stream carries the changes */
  elog.buf[0] = 0;
  cache_fake_event(&fake, K8S_EV_MODIFIED, cache_fake_obj_new("ns", "a", "12"));
  ck_assert_str_eq(elog.buf, "upd:a@7 to:a@12 ");
  ck_assert_str_eq(inf_resource_version(inf), "12");
  ck_assert_int_eq(fake.nwatches, 1);
  ck_assert_int_eq(fake.nlists, 0);
  /* when it ends, the informer watches on from there, not streaming */
  cache_fake_watch_end(&fake, 0);
  ck_assert_int_eq(fake.nwatches, 2);
  ck_assert(!fake.watches[1].initial);
  ck_assert_str_eq(fake.watches[1].rv, "12");
}
END_TEST

START_TEST(inf_stream_refused_lists_in_pages)
{
  fake.watch_err = OP_EINVALIDOBJ;
  ck_assert_int_eq(inf_start(inf), 0);
  fake.watch_err = 0;
  ck_assert_int_eq(fake.nwatches, 1);
  ck_assert_int_eq(fake.nlists, 1);
  ck_assert_int_eq(fake.lists[0].limit, 2);
  cache_fake_list_reply(&fake, 0,
                        json_pack("[o]", cache_fake_obj_new("ns", "a", "1")),
                        "5", NULL);
  ck_assert(inf_has_synced(inf));
  ck_assert_int_eq(elog.adds, 1);
  ck_assert_int_eq(fake.nwatches, 2);
  ck_assert(!fake.watches[1].initial);
  ck_assert_str_eq(fake.watches[1].rv, "5");
}
END_TEST

/* Cut before its end: a paged list replaces what the stream put (what is
 * gone is reported gone), as a relist does. */
START_TEST(inf_stream_ended_early_relists_in_pages)
{
  ck_assert_int_eq(inf_start(inf), 0);
  cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", "a", "1"));
  cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", "b", "2"));
  cache_fake_watch_end(&fake, OP_EIO);
  ck_assert(!inf_has_synced(inf));
  ck_assert_int_eq(fake.nlists, 1);
  elog.buf[0] = 0;
  cache_fake_list_reply(&fake, 0,
                        json_pack("[o,o]", cache_fake_obj_new("ns", "a", "1"),
                                  cache_fake_obj_new("ns", "c", "4")),
                        "6", NULL);
  ck_assert_str_eq(elog.buf, "add:c@4 gone:b@2 ");
  ck_assert(inf_has_synced(inf));
  ck_assert_int_eq(elog.synced, 1);
  ck_assert_uint_eq(store_len(inf_store(inf)), 2);
  ck_assert_int_eq(fake.nwatches, 2);
  ck_assert(!fake.watches[1].initial);
}
END_TEST

/* A compact store filled by a stream releases what the events decoded
 * every 256 events, not only when the loop turns: thousands of events
 * read in one iteration would otherwise all be decoded at once. */
START_TEST(inf_stream_releases_decoded_objects_as_it_goes)
{
  struct inf_opts o = { 0 };
  struct inf_handler h = { h_add, h_update, h_delete, h_synced, &elog };
  char name[16];
  int k;

  inf_closed = 0;
  inf_close(inf, on_inf_closed, &inf_closed);
  ck_assert(test_run_until(&loop, &inf_closed, 1000));
  o.gvr.resource = "accounts";
  o.store_flags = STORE_COMPACT;
  o.watch_list = true;
  o.rng_seed = 7;
  inf = inf_new_source(&loop, &cache_fake_source, &fake, &o);
  inf_add_handler(inf, &h);
  ck_assert_int_eq(inf_start(inf), 0);
  for (k = 0; k < 1000; k++) {
    snprintf(name, sizeof(name), "o%04d", k);
    cache_fake_event(&fake, K8S_EV_ADDED, cache_fake_obj_new("ns", name, "1"));
    ck_assert_uint_lt(store_hot(inf_store(inf)), 256);
  }
  ck_assert_int_eq(elog.adds, 1000);
  ck_assert_uint_eq(store_len(inf_store(inf)), 1000);
}
END_TEST

static Suite *cache_suite(void)
{
  Suite *s = suite_create("cache");
  TCase *st = tcase_create("store");
  TCase *it = tcase_create("informer");
  TCase *itc = tcase_create("informer-close");
  TCase *its = tcase_create("informer-stream");
  TCase *wire = tcase_create("informer-k8s");

  tcase_add_test(st, store_put_get_delete);
  tcase_add_test(st, store_strips_bookkeeping);
  tcase_add_test(st, store_indexes);
  tcase_add_test(st, store_counters);
  tcase_add_loop_test(st, store_replace_reports_vanished, 0, 2);
  tcase_add_loop_test(st, store_relist_in_pages, 0, 2);
  tcase_add_test(st, store_memory_10k);
  tcase_add_test(st, store_compact);
  tcase_add_test(st, store_compact_read_cost);
  tcase_add_test(st, delta_encodes_against_the_dictionary);
  tcase_add_test(st, delta_rejects_malformed);
  tcase_set_timeout(st, 120);
  suite_add_tcase(s, st);
  tcase_add_checked_fixture(it, inf_setup, inf_teardown);
  tcase_add_test(it, inf_list_then_watch);
  tcase_add_test(it, inf_clean_close_rewatches);
  tcase_add_test(it, inf_very_short_watch_backs_off);
  tcase_add_test(it, inf_cut_after_events_rewatches_at_once);
  tcase_add_test(it, inf_gone_relists_with_deletes);
  tcase_add_test(it, inf_expired_continue_restarts_list);
  tcase_add_test(it, inf_reconnect_backoff);
  tcase_add_test(it, inf_list_error_backoff);
  tcase_add_test(it, inf_late_handler_and_removal);
  tcase_add_test(it, inf_stop_cancels_watch);
  tcase_add_test(it, inf_compact_trims_each_iteration);
  tcase_add_test(it, inf_releases_pages_after_a_burst_of_reads);
  suite_add_tcase(s, it);
  tcase_add_checked_fixture(itc, inf_setup, NULL);
  tcase_add_test(itc, inf_close_with_list_in_flight);
  suite_add_tcase(s, itc);
  tcase_add_checked_fixture(its, inf_setup_stream, inf_teardown);
  tcase_add_test(its, inf_stream_lists_then_watches_on);
  tcase_add_test(its, inf_stream_refused_lists_in_pages);
  tcase_add_test(its, inf_stream_ended_early_relists_in_pages);
  tcase_add_test(its, inf_stream_releases_decoded_objects_as_it_goes);
  suite_add_tcase(s, its);
  tcase_add_test(wire, inf_against_k8s_client);
  suite_add_tcase(s, wire);
  return s;
}

TEST_MAIN(cache_suite)
