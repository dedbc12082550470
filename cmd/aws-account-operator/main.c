/* aws-account-operator: flags, wiring, signals. No logic lives here: every
 * decision belongs to a module under pkg/. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/check.h"
#include "aws/endpoints.h"
#include "config/config.h"
#include "controllers/exec/exec.h"
#include "controllers/manager.h"
#include "http/health.h"
#include "http/httpd.h"
#include "k8s/client.h"
#include "log/log.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#ifndef AAO_VERSION
#define AAO_VERSION "dev"
#endif

#define EXIT_USAGE 2

/* Everything the daemon owns; freed in reverse order of creation. */
struct app {
  struct cfg cfg;
  struct loop loop;
  struct met_registry *metrics;
  struct health *health;
  struct mgr *mgr;           /* the Kubernetes side */
  struct httpd *metrics_srv; /* serves /metrics */
  struct httpd *health_srv;  /* serves /healthz, /readyz (may be the same) */
  int open_servers;
};

static int always_ok(void *arg, char *msg, size_t msgsize)
{
  (void)arg;
  (void)msg;
  (void)msgsize;
  return 0;
}

static void server_closed(void *arg)
{
  struct app *a = arg;

  a->open_servers--;
}

/* Stop hook: close the HTTP servers; the loop ends when they are closed. */
static void stop_servers(void *arg)
{
  struct app *a = arg;

  if (a->health_srv && a->health_srv != a->metrics_srv)
    httpd_close(a->health_srv, server_closed, a);
  if (a->metrics_srv)
    httpd_close(a->metrics_srv, server_closed, a);
  a->metrics_srv = a->health_srv = NULL;
}

static void register_build_info(struct met_registry *r)
{
  static const char *const lbl[] = { "version", NULL };
  struct met_family *f =
      met_gauge(r, "aws_account_operator_build_info",
                "Build information of the running operator (always 1)", lbl);

  met_set(f, MET_LV(AAO_VERSION), 1);
}

static int listen_on(struct app *a, struct httpd **out, const char *addr,
                     const char *what)
{
  struct httpd *d = httpd_new(&a->loop.uv, NULL);
  int rc = httpd_listen(d, addr);

  if (rc) {
    log_error("main", "cannot serve %s on %s: %s", what, addr, op_strerror(rc));
    httpd_close(d, NULL, NULL);
    return rc;
  }
  a->open_servers++;
  log_info("main", "serving %s on %s (port %d)", what, addr, httpd_port(d));
  *out = d;
  return 0;
}

static int start_servers(struct app *a)
{
  bool shared = str_eq(a->cfg.metrics_bind, a->cfg.health_bind);
  int rc;

  a->health = health_new();
  health_add_liveness(a->health, "ping", always_ok, NULL);
  health_add_readiness(a->health, "ping", always_ok, NULL);
  rc = listen_on(a, &a->metrics_srv, a->cfg.metrics_bind,
                 shared ? "/metrics, /healthz, /readyz" : "/metrics");
  if (rc)
    return rc;
  httpd_route_metrics(a->metrics_srv, "/metrics", a->metrics);
  if (shared) {
    a->health_srv = a->metrics_srv;
  } else {
    rc = listen_on(a, &a->health_srv, a->cfg.health_bind, "/healthz, /readyz");
    if (rc)
      return rc;
  }
  return health_register(a->health, a->health_srv);
}

/* Hand the loop, the metrics and the health registry to the manager. */
static int start_manager(struct app *a)
{
  struct mgr_opts mo = {
    .cfg = &a->cfg,
    .metrics = a->metrics,
    .health = a->health,
    .version = AAO_VERSION,
  };
  struct op_error e = { 0 };
  int rc = mgr_new(&a->loop, &mo, &a->mgr, &e);

  if (rc) {
    log_error("main", "Kubernetes configuration: %s",
              e.msg[0] ? e.msg : op_strerror(rc));
    return rc;
  }
  rc = exec_register_all(a->mgr, &a->loop, &a->cfg, a->metrics);
  return rc ? rc : mgr_start(a->mgr);
}

static int run_daemon(struct app *a)
{
  int rc;

  if (loop_init(&a->loop, 0) || loop_handle_signals(&a->loop)) {
    log_error("main", "cannot initialise the event loop");
    return 1;
  }
  a->metrics = met_registry_new();
  met_register_process(a->metrics);
  register_build_info(a->metrics);
  loop_on_stop(&a->loop, stop_servers, a);
  rc = start_servers(a);
  if (!rc)
    rc = start_manager(a);
  if (rc)
    loop_request_stop(&a->loop, "start-up failed");
  else
    log_info("main", "aws-account-operator %s started (namespace %s)",
             AAO_VERSION, a->cfg.namespace);
  if (loop_run(&a->loop) != 0)
    rc = OP_ETIMEDOUT;
  if (loop_cleanup(&a->loop) != 0)
    log_error("main", "handles left open at exit");
  mgr_free(a->mgr);
  health_free(a->health);
  met_registry_free(a->metrics);
  log_info("main", "stopped");
  return rc ? 1 : 0;
}

/* ---- aws-check: who am I, in which partition and organization ----------
 * Credentials: with --kubeconfig, the operator Secret
 * aws-account-operator-credentials in --namespace; otherwise
 * AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (IRSA), else
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. */
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
      aws_creds_new_web_identity(k->client, NULL, NULL,
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
    fprintf(stderr, "aws-account-operator aws-check: %s\n", op_strerror(rc));
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

  k->creds = id && sec ? aws_creds_new_static(id, sec, tok) : NULL;
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
static int check_kube_start(struct aws_check_run *k, const struct cfg *cfg)
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
  fprintf(stderr, "aws-account-operator aws-check: --kubeconfig %s: %s\n",
          cfg->kubeconfig, e.msg[0] ? e.msg : op_strerror(rc));
  return rc;
}

static int check_start(struct aws_check_run *k, const struct cfg *cfg)
{
  struct aws_client_opts o = { .endpoint_url = cfg->aws_endpoint_url,
                               .default_region = cfg->aws_region,
                               .max_attempts = 2 };
  int rc;

  if (cfg->aws_region && aws_partition_of_region(cfg->aws_region))
    o.partition = aws_partition_of_region(cfg->aws_region);
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
  fputs(buf_str(&out), stdout);
  printf("  credentials:        %s\n", k->source);
  if (skew)
    printf("  clock skew:         %+ld s (corrected from the server's "
           "Date)\n",
           skew);
  buf_cleanup(&out);
}

/* Exit status: 0 when both calls succeeded, 1 on a diagnosis, 2 when the
 * check could not run. */
static int run_aws_check(const struct cfg *cfg)
{
  struct aws_check_run k;
  int rc;

  memset(&k, 0, sizeof(k));
  log_configure(cfg->log_level, cfg->log_format);
  if (uv_loop_init(&k.loop))
    return EXIT_USAGE;
  rc = check_start(&k, cfg);
  if (rc)
    fprintf(stderr, "aws-account-operator aws-check: cannot run: %s\n",
            op_strerror(rc));
  uv_run(&k.loop, UV_RUN_DEFAULT);
  if (k.done)
    check_print(&k);
  aws_creds_unref(k.creds);
  if (uv_loop_close(&k.loop))
    log_error("main", "aws-check: handles left open at exit");
  return !k.done ? EXIT_USAGE : k.r.rc ? 1 : 0;
}

int main(int argc, char **argv)
{
  struct app a;
  char err[512];
  int rc;

  memset(&a, 0, sizeof(a));
  if (cfg_parse(&a.cfg, argc, argv, NULL, err, sizeof(err))) {
    fprintf(stderr, "aws-account-operator: %s\n", err);
    return EXIT_USAGE;
  }
  if (a.cfg.show_help) {
    cfg_usage(stdout, "aws-account-operator");
    cfg_cleanup(&a.cfg);
    return 0;
  }
  if (a.cfg.show_version) {
    printf("aws-account-operator %s\n", AAO_VERSION);
    cfg_cleanup(&a.cfg);
    return 0;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  rc = a.cfg.subcommand ? run_aws_check(&a.cfg) : run_daemon(&a);
  curl_global_cleanup();
  cfg_cleanup(&a.cfg);
  return rc;
}
