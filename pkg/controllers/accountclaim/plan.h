/* AccountClaim controller, non-CCS path: the pure decision layer
 * (upstream's claim lifecycle, close-on-release and fake claims).
 *
 * Same contract as the Account plan: claim_plan(snapshot) -> ONE step; the
 * executor performs it, keeps AWS outcomes in its operation table (struct
 * claim_obs) and requeues the key.
 *
 * Improvements over upstream: the account choice is deterministic (a reused
 * account of the same legal entity first, else the OLDEST Ready one, by
 * creationTimestamp then name); the account is linked first and the claim
 * second, and an account already linked to this claim is always adopted,
 * so a crash between the two writes never links two accounts; cleanup on
 * deletion covers EVERY region of spec.aws.regions, tracked in the claim
 * annotation CLAIM_ANN_CLEANUP (JSON region -> "done"). Close-on-release
 * (feature.close_on_release, not FedRAMP, close_account.dry_run false)
 * closes the cleaned account and deletes its CR instead of reusing it.
 */
#ifndef PKG_CONTROLLERS_ACCOUNTCLAIM_PLAN_H
#define PKG_CONTROLLERS_ACCOUNTCLAIM_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "controllers/common/opcfg.h"
#include "controllers/common/step.h"
#include "controllers/common/validate.h"

#define CLAIM_ANN_CLEANUP "aws.managed.openshift.io/cleanup-regions"
/* On the claim: the linked account was closed (close-on-release). */
#define CLAIM_ANN_CLOSED "aws.managed.openshift.io/account-closed"
/* On the Account, as upstream: close rate limiting. */
#define CLAIM_ANN_CLOSE_UNTIL                                                  \
  "aws.managed.openshift.io/close-rate-limited-until"
#define CLAIM_ANN_CLOSE_BACKOFF "aws.managed.openshift.io/close-backoff-seconds"

enum claim_action {
  CLAIM_DONE,             /* requeue_ms > 0: reconcile again after that delay */
  CLAIM_UPDATE,           /* object_new: the claim (metadata/spec) */
  CLAIM_UPDATE_STATUS,    /* object_new: the claim (status) */
  CLAIM_REMOVE_FINALIZER, /* object_new: the claim without finalizer */
  CLAIM_ACCOUNT_UPDATE,   /* object_new: the Account (metadata/spec) */
  CLAIM_ACCOUNT_UPDATE_STATUS, /* object_new: the Account (status) */
  /* Organizations CreateOrganizationalUnit(Name=ou_name, ParentId=parent);
   * on DuplicateOrganizationalUnitException find it with
   * ListOrganizationalUnitsForParent (paginated). Obs: ou_id. */
  CLAIM_ENSURE_OU,
  /* MoveAccount(account_id, SourceParentId=parent, Destination=ou_id). On
   * AccountNotFoundException, ListChildren(ou_id) and report
   * already_there. Obs: ou_id echoed, aws_code (e.g.
   * ConcurrentModificationException). */
  CLAIM_MOVE_ACCOUNT,
  /* Copy aws_access_key_id / aws_secret_access_key from Secret
   * src_secret (Account namespace) into a new Opaque Secret
   * secret_name/secret_namespace (no owner reference, upstream). An
   * existing Secret is success. */
  CLAIM_WRITE_SECRET,
  /* Fake claim: Secret secret_name/secret_namespace with dummy values. */
  CLAIM_WRITE_FAKE_SECRET,
  /* Fake claim deletion: delete Secret secret_name/secret_namespace
   * (NotFound is success). */
  CLAIM_DELETE_SECRET,
  /* Assume OrganizationAccountAccessRole in account_id, in region, and
   * empty one kind of resource, stage (claim_cleanup_next: AMIs owned by
   * the account (deregistered first: a registered image keeps its
   * snapshots InUse), EBS snapshots whose OwnerId is the account, EBS
   * volumes, S3 buckets, VPC endpoint service
   * configurations, Route 53 zones). Obs: region, next_stage ("" = the
   * region is clean), region_started echoed. */
  CLAIM_CLEANUP_REGION,
  /* Close-on-release: Organizations CloseAccount(account_id) with the
   * management (payer) credentials, 30 s timeout. Obs: result, aws_code
   * (AccountAlreadyClosedException counts as success; for
   * ConstraintViolationException put the Reason, e.g.
   * CLOSE_ACCOUNT_QUOTA_EXCEEDED, in aws_code). */
  CLAIM_CLOSE_ACCOUNT,
  /* DELETE the Account account_name (after it was closed). */
  CLAIM_ACCOUNT_DELETE,
  /* CCS/STS: POST object_new (the Account osd-creds-mgmt-<suffix of the
   * claim uid>) into the operator namespace. The name is deterministic,
   * so a repeat after a crash gets AlreadyExists (success), never a
   * second one. Obs: result. */
  CLAIM_CREATE_ACCOUNT,
  /* CCS: GET Secret secret_name/secret_namespace (the BYOC Secret), add
   * (byoc_add) or remove CLAIM_BYOC_FINALIZER, PUT it. A missing Secret
   * is success when removing. Obs: result. */
  CLAIM_BYOC_FINALIZER,
  /* ---- Fleet Manager claims (plan_fleet.c, exec_fleet.c) ---- */
  /* Assume OrganizationAccountAccessRole (partition) in account_id; ensure
   * role CLAIM_FLEET_ROLE trusting trust_arn ("Managed by AAO"): created
   * when missing, deleted (policies first) and created again when it
   * trusts anything else; then PutRolePolicy CLAIM_FLEET_POLICY (the
   * account-scoped document). Converges, so a repeat is harmless. */
  CLAIM_FLEET_ENSURE_ROLE,
  /* Assume the role; delete every IAM user tagged clusterAccountName=
   * account_name and clusterNamespace=<operator namespace>: access keys,
   * attached policies, the user (every page; NoSuchEntity is success). */
  CLAIM_FLEET_DELETE_USERS,
  /* Secret secret_name/secret_namespace holding only role_arn (created,
   * or an existing one's data replaced). */
  CLAIM_FLEET_WRITE_SECRET,
  /* Assume the role; delete CLAIM_FLEET_ROLE: inline policies, attached
   * policies, the role (a missing role is success). */
  CLAIM_FLEET_DELETE_ROLE,
};

/* On the customer's BYOC credentials Secret (upstream). */
#define CLAIM_BYOC_FINALIZER_NAME "finalizer.aws.managed.openshift.io/byoc"

#define CLAIM_FLEET_ROLE "managed-sts-role"
#define CLAIM_FLEET_POLICY "AAO-CustomPolicy"
/* On a deleting Fleet Manager claim: its Secret and role are gone. */
#define CLAIM_ANN_FLEET_CLEANED "aws.managed.openshift.io/fleet-role-removed"

/* Buffer of an ARN in a step: a longer one is refused, never cut. */
#define CLAIM_ARN_SIZE 256

/* Owner: the caller; claim_step_cleanup frees object_new. */
struct claim_step {
  enum claim_action action;
  /* CLAIM_DONE because the snapshot's secret_unknown: read the Secret
   * and plan again. */
  bool need_secret;
  json_t *object_new;
  uint64_t requeue_ms;
  char why[128];
  struct plan_event event; /* recorded on the claim */
  char account_name[64];   /* the Account the step concerns, if any */
  char account_id[16];
  char ou_name[VALIDATE_OU_NAME_MAX + 1];
  char ou_id[64];
  char parent[64]; /* CLAIM_ENSURE_OU: base; CLAIM_MOVE_ACCOUNT: root */
  char region[32];
  char stage[16];        /* CLEANUP_REGION: the kind of resource to empty */
  time_t region_started; /* CLEANUP_REGION: when its first stage started */
  char src_secret[128];
  char secret_name[128];
  char secret_namespace[64];
  /* every step: the partition of the ARNs the executor builds ("aws",
   * "aws-us-gov" with fedramp) */
  char partition[16];
  bool byoc_add; /* CLAIM_BYOC_FINALIZER: add (true) or remove */
  /* Fleet Manager: the trusted principal, the managed-sts-role ARN
   * (FLEET_WRITE_SECRET) */
  char trust_arn[CLAIM_ARN_SIZE];
  char role_arn[CLAIM_ARN_SIZE];
  /* The link and the reservation writes of a fresh claim: what its next
   * steps create or read, so that the executor may start them beside the
   * write (both idempotent: the OU is found or created, the account's IAM
   * Secret only read); "" = not known. */
  char next_ou_name[VALIDATE_OU_NAME_MAX + 1];
  char next_parent[64];
  char next_src_secret[128];
};

struct claim_obs {
  enum claim_action action;
  int result; /* 0 or negative op_err */
  char aws_code[64];
  char ou_id[64];
  bool already_there;  /* MOVE: the account already sits in ou_id */
  char region[32];     /* CLEANUP_REGION */
  char next_stage[16]; /* CLEANUP_REGION: "" = region clean */
  time_t region_started;
  char key_id[64]; /* WRITE_SECRET: the access key id copied (not secret) */
  time_t at;
};

struct claim_snap {
  const json_t *claim;
  /* Accounts in the operator namespace the plan may scan: at least those
   * linked to this claim and, for an unlinked claim, the free ones. */
  const json_t *const *accounts;
  size_t naccounts;
  /* Optional: an Account by name (the executor's cache); NULL = search
   * accounts[]. */
  const json_t *(*account_named)(const void *arg, const char *name);
  const void *account_arg;
  const struct opcfg *cfg; /* NULL = ConfigMap missing or invalid */
  time_t now;
  bool secret_exists; /* Secret spec.awsCredentialSecret exists */
  /* Not read yet: a plan that needs secret_exists asks for it
   * (claim_step.need_secret) instead of deciding. */
  bool secret_unknown;
  /* CCS claims: the BYOC Secret spec.byocSecretRef exists, and carries
   * CLAIM_BYOC_FINALIZER_NAME. */
  bool byoc_secret_exists, byoc_secret_finalized;
  const struct claim_obs *obs;
  /* The AccountPool claim_pool_name names was looked up in the operator
   * namespace (pool_checked) and exists (pool_exists). */
  bool pool_checked, pool_exists;
};

void claim_step_init(struct claim_step *s);
void claim_step_cleanup(struct claim_step *s);
const char *claim_action_name(enum claim_action a);
/* The cleanup stage after stage ("" = before the first): "images",
 * "snapshots", "volumes", "buckets", "vpce", "zones", then "". */
const char *claim_cleanup_next(const char *stage);

/* 0, or OP_EINVAL without a claim. */
int claim_plan(const struct claim_snap *sn, struct claim_step *out);

/* The account a claim would get now (borrowed), or NULL. Deterministic:
 * reused with the same legal entity first, else the oldest Ready one. */
const json_t *claim_pick_account(const struct claim_snap *sn);
/* Whether the claim may take (reserve) account a now: sn needs the claim
 * and the configuration only. */
bool claim_may_take(const struct claim_snap *sn, const json_t *a);

/* Set (True) while the AccountPool the claim names does not exist. */
#define CLAIM_COND_NO_POOL "AccountPoolNotFound"

/* Non-CCS validation: the first rule the claim breaks (Secret in another
 * namespace or not a valid Secret name, a legalEntity.id longer than an
 * OU name may be, a region that is not one), as the InvalidAccountClaim
 * message, or NULL. */
const char *claim_invalid(const json_t *claim);
/* The AccountPool a claim draws from: spec.accountPool, else the default
 * pool of the accountpool key; NULL when neither. */
const char *claim_pool_name(const json_t *claim, const struct opcfg *cfg);

/* CCS/STS validation (upstream Validate()): the first rule the claim
 * breaks, as the InvalidAccountClaim message, or NULL. */
const char *claim_ccs_invalid(const json_t *claim);
/* arn:<aws|aws-us-gov|aws-cn>:iam::<12 digits>:role/<name>. */
bool claim_role_arn_ok(const char *arn);

#endif
