/* aws-account-operator: flags, wiring, signals. No logic lives here: every
 * decision belongs to a module under pkg/. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awscheck/awscheck.h"
#include "config/config.h"
#include "cmd/aws-account-operator/controllers.h"
#include "cmd/aws-account-operator/devmode.h"
#include "controllers/runtime/manager.h"
#include "http/health.h"
#include "http/httpd.h"
#include "log/log.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "util/str.h"

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
  rc = controllers_register(a->mgr, &a->loop, &a->cfg, a->metrics);
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

/* FORCE_DEV_MODE: refused against real AWS, ignored with a warning
 * otherwise (devmode.h). */
static int check_devmode(const struct cfg *c)
{
  char msg[512];

  switch (devmode_check(getenv("FORCE_DEV_MODE"), c->aws_endpoint_url, msg,
                        sizeof(msg))) {
  case DEVMODE_REFUSE:
    fprintf(stderr, "aws-account-operator: %s\n", msg);
    return EXIT_USAGE;
  case DEVMODE_WARN:
    log_warn("main", "%s", msg);
    return 0;
  default:
    return 0;
  }
}

static int run_aws_check(const struct cfg *c)
{
  const struct awscheck_opts o = { .kubeconfig = c->kubeconfig,
                                   .namespace = c->namespace,
                                   .endpoint_url = c->aws_endpoint_url,
                                   .region = c->aws_region };

  log_configure(c->log_level, c->log_format);
  return awscheck_run(&o, stdout, stderr);
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
  if (!a.cfg.subcommand && check_devmode(&a.cfg)) {
    cfg_cleanup(&a.cfg);
    return EXIT_USAGE;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  rc = a.cfg.subcommand ? run_aws_check(&a.cfg) : run_daemon(&a);
  curl_global_cleanup();
  cfg_cleanup(&a.cfg);
  return rc;
}
