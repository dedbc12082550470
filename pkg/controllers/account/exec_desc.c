/* Account controller: its descriptor (exec.h). */
#include <stdlib.h>
#include <string.h>

#include "cache/store.h"
#include "config/config.h"
#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "workqueue/workqueue.h"

/* A claim maps to the Account it links (failure mirror, claimed flag). */
static void claim_to_account(const json_t *c, struct ctrl_keys *out, void *arg)
{
  struct acct_exec *e = arg;
  const char *n = obj_str(c, "spec.accountLink");
  char key[300];

  if (!str_empty(n) && str_fmt(key, sizeof(key), "%s/%s", e->ns, n) >= 0)
    ctrl_keys_add(out, key);
}

/* A deleted Account no longer holds a CreateAccount slot. */
static void gone(void *ctl, const char *key)
{
  struct acct_exec *e = ctl;

  free(map_del(&e->slot_waiters, key));
  if (e->d.watcher)
    exec_watcher_create_end(e->d.watcher, key);
  acct__ccs_forget(e, key);
  acct__regions_forget(e, key);
  acct__soft_forget(e, key);
  acct__fresh_forget(e, key);
}

#define SLOT_WAKE 10

/* A CreateAccount slot freed: wake some Accounts waiting for one, twice
 * the usual number of slots (one that no longer needs it must not keep
 * the others asleep until their safety requeue); the rest wait for the
 * next. Waking every waiter would re-plan a whole fill per creation.
 * They go to the head of the work queue, in their order: with one
 * account worker, the post-creation steps of other accounts queued
 * before them would otherwise keep the slot idle. */
static void slot_freed(void *arg)
{
  struct acct_exec *e = arg;
  struct ctrl *c = exec_runner_ctrl(e->run);
  const char *k;
  void *v;
  char *keys[SLOT_WAKE];
  size_t i = 0, n = 0;

  while (n < SLOT_WAKE && map_next(&e->slot_waiters, &i, &k, &v))
    keys[n++] = strdup(k);
  while (n-- > 0) { /* each goes in front of the ones after it */
    if (keys[n]) {
      map_del(&e->slot_waiters, keys[n]);
      if (c)
        wq_add_first(ctrl_queue(c), keys[n]);
    }
    free(keys[n]);
  }
}

static void planned(struct exec_job *b, int rc)
{
  struct acct_job *j = (struct acct_job *)b;
  struct ctrl *c = exec_runner_ctrl(j->e->run);

  if (rc == 0 && j->st.wants_slot)
    map_put(&j->e->slot_waiters, b->key, NULL, NULL);
  /* The pass after CreateAccount (or a status poll) schedules the next
   * poll: at the queue's tail it would wait behind every queued step of
   * other accounts (a fill's region work), and the slot with it. */
  if (rc == 0 && c &&
      (j->st.action == ACCT_CREATE_ACCOUNT ||
       j->st.action == ACCT_DESCRIBE_CREATE))
    wq_add_first(ctrl_queue(c), b->key);
  /* the runner's own requeue (same delay) keeps this earlier deadline */
  if (rc == 0 && j->st.slot_poll && c)
    wq_add_after_first(ctrl_queue(c), b->key, j->st.requeue_ms);
}

/* This process added the e-mail itself (a conflict-checked write over an
 * object without it): nothing to recover before its first CreateAccount. */
static void written(struct exec_job *b)
{
  struct acct_job *j = (struct acct_job *)b;
  struct acct_obs o = { .action = ACCT_RECOVER, .own_email = true };

  if (j->st.action == ACCT_UPDATE || j->st.action == ACCT_REMOVE_FINALIZER ||
      j->st.action == ACCT_DELETE)
    acct__soft_written(j->e, b->key, j->st.object_new);
  if (j->st.action != ACCT_UPDATE || obj_annotation(b->obj, ACCT_ANN_EMAIL) ||
      !obj_annotation(j->st.object_new, ACCT_ANN_EMAIL))
    return;
  o.at = acct__now(j->e);
  o.at_ms = acct__now_ms(j->e);
  if (exec_job_remember(b, &o))
    log_warn("account", "%s: out of memory; recovering before CreateAccount",
             b->key);
}

static void *new_ctl(struct exec_shared *s, struct exec_runner **run)
{
  struct acct_exec_deps d = {
    .kio = s->kio,
    .accounts = exec_shared_store(s, MGR_ACCOUNTS),
    .claims = exec_shared_store(s, MGR_ACCOUNT_CLAIMS),
    .cfg = s->opcfg,
    .aws = s->aws,
    .watcher = s->watcher,
    .metrics = s->metrics,
    .ns = s->ns,
    .case_poll_s = (unsigned)s->cfg->support_case_poll_s,
  };
  struct acct_exec *e = acct_exec_new(&d);

  if (e)
    exec_watcher_on_slot(s->watcher, slot_freed, e);
  *run = e ? e->run : NULL;
  return e;
}

static void free_ctl(void *ctl)
{
  acct_exec_free(ctl);
}

#define CALL(a) [a] = { .kind = EXEC_CALL, .start = acct__start_aws }

static const struct exec_action actions[] = {
  [ACCT_UPDATE] = { .kind = EXEC_UPDATE, .gvr = &exec_gvr_accounts },
  [ACCT_UPDATE_STATUS] = { .kind = EXEC_UPDATE_STATUS,
                           .gvr = &exec_gvr_accounts },
  [ACCT_DELETE] = { .kind = EXEC_UPDATE_DELETE, .gvr = &exec_gvr_accounts },
  [ACCT_REMOVE_FINALIZER] = { .kind = EXEC_UPDATE, .gvr = &exec_gvr_accounts },
  [ACCT_CLAIM_UPDATE_STATUS] = { .kind = EXEC_UPDATE_STATUS,
                                 .gvr = &exec_gvr_claims },
  CALL(ACCT_RECOVER),
  CALL(ACCT_CREATE_ACCOUNT),
  CALL(ACCT_DESCRIBE_CREATE),
  CALL(ACCT_TAG_ACCOUNT),
  CALL(ACCT_ENSURE_SUPPORT_ROLE),
  CALL(ACCT_ENSURE_IAM_USER),
  CALL(ACCT_ATTACH_USER_POLICY),
  CALL(ACCT_CREATE_ACCESS_KEY_SECRET),
  CALL(ACCT_DESCRIBE_REGIONS),
  CALL(ACCT_REGION_CLEANUP),
  CALL(ACCT_REGION_LAUNCH),
  CALL(ACCT_REGION_TERMINATE),
  CALL(ACCT_CREATE_CASE),
  CALL(ACCT_DESCRIBE_CASE),
  CALL(ACCT_DESCRIBE_ACCOUNT),
  CALL(ACCT_CLEANUP_IAM),
  CALL(ACCT_QUOTA),
  CALL(ACCT_OPT_IN_REGION),
  CALL(ACCT_CLEANUP_IAM_STEP),
  CALL(ACCT_FIND_CASE),
  CALL(ACCT_ASSUME_CHECK),
  CALL(ACCT_ROTATE_KEY),
  CALL(ACCT_DELETE_KEY),
  CALL(ACCT_REVOKE_KEYS),
  CALL(ACCT_KEY_INSPECT),
};

const struct exec_desc acct_desc = {
  .name = "account",
  .cfg = OPCFG_CTRL_ACCOUNT,
  .kind = MGR_ACCOUNTS,
  .api_version = "aws.managed.openshift.io/v1alpha1",
  .kind_name = "Account",
  .watches = { { .kind = MGR_ACCOUNT_CLAIMS, .map = claim_to_account } },
  .wait_for = { MGR_CONFIGMAP, MGR_SECRET, MGR_NKINDS },
  .kick = EXEC_KICK_CFG | EXEC_KICK_SECRET | EXEC_KICK_WATCHER,
  .job_size = sizeof(struct acct_job),
  .obs_size = sizeof(struct acct_obs),
  .actions = actions,
  .nactions = sizeof(actions) / sizeof(actions[0]),
  .new_ctl = new_ctl,
  .free_ctl = free_ctl,
  .prepare = acct__prepare,
  .plan = acct__plan,
  .planned = planned,
  .starting = acct__starting,
  .written = written,
  .gone = gone,
  .job_cleanup = acct__job_cleanup,
  /* Read-your-writes: a claim's or pool's event can wake this key between
   * its write's answer and that write's watch event; planned from the
   * informer's older copy, the same write went again and got a 409. */
  .own_gvr = &exec_gvr_accounts,
};
