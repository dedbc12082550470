#include "config/config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "controllers/common/validate.h"
#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

/* F_DURATION: Go-style ("10m", "1m30s") into a long of whole seconds. */
enum flag_kind { F_STR, F_BOOL, F_LONG, F_DURATION };

struct flag {
  const char *name; /* without the leading "--" */
  const char *env;  /* environment equivalent, or NULL */
  enum flag_kind kind;
  size_t off;      /* offset of the field in struct cfg */
  const char *def; /* default as text, NULL = unset */
  long min, max;   /* for F_LONG; seconds for F_DURATION */
  const char *help;
};

#define OFF(f) offsetof(struct cfg, f)

/* One table drives parsing, defaults, environment and --help. */
static const struct flag flags[] = {
  { "kubeconfig", "KUBECONFIG", F_STR, OFF(kubeconfig), NULL, 0, 0,
    "path to a kubeconfig; unset = in-cluster configuration" },
  { "namespace", "OPERATOR_NAMESPACE", F_STR, OFF(namespace),
    "aws-account-operator", 0, 0,
    "namespace of Accounts, AccountPools, the ConfigMap and Secrets" },
  { "metrics-bind-address", "METRICS_BIND_ADDRESS", F_STR, OFF(metrics_bind),
    ":8080", 0, 0, "address serving /metrics" },
  { "health-probe-bind-address", "HEALTH_PROBE_BIND_ADDRESS", F_STR,
    OFF(health_bind), ":8081", 0, 0, "address serving /healthz and /readyz" },
  { "leader-elect", "LEADER_ELECT", F_BOOL, OFF(leader_elect), "false", 0, 0,
    "elect a leader with a coordination.k8s.io Lease before reconciling" },
  { "aws-endpoint-url", "AWS_ENDPOINT_URL", F_STR, OFF(aws_endpoint_url), NULL,
    0, 0, "send every AWS call to this endpoint (stand-ins, emulators)" },
  { "aws-region", "AWS_REGION", F_STR, OFF(aws_region), NULL, 0, 0,
    "AWS region for regional calls (also AWS_DEFAULT_REGION)" },
  { "log-level", "LOG_LEVEL", F_STR, OFF(log_level), "info", 0, 0,
    "debug, info, warn or error; per module: info,httpc=debug" },
  { "log-format", "LOG_FORMAT", F_STR, OFF(log_format), "kv", 0, 0,
    "kv (logfmt) or json" },
  { "kube-api-qps", "KUBE_API_QPS", F_LONG, OFF(kube_qps), "100", 1, 10000,
    "sustained requests per second to the Kubernetes API" },
  { "kube-api-burst", "KUBE_API_BURST", F_LONG, OFF(kube_burst), "200", 1,
    100000, "burst of requests to the Kubernetes API" },
  { "create-account-concurrency", "CREATE_ACCOUNT_CONCURRENCY", F_LONG,
    OFF(create_account_concurrency), "5", 1, 5,
    "organization-wide CreateAccount requests in flight (AWS allows 5)" },
  { "support-case-poll-interval", "SUPPORT_CASE_POLL_INTERVAL", F_DURATION,
    OFF(support_case_poll_s), "10m", 1, 24 * 3600,
    "DescribeCases interval for a new account (also caps the settle wait)" },
  { "validation-interval", "VALIDATION_INTERVAL", F_DURATION,
    OFF(validation_interval_s), "10m", 1, 24 * 3600,
    "AccountValidation period per account (first pass spread over it)" },
};

static const char *kind_hint(enum flag_kind k)
{
  switch (k) {
  case F_LONG:
    return "(expected an integer in range)";
  case F_DURATION:
    return "(expected a duration such as 10m, 1m30s or 5s, from 1s to 24h)";
  default:
    return "(expected true or false)";
  }
}

static int set_value(struct cfg *c, const struct flag *f, const char *v,
                     const char *src, char *err, size_t errlen)
{
  char *base = (char *)c;
  long long n;
  bool b;

  switch (f->kind) {
  case F_STR:
    free(*(char **)(base + f->off));
    *(char **)(base + f->off) = util_xstrdup(v);
    return 0;
  case F_BOOL:
    if (str_to_bool(v, &b))
      break;
    *(bool *)(base + f->off) = b;
    return 0;
  case F_LONG:
    if (str_to_ll(v, f->min, f->max, &n))
      break;
    *(long *)(base + f->off) = (long)n;
    return 0;
  case F_DURATION:
    if (time_parse_duration(v, f->min, f->max, &n))
      break;
    *(long *)(base + f->off) = (long)n;
    return 0;
  }
  str_fmt(err, errlen, "invalid value \"%s\" for %s %s", v, src,
          kind_hint(f->kind));
  return OP_EINVAL;
}

static const struct flag *find_flag(const char *name, size_t len)
{
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(flags); i++) {
    if (strlen(flags[i].name) == len && !strncmp(flags[i].name, name, len))
      return &flags[i];
  }
  return NULL;
}

static int apply_defaults_and_env(struct cfg *c,
                                  const char *(*env)(const char *), char *err,
                                  size_t errlen)
{
  char src[80];
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(flags); i++) {
    const struct flag *f = &flags[i];
    const char *v = f->env ? env(f->env) : NULL;
    if (!v && f->off == OFF(aws_region))
      v = env("AWS_DEFAULT_REGION");
    if (v && *v) {
      str_fmt(src, sizeof(src), "environment variable %s", f->env);
      if (set_value(c, f, v, src, err, errlen))
        return OP_EINVAL;
    } else if (f->def) {
      set_value(c, f, f->def, "default", err, errlen);
    }
  }
  return 0;
}

static const char *real_getenv(const char *name)
{
  return getenv(name);
}

/* Handle one "--name[=value]" at argv[*i]; may consume argv[*i + 1]. */
static int parse_flag(struct cfg *c, int argc, char *const argv[], int *i,
                      char *err, size_t errlen)
{
  const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
  size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
  const struct flag *f = find_flag(arg, len);
  char src[80];

  if (!f) {
    str_fmt(err, errlen, "unknown flag --%.*s (see --help)", (int)len, arg);
    return OP_EINVAL;
  }
  str_fmt(src, sizeof(src), "--%s", f->name);
  if (eq)
    return set_value(c, f, eq + 1, src, err, errlen);
  if (f->kind == F_BOOL)
    return set_value(c, f, "true", src, err, errlen);
  if (*i + 1 >= argc) {
    str_fmt(err, errlen, "flag --%s needs a value", f->name);
    return OP_EINVAL;
  }
  (*i)++;
  return set_value(c, f, argv[*i], src, err, errlen);
}

static int parse_positional(struct cfg *c, const char *arg, char *err,
                            size_t errlen)
{
  if (c->subcommand) {
    str_fmt(err, errlen, "unexpected argument \"%s\"", arg);
    return OP_EINVAL;
  }
  if (strcmp(arg, "aws-check") != 0) {
    str_fmt(err, errlen, "unknown command \"%s\" (known: aws-check)", arg);
    return OP_EINVAL;
  }
  c->subcommand = util_xstrdup(arg);
  return 0;
}

static int validate(const struct cfg *c, char *err, size_t errlen)
{
  /* Validating the log settings also applies them, which is what every
   * caller wants next anyway. */
  if (log_configure(c->log_level, NULL)) {
    str_fmt(err, errlen, "invalid --log-level \"%s\"", c->log_level);
    return OP_EINVAL;
  }
  if (log_configure(NULL, c->log_format)) {
    str_fmt(err, errlen, "invalid --log-format \"%s\" (kv or json)",
            c->log_format);
    return OP_EINVAL;
  }
  if (str_empty(c->namespace)) {
    str_fmt(err, errlen, "--namespace must not be empty");
    return OP_EINVAL;
  }
  /* both end up in request paths and host names */
  if (!validate_dns1123_label(c->namespace)) {
    str_fmt(err, errlen,
            "invalid --namespace \"%.64s\" (a namespace name: at most 63 "
            "lowercase alphanumerics or '-')",
            c->namespace);
    return OP_EINVAL;
  }
  if (!str_empty(c->aws_region) && !validate_region(c->aws_region)) {
    str_fmt(err, errlen, "invalid --aws-region \"%.64s\" (e.g. us-east-1)",
            c->aws_region);
    return OP_EINVAL;
  }
  if (c->aws_endpoint_url && !str_has_prefix(c->aws_endpoint_url, "http://") &&
      !str_has_prefix(c->aws_endpoint_url, "https://")) {
    str_fmt(err, errlen,
            "--aws-endpoint-url must be an http(s) URL, got "
            "\"%s\"",
            c->aws_endpoint_url);
    return OP_EINVAL;
  }
  return 0;
}

int cfg_parse(struct cfg *c, int argc, char *const argv[],
              const char *(*env)(const char *name), char *err, size_t errlen)
{
  int i, rc;

  memset(c, 0, sizeof(*c));
  err[0] = '\0';
  rc = apply_defaults_and_env(c, env ? env : real_getenv, err, errlen);
  for (i = 1; i < argc && !rc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h"))
      c->show_help = true;
    else if (!strcmp(a, "--version"))
      c->show_version = true;
    else if (str_has_prefix(a, "--") && a[2])
      rc = parse_flag(c, argc, argv, &i, err, errlen);
    else if (a[0] == '-') {
      str_fmt(err, errlen, "unknown flag %s (see --help)", a);
      rc = OP_EINVAL;
    } else
      rc = parse_positional(c, a, err, errlen);
  }
  if (!rc && !c->show_help && !c->show_version)
    rc = validate(c, err, errlen);
  if (rc)
    cfg_cleanup(c);
  return rc;
}

void cfg_cleanup(struct cfg *c)
{
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(flags); i++) {
    if (flags[i].kind == F_STR) {
      char **p = (char **)((char *)c + flags[i].off);
      free(*p);
      *p = NULL;
    }
  }
  free(c->subcommand);
  c->subcommand = NULL;
}

void cfg_usage(FILE *out, const char *prog)
{
  size_t i;

  fprintf(out,
          "usage: %s [flags]            run the operator\n"
          "       %s aws-check [flags]  diagnose the AWS credentials\n\n"
          "flags (environment variable in brackets; flags win):\n",
          prog, prog);
  for (i = 0; i < UTIL_ARRAY_SIZE(flags); i++) {
    const struct flag *f = &flags[i];
    fprintf(out, "  --%-28s %s\n  %-30s [%s]%s%s\n", f->name, f->help, "",
            f->env ? f->env : "-", f->def ? " default " : "",
            f->def ? f->def : "");
  }
  fprintf(out, "  --%-28s %s\n  --%-28s %s\n", "version",
          "print the version and exit", "help", "print this help and exit");
}
