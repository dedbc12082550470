/* Account controller: the cache index that counts the accounts opting
 * in to regions (exec.h), so a reconcile reads a count instead of
 * scanning the fleet. */
#include "cache/store.h"
#include "controllers/account/exec.h"
#include "controllers/account/plan.h"
#include "util/err.h"

#define IX_OPTING_IN "account.optingIn"

static void ix_opting_in(const json_t *a, struct store_values *out, void *arg)
{
  (void)arg;
  if (acct_opting_in(a))
    store_values_add(out, "1");
}

int acct_index_install(struct store *accounts)
{
  int rc = accounts
               ? store_add_index(accounts, IX_OPTING_IN, ix_opting_in, NULL)
               : 0;

  return rc == OP_EEXIST ? 0 : rc;
}

unsigned acct_count_opting_in(const struct store *accounts)
{
  return accounts ? (unsigned)store_index_count(accounts, IX_OPTING_IN, "1")
                  : 0;
}
