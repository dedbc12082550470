/* Internal helpers of the AccountClaim plan. */
#ifndef PKG_CONTROLLERS_ACCOUNTCLAIM_PLAN_INT_H
#define PKG_CONTROLLERS_ACCOUNTCLAIM_PLAN_INT_H

#include "controllers/accountclaim/plan.h"
#include "controllers/common/cond.h"

#define CLAIM_MSG_SECRET_NAME                                                  \
  "awsCredentialSecret.name must be a valid Secret name (lowercase "           \
  "alphanumerics, '-' and '.', at most 253 characters)"

void claim__done(struct claim_step *s, uint64_t ms, const char *why);
/* May the plan read sn->secret_exists? false: the step now asks for the
 * Secret (need_secret, CLAIM_DONE); return it as planned. */
bool claim__secret_known(const struct claim_snap *sn, struct claim_step *s);
void claim__status(struct claim_step *s, const struct claim_snap *sn,
                   const char *type, const char *reason, const char *msg,
                   const char *state);
const struct claim_obs *claim__obs(const struct claim_snap *sn,
                                   enum claim_action a);
const json_t *claim__account(const struct claim_snap *sn, const char *name);
void claim__secret_dest(const struct claim_snap *sn, struct claim_step *s);

/* The Account names this claim back (spec.claimLink, its namespace). */
bool claim__reserved(const struct claim_snap *sn, const json_t *a);
/* The support role ARN of account a; 0, or OP_EINVAL without an AWS
 * account id. */
int claim__support_arn(const struct claim_snap *sn, const json_t *a, char *out,
                       size_t n);
int claim__plan_linked(const struct claim_snap *sn, const json_t *acct,
                       struct claim_step *s);
/* Close-on-release for a cleaned, still linked account; false = reuse. */
/* Whether close-on-release applies (feature on, not FedRAMP, no dry run). */
bool claim__close_wanted(const struct opcfg *cfg);
bool claim__plan_close(const struct claim_snap *sn, const json_t *a,
                       struct claim_step *s);
int claim__plan_delete(const struct claim_snap *sn, struct claim_step *s);
/* CLAIM_REMOVE_FINALIZER: the claim without our finalizer. */
void claim__remove_finalizer(const struct claim_snap *sn, struct claim_step *s,
                             const char *why);
/* CCS/BYOC and STS claims (plan_ccs.c). */
int claim__plan_ccs(const struct claim_snap *sn, struct claim_step *s);
/* The Account name a CCS/STS claim gets: osd-creds-mgmt-<suffix of uid>. */
void claim__ccs_account_name(const json_t *claim, char *out, size_t n);
/* Fleet Manager claims (plan_fleet.c): the claim asks for the role flow
 * (trustedARN set, a pool that is not the default one). */
bool claim__is_fleet(const struct claim_snap *sn);
const char *claim__fleet_action_name(enum claim_action a);
/* The linked, placed claim's credentials: role, IAM users, Secret, Ready. */
int claim__plan_fleet(const struct claim_snap *sn, const json_t *acct,
                      struct claim_step *s);
/* Deletion: the claim Secret and the role go first; false = done, go on
 * with the reuse cleanup. */
bool claim__plan_fleet_delete(const struct claim_snap *sn, const json_t *acct,
                              struct claim_step *s);
int claim__plan_fake(const struct claim_snap *sn, struct claim_step *s);

/* A satisfied claim whose Secret holds another key than the linked
 * Account's (rotated, revoked): plan_link.c copies it again. */
bool claim__key_stale(const struct claim_snap *sn, const json_t *a);

#endif
