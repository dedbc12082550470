/* AccountValidation and AccountPoolValidation: the pure decision layers
 * (upstream 2.5 and 2.6). Each plan(snapshot) -> ONE step.
 *
 * AccountValidation, per Account:
 *   Failed with no AWS id -> DELETE (feature.validation_delete_account)
 *     or REPORT (an Event saying it would have deleted it);
 *   Ready, non-CCS, with an AWS id, not a payer account: once per period
 *     READ (expected OU id, ListParents, ListTagsForResource when the
 *     ConfigMap has a non-empty shard-name), then on drift MOVE
 *     (feature.validation_move_account) / TAG (feature.validation_tag_account)
 *     and READ again, or REPORT what a flag kept from being repaired;
 *   before that, with a shard-name key, SCRUB: status quotas of regions
 *     listed in disabled-regions removed (upstream's (f), its first part);
 *     then SEED (upstream's (e) and the rest of (f)): regions of
 *     opt-in-regions minus disabled-regions missing from
 *     status.optInRegions added as TODO (feature.opt_in_regions; not while
 *     9 other accounts are opting in), status quota maps that are empty
 *     expanded from the spec (all TODO). The Account controller's Ready
 *     path then enables the regions and follows the quota requests with
 *     its creation-time batching (<= 6 regions enabling, <= 20 quota
 *     requests in flight), so both controllers never write the same
 *     entry: this one only adds entries, that one only moves them on;
 *   anything else: done.
 * The first READ of a key waits until start + phase * pass (phase: a
 * hash of the key in [0, 1)), so a restart spreads a fleet's reads over
 * one pass instead of listing every account at once; later READs follow
 * the key's own last read by one pass; an account whose CreateAccount
 * this process made (ACCT_ANN_REQUESTED_AT at or after start) counts as
 * read at that time (its tags went in the call, nothing has moved it: a
 * fill makes no validation reads). A pass lasts the period, or longer
 * when the fleet needs it: max(period, accounts / VAL_READS_PER_S), so
 * the reads never outrun what the Organizations rate governor gives them
 * (a backlog would keep the queue busy forever: 10,000 accounts in 10
 * minutes are 33 calls/s against 10/s). The waits are delayed queue
 * entries (requeue_ms), not queued work.
 *
 * AccountPoolValidation, per AccountPool: for each pool-owned, unpaused
 * Account whose spec quotas differ from the pool's ConfigMap entry,
 * ACCOUNT_UPDATE (spec) then, once the spec matches, ACCOUNT_RESET (status
 * quota maps emptied, so they are re-applied) behind
 * feature.accountpool_validation; else REPORT once per distinct drift.
 */
#ifndef PKG_CONTROLLERS_VALIDATION_PLAN_H
#define PKG_CONTROLLERS_VALIDATION_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "controllers/common/opcfg.h"
#include "controllers/common/step.h"
#include "controllers/common/validate.h"

/* READs per second over a fleet: a READ is 2 Organizations calls
 * (ListParents, ListTagsForResource) and the management account's
 * governor allows 10/s for all controllers (account creation and claims
 * keep the larger share). */
#define VAL_READS_PER_S 2

/* ---- AccountValidation ------------------------------------------------- */

enum val_action {
  VAL_DONE,   /* requeue_ms > 0: reconcile again after that delay */
  VAL_DELETE, /* DELETE the Account CR (target_ns/target_name) */
  VAL_READ,   /* account_id, root/base/ou_name, read_tags -> val_obs */
  VAL_MOVE,   /* MoveAccount account_id: src_parent -> dst_parent */
  VAL_TAG,    /* TagResource account_id with tags */
  VAL_REPORT, /* no change: the step's Event says what a flag prevented */
  VAL_SCRUB,  /* object_new: the Account without disabled regions' quotas */
  VAL_SEED,   /* object_new: the Account with opt-in regions / quotas seeded */
  VAL_NACTIONS
};

/* The outcome of the key's last action (the runner's observation). A
 * REPORT keeps the READ's fields (and its tags as the aux value). */
struct val_obs {
  int action; /* enum val_action */
  int result; /* 0 or a negative op_err */
  char aws_code[64];
  time_t at;      /* when the action ended */
  time_t read_at; /* when the last READ ended (0 = none) */
  /* READ: the account's parent, the expected parent ("" when the OU
   * check was skipped), whether the expected OU does not exist, whether
   * tags were read (the tags: the observation's aux JSON object). */
  char parent_id[72], expected_id[72];
  bool expected_missing, tags_read;
};

struct val_snap {
  const json_t *account;
  const struct opcfg *cfg; /* NULL = ConfigMap missing or invalid */
  const struct val_obs *obs;
  const json_t *obs_tags; /* the READ's tags (object key -> value) */
  time_t now;
  time_t start;       /* when the controller started */
  uint64_t period_ms; /* validation period (> 0) */
  double phase;       /* [0, 1): the key's offset in the first pass */
  size_t naccounts;   /* Accounts cached: a pass is at least this many
                       * reads at VAL_READS_PER_S */
  /* Accounts opting in (acct_opting_in), this one included. */
  unsigned accounts_opting_in;
};

/* Owner: the caller; val_step_cleanup frees tags. */
struct val_step {
  enum val_action action;
  uint64_t requeue_ms;
  char why[160];
  struct plan_event event;
  char account_id[16];
  char src_parent[72], dst_parent[72];
  /* READ: OU ou_name (a whole OU name) under base, or root */
  char base[72], ou_name[VALIDATE_OU_NAME_MAX + 1];
  char root[72];
  bool read_tags;
  json_t *tags;       /* TAG: key -> value to set */
  json_t *object_new; /* SCRUB, SEED: the Account with the status to write */
  const char *target_ns, *target_name; /* DELETE (borrow the account) */
};

void val_step_init(struct val_step *s);
void val_step_cleanup(struct val_step *s);
const char *val_action_name(enum val_action a);
/* 0, or OP_EINVAL without an account. */
int val_plan(const struct val_snap *sn, struct val_step *out);
/* The desired tags of an account (owner, compliance) or NULL when tags
 * are not checked (no or empty shard-name). New reference. */
json_t *val_desired_tags(const struct opcfg *c);

/* ---- AccountPoolValidation --------------------------------------------- */

enum pv_action {
  PV_DONE,
  PV_ACCOUNT_UPDATE, /* object_new: the Account with the pool's quotas */
  PV_ACCOUNT_RESET,  /* object_new: the Account with empty status maps */
  PV_REPORT,         /* no change: the Event lists the drift */
  PV_NACTIONS
};

struct pv_obs {
  uint64_t sig; /* the drift last reported (0 = none) */
  time_t at;
};

struct pv_snap {
  const json_t *pool;
  const json_t *const *accounts; /* Accounts in the operator namespace */
  size_t naccounts;
  const struct opcfg *cfg;
  const struct pv_obs *obs;
};

struct pv_step {
  enum pv_action action;
  json_t *object_new;
  uint64_t requeue_ms;
  uint64_t sig; /* REPORT: the drift's signature */
  char why[160];
  struct plan_event event;
};

void pv_step_init(struct pv_step *s);
void pv_step_cleanup(struct pv_step *s);
const char *pv_action_name(enum pv_action a);
int pv_plan(const struct pv_snap *sn, struct pv_step *out);
/* region -> code -> value of spec quotas: equal as upstream compares
 * them (values only). Exposed for tests. */
bool pv_quotas_equal(const json_t *account, const struct opcfg_pool *p);

#endif
