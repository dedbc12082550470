/* pkg/controllers/validation/exec: the AccountValidation and
 * AccountPoolValidation executors against a replacement aws_api table (a
 * tiny organization: a root, a base OU with two pages of OUs, one member
 * account with a parent and tags) and a recording Kubernetes seam. Each
 * test drives reconciles until the plan says done, as the runner's
 * immediate requeues would. */
#include <string.h>

#include "aws/api.h"
#include "aws/core/creds.h"
#include "aws/core/errors.h"
#include "cache/store.h"
#include "controllers/common/obj.h"
#include "controllers/validation/exec.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"

#define NS "aws-account-operator"
#define ID "111122223333"
#define CMF(extra)                                                             \
  "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"                            \
  "\"aws-account-operator-configmap\",\"namespace\":\"" NS "\"},"              \
  "\"data\":{\"root\":\"r-root\",\"base\":\"ou-base\",\"shard-name\":"         \
  "\"e2e\",\"accountpool\":\"hive:\\n  default: true\\n  servicequotas:\\n  "  \
  "  default:\\n      L-1216C47A: '750'\\n\"" extra "}}"
#define FLAGS_ON                                                               \
  ",\"feature.validation_move_account\":\"true\","                             \
  "\"feature.validation_tag_account\":\"true\","                               \
  "\"feature.validation_delete_account\":\"true\","                            \
  "\"feature.accountpool_validation\":\"true\""
#define ACCT(name, le)                                                         \
  "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\",\"kind\":"            \
  "\"Account\",\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" NS        \
  "\",\"resourceVersion\":\"3\"},\"spec\":{\"awsAccountID\":\"" ID "\","       \
  "\"legalEntity\":{\"id\":\"" le "\"}},\"status\":{\"state\":\"Ready\"}}"
#define PERIOD_MS 60000ull

static struct fx {
  struct store *accounts, *pools, *cm;
  struct aws_creds *mgmt;
  struct aws_api api;
  struct val_exec *e;
  struct pv_exec *pv;
  time_t now;
  /* the organization */
  char parent[32];
  json_t *tags;
  bool move_fails;
  /* recorded */
  char calls[64][48];
  int ncalls;
  char events[16][64];
  char ev_msg[16][256];
  int nevents;
  char kcalls[16][96];
  int nk;
  json_t *written;
  int ndone;
  struct ctrl_result res;
} fx;

static void acall(const char *op)
{
  str_copy(fx.calls[fx.ncalls++ % 64], op, sizeof(fx.calls[0]));
}

static int count(const char *op)
{
  int n = 0;

  for (int i = 0; i < fx.ncalls && i < 64; i++)
    n += str_eq(fx.calls[i], op);
  return n;
}

static void mgmt_target(const struct aws_target *t)
{
  ck_assert_ptr_eq(t->creds, fx.mgmt);
  ck_assert_str_eq(t->controller, "accountvalidation");
}

static int f_parents(struct aws_api *api, const struct aws_target *t,
                     const struct aws_list_parents_req *rq,
                     aws_list_parents_cb cb, void *arg)
{
  struct aws_org_ref v[] = { { fx.parent, "ORGANIZATIONAL_UNIT" } };
  struct aws_org_refs_result r = { v, 1, NULL };

  acall("ListParents");
  mgmt_target(t);
  ck_assert_str_eq(rq->child_id, ID);
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_list_ous(struct aws_api *api, const struct aws_target *t,
                      const struct aws_list_ous_req *rq,
                      aws_list_organizational_units_for_parent_cb cb, void *arg)
{
  struct aws_org_ou p1[] = { { "ou-other", NULL, "other" } };
  struct aws_org_ou p2[] = { { "ou-le1", NULL, "le1" } };
  struct aws_org_ous_result r1 = { p1, 1, "page2" }, r2 = { p2, 1, NULL };

  acall("ListOrganizationalUnitsForParent");
  mgmt_target(t);
  ck_assert_str_eq(rq->parent_id, "ou-base");
  cb(0, NULL, rq->next_token ? &r2 : &r1, arg);
  return 0;
}

static int f_tags(struct aws_api *api, const struct aws_target *t,
                  const struct aws_org_list_tags_req *rq,
                  aws_org_list_tags_for_resource_cb cb, void *arg)
{
  struct aws_rtag v[8] = { 0 };
  struct aws_tags_result r = { v, 0, false, NULL };
  const char *k;
  json_t *val;

  acall("ListTagsForResource");
  mgmt_target(t);
  json_object_foreach(fx.tags, k, val)
  {
    v[r.n].key = (char *)k;
    v[r.n++].value = (char *)json_string_value(val);
  }
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_move(struct aws_api *api, const struct aws_target *t,
                  const struct aws_move_account_req *rq, aws_move_account_cb cb,
                  void *arg)
{
  static struct aws_error nf = { .code = "DestinationParentNotFoundException" };
  struct aws_empty_result r = { 0 };

  acall("MoveAccount");
  mgmt_target(t);
  ck_assert_str_eq(rq->account_id, ID);
  ck_assert_str_eq(rq->source_parent_id, fx.parent);
  if (fx.move_fails) {
    cb(OP_EAWS, &nf, NULL, arg);
    return 0;
  }
  str_copy(fx.parent, rq->destination_parent_id, sizeof(fx.parent));
  cb(0, NULL, &r, arg);
  return 0;
}

static int f_tag(struct aws_api *api, const struct aws_target *t,
                 const struct aws_org_tag_req *rq, aws_org_tag_resource_cb cb,
                 void *arg)
{
  struct aws_empty_result r = { 0 };

  acall("TagResource");
  mgmt_target(t);
  for (size_t i = 0; i < rq->ntags; i++)
    json_object_set_new(fx.tags, rq->tags[i].key,
                        json_string(rq->tags[i].value));
  cb(0, NULL, &r, arg);
  return 0;
}

static void kcall(const char *verb, const char *name)
{
  str_fmt(fx.kcalls[fx.nk++ % 16], sizeof(fx.kcalls[0]), "%s %s", verb, name);
}

static int k_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                    k8s_obj_cb cb, void *cbarg)
{
  kcall("update", obj_name(obj));
  json_decref(fx.written);
  fx.written = json_deep_copy(obj);
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_update_status(void *arg, const struct k8s_gvr *g, json_t *obj,
                           k8s_obj_cb cb, void *cbarg)
{
  kcall("update_status", obj_name(obj));
  json_decref(fx.written);
  fx.written = json_deep_copy(obj);
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_del(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  kcall("delete", name);
  cb(0, NULL, NULL, cbarg);
  return 0;
}

static void k_event(void *arg, json_t *obj, const char *type,
                    const char *reason, const char *msg)
{
  str_copy(fx.events[fx.nevents % 16], reason, sizeof(fx.events[0]));
  str_copy(fx.ev_msg[fx.nevents++ % 16], msg, sizeof(fx.ev_msg[0]));
}

static time_t clock_fn(void *arg)
{
  return fx.now;
}

static struct aws_creds *mgmt_fn(void *arg)
{
  return fx.mgmt;
}

static void put(struct store *s, const char *js)
{
  json_t *o = json_loads(js, 0, NULL);

  ck_assert_msg(o != NULL, "bad JSON %s", js);
  ck_assert_int_eq(store_put_new(s, o, NULL), 0);
}

static void done(void *arg, const char *key, const struct ctrl_result *r)
{
  fx.ndone++;
  fx.res = *r;
}

/* The controller's first reconcile (an Account it leaves alone): the
 * first pass starts there, as after the daemon's caches synced. */
static void first_reconcile(void)
{
  struct ctrl_result out = { 0 };
  json_t *a = json_loads(ACCT("boot", ""), 0, NULL);

  json_object_set_new(json_object_get(a, "status"), "state",
                      json_string("Creating"));
  ck_assert_int_eq(store_put_new(fx.accounts, a, NULL), 0);
  ck_assert_int_eq(val_exec_reconcile(fx.e, NS "/boot", &out, done, NULL), 0);
  json_decref(store_delete_take(fx.accounts, NS "/boot"));
}

static void setup(void)
{
  struct exec_kio kio = { .update = k_update,
                          .update_status = k_update_status,
                          .del = k_del,
                          .event = k_event };
  struct val_exec_deps d = { 0 };
  struct pv_exec_deps pd = { 0 };

  memset(&fx, 0, sizeof(fx));
  fx.accounts = store_new(0);
  fx.pools = store_new(0);
  fx.cm = store_new(0);
  fx.mgmt = aws_creds_static_new("AKIAMGMT", "mgmt-secret", NULL);
  fx.tags = json_object();
  str_copy(fx.parent, "r-root", sizeof(fx.parent));
  fx.api.list_parents = f_parents;
  fx.api.list_organizational_units_for_parent = f_list_ous;
  fx.api.org_list_tags_for_resource = f_tags;
  fx.api.move_account = f_move;
  fx.api.org_tag_resource = f_tag;
  fx.now = 1700000000;
  d.kio = kio;
  d.accounts = fx.accounts;
  d.configmap = fx.cm;
  d.api = &fx.api;
  d.mgmt_creds = mgmt_fn;
  d.period_ms = PERIOD_MS;
  d.clock = clock_fn;
  fx.e = val_exec_new(&d);
  ck_assert_ptr_nonnull(fx.e);
  pd.kio = kio;
  pd.pools = fx.pools;
  pd.accounts = fx.accounts;
  pd.configmap = fx.cm;
  fx.pv = pv_exec_new(&pd);
  ck_assert_ptr_nonnull(fx.pv);
  first_reconcile();
  /* past every key's first slot */
  fx.now += PERIOD_MS / 1000;
}

static void teardown(void)
{
  val_exec_free(fx.e);
  pv_exec_free(fx.pv);
  store_free(fx.accounts);
  store_free(fx.pools);
  store_free(fx.cm);
  aws_creds_unref(fx.mgmt);
  json_decref(fx.tags);
  json_decref(fx.written);
}

/* Reconcile key until the plan is done (an immediate requeue means
 * "again"); returns the final requeue in ms. */
static uint64_t settle(const char *key)
{
  for (int i = 0; i < 20; i++) {
    struct ctrl_result out = { 0 };
    int rc = val_exec_reconcile(fx.e, key, &out, done, NULL);

    if (rc == CTRL_PENDING) {
      out = fx.res;
      if (out.err)
        return 0;
    } else {
      ck_assert_int_eq(rc, 0);
    }
    if (out.requeue_after_ms != 1)
      return out.requeue_after_ms;
  }
  ck_abort_msg("no settle");
  return 0;
}

START_TEST(move_and_tag_repaired)
{
  uint64_t wait;

  put(fx.cm, CMF(FLAGS_ON));
  put(fx.accounts, ACCT("a1", ""));
  str_copy(fx.parent, "ou-x", sizeof(fx.parent));
  wait = settle(NS "/a1");
  ck_assert_str_eq(fx.parent, "r-root");
  ck_assert_str_eq(json_string_value(json_object_get(fx.tags, "owner")), "e2e");
  ck_assert_int_eq(count("MoveAccount"), 1);
  ck_assert_int_eq(count("TagResource"), 1);
  ck_assert_int_eq(count("ListParents"), 3); /* read, after move, after tag */
  ck_assert_int_eq(fx.nevents, 2);
  ck_assert_str_eq(fx.events[0], "AccountMoved");
  ck_assert_str_eq(fx.events[1], "AccountTagged");
  ck_assert_uint_eq(wait, PERIOD_MS);
  /* Within the period nothing is read again. */
  ck_assert_uint_eq(settle(NS "/a1"), PERIOD_MS);
  ck_assert_int_eq(count("ListParents"), 3);
  /* After it, once more. */
  fx.now += PERIOD_MS / 1000;
  settle(NS "/a1");
  ck_assert_int_eq(count("ListParents"), 4);
  ck_assert_int_eq(val_exec_obs(fx.e, NS "/a1")->action, VAL_READ);
}
END_TEST

START_TEST(flags_off_only_reported)
{
  put(fx.cm, CMF(""));
  put(fx.accounts, ACCT("a1", ""));
  str_copy(fx.parent, "ou-x", sizeof(fx.parent));
  json_object_set_new(fx.tags, "owner", json_string("someone"));
  ck_assert_uint_eq(settle(NS "/a1"), PERIOD_MS);
  ck_assert_int_eq(count("MoveAccount"), 0);
  ck_assert_int_eq(count("TagResource"), 0);
  ck_assert_str_eq(fx.parent, "ou-x");
  ck_assert_int_eq(fx.nevents, 1);
  ck_assert_str_eq(fx.events[0], "ValidationDryRun");
  ck_assert_ptr_nonnull(strstr(fx.ev_msg[0], "would move it from ou-x"));
  ck_assert_ptr_nonnull(strstr(fx.ev_msg[0], "owner=e2e"));
  /* Reported once per read. */
  settle(NS "/a1");
  ck_assert_int_eq(fx.nevents, 1);
}
END_TEST

/* One listing of base's OUs serves every legal entity's account. */
START_TEST(ou_ids_cached)
{
  put(fx.cm, CMF(FLAGS_ON));
  put(fx.accounts, ACCT("a1", "le1"));
  put(fx.accounts, ACCT("a2", "le1"));
  json_object_set_new(fx.tags, "owner", json_string("e2e"));
  settle(NS "/a1");
  ck_assert_str_eq(fx.parent, "ou-le1");
  settle(NS "/a2");
  ck_assert_int_eq(count("ListOrganizationalUnitsForParent"), 2); /* 2 pages */
  ck_assert_int_eq(count("MoveAccount"), 1);
}
END_TEST

/* A failed move may be a stale OU id: the next read lists again, after
 * the wait. */
START_TEST(failed_move_forgets_ou_ids)
{
  uint64_t wait;

  put(fx.cm, CMF(FLAGS_ON));
  put(fx.accounts, ACCT("a1", "le1"));
  json_object_set_new(fx.tags, "owner", json_string("e2e"));
  str_copy(fx.parent, "ou-x", sizeof(fx.parent));
  fx.move_fails = true;
  wait = settle(NS "/a1");
  ck_assert_uint_eq(fx.res.err, 0);
  ck_assert_int_eq(count("MoveAccount"), 1);
  (void)wait;
  /* the plan waits (min(5 min, period)) */
  ck_assert_uint_eq(settle(NS "/a1"), PERIOD_MS);
  fx.move_fails = false;
  fx.now += PERIOD_MS / 1000;
  settle(NS "/a1");
  ck_assert_int_eq(count("ListOrganizationalUnitsForParent"), 4);
  ck_assert_str_eq(fx.parent, "ou-le1");
}
END_TEST

START_TEST(failed_account_deleted_with_flag)
{
  put(fx.cm, CMF(FLAGS_ON));
  put(fx.accounts, "{\"kind\":\"Account\",\"metadata\":{\"name\":\"f1\","
                   "\"namespace\":\"" NS "\"},\"spec\":{\"awsAccountID\":\"\"},"
                   "\"status\":{\"state\":\"Failed\"}}");
  settle(NS "/f1");
  ck_assert_int_eq(fx.nk, 1);
  ck_assert_str_eq(fx.kcalls[0], "delete f1");
  ck_assert_str_eq(fx.events[0], "FailedAccountDeleted");
  ck_assert_int_eq(fx.ncalls, 0);
}
END_TEST

START_TEST(failed_account_reported_without_flag)
{
  put(fx.cm, CMF(""));
  put(fx.accounts, "{\"kind\":\"Account\",\"metadata\":{\"name\":\"f1\","
                   "\"namespace\":\"" NS "\"},\"spec\":{\"awsAccountID\":\"\"},"
                   "\"status\":{\"state\":\"Failed\"}}");
  settle(NS "/f1");
  settle(NS "/f1");
  ck_assert_int_eq(fx.nk, 0);
  ck_assert_int_eq(fx.nevents, 1);
  ck_assert_str_eq(fx.events[0], "ValidationDryRun");
}
END_TEST

/* Quotas of a disabled region leave the status first (a status write),
 * then validation reads as usual. */
START_TEST(disabled_region_scrubbed)
{
  struct ctrl_result out = { 0 };

  put(fx.cm, CMF(",\"disabled-regions\":\"ap-east-1\""));
  put(fx.accounts,
      "{\"kind\":\"Account\",\"metadata\":{\"name\":\"a1\",\"namespace\":"
      "\"" NS "\"},\"spec\":{\"awsAccountID\":\"" ID "\"},\"status\":{"
      "\"state\":\"Ready\",\"regionalServiceQuotas\":{\"ap-east-1\":{}}}}");
  ck_assert_int_eq(val_exec_reconcile(fx.e, NS "/a1", &out, done, NULL),
                   CTRL_PENDING);
  ck_assert_str_eq(fx.kcalls[0], "update_status a1");
  ck_assert_ptr_null(json_object_get(
      obj_get(fx.written, "status.regionalServiceQuotas"), "ap-east-1"));
  ck_assert_str_eq(fx.events[0], "DisabledRegionsScrubbed");
  ck_assert_int_eq(fx.ncalls, 0);
}
END_TEST

/* (e) and (f): a missing opt-in region and reset status quotas are
 * seeded in one status write (no AWS call: the Account controller works
 * them), then validation reads as usual. */
START_TEST(optin_and_quotas_seeded)
{
  struct ctrl_result out = { 0 };

  put(fx.cm,
      CMF(",\"feature.opt_in_regions\":\"true\",\"opt-in-regions\":"
          "\"af-south-1,ap-east-1\",\"disabled-regions\":\"ap-east-1\""));
  put(fx.accounts,
      "{\"kind\":\"Account\",\"metadata\":{\"name\":\"a1\",\"namespace\":"
      "\"" NS "\",\"annotations\":{\"aws.managed.openshift.io/region-init\":"
      "\"{\\\"us-east-1\\\":\\\"done\\\"}\"}},\"spec\":{\"awsAccountID\":\"" ID
      "\",\"regionalServiceQuotas\":{\"default\":{\"L-1216C47A\":{\"value\":"
      "750}}}},\"status\":{\"state\":\"Ready\",\"regionalServiceQuotas\":{},"
      "\"globalServiceQuotas\":{}}}");
  ck_assert_int_eq(val_exec_reconcile(fx.e, NS "/a1", &out, done, NULL),
                   CTRL_PENDING);
  ck_assert_str_eq(fx.kcalls[0], "update_status a1");
  ck_assert_str_eq(
      obj_str0(fx.written, "status.optInRegions.af-south-1.status"), "TODO");
  ck_assert_ptr_null(obj_get(fx.written, "status.optInRegions.ap-east-1"));
  ck_assert_str_eq(obj_str0(fx.written, "status.regionalServiceQuotas."
                                        "us-east-1.L-1216C47A.status"),
                   "TODO");
  ck_assert_int_eq(
      obj_int(fx.written,
              "status.regionalServiceQuotas.us-east-1.L-1216C47A.value", 0),
      750);
  ck_assert_str_eq(fx.events[0], "ValidationSeeded");
  ck_assert_int_eq(fx.ncalls, 0);
}
END_TEST

/* Nine other accounts opting in (counted from the cache): no seeding
 * now, validation reads as usual. */
START_TEST(optin_capped_by_accounts_opting_in)
{
  char buf[512];

  put(fx.cm, CMF(FLAGS_ON ",\"feature.opt_in_regions\":\"true\","
                          "\"opt-in-regions\":\"af-south-1\""));
  for (int i = 0; i < 9; i++) {
    str_fmt(buf, sizeof(buf),
            "{\"kind\":\"Account\",\"metadata\":{\"name\":\"o%d\","
            "\"namespace\":\"" NS "\"},\"spec\":{},\"status\":{\"state\":"
            "\"%s\",\"optInRegions\":{\"af-south-1\":{\"status\":"
            "\"ENABLING\"}}}}",
            i, i % 2 ? "OptingInRegions" : "Ready");
    put(fx.accounts, buf);
  }
  put(fx.accounts, ACCT("a1", ""));
  fx.now += 10 * 60;
  settle(NS "/a1");
  ck_assert_int_eq(fx.nk, 0);
  ck_assert_int_ge(count("ListParents"), 1);
  /* one of them done: a slot is free */
  put(fx.accounts, "{\"kind\":\"Account\",\"metadata\":{\"name\":\"o0\","
                   "\"namespace\":\"" NS "\"},\"spec\":{},\"status\":{"
                   "\"state\":\"Ready\",\"optInRegions\":{\"af-south-1\":"
                   "{\"status\":\"ENABLED\"}}}}");
  settle(NS "/a1");
  ck_assert_str_eq(fx.kcalls[0], "update_status a1");
  ck_assert_str_eq(
      obj_str0(fx.written, "status.optInRegions.af-south-1.status"), "TODO");
}
END_TEST

/* Without management credentials no call starts; the runner's backoff
 * retries. */
START_TEST(no_credentials)
{
  struct ctrl_result out = { 0 };

  put(fx.cm, CMF(FLAGS_ON));
  put(fx.accounts, ACCT("a1", ""));
  aws_creds_unref(fx.mgmt);
  fx.mgmt = NULL;
  ck_assert_int_lt(val_exec_reconcile(fx.e, NS "/a1", &out, done, NULL), 0);
  ck_assert_int_eq(fx.ncalls, 0);
}
END_TEST

/* 1,000 accounts after a restart: the first reads spread over the period
 * (each tenth of it holds roughly a tenth of them), none at once. */
START_TEST(first_reads_spread)
{
  int buckets[10] = { 0 };
  char key[64];

  for (int i = 0; i < 1000; i++) {
    double p;

    str_fmt(key, sizeof(key), NS "/osd-creds-mgmt-%06d", i);
    p = val_phase(key);
    ck_assert(p >= 0.0 && p < 1.0);
    buckets[(int)(p * 10)]++;
  }
  for (int b = 0; b < 10; b++)
    ck_assert_msg(buckets[b] > 60 && buckets[b] < 140, "bucket %d: %d", b,
                  buckets[b]);
}
END_TEST

/* Before its slot an account waits; the plan's wait ends at the slot. */
START_TEST(first_read_waits_for_its_slot)
{
  put(fx.cm, CMF(FLAGS_ON));
  put(fx.accounts, ACCT("a1", ""));
  fx.now -= PERIOD_MS / 1000; /* the controller's start */
  uint64_t w = settle(NS "/a1");
  double p = val_phase(NS "/a1");

  if ((time_t)(p * 60) > 0) {
    ck_assert_int_eq(fx.ncalls, 0);
    ck_assert_uint_eq(w, (uint64_t)(time_t)(p * 60) * 1000);
  }
}
END_TEST

/* The first pass starts at the first reconcile, not at the controller's
 * creation: a fleet listed for a while is not all due at once. */
START_TEST(first_pass_starts_at_first_reconcile)
{
  struct val_exec_deps d = { .accounts = fx.accounts,
                             .configmap = fx.cm,
                             .api = &fx.api,
                             .mgmt_creds = mgmt_fn,
                             .period_ms = PERIOD_MS,
                             .clock = clock_fn };
  struct val_exec *late = val_exec_new(&d);
  struct ctrl_result out = { 0 };
  double p = val_phase(NS "/a1");

  put(fx.cm, CMF(FLAGS_ON));
  put(fx.accounts, ACCT("a1", ""));
  fx.now += 10 * PERIOD_MS / 1000; /* listing took ten periods */
  ck_assert_int_eq(val_exec_reconcile(late, NS "/a1", &out, done, NULL), 0);
  if ((time_t)(p * 60) > 0) {
    ck_assert_int_eq(fx.ncalls, 0);
    ck_assert_uint_eq(out.requeue_after_ms, (uint64_t)(time_t)(p * 60) * 1000);
  }
  val_exec_free(late);
}
END_TEST

/* ---- AccountPoolValidation ---------------------------------------------- */

#define POOL                                                                   \
  "{\"apiVersion\":\"aws.managed.openshift.io/v1alpha1\",\"kind\":"            \
  "\"AccountPool\",\"metadata\":{\"name\":\"hive\",\"namespace\":\"" NS        \
  "\"},\"spec\":{\"poolSize\":1}}"
#define PACCT(v, st)                                                           \
  "{\"kind\":\"Account\",\"metadata\":{\"name\":\"p1\",\"namespace\":\"" NS    \
  "\",\"ownerReferences\":[{\"kind\":\"AccountPool\",\"name\":\"hive\"}]},"    \
  "\"spec\":{\"accountPool\":\"hive\",\"regionalServiceQuotas\":{"             \
  "\"default\":{\"L-1216C47A\":{\"value\":" v "}}}},\"status\":" st "}"

static int pv_run(void)
{
  struct ctrl_result out = { 0 };
  int rc = pv_exec_reconcile(fx.pv, NS "/hive", &out, done, NULL);

  return rc == CTRL_PENDING ? 0 : rc;
}

START_TEST(pool_spec_then_status)
{
  put(fx.cm, CMF(FLAGS_ON));
  put(fx.pools, POOL);
  put(fx.accounts, PACCT("500", "{\"regionalServiceQuotas\":{\"us-east-1\":{"
                                "\"L-1216C47A\":{\"value\":500}}}}"));
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_str_eq(fx.kcalls[0], "update p1");
  ck_assert_int_eq(
      obj_int(fx.written, "spec.regionalServiceQuotas.default.L-1216C47A.value",
              0),
      750);
  /* the cache shows the new spec: the stale status goes */
  ck_assert_int_eq(store_put_new(fx.accounts, json_deep_copy(fx.written), NULL),
                   0);
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_str_eq(fx.kcalls[1], "update_status p1");
  ck_assert_uint_eq(
      json_object_size(obj_get(fx.written, "status.regionalServiceQuotas")), 0);
  ck_assert_int_eq(store_put_new(fx.accounts, json_deep_copy(fx.written), NULL),
                   0);
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(fx.nk, 2);
  ck_assert_str_eq(fx.events[0], "AccountQuotasUpdated");
  ck_assert_str_eq(fx.events[1], "AccountQuotasReset");
}
END_TEST

START_TEST(pool_drift_reported_once)
{
  put(fx.cm, CMF(""));
  put(fx.pools, POOL);
  put(fx.accounts, PACCT("500", "{}"));
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(fx.nk, 0);
  ck_assert_int_eq(fx.nevents, 1);
  ck_assert_str_eq(fx.events[0], "ValidationDryRun");
  ck_assert_ptr_nonnull(strstr(fx.ev_msg[0], "p1"));
}
END_TEST

/* A clean pass is remembered, but an Account change the pass reads (its
 * quotas) or a change of what it reads in the ConfigMap is seen at once;
 * an annotation or another ConfigMap key is not. */
START_TEST(pool_clean_pass_remembered)
{
  size_t passes;
  json_t *a;

  put(fx.cm, CMF(FLAGS_ON));
  put(fx.pools, POOL);
  put(fx.accounts, PACCT("750", "{}"));
  ck_assert_int_eq(pv_run(), 0);
  a = json_loads(PACCT("750", "{}"), 0, NULL);
  obj_set_annotation(a, "bench/touch", "1");
  ck_assert_int_eq(store_put_new(fx.accounts, a, NULL), 0);
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(fx.nk, 0);
  put(fx.accounts, PACCT("500", "{}"));
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(fx.nk, 1);
  ck_assert_str_eq(fx.kcalls[0], "update p1");
  /* clean again, then the pool's quota changes in the ConfigMap only */
  put(fx.accounts, PACCT("750", "{}"));
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(fx.nk, 1);
  passes = pv_exec_passes(fx.pv);
  put(fx.cm, CMF(FLAGS_ON ",\"bench-touch\":\"1\""));
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_uint_eq(pv_exec_passes(fx.pv), passes); /* another key */
  put(fx.cm, CMF(""));                              /* the flag: off */
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_uint_eq(pv_exec_passes(fx.pv), passes + 1);
  put(fx.cm, CMF(FLAGS_ON));
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_uint_eq(pv_exec_passes(fx.pv), passes + 2);
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_uint_eq(pv_exec_passes(fx.pv), passes + 2);
  a = json_loads(CMF(FLAGS_ON), 0, NULL);
  json_object_set_new(json_object_get(a, "metadata"), "resourceVersion",
                      json_string("2"));
  json_object_set_new(json_object_get(a, "data"), "accountpool",
                      json_string("hive:\n  default: true\n  servicequotas:\n"
                                  "    default:\n"
                                  "      L-1216C47A: '900'\n"));
  ck_assert_int_eq(store_put_new(fx.cm, a, NULL), 0);
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(fx.nk, 2);
  ck_assert_uint_eq(pv_exec_passes(fx.pv), passes + 3);
}
END_TEST

/* Accounts alike in everything the pass reads are judged once: a clean
 * fleet costs one Account per distinct value; a drift anywhere sends the
 * pass over every Account, which fixes the first drifting one. */
static void put_named(const char *name, const char *quota)
{
  json_t *a = json_loads(PACCT("750", "{}"), 0, NULL);

  ck_assert_ptr_nonnull(a);
  json_object_set_new(json_object_get(a, "metadata"), "name",
                      json_string(name));
  obj_set_new(a, "spec.regionalServiceQuotas.default.L-1216C47A.value",
              json_integer(atoi(quota)));
  ck_assert_int_eq(store_put_new(fx.accounts, a, NULL), 0);
}

START_TEST(pool_judged_by_distinct_values)
{
  static const char *const names[] = { "a1", "a2", "a3", "a4", "a5" };
  size_t i;

  put(fx.cm, CMF(FLAGS_ON));
  put(fx.pools, POOL);
  for (i = 0; i < 5; i++)
    put_named(names[i], "750");
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(fx.nk, 0);
  ck_assert_uint_eq(pv_exec_passes(fx.pv), 1);
  ck_assert_uint_eq(pv_exec_examined(fx.pv), 1);
  put_named("a4", "500");
  put_named("a3", "500");
  ck_assert_int_eq(pv_run(), 0);
  ck_assert_int_eq(fx.nk, 1);
  ck_assert_str_eq(fx.kcalls[0], "update a3");
  ck_assert_uint_eq(pv_exec_examined(fx.pv), 1 + 2 + 5);
}
END_TEST

static Suite *validation_exec_suite(void)
{
  Suite *s = suite_create("validation_exec");
  TCase *tc = tcase_create("exec");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, move_and_tag_repaired);
  tcase_add_test(tc, pool_judged_by_distinct_values);
  tcase_add_test(tc, flags_off_only_reported);
  tcase_add_test(tc, ou_ids_cached);
  tcase_add_test(tc, failed_move_forgets_ou_ids);
  tcase_add_test(tc, failed_account_deleted_with_flag);
  tcase_add_test(tc, failed_account_reported_without_flag);
  tcase_add_test(tc, no_credentials);
  tcase_add_test(tc, disabled_region_scrubbed);
  tcase_add_test(tc, optin_and_quotas_seeded);
  tcase_add_test(tc, optin_capped_by_accounts_opting_in);
  tcase_add_test(tc, first_reads_spread);
  tcase_add_test(tc, first_read_waits_for_its_slot);
  tcase_add_test(tc, first_pass_starts_at_first_reconcile);
  tcase_add_test(tc, pool_spec_then_status);
  tcase_add_test(tc, pool_drift_reported_once);
  tcase_add_test(tc, pool_clean_pass_remembered);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(validation_exec_suite)
