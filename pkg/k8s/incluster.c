/* In-cluster configuration (client-go rest.InClusterConfig,
 * kubernetes-client/c incluster_config.c): the API server from
 * KUBERNETES_SERVICE_HOST/_PORT, credentials from the service-account
 * mount. The token file is kept so the client re-reads it (bound tokens
 * rotate; client-go re-reads every minute). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s/config.h"
#include "util/str.h"
#include "util/util.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount/"
#define NS_MAX 256

static void load_namespace(struct k8s_config *c, const char *path)
{
  char *ns = NULL, *t;

  if (k8s_read_file_new(path, NS_MAX, &ns) == 0) {
    t = str_trim(ns);
    if (*t)
      c->namespace = util_xstrdup(t);
  }
  free(ns);
  if (!c->namespace)
    c->namespace = util_xstrdup("default");
}

int k8s_config_load_incluster(const struct k8s_incluster_paths *paths,
                              struct k8s_config **out, struct op_error *e)
{
  const char *host = secure_getenv("KUBERNETES_SERVICE_HOST");
  const char *port = secure_getenv("KUBERNETES_SERVICE_PORT");
  const char *tok = paths && paths->token ? paths->token : SA_DIR "token";
  const char *ca = paths && paths->ca ? paths->ca : SA_DIR "ca.crt";
  const char *nsf =
      paths && paths->namespace ? paths->namespace : SA_DIR "namespace";
  struct k8s_config *c;
  int rc;

  *out = NULL;
  if (str_empty(host) || str_empty(port))
    return op_error_set(e, OP_ECONFIG,
                        "in-cluster: KUBERNETES_SERVICE_HOST and "
                        "KUBERNETES_SERVICE_PORT must be set");
  c = util_xcalloc(1, sizeof(*c));
  /* An IPv6 service host needs brackets (net.JoinHostPort). */
  c->server = strchr(host, ':') ? str_printf_new("https://[%s]:%s", host, port)
                                : str_printf_new("https://%s:%s", host, port);
  c->token_file = util_xstrdup(tok);
  rc = k8s_config_reload_token(c, NULL, e);
  if (rc) {
    k8s_config_free(c);
    return rc;
  }
  if (access(ca, R_OK) == 0)
    c->ca_file = util_xstrdup(ca);
  load_namespace(c, nsf);
  *out = c;
  return 0;
}
