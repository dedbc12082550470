/* AccountClaim controller: its descriptor (exec.h). */
#include "cache/store.h"
#include "controllers/accountclaim/exec_int.h"
#include "controllers/common/obj.h"
#include "util/str.h"

/* An Account maps to the claim it is linked to. */
static void account_to_claim(const json_t *a, struct ctrl_keys *out, void *arg)
{
  const char *n = obj_str(a, "spec.claimLink");
  const char *ns = obj_str(a, "spec.claimLinkNamespace");
  char key[256];

  claim__account_to_waiting(a, out, arg);
  if (str_empty(n) || str_empty(ns))
    return;
  if (str_fmt(key, sizeof(key), "%s/%s", ns, n) >= 0)
    ctrl_keys_add(out, key);
}

static int account_creds(void *arg, const char *account_id,
                         struct aws_creds **out)
{
  return exec_aws_account_creds(arg, account_id, out);
}

static void *new_ctl(struct exec_shared *s, struct exec_runner **run)
{
  struct claim_exec_deps d = {
    .kio = s->kio,
    .claims = exec_shared_store(s, MGR_ACCOUNT_CLAIMS),
    .accounts = exec_shared_store(s, MGR_ACCOUNTS),
    .configmap = exec_shared_store(s, MGR_CONFIGMAP),
    .pools = exec_shared_store(s, MGR_ACCOUNT_POOLS),
    .cfg_get = exec_cfg_of,
    .cfg_arg = s->opcfg,
    .api = exec_aws_api(s->aws),
    .mgmt_creds = exec_aws_mgmt_cb,
    .account_creds = account_creds,
    .creds_arg = s->aws,
    .metrics = s->registry,
    .ns = s->ns,
    .chain = true,
  };
  struct claim_exec *e = claim_exec_new(&d);

  *run = e ? e->run : NULL;
  return e;
}

static void free_ctl(void *ctl)
{
  claim_exec_free(ctl);
}

#define WRITE(a, k, g) [a] = { .kind = k, .gvr = &exec_gvr_##g }
#define CALL(a, f) [a] = { .kind = EXEC_CALL, .start = f }

static const struct exec_action actions[] = {
  WRITE(CLAIM_UPDATE, EXEC_UPDATE, claims),
  WRITE(CLAIM_UPDATE_STATUS, EXEC_UPDATE_STATUS, claims),
  WRITE(CLAIM_REMOVE_FINALIZER, EXEC_UPDATE, claims),
  WRITE(CLAIM_ACCOUNT_UPDATE, EXEC_UPDATE, accounts),
  WRITE(CLAIM_ACCOUNT_UPDATE_STATUS, EXEC_UPDATE_STATUS, accounts),
  [CLAIM_ACCOUNT_DELETE] = { .kind = EXEC_DELETE,
                             .gvr = &exec_gvr_accounts,
                             .gone_ok = true },
  CALL(CLAIM_ENSURE_OU, claim__start_aws),
  CALL(CLAIM_MOVE_ACCOUNT, claim__start_aws),
  CALL(CLAIM_CLEANUP_REGION, claim__start_aws),
  CALL(CLAIM_CLOSE_ACCOUNT, claim__start_aws),
  CALL(CLAIM_WRITE_SECRET, claim__start_secret),
  CALL(CLAIM_WRITE_FAKE_SECRET, claim__start_secret),
  CALL(CLAIM_DELETE_SECRET, claim__start_secret),
  CALL(CLAIM_CREATE_ACCOUNT, claim__start_create),
  CALL(CLAIM_BYOC_FINALIZER, claim__start_byoc),
  CALL(CLAIM_FLEET_ENSURE_ROLE, claim__start_fleet),
  CALL(CLAIM_FLEET_DELETE_USERS, claim__start_fleet),
  CALL(CLAIM_FLEET_WRITE_SECRET, claim__start_fleet),
  CALL(CLAIM_FLEET_DELETE_ROLE, claim__start_fleet),
};

const struct exec_desc claim_desc = {
  .name = "accountclaim",
  .cfg = OPCFG_CTRL_ACCOUNTCLAIM,
  .kind = MGR_ACCOUNT_CLAIMS,
  .api_version = "aws.managed.openshift.io/v1alpha1",
  .kind_name = "AccountClaim",
  .watches = { { .kind = MGR_ACCOUNTS, .map = account_to_claim } },
  .wait_for = { MGR_CONFIGMAP, MGR_ACCOUNT_POOLS, MGR_NKINDS },
  .job_size = sizeof(struct claim_job),
  .obs_size = sizeof(struct claim_obs),
  .actions = actions,
  .nactions = sizeof(actions) / sizeof(actions[0]),
  .new_ctl = new_ctl,
  .free_ctl = free_ctl,
  .prepare = claim__prepare,
  .plan = claim__plan,
  .planned = claim__metrics_seen,
  .starting = claim__pre_start,
  .started = claim__pre_go,
  .written = claim__metrics_written,
  .observed = claim__metrics_action,
  .job_cleanup = claim__job_cleanup,
  .own_gvr = &exec_gvr_claims,
  .urgent = true, /* a user waits for the Secret; Accounts can wait */
};
