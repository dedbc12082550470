/* aws-check (see awscheck.h): one uv loop of its own, an HTTP client, an
 * AWS client and, with a kubeconfig, a Kubernetes client for the Secret. */
#include "awscheck/awscheck.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "aws/core/check.h"
#include "aws/core/creds.h"
#include "aws/core/endpoints.h"
#include "aws/core/transport.h"
#include "http/httpc.h"
#include "k8s/client.h"
#include "k8s/config.h"
#include "log/log.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define AWS_CHECK_SECRET "aws-account-operator-credentials"

struct aws_check_run {
  uv_loop_t loop;
  struct httpc *http;
  struct aws_client *client;
  struct k8s_client *kube;
  struct aws_creds *creds;
  const char *source;
  char source_buf[384];
  struct aws_check_result r;
  long skew; /* applied by the client, read before it is closed */
  bool done;
  FILE *out, *err;
};

static void check_http_closed(void *arg)
{
  (void)arg;
}

static void check_client_closed(void *arg)
{
  struct aws_check_run *k = arg;

  httpc_close(k->http, check_http_closed, k);
}

static void check_done(const struct aws_check_result *r, void *arg)
{
  struct aws_check_run *k = arg;

  k->r = *r;
  k->skew = aws_client_skew(k->client);
  k->done = true;
  aws_client_close(k->client, check_client_closed, k);
}

/* Web identity first (what IRSA sets), then static keys; NULL when neither
 * is configured (aws_check then reports no_credentials). */
static void check_creds(struct aws_check_run *k)
{
  if (!str_empty(getenv("AWS_ROLE_ARN")) &&
      !str_empty(getenv("AWS_WEB_IDENTITY_TOKEN_FILE")) &&
      aws_creds_web_identity_new(k->client, NULL, NULL,
                                 "aws-account-operator-check",
                                 &k->creds) == 0) {
    k->source = "web identity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE)";
  } else if (aws_creds_from_env(&k->creds) == 0) {
    k->source = "environment (AWS_ACCESS_KEY_ID)";
  } else {
    k->creds = NULL;
    k->source = "none";
  }
}

/* Both calls through the client; the report comes to check_done. */
static void check_go(struct aws_check_run *k)
{
  int rc = aws_check_start(k->client, k->creds, check_done, k);

  if (rc) {
    fprintf(k->err, "aws-account-operator aws-check: %s\n", op_strerror(rc));
    aws_client_close(k->client, check_client_closed, k);
  }
}

static void check_kube_closed(void *arg)
{
  check_go(arg);
}

/* The Secret's data key, base64-decoded (secret: wipe with
 * util_free_secret); NULL when absent or malformed. */
static char *secret_value(json_t *secret, const char *key)
{
  json_t *v = json_object_get(json_object_get(secret, "data"), key);
  char *out = NULL;

  if (!json_is_string(v) ||
      k8s_base64_decode_new(json_string_value(v), &out, NULL) != 0)
    return NULL;
  return out;
}

static void on_check_secret(int err, json_t *obj, const struct op_error *e,
                            void *arg)
{
  struct aws_check_run *k = arg;
  char *id = err ? NULL : secret_value(obj, AWS_SECRET_KEY_ID);
  char *sec = err ? NULL : secret_value(obj, AWS_SECRET_KEY_SECRET);
  char *tok = err ? NULL : secret_value(obj, AWS_SECRET_KEY_TOKEN);
  size_t n = strlen(k->source_buf);

  k->creds = id && sec ? aws_creds_static_new(id, sec, tok) : NULL;
  if (err)
    str_fmt(k->source_buf + n, sizeof(k->source_buf) - n, ": %s (%s)",
            op_strerror(err), e && e->msg[0] ? e->msg : "-");
  else if (!k->creds)
    str_fmt(k->source_buf + n, sizeof(k->source_buf) - n, ": no %s/%s in .data",
            AWS_SECRET_KEY_ID, AWS_SECRET_KEY_SECRET);
  util_free_secret(id);
  util_free_secret(sec);
  util_free_secret(tok);
  k8s_client_close(k->kube, check_kube_closed, k);
  k->kube = NULL;
}

/* Read the operator Secret through the kubeconfig's API server. */
static int check_kube_start(struct aws_check_run *k,
                            const struct awscheck_opts *cfg)
{
  static const struct k8s_gvr secrets = { "", "v1", "secrets", true };
  struct k8s_config *kc = NULL;
  struct op_error e = { 0 };
  int rc = k8s_config_load_kubeconfig(cfg->kubeconfig, NULL, &kc, &e);

  k->source = k->source_buf;
  str_fmt(k->source_buf, sizeof(k->source_buf), "Secret %s/%s", cfg->namespace,
          AWS_CHECK_SECRET);
  if (rc == 0)
    rc = k8s_client_new(&k->loop, k->http, kc, NULL, &k->kube);
  k8s_config_free(kc);
  if (rc == 0)
    rc = k8s_get(k->kube, &secrets, cfg->namespace, AWS_CHECK_SECRET,
                 on_check_secret, k);
  if (rc == 0)
    return 0;
  if (k->kube)
    k8s_client_close(k->kube, NULL, NULL);
  k->kube = NULL;
  fprintf(k->err, "aws-account-operator aws-check: --kubeconfig %s: %s\n",
          cfg->kubeconfig, e.msg[0] ? e.msg : op_strerror(rc));
  return rc;
}

static int check_start(struct aws_check_run *k, const struct awscheck_opts *cfg)
{
  struct aws_client_opts o = { .endpoint_url = cfg->endpoint_url,
                               .default_region = cfg->region,
                               .max_attempts = 2 };
  int rc;

  if (cfg->region && aws_partition_of_region(cfg->region))
    o.partition = aws_partition_of_region(cfg->region);
  rc = httpc_new(&k->loop, NULL, &k->http);
  if (rc)
    return rc;
  rc = aws_client_new(&k->loop, k->http, &o, &k->client);
  if (rc) {
    httpc_close(k->http, check_http_closed, k);
    return rc;
  }
  if (cfg->kubeconfig) {
    rc = check_kube_start(k, cfg);
    if (rc)
      aws_client_close(k->client, check_client_closed, k);
    return rc;
  }
  check_creds(k);
  check_go(k);
  return 0;
}

static void check_print(const struct aws_check_run *k)
{
  struct buf out;
  long skew = k->skew;

  buf_init(&out, (size_t)64 << 10);
  aws_check_format(&k->r, &out);
  fputs(buf_str(&out), k->out);
  fprintf(k->out, "  credentials:        %s\n", k->source);
  if (skew)
    fprintf(k->out,
            "  clock skew:         %+ld s (corrected from the server's "
            "Date)\n",
            skew);
  buf_cleanup(&out);
}

int awscheck_run(const struct awscheck_opts *cfg, FILE *out, FILE *err)
{
  struct aws_check_run k;
  int rc;

  memset(&k, 0, sizeof(k));
  k.out = out;
  k.err = err;
  if (uv_loop_init(&k.loop))
    return AWSCHECK_CANNOT_RUN;
  rc = check_start(&k, cfg);
  if (rc)
    fprintf(k.err, "aws-account-operator aws-check: cannot run: %s\n",
            op_strerror(rc));
  uv_run(&k.loop, UV_RUN_DEFAULT);
  if (k.done)
    check_print(&k);
  aws_creds_unref(k.creds);
  if (uv_loop_close(&k.loop))
    log_error("awscheck", "handles left open at exit");
  return !k.done ? AWSCHECK_CANNOT_RUN : k.r.rc ? AWSCHECK_DIAGNOSIS : 0;
}
