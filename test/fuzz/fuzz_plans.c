/* libFuzzer target: objects decoded into the plans' snapshots. The input
 * is one JSON object, handed as it is to the Account, AccountClaim and
 * AccountPool plans (as the object under reconcile and as the only Account
 * in the cache), so every field a plan reads may have any type or size.
 * Optional members steer the snapshot: "fuzzAccounts" (array: the Account
 * cache instead), "fuzzConfigMap" (object: the ConfigMap instead of the
 * fixed one below, the plans run without one when it does not parse). The
 * last input byte sets the snapshot's gates. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "controllers/account/plan.h"
#include "controllers/accountclaim/plan.h"
#include "controllers/accountpool/plan.h"
#include "controllers/common/opcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ACCOUNTS 16
#define T0 1767229200 /* 2026-01-01T01:00:00Z */

static const char default_cm[] =
    "{\"root\":\"r-1\",\"base\":\"ou-base\",\"account-limit\":\"100\","
    "\"shard-name\":\"shard1\",\"ami-owner\":\"111\","
    "\"sts-jump-role\":\"arn:aws:iam::1:role/sts-jump\","
    "\"support-jump-role\":\"arn:aws:iam::1:role/jump\","
    "\"accountpool\":\"hive:\\n  default: true\\n\","
    "\"feature.opt_in_regions\":\"true\","
    "\"opt-in-regions\":\"af-south-1,ap-southeast-4\"}";

/* The ConfigMap for this input into *cfg: 0, or -1 (plans run without). */
static int load_cfg(const json_t *in, struct opcfg *cfg)
{
  const json_t *cm = json_object_get(in, "fuzzConfigMap");
  json_t *own = NULL;
  char err[256];
  int rc;

  if (!json_is_object(cm))
    cm = own = json_loads(default_cm, 0, NULL);
  rc = opcfg_parse(cfg, cm, err, sizeof(err)) == 0 ? 0 : -1;
  json_decref(own);
  return rc;
}

static size_t load_accounts(const json_t *in, const json_t **out)
{
  const json_t *list = json_object_get(in, "fuzzAccounts");
  size_t i, n = 0;

  if (!json_is_array(list)) {
    out[0] = in;
    return 1;
  }
  for (i = 0; i < json_array_size(list) && n < MAX_ACCOUNTS; i++)
    out[n++] = json_array_get(list, i);
  return n;
}

static void run_account(const json_t *o, const struct opcfg *cfg,
                        unsigned gates)
{
  struct acct_snap sn;
  struct acct_step s;

  memset(&sn, 0, sizeof(sn));
  sn.account = o;
  sn.claim = gates & 1 ? o : NULL;
  sn.cfg = cfg;
  sn.now = T0;
  sn.limit_allows = gates & 2;
  sn.create_slot_free = gates & 4;
  sn.iam_secret_exists = gates & 8;
  sn.accounts_opting_in = (gates >> 4) % 11;
  sn.byoc_creds = gates & 16;
  acct_step_init(&s);
  acct_plan(&sn, &s);
  acct_step_cleanup(&s);
  acct_opting_in(o);
}

/* The object as the claim and as the pool, over the same Account cache. */
static void run_fleet(const json_t *o, const json_t **accts, size_t n,
                      const struct opcfg *cfg, unsigned gates)
{
  struct claim_snap cs = { .claim = o, .accounts = accts, .naccounts = n };
  struct pool_snap ps = { .pool = o, .accounts = accts, .naccounts = n };
  struct claim_step c;
  struct pool_step p;

  cs.cfg = ps.cfg = cfg;
  cs.now = ps.now = T0;
  cs.secret_exists = ps.limit_allows = gates & 2;
  cs.byoc_secret_exists = ps.has_total = gates & 4;
  cs.byoc_secret_finalized = gates & 8;
  ps.total_accounts = gates & 8 ? 99 : 3;
  ps.name_suffix = "abc123";
  ps.unseen_creations = (gates >> 4) % 3;
  claim_step_init(&c);
  claim_plan(&cs, &c);
  claim_step_cleanup(&c);
  claim_ccs_invalid(o);
  pool_step_init(&p);
  pool_plan(&ps, &p);
  pool_step_cleanup(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const json_t *accts[MAX_ACCOUNTS];
  struct opcfg cfg;
  unsigned gates;
  json_t *in;
  size_t n;
  int have_cfg;

  if (size < 2)
    return 0;
  gates = data[size - 1];
  in = json_loadb((const char *)data, size - 1, 0, NULL);
  if (!json_is_object(in)) {
    json_decref(in);
    return 0;
  }
  have_cfg = load_cfg(in, &cfg) == 0;
  n = load_accounts(in, accts);
  run_account(in, have_cfg ? &cfg : NULL, gates);
  run_fleet(in, accts, n, have_cfg ? &cfg : NULL, gates);
  if (have_cfg)
    opcfg_cleanup(&cfg);
  json_decref(in);
  return 0;
}
