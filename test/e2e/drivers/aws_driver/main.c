/* aws_driver: drives pkg/aws's real operation table (aws_api_real_new over
 * aws_call_start) against the AWS stand-in test/fakes/aws_api.py, for
 * test/e2e/test_aws_integration.py.
 *
 *   aws_driver MODE [N] [--endpoint URL] [--rate R] [--burst B]
 *              [--min-rate R] [--max-attempts N] [--backoff-cap-ms MS]
 *              [--retry-tokens N] [--cap N] [--poll-ms MS] [--web-token T]
 *
 * Credentials come from the environment only (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN), never from argv; the
 * endpoint from --endpoint or AWS_ENDPOINT_URL.
 *
 * Modes (stdout: one JSON object per line, secrets never printed):
 *   all-ops          every operation of api.h at least once, in the order
 *                    the operator uses them; one line per call
 *                    {"op","service","ok","ms"[,"class","code","http"]};
 *                    calls the table lacks but the sequence needs
 *                    (CreateSnapshot, CreateVpcEndpointServiceConfiguration)
 *                    go through
 *                    aws_call_start directly and carry "seed": true.
 *   create-burst N   N CreateAccount requests, each holding one of the
 *                    client's organization-wide slots until
 *                    DescribeCreateAccountStatus leaves IN_PROGRESS.
 *   throttled M      M read calls at once over four services (sts, iam,
 *                    organizations, ec2); summary with attempts, retries,
 *                    throttles and the observed send rate per service.
 *   bad-secret       one call per protocol with a wrong secret;
 *   unknown-key      the same with an access key AWS does not know.
 * The last line is always {"summary": ...}. Exit status 0 when the mode's
 * expectation held (all-ops: every call succeeded; create-burst,
 * throttled: every request completed; bad-secret/unknown-key: every call
 * failed with class auth), 1 otherwise, 2 on usage errors.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "driver_int.h"
#include "http/httpc.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

/* Most sends in any window of win_ms (two pointers over sorted times). */
static size_t max_in_window(const struct svc_sends *s, uint64_t win_ms)
{
  size_t lo = 0, hi, best = 0;

  for (hi = 0; hi < s->n; hi++) {
    while (s->t[hi] - s->t[lo] >= win_ms)
      lo++;
    if (hi - lo + 1 > best)
      best = hi - lo + 1;
  }
  return best;
}

static json_t *sends_json(const struct drv *d)
{
  json_t *o = json_object();
  size_t i;

  for (i = 0; i < NSVC; i++) {
    const struct svc_sends *s = &d->sends[i];
    double span = s->n > 1 ? (double)(s->t[s->n - 1] - s->t[0]) / 1000.0 : 0;

    json_object_set_new(
        o, s->name,
        json_pack("{s:I,s:f,s:f,s:I}", "sends", (json_int_t)s->n, "span_s",
                  span, "rate", span > 0 ? (double)(s->n - 1) / span : 0.0,
                  "max_in_1s", (json_int_t)max_in_window(s, 1000)));
  }
  return o;
}

/* Sum of a counter family's series in the rendered registry. */
static double metric_sum(struct met_registry *r, const char *name)
{
  struct buf b;
  const char *p;
  double sum = 0;
  size_t n = strlen(name);

  buf_init(&b, (size_t)1 << 20);
  met_render(r, &b);
  for (p = buf_str(&b); p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    const char *sp;

    if (strncmp(p, name, n) != 0 || p[n] != '{')
      continue;
    sp = strchr(p, ' ');
    if (sp)
      sum += strtod(sp + 1, NULL);
  }
  buf_cleanup(&b);
  return sum;
}

/* ---- set-up, summary, teardown ------------------------------------------- */

static void http_closed(void *arg)
{
  (void)arg;
}

static void client_closed(void *arg)
{
  struct drv *d = arg;

  httpc_close(d->http, http_closed, d);
}

void finish(struct drv *d)
{
  int i;

  if (d->finishing)
    return;
  d->finishing = true;
  uv_close((uv_handle_t *)&d->timer, NULL);
  for (i = 0; d->bursts && i < d->o.n; i++) {
    if (d->bursts[i].slot)
      aws_create_slot_release(d->bursts[i].slot);
    d->bursts[i].slot = NULL;
    uv_close((uv_handle_t *)&d->bursts[i].timer, NULL);
  }
  aws_client_close(d->c, client_closed, d);
}

static void print_summary(struct drv *d)
{
  static const char *const names[] = { "all-ops", "create-burst", "throttled",
                                       "bad-secret", "unknown-key" };
  json_t *s = json_pack(
      "{s:s,s:i,s:i,s:i,s:i,s:I,s:I,s:I,s:I,s:i}", "mode", names[d->o.mode],
      "calls", d->calls, "ok", d->ok, "failed", d->failed, "auth", d->auth,
      "attempts", (json_int_t)d->attempts, "retries", (json_int_t)d->retries,
      "throttles",
      (json_int_t)metric_sum(d->met,
                             "aws_account_operator_api_throttles_total"),
      "peak_slots", (json_int_t)d->peak_slots, "bursts_done", d->bursts_done);
  double rate = d->o.rate > 0 ? d->o.rate : 10; /* the client's defaults */

  json_object_set_new(s, "sends", sends_json(d));
  json_object_set_new(s, "governor",
                      json_pack("{s:f,s:f,s:f}", "rate", rate, "burst",
                                d->o.burst > 0 ? d->o.burst : rate, "min_rate",
                                d->o.min_rate > 0 ? d->o.min_rate : 0.5));
  if (d->o.mode == M_ALL)
    json_object_set_new(s, "account", json_string(d->id.acct));
  print_json(json_pack("{s:o}", "summary", s));
}

/* Expectation of the mode, from the counters. */
static int verdict(const struct drv *d)
{
  switch (d->o.mode) {
  case M_ALL:
    return d->exit_code || d->failed || d->cur < d->nsteps;
  case M_BURST:
    return d->exit_code || d->bursts_done != d->o.n;
  case M_THROTTLED:
    return d->failed || d->calls != d->o.n;
  default:
    return d->auth != d->calls || d->calls != AUTH_CALLS;
  }
}

static int make_client(struct drv *d)
{
  struct aws_client_opts co = { .endpoint_url = d->o.endpoint,
                                .max_attempts = d->o.max_attempts,
                                .backoff_cap_ms = d->o.backoff_cap_ms,
                                .retry_tokens = d->o.retry_tokens,
                                .create_account_cap = d->o.cap,
                                .governor_rate = d->o.rate,
                                .governor_min_rate = d->o.min_rate,
                                .governor_burst = d->o.burst,
                                .attempt_hook = on_attempt,
                                .attempt_hook_arg = d };
  int rc;

  d->met = met_registry_new();
  co.metrics = d->met;
  rc = httpc_new(&d->loop, NULL, &d->http);
  if (rc == 0)
    rc = aws_client_new(&d->loop, d->http, &co, &d->c);
  if (rc == 0)
    d->api = aws_api_real_new(d->c);
  return rc;
}

static int parse_num(const char *s, double *out)
{
  char *end;

  *out = strtod(s, &end);
  return end != s && *end == '\0' && *out >= 0 ? 0 : OP_EINVAL;
}

static int parse_flag(struct opts *o, const char *name, const char *v)
{
  static const char *const names[] = {
    "--rate",           "--burst",        "--min-rate", "--max-attempts",
    "--backoff-cap-ms", "--retry-tokens", "--cap",      "--poll-ms"
  };
  double x;
  size_t i;

  if (str_eq(name, "--endpoint")) {
    o->endpoint = v;
    return 0;
  }
  if (str_eq(name, "--web-token")) {
    o->web_token = v;
    return 0;
  }
  for (i = 0; i < UTIL_ARRAY_SIZE(names) && !str_eq(name, names[i]); i++)
    ;
  if (i == UTIL_ARRAY_SIZE(names) || parse_num(v, &x))
    return OP_EINVAL;
  double *dbl[] = { &o->rate, &o->burst, &o->min_rate };
  if (i < 3)
    *dbl[i] = x;
  else if (i == 3)
    o->max_attempts = (unsigned)x;
  else if (i == 4)
    o->backoff_cap_ms = (uint64_t)x;
  else if (i == 5)
    o->retry_tokens = (unsigned)x;
  else if (i == 6)
    o->cap = (unsigned)x;
  else
    o->poll_ms = (uint64_t)x;
  return 0;
}

static int parse_mode(struct opts *o, const char *m)
{
  static const char *const names[] = { "all-ops", "create-burst", "throttled",
                                       "bad-secret", "unknown-key" };
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(names); i++)
    if (str_eq(m, names[i])) {
      o->mode = (enum mode)i;
      return 0;
    }
  return OP_EINVAL;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
  int i = 2;
  double n = 0;

  o->poll_ms = 200;
  o->endpoint = getenv("AWS_ENDPOINT_URL");
  if (argc < 2 || parse_mode(o, argv[1]))
    return OP_EINVAL;
  if (o->mode == M_BURST || o->mode == M_THROTTLED) {
    if (argc < 3 || parse_num(argv[2], &n) || n < 1)
      return OP_EINVAL;
    o->n = (int)n;
    i = 3;
  }
  if (o->mode == M_BAD_SECRET || o->mode == M_UNKNOWN_KEY)
    o->n = AUTH_CALLS;
  for (; i + 1 < argc; i += 2)
    if (parse_flag(o, argv[i], argv[i + 1]))
      return OP_EINVAL;
  return i == argc && !str_empty(o->endpoint) ? 0 : OP_EINVAL;
}

/* The operator's credentials from the environment, altered for the
 * bad-secret and unknown-key modes. */
static int make_creds(struct drv *d)
{
  const char *key = getenv("AWS_ACCESS_KEY_ID");
  const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
  char *s;

  if (str_empty(key) || str_empty(secret))
    return OP_ENOTFOUND;
  s = util_xstrdup(secret);
  if (d->o.mode == M_BAD_SECRET)
    s[strlen(s) - 1] = s[strlen(s) - 1] == 'x' ? 'y' : 'x';
  if (d->o.mode == M_UNKNOWN_KEY)
    key = "AKIAAINTUNKNOWN00000";
  d->mgmt = aws_creds_static_new(key, s, getenv("AWS_SESSION_TOKEN"));
  util_free_secret(s);
  d->mt.creds = d->mgmt;
  d->mt.controller = "aws_driver";
  return d->mgmt ? 0 : OP_EINVAL;
}

static int start_mode(struct drv *d)
{
  switch (d->o.mode) {
  case M_ALL:
    return start_all_ops(d);
  case M_BURST:
    return start_burst(d);
  case M_THROTTLED:
    return start_throttled(d);
  default:
    return start_auth(d);
  }
}

static void cleanup(struct drv *d)
{
  size_t i;

  aws_api_free(d->api);
  aws_creds_unref(d->mgmt);
  aws_creds_unref(d->member);
  aws_creds_unref(d->user);
  met_registry_free(d->met);
  for (i = 0; i < NSVC; i++)
    free(d->sends[i].t);
  free(d->bursts);
  if (uv_loop_close(&d->loop))
    fprintf(stderr, "aws_driver: handles left open\n");
}

int main(int argc, char **argv)
{
  static const char *const svcs[NSVC] = { "sts", "iam", "organizations",
                                          "ec2" };
  struct drv d;
  int rc, i;

  memset(&d, 0, sizeof(d));
  if (parse_args(&d.o, argc, argv)) {
    fprintf(stderr, "usage: aws_driver all-ops|create-burst N|throttled M|"
                    "bad-secret|unknown-key [--endpoint URL] [--web-token T] "
                    "[--rate R] [--burst B] [--min-rate R] [--max-attempts N] "
                    "[--backoff-cap-ms MS] [--retry-tokens N] [--cap N] "
                    "[--poll-ms MS]\n");
    return 2;
  }
  log_configure(getenv("AWS_DRIVER_LOG") ? getenv("AWS_DRIVER_LOG") : "warn",
                NULL);
  for (i = 0; i < NSVC; i++)
    d.sends[i].name = svcs[i];
  uv_loop_init(&d.loop);
  uv_timer_init(&d.loop, &d.timer);
  d.timer.data = &d;
  rc = make_client(&d);
  if (rc == 0)
    rc = make_creds(&d);
  if (rc == 0)
    rc = start_mode(&d);
  if (rc) {
    fprintf(stderr, "aws_driver: cannot start: %s\n", op_strerror(rc));
    d.exit_code = 1;
    finish(&d);
  }
  uv_run(&d.loop, UV_RUN_DEFAULT);
  print_summary(&d);
  rc = verdict(&d);
  cleanup(&d);
  return rc ? 1 : 0;
}
