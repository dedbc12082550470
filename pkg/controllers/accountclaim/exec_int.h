/* Internal to the AccountClaim executor files. */
#ifndef PKG_CONTROLLERS_ACCOUNTCLAIM_EXEC_INT_H
#define PKG_CONTROLLERS_ACCOUNTCLAIM_EXEC_INT_H

#include <time.h>

#include "controllers/accountclaim/exec.h"
#include "util/map.h"

struct met_family;

struct claim_exec {
  struct claim_exec_deps d;
  char ns[64];
  struct exec_runner *run;
  struct met_family *ready, *pending, *cleanup, *cleanup_fail;
  struct met_family *ccs_ready, *ccs_pending, *closed;
  struct map pre; /* claim key -> its round trips started ahead (exec_pre.c) */
};

/* One reconcile in flight (base.obj: the owned copy of the claim). */
struct claim_job {
  struct exec_job base;
  struct claim_exec *e;
  struct claim_step st;
  struct claim_obs last;            /* the action's outcome, for the metrics */
  bool byoc_exists, byoc_finalized; /* prepare: the BYOC Secret */
  /* prepare planned already (the credentials Secret was not needed): the
   * plan hook only reports st, and plan_rc. */
  bool planned;
  int plan_rc;
  json_t *src_data; /* WRITE_SECRET: the account Secret's data (owned) */
  char key_id[64];  /* WRITE_SECRET: its access key id (not secret) */
};
/* The descriptor's functions (exec.c). */
int claim__prepare(struct exec_job *b);
int claim__plan(struct exec_job *b, struct exec_step *v);
int claim__start_aws(struct exec_job *b);
int claim__start_secret(struct exec_job *b);
/* The Fleet Manager actions (exec_fleet.c). */
int claim__start_fleet(struct exec_job *b);
void claim__job_cleanup(struct exec_job *b);
/* claim_aws_done for a job: observation, event, requeue at once. */
void claim__action_done(void *arg, const struct claim_obs *o);
/* A Kubernetes write's callback whose only outcome is obs.result. */
void claim__kio_done(int err, json_t *obj, const struct op_error *det,
                     void *arg);
/* WRITE_SECRET, WRITE_FAKE_SECRET, DELETE_SECRET (exec_secret.c). */
int claim__exec_secret(struct claim_job *j);

/* exec_pre.c: the OU and the IAM Secret started beside the link and
 * reservation writes. pre_start (starting hook) names them, pre_go
 * (started hook) starts them; take_ou:
 * 0 = the ENSURE_OU step's outcome comes from there (now or later), 1 =
 * make the call; get_secret: the WRITE_SECRET step's read of its source,
 * from there or made now (cb(err, obj, det, j) once). */
void claim__pre_start(struct exec_job *b);
void claim__pre_go(void *ctl, const char *key);
int claim__pre_take_ou(struct claim_job *j);
int claim__pre_get_secret(struct claim_job *j, k8s_obj_cb cb);
void claim__pre_free_all(struct claim_exec *e);

/* exec_ccs.c: the BYOC Secret read before planning, its finalizer. */
int claim__prepare_ccs(struct claim_job *j);
int claim__start_byoc(struct exec_job *b);
/* CLAIM_CREATE_ACCOUNT: POST the Account; AlreadyExists is success (the
 * name is the claim's own; the cache may lag after a create). */
int claim__start_create(struct exec_job *b);
/* The credentials Secret check that ends every prepare. */
int claim__prepare_cred(struct exec_job *b);

/* exec_index.c: the cache indexes (installed once per store), the
 * Account -> claims mapping, the snapshot's Accounts (sn->accounts is the
 * caller's to free). */
int claim__index_install(struct store *claims, struct store *accounts);
bool claim__account_free(const json_t *account);
void claim__account_to_waiting(const json_t *a, struct ctrl_keys *out,
                               void *arg);
size_t claim__waiting_count(const struct claim_exec *e);
int claim__snap_accounts(struct claim_exec *e, struct claim_snap *sn);

/* exec_metrics.c: the descriptor's hooks and their families. */
void claim__metrics_init(struct claim_exec *e, struct met_registry *r);
void claim__metrics_seen(struct exec_job *b, int rc);
void claim__metrics_written(struct exec_job *b);
void claim__metrics_action(struct exec_job *b);

#endif
