/* Process configuration: command-line flags and their environment
 * equivalents, parsed once at start-up into one immutable struct.
 * Precedence: flag > environment > default. The operator ConfigMap is not
 * read here: it is watched through an informer.
 */
#ifndef PKG_CONFIG_CONFIG_H
#define PKG_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

struct cfg {
  char *kubeconfig;   /* NULL = in-cluster */
  char *namespace;    /* operator namespace */
  char *metrics_bind; /* ":8080" */
  char *health_bind;  /* ":8081" */
  bool leader_elect;
  char *aws_endpoint_url; /* NULL = real AWS endpoints */
  char *aws_region;       /* AWS_REGION / AWS_DEFAULT_REGION */
  char *log_level;
  char *log_format;
  long kube_qps; /* client-side rate limit to the API server */
  long kube_burst;
  long create_account_concurrency; /* org-wide CreateAccount in flight */
  /* Seconds between DescribeCases polls of a new account's support case
   * (upstream: 10 minutes); also caps the settle wait after CreateCase. */
  long support_case_poll_s;
  /* Seconds between two validations of one Account (AccountValidation;
   * upstream: 10 minutes). */
  long validation_interval_s;
  char *subcommand; /* NULL = run the daemon; "aws-check" */
  bool show_version;
  bool show_help;
};

/* Parse argv (argv[0] skipped) with the environment from getenv-like fn
 * (NULL = getenv). On error writes a one-line reason into err and returns
 * OP_EINVAL; the caller prints it and exits 2. */
int cfg_parse(struct cfg *c, int argc, char *const argv[],
              const char *(*env)(const char *name), char *err, size_t errlen);
void cfg_cleanup(struct cfg *c);
/* The --help text: usage and the flag table. */
void cfg_usage(FILE *out, const char *prog);

#endif
