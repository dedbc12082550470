/* AccountPool controller: the pure decision layer (upstream's pool
 * semantics). pool_plan(snapshot) -> ONE step: write the seven status
 * counters when they changed, else create one Account CR when
 * available + progressing + pending < poolSize and the account-limit gate
 * allows, else done. Each created Account triggers the next reconcile
 * (Owns(Account)), so the pool fills one CR at a time. */
#ifndef PKG_CONTROLLERS_ACCOUNTPOOL_PLAN_H
#define PKG_CONTROLLERS_ACCOUNTPOOL_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "controllers/common/opcfg.h"
#include "controllers/common/step.h"

enum pool_action {
  POOL_DONE,           /* requeue_ms > 0: reconcile again after that delay */
  POOL_UPDATE_STATUS,  /* object_new: the pool with the new status */
  POOL_CREATE_ACCOUNT, /* object_new: the Account CR to create (POST) */
};

/* The seven status fields, upstream semantics. */
struct pool_counts {
  long long pool_size; /* copy of spec.poolSize */
  long long unclaimed; /* never claimed and not failed */
  long long claimed;   /* legal entity set or reused */
  long long available; /* never claimed and Ready */
  long long
      progressing;   /* Creating, PendingVerification, InitializingRegions */
  long long pending; /* no state, never claimed, not being deleted */
  long long aws_limit_delta; /* account-limit minus org account count */
};

/* Owner: the caller; pool_step_cleanup frees object_new. */
struct pool_step {
  enum pool_action action;
  json_t *object_new;
  uint64_t requeue_ms;
  char why[128];
  struct plan_event event; /* recorded on the pool */
  struct pool_counts counts;
};

struct pool_snap {
  const json_t *pool;
  const json_t *const *accounts; /* Accounts in the operator namespace */
  size_t naccounts;
  const struct opcfg *cfg; /* NULL = ConfigMap missing or invalid */
  time_t now;
  bool limit_allows;        /* account watcher: total < account-limit */
  bool has_total;           /* the watcher has counted the organization */
  long long total_accounts; /* ACTIVE + creating accounts in the org */
  /* 6 lowercase alphanumerics from the executor's RNG (names_suffix), the
   * Account name suffix and iamUserId label of a new CR. */
  const char *name_suffix;
  /* Accounts this pool created that the Account cache has not shown yet
   * (the executor's expectations). The cache lags the API: counting
   * without them would create the same missing account twice. */
  size_t unseen_creations;
  /* > 0: the pool's status was written less than a second ago; changed
   * counters wait that long (a fill changes them per account state, the
   * status is one write per second at most) while creation goes on. */
  uint64_t status_wait_ms;
  /* The pool's Accounts already counted (unclaimed .. pending; the
   * executor's cache index), or NULL: then accounts are scanned. */
  const struct pool_counts *counted;
};

void pool_step_init(struct pool_step *s);
void pool_step_cleanup(struct pool_step *s);
const char *pool_action_name(enum pool_action a);

/* Counters over the snapshot's accounts (pool membership with the default
 * pool: an Account with an empty spec.accountPool belongs to the default
 * pool of the accountpool ConfigMap key). */
void pool_count(const struct pool_snap *sn, struct pool_counts *out);
/* Add one Account of the pool to the counters it falls in (unclaimed ..
 * pending). */
void pool_count_one(const json_t *a, struct pool_counts *c);

/* An Account of this pool: pool-owned (owner reference or
 * spec.accountPool) and matching the pool's name, "" = the default pool. */
bool pool_owns(const struct opcfg *cfg, const json_t *pool, const json_t *a);
/* Spec quotas as the pool writes them into its Accounts: from the
 * ConfigMap entry (region or "default" -> code -> value when regional,
 * else code -> value) to {code: {value, status: ""}}; a new reference. */
json_t *pool_quotas_new(const json_t *src, bool regional);

/* A spec.poolSize that is not a non-negative integer: why, or NULL. The
 * plan then writes its counters and creates nothing, with a Warning
 * Event InvalidAccountPool (the pool's status has no conditions). */
const char *pool_invalid(const json_t *pool);

/* 0, or OP_EINVAL without a pool. */
int pool_plan(const struct pool_snap *sn, struct pool_step *out);

#endif
