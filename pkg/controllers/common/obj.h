/* Read-only accessors and copy-builders for the operator's objects
 * (Account, AccountClaim, AccountPool, AWSFederatedRole,
 * AWSFederatedAccountAccess) as jansson values, exactly as the informers'
 * stores hold them.
 *
 * Accessors never mutate and return borrowed pointers (valid as long as the
 * object is). Builders work only on objects the caller owns (a deep copy
 * made with obj_copy_new): plans never touch cached objects.
 */
#ifndef PKG_CONTROLLERS_COMMON_OBJ_H
#define PKG_CONTROLLERS_COMMON_OBJ_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#define OBJ_NAMESPACE "aws-account-operator"
#define OBJ_API_VERSION "aws.managed.openshift.io/v1alpha1"
#define OBJ_FINALIZER "finalizer.aws.managed.openshift.io"
#define OBJ_ANN_PAUSE "aws.managed.openshift.com/pause-reconciliation"
#define OBJ_ANN_FAKE "managed.openshift.com/fake"
#define OBJ_LABEL_IAM_USER_ID "iamUserId"

/* Dotted path lookup ("spec.legalEntity.id"); NULL when any part is
 * missing. Path segments cannot contain dots (use json_object_get for map
 * keys such as region names). */
const json_t *obj_get(const json_t *o, const char *path);
/* String at path, NULL when missing or not a string. */
const char *obj_str(const json_t *o, const char *path);
/* String at path, "" when missing. */
const char *obj_str0(const json_t *o, const char *path);
/* true only for a JSON true at path. */
bool obj_bool(const json_t *o, const char *path);
/* Integer at path, dflt when missing or not an integer. */
long long obj_int(const json_t *o, const char *path, long long dflt);

const char *obj_name(const json_t *o);      /* "" when missing */
const char *obj_namespace(const json_t *o); /* "" when missing */
const char *obj_uid(const json_t *o);       /* "" when missing */
/* metadata.creationTimestamp; 0 or OP_ENOTFOUND / OP_EPARSE. */
int obj_creation_time(const json_t *o, time_t *out);
/* metadata.deletionTimestamp is set. */
bool obj_deleting(const json_t *o);
const char *obj_label(const json_t *o, const char *key);
const char *obj_annotation(const json_t *o, const char *key);
bool obj_has_finalizer(const json_t *o, const char *finalizer);
size_t obj_finalizer_count(const json_t *o);
/* Name of the first ownerReference of the given kind, NULL if none. */
const char *obj_owner_name(const json_t *o, const char *kind);
/* Pause annotation set to "true". */
bool obj_paused(const json_t *o);

/* Parse an RFC 3339 timestamp at path; 0 or OP_ENOTFOUND / OP_EPARSE. */
int obj_time(const json_t *o, const char *path, time_t *out);

/* ---- builders: only on objects the caller owns ---- */

/* Deep copy (new reference). */
json_t *obj_copy_new(const json_t *o);
/* obj_get on an object the caller owns, for changing what it finds. */
json_t *obj_get_mut(json_t *o, const char *path);
/* Set v (stolen) at path, creating intermediate objects. */
void obj_set_new(json_t *o, const char *path, json_t *v);
void obj_set_str(json_t *o, const char *path, const char *s);
void obj_del(json_t *o, const char *path);
void obj_set_annotation(json_t *o, const char *key, const char *val);
void obj_del_annotation(json_t *o, const char *key);
void obj_set_label(json_t *o, const char *key, const char *val);
void obj_add_finalizer(json_t *o, const char *finalizer);
void obj_remove_finalizer(json_t *o, const char *finalizer);
/* A new RFC 3339 string value for t. */
json_t *obj_time_new(time_t t);

#endif
