/* Account executor: the key actions of rotation and revocation
 * (plan_rotate.c). ROTATE_KEY and REVOKE_KEYS are composites in
 * exec_keysecret.c; this file reads the account Secret's key id (an
 * identifier, not secret material) and deletes a single key. */
#include <stdlib.h>

#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define API(j) exec_aws_api((j)->e->d.aws)

bool acct__is_key_action(enum acct_action a)
{
  return a == ACCT_ROTATE_KEY || a == ACCT_DELETE_KEY ||
         a == ACCT_REVOKE_KEYS || a == ACCT_KEY_INSPECT;
}

/* The Secret's aws_access_key_id into out ("" when absent). */
static void secret_key_id(const json_t *secret, char *out, size_t n)
{
  char *id = exec_secret_field(secret, "aws_access_key_id");

  str_copy(out, id ? id : "", n);
  free(id);
}

static void secret_read(int err, json_t *obj, const struct op_error *det,
                        void *arg)
{
  struct acct_job *j = arg;
  int rc;

  (void)det;
  if (err)
    return acct__aws_finish(j, err, NULL);
  if (j->st.action == ACCT_KEY_INSPECT) {
    secret_key_id(obj, j->obs.key_id, sizeof(j->obs.key_id));
    return acct__aws_finish(j, 0, NULL);
  }
  secret_key_id(obj, j->cur_key_id, sizeof(j->cur_key_id));
  rc = acct__exec_keysecret(j);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

static int read_secret(struct acct_job *j)
{
  const struct exec_kio *k = &j->e->d.kio;

  return k->get(k->arg, &exec_gvr_secrets, obj_namespace(j->base.obj),
                j->st.secret_name, secret_read, j);
}

static void key_deleted(int err, const struct aws_error *ae,
                        const struct aws_empty_result *r, void *arg)
{
  struct acct_job *j = arg;

  (void)r;
  if (acct__code_is(ae, "NoSuchEntity"))
    err = 0; /* an earlier pass deleted it */
  if (!err)
    log_info("account", "%s: access key %s deleted", j->base.key, j->st.key_id);
  str_copy(j->obs.key_id, j->st.key_id, sizeof(j->obs.key_id));
  acct__aws_finish(j, err, err ? ae : NULL);
}

static int delete_key(struct acct_job *j)
{
  struct aws_iam_delete_access_key_req rq = { j->st.user_name, j->st.key_id };
  int rc = acct__account_target(j, NULL);

  if (rc)
    return rc;
  return API(j)->delete_access_key(API(j), &j->acct_t, &rq, key_deleted, j);
}

int acct__exec_keys(struct acct_job *j)
{
  switch (j->st.action) {
  case ACCT_ROTATE_KEY:
  case ACCT_KEY_INSPECT:
    return read_secret(j);
  case ACCT_REVOKE_KEYS:
    return acct__exec_keysecret(j);
  case ACCT_DELETE_KEY:
    return delete_key(j);
  default:
    return OP_EINVAL;
  }
}
