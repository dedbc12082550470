/* Account executor: the access key composites. CREATE_ACCESS_KEY_SECRET:
 * delete the user's old keys, create one, create <account>-secret with it
 * at once; if the Secret already exists, delete the new key again.
 * REVOKE_KEYS: the same, but an existing Secret is updated with the new
 * key. ROTATE_KEY (after exec_rotate.c read the Secret): delete every key
 * but the old one and the Secret's, then, unless the Secret already moved
 * on, create a key and update the Secret. The secret access key lives only
 * in j->secret_key (wiped) and in the Secret object sent to the API server
 * (wiped after the call); it is never logged. */
#include <stdlib.h>
#include <string.h>

#include "controllers/account/exec_int.h"
#include "controllers/common/obj.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define API(j) exec_aws_api((j)->e->d.aws)

static void delete_next_old(struct acct_job *j);

/* The Secret exists and must hold the new key (revocation, rotation). */
static bool replaces(const struct acct_job *j)
{
  return j->st.action == ACCT_REVOKE_KEYS || j->st.action == ACCT_ROTATE_KEY;
}

static void new_key_deleted(int err, const struct aws_error *ae,
                            const struct aws_empty_result *r, void *arg)
{
  struct acct_job *j = arg;

  (void)r;
  if (err)
    log_warn("account", "%s: deleting unused access key %s failed: %s",
             j->base.key, j->new_key_id,
             ae && ae->code[0] ? ae->code : op_strerror(err));
  /* j->stage holds the Secret outcome: 0 (already existed) or its error. */
  acct__aws_finish(j, j->stage, NULL);
}

static void drop_new_key(struct acct_job *j, int outcome)
{
  struct aws_iam_delete_access_key_req rq = { j->st.user_name, j->new_key_id };
  int rc;

  j->stage = outcome;
  rc = API(j)->delete_access_key(API(j), &j->acct_t, &rq, new_key_deleted, j);
  if (rc)
    new_key_deleted(rc, NULL, NULL, j);
}

static void wipe_secret_obj(json_t *s)
{
  const json_t *v = json_object_get(json_object_get(s, "stringData"),
                                    "aws_secret_access_key");
  const char *p = json_string_value(v);

  if (p)
    util_wipe((char *)p, strlen(p));
}

static void secret_created(int err, json_t *obj, const struct op_error *det,
                           void *arg)
{
  struct acct_job *j = arg;

  (void)obj;
  util_free_secret(j->secret_key);
  j->secret_key = NULL;
  if (!err) {
    log_info("account", "%s: access key %s stored in Secret %s", j->base.key,
             j->new_key_id, j->st.secret_name);
    str_copy(j->obs.key_id, j->new_key_id, sizeof(j->obs.key_id));
    return acct__aws_finish(j, 0, NULL);
  }
  log_info("account", "%s: creating Secret %s: %s", j->base.key,
           j->st.secret_name, det && det->msg[0] ? det->msg : op_strerror(err));
  /* Exists: someone (an earlier pass) stored a key; ours is surplus.
   * Other errors: the key can never be read again; do not leave it. */
  drop_new_key(j, err == OP_EEXIST && !replaces(j) ? 0 : err);
}

static json_t *secret_obj_new(const struct acct_job *j)
{
  const json_t *a = j->base.obj;
  json_t *s = json_pack(
      "{s:s, s:s, s:{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:b, s:b}]}, s:s, "
      "s:{s:s, s:s, s:s}}",
      "apiVersion", "v1", "kind", "Secret", "metadata", "name",
      j->st.secret_name, "namespace", obj_namespace(a), "ownerReferences",
      "apiVersion", "aws.managed.openshift.io/v1alpha1", "kind", "Account",
      "name", obj_name(a), "uid", obj_uid(a), "controller", 1,
      "blockOwnerDeletion", 1, "type", "Opaque", "stringData", "aws_user_name",
      j->st.user_name, "aws_access_key_id", j->new_key_id,
      "aws_secret_access_key", j->secret_key);

  return s;
}

/* The existing Secret with the new key (stringData wins over data). */
static json_t *secret_replaced_new(const struct acct_job *j, const json_t *cur)
{
  json_t *s = json_deep_copy(cur), *data = json_object_get(s, "data");

  json_object_del(data, "aws_access_key_id");
  json_object_del(data, "aws_secret_access_key");
  json_object_set_new(s, "stringData",
                      json_pack("{s:s, s:s, s:s}", "aws_user_name",
                                j->st.user_name, "aws_access_key_id",
                                j->new_key_id, "aws_secret_access_key",
                                j->secret_key));
  return s;
}

static void secret_got(int err, json_t *cur, const struct op_error *det,
                       void *arg)
{
  struct acct_job *j = arg;
  const struct exec_kio *k = &j->e->d.kio;
  json_t *s;
  int rc;

  (void)det;
  if (err == OP_ENOTFOUND && j->st.action == ACCT_REVOKE_KEYS)
    s = secret_obj_new(j);
  else if (err)
    return secret_created(err, NULL, det, j);
  else
    s = secret_replaced_new(j, cur);
  if (!s)
    return secret_created(OP_ENOMEM, NULL, NULL, j);
  if (err)
    rc = k->create(k->arg, &exec_gvr_secrets, obj_namespace(j->base.obj), s,
                   secret_created, j);
  else
    rc = k->update(k->arg, &exec_gvr_secrets, s, secret_created, j);
  wipe_secret_obj(s);
  json_decref(s);
  if (rc)
    secret_created(rc, NULL, NULL, j);
}

static void key_created(int err, const struct aws_error *ae,
                        const struct aws_iam_access_key_result *r, void *arg)
{
  struct acct_job *j = arg;
  const struct exec_kio *k = &j->e->d.kio;
  json_t *s;
  int rc;

  if (err || !r->key.access_key_id || !r->key.secret_access_key)
    return acct__aws_finish(j, err ? err : OP_EPARSE, ae);
  str_copy(j->new_key_id, r->key.access_key_id, sizeof(j->new_key_id));
  j->secret_key = util_xstrdup(r->key.secret_access_key);
  if (replaces(j)) {
    rc = k->get(k->arg, &exec_gvr_secrets, obj_namespace(j->base.obj),
                j->st.secret_name, secret_got, j);
    if (rc)
      secret_got(rc, NULL, NULL, j);
    return;
  }
  s = secret_obj_new(j);
  if (!s)
    return drop_new_key(j, OP_ENOMEM);
  rc = k->create(k->arg, &exec_gvr_secrets, obj_namespace(j->base.obj), s,
                 secret_created, j);
  wipe_secret_obj(s);
  json_decref(s);
  if (rc)
    secret_created(rc, NULL, NULL, j);
}

static void create_key(struct acct_job *j)
{
  struct aws_iam_user_req rq = { j->st.user_name };
  int rc = API(j)->create_access_key(API(j), &j->acct_t, &rq, key_created, j);

  if (rc)
    acct__aws_finish(j, rc, NULL);
}

static void old_deleted(int err, const struct aws_error *ae,
                        const struct aws_empty_result *r, void *arg)
{
  struct acct_job *j = arg;

  (void)r;
  if (err && !acct__code_is(ae, "NoSuchEntity"))
    return acct__aws_finish(j, err, ae);
  delete_next_old(j);
}

static void delete_next_old(struct acct_job *j)
{
  struct aws_iam_delete_access_key_req rq = { j->st.user_name, NULL };
  int rc;

  if (j->idx >= json_array_size(j->list)) {
    if (j->st.action == ACCT_ROTATE_KEY &&
        !str_eq(j->cur_key_id, j->st.key_id)) {
      /* An earlier pass stored the new key already. */
      str_copy(j->obs.key_id, j->cur_key_id, sizeof(j->obs.key_id));
      return acct__aws_finish(j, 0, NULL);
    }
    return create_key(j);
  }
  rq.access_key_id = json_string_value(json_array_get(j->list, j->idx++));
  rc = API(j)->delete_access_key(API(j), &j->acct_t, &rq, old_deleted, j);
  if (rc)
    acct__aws_finish(j, rc, NULL);
}

static void keys_listed(int err, const struct aws_error *ae,
                        const struct aws_iam_access_keys_result *r, void *arg)
{
  struct acct_job *j = arg;

  if (err)
    return acct__aws_finish(j, err, ae);
  json_decref(j->list);
  j->list = json_array();
  j->idx = 0;
  for (size_t i = 0; i < r->n; i++) {
    const char *id = r->v[i].access_key_id;

    /* Rotation keeps the old key (grace) and the Secret's (j->cur_key_id). */
    if (id && !(j->st.action == ACCT_ROTATE_KEY &&
                (str_eq(id, j->st.key_id) || str_eq(id, j->cur_key_id))))
      json_array_append_new(j->list, json_string(id));
  }
  delete_next_old(j);
}

/* ROTATE_KEY: j->cur_key_id holds the Secret's key (exec_rotate.c). */
int acct__exec_keysecret(struct acct_job *j)
{
  struct aws_iam_user_page_req rq = { .user_name = j->st.user_name };
  int rc = acct__account_target(j, NULL);

  if (rc)
    return rc;
  /* a user this process made in a new account has no key yet */
  if (j->st.action == ACCT_CREATE_ACCESS_KEY_SECRET &&
      acct__fresh_first_key(j->e, j->base.key, j->base.obj)) {
    struct aws_iam_user_req cq = { j->st.user_name };

    return API(j)->create_access_key(API(j), &j->acct_t, &cq, key_created, j);
  }
  return API(j)->list_access_keys(API(j), &j->acct_t, &rq, keys_listed, j);
}
