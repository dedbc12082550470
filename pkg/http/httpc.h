/* HTTP client: the process's single libcurl multi handle driven by the uv
 * loop (curl's docs/examples/multi-uv.c, with the fixes listed in
 * httpc.c). Every Kubernetes and AWS call goes through here.
 *
 * Lifecycle of a request:
 *   r = httpc_req_new(c, "GET", url);
 *   httpc_req_header(r, "Accept", "application/json");
 *   httpc_req_start(r, done_cb, arg);      // 0: done_cb will run exactly once
 *   ... done_cb(r, err, resp, arg) ...     // r is freed when done_cb returns
 *
 * done_cb is always called from a safe point on the loop (never from inside
 * a libcurl callback), so it may start new requests or cancel others.
 * `err` is 0 when an HTTP response was received, whatever its status (check
 * resp->status); otherwise a transport error: OP_ECONNREFUSED, OP_ECONNECT,
 * OP_ETIMEDOUT, OP_ETLS, OP_ETOOBIG (body over the cap), OP_ECANCELED,
 * OP_EIO, OP_ESHUTDOWN.
 *
 * Streaming (watches): httpc_req_stream installs a data callback that sees
 * the body in arbitrary slices as they arrive (nothing is buffered in
 * resp->body). It is called only for 2xx responses; for other statuses the
 * body is buffered as usual so the caller can decode the error object. The
 * data callback may call httpc_req_cancel on its own request.
 *
 * httpc_req_cancel is safe from anywhere (inside any callback, including
 * the request's own data callback); done_cb then runs once, later, with
 * OP_ECANCELED -- also when the transfer had already finished but its
 * done_cb had not run yet. Cancelling from inside the request's own
 * done_cb does nothing; cancelling a request whose done_cb already ran is
 * a bug (it has been freed).
 *
 * httpc_req_start may be called from any callback too; from inside a data
 * callback (where libcurl refuses new transfers) the transfer is added at
 * the next safe point.
 *
 * Secrets: the bearer token, Authorization header lines, the TLS key, the
 * request body and the buffered response body are wiped when freed.
 */
#ifndef PKG_HTTP_HTTPC_H
#define PKG_HTTP_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util/buf.h"

struct httpc;
struct httpc_req;

struct httpc_header {
  char *name; /* as received */
  char *value;
};

struct httpc_resp {
  long status;                  /* HTTP status, 0 if none was received */
  struct httpc_header *headers; /* response headers of the final response */
  size_t nheaders;
  struct buf body;          /* buffered body (empty for streamed 2xx) */
  double total_s;           /* transfer time in seconds */
  const char *http_version; /* "1.1", "2" */
  char errmsg[256];         /* libcurl's detail for transport errors */
};

/* Case-insensitive lookup; returns the first value or NULL. */
const char *httpc_resp_header(const struct httpc_resp *r, const char *name);

/* TLS settings for one request; strings are copied by httpc_req_tls.
 * *_pem fields carry in-memory PEM (kubeconfig "-data" fields), *_file
 * fields paths; when both are set the PEM wins. */
struct httpc_tls {
  const char *ca_file;
  const char *ca_pem;
  const char *cert_file;
  const char *cert_pem;
  const char *key_file;
  const char *key_pem; /* secret: wiped when the request is freed */
  bool insecure_skip_verify;
};

struct httpc_opts {
  size_t max_body;         /* default body cap (0 = 16 MiB) */
  long connect_timeout_ms; /* 0 = 10 s */
  long keepalive_idle_s;   /* TCP keepalive idle (0 = 30 s) */
  long max_host_conns;     /* per-host connection cap (0 = unlimited) */
  const char *user_agent;  /* NULL = "aws-account-operator/<version>" */
};

typedef void (*httpc_done_cb)(struct httpc_req *r, int err,
                              const struct httpc_resp *resp, void *arg);
/* Return 0 to continue, non-zero to abort (done_cb gets OP_ECANCELED). */
typedef int (*httpc_data_cb)(struct httpc_req *r, const char *data, size_t len,
                             void *arg);

/* Create the client on a loop. Returns 0 or an op_err. */
int httpc_new(uv_loop_t *loop, const struct httpc_opts *opts,
              struct httpc **out);
/* Cancel every request (their done_cb run with OP_ECANCELED, also those
 * completed but not yet called back), release libcurl, close every uv
 * handle; cb(arg) runs when all handles are closed and the client is
 * freed. Always asynchronous; safe from any callback. After this call
 * httpc_req_start fails with OP_ESHUTDOWN. */
void httpc_close(struct httpc *c, void (*cb)(void *arg), void *arg);
/* Number of requests started and not yet completed. */
size_t httpc_inflight(const struct httpc *c);

struct httpc_req *httpc_req_new(struct httpc *c, const char *method,
                                const char *url);
/* Free a request that was never started (aborts on a started one). */
void httpc_req_free(struct httpc_req *r);
/* Add a request header; name and value are copied. Returns 0 or
 * OP_EINVAL (CR/LF in either). */
int httpc_req_header(struct httpc_req *r, const char *name, const char *value);
/* Copy the body (sent with Content-Length). */
void httpc_req_body(struct httpc_req *r, const void *data, size_t len);
/* Per-request timeout for the whole transfer; 0 = none (streams). */
void httpc_req_timeout_ms(struct httpc_req *r, long ms);
/* Abort when no data arrives for this long (0 = never). */
void httpc_req_idle_timeout_ms(struct httpc_req *r, long ms);
void httpc_req_max_body(struct httpc_req *r, size_t max);
void httpc_req_stream(struct httpc_req *r, httpc_data_cb cb, void *arg);
void httpc_req_tls(struct httpc_req *r, const struct httpc_tls *tls);
/* Sets "Authorization: Bearer <token>"; the copy is wiped on free. */
void httpc_req_bearer(struct httpc_req *r, const char *token);
/* Opaque user pointer, for the caller's bookkeeping. */
void httpc_req_set_data(struct httpc_req *r, void *data);
void *httpc_req_data(const struct httpc_req *r);
const char *httpc_req_url(const struct httpc_req *r);
const char *httpc_req_method(const struct httpc_req *r);

/* Start; on error the request is freed and done_cb is never called. */
int httpc_req_start(struct httpc_req *r, httpc_done_cb cb, void *arg);
void httpc_req_cancel(struct httpc_req *r);

#endif
