/* Account controller, non-CCS path: the pure decision layer.
 *
 * acct_plan(snapshot) -> ONE step. The executor performs the step, stores
 * the outcome of AWS actions in its operation table (struct acct_obs) and
 * requeues the key; the next acct_plan call sees that observation and
 * decides how to record it durably (annotations, spec, status). Durable
 * progress lives only in the object, so a restart resumes where it stopped.
 *
 * Crash-safe creation (improvement over upstream, which can create two AWS
 * accounts for one CR): the deterministic e-mail is written to annotation
 * ACCT_ANN_EMAIL *before* CreateAccount is called; the request id is written
 * to ACCT_ANN_REQUEST_ID right after (the executor does it as part of the
 * ACCT_CREATE_ACCOUNT composite). With an e-mail recorded and no request id
 * the plan always asks for ACCT_RECOVER first (DescribeCreateAccountStatus is
 * not possible without an id: ListCreateAccountStatus by account name plus
 * ListAccounts by e-mail). Since AWS rejects a second account with the same
 * e-mail (EMAIL_ALREADY_EXISTS, which we treat as recovery), one Account CR
 * can never yield two AWS accounts.
 *
 * Progress markers (annotations, so they survive under upstream's CRD):
 *   ACCT_ANN_EMAIL          e-mail used for CreateAccount
 *   ACCT_ANN_REQUEST_ID     "car-..." from CreateAccount
 *   ACCT_ANN_REQUESTED_AT   RFC 3339, when the request id was recorded
 *   ACCT_ANN_TAGGED         "true" once owner/compliance tags were applied
 *   ACCT_ANN_IAM            last IAM bootstrap stage done: "support-role",
 *                           "user", "user-policy"
 * Service quotas (pool quotas copied into spec) are tracked in status
 * exactly as upstream: status.regionalServiceQuotas region -> code ->
 * {value, status} and status.globalServiceQuotas code -> {value, status}.
 *
 *   ACCT_ANN_REGIONS        JSON object region -> phase: "" (to do),
 *                           "clean" (hanging instances cleaned),
 *                           "i-..." (instance launched), "done",
 *                           "error:<code>"
 */
#ifndef PKG_CONTROLLERS_ACCOUNT_PLAN_H
#define PKG_CONTROLLERS_ACCOUNT_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "controllers/common/opcfg.h"
#include "controllers/common/step.h"

#define ACCT_ANN_EMAIL "aws.managed.openshift.io/create-account-email"
#define ACCT_ANN_REQUEST_ID "aws.managed.openshift.io/create-account-request-id"
#define ACCT_ANN_REQUESTED_AT                                                  \
  "aws.managed.openshift.io/create-account-requested-at"
#define ACCT_ANN_TAGGED "aws.managed.openshift.io/account-tagged"
#define ACCT_ANN_IAM "aws.managed.openshift.io/iam-bootstrap"
#define ACCT_ANN_REGIONS "aws.managed.openshift.io/region-init"
/* IAM access key of a plain account (plan_rotate.c): the key the account
 * Secret holds, {"id": "AKIA...", "created": RFC 3339} (when the operator
 * vended it, or first saw it), and an open rotation, {"old": id, "since":
 * RFC 3339} before the new key is stored, {"old", "new", "since"} (since =
 * when the new key was stored) during the grace period. Key ids are not
 * secret. */
#define ACCT_ANN_KEY "aws.managed.openshift.io/iam-access-key"
#define ACCT_ANN_KEY_ROTATION "aws.managed.openshift.io/iam-key-rotation"
/* On the claim: the access key id its credentials Secret holds, copied
 * from the Account's ACCT_ANN_KEY when the Secret was written. A different
 * id on the Account (rotation) makes the claim plan write the Secret
 * again; the Account plan keeps a rotated-out key while a claim holds it.
 * Defined here because both plans read it and the claim plan depends on
 * this header, not the other way round. */
#define CLAIM_ANN_KEY "aws.managed.openshift.io/credentials-key-id"

/* Written by the claim controller with the unlink of a release: the
 * released claim's uid. It names the release, so the revocation on reuse
 * needs no marker of its own: ACCT_ANN_KEY gets "revoked": that uid with
 * the re-vended key, and a revocation is done when the two agree. */
#define ACCT_ANN_RELEASED "aws.managed.openshift.io/released-by-claim"

/* Account states (status.state) and condition types. */
#define ACCT_ST_CREATING "Creating"
#define ACCT_ST_READY "Ready"
#define ACCT_ST_FAILED "Failed"
#define ACCT_ST_CREATION_FAILED "AccountCreationFailed"
#define ACCT_ST_PENDING "Pending"
#define ACCT_ST_PENDING_VERIFICATION "PendingVerification"
#define ACCT_ST_INIT_REGIONS "InitializingRegions"
#define ACCT_ST_OPTING_IN "OptingInRegions"
#define ACCT_ST_OPTED_IN "OptInRegionsEnabled"
#define ACCT_ST_CLAIMED "Claimed"
#define ACCT_ST_CLIENT_ERROR "AccountClientError"
#define ACCT_ST_INTERNAL_ERROR "InternalError"

#define ACCT_CREATE_TIMEOUT_S (25 * 60)
#define ACCT_REGION_TIMEOUT_S (51 * 60)
#define ACCT_ZOMBIE_AGE_S (25 * 60)

enum acct_action {
  /* Nothing to do. requeue_ms > 0: reconcile again after that delay. */
  ACCT_DONE,
  /* Kubernetes writes. object_new is the complete desired object. */
  ACCT_UPDATE,        /* update metadata/spec (PUT, not status) */
  ACCT_UPDATE_STATUS, /* update through the status subresource */
  /* object_new is the Account without our finalizer: update it, then
   * DELETE the CR (zombie GC) */
  ACCT_DELETE,
  /* object_new is the Account without our finalizer: update it (the
   * deletion in progress then completes) */
  ACCT_REMOVE_FINALIZER,
  /* object_new is the linked AccountClaim: update its status (failure
   * mirror, upstream) */
  ACCT_CLAIM_UPDATE_STATUS,

  /* AWS actions. Results go to struct acct_obs (action set to this). */
  /* Organizations ListCreateAccountStatus (States IN_PROGRESS and
   * SUCCEEDED; match AccountName == name, newest first) and ListAccounts
   * (match Email == email). Obs: account_id if an account exists (a
   * SUCCEEDED status carries it), else request_id/create_state of the
   * newest IN_PROGRESS request, else both empty. ListAccounts pages 20 at
   * a time: the executor may answer the e-mail match from the account
   * watcher's latest full listing, as long as that listing started after
   * ACCT_ANN_EMAIL was written. */
  ACCT_RECOVER,
  /* Composite: CreateAccount(AccountName=name, Email=email, Tags=tags,
   * the owner tags); on success immediately write annotations
   * ACCT_ANN_REQUEST_ID=<id>, ACCT_ANN_REQUESTED_AT=<now> and
   * ACCT_ANN_TAGGED=true (metadata update), then obs.request_id.
   * Counts against the org-wide CreateAccount cap until the request is
   * no longer IN_PROGRESS. On an error: obs.result/aws_code. */
  ACCT_CREATE_ACCOUNT,
  /* DescribeCreateAccountStatus(request_id). Obs: create_state,
   * failure_reason, account_id. */
  ACCT_DESCRIBE_CREATE,
  /* Organizations TagResource(account_id, tags) with tags (object). */
  ACCT_TAG_ACCOUNT,
  /* Assume OrganizationAccountAccessRole in account_id, GetCallerIdentity
   * on the operator client, ensure role role_name trusting that ARN and
   * trust_arn (support-jump-role), only AdministratorAccess attached. */
  ACCT_ENSURE_SUPPORT_ROLE,
  /* GetUser / CreateUser user_name (tags). */
  ACCT_ENSURE_IAM_USER,
  /* AttachUserPolicy AdministratorAccess to user_name. */
  ACCT_ATTACH_USER_POLICY,
  /* Composite, so the key is never lost: ListAccessKeys + DeleteAccessKey
   * for all of user_name, CreateAccessKey, create Secret secret_name in
   * the Account's namespace (aws_user_name, aws_access_key_id,
   * aws_secret_access_key; controller owner reference to the Account). If
   * the Secret already exists (AlreadyExists): delete the new key, ok. */
  ACCT_CREATE_ACCESS_KEY_SECRET,
  /* EC2 DescribeRegions (enabled only). Obs: regions. */
  ACCT_DESCRIBE_REGIONS,
  /* In region: terminate running instances of the init types carrying all
   * four cluster tag keys. Obs: hanging = number found. */
  ACCT_REGION_CLEANUP,
  /* In region: DescribeImages(owner ami_owner, x86_64, public, name without
   * SAP/BETA), DescribeInstanceTypes t3.micro else t2.micro, optional vCPU
   * quota (quota_vcpu > 0), RunInstances (tags). Obs: instance_id. */
  ACCT_REGION_LAUNCH,
  /* In region: DescribeInstanceStatus(instance_id); when running (16),
   * TerminateInstances. Obs: instance_done (terminated), else pending. */
  ACCT_REGION_TERMINATE,
  /* Support CreateCase for account_id. Obs: case_id. */
  ACCT_CREATE_CASE,
  /* Support DescribeCases(case_id). Obs: case_resolved. */
  ACCT_DESCRIBE_CASE,
  /* Organizations DescribeAccount(account_id). Obs: account_status. */
  ACCT_DESCRIBE_ACCOUNT,
  /* Assume OrganizationAccountAccessRole; list (all pages) the IAM users
   * and roles tagged clusterAccountName=<name>, clusterNamespace=<ns>, and
   * their access keys, attached and inline policies. Reads only. Obs:
   * result (assume or ListUsers failure -> result < 0) and work: the IAM
   * calls that delete them, one object per call, in order. */
  ACCT_CLEANUP_IAM,
  /* Service Quotas for one quota (region "" = global: the partition's
   * global region, us-east-1 or us-gov-west-1):
   * assume the account role in region; GetServiceQuota(service_code,
   * quota_code) (NoSuchResource -> MANUAL_ACTION); current >= quota_value
   * -> COMPLETED; else ListRequestedServiceQuotaChangeHistoryByQuota
   * (PENDING/CASE_OPENED -> IN_PROGRESS, APPROVED/CASE_CLOSED ->
   * COMPLETED, DENIED -> DENIED) or RequestServiceQuotaIncrease
   * (ResourceAlreadyExists = submitted) -> IN_PROGRESS. Obs: region,
   * quota_code, quota_status. */
  ACCT_QUOTA,
  /* Opt-in region (feature.opt_in_regions): assume the account role in
   * region; Account GetRegionOptStatus; ENABLED/ENABLED_BY_DEFAULT ->
   * ENABLED, ENABLING -> ENABLING, DISABLED/DISABLING -> EnableRegion
   * (ConflictException = submitted) -> ENABLING; AccessDeniedException ->
   * MANUAL_ACTION; ValidationException -> DROP. Obs: region,
   * optin_status. */
  ACCT_OPT_IN_REGION,
  /* The first call of work (an array as in the ACCT_CLEANUP_IAM
   * observation): {"op": DeleteAccessKey|DetachUserPolicy|DeleteUser|
   * DetachRolePolicy|DeleteRolePolicy|DeleteRole, "user"|"role": name,
   * "key"|"arn"|"policy": ...}. Its error is logged only. Obs: work = the
   * rest of the list; result < 0 only when the role cannot be assumed. */
  ACCT_CLEANUP_IAM_STEP,
  /* Support DescribeCases (resolved too, every page): the case whose
   * subject is ours for account_id ("Add account <id> to Enterprise
   * Support"), so a crash between CreateCase and recording its id does not
   * open a second one. Obs: case_id ("" = none). */
  ACCT_FIND_CASE,
  /* CCS/STS: the role chain of cred_mode made with explicit AssumeRole
   * calls, so the plan sees the AWS error code (a chain used by the other
   * actions only reports CredentialsUnavailable). STS: management ->
   * cred_jump (session awsAccountOperator) -> cred_role with external_id
   * (session RH-Account-Initialization). BYOC_ROLE: management -> cred_role
   * (the support role). The credentials are discarded. Obs: result,
   * aws_code. */
  ACCT_ASSUME_CHECK,
  /* Key rotation composite (exec_rotate.c), key_id = the old key: GET the
   * account Secret secret_name; ListAccessKeys of user_name and delete
   * every key but key_id and the Secret's (orphans of a crash between
   * CreateAccessKey and the Secret write); if the Secret no longer holds
   * key_id, an earlier pass stored the new key: obs.key_id = it. Else
   * CreateAccessKey and update the Secret at once (on failure delete the
   * new key again). Obs: key_id = the key the Secret now holds. */
  ACCT_ROTATE_KEY,
  /* DeleteAccessKey(user_name, key_id); NoSuchEntity counts as done. Obs:
   * key_id echoed. */
  ACCT_DELETE_KEY,
  /* Revocation on reuse: as ACCT_CREATE_ACCESS_KEY_SECRET (delete every
   * key of user_name, create one), but the Secret is replaced when it
   * exists. Obs: key_id stored. */
  ACCT_REVOKE_KEYS,
  /* GET the account Secret secret_name. Obs: key_id it holds. */
  ACCT_KEY_INSPECT,
};

/* Whose credentials an account action uses (CCS/STS, plan_ccs.c). */
enum acct_creds {
  ACCT_CREDS_ORG = 0,   /* OrganizationAccountAccessRole from management */
  ACCT_CREDS_BYOC,      /* the keys of the claim's BYOC Secret */
  ACCT_CREDS_BYOC_ROLE, /* management -> AssumeRole cred_role (support role,
                           which trusts the operator's identity) */
  ACCT_CREDS_STS,       /* management -> cred_jump -> cred_role (external_id) */
};

/* The step. Owner: the caller; acct_step_cleanup frees object_new/tags. */
struct acct_step {
  enum acct_action action;
  json_t *object_new;      /* owned; see the action */
  json_t *tags;            /* owned; ACCT_TAG_ACCOUNT and IAM/EC2 tags */
  json_t *work;            /* owned; ACCT_CLEANUP_IAM_STEP */
  uint64_t requeue_ms;     /* after the step completes; 0 = only on events */
  char why[128];           /* short machine-readable cause for logs */
  struct plan_event event; /* recorded on the Account */
  /* AWS action parameters (empty when unused) */
  char account_id[16];
  char name[64];   /* Account CR name = AWS AccountName */
  char email[128]; /* ACCT_RECOVER, ACCT_CREATE_ACCOUNT */
  char request_id[64];
  char region[32];
  char instance_id[32];
  char case_id[64];
  char role_name[96];
  char user_name[96];
  char secret_name[128];
  char trust_arn[256];
  char ami_owner[32];
  char key_id[64];       /* ACCT_ROTATE_KEY, ACCT_DELETE_KEY (never secret) */
  long long quota_vcpu;  /* 0 = do not touch the vCPU quota */
  char service_code[32]; /* ACCT_QUOTA */
  char quota_code[16];
  long long quota_value;
  /* every step: the partition of the ARNs the executor builds ("aws",
   * "aws-us-gov" with fedramp); its global region is where global quotas
   * (region "") are requested */
  char partition[16];
  /* CCS/STS (plan_ccs.c): the credentials of every AWS action on the
   * account, and the claim's KMS key for ACCT_REGION_LAUNCH. */
  enum acct_creds cred_mode;
  char cred_role[256];
  char cred_jump[256];
  char external_id[256];
  char kms_key_id[256];
  /* ACCT_DONE because the snapshot's iam_secret_unknown: read the Secret
   * and plan again. */
  bool need_iam_secret;
  /* Likewise for the snapshot's byoc_unknown. */
  bool need_byoc;
  /* ACCT_DONE waiting for a CreateAccount slot: the executor wakes the
   * key when a slot frees (the requeue is only a safety net). */
  bool wants_slot;
  /* ACCT_DONE until the next DescribeCreateAccountStatus of a request in
   * progress: the requeue jumps the work queue (its answer frees a
   * CreateAccount slot; behind a long queue the slot would idle). */
  bool slot_poll;
  /* ACCT_UPDATE of ACCT_ANN_REGIONS that need not be durable: the
   * executor keeps the map in memory (acct_snap.regions_mem) and plans
   * again instead of writing. A crash then redoes the regions from the
   * durable map; their cleanup finds the instances launched before (they
   * carry the cluster tags) and terminates them. */
  bool regions_soft;
  /* ACCT_UPDATE that only changes annotations recording steps safe to
   * redo: the executor keeps them in memory and plans again; the next
   * write carries them (exec_soft.c). A crash redoes those steps. */
  bool ann_soft;
};

/* The outcome of the last AWS action executed for this key (the
 * executor's operation table). Replaced when a new AWS action starts,
 * untouched by Kubernetes writes (see common/PLANS.md). Echo the step's
 * region (and quota_code) for per-region actions: a plan ignores an
 * observation about another region. Never holds secret material. */
struct acct_obs {
  enum acct_action action;
  int result;        /* 0 or negative op_err */
  char aws_code[64]; /* AWS error code when result < 0 */
  char request_id[64];
  char create_state[16]; /* IN_PROGRESS / SUCCEEDED / FAILED */
  char failure_reason[64];
  char account_id[16];
  char account_status[32]; /* DescribeAccount: ACTIVE, SUSPENDED, ... */
  char case_id[64];
  bool case_resolved;
  char region[32];
  char quota_code[16];
  char quota_status[16]; /* TODO/IN_PROGRESS/COMPLETED/DENIED/MANUAL_ACTION */
  char optin_status[16]; /* ENABLED/ENABLING/MANUAL_ACTION/DROP */
  char instance_id[32];  /* ACCT_REGION_LAUNCH */
  bool instance_done;    /* ACCT_REGION_TERMINATE: terminated */
  int hanging;           /* ACCT_REGION_CLEANUP: instances terminated */
  const json_t *regions; /* ACCT_DESCRIBE_REGIONS: borrowed array of names */
  const json_t *work;    /* ACCT_CLEANUP_IAM(_STEP): borrowed work list */
  /* ACCT_CREATE_ACCOUNT, ACCT_DESCRIBE_CREATE: AWS's RequestedTimestamp
   * (epoch s, 0 = absent), for sub-second polling. */
  double requested_at;
  /* ACCT_RECOVER not called but known empty: this process itself added
   * ACCT_ANN_EMAIL (a conflict-checked write) and has not called
   * CreateAccount since, so no request can use that e-mail. Holds
   * whatever its age; a restart forgets it and recovers. */
  bool own_email;
  char key_id[64]; /* access key id (key actions), never the secret */
  time_t at;       /* when the result arrived */
  uint64_t at_ms;  /* the same in ms (wall clock) */
};

struct acct_snap {
  const json_t *account;   /* borrowed, from the cache */
  const json_t *claim;     /* AccountClaim spec.claimLink(Namespace), or NULL */
  const struct opcfg *cfg; /* NULL = ConfigMap missing or invalid */
  time_t now;
  uint64_t now_ms; /* the same in ms (0 = now * 1000) */
  /* How long the organization's recent CreateAccount requests took (s;
   * 0 = unknown): the first status poll waits about that long. */
  double create_estimate_s;
  bool limit_allows;      /* account watcher: total < account-limit */
  bool create_slot_free;  /* org-wide in-flight CreateAccount < cap */
  bool iam_secret_exists; /* <name>-secret exists */
  /* Not read yet: a plan that needs iam_secret_exists asks for it
   * (acct_step.need_iam_secret) instead of deciding. */
  bool iam_secret_unknown;
  /* Accounts in state OptingInRegions (or Ready with open optInRegions):
   * at most 9 opt in at once (as upstream). */
  unsigned accounts_opting_in;
  /* --support-case-poll-interval in seconds: the PendingVerification poll
   * (DescribeCases, in-progress quota re-checks) and the cap of the settle
   * wait after CreateCase. 0 = upstream's 10 minutes. */
  unsigned case_poll_s;
  const struct acct_obs *obs; /* NULL = none */
  /* Region progress newer than ACCT_ANN_REGIONS (see regions_soft), or
   * NULL. */
  const json_t *regions_mem;
  /* CCS (non-STS): the claim's BYOC Secret was read and holds keys. */
  bool byoc_creds;
  /* Not read yet: a plan that needs byoc_creds asks for it
   * (acct_step.need_byoc) instead of deciding. */
  bool byoc_unknown;
  /* This process saw the AWS account created (exec_fresh.c): nothing of
   * ours is in it but what this process made, so the plan needs no
   * lookup that only matters after a crash (the IAM Secret, a region's
   * hanging instances). fresh_launched: the regions a launch was started
   * in since (borrowed). */
  bool fresh;
  const json_t *fresh_launched;
};

void acct_step_init(struct acct_step *s);
void acct_step_cleanup(struct acct_step *s);
const char *acct_action_name(enum acct_action a);

/* Decide the next step. 0, or OP_EINVAL for a snapshot without account. */
int acct_plan(const struct acct_snap *snap, struct acct_step *out);

/* ms from a DescribeCreateAccountStatus poll made elapsed_ms after the
 * request to the next one, given the organization's recent creation time
 * est_s (0 = unknown); elapsed_ms 0 = the first poll after the request. */
uint64_t acct_create_poll_ms(uint64_t elapsed_ms, double est_s);

/* What a server without the CRD schema lets through and the plan must not
 * act on (spec fields of the wrong JSON type, an awsAccountID that is not
 * 12 digits): why, or NULL. The plan sets such an Account Failed with
 * reason InvalidAccount (a Warning Event) and does nothing more. */
const char *acct_invalid(const json_t *account);

/* Upstream IsFailed(). */
bool acct_state_failed(const char *state);

/* For AccountValidation's (e) and (f) on Ready accounts, which hands the
 * work back to this plan (the Ready path follows open opt-in regions and
 * quota requests):
 * whether the account counts against the 9 accounts opting in at once
 * (OptingInRegions, or Ready with TODO/ENABLING opt-in regions); */
bool acct_opting_in(const json_t *account);
/* the regions of opt-in-regions minus disabled-regions missing from
 * status.optInRegions, each {"status":"TODO"} (new object, NULL when
 * none or feature.opt_in_regions is off); */
json_t *acct_optin_missing(const json_t *account, const struct opcfg *cfg);
/* the status quota maps expanded from the spec (as when the account was
 * created) into status, only where status lacks them (empty or absent);
 * true when status changed. */
bool acct_quotas_fill(const json_t *account, const struct opcfg *cfg,
                      json_t *status);

/* ACCT_ANN_KEY of a: the key id into id (n bytes; id may be NULL) and
 * *created; false when absent or malformed. */
bool acct_key_ann(const json_t *a, char *id, size_t n, time_t *created);

#endif
