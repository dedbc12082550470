/* AccountClaim executor, CCS claims: the BYOC Secret (spec.byocSecretRef,
 * in the claim's namespace) is read before planning (does it exist, does
 * it carry our finalizer), and CLAIM_BYOC_FINALIZER adds or removes that
 * finalizer. CLAIM_CREATE_ACCOUNT posts the claim's Account. Only metadata is
 * touched; the key material is never read into logs, events or observations. */
#include "controllers/accountclaim/exec_int.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"

static void prepared_next(struct exec_job *b)
{
  int rc = claim__prepare_cred(b);

  if (rc != 0)
    exec_job_prepared(b, rc > 0 ? 0 : rc);
}

static void byoc_got(int err, json_t *obj, const struct op_error *det,
                     void *arg)
{
  struct claim_job *j = arg;

  (void)det;
  if (err && err != OP_ENOTFOUND) {
    exec_job_prepared(&j->base, err);
    return;
  }
  j->byoc_exists = err == 0;
  j->byoc_finalized =
      err == 0 && obj_has_finalizer(obj, CLAIM_BYOC_FINALIZER_NAME);
  prepared_next(&j->base);
}

int claim__prepare_ccs(struct claim_job *j)
{
  const struct exec_kio *k = &j->e->d.kio;
  const char *name = obj_str(j->base.obj, "spec.byocSecretRef.name");

  if (str_empty(name))
    return claim__prepare_cred(&j->base);
  /* Always the claim's own namespace: a reference elsewhere is invalid. */
  return k->get(k->arg, &exec_gvr_secrets, obj_namespace(j->base.obj), name,
                byoc_got, j);
}

static void byoc_fetched(int err, json_t *obj, const struct op_error *det,
                         void *arg)
{
  struct claim_job *j = arg;
  const struct exec_kio *k = &j->e->d.kio;
  struct claim_obs o = { 0 };
  json_t *n;
  int rc;

  (void)det;
  if (err == OP_ENOTFOUND && !j->st.byoc_add)
    err = 0; /* nothing left to release */
  if (err || !obj) {
    o.result = err;
    claim__action_done(j, &o);
    return;
  }
  n = obj_copy_new(obj);
  if (j->st.byoc_add)
    obj_add_finalizer(n, CLAIM_BYOC_FINALIZER_NAME);
  else
    obj_remove_finalizer(n, CLAIM_BYOC_FINALIZER_NAME);
  rc = n ? k->update(k->arg, &exec_gvr_secrets, n, claim__kio_done, j)
         : OP_ENOMEM;
  json_decref(n);
  if (rc)
    claim__kio_done(rc, NULL, NULL, j);
}

int claim__start_byoc(struct exec_job *b)
{
  struct claim_job *j = (struct claim_job *)b;
  const struct exec_kio *k = &j->e->d.kio;

  return k->get(k->arg, &exec_gvr_secrets, j->st.secret_namespace,
                j->st.secret_name, byoc_fetched, j);
}

static void account_created(int err, json_t *obj, const struct op_error *det,
                            void *arg)
{
  struct claim_obs o = { 0 };

  (void)obj;
  (void)det;
  o.result = err == OP_EEXIST ? 0 : err;
  claim__action_done(arg, &o);
}

int claim__start_create(struct exec_job *b)
{
  struct claim_job *j = (struct claim_job *)b;
  const struct exec_kio *k = &j->e->d.kio;

  return k->create(k->arg, &exec_gvr_accounts, j->e->ns, j->st.object_new,
                   account_created, j);
}
