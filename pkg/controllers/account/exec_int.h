/* Internal to the Account executor files. */
#ifndef PKG_CONTROLLERS_ACCOUNT_EXEC_INT_H
#define PKG_CONTROLLERS_ACCOUNT_EXEC_INT_H

#include "aws/api.h"
#include "controllers/account/exec.h"
#include "util/map.h"

struct acct_exec {
  struct acct_exec_deps d;
  char ns[64];
  struct exec_runner *run;
  /* CCS/STS role-chain handles per Account key (exec_ccs.c), so a chain
   * is assumed once per session, not once per step. */
  struct map ccs;
  /* Keys whose plan waits for a CreateAccount slot (exec_desc.c). */
  struct map slot_waiters;
  /* Region progress not written yet, per key (json_t *, owned). */
  struct map regions;
  /* Annotations not written yet, per key (exec_soft.c): json_t * object
   * name -> string, or null for a removed one (owned). */
  struct map soft;
  /* AWS accounts this process saw created, per key (exec_fresh.c). */
  struct map fresh;
  /* The management identity's ARN (GetCallerIdentity) for the static
   * credentials labelled caller_label: asked once, not per account. */
  char caller_label[128];
  char caller_arn[256];
  /* Region -> "t3.micro" or "t2.micro" (DescribeInstanceTypes): the
   * offering is the region's, not the account's (json_t *, owned). */
  json_t *init_types;
};

/* One reconcile in flight (base.obj: the owned copy of the Account). */
struct acct_job {
  struct exec_job base;
  struct acct_exec *e;
  struct acct_step st;
  struct acct_obs obs;
  json_t *aux;              /* owned: obs.regions */
  struct aws_creds *creds;  /* account role credentials (a reference) */
  struct aws_creds *byoc;   /* CCS: the BYOC Secret's keys (a reference) */
  struct aws_target mgmt_t; /* management account */
  struct aws_target acct_t; /* the account, st.region */
  int stage;
  size_t idx;
  char token[2048];
  char arn[256];
  char new_key_id[64]; /* access key id created (not secret) */
  char *secret_key;    /* wiped and freed */
  char cur_key_id[64]; /* ROTATE_KEY: the key the account Secret holds */
  json_t *list;        /* scratch list of ids/names */
  json_t *inner;       /* scratch: per-entity list (cleanup) */
  size_t iidx;
  bool roles;   /* cleanup scan: users done, now roles */
  char *marker; /* cleanup scan: the next page */
  /* prepare planned already (the IAM Secret was not needed): the plan
   * hook only reports st, and plan_rc. */
  bool planned;
  int plan_rc;
  json_t *view; /* owned: the Account the last plan saw, overlaid */
};

/* Finish an AWS action: store obs (err/aerr when err != 0), event,
 * requeue at once. */
void acct__aws_finish(struct acct_job *j, int err, const struct aws_error *ae);
time_t acct__now(const struct acct_exec *e);
uint64_t acct__now_ms(const struct acct_exec *e);
void acct__regions_forget(struct acct_exec *e, const char *key);

/* exec_soft.c: annotations kept in memory until a write carries them.
 * apply: obj with the key's annotations over it (new), or NULL when there
 * are none; keep: remember what to changes over from (only annotations,
 * else OP_EINVAL); settle: drop what the cached obj shows already. */
json_t *acct__soft_apply(struct acct_exec *e, const char *key,
                         const json_t *obj);
int acct__soft_keep(struct acct_exec *e, const char *key, const json_t *from,
                    const json_t *to);
void acct__soft_settle(struct acct_exec *e, const char *key, const json_t *obj);
/* A metadata write of the key succeeded: its entries become what it wrote
 * (settled once the cache shows it). */
void acct__soft_written(struct acct_exec *e, const char *key,
                        const json_t *written);
/* A write the executor made itself (a composite's) succeeded: until the
 * cache shows it, plan from the answer's annotation name, or the plan,
 * seeing the cached Account without it, writes it again (a 409). */
void acct__soft_hold(struct acct_exec *e, const char *key, const json_t *answer,
                     const char *name);
const char *acct__soft_annotation(const struct acct_exec *e, const char *key,
                                  const char *name);
void acct__soft_forget(struct acct_exec *e, const char *key);
void acct__soft_free(void *v, void *arg);

/* exec_fresh.c: an AWS account this process saw created. set: on its
 * SUCCEEDED; fresh: the regions launched in since (borrowed), or NULL when
 * a (an Account in a bootstrap state) is not such an account;
 * first_key: the first access key composite of it (true once); launch:
 * a launch in region starts. */
void acct__fresh_set(struct acct_exec *e, const char *key, const char *id);
const json_t *acct__fresh(struct acct_exec *e, const char *key,
                          const json_t *a);
bool acct__fresh_first_key(struct acct_exec *e, const char *key,
                           const json_t *a);
void acct__fresh_launch(struct acct_exec *e, const char *key, const json_t *a,
                        const char *region);
void acct__fresh_forget(struct acct_exec *e, const char *key);
void acct__fresh_free(void *v, void *arg);

/* The descriptor's functions (exec.c). */
int acct__prepare(struct exec_job *b);
int acct__plan(struct exec_job *b, struct exec_step *v);
void acct__starting(struct exec_job *b);
int acct__start_aws(struct exec_job *b);
void acct__job_cleanup(struct exec_job *b);

/* Start the step's AWS action; 0 = acct__aws_finish will run. */
int acct__exec_aws(struct acct_job *j);
int acct__exec_iam(struct acct_job *j);
int acct__exec_keysecret(struct acct_job *j);
/* exec_rotate.c: the key actions after ACCT_ASSUME_CHECK (plan.h). */
bool acct__is_key_action(enum acct_action a);
int acct__exec_keys(struct acct_job *j);
int acct__exec_ec2(struct acct_job *j);
int acct__exec_quota(struct acct_job *j);
int acct__exec_cleanup_iam(struct acct_job *j);
int acct__exec_cleanup_step(struct acct_job *j);
/* Account credentials into j->creds and j->acct_t (region st.region). */
int acct__account_target(struct acct_job *j, const char *region);
bool acct__code_is(const struct aws_error *ae, const char *code);

/* exec_ccs.c: CCS/STS credentials. */
int acct__prepare_ccs(struct acct_job *j, const json_t *claim);
/* The IAM Secret check that ends every prepare (exec.c). */
int acct__prepare_iam(struct exec_job *b);
/* acct__account_target for cred_mode != ACCT_CREDS_ORG. */
int acct__ccs_target(struct acct_job *j, const char *region);
int acct__exec_assume_check(struct acct_job *j);
/* Drop the Account's cached chain (it is gone), or all of them. */
void acct__ccs_forget(struct acct_exec *e, const char *key);
void acct__ccs_free_all(struct acct_exec *e);
const json_t *acct__claim_of(const struct acct_exec *e, const json_t *a);

#endif
