/* The AWS client and the one call seam every AWS operation uses:
 * endpoint resolution, SigV4 signing, sending through httpc, error
 * decoding and classification, standard-mode retries with a token budget,
 * clock-skew correction, the per-(service, account) rate governor and
 * metrics.
 *
 *   struct aws_call call = {
 *     .service = "organizations", .operation = "DescribeOrganization",
 *     .method = "POST", .path = "/", .headers = hdrs, .nheaders = 2,
 *     .body = "{}", .body_len = 2, .protocol = AWS_PROTO_JSON11,
 *     .idempotent = true,
 *   };
 *   aws_call_start(client, creds, &call, done, arg);
 *   ... done(err, resp, aerr, arg): err 0 and resp for a 2xx answer;
 *       otherwise err an op_err (OP_ETHROTTLED, OP_EAUTH, OP_ENOTFOUND, ...)
 *       and aerr the decoded AWS error (resp is set when an HTTP answer
 *       was received). resp/aerr are borrowed, valid during the callback.
 *
 * Everything in aws_call is copied by aws_call_start.
 */
#ifndef PKG_AWS_CORE_TRANSPORT_H
#define PKG_AWS_CORE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "aws/core/creds.h"
#include "aws/core/errors.h"
#include "http/httpc.h"

struct met_registry;
struct aws_client;

struct aws_header {
  const char *name;
  const char *value;
};

struct aws_call {
  const char *service;   /* "organizations","sts","iam","ec2","support",
                            "servicequotas","account","s3","route53" */
  const char *operation; /* e.g. "CreateAccount": metrics, logs, retries */
  const char *region;    /* NULL = the client default region (regional
                            services); global services ignore it */
  const char *method, *path, *query; /* path and query already encoded */
  const struct aws_header *headers;
  size_t nheaders;
  const void *body;
  size_t body_len;
  enum aws_protocol protocol;
  bool idempotent;        /* may be retried on transient/network errors */
  bool unsigned_request;  /* AssumeRoleWithWebIdentity: no signature */
  const char *controller; /* metrics label; NULL = "{OTHER}" */
  const char *account;    /* governor key; NULL = the credentials' label */
  /* A periodic poll's page (the organization listing): waits in the
   * governor behind reconciles' calls, for at most 1 s
   * (AWS_GOV_BACKGROUND_WAIT_MS) while they keep coming. */
  bool background;
};

struct aws_resp {
  long status;
  const char *body;
  size_t body_len;
  const char *request_id;
  const struct httpc_resp *http;
};

typedef void (*aws_call_cb)(int err, const struct aws_resp *resp,
                            const struct aws_error *aerr, void *arg);

/* Clock for the governor and skew maths (tests inject one). */
typedef uint64_t (*aws_clock_fn)(void *arg); /* monotonic ms */

struct aws_client_opts {
  const char *partition;        /* "aws" (default), "aws-us-gov", "aws-cn" */
  const char *default_region;   /* NULL = partition default */
  const char *endpoint_url;     /* --aws-endpoint-url: every service */
  unsigned max_attempts;        /* 0 = 3 */
  uint64_t backoff_base_ms;     /* 0 = 100 */
  uint64_t backoff_cap_ms;      /* 0 = 20000 */
  unsigned retry_tokens;        /* 0 = 500 */
  long timeout_ms;              /* per attempt; 0 = 30000 */
  unsigned create_account_cap;  /* 0 = 5 */
  double governor_rate;         /* requests/s per (service, account); 0 = 10 */
  double governor_min_rate;     /* floor; 0 = 0.5 */
  double governor_burst;        /* bucket size; 0 = rate */
  struct met_registry *metrics; /* optional */
  aws_clock_fn clock;           /* NULL = time_mono_ms */
  void *clock_arg;
  uint64_t rng_seed; /* 0 = from the OS */
  /* Test and diagnostic hook: called before each attempt is sent
   * (attempt 1 = first try). */
  void (*attempt_hook)(void *arg, const struct aws_call *call,
                       unsigned attempt);
  void *attempt_hook_arg;
};

int aws_client_new(uv_loop_t *loop, struct httpc *http,
                   const struct aws_client_opts *o, struct aws_client **out);
/* Fails every queued and in-flight call with OP_ESHUTDOWN / OP_ECANCELED,
 * cancels CreateAccount slot waiters, closes timers; cb(arg) runs when the
 * client is freed, which waits for every held CreateAccount slot to be
 * released. */
void aws_client_close(struct aws_client *c, void (*cb)(void *arg), void *arg);

int aws_call_start(struct aws_client *c, struct aws_creds *creds,
                   const struct aws_call *call, aws_call_cb cb, void *arg);

/* Clock skew currently applied to signing (server minus local, seconds). */
long aws_client_skew(const struct aws_client *c);
const char *aws_client_partition(const struct aws_client *c);
const char *aws_client_default_region(const struct aws_client *c);
/* Move the client to another partition (ConfigMap `fedramp`): global
 * services resolve in it, and a default region of another partition
 * becomes the partition's default. Calls already started keep their
 * endpoint. 0 or OP_EINVAL. */
int aws_client_set_partition(struct aws_client *c, const char *partition);
uv_loop_t *aws_client_loop(const struct aws_client *c);
/* Calls started and not finished. */
size_t aws_client_inflight(const struct aws_client *c);

/* ---- organization-wide CreateAccount cap ----
 * The Account controller holds a slot from CreateAccount until
 * DescribeCreateAccountStatus leaves IN_PROGRESS. cb(0) runs once a slot
 * is held (maybe before acquire returns); cb(OP_ECANCELED) if the waiter
 * is cancelled or the client closes. Gauge:
 * aws_account_operator_create_account_in_flight. */
struct aws_create_slot;
typedef void (*aws_slot_cb)(int err, struct aws_create_slot *slot, void *arg);
int aws_create_slot_acquire(struct aws_client *c, aws_slot_cb cb, void *arg,
                            struct aws_create_slot **out);
/* Release a held slot, or cancel a waiting one (its cb gets
 * OP_ECANCELED). */
void aws_create_slot_release(struct aws_create_slot *s);
unsigned aws_create_slots_in_use(const struct aws_client *c);
unsigned aws_create_slots_waiting(const struct aws_client *c);

#endif
