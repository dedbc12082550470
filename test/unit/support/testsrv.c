/* Programmable HTTP/1.1 test server (see testsrv.h). Requests are parsed
 * with Node's http_parser (libhttp-parser), responses are plain uv_writes.
 */
#include "testsrv.h"

#include <http_parser.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/str.h"
#include "util/util.h"

#define MAX_HEAD 65536

enum route_kind { R_FIXED, R_ECHO, R_CHUNKED, R_HANG, R_CLOSE_MID, R_RAW };

/* Owner: the server; body and cuts are owned copies. */
struct route {
  struct route *next;
  char *path;
  enum route_kind kind;
  int status;
  char *headers;
  char *body;
  size_t len;
  size_t *cuts; /* chunk boundaries: piece i is [cuts[i], cuts[i+1]) */
  size_t ncuts; /* number of boundaries, including 0 and len */
  unsigned delay_ms;
  size_t declared, sent;
  bool close_after;
};

/* Owner: the server's connection list; freed after both handles closed. */
struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer; /* paces chunked responses */
  struct testsrv *s;
  struct conn *prev, *next;
  http_parser parser;
  struct testsrv_req req; /* being parsed */
  struct buf field, value;
  bool in_value, busy, closing;
  size_t head_bytes;
  const struct route *chunked; /* current chunked response */
  size_t piece;
  int open;
};

struct testsrv {
  uv_loop_t *loop;
  uv_tcp_t listener;
  int port;
  struct route *routes;
  struct conn *conns;
  unsigned nconns, nreqs;
  struct testsrv_req last;
  bool have_last, closing;
  int open;
  void (*close_cb)(void *arg);
  void *close_arg;
  char rbuf[65536];
};

struct wr {
  uv_write_t w;
  struct conn *c;
  bool close_after;
  char data[];
};

/* ---- requests ---------------------------------------------------------- */

static void req_init(struct testsrv_req *r)
{
  memset(r, 0, sizeof(*r));
  buf_init(&r->url, MAX_HEAD);
  buf_init(&r->body, TESTSRV_MAX_BODY);
}

static void req_cleanup(struct testsrv_req *r)
{
  size_t i;

  for (i = 0; i < r->nheaders; i++) {
    free(r->names[i]);
    free(r->values[i]);
  }
  buf_cleanup(&r->url);
  buf_cleanup(&r->body);
  r->nheaders = 0;
}

const char *testsrv_req_header(const struct testsrv_req *r, const char *name)
{
  size_t i;

  for (i = 0; i < r->nheaders; i++) {
    if (!strcasecmp(r->names[i], name))
      return r->values[i];
  }
  return NULL;
}

/* ---- connections ------------------------------------------------------- */

static void srv_handle_closed(struct testsrv *s);

static void on_conn_closed(uv_handle_t *h)
{
  struct conn *c = h->data;
  struct testsrv *s = c->s;

  if (--c->open > 0)
    return;
  req_cleanup(&c->req);
  buf_cleanup(&c->field);
  buf_cleanup(&c->value);
  free(c);
  srv_handle_closed(s);
}

static void conn_close(struct conn *c)
{
  if (c->closing)
    return;
  c->closing = true;
  if (c->prev)
    c->prev->next = c->next;
  else
    c->s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
  uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_written(uv_write_t *w, int status)
{
  struct wr *wr = container_of(w, struct wr, w);

  if ((status < 0 || wr->close_after) && !wr->c->closing)
    conn_close(wr->c);
  free(wr);
}

static void conn_write(struct conn *c, const void *p, size_t n,
                       bool close_after)
{
  struct wr *wr;
  uv_buf_t b;

  if (c->closing)
    return;
  wr = util_xmalloc(sizeof(*wr) + n);
  wr->c = c;
  wr->close_after = close_after;
  memcpy(wr->data, p, n);
  b = uv_buf_init(wr->data, (unsigned)n);
  if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) {
    free(wr);
    conn_close(c);
  }
}

/* Status line, Content-Length (unless len is (size_t)-1), extra headers
 * and body in one write. */
static void write_response(struct conn *c, int status, const char *extra,
                           const void *body, size_t len, bool close_after)
{
  struct buf b;

  buf_init(&b, TESTSRV_MAX_BODY + MAX_HEAD);
  buf_printf(&b, "HTTP/1.1 %d X\r\n", status);
  if (len != (size_t)-1)
    buf_printf(&b, "Content-Length: %zu\r\n", len);
  buf_printf(&b, "%s\r\n", extra ? extra : "");
  if (body && len != (size_t)-1)
    buf_append(&b, body, len);
  conn_write(c, b.data, b.len, close_after);
  buf_cleanup(&b);
}

/* ---- responses --------------------------------------------------------- */

static const struct route *route_find(struct testsrv *s, const char *url)
{
  size_t n = strcspn(url, "?");
  struct route *r;

  for (r = s->routes; r; r = r->next) {
    if (strlen(r->path) == n && !strncmp(r->path, url, n))
      return r;
  }
  return NULL;
}

static void on_chunk_timer(uv_timer_t *t);

static void send_piece(struct conn *c)
{
  const struct route *rt = c->chunked;
  size_t from = rt->cuts[c->piece], to = rt->cuts[c->piece + 1];
  struct buf b;

  buf_init(&b, TESTSRV_MAX_BODY + 64);
  if (to > from) { /* a zero-size chunk would end the body */
    buf_printf(&b, "%zx\r\n", to - from);
    buf_append(&b, rt->body + from, to - from);
    buf_append_str(&b, "\r\n");
  }
  c->piece++;
  if (c->piece + 1 >= rt->ncuts) {
    buf_append_str(&b, "0\r\n\r\n");
    c->chunked = NULL;
    c->busy = false;
  } else {
    uv_timer_start(&c->timer, on_chunk_timer, rt->delay_ms, 0);
  }
  conn_write(c, b.data, b.len, false);
  buf_cleanup(&b);
}

static void on_chunk_timer(uv_timer_t *t)
{
  struct conn *c = t->data;

  if (c->chunked)
    send_piece(c);
}

static void respond_echo(struct conn *c)
{
  struct testsrv_req *q = &c->req;
  struct buf h;
  size_t i;

  buf_init(&h, MAX_HEAD * 2);
  buf_printf(&h, "X-Echo-Method: %s\r\nX-Echo-Url: %s\r\n", q->method,
             buf_str(&q->url));
  for (i = 0; i < q->nheaders; i++)
    buf_printf(&h, "X-Echo-H-%s: %s\r\n", q->names[i], q->values[i]);
  write_response(c, 200, buf_str(&h), q->body.data, q->body.len, false);
  buf_cleanup(&h);
}

static void respond(struct conn *c)
{
  const struct route *rt = route_find(c->s, buf_str(&c->req.url));
  char *junk;

  if (!rt) {
    write_response(c, 404, "Content-Type: text/plain\r\n", "not found", 9,
                   false);
    return;
  }
  switch (rt->kind) {
  case R_FIXED:
    write_response(c, rt->status, rt->headers, rt->body, rt->len, false);
    break;
  case R_ECHO:
    respond_echo(c);
    break;
  case R_HANG:
    c->busy = true;
    break;
  case R_RAW:
    if (rt->len)
      conn_write(c, rt->body, rt->len, rt->close_after);
    else if (rt->close_after)
      conn_close(c);
    break;
  case R_CHUNKED:
    write_response(c, 200, "Transfer-Encoding: chunked\r\n", NULL, (size_t)-1,
                   false);
    c->busy = true;
    c->chunked = rt;
    c->piece = 0;
    uv_timer_start(&c->timer, on_chunk_timer, rt->delay_ms, 0);
    break;
  case R_CLOSE_MID:
    junk = util_xmalloc(rt->sent + 1);
    memset(junk, 'x', rt->sent);
    write_response(c, 200, NULL, NULL, rt->declared, false);
    conn_write(c, junk, rt->sent, true);
    free(junk);
    break;
  }
}

/* ---- parsing ----------------------------------------------------------- */

static int commit_header(struct conn *c)
{
  struct testsrv_req *q = &c->req;

  if (!c->in_value)
    return 0;
  c->in_value = false;
  if (q->nheaders == TESTSRV_MAX_HEADERS)
    return -1;
  q->names[q->nheaders] = util_xstrdup(buf_str(&c->field));
  q->values[q->nheaders] = util_xstrdup(buf_str(&c->value));
  q->nheaders++;
  buf_reset(&c->field);
  buf_reset(&c->value);
  return 0;
}

static struct conn *conn_of(http_parser *p)
{
  return container_of(p, struct conn, parser);
}

static int on_begin(http_parser *p)
{
  struct conn *c = conn_of(p);

  req_cleanup(&c->req);
  req_init(&c->req);
  buf_reset(&c->field);
  buf_reset(&c->value);
  c->in_value = false;
  c->head_bytes = 0;
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t n)
{
  return buf_append(&conn_of(p)->req.url, at, n) ? -1 : 0;
}

static int on_field(http_parser *p, const char *at, size_t n)
{
  struct conn *c = conn_of(p);

  c->head_bytes += n;
  if (c->head_bytes > MAX_HEAD || commit_header(c) < 0)
    return -1;
  return buf_append(&c->field, at, n) ? -1 : 0;
}

static int on_value(http_parser *p, const char *at, size_t n)
{
  struct conn *c = conn_of(p);

  c->head_bytes += n;
  c->in_value = true;
  if (c->head_bytes > MAX_HEAD)
    return -1;
  return buf_append(&c->value, at, n) ? -1 : 0;
}

static int on_headers_done(http_parser *p)
{
  struct conn *c = conn_of(p);

  str_copy(c->req.method, http_method_str(p->method), sizeof(c->req.method));
  return commit_header(c);
}

static int on_body(http_parser *p, const char *at, size_t n)
{
  return buf_append(&conn_of(p)->req.body, at, n) ? -1 : 0;
}

static int on_complete(http_parser *p)
{
  struct conn *c = conn_of(p);
  struct testsrv *s = c->s;

  if (c->busy)
    return -1; /* pipelined request while answering: not supported */
  s->nreqs++;
  respond(c);
  /* Move the request to s->last (respond is done with it). */
  if (s->have_last)
    req_cleanup(&s->last);
  s->last = c->req;
  s->have_last = true;
  req_init(&c->req);
  return 0;
}

static const http_parser_settings settings = {
  .on_message_begin = on_begin,
  .on_url = on_url,
  .on_header_field = on_field,
  .on_header_value = on_value,
  .on_headers_complete = on_headers_done,
  .on_body = on_body,
  .on_message_complete = on_complete,
};

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
  struct conn *c = h->data;

  (void)hint;
  *b = uv_buf_init(c->s->rbuf, sizeof(c->s->rbuf));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
  struct conn *c = st->data;
  size_t done;

  if (n < 0) {
    conn_close(c);
    return;
  }
  if (n == 0 || c->closing)
    return;
  done = http_parser_execute(&c->parser, &settings, b->base, (size_t)n);
  if (done != (size_t)n || HTTP_PARSER_ERRNO(&c->parser) != HPE_OK)
    conn_close(c);
}

static void on_connection(uv_stream_t *l, int status)
{
  struct testsrv *s = l->data;
  struct conn *c;

  if (status < 0 || s->closing)
    return;
  c = util_xcalloc(1, sizeof(*c));
  c->s = s;
  uv_tcp_init(s->loop, &c->tcp);
  uv_timer_init(s->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  c->open = 2;
  s->open++;
  req_init(&c->req);
  buf_init(&c->field, MAX_HEAD);
  buf_init(&c->value, MAX_HEAD);
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  if (uv_accept(l, (uv_stream_t *)&c->tcp) < 0 ||
      uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  s->nconns++;
}

/* ---- server ------------------------------------------------------------ */

static void route_free(struct route *r)
{
  free(r->path);
  free(r->headers);
  free(r->body);
  free(r->cuts);
  free(r);
}

static void srv_handle_closed(struct testsrv *s)
{
  void (*cb)(void *) = s->close_cb;
  void *arg = s->close_arg;
  struct route *r;

  if (--s->open > 0 || !s->closing)
    return;
  while ((r = s->routes)) {
    s->routes = r->next;
    route_free(r);
  }
  if (s->have_last)
    req_cleanup(&s->last);
  free(s);
  if (cb)
    cb(arg);
}

static void on_listener_closed(uv_handle_t *h)
{
  srv_handle_closed(h->data);
}

int testsrv_new(uv_loop_t *loop, struct testsrv **out)
{
  struct testsrv *s = util_xcalloc(1, sizeof(*s));
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int rc, len = sizeof(bound);

  s->loop = loop;
  uv_tcp_init(loop, &s->listener);
  s->listener.data = s;
  s->open = 1;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&addr, 0);
  if (!rc)
    rc = uv_listen((uv_stream_t *)&s->listener, 128, on_connection);
  if (!rc)
    rc = uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &len);
  if (rc) {
    s->closing = true;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    return rc;
  }
  s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  *out = s;
  return 0;
}

void testsrv_close(struct testsrv *s, void (*cb)(void *arg), void *arg)
{
  s->closing = true;
  s->close_cb = cb;
  s->close_arg = arg;
  while (s->conns)
    conn_close(s->conns);
  uv_close((uv_handle_t *)&s->listener, on_listener_closed);
}

int testsrv_port(const struct testsrv *s)
{
  return s->port;
}

void testsrv_url(const struct testsrv *s, const char *path, char *out, size_t n)
{
  str_fmt(out, n, "http://127.0.0.1:%d%s", s->port, path);
}

unsigned testsrv_connections(const struct testsrv *s)
{
  return s->nconns;
}

unsigned testsrv_requests(const struct testsrv *s)
{
  return s->nreqs;
}

const struct testsrv_req *testsrv_last(const struct testsrv *s)
{
  return s->have_last ? &s->last : NULL;
}

static struct route *route_put(struct testsrv *s, const char *path,
                               enum route_kind kind)
{
  struct route *r, **pp;

  for (pp = &s->routes; *pp; pp = &(*pp)->next) {
    if (!strcmp((*pp)->path, path)) {
      r = *pp;
      *pp = r->next;
      route_free(r);
      break;
    }
  }
  r = util_xcalloc(1, sizeof(*r));
  r->path = util_xstrdup(path);
  r->kind = kind;
  r->next = s->routes;
  s->routes = r;
  return r;
}

static char *dup_bytes(const void *p, size_t n)
{
  char *d = util_xmalloc(n + 1);

  if (n)
    memcpy(d, p, n);
  d[n] = '\0';
  return d;
}

void testsrv_route_fixed(struct testsrv *s, const char *path, int status,
                         const char *headers, const void *body, size_t len)
{
  struct route *r = route_put(s, path, R_FIXED);

  r->status = status;
  r->headers = util_xstrdup(headers ? headers : "");
  r->body = dup_bytes(body, len);
  r->len = len;
}

void testsrv_route_echo(struct testsrv *s, const char *path)
{
  route_put(s, path, R_ECHO);
}

void testsrv_route_chunked(struct testsrv *s, const char *path,
                           const void *body, size_t len, const size_t *cuts,
                           size_t ncuts, unsigned delay_ms)
{
  struct route *r = route_put(s, path, R_CHUNKED);
  size_t i;

  r->body = dup_bytes(body, len);
  r->len = len;
  r->delay_ms = delay_ms;
  r->cuts = util_xcalloc(ncuts + 2, sizeof(*r->cuts));
  r->cuts[r->ncuts++] = 0;
  for (i = 0; i < ncuts; i++) {
    if (cuts[i] > r->cuts[r->ncuts - 1] && cuts[i] < len)
      r->cuts[r->ncuts++] = cuts[i];
  }
  if (len > 0)
    r->cuts[r->ncuts++] = len;
  else
    r->cuts[r->ncuts++] = 0; /* one empty piece would end the stream */
}

void testsrv_route_raw(struct testsrv *s, const char *path, const void *raw,
                       size_t len, bool close_after)
{
  struct route *r = route_put(s, path, R_RAW);

  r->body = dup_bytes(raw, len);
  r->len = len;
  r->close_after = close_after;
}

void testsrv_route_hang(struct testsrv *s, const char *path)
{
  route_put(s, path, R_HANG);
}

void testsrv_route_close_mid(struct testsrv *s, const char *path,
                             size_t declared, size_t sent)
{
  struct route *r = route_put(s, path, R_CLOSE_MID);

  r->declared = declared;
  r->sent = sent;
}
