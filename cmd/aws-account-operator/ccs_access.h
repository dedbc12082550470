/* CCS-Access-Arn, as upstream's main.go does at start-up: read IAM role
 * RH-SRE-CCS-Access in the payer account with the operator's credentials
 * and write its ARN into the operator ConfigMap key CCS-Access-Arn (only
 * when it differs). Best effort: one attempt per process, once both the
 * credentials and the ConfigMap are there; a failure is logged, never
 * fatal (CCS bootstrap then lacks the ARN, as upstream). */
#ifndef CMD_AWS_ACCOUNT_OPERATOR_CCS_ACCESS_H
#define CMD_AWS_ACCOUNT_OPERATOR_CCS_ACCESS_H

#include "controllers/common/opcfg.h"
#include "controllers/exec/exec.h"

#define CCS_ACCESS_ROLE "RH-SRE-CCS-Access"
#define CCS_ACCESS_KEY "CCS-Access-Arn"

struct aws_api;
struct aws_creds;

struct ccs_access_deps {
  struct aws_api *api;
  struct aws_creds *(*mgmt)(void *arg); /* NULL while missing */
  void *mgmt_arg;
  const struct opcfg *(*cfg)(void *arg); /* NULL while missing */
  void *cfg_arg;
  struct exec_kio kio; /* get + update of the ConfigMap */
  const char *ns;      /* operator namespace */
};

enum ccs_access_state {
  CCS_ACCESS_WAITING,   /* credentials or ConfigMap not there yet */
  CCS_ACCESS_RUNNING,   /* GetRole or the ConfigMap write in flight */
  CCS_ACCESS_WRITTEN,   /* the key was set */
  CCS_ACCESS_UNCHANGED, /* the key already held the ARN */
  CCS_ACCESS_FAILED,    /* logged; not retried */
};

struct ccs_access;
struct ccs_access *ccs_access_new(const struct ccs_access_deps *d);
/* Something changed (credentials, ConfigMap): start the one attempt if
 * both are there and it did not start yet. */
void ccs_access_kick(struct ccs_access *c);
enum ccs_access_state ccs_access_state(const struct ccs_access *c);
/* Free now, or when the call in flight ends (its result is dropped). */
void ccs_access_free(struct ccs_access *c);

#endif
