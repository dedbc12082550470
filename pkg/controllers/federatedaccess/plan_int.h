/* Internal to the AWSFederatedAccountAccess plan files. */
#ifndef PKG_CONTROLLERS_FEDERATEDACCESS_PLAN_INT_H
#define PKG_CONTROLLERS_FEDERATEDACCESS_PLAN_INT_H

#include "controllers/federatedaccess/plan.h"

/* s, or "" for NULL (labels and annotations may be missing). */
static inline const char *fa__s(const char *s)
{
  return s ? s : "";
}

/* The uid label's value (kept when present, else from metadata.uid). */
void fa__uid(const json_t *access, char out[8]);
bool fa_policy_doc_present(const json_t *role);
bool fa__is_mutation(enum fa_action a);
/* "<what>: <AWS code or error>". */
void fa__fmt_failure(const struct fa_obs *o, const char *what, char *out,
                     size_t n);
/* Status step (state with its condition) unless already so: then done
 * with requeue_ms. */
int fa__set_state(const struct fa_snap *sn, struct fa_step *s,
                  const char *state, const char *msg, uint64_t requeue_ms);
/* Role, policy and partition names into s. */
void fa__names(const struct fa_snap *sn, struct fa_step *s, const char *uid);
int fa__scan(struct fa_step *s, const char *why);
/* One IAM step toward the desired state, else Ready (plan_converge.c). */
int fa__converge(const struct fa_snap *sn, struct fa_step *s);
int fa__plan_delete(const struct fa_snap *sn, struct fa_step *s,
                    const char *uid);

#endif
