/* Deterministic names (upstream controllers/account/generate.go). */
#ifndef PKG_CONTROLLERS_COMMON_NAMES_H
#define PKG_CONTROLLERS_COMMON_NAMES_H

#include <jansson.h>
#include <stddef.h>

struct store_values;

#define NAMES_ACCOUNT_PREFIX "osd-creds-mgmt-"
#define NAMES_SUFFIX_LEN 6

/* 6 lowercase alphanumerics from 6 random bytes (the caller's entropy):
 * out must hold NAMES_SUFFIX_LEN + 1 bytes. */
void names_suffix(const unsigned char rnd[NAMES_SUFFIX_LEN], char *out);
/* "osd-creds-mgmt-<suffix>"; 0 or OP_ETOOBIG. */
int names_account_name(const char *suffix, char *out, size_t outsz);
/* Upstream's formatAccountEmail: "<name minus last dash segment>+<last
 * segment>@redhat.com". A pure function of the CR name, so a restart
 * recomputes the same address. 0 or OP_EINVAL / OP_ETOOBIG. */
int names_account_email(const char *name, char *out, size_t outsz);
/* A stable 6-character suffix derived from a string (for an Account CR
 * that lacks the iamUserId label: derived from metadata.uid). */
void names_suffix_from(const char *seed, char *out);

/* Store index over AWSFederatedAccountAccesses: the "namespace/name" key of
 * the AWSFederatedRole an access references (the access's own namespace
 * when the reference has none). Both federated controllers look accesses
 * up by it, on the one shared cache. */
#define NAMES_IX_ACCESS_ROLE "access.roleRef"
void names_ix_access_role(const json_t *access, struct store_values *out,
                          void *arg);

#endif
