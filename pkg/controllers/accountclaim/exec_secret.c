/* AccountClaim executor: the credentials Secret. The key material is
 * copied object to object (base64 as stored) and never logged; an
 * existing Secret whose keys differ (the account's key was rotated) is
 * updated. */
#include <stdlib.h>

#include "controllers/accountclaim/exec_int.h"
#include "controllers/common/obj.h"
#include "controllers/exec/exec.h"
#include "util/err.h"
#include "util/str.h"

static const char *const cred_keys[] = { "aws_access_key_id",
                                         "aws_secret_access_key" };

static json_t *secret_new(const struct claim_step *st)
{
  return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:{}}", "apiVersion", "v1",
                   "kind", "Secret", "metadata", "name", st->secret_name,
                   "namespace", st->secret_namespace, "type", "Opaque", "data");
}

static void finish(struct claim_job *j, int err)
{
  struct claim_obs o = { 0 };

  o.result = err;
  if (!err && j->st.action == CLAIM_WRITE_SECRET)
    str_copy(o.key_id, j->key_id, sizeof(o.key_id));
  /* the OU the account was moved to, recorded after the Secret */
  str_copy(o.ou_id, j->st.ou_id, sizeof(o.ou_id));
  claim__action_done(j, &o);
}

static void updated(int err, json_t *obj, const struct op_error *det, void *arg)
{
  (void)obj;
  (void)det;
  finish(arg, err);
}

/* The existing Secret: keep it when it holds the same keys, else update
 * its two keys (other keys and metadata stay). */
static void dest_got(int err, json_t *cur, const struct op_error *det,
                     void *arg)
{
  struct claim_job *j = arg;
  const struct exec_kio *k = &j->e->d.kio;
  json_t *n, *data;
  bool same = true;
  int rc;

  (void)det;
  if (err)
    return finish(j, err);
  data = json_object_get(cur, "data");
  for (size_t i = 0; i < 2; i++)
    same = same && json_equal(json_object_get(data, cred_keys[i]),
                              json_object_get(j->src_data, cred_keys[i]));
  if (same)
    return finish(j, 0);
  n = json_deep_copy(cur);
  if (!json_is_object(json_object_get(n, "data")))
    json_object_set_new(n, "data", json_object());
  for (size_t i = 0; i < 2; i++)
    json_object_set(json_object_get(n, "data"), cred_keys[i],
                    json_object_get(j->src_data, cred_keys[i]));
  rc = k->update(k->arg, &exec_gvr_secrets, n, updated, j);
  json_decref(n);
  if (rc)
    finish(j, rc);
}

static void secret_written(int err, json_t *obj, const struct op_error *det,
                           void *arg)
{
  struct claim_job *j = arg;
  const struct exec_kio *k = &j->e->d.kio;
  int rc;

  (void)obj;
  (void)det;
  if (err == OP_EEXIST && j->st.action == CLAIM_WRITE_SECRET) {
    rc = k->get(k->arg, &exec_gvr_secrets, j->st.secret_namespace,
                j->st.secret_name, dest_got, j);
    if (rc)
      finish(j, rc);
    return;
  }
  /* An existing Secret is success (create), a missing one too (delete). */
  if (err == OP_EEXIST || err == OP_ECONFLICT || err == OP_ENOTFOUND)
    err = 0;
  finish(j, err);
}

static int create_secret(struct claim_job *j, json_t *s)
{
  const struct exec_kio *k = &j->e->d.kio;
  int rc;

  if (!s)
    return OP_ENOMEM;
  rc = k->create(k->arg, &exec_gvr_secrets, j->st.secret_namespace, s,
                 secret_written, j);
  json_decref(s);
  return rc;
}

static void source_got(int err, json_t *src, const struct op_error *det,
                       void *arg)
{
  struct claim_job *j = arg;
  json_t *s, *data;
  char *id;
  int rc;

  (void)det;
  data = err ? NULL : json_object_get(src, "data");
  for (size_t i = 0; !err && i < 2; i++)
    if (!json_is_string(json_object_get(data, cred_keys[i])))
      err = OP_EINVALIDOBJ;
  if (err)
    return finish(j, err);
  id = exec_secret_field(src, cred_keys[0]);
  str_copy(j->key_id, id ? id : "", sizeof(j->key_id));
  free(id);
  json_decref(j->src_data);
  j->src_data = json_deep_copy(data);
  s = secret_new(&j->st);
  for (size_t i = 0; s && i < 2; i++)
    json_object_set(json_object_get(s, "data"), cred_keys[i],
                    json_object_get(data, cred_keys[i]));
  rc = create_secret(j, s);
  if (rc < 0)
    finish(j, rc);
}

static json_t *fake_secret(const struct claim_step *st)
{
  json_t *s = secret_new(st);

  /* "fake" in base64, as upstream's dummy credentials. */
  for (size_t i = 0; s && i < 2; i++)
    json_object_set_new(json_object_get(s, "data"), cred_keys[i],
                        json_string("ZmFrZQ=="));
  return s;
}

int claim__exec_secret(struct claim_job *j)
{
  const struct exec_kio *k = &j->e->d.kio;

  switch (j->st.action) {
  case CLAIM_WRITE_SECRET:
    return claim__pre_get_secret(j, source_got);
  case CLAIM_WRITE_FAKE_SECRET:
    return create_secret(j, fake_secret(&j->st));
  case CLAIM_DELETE_SECRET:
    return k->del(k->arg, &exec_gvr_secrets, j->st.secret_namespace,
                  j->st.secret_name, secret_written, j);
  default:
    return OP_EINVAL;
  }
}
