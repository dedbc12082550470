/* AccountValidation and AccountPoolValidation: their descriptors for the
 * step runner (controllers/exec/runner.h) over the plans of plan.h.
 *
 * AccountValidation reconciles Accounts: READ (the expected OU's id,
 * cached per "base/name" in the controller, ListParents,
 * ListTagsForResource), MOVE (MoveAccount), TAG (TagResource), all with
 * the management credentials, through the shared aws_api (so through the
 * AWS rate governor); DELETE of Failed accounts without an AWS id; REPORT
 * (no call: the step's Event); SCRUB and SEED (status writes: the Account
 * controller then works the seeded opt-in regions and quota requests). Its
 * period is --validation-interval.
 *
 * AccountPoolValidation reconciles AccountPools (an Account maps to its
 * pool): spec and status writes on the pool's Accounts, REPORT.
 */
#ifndef PKG_CONTROLLERS_VALIDATION_EXEC_H
#define PKG_CONTROLLERS_VALIDATION_EXEC_H

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "controllers/exec/exec.h"
#include "controllers/exec/runner.h"
#include "controllers/validation/plan.h"

struct aws_api;
struct aws_creds;
struct store;

#define VAL_DEFAULT_PERIOD_MS (10ull * 60ull * 1000ull) /* upstream's */

struct val_exec_deps {
  struct exec_kio kio;
  struct store *accounts; /* borrowed cache; an index added */
  const struct store *configmap;
  /* The parsed ConfigMap; NULL = parse the configmap store each time. */
  const struct opcfg *(*cfg_get)(void *arg);
  void *cfg_arg;
  struct aws_api *api; /* borrowed */
  /* Management credentials (borrowed; NULL while the Secret is missing). */
  struct aws_creds *(*mgmt_creds)(void *arg);
  void *creds_arg;
  uint64_t period_ms; /* 0 = VAL_DEFAULT_PERIOD_MS */
  /* Wall clock in seconds; NULL = time(NULL). */
  time_t (*clock)(void *arg);
  void *clock_arg;
};

struct val_exec;
struct val_exec *val_exec_new(const struct val_exec_deps *d);
void val_exec_free(struct val_exec *e);
int val_exec_reconcile(struct val_exec *e, const char *key,
                       struct ctrl_result *out, exec_done_fn done, void *arg);
const struct val_obs *val_exec_obs(const struct val_exec *e, const char *key);
/* The key's place in the first period, [0, 1) (exposed for tests). */
double val_phase(const char *key);

extern const struct exec_desc val_desc;

struct pv_exec_deps {
  struct exec_kio kio;
  const struct store *pools, *configmap;
  struct store *accounts; /* a counting index added (exec_pool.c) */
  const struct opcfg *(*cfg_get)(void *arg);
  void *cfg_arg;
};

struct pv_exec;
struct pv_exec *pv_exec_new(const struct pv_exec_deps *d);
void pv_exec_free(struct pv_exec *e);
int pv_exec_reconcile(struct pv_exec *e, const char *key,
                      struct ctrl_result *out, exec_done_fn done, void *arg);
/* Passes over the Accounts so far (a clean pass remembered runs
 * none until what it read changes). */
size_t pv_exec_passes(const struct pv_exec *e);
/* Accounts its passes planned over (tests). */
size_t pv_exec_examined(const struct pv_exec *e);

extern const struct exec_desc pv_desc;

/* ---- internal to the executor files ------------------------------------ */

struct val_job;
/* READ, MOVE, TAG (exec_aws.c): 0 = val__observed runs once. */
int val__start_aws(struct exec_job *b);
/* The OU id cache (exec_account.c): borrowed id or NULL; put copies. */
const char *val__ou_get(struct val_exec *e, const char *base, const char *name);
void val__ou_put(struct val_exec *e, const char *base, const char *name,
                 const char *id);
void val__ou_forget(struct val_exec *e);
time_t val__now(const struct val_exec *e);

#endif
