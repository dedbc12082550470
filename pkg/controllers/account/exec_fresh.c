/* Account executor: AWS accounts this process saw created (its own
 * DescribeCreateAccountStatus answered SUCCEEDED). Nothing of ours exists
 * in such an account but what this process made since: the bootstrap
 * skips the idempotency lookups that only matter after a crash (the IAM
 * Secret GET, ListAccessKeys before the first key, the hanging-instance
 * listing of a region not launched in yet, the support case search). A
 * restart forgets them, so a
 * resumed bootstrap looks everything up again. Entries end when the
 * Account leaves the bootstrap states, or goes. */
#include <stdlib.h>

#include "controllers/account/exec_int.h"
#include "controllers/account/plan.h"
#include "controllers/common/obj.h"
#include "util/str.h"

struct acct_fresh {
  char account_id[16];
  bool key_tried;   /* the access key composite ran once */
  json_t *launched; /* regions a launch was started in: name -> true */
};

void acct__fresh_free(void *v, void *arg)
{
  struct acct_fresh *f = v;

  (void)arg;
  if (f)
    json_decref(f->launched);
  free(f);
}

void acct__fresh_forget(struct acct_exec *e, const char *key)
{
  acct__fresh_free(map_del(&e->fresh, key), NULL);
}

void acct__fresh_set(struct acct_exec *e, const char *key, const char *id)
{
  struct acct_fresh *f = calloc(1, sizeof(*f));
  void *old = NULL;

  if (!f || str_empty(id))
    return free(f);
  str_copy(f->account_id, id, sizeof(f->account_id));
  f->launched = json_object();
  map_put(&e->fresh, key, f, &old);
  acct__fresh_free(old, NULL);
}

/* The entry for the Account's recorded AWS account, or NULL. */
static struct acct_fresh *get(struct acct_exec *e, const char *key,
                              const json_t *a)
{
  struct acct_fresh *f = map_get(&e->fresh, key);

  return f && str_eq(f->account_id, obj_str(a, "spec.awsAccountID")) ? f : NULL;
}

const json_t *acct__fresh(struct acct_exec *e, const char *key, const json_t *a)
{
  const char *st = obj_str0(a, "status.state");
  struct acct_fresh *f;

  if (!map_get(&e->fresh, key))
    return NULL;
  if (*st && !str_eq(st, ACCT_ST_CREATING) &&
      !str_eq(st, ACCT_ST_INIT_REGIONS) && !str_eq(st, ACCT_ST_OPTING_IN) &&
      !str_eq(st, ACCT_ST_OPTED_IN) &&
      !str_eq(st, ACCT_ST_PENDING_VERIFICATION)) {
    acct__fresh_forget(e, key);
    return NULL;
  }
  f = get(e, key, a);
  return f ? f->launched : NULL;
}

bool acct__fresh_first_key(struct acct_exec *e, const char *key,
                           const json_t *a)
{
  struct acct_fresh *f = get(e, key, a);
  bool first = f && !f->key_tried;

  if (f)
    f->key_tried = true;
  return first;
}

void acct__fresh_launch(struct acct_exec *e, const char *key, const json_t *a,
                        const char *region)
{
  struct acct_fresh *f = get(e, key, a);

  if (f)
    json_object_set_new(f->launched, region, json_true());
}
