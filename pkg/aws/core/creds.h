/* Credential providers behind one refcounted handle.
 *
 *   static:        aws_creds_static_new (operator Secret keys, or env)
 *   assume role:   aws_creds_assume_role_new (source creds -> STS AssumeRole)
 *   web identity:  aws_creds_web_identity_new (AWS_ROLE_ARN +
 *                  AWS_WEB_IDENTITY_TOKEN_FILE, unsigned STS call)
 *
 * aws_creds_get hands the current value to cb; temporary credentials are
 * refreshed AWS_CREDS_REFRESH_BEFORE_S seconds before they expire, with one
 * refresh in flight and every other caller queued behind it. The value
 * passed to cb is borrowed and valid only during cb. cb runs exactly once
 * when aws_creds_get returns 0; it may run before aws_creds_get returns
 * (when the cached value is fresh).
 *
 * Handles are refcounted (aws_creds_ref/unref) so many in-flight calls can
 * share one; secrets are wiped when the last reference goes.
 */
#ifndef PKG_AWS_CORE_CREDS_H
#define PKG_AWS_CORE_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aws/core/sigv4.h"

#define AWS_CREDS_REFRESH_BEFORE_S 300
/* Keys of the operator credentials Secret. */
#define AWS_SECRET_KEY_ID "aws_access_key_id"
#define AWS_SECRET_KEY_SECRET "aws_secret_access_key"
#define AWS_SECRET_KEY_TOKEN "aws_session_token"
#define AWS_ROLE_SESSION_CHAIN_MAX_S 3600

struct aws_client;
struct aws_creds;

enum aws_creds_kind {
  AWS_CREDS_STATIC,
  AWS_CREDS_ASSUME_ROLE,
  AWS_CREDS_WEB_IDENTITY,
};

typedef void (*aws_creds_cb)(int err, const struct sigv4_creds *v, void *arg);

/* token may be NULL. Returns NULL when id or secret is empty. */
struct aws_creds *aws_creds_static_new(const char *access_key_id,
                                       const char *secret,
                                       const char *session_token);
/* From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
 * Returns 0 or OP_ENOTFOUND. */
int aws_creds_from_env(struct aws_creds **out);

struct aws_assume_role_opts {
  const char *role_arn;
  const char *external_id;  /* optional */
  const char *session_name; /* NULL = "awsAccountOperator" */
  long duration_s;          /* 0 = 3600; capped at 3600 when chaining */
  const char *region;       /* STS region, NULL = client default */
};
/* Takes a new reference on source. */
int aws_creds_assume_role_new(struct aws_client *c, struct aws_creds *source,
                              const struct aws_assume_role_opts *o,
                              struct aws_creds **out);
/* role_arn/token_file NULL: from AWS_ROLE_ARN / AWS_WEB_IDENTITY_TOKEN_FILE
 * (OP_ENOTFOUND when unset). */
int aws_creds_web_identity_new(struct aws_client *c, const char *role_arn,
                               const char *token_file, const char *session_name,
                               struct aws_creds **out);

struct aws_creds *aws_creds_ref(struct aws_creds *c);
void aws_creds_unref(struct aws_creds *c);

int aws_creds_get(struct aws_creds *c, aws_creds_cb cb, void *arg);
/* Forget the cached value (e.g. after ExpiredToken): the next get
 * refreshes. No effect on static credentials. */
void aws_creds_invalidate(struct aws_creds *c);

enum aws_creds_kind aws_creds_kind(const struct aws_creds *c);
/* A non-secret identity for governor keys and logs: the role ARN, or the
 * access key id. */
const char *aws_creds_label(const struct aws_creds *c);
/* Expiry of the cached value (0 = none / static). */
time_t aws_creds_expiry(const struct aws_creds *c);
/* True for credentials that are themselves a role session (AssumeRole,
 * web identity, or static with a session token). */
bool aws_creds_is_role_session(const struct aws_creds *c);

/* Internal, for tests: a replacement wall clock, the STS credentials
 * parser, and the DurationSeconds an AssumeRole refresh asks for. */
extern time_t (*aws__creds_now)(void);
int aws__creds_parse_sts(struct aws_creds *c, const char *body, size_t len);
long aws__creds_duration(const struct aws_creds *c);

#endif
