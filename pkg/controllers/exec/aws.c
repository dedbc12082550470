/* AWS access for the executors: client, api table, management credentials
 * from the operator Secret, and per-account AssumeRole credentials
 * (exec.h). Secret material is decoded into wiped buffers and handed to
 * aws_creds only; nothing here logs it. */
#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "aws/core/creds.h"
#include "aws/core/endpoints.h"
#include "aws/core/transport.h"
#include "cache/informer.h"
#include "controllers/common/obj.h"
#include "controllers/exec/exec.h"
#include "controllers/runtime/manager.h"
#include "k8s/config.h"
#include "log/log.h"
#include "util/err.h"
#include "util/map.h"
#include "util/str.h"
#include "util/util.h"

#define ORG_ROLE "OrganizationAccountAccessRole"

struct exec_aws {
  uv_loop_t *loop;
  struct aws_client *client; /* owned; NULL in tests */
  struct aws_api *api;
  bool own_api;
  struct aws_creds *mgmt;
  struct map accounts; /* account id -> struct aws_creds * */
  struct exec_follower secret;
  int (*assume)(void *arg, const char *account_id, struct aws_creds **out);
  void *assume_arg;
  void (*close_cb)(void *arg);
  void *close_arg;
};

int exec_role_arn(const char *partition, const char *account_id,
                  const char *role, char *out, size_t outsz)
{
  char res[128];

  if (str_empty(account_id) || str_empty(role) ||
      str_fmt(res, sizeof(res), "role/%s", role))
    return OP_EINVAL;
  return aws_arn_fmt(out, outsz, partition, "iam", account_id, res);
}

static void unref_cb(void *val, void *arg)
{
  (void)arg;
  aws_creds_unref(val);
}

static void flush_accounts(struct exec_aws *a)
{
  map_cleanup(&a->accounts, unref_cb, NULL);
  map_init(&a->accounts);
}

char *exec_secret_field(const json_t *s, const char *key)
{
  const json_t *data = obj_get(s, "data");
  const char *b64 = json_string_value(json_object_get(data, key));
  char *out = NULL;
  size_t len = 0;

  if (!b64 || k8s_base64_decode_new(b64, &out, &len))
    return NULL;
  while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
    out[--len] = 0;
  return out;
}

void exec_aws_apply_secret(struct exec_aws *a, const json_t *secret)
{
  char *id = NULL, *key = NULL, *tok = NULL;
  struct aws_creds *n = NULL;

  if (secret) {
    id = exec_secret_field(secret, AWS_SECRET_KEY_ID);
    key = exec_secret_field(secret, AWS_SECRET_KEY_SECRET);
    tok = exec_secret_field(secret, AWS_SECRET_KEY_TOKEN);
    n = aws_creds_static_new(id, key, str_empty(tok) ? NULL : tok);
  }
  util_free_secret(id);
  util_free_secret(key);
  util_free_secret(tok);
  flush_accounts(a);
  if (a->mgmt)
    aws_creds_unref(a->mgmt);
  a->mgmt = n;
  if (n)
    log_info("aws", "management credentials loaded from Secret %s (key id %s)",
             MGR_SECRET_NAME, aws_creds_label(n));
  else
    log_warn("aws", "Secret %s missing or without %s/%s: AWS steps wait for it",
             MGR_SECRET_NAME, AWS_SECRET_KEY_ID, AWS_SECRET_KEY_SECRET);
}

static void follow_secret(void *arg, const json_t *secret)
{
  exec_aws_apply_secret(arg, secret);
}

static int make_client(struct exec_aws *a, struct httpc *h,
                       const struct exec_aws_opts *o)
{
  struct aws_client_opts co = {
    .default_region = o->region,
    .endpoint_url = o->endpoint_url,
    .create_account_cap = o->create_account_cap,
    .metrics = o->metrics,
  };
  int rc = aws_client_new(a->loop, h, &co, &a->client);

  if (rc)
    return rc;
  a->api = aws_api_real_new(a->client);
  a->own_api = true;
  return a->api ? 0 : OP_ENOMEM;
}

int exec_aws_new(uv_loop_t *loop, struct httpc *h,
                 const struct exec_aws_opts *o, struct exec_aws **out)
{
  struct exec_aws *a = calloc(1, sizeof(*a));
  int rc = 0;

  if (!a)
    return OP_ENOMEM;
  a->loop = loop;
  map_init(&a->accounts);
  a->assume = o->assume;
  a->assume_arg = o->assume_arg;
  if (o->api)
    a->api = o->api;
  else
    rc = make_client(a, h, o);
  if (rc) {
    exec_aws_close(a, NULL, NULL);
    return rc;
  }
  a->secret = (struct exec_follower){ .name = MGR_SECRET_NAME,
                                      .fn = follow_secret,
                                      .arg = a };
  rc = exec_follow_start(&a->secret, o->secret);
  if (rc) {
    exec_aws_close(a, NULL, NULL);
    return rc;
  }
  *out = a;
  return 0;
}

static void closed(void *arg)
{
  struct exec_aws *a = arg;

  if (a->close_cb)
    a->close_cb(a->close_arg);
  free(a);
}

void exec_aws_detach(struct exec_aws *a)
{
  if (a)
    exec_follow_stop(&a->secret);
}

void exec_aws_close(struct exec_aws *a, void (*cb)(void *arg), void *arg)
{
  if (!a)
    return;
  exec_aws_detach(a);
  flush_accounts(a);
  map_cleanup(&a->accounts, NULL, NULL);
  if (a->mgmt)
    aws_creds_unref(a->mgmt);
  a->mgmt = NULL;
  if (a->own_api)
    aws_api_free(a->api);
  a->api = NULL;
  a->close_cb = cb;
  a->close_arg = arg;
  if (a->client)
    aws_client_close(a->client, closed, a);
  else
    closed(a);
}

void exec_aws_set_partition(struct exec_aws *a, const char *partition)
{
  if (!a->client || str_eq(aws_client_partition(a->client), partition))
    return;
  if (aws_client_set_partition(a->client, partition)) {
    log_error("aws", "unknown partition %s", partition);
    return;
  }
  flush_accounts(a); /* sessions of the other partition */
  log_info("aws", "AWS partition %s (default region %s)", partition,
           aws_client_default_region(a->client));
}

struct aws_api *exec_aws_api(struct exec_aws *a)
{
  return a->api;
}

struct aws_client *exec_aws_client(struct exec_aws *a)
{
  return a->client;
}

struct aws_creds *exec_aws_mgmt(struct exec_aws *a)
{
  return a ? a->mgmt : NULL;
}

struct aws_creds *exec_aws_mgmt_cb(void *arg)
{
  return exec_aws_mgmt(arg);
}

static int assume_real(struct exec_aws *a, const char *account_id,
                       struct aws_creds **out)
{
  char arn[160];
  struct aws_assume_role_opts ro = { 0 };
  const char *part = a->client ? aws_client_partition(a->client) : "aws";

  if (!a->client)
    return OP_ENOTSUP;
  if (exec_role_arn(part, account_id, ORG_ROLE, arn, sizeof(arn)))
    return OP_EINVAL;
  ro.role_arn = arn;
  ro.session_name = "awsAccountOperator";
  return aws_creds_assume_role_new(a->client, a->mgmt, &ro, out);
}

int exec_aws_account_creds(struct exec_aws *a, const char *account_id,
                           struct aws_creds **out)
{
  struct aws_creds *c = map_get(&a->accounts, account_id);
  int rc;

  if (!a->mgmt)
    return OP_ENOTFOUND;
  if (str_empty(account_id))
    return OP_EINVAL;
  if (!c) {
    rc = a->assume ? a->assume(a->assume_arg, account_id, &c)
                   : assume_real(a, account_id, &c);
    if (rc)
      return rc;
    map_put(&a->accounts, account_id, c, NULL);
  }
  *out = c;
  return 0;
}

void exec_aws_forget_account(struct exec_aws *a, const char *account_id)
{
  struct aws_creds *c = map_del(&a->accounts, account_id);

  if (c)
    aws_creds_unref(c);
}
