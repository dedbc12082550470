/* Status conditions with upstream's semantics (pkg/utils/conditions.go).
 *
 * A condition is {type, status "True"/"False", lastProbeTime,
 * lastTransitionTime, reason, message}. Upserting by type:
 * - an existing condition keeps lastTransitionTime unless its status flips,
 *   always gets lastProbeTime = now, and keeps its reason/message unless
 *   the mode is COND_UPDATE_ALWAYS (or the status flips);
 * - a missing condition is appended only when status is True (upstream
 *   never records a False condition that did not exist).
 * Every function builds new values; inputs are never mutated.
 */
#ifndef PKG_CONTROLLERS_COMMON_COND_H
#define PKG_CONTROLLERS_COMMON_COND_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

enum cond_mode {
  COND_UPDATE_IF_NEW, /* keep reason/message of an existing condition */
  COND_UPDATE_ALWAYS  /* overwrite reason/message */
};

/* Borrowed condition of that type in the array, or NULL. */
const json_t *cond_find(const json_t *conds, const char *type);
/* Condition of that type exists with status "True". */
bool cond_is_true(const json_t *conds, const char *type);

/* New array: conds (may be NULL) with the condition upserted. */
json_t *cond_upsert_new(const json_t *conds, const char *type, bool status,
                        const char *reason, const char *message, time_t now,
                        enum cond_mode mode);

/* New deep copy of obj with status.conditions upserted and, when state is
 * not NULL, status.state set. */
json_t *cond_obj_set_new(const json_t *obj, const char *type, bool status,
                         const char *reason, const char *message,
                         const char *state, time_t now, enum cond_mode mode);

/* Set every condition of the (owned) array to status False, refreshing
 * lastTransitionTime where it flips (upstream's claim failure mirror). */
void cond_all_false(json_t *conds, time_t now);

#endif
