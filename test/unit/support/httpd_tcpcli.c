#include "support/httpd_tcpcli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "testutil.h"
#include "util/str.h"
#include "util/util.h"

struct wr {
  uv_write_t req;
  char *data;
};

/* Parse the response starting at s; returns its total length, or 0 when
 * it is not complete yet. */
static size_t parse_one(const char *s, size_t len, int head,
                        struct tcpcli_resp *r)
{
  const char *end = memmem(s, len, "\r\n\r\n", 4);
  char cl[32];
  size_t hlen, blen = 0;

  if (!end)
    return 0;
  hlen = (size_t)(end - s) + 4;
  memset(r, 0, sizeof(*r));
  memcpy(r->head, s, UTIL_MIN(hlen, sizeof(r->head) - 1));
  r->status = atoi(s + strlen("HTTP/1.1 "));
  if (!head && tcpcli_header(r, "Content-Length", cl, sizeof(cl)))
    blen = strtoul(cl, NULL, 10);
  if (len - hlen < blen)
    return 0;
  r->body = s + hlen;
  r->body_len = blen;
  return hlen + blen;
}

int tcpcli_resp_at(const struct tcpcli *c, unsigned i, struct tcpcli_resp *r)
{
  const char *s = c->in.data;
  size_t len = c->in.len, n;
  unsigned k;

  for (k = 0; s && len; k++) {
    n = parse_one(s, len, (c->head_mask >> k) & 1, r);
    if (!n)
      return -1;
    if (k == i)
      return 0;
    s += n;
    len -= n;
  }
  return -1;
}

unsigned tcpcli_count(const struct tcpcli *c)
{
  struct tcpcli_resp r;
  unsigned n = 0;

  while (tcpcli_resp_at(c, n, &r) == 0)
    n++;
  return n;
}

int tcpcli_header(const struct tcpcli_resp *r, const char *name, char *out,
                  size_t outsize)
{
  const char *p = strstr(r->head, "\r\n");
  size_t n = strlen(name);

  while (p && p[2] != '\r') {
    p += 2;
    if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
      const char *v = p + n + 1, *e = strstr(v, "\r\n");
      while (*v == ' ')
        v++;
      str_copy(out, "", outsize);
      if (e && (size_t)(e - v) < outsize) {
        memcpy(out, v, (size_t)(e - v));
        out[e - v] = '\0';
      }
      return 1;
    }
    p = strstr(p, "\r\n");
  }
  return 0;
}

static void update_done(struct tcpcli *c)
{
  c->done = c->eof || (c->want && tcpcli_count(c) >= c->want);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
  (void)h;
  *b = uv_buf_init(util_xmalloc(hint), (unsigned)hint);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
  struct tcpcli *c = s->data;

  if (n > 0)
    buf_append(&c->in, b->base, (size_t)n);
  else if (n < 0) {
    c->eof = 1;
    uv_read_stop(s);
  }
  free(b->base);
  update_done(c);
}

static void on_connect(uv_connect_t *req, int status)
{
  struct tcpcli *c = req->data;

  c->connected = status == 0 ? 1 : -1;
  if (status == 0)
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int tcpcli_connect(struct tcpcli *c, uv_loop_t *loop, int port)
{
  struct sockaddr_in sa;
  int rc;

  memset(c, 0, sizeof(*c));
  c->loop = loop;
  buf_init(&c->in, 64u << 20);
  uv_ip4_addr("127.0.0.1", port, &sa);
  uv_tcp_init(loop, &c->tcp);
  c->tcp.data = c->creq.data = c;
  rc = uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&sa, on_connect);
  if (rc == 0 && !test_run_until(loop, &c->connected, 5000))
    rc = UV_ETIMEDOUT;
  return rc ? rc : (c->connected == 1 ? 0 : UV_ECONNREFUSED);
}

static void on_written(uv_write_t *req, int status)
{
  struct wr *w = container_of(req, struct wr, req);

  (void)status;
  free(w->data);
  free(w);
}

int tcpcli_send(struct tcpcli *c, const char *data, size_t len)
{
  struct wr *w = util_xcalloc(1, sizeof(*w));
  uv_buf_t b;
  int rc;

  w->data = util_xmalloc(len ? len : 1);
  memcpy(w->data, data, len);
  b = uv_buf_init(w->data, (unsigned)len);
  rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written);
  if (rc) {
    free(w->data);
    free(w);
  }
  return rc;
}

int tcpcli_send_str(struct tcpcli *c, const char *s)
{
  return tcpcli_send(c, s, strlen(s));
}

unsigned tcpcli_wait(struct tcpcli *c, unsigned n, unsigned timeout_ms)
{
  c->want = n;
  update_done(c);
  test_run_until(c->loop, &c->done, timeout_ms);
  c->want = 0;
  return tcpcli_count(c);
}

int tcpcli_wait_eof(struct tcpcli *c, unsigned timeout_ms)
{
  return test_run_until(c->loop, &c->eof, timeout_ms);
}

static void on_closed(uv_handle_t *h)
{
  struct tcpcli *c = h->data;

  c->closed = 1;
}

void tcpcli_close(struct tcpcli *c)
{
  if (!uv_is_closing((uv_handle_t *)&c->tcp))
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

void tcpcli_cleanup(struct tcpcli *c)
{
  buf_cleanup(&c->in);
}
