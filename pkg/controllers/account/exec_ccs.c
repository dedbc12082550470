/* Account executor, CCS/BYOC and STS: the customer's credentials.
 *
 * Before planning a BYOC account (not STS) the claim's BYOC Secret is read
 * into a static credentials handle (j->byoc; the keys live only in that
 * handle, wiped when it goes). Every AWS action of a CCS/STS step then
 * signs with the chain its cred_mode names (plan.h, enum acct_creds): the
 * BYOC keys only make (and finally remove) the support role, which trusts
 * the operator's own identity; everything else goes through that role;
 * AssumeRole handles are lazy, so the chain costs nothing until a call
 * needs it. ACCT_ASSUME_CHECK makes the chain's AssumeRole calls
 * explicitly, so the plan sees AccessDenied as AccessDenied. */
#include <stdlib.h>

#include "aws/core/creds.h"
#include "cache/store.h"
#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "k8s/config.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define API(j) exec_aws_api((j)->e->d.aws)
#define SESSION_OPERATOR "awsAccountOperator"
#define SESSION_STS "RH-Account-Initialization"

static void byoc_got(int err, json_t *obj, const struct op_error *det,
                     void *arg)
{
  struct acct_job *j = arg;
  char *id, *key;
  int rc;

  (void)det;
  if (!err) {
    id = exec_secret_field(obj, AWS_SECRET_KEY_ID);
    key = exec_secret_field(obj, AWS_SECRET_KEY_SECRET);
    j->byoc = aws_creds_static_new(id, key, NULL);
    util_free_secret(id);
    util_free_secret(key);
  }
  if (err && err != OP_ENOTFOUND) {
    exec_job_prepared(&j->base, err);
    return;
  }
  rc = acct__prepare_iam(&j->base);
  if (rc)
    exec_job_prepared(&j->base, rc);
}

int acct__prepare_ccs(struct acct_job *j, const json_t *claim)
{
  const struct exec_kio *k = &j->e->d.kio;
  const char *name = obj_str(claim, "spec.byocSecretRef.name");

  if (str_empty(name))
    return acct__prepare_iam(&j->base);
  /* The claim's own namespace, as its validation requires. */
  return k->get(k->arg, &exec_gvr_secrets, obj_namespace(claim), name, byoc_got,
                j);
}

/* AssumeRole handle over source (tests without a client: the test's
 * account credentials stand in). */
static int chain(struct acct_job *j, struct aws_creds *src, const char *role,
                 const char *ext, const char *session, struct aws_creds **out)
{
  struct aws_client *cl = exec_aws_client(j->e->d.aws);
  struct aws_assume_role_opts o = { .role_arn = role,
                                    .external_id = str_empty(ext) ? NULL : ext,
                                    .session_name = session };
  struct aws_creds *c = NULL;
  int rc;

  if (!src || str_empty(role))
    return OP_ENOTFOUND;
  if (!cl) {
    rc = exec_aws_account_creds(j->e->d.aws, j->st.account_id, &c);
    *out = rc ? NULL : aws_creds_ref(c);
    return rc;
  }
  return aws_creds_assume_role_new(cl, src, &o, out);
}

static int sts_creds(struct acct_job *j, struct aws_creds **out)
{
  struct aws_creds *jump = NULL;
  int rc =
      chain(j, j->mgmt_t.creds, j->st.cred_jump, NULL, SESSION_OPERATOR, &jump);

  if (rc)
    return rc;
  rc = chain(j, jump, j->st.cred_role, j->st.external_id, SESSION_STS, out);
  aws_creds_unref(jump);
  return rc;
}

/* A cached chain, valid while its signature (mode, management key, roles,
 * external ID) is unchanged. */
struct ccs_cached {
  char sig[1024];
  struct aws_creds *c;
};

static void cached_free(void *v, void *arg)
{
  struct ccs_cached *c = v;

  (void)arg;
  if (c)
    aws_creds_unref(c->c);
  free(c);
}

void acct__ccs_forget(struct acct_exec *e, const char *key)
{
  cached_free(map_del(&e->ccs, key), NULL);
}

void acct__ccs_free_all(struct acct_exec *e)
{
  map_cleanup(&e->ccs, cached_free, NULL);
}

static int build(struct acct_job *j, struct aws_creds **out)
{
  switch (j->st.cred_mode) {
  case ACCT_CREDS_BYOC_ROLE: /* the role trusts the operator's identity */
    return chain(j, j->mgmt_t.creds, j->st.cred_role, NULL, SESSION_OPERATOR,
                 out);
  case ACCT_CREDS_STS:
    return sts_creds(j, out);
  default:
    return OP_EINVAL;
  }
}

/* The step's chain: the cached one when its signature matches, else a new
 * one (cached; the Account's previous one released). */
static int chained(struct acct_job *j, struct aws_creds **out)
{
  struct acct_exec *e = j->e;
  struct ccs_cached *c = map_get(&e->ccs, j->base.key), *old = NULL;
  char sig[1024];
  int rc;

  str_fmt(sig, sizeof(sig), "%d|%s|%s|%s|%s", (int)j->st.cred_mode,
          j->mgmt_t.creds ? aws_creds_label(j->mgmt_t.creds) : "",
          j->st.cred_role, j->st.cred_jump, j->st.external_id);
  if (c && str_eq(c->sig, sig)) {
    *out = aws_creds_ref(c->c);
    return 0;
  }
  rc = build(j, out);
  if (rc || !(c = calloc(1, sizeof(*c))))
    return rc;
  str_copy(c->sig, sig, sizeof(c->sig));
  c->c = aws_creds_ref(*out);
  map_put(&e->ccs, j->base.key, c, (void **)&old);
  cached_free(old, NULL);
  return 0;
}

int acct__ccs_target(struct acct_job *j, const char *region)
{
  int rc = 0;

  if (!j->creds && j->st.cred_mode == ACCT_CREDS_BYOC) {
    rc = j->byoc ? 0 : OP_ENOTFOUND;
    j->creds = j->byoc ? aws_creds_ref(j->byoc) : NULL;
  } else if (!j->creds) {
    rc = chained(j, &j->creds);
  }
  if (rc)
    return rc;
  j->acct_t.creds = j->creds;
  j->acct_t.region = str_empty(region) ? NULL : region;
  j->acct_t.controller = "account";
  j->acct_t.account = j->st.account_id;
  return 0;
}

/* ---- ACCT_ASSUME_CHECK ---- */

static void second_assumed(int err, const struct aws_error *ae,
                           const struct aws_sts_creds_result *r, void *arg)
{
  (void)r; /* freed (and wiped) by the caller */
  acct__aws_finish(arg, err, ae);
}

static int assume(struct acct_job *j, struct aws_target *t, const char *role,
                  const char *ext, const char *session,
                  void (*cb)(int, const struct aws_error *,
                             const struct aws_sts_creds_result *, void *))
{
  struct aws_assume_role_req rq = { .role_arn = role,
                                    .role_session_name = session,
                                    .external_id =
                                        str_empty(ext) ? NULL : ext };

  if (str_empty(role))
    return OP_EINVAL;
  return API(j)->assume_role(API(j), t, &rq, cb, j);
}

/* The jump role answered: its keys sign the customer role's AssumeRole. */
static void jump_assumed(int err, const struct aws_error *ae,
                         const struct aws_sts_creds_result *r, void *arg)
{
  struct acct_job *j = arg;
  const struct aws_sts_creds *c = r ? &r->creds : NULL;
  int rc;

  if (err)
    return acct__aws_finish(j, err, ae);
  j->creds = c ? aws_creds_static_new(c->access_key_id, c->secret_access_key,
                                      c->session_token)
               : NULL;
  if (!j->creds)
    return acct__aws_finish(j, OP_EPARSE, NULL);
  j->acct_t = (struct aws_target){ .creds = j->creds,
                                   .controller = "account",
                                   .account = j->st.account_id };
  rc = assume(j, &j->acct_t, j->st.cred_role, j->st.external_id, SESSION_STS,
              second_assumed);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

int acct__exec_assume_check(struct acct_job *j)
{
  if (j->st.cred_mode == ACCT_CREDS_STS)
    return assume(j, &j->mgmt_t, j->st.cred_jump, NULL, SESSION_OPERATOR,
                  jump_assumed);
  if (j->st.cred_mode != ACCT_CREDS_BYOC_ROLE)
    return OP_EINVAL;
  return assume(j, &j->mgmt_t, j->st.cred_role, NULL, SESSION_OPERATOR,
                second_assumed);
}

/* The claim of an Account, from the cache (prepare). */
const json_t *acct__claim_of(const struct acct_exec *e, const json_t *a)
{
  const char *n = obj_str(a, "spec.claimLink");
  const char *ns = obj_str(a, "spec.claimLinkNamespace");
  char key[STORE_KEY_MAX];

  if (!e->d.claims || str_empty(n) || str_empty(ns) ||
      str_fmt(key, sizeof(key), "%s/%s", ns, n) < 0)
    return NULL;
  return store_get(e->d.claims, key);
}
