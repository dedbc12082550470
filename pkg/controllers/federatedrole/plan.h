/* AWSFederatedRole controller: the pure decision layer (upstream's
 * controllers/awsfederatedrole). frole_plan(snapshot) -> ONE step:
 *
 *   ConfigMap missing -> wait; fedramp -> nothing (disabled, as upstream)
 *   deleting: delete the next AWSFederatedAccountAccess (any namespace)
 *     whose spec.awsFederatedRole names this role, then FROLE_CLEAN_PROBES
 *     once (probes of older generations a crash left; any outcome will
 *     do), then drop the finalizer
 *   no finalizer -> add it
 *   generation already judged (annotation validated-generation = uid:gen
 *     and a state) -> done
 *   the verdict for this generation, from the spec and the observations:
 *     neither custom nor managed policies -> Invalid
 *       NoAWSCustomPolicyOrAWSManagedPolicies
 *     custom document fails policy.h's checks -> Invalid
 *       InvalidCustomerPolicy (message: statement index and field)
 *     managed policies named -> FROLE_CHECK_MANAGED; unknown ones ->
 *       Invalid InvalidManagedPolicy naming them
 *     custom policy -> FROLE_PROBE_POLICY (CreatePolicy + DeletePolicy of
 *       frole-probe-<uid>-<generation>); MalformedPolicyDocument -> Invalid
 *       InvalidCustomerPolicy with IAM's message; EntityAlreadyExists (a
 *       crash left the probe) -> FROLE_CLEAN_PROBES, then probe again
 *     all passed -> Valid AllPoliciesValid
 *     any other AWS error -> retry after FROLE_RETRY_S
 *   status (state, conditions) differs from the verdict -> write it
 *   Valid: each access labelled awsFederatedRoleName=<role> whose
 *     role-generation annotation is not uid:gen -> stamp lastRoleUpdate
 *   validated-generation annotation -> write it; done.
 *
 * Nothing durable but the objects: after a restart the checks run again
 * for a generation not yet recorded, and the probe name is the same.
 */
#ifndef PKG_CONTROLLERS_FEDERATEDROLE_PLAN_H
#define PKG_CONTROLLERS_FEDERATEDROLE_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "controllers/common/opcfg.h"
#include "controllers/common/step.h"

#define FROLE_ANN_VALIDATED "aws.managed.openshift.io/validated-generation"
#define FROLE_ANN_ROLE_GEN "aws.managed.openshift.io/federated-role-generation"
#define FROLE_ANN_LAST_UPDATE "lastRoleUpdate"
#define FROLE_LABEL_ROLE "awsFederatedRoleName"
#define FROLE_PROBE_PATH "/aws-account-operator-probe/"
#define FROLE_PROBE_PREFIX "frole-probe-"
#define FROLE_RETRY_S 30

enum frole_action {
  FROLE_DONE,             /* requeue_ms > 0: again after that delay */
  FROLE_UPDATE,           /* object_new: the role (finalizer, annotation) */
  FROLE_UPDATE_STATUS,    /* object_new: the role with its verdict */
  FROLE_REMOVE_FINALIZER, /* object_new: the role without our finalizer */
  FROLE_STAMP_ACCESS,     /* object_new: an access with lastRoleUpdate */
  FROLE_DELETE_ACCESS,    /* target_ns/target_name: an access of the role */
  FROLE_CHECK_MANAGED,    /* AWS: managed (names) exist (ListPolicies AWS) */
  FROLE_PROBE_POLICY,     /* AWS: CreatePolicy probe_name doc, DeletePolicy */
  FROLE_CLEAN_PROBES,     /* AWS: delete policies under FROLE_PROBE_PATH
                             named probe_prefix* (leftovers of this role) */
  FROLE_NACTIONS
};

/* A key's last AWS outcome (the runner's observation). */
struct frole_obs {
  int action;        /* enum frole_action */
  int result;        /* 0 or a negative op_err */
  char aws_code[64]; /* "" = none */
  char message[384]; /* IAM's message on failure */
  char uid[64];      /* the role it was for */
  long long generation;
  time_t at;
  bool managed_ok;   /* carried from the step: managed policies passed */
  char unknown[384]; /* CHECK_MANAGED: unknown names, ", "-separated */
};

/* Owner: the caller; frole_step_cleanup frees what it holds. */
struct frole_step {
  enum frole_action action;
  json_t *object_new;
  char target_ns[64], target_name[256];
  uint64_t requeue_ms;
  char why[160];
  struct plan_event event;
  /* AWS actions */
  json_t *managed; /* CHECK_MANAGED: the names (a reference) */
  char *doc;       /* PROBE: the policy document (owned) */
  char probe_name[128];
  char probe_prefix[96];
  bool managed_ok; /* carried into the observation */
  char uid[64];
  long long generation;
};

struct frole_snap {
  const json_t *role;
  /* The AWSFederatedAccountAccesses that may concern the role: at least
   * those naming it in spec.awsFederatedRole or labelled with its name. */
  const json_t *const *accesses;
  size_t naccesses;
  const struct opcfg *cfg; /* NULL = ConfigMap missing or invalid */
  time_t now;
  const struct frole_obs *obs; /* the key's last observation or NULL */
};

void frole_step_init(struct frole_step *s);
void frole_step_cleanup(struct frole_step *s);
const char *frole_action_name(enum frole_action a);

/* 0 with one step, or OP_EINVAL without a role. */
int frole_plan(const struct frole_snap *sn, struct frole_step *out);

#endif
