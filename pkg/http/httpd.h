/* A tiny HTTP/1.1 server for /metrics, /healthz and /readyz on the uv loop
 * (requests parsed by Debian's http_parser).
 *
 *   struct httpd *d = httpd_new(loop, NULL);          // default options
 *   httpd_route(d, "/ping", on_ping, arg);
 *   httpd_route_metrics(d, "/metrics", registry);
 *   if (httpd_listen(d, ":8080") != 0) ...
 *   ...
 *   httpd_close(d, on_closed, arg);  // d is freed before on_closed runs
 *
 * Only GET and HEAD are served. Routing is by exact path (the query string
 * is ignored); an unknown path gets 404, another method on a known path 405
 * with "Allow: GET, HEAD". HEAD runs the GET handler and sends its headers
 * (Content-Length included) without the body. Connections are kept alive
 * unless the client says "Connection: close" or speaks HTTP/1.0 without
 * keep-alive; pipelined requests are answered in order.
 *
 * Defences: a request (headers and body) larger than max_request gets 431
 * (headers) or 413 (body) and the connection is closed; malformed requests
 * get 400 and a close; a client that does not complete a request within
 * read_timeout_ms (counted from the end of the previous response, or the
 * accept) is disconnected, which also reaps idle keep-alive connections
 * and clients that stop reading responses; connections beyond max_conns
 * are closed as soon as they are accepted.
 *
 * Handlers run synchronously on the loop; they must not block.
 */
#ifndef PKG_HTTP_HTTPD_H
#define PKG_HTTP_HTTPD_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "util/buf.h"

struct httpd;
struct met_registry;

struct httpd_opts {
  unsigned read_timeout_ms; /* 0 = 10000 */
  unsigned max_conns;       /* 0 = 64 */
  size_t max_request;       /* bytes of request line, headers, body; 0 = 8192 */
  size_t max_response;      /* body cap for handlers; 0 = 64 MiB */
};

/* What a handler sees; every pointer is borrowed for the call only. */
struct httpd_req {
  const char *method; /* "GET" or "HEAD" */
  const char *path;   /* raw (not percent-decoded), without the query */
  const char *query;  /* raw, without '?'; "" when absent */
};

/* Filled by a handler. status starts at 200, content_type at
 * "text/plain; charset=utf-8" and body empty (bounded by max_response).
 * content_type must stay valid until the handler returns (a literal is
 * typical). A status outside 100..599 is answered as 500. */
struct httpd_resp {
  int status;
  const char *content_type;
  struct buf body;
};

typedef void (*httpd_handler_fn)(const struct httpd_req *req,
                                 struct httpd_resp *resp, void *arg);
typedef void (*httpd_close_cb)(void *arg);

/* opts may be NULL (defaults); it is copied. Never returns NULL. */
struct httpd *httpd_new(uv_loop_t *loop, const struct httpd_opts *opts);

/* Register fn for an exact path (must start with '/'; copied). Returns 0,
 * OP_EINVAL for a bad path or OP_EEXIST if the path is taken. */
int httpd_route(struct httpd *h, const char *path, httpd_handler_fn fn,
                void *arg);
/* Serve r (borrowed: it must outlive h) at path with MET_CONTENT_TYPE;
 * a render failure answers 500. */
int httpd_route_metrics(struct httpd *h, const char *path,
                        struct met_registry *r);

/* Parse a listen address: ":8080" (every interface), "0.0.0.0:8080",
 * "127.0.0.1:18080", "[::1]:8080", "[::]:8080" or "localhost:8080"
 * (loopback). Other host names are refused (no resolver on the loop).
 * Returns 0 or OP_EINVAL. all_ifaces (may be NULL) is set for ":port". */
int httpd_parse_addr(const char *addr, struct sockaddr_storage *out,
                     int *all_ifaces);

/* Bind and listen (port 0 picks a free port; see httpd_port). Returns 0,
 * OP_EINVAL for a bad address, OP_EBUSY if the address is in use,
 * OP_ESTATE if already listening, or OP_ESYS. */
int httpd_listen(struct httpd *h, const char *addr);
/* The bound port, or a negative op_err when not listening. */
int httpd_port(const struct httpd *h);
/* Open client connections (for tests and metrics). */
size_t httpd_conn_count(const struct httpd *h);

/* Stop listening, close every connection (pending responses are
 * dropped), free h once every handle is closed, then call cb(arg) (cb may
 * be NULL). Call exactly once. */
void httpd_close(struct httpd *h, httpd_close_cb cb, void *arg);

#endif
