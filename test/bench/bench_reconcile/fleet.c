/* The bench driver's fleet and its counting Kubernetes seam (bench.h). */
#include <jansson.h>
#include <string.h>

#include "bench.h"
#include "cache/store.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

#define CLAIM_NS "team"

static int k_get(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  (void)g;
  (void)ns;
  (void)name;
  ((struct bench_io *)arg)->get++;
  cb(OP_ENOTFOUND, NULL, NULL, cbarg);
  return 0;
}

static int k_create(void *arg, const struct k8s_gvr *g, const char *ns,
                    json_t *obj, k8s_obj_cb cb, void *cbarg)
{
  (void)g;
  (void)ns;
  ((struct bench_io *)arg)->create++;
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_update(void *arg, const struct k8s_gvr *g, json_t *obj,
                    k8s_obj_cb cb, void *cbarg)
{
  (void)g;
  ((struct bench_io *)arg)->update++;
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_update_status(void *arg, const struct k8s_gvr *g, json_t *obj,
                           k8s_obj_cb cb, void *cbarg)
{
  (void)g;
  ((struct bench_io *)arg)->update_status++;
  cb(0, obj, NULL, cbarg);
  return 0;
}

static int k_del(void *arg, const struct k8s_gvr *g, const char *ns,
                 const char *name, k8s_obj_cb cb, void *cbarg)
{
  (void)g;
  (void)ns;
  (void)name;
  ((struct bench_io *)arg)->del++;
  cb(0, NULL, NULL, cbarg);
  return 0;
}

static void k_event(void *arg, json_t *obj, const char *type,
                    const char *reason, const char *msg)
{
  (void)obj;
  (void)type;
  (void)reason;
  (void)msg;
  ((struct bench_io *)arg)->events++;
}

struct exec_kio bench_kio(struct bench_io *io)
{
  return (struct exec_kio){ .arg = io,
                            .get = k_get,
                            .create = k_create,
                            .update = k_update,
                            .update_status = k_update_status,
                            .del = k_del,
                            .event = k_event };
}

unsigned long bench_io_k8s(const struct bench_io *io)
{
  return io->get + io->create + io->update + io->update_status + io->del +
         io->events;
}

void bench_io_reset(struct bench_io *io)
{
  memset(io, 0, sizeof(*io));
}

void bench_key(bool account, size_t i, char *out, size_t n)
{
  if (account)
    str_fmt(out, n, BENCH_NS "/acc-%05zu", i);
  else
    str_fmt(out, n, CLAIM_NS "/claim-%05zu", i);
}

static json_t *account(size_t i)
{
  char name[32], secret[48], claim[32], uid[32], id[16];

  str_fmt(name, sizeof(name), "acc-%05zu", i);
  str_fmt(secret, sizeof(secret), "acc-%05zu-secret", i);
  str_fmt(claim, sizeof(claim), "claim-%05zu", i);
  str_fmt(uid, sizeof(uid), "uid-a-%zu", i);
  str_fmt(id, sizeof(id), "%012zu", 100000000000u + i);
  return json_pack(
      "{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:{s:s},s:[s]},"
      "s:{s:s,s:s,s:s,s:s,s:{s:s,s:s}},"
      "s:{s:s,s:b,s:[{s:s,s:s,s:s}]}}",
      "apiVersion", "aws.managed.openshift.io/v1alpha1", "kind", "Account",
      "metadata", "name", name, "namespace", BENCH_NS, "uid", uid,
      "resourceVersion", "1", "creationTimestamp", "2026-01-01T00:00:00Z",
      "labels", "iamUserId", "abc123", "finalizers", OBJ_FINALIZER, "spec",
      "awsAccountID", id, "iamUserSecret", secret, "claimLink", claim,
      "claimLinkNamespace", CLAIM_NS, "legalEntity", "id", "le1", "name", "LE",
      "status", "state", "Ready", "claimed", 1, "conditions", "type", "Ready",
      "status", "True", "lastTransitionTime", "2026-01-01T00:00:00Z");
}

static json_t *claim(size_t i)
{
  char name[32], acc[32], uid[32];

  str_fmt(name, sizeof(name), "claim-%05zu", i);
  str_fmt(acc, sizeof(acc), "acc-%05zu", i);
  str_fmt(uid, sizeof(uid), "uid-c-%zu", i);
  return json_pack(
      "{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:[s]},"
      "s:{s:{s:s,s:s},s:{s:s,s:s},s:{s:[{s:s}]},s:s,s:s},"
      "s:{s:s}}",
      "apiVersion", "aws.managed.openshift.io/v1alpha1", "kind", "AccountClaim",
      "metadata", "name", name, "namespace", CLAIM_NS, "uid", uid,
      "resourceVersion", "1", "creationTimestamp", "2026-01-01T00:00:00Z",
      "finalizers", OBJ_FINALIZER, "spec", "legalEntity", "id", "le1", "name",
      "LE", "awsCredentialSecret", "name", "aws", "namespace", CLAIM_NS, "aws",
      "regions", "name", "us-east-1", "accountLink", acc, "accountOU", "ou-le1",
      "status", "state", "Ready");
}

static json_t *configmap(void)
{
  return json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:s,s:s}}", "apiVersion", "v1",
                   "kind", "ConfigMap", "metadata", "name", BENCH_CM,
                   "namespace", BENCH_NS, "data", "account-limit", "100000",
                   "root", "r-root", "base", "ou-base");
}

int bench_fill(struct store *accounts, struct store *claims, struct store *cm,
               size_t n)
{
  size_t i;

  if (store_put_new(cm, configmap(), NULL))
    return -1;
  for (i = 0; i < n; i++)
    if (store_put_new(accounts, account(i), NULL) ||
        store_put_new(claims, claim(i), NULL))
      return -1;
  return 0;
}
