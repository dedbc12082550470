/* Internal helpers shared by the Account plan files. */
#ifndef PKG_CONTROLLERS_ACCOUNT_PLAN_INT_H
#define PKG_CONTROLLERS_ACCOUNT_PLAN_INT_H

#include "controllers/account/plan.h"
#include "controllers/common/cond.h"

/* Seconds before a step that was throttled or failed transiently is tried
 * again (the executor's own retries were used up). */
#define ACCT_TRANSIENT_RETRY_S 5
/* The step's failure was throttling or transient: worth another try. */
bool acct__transient(const struct acct_obs *o);
/* True (a requeue chosen) while o is younger than ACCT_TRANSIENT_RETRY_S;
 * false when the step is due again. */
bool acct__retry_wait(const struct acct_snap *sn, struct acct_step *s,
                      const struct acct_obs *o, const char *why);
/* Done, optionally requeue after ms. */
void acct__done(struct acct_step *s, uint64_t ms, const char *why);
/* UPDATE_STATUS with a condition upsert (and state when not NULL). */
void acct__cond(struct acct_step *s, const struct acct_snap *sn,
                const char *type, const char *reason, const char *msg,
                const char *state, enum cond_mode mode);
/* State Failed with a True condition ctype/reason and a Warning event. */
void acct__fail(struct acct_step *s, const struct acct_snap *sn,
                const char *ctype, const char *reason, const char *msg);
/* AWS action with the account id filled. */
void acct__aws(struct acct_step *s, const struct acct_snap *sn,
               enum acct_action a, const char *why);
/* The observation, if it is the result of action a. */
const struct acct_obs *acct__obs(const struct acct_snap *sn,
                                 enum acct_action a);
/* Upstream tag set (clusterAccountName, ...); new object. */
json_t *acct__resource_tags_new(const struct acct_snap *sn);
/* iamUserId label or the suffix derived from metadata.uid. */
void acct__iam_suffix(const json_t *a, char out[8]);
/* ACCT_UPDATE of the Account with annotation k set to v. */
void acct__set_ann(const struct acct_snap *sn, struct acct_step *s,
                   const char *k, const char *v, const char *why);

int acct__plan_create(const struct acct_snap *sn, struct acct_step *s);
int acct__plan_bootstrap(const struct acct_snap *sn, struct acct_step *s);
/* Region list: DescribeRegions, then record ACCT_ANN_REGIONS. */
/* Upstream step 12: a reused Ready account left without IAM user Secret
 * and claim (Fleet Manager claims delete them) gets them back. */
bool acct__plan_iam_restore(const struct acct_snap *sn, struct acct_step *s);
int acct__plan_region_list(const struct acct_snap *sn, struct acct_step *s);
int acct__plan_regions(const struct acct_snap *sn, struct acct_step *s);
int acct__plan_verify(const struct acct_snap *sn, struct acct_step *s);
/* Service quotas during PendingVerification: expand spec into status. */
void acct__quotas_expand(const struct acct_snap *sn, json_t *status);
/* One quota step, a DENIED failure, or a status record; false when no
 * quota work is due now. *open set to the TODO+IN_PROGRESS count. */
bool acct__plan_quotas(const struct acct_snap *sn, struct acct_step *s,
                       size_t *open);
/* Opt-in regions: seeding (from Creating) and per-region enabling. */
bool acct__optin_seed(const struct acct_snap *sn, struct acct_step *s);
int acct__plan_optin(const struct acct_snap *sn, struct acct_step *s);
/* Ready accounts: open opt-in regions, then open quota requests (a DENIED
 * one is final, the account stays Ready); true when a step was chosen. */
bool acct__plan_optin_ready(const struct acct_snap *sn, struct acct_step *s);
bool acct__plan_quotas_ready(const struct acct_snap *sn, struct acct_step *s);
int acct__plan_delete(const struct acct_snap *sn, struct acct_step *s);
/* IAM bootstrap stages and the access key Secret (plan_iam.c): true when
 * a step was chosen. */
bool acct__plan_iam_stage(const struct acct_snap *sn, struct acct_step *s);
bool acct__plan_iam_secret(const struct acct_snap *sn, struct acct_step *s);
/* The owner (and compliance) tags of the organization account: passed
 * to CreateAccount, else TagResource. New object. */
json_t *acct__owner_tags(const struct opcfg *c);
/* IAM names of the account (role, user, Secret, trust) and tags. */
void acct__fill_iam(const struct acct_snap *sn, struct acct_step *s);
/* Access keys of Ready plain accounts (plan_rotate.c): revocation on
 * reuse, then rotation; true when a step was chosen. */
bool acct__plan_keys(const struct acct_snap *sn, struct acct_step *s);
/* Milliseconds until the vended key is due for rotation (0 = never). */
uint64_t acct__key_due_ms(const struct acct_snap *sn);
/* ACCT_ANN_KEY = {id, created: now} on obj. */
void acct__record_key(json_t *obj, const char *id, time_t now);
/* CCS/BYOC and STS accounts (plan_ccs.c). */
int acct__plan_ccs(const struct acct_snap *sn, struct acct_step *s);
int acct__plan_delete_ccs(const struct acct_snap *sn, struct acct_step *s);
/* Region list of a CCS account: the claim's regions that are enabled. */
int acct__ccs_region_list(const struct acct_snap *sn, struct acct_step *s);
/* All regions worked: Ready, or Failed when one failed. */
void acct__ccs_finish(const struct acct_snap *sn, struct acct_step *s,
                      const json_t *regions);
/* The claim's customTags (newline-separated key=value, split at the
 * first '=') added to tags; claim may be NULL. */
void acct__custom_tags(const json_t *claim, json_t *tags);

/* Regions done in an account this process saw created (snap.fresh):
 * open the support case before PendingVerification is written, so the
 * state and the case id are one status write (plan_verify.c). A crash in
 * between finds the case by its subject. True when a step was chosen. */
bool acct__plan_case_early(const struct acct_snap *sn, struct acct_step *s);

#endif
