/* Kubernetes client configuration: kubeconfig (libyaml) and in-cluster
 * (service-account mount), as kubernetes-client/c's config/ and client-go's
 * clientcmd/rest.InClusterConfig do.
 *
 * struct k8s_config is a plain value owned by whoever created it; every
 * pointer member is owned by it and freed by k8s_config_free. key_pem and
 * token are secret: wiped before they are freed, never logged.
 */
#ifndef PKG_K8S_CONFIG_H
#define PKG_K8S_CONFIG_H

#include <stdbool.h>

#include "util/err.h"

struct k8s_config {
  char *server;     /* "https://host:port", no trailing slash */
  char *ca_file;    /* certificate-authority (absolute path) */
  char *ca_pem;     /* certificate-authority-data, decoded */
  char *cert_file;  /* client-certificate */
  char *cert_pem;   /* client-certificate-data, decoded */
  char *key_file;   /* client-key */
  char *key_pem;    /* client-key-data, decoded (secret) */
  char *token;      /* bearer token (secret), from token or tokenFile */
  char *token_file; /* re-read periodically and on 401 when set */
  char *namespace;  /* context namespace / pod namespace, else "default" */
  char *context;    /* context name used (kubeconfig only) */
  bool insecure_skip_verify;
};

/* Load a kubeconfig file. context: NULL = current-context. Errors are
 * OP_ECONFIG (malformed YAML, missing context/cluster/user, bad base64,
 * exec/auth-provider plugins which are not supported) or OP_EIO (file
 * unreadable), with a message in *e. Relative file paths are resolved
 * against the kubeconfig's directory. */
int k8s_config_load_kubeconfig(const char *path, const char *context,
                               struct k8s_config **out, struct op_error *e);

/* Service-account mount paths; NULL members take the standard paths under
 * /var/run/secrets/kubernetes.io/serviceaccount/. */
struct k8s_incluster_paths {
  const char *token;
  const char *ca;
  const char *namespace;
};

/* In-cluster config from KUBERNETES_SERVICE_HOST/_PORT and the
 * service-account files. paths may be NULL. OP_ECONFIG when the environment
 * is missing, OP_EIO when the token cannot be read. */
int k8s_config_load_incluster(const struct k8s_incluster_paths *paths,
                              struct k8s_config **out, struct op_error *e);

/* Re-read token_file (no-op returning 0 when unset). *changed (may be NULL)
 * tells whether the token differs from the previous one. On error the old
 * token is kept. */
int k8s_config_reload_token(struct k8s_config *c, bool *changed,
                            struct op_error *e);

struct k8s_config *k8s_config_dup(const struct k8s_config *c);
void k8s_config_free(struct k8s_config *c);

/* Strict base64 (standard alphabet, padding optional, whitespace ignored)
 * into a NUL-terminated new string; *len (may be NULL) gets the length.
 * Returns 0 or OP_EPARSE. */
int k8s_base64_decode_new(const char *in, char **out, size_t *len);

/* Read a whole small file (cap bytes) into a new NUL-terminated string,
 * trailing whitespace kept. Returns 0, OP_EIO or OP_ETOOBIG. */
int k8s_read_file_new(const char *path, size_t cap, char **out);

#endif
