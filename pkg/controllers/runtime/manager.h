/* The manager (controller-runtime's manager.Manager): everything the
 * controllers share on the Kubernetes side, built from the parsed flags.
 *
 *   - the Kubernetes config: --kubeconfig (or $KUBECONFIG), else in-cluster;
 *   - one httpc and one k8s client (QPS/burst from --kube-api-qps/-burst,
 *     User-Agent "aws-account-operator/<version> (<identity>)");
 *   - one informer per kind the operator reads (mgr_watches: Accounts and
 *     AccountPools in --namespace, AccountClaims, AWSFederatedRoles and
 *     AWSFederatedAccountAccesses in all namespaces, the operator ConfigMap
 *     and credentials Secret by field selector in --namespace);
 *   - an Event recorder;
 *   - leader election on the Lease aws-account-operator-lock in
 *     --namespace when --leader-elect (identity $POD_NAME, else
 *     "<hostname>_<pid>").
 *
 * Controllers register with mgr_add_controller before mgr_start; they
 * reconcile only while this replica leads (always when leader election is
 * off). Losing the lease pauses them at once; informers keep running so a
 * standby's caches stay warm.
 *
 * Health: readiness check "informers-synced" (fails until every informer
 * listed once) and "leader" (always passes; leadership is in the log and in
 * the gauge leader_election_master_status{name}).
 *
 * Shutdown: mgr_new registers a loop stop hook that closes the
 * controllers, then the informers and the leader elector (which releases
 * the lease), then the client and httpc, well inside the loop's deadline
 * (a release that does not complete within MGR_RELEASE_MS is cancelled).
 *
 * No Kubernetes configuration at all (no --kubeconfig, no $KUBECONFIG, not
 * in a cluster) is not fatal: the manager logs it and stays disabled (no
 * informers, no checks), so the metrics and health servers still run.
 */
#ifndef PKG_CONTROLLERS_RUNTIME_MANAGER_H
#define PKG_CONTROLLERS_RUNTIME_MANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "k8s/k8s.h"
#include "util/err.h"

struct cfg;
struct loop;
struct met_registry;
struct health;
struct httpc;
struct inf;
struct inf_opts;
struct ctrl;
struct k8s_client;
struct k8s_recorder;
struct mgr;

#define MGR_LEASE_NAME "aws-account-operator-lock"
#define MGR_CONFIGMAP_NAME "aws-account-operator-configmap"
#define MGR_SECRET_NAME "aws-account-operator-credentials"
#define MGR_RELEASE_MS 2000

/* The informers the manager runs, in start order. */
enum mgr_kind {
  MGR_ACCOUNTS,
  MGR_ACCOUNT_POOLS,
  MGR_ACCOUNT_CLAIMS,
  MGR_FEDERATED_ROLES,
  MGR_FEDERATED_ACCESSES,
  MGR_CONFIGMAP,
  MGR_SECRET,
  MGR_NKINDS
};

/* What one informer watches (pure data). */
struct mgr_watch {
  enum mgr_kind kind;
  const char *name;     /* for logs and the readiness message */
  struct k8s_gvr gvr;   /* static strings */
  bool operator_ns;     /* only --namespace (else all namespaces) */
  const char *obj_name; /* field selector metadata.name=<obj_name>, or NULL */
};

/* The table, MGR_NKINDS entries indexed by enum mgr_kind. */
const struct mgr_watch *mgr_watches(void);

/* Fill *o for w in operator namespace ns; fsel (fsel_size bytes) holds
 * the field selector text o points to. Returns 0 or OP_ETOOBIG. */
int mgr_inf_opts(const struct mgr_watch *w, const char *ns, struct inf_opts *o,
                 char *fsel, size_t fsel_size);

/* Leader identity: pod_name when not empty, else "<host>_<pid>". Returns 0
 * or OP_ETOOBIG. */
int mgr_identity(const char *pod_name, const char *host, long pid, char *out,
                 size_t outsize);
/* "aws-account-operator/<version> (<identity>)". */
int mgr_user_agent(const char *version, const char *identity, char *out,
                   size_t outsize);

struct mgr_opts {
  const struct cfg *cfg;        /* borrowed: must outlive the manager */
  struct met_registry *metrics; /* borrowed, may be NULL */
  struct health *health;        /* borrowed, may be NULL */
  const char *version;          /* for the User-Agent */
  const char *identity;         /* NULL = $POD_NAME, else host_pid */
};

/* Build everything, informers included (nothing started). A malformed
 * kubeconfig or an unusable in-cluster mount is OP_ECONFIG/OP_EIO with the
 * reason in *e; the caller exits 1. */
int mgr_new(struct loop *l, const struct mgr_opts *o, struct mgr **out,
            struct op_error *e);
/* Start the informers and leader election (or the controllers at once). */
int mgr_start(struct mgr *m);
/* Free what is left after the loop ended (NULL is fine). */
void mgr_free(struct mgr *m);

/* False when there was no Kubernetes configuration at all. */
bool mgr_enabled(const struct mgr *m);
bool mgr_is_leader(const struct mgr *m);
bool mgr_synced(const struct mgr *m);
const char *mgr_identity_str(const struct mgr *m);

/* Borrowed; NULL when disabled (and informers once shutdown began). */
struct inf *mgr_informer(struct mgr *m, enum mgr_kind k);
struct k8s_client *mgr_client(struct mgr *m);
struct k8s_recorder *mgr_recorder(struct mgr *m);
struct httpc *mgr_httpc(struct mgr *m);

/* Hand a controller (not started) to the manager, which starts, pauses,
 * resumes and closes it. OP_ESTATE after mgr_start. */
int mgr_add_controller(struct mgr *m, struct ctrl *c);
/* The controller added under name, or NULL (borrowed). */
struct ctrl *mgr_controller(struct mgr *m, const char *name);

#endif
