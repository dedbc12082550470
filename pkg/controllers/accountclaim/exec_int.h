/* Internal to the AccountClaim executor files. */
#ifndef PKG_CONTROLLERS_ACCOUNTCLAIM_EXEC_INT_H
#define PKG_CONTROLLERS_ACCOUNTCLAIM_EXEC_INT_H

#include <time.h>

#include "controllers/accountclaim/exec.h"

struct met_family;

struct claim_obs_ent {
  char key[256];
  struct claim_obs obs;
  struct claim_obs_ent *next;
};

struct claim_exec {
  struct claim_exec_deps d;
  char ns[64];
  struct claim_obs_ent *obs;
  struct met_family *crs, *ready, *pending, *cleanup, *cleanup_fail;
  struct met_family *ccs_ready, *ccs_pending, *closed;
};

/* One reconcile in flight. */
struct claim_job {
  struct claim_exec *e;
  char key[256];
  json_t *claim; /* owned copy of the cached claim */
  bool secret_exists;
  struct claim_step st;
  time_t started; /* CLEANUP_REGION start, for the duration histogram */
  exec_done_fn done;
  void *arg;
};

void claim__job_free(struct claim_job *j);
void claim__finish(struct claim_job *j, const struct ctrl_result *r);
void claim__obs_put(struct claim_exec *e, const char *key,
                    const struct claim_obs *o);
/* claim_aws_done for a job: observation, event, requeue at once. */
void claim__action_done(void *arg, const struct claim_obs *o);
/* WRITE_SECRET, WRITE_FAKE_SECRET, DELETE_SECRET (exec_secret.c). */
int claim__exec_secret(struct claim_job *j);

/* exec_metrics.c */
void claim__metrics_init(struct claim_exec *e, struct met_registry *r);
void claim__metrics_seen(struct claim_job *j);
void claim__metrics_written(struct claim_job *j);
void claim__metrics_action(struct claim_job *j, const struct claim_obs *o);

#endif
