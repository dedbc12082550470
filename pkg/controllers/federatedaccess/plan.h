/* AWSFederatedAccountAccess controller: the pure decision layer.
 * fa_plan(snapshot) -> ONE step (common/PLANS.md).
 *
 * Provisioning (upstream 2.8, converging instead of delete + recreate):
 * the credential Secret must be in the access's namespace (else Failed,
 * "Invalid spec"), the role must exist (else Failed, "Requested role does
 * not exist") and be Valid (else InProgress, requeue); finalizer; labels
 * `uid` (from metadata.uid, so a crash never makes two) and
 * `awsFederatedRoleName`; then FA_SCAN reads the target account (signed
 * with the Secret's keys) into the key's observation and each later pass
 * makes one IAM call toward: the custom policy `<name>-<uid>` with the
 * role's document as its default version, the role `<role>-<uid>` trusting
 * externalCustomerAWSIAMARN, exactly the managed and custom policies
 * attached; label `awsAccountID`; status Ready with the switch-role
 * consoleURL. After every IAM call the account is scanned again. The scan
 * is repeated every FA_RESYNC_MS and when the `lastRoleUpdate` annotation
 * changes (drift repair). An IAM failure sets Failed with upstream's
 * message and the AWS code, retried after FA_RETRY_MS.
 *
 * Deletion: scan (the Secret's keys; when they fail or the Secret is gone,
 * OrganizationAccountAccessRole in the awsAccountID label's account from
 * the operator's credentials), detach every policy of the role, delete
 * every local policy named `*-<uid>` (non-default versions first), delete
 * the role (NoSuchEntity is success), remove the finalizer. */
#ifndef PKG_CONTROLLERS_FEDERATEDACCESS_PLAN_H
#define PKG_CONTROLLERS_FEDERATEDACCESS_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "controllers/common/opcfg.h"
#include "controllers/common/step.h"

#define FA_LABEL_UID "uid"
#define FA_LABEL_ACCOUNT "awsAccountID"
#define FA_LABEL_ROLE "awsFederatedRoleName"
#define FA_ANN_ROLE_UPDATE "lastRoleUpdate"
#define FA_ST_IN_PROGRESS "InProgress"
#define FA_ST_READY "Ready"
#define FA_ST_FAILED "Failed"
#define FA_ROLE_VALID "Valid"
#define FA_RESYNC_MS (10 * PLAN_MIN)
#define FA_RETRY_MS (PLAN_MIN)
#define FA_WAIT_ROLE_MS (30 * PLAN_SEC)

enum fa_action {
  FA_DONE,
  FA_UPDATE,            /* object_new: metadata (finalizer, labels) */
  FA_UPDATE_STATUS,     /* object_new: the access with its new status */
  FA_REMOVE_FINALIZER,  /* object_new: the access without our finalizer */
  FA_SCAN,              /* read the target account into the observation */
  FA_CREATE_POLICY,     /* policy_name, doc, description */
  FA_CREATE_POLICY_VER, /* policy_arn, doc (set as default) */
  FA_DELETE_POLICY_VER, /* policy_arn, version_id */
  FA_DELETE_POLICY,     /* policy_arn */
  FA_CREATE_ROLE,       /* role_name, doc (trust), description */
  FA_UPDATE_TRUST,      /* role_name, doc */
  FA_ATTACH,            /* role_name, policy_arn */
  FA_DETACH,            /* role_name, policy_arn */
  FA_DELETE_ROLE,       /* role_name */
  FA_NACTIONS
};

/* Which credentials sign the step's AWS calls. */
enum fa_creds {
  FA_CREDS_SECRET,   /* awsCustomerCredentialSecret's keys */
  FA_CREDS_ORG_ROLE, /* OrganizationAccountAccessRole in account_id */
};

/* The outcome of the key's last AWS action. For FA_SCAN, the aux JSON:
 * {"account": id, "role": null | {"trust": doc},
 *  "attached": [arn...], "policy": null | {"arn", "doc", "default",
 *  "versions": [id...]}, "orphans": [{"arn", "default",
 *  "versions": [id...]}] (deletion: local policies named *-<uid>; only the
 *  first carries versions)}. */
struct fa_obs {
  enum fa_action action;
  int result; /* 0 or a negative op_err */
  char aws_code[64];
  time_t at;
  enum fa_creds creds;
  char role_update[64]; /* lastRoleUpdate when the scan was made */
};

/* Owner: the caller; fa_step_cleanup frees object_new and doc. */
struct fa_step {
  enum fa_action action;
  json_t *object_new;
  uint64_t requeue_ms;
  char why[160];
  struct plan_event event;
  enum fa_creds creds;
  char account_id[32];   /* FA_CREDS_ORG_ROLE */
  char partition[16];    /* the scan's ARNs */
  char role_name[128];   /* <awsFederatedRole.name>-<uid> */
  char policy_name[160]; /* scan/create: <customPolicyName>-<uid>, "" = none */
  char policy_arn[320];
  char version_id[32];
  char description[512];
  char *doc; /* policy or trust document (owned) */
  char uid[8];
  bool deleting;        /* scan: look for orphans instead of policy_name */
  char role_update[64]; /* scan: recorded in the observation */
};

struct fa_snap {
  const json_t *access;
  const json_t *role;       /* the AWSFederatedRole, NULL = not cached */
  const struct opcfg *cfg;  /* NULL = ConfigMap missing or invalid */
  bool secret_ok;           /* the credential Secret has both keys */
  const struct fa_obs *obs; /* NULL = none (e.g. after a restart) */
  const json_t *scan;       /* obs aux (FA_SCAN) */
  time_t now;
};

void fa_step_init(struct fa_step *s);
void fa_step_cleanup(struct fa_step *s);
const char *fa_action_name(enum fa_action a);

/* The custom policy document of a role spec (NULL = none); the trust
 * document for a principal. New strings (free). */
char *fa_policy_doc(const json_t *role);
char *fa_trust_doc(const char *principal_arn);
/* Semantic equality of two JSON documents (either may be NULL). */
bool fa_doc_equal(const char *a, const char *b);
/* The switch-role console URL of the partition. */
int fa_console_url(const char *partition, const char *account, const char *role,
                   char *out, size_t n);

/* 0, or OP_EINVAL without an access. */
int fa_plan(const struct fa_snap *sn, struct fa_step *out);

#endif
