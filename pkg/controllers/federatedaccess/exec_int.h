/* Internal to the AWSFederatedAccountAccess executor files. */
#ifndef PKG_CONTROLLERS_FEDERATEDACCESS_EXEC_INT_H
#define PKG_CONTROLLERS_FEDERATEDACCESS_EXEC_INT_H

#include "controllers/federatedaccess/exec.h"

struct fa_exec {
  struct fa_exec_deps d;
  struct exec_runner *run;
};

/* One reconcile in flight (base.obj: the owned copy of the access). */
struct fa_job {
  struct exec_job base;
  struct fa_exec *e;
  struct fa_step st;
  struct aws_creds *secret; /* the credential Secret's keys, or NULL */
  struct aws_target t;
  struct fa_obs o;
  json_t *scan; /* the scan being built */
  char account[32];
  char marker[1024];
};

time_t fa__now(const struct fa_exec *e);
/* EXEC_CALL start for every AWS action (exec_aws.c). */
int fa__start_aws(struct exec_job *b);

#endif
