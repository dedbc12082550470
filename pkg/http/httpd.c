/* The metrics/health HTTP server. One struct conn per accepted socket; the
 * parser is paused at the end of every request so each request is answered
 * before the next byte is parsed (pipelining in order, and a natural point
 * to stop reading when the client does not read its responses). */
#include "http/httpd.h"

#include <errno.h>
#include <http_parser.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log/log.h"
#include "metrics/metrics.h"
#include "util/err.h"
#include "util/map.h"
#include "util/str.h"
#include "util/util.h"

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_CONNS 64
#define DEFAULT_MAX_REQUEST 8192
#define DEFAULT_MAX_RESPONSE (64u << 20)
#define LINGER_MAX_MS 2000
#define WRITE_HIGH_WATER (1u << 20) /* stop parsing above this backlog */
#define READ_BUF_SIZE 16384

struct route {
  httpd_handler_fn fn;
  void *arg;
};

/* One client connection. Owned by the server's list; freed when both
 * handles' close callbacks ran. url and pending are freed with it. */
struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_shutdown_t shutdown;
  struct httpd *h;
  struct conn *prev, *next;
  http_parser parser;
  struct buf url;     /* request target of the current request */
  struct buf pending; /* bytes not parsed yet (paused on backpressure) */
  size_t req_bytes;   /* bytes of the current request parsed so far */
  size_t nwrites;     /* responses queued in libuv */
  int handles;        /* open uv handles; the conn is freed at 0 */
  bool counted;       /* counts against max_conns */
  bool headers_done, keep_alive, http10;
  bool reading, paused, stopped, lingering, closing;
};

/* One queued response; hdr and body are freed in the write callback. */
struct wreq {
  uv_write_t req;
  struct conn *c;
  char *hdr, *body;
};

/* Owned by the caller until httpd_close; routes map values are freed with
 * it. */
struct httpd {
  uv_loop_t *loop;
  uv_tcp_t listener;
  struct httpd_opts o;
  struct map routes; /* path -> struct route */
  struct conn *conns;
  size_t nconns; /* counted connections */
  bool listening, closing, listener_closed;
  httpd_close_cb close_cb;
  void *close_arg;
  char rbuf[READ_BUF_SIZE]; /* shared: reads are consumed synchronously */
};

static void conn_close(struct conn *c);
static void feed(struct conn *c, const char *data, size_t len);

/* ---- lifecycle ----------------------------------------------------------- */

struct httpd *httpd_new(uv_loop_t *loop, const struct httpd_opts *opts)
{
  struct httpd *h = util_xcalloc(1, sizeof(*h));

  h->loop = loop;
  if (opts)
    h->o = *opts;
  if (!h->o.read_timeout_ms)
    h->o.read_timeout_ms = DEFAULT_TIMEOUT_MS;
  if (!h->o.max_conns)
    h->o.max_conns = DEFAULT_MAX_CONNS;
  if (!h->o.max_request)
    h->o.max_request = DEFAULT_MAX_REQUEST;
  if (!h->o.max_response)
    h->o.max_response = DEFAULT_MAX_RESPONSE;
  map_init(&h->routes);
  /* AF_UNSPEC: the socket is created by bind, with the address' family. */
  uv_tcp_init(loop, &h->listener);
  h->listener.data = h;
  return h;
}

static void free_route(void *val, void *arg)
{
  (void)arg;
  free(val);
}

static void maybe_finish_close(struct httpd *h)
{
  httpd_close_cb cb = h->close_cb;
  void *arg = h->close_arg;

  if (!h->closing || !h->listener_closed || h->conns)
    return;
  map_cleanup(&h->routes, free_route, NULL);
  free(h);
  if (cb)
    cb(arg);
}

static void on_listener_closed(uv_handle_t *handle)
{
  struct httpd *h = handle->data;

  h->listener_closed = true;
  maybe_finish_close(h);
}

void httpd_close(struct httpd *h, httpd_close_cb cb, void *arg)
{
  struct conn *c, *next;

  UTIL_ASSERT(!h->closing);
  h->closing = true;
  h->close_cb = cb;
  h->close_arg = arg;
  uv_close((uv_handle_t *)&h->listener, on_listener_closed);
  for (c = h->conns; c; c = next) {
    next = c->next;
    conn_close(c);
  }
}

size_t httpd_conn_count(const struct httpd *h)
{
  return h->nconns;
}

/* ---- routes -------------------------------------------------------------- */

int httpd_route(struct httpd *h, const char *path, httpd_handler_fn fn,
                void *arg)
{
  struct route *r;

  if (!path || path[0] != '/' || !fn || strpbrk(path, "?# \r\n"))
    return OP_EINVAL;
  if (map_has(&h->routes, path))
    return OP_EEXIST;
  r = util_xcalloc(1, sizeof(*r));
  r->fn = fn;
  r->arg = arg;
  map_put(&h->routes, path, r, NULL);
  return 0;
}

static void serve_metrics(const struct httpd_req *req, struct httpd_resp *resp,
                          void *arg)
{
  int rc = met_render(arg, &resp->body);

  (void)req;
  if (rc != 0) {
    log_error("httpd", "rendering metrics failed: %s", op_strerror(rc));
    buf_reset(&resp->body);
    resp->status = 500;
    buf_append_str(&resp->body, "metrics rendering failed\n");
    return;
  }
  resp->content_type = MET_CONTENT_TYPE;
}

int httpd_route_metrics(struct httpd *h, const char *path,
                        struct met_registry *r)
{
  return httpd_route(h, path, serve_metrics, r);
}

/* ---- addresses and listening --------------------------------------------- */

static int parse_port(const char *s, int *port)
{
  long long v;

  if (!*s || *s < '0' || *s > '9' || strlen(s) > 5)
    return OP_EINVAL;
  if (str_to_ll(s, 0, 65535, &v) != 0)
    return OP_EINVAL;
  *port = (int)v;
  return 0;
}

/* Split "host:port" / "[v6]:port" into host (copied) and port text. */
static int split_addr(const char *addr, char *host, size_t hostsize,
                      const char **port, bool *v6)
{
  const char *end, *colon;
  size_t n;

  *v6 = addr[0] == '[';
  if (*v6) {
    end = strchr(addr, ']');
    if (!end || end[1] != ':')
      return OP_EINVAL;
    addr++;
    colon = end + 1;
  } else {
    colon = strchr(addr, ':');
    if (!colon || strchr(colon + 1, ':'))
      return OP_EINVAL; /* no port, or an unbracketed IPv6 address */
    end = colon;
  }
  n = (size_t)(end - addr);
  if (n >= hostsize)
    return OP_EINVAL;
  memcpy(host, addr, n);
  host[n] = '\0';
  *port = colon + 1;
  return 0;
}

int httpd_parse_addr(const char *addr, struct sockaddr_storage *out,
                     int *all_ifaces)
{
  char host[INET6_ADDRSTRLEN + 16];
  const char *port_s;
  bool v6;
  int port, rc;

  memset(out, 0, sizeof(*out));
  if (all_ifaces)
    *all_ifaces = 0;
  if (!addr)
    return OP_EINVAL;
  rc = split_addr(addr, host, sizeof(host), &port_s, &v6);
  if (rc == 0)
    rc = parse_port(port_s, &port);
  if (rc != 0)
    return rc;
  if (v6)
    return uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0 ? 0
                                                                    : OP_EINVAL;
  if (!*host && all_ifaces)
    *all_ifaces = 1;
  if (!*host)
    str_copy(host, "0.0.0.0", sizeof(host));
  else if (str_case_eq(host, "localhost"))
    str_copy(host, "127.0.0.1", sizeof(host));
  return uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0 ? 0
                                                                 : OP_EINVAL;
}

/* ":port" means every interface: the IPv6 wildcard (dual-stack) when the
 * kernel has IPv6, else the IPv4 one. */
static void widen_to_v6(struct sockaddr_storage *ss)
{
  int port = ntohs(((struct sockaddr_in *)ss)->sin_port);
  int fd = socket(AF_INET6, SOCK_STREAM, 0);

  if (fd < 0)
    return;
  close(fd);
  uv_ip6_addr("::", port, (struct sockaddr_in6 *)ss);
}

static int map_uv_err(int err)
{
  switch (err) {
  case UV_EADDRINUSE:
    return OP_EBUSY;
  case UV_EADDRNOTAVAIL:
  case UV_EAFNOSUPPORT:
  case UV_EINVAL:
    return OP_EINVAL;
  default:
    return OP_ESYS;
  }
}

static void on_connection(uv_stream_t *server, int status);

int httpd_listen(struct httpd *h, const char *addr)
{
  struct sockaddr_storage ss;
  int all, err;

  if (h->listening || h->closing)
    return OP_ESTATE;
  if (httpd_parse_addr(addr, &ss, &all) != 0) {
    log_error("httpd", "bad listen address '%s'", addr ? addr : "(null)");
    return OP_EINVAL;
  }
  if (all)
    widen_to_v6(&ss);
  err = uv_tcp_bind(&h->listener, (const struct sockaddr *)&ss, 0);
  /* libuv may report EADDRINUSE from listen rather than bind. */
  if (err == 0)
    err = uv_listen((uv_stream_t *)&h->listener, 128, on_connection);
  if (err != 0) {
    log_error("httpd", "listen on %s: %s", addr, uv_strerror(err));
    return map_uv_err(err);
  }
  h->listening = true;
  log_info("httpd", "listening on %s (port %d)", addr, httpd_port(h));
  return 0;
}

int httpd_port(const struct httpd *h)
{
  struct sockaddr_storage ss;
  int len = sizeof(ss);

  if (!h->listening)
    return OP_ESTATE;
  if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&ss, &len) != 0)
    return OP_ESYS;
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* ---- connections --------------------------------------------------------- */

static void on_conn_handle_closed(uv_handle_t *handle)
{
  struct conn *c = handle->data;
  struct httpd *h = c->h;

  if (--c->handles > 0)
    return;
  if (c->prev)
    c->prev->next = c->next;
  else
    h->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  if (c->counted)
    h->nconns--;
  buf_cleanup(&c->url);
  buf_cleanup(&c->pending);
  free(c);
  maybe_finish_close(h);
}

/* Queued writes are cancelled by libuv (their callbacks run first). */
static void conn_close(struct conn *c)
{
  if (c->closing)
    return;
  c->closing = true;
  uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_timeout(uv_timer_t *t)
{
  struct conn *c = t->data;

  log_debug("httpd", "closing connection: %s",
            c->lingering ? "linger done" : "read timeout");
  conn_close(c);
}

static void arm_timer(struct conn *c, uint64_t ms)
{
  uv_timer_start(&c->timer, on_timeout, ms, 0);
}

static void on_alloc(uv_handle_t *handle, size_t hint, uv_buf_t *b)
{
  struct conn *c = handle->data;

  (void)hint;
  *b = uv_buf_init(c->h->rbuf, sizeof(c->h->rbuf));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
  struct conn *c = s->data;

  if (c->closing)
    return;
  if (nread < 0) {
    conn_close(c); /* EOF or error: nothing more to answer */
    return;
  }
  if (nread > 0 && !c->lingering && !c->stopped)
    feed(c, b->base, (size_t)nread);
}

static void read_start(struct conn *c)
{
  if (c->reading || c->closing)
    return;
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) {
    conn_close(c);
    return;
  }
  c->reading = true;
}

static void read_stop(struct conn *c)
{
  if (c->reading)
    uv_read_stop((uv_stream_t *)&c->tcp);
  c->reading = false;
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
  struct conn *c = req->data;

  if (status != 0 && !c->closing)
    conn_close(c);
}

/* After the last response of a closing connection: send FIN and read (and
 * drop) whatever the client still sends until it closes too. Closing with
 * unread input would make the kernel send RST, which can destroy the
 * response before the client reads it. */
static void begin_linger(struct conn *c)
{
  if (c->lingering || c->closing)
    return;
  c->lingering = true;
  c->shutdown.data = c;
  if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
    conn_close(c);
    return;
  }
  arm_timer(c, UTIL_MIN(c->h->o.read_timeout_ms, LINGER_MAX_MS));
  read_start(c);
}

static void on_connection(uv_stream_t *server, int status)
{
  struct httpd *h = server->data;
  struct conn *c;

  if (status != 0) {
    log_warn("httpd", "accept: %s", uv_strerror(status));
    return;
  }
  c = util_xcalloc(1, sizeof(*c));
  c->h = h;
  c->handles = 2;
  uv_tcp_init(h->loop, &c->tcp);
  uv_timer_init(h->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  buf_init(&c->url, h->o.max_request);
  buf_init(&c->pending, h->o.max_request + READ_BUF_SIZE);
  c->next = h->conns;
  if (h->conns)
    h->conns->prev = c;
  h->conns = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
    conn_close(c);
    return;
  }
  if (h->nconns >= h->o.max_conns) {
    log_warn("httpd", "connection limit %u reached, refusing a client",
             h->o.max_conns);
    conn_close(c);
    return;
  }
  c->counted = true;
  h->nconns++;
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  arm_timer(c, h->o.read_timeout_ms);
  read_start(c);
}

/* ---- responses ----------------------------------------------------------- */

static const char *reason(int status)
{
  switch (status) {
  case 200:
    return "OK";
  case 204:
    return "No Content";
  case 400:
    return "Bad Request";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 413:
    return "Payload Too Large";
  case 431:
    return "Request Header Fields Too Large";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
  }
}

static void on_written(uv_write_t *req, int status)
{
  struct wreq *w = container_of(req, struct wreq, req);
  struct conn *c = w->c;

  free(w->hdr);
  free(w->body);
  free(w);
  c->nwrites--;
  if (c->closing)
    return;
  if (status != 0) {
    conn_close(c);
    return;
  }
  if (c->stopped && c->nwrites == 0) {
    begin_linger(c);
    return;
  }
  if (c->paused &&
      uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
    size_t n;
    char *rest;

    c->paused = false;
    rest = buf_take(&c->pending, &n);
    feed(c, rest, n);
    free(rest);
    if (!c->paused && !c->stopped)
      read_start(c);
  }
}

/* Queue one response. body (may be NULL) is stolen. With head, the
 * headers announce body_len but the body is not sent. */
static void send_response(struct conn *c, int status, const char *ctype,
                          char *body, size_t body_len, bool head,
                          const char *extra)
{
  struct wreq *w = util_xcalloc(1, sizeof(*w));
  const char *conn_hdr = "";
  uv_buf_t bufs[2];
  struct buf hdr;

  if (!c->keep_alive || c->stopped)
    conn_hdr = "Connection: close\r\n";
  else if (c->http10)
    conn_hdr = "Connection: keep-alive\r\n";
  if (status == 204 || status == 304)
    head = true; /* never a body */
  buf_init(&hdr, 4096);
  buf_printf(&hdr, "HTTP/1.1 %d %s\r\n", status, reason(status));
  if (status != 204)
    buf_printf(&hdr, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype,
               status == 304 ? 0 : body_len);
  buf_printf(&hdr, "%s%s\r\n", extra ? extra : "", conn_hdr);
  w->c = c;
  w->hdr = buf_take(&hdr, &bufs[0].len);
  bufs[0].base = w->hdr;
  w->body = body;
  bufs[1] = uv_buf_init(body ? body : "", head ? 0 : (unsigned)body_len);
  c->nwrites++;
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, bufs, bufs[1].len ? 2 : 1,
               on_written) != 0) {
    c->nwrites--;
    free(w->hdr);
    free(w->body);
    free(w);
    conn_close(c);
  }
}

/* An error answer that ends the connection. */
static void send_error(struct conn *c, int status, const char *msg)
{
  c->stopped = true;
  read_stop(c);
  send_response(c, status, "text/plain; charset=utf-8", util_xstrdup(msg),
                strlen(msg), false, NULL);
}

/* ---- requests ------------------------------------------------------------ */

static int on_message_begin(http_parser *p)
{
  struct conn *c = p->data;

  buf_reset(&c->url);
  c->headers_done = false;
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
  struct conn *c = p->data;

  /* Cannot overflow: the whole request is capped below max_request. */
  return buf_append(&c->url, at, len) == 0 ? 0 : -1;
}

static int on_headers_complete(http_parser *p)
{
  struct conn *c = p->data;

  c->headers_done = true;
  c->keep_alive = http_should_keep_alive(p) != 0;
  c->http10 = p->http_major == 1 && p->http_minor == 0;
  return 0;
}

/* Stop after each request so it is answered before the next is parsed. */
static int on_message_complete(http_parser *p)
{
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings settings = {
  .on_message_begin = on_message_begin,
  .on_url = on_url,
  .on_headers_complete = on_headers_complete,
  .on_message_complete = on_message_complete,
};

static void run_handler(struct conn *c, const struct route *r,
                        struct httpd_req *req, bool head)
{
  struct httpd_resp resp;
  size_t len;
  char *body;

  resp.status = 200;
  resp.content_type = "text/plain; charset=utf-8";
  buf_init(&resp.body, c->h->o.max_response);
  r->fn(req, &resp, r->arg);
  if (resp.status < 200 || resp.status > 599 || !resp.content_type ||
      strpbrk(resp.content_type, "\r\n")) {
    log_error("httpd", "handler for %s gave status %d", req->path, resp.status);
    buf_reset(&resp.body);
    resp.status = 500;
    resp.content_type = "text/plain; charset=utf-8";
  }
  body = buf_take(&resp.body, &len);
  send_response(c, resp.status, resp.content_type, body, len, head, NULL);
}

static void route_request(struct conn *c, const char *path, const char *query)
{
  enum http_method m = (enum http_method)c->parser.method;
  const char *text = "text/plain; charset=utf-8";
  const struct route *r = map_get(&c->h->routes, path);
  struct httpd_req req;

  if (!r) {
    send_response(c, 404, text, util_xstrdup("404 page not found\n"), 19,
                  m == HTTP_HEAD, NULL);
    return;
  }
  if (m != HTTP_GET && m != HTTP_HEAD) {
    send_response(c, 405, text, util_xstrdup("method not allowed\n"), 19, false,
                  "Allow: GET, HEAD\r\n");
    return;
  }
  req.method = http_method_str(m);
  req.path = path;
  req.query = query;
  run_handler(c, r, &req, m == HTTP_HEAD);
}

/* Answer the request whose last byte was just parsed. */
static void dispatch(struct conn *c)
{
  struct http_parser_url u;
  const char *url = buf_str(&c->url);
  char *path, *query;

  c->req_bytes = 0;
  http_parser_url_init(&u);
  if (http_parser_parse_url(url, c->url.len, 0, &u) != 0) {
    send_error(c, 400, "malformed request target\n");
    return;
  }
  if (!c->keep_alive) {
    c->stopped = true; /* answer this one, then close */
    read_stop(c);
  }
  path = u.field_set & (1 << UF_PATH)
             ? util_xstrndup(url + u.field_data[UF_PATH].off,
                             u.field_data[UF_PATH].len)
             : util_xstrdup("/");
  query = u.field_set & (1 << UF_QUERY)
              ? util_xstrndup(url + u.field_data[UF_QUERY].off,
                              u.field_data[UF_QUERY].len)
              : util_xstrdup("");
  route_request(c, path, query);
  free(path);
  free(query);
  if (!c->stopped && !c->closing)
    arm_timer(c, c->h->o.read_timeout_ms);
}

static void reject_too_big(struct conn *c)
{
  log_debug("httpd", "request over %zu bytes", c->h->o.max_request);
  if (c->headers_done)
    send_error(c, 413, "request too large\n");
  else
    send_error(c, 431, "request header fields too large\n");
}

/* Parse len bytes, answering each complete request before going on. The
 * parser never sees more than max_request bytes of one request. */
static void feed(struct conn *c, const char *data, size_t len)
{
  size_t room, n, used;
  enum http_errno e;

  while (len > 0 && !c->stopped && !c->closing) {
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) >
        WRITE_HIGH_WATER) {
      /* The client is not reading: keep the rest and stop reading. */
      buf_append(&c->pending, data, len);
      c->paused = true;
      read_stop(c);
      return;
    }
    room = c->h->o.max_request - c->req_bytes;
    n = UTIL_MIN(len, room);
    used = http_parser_execute(&c->parser, &settings, data, n);
    e = HTTP_PARSER_ERRNO(&c->parser);
    c->req_bytes += used;
    data += used;
    len -= used;
    if (e == HPE_PAUSED) {
      http_parser_pause(&c->parser, 0);
      dispatch(c);
    } else if (e != HPE_OK) {
      log_debug("httpd", "bad request: %s", http_errno_name(e));
      send_error(c, 400, "bad request\n");
    } else if (c->req_bytes >= c->h->o.max_request) {
      /* Incomplete at the cap: the whole request is over it. */
      reject_too_big(c);
    }
  }
}
