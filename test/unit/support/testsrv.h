/* A small programmable HTTP/1.1 server for unit tests, on the test's own
 * uv loop (no threads, no processes). It binds 127.0.0.1 on a free port.
 *
 *   struct testsrv *s;
 *   testsrv_new(loop, &s);
 *   testsrv_route_fixed(s, "/ok", 200, "X-A: 1\r\n", "hi", 2);
 *   testsrv_url(s, "/ok", url, sizeof(url));   // http://127.0.0.1:<port>/ok
 *   ... run the loop ...
 *   testsrv_close(s, NULL, NULL);               // then run the loop once more
 *
 * Routes match the request path exactly (the query string is ignored); a
 * route set again for the same path replaces the old one; unknown paths
 * get 404. Connections are kept alive (HTTP/1.1) until the client closes
 * them. One request per connection is answered at a time (libcurl does not
 * pipeline); a second request arriving mid-response closes the connection.
 * Request heads are bounded (64 KiB), bodies by TESTSRV_MAX_BODY.
 */
#ifndef TEST_UNIT_SUPPORT_TESTSRV_H
#define TEST_UNIT_SUPPORT_TESTSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "util/buf.h"

#define TESTSRV_MAX_BODY ((size_t)64 << 20)
#define TESTSRV_MAX_HEADERS 64

struct testsrv;

/* A request as the server saw it. */
struct testsrv_req {
  char method[16];
  struct buf url; /* path and query */
  size_t nheaders;
  char *names[TESTSRV_MAX_HEADERS]; /* as received */
  char *values[TESTSRV_MAX_HEADERS];
  struct buf body;
};

/* Listen on 127.0.0.1:0. Returns 0 or a negative libuv error. */
int testsrv_new(uv_loop_t *loop, struct testsrv **out);
/* Close the listener and every connection; cb(arg) (may be NULL) runs
 * when every handle is closed and the server is freed. */
void testsrv_close(struct testsrv *s, void (*cb)(void *arg), void *arg);

int testsrv_port(const struct testsrv *s);
/* "http://127.0.0.1:<port><path>" into out. */
void testsrv_url(const struct testsrv *s, const char *path, char *out,
                 size_t n);
/* Connections accepted so far (to prove connection reuse). */
unsigned testsrv_connections(const struct testsrv *s);
/* Requests fully received so far. */
unsigned testsrv_requests(const struct testsrv *s);
/* The last request fully received, or NULL. Valid until the next one. */
const struct testsrv_req *testsrv_last(const struct testsrv *s);
/* Case-insensitive; first value or NULL. */
const char *testsrv_req_header(const struct testsrv_req *r, const char *name);

/* Answer with status, extra header lines (each ending in "\r\n", may be
 * NULL) and body (copied). Content-Length is added. */
void testsrv_route_fixed(struct testsrv *s, const char *path, int status,
                         const char *headers, const void *body, size_t len);
/* Answer 200 with the request body as body and the request line in
 * "X-Echo-Method" and "X-Echo-Url"; each request header "Name: v" comes
 * back as "X-Echo-H-Name: v". */
void testsrv_route_echo(struct testsrv *s, const char *path);
/* Answer 200 with "Transfer-Encoding: chunked": body is cut at the given
 * offsets (ascending; out-of-range or repeated ones are skipped), each
 * piece is one HTTP chunk written delay_ms after the previous one. */
void testsrv_route_chunked(struct testsrv *s, const char *path,
                           const void *body, size_t len, const size_t *cuts,
                           size_t ncuts, unsigned delay_ms);
/* Write exactly these bytes (status line included: for interim 1xx
 * responses, malformed or hostile answers); close the connection after
 * them when close_after. */
void testsrv_route_raw(struct testsrv *s, const char *path, const void *raw,
                       size_t len, bool close_after);
/* Read the request and never answer. */
void testsrv_route_hang(struct testsrv *s, const char *path);
/* Announce Content-Length: declared, send `sent` bytes of 'x', then close
 * the connection. */
void testsrv_route_close_mid(struct testsrv *s, const char *path,
                             size_t declared, size_t sent);

#endif
