/* pkg/http/httpd and pkg/http/health, driven by a raw TCP client on the
 * same loop (test/unit/support/httpd_tcpcli.c). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "http/health.h"
#include "http/httpd.h"
#include "support/httpd_tcpcli.h"
#include "metrics/metrics.h"
#include "testutil.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define WAIT_MS 5000 /* generous: a failure, not a timing assumption */

struct fx {
  uv_loop_t loop;
  struct httpd *d;
  struct met_registry *reg;
  struct health *hl;
  int port;
  int closed;
  int live_rc, ready_rc; /* results of the test checks */
};

static int check_live(void *arg, char *msg, size_t size)
{
  struct fx *f = arg;

  if (f->live_rc)
    str_copy(msg, "deadlock\ndetected", size); /* newline flattened */
  return f->live_rc;
}

static int check_ready(void *arg, char *msg, size_t size)
{
  struct fx *f = arg;

  (void)msg;
  (void)size;
  return f->ready_rc; /* no message: op_strerror is shown */
}

static int check_ok(void *arg, char *msg, size_t size)
{
  (void)arg;
  (void)msg;
  (void)size;
  return 0;
}

static void hello(const struct httpd_req *req, struct httpd_resp *resp,
                  void *arg)
{
  (void)arg;
  buf_printf(&resp->body, "%s %s ?%s", req->method, req->path, req->query);
}

static void teapot(const struct httpd_req *req, struct httpd_resp *resp,
                   void *arg)
{
  (void)req;
  (void)arg;
  resp->status = *(int *)arg;
  resp->content_type = "application/json";
  buf_append_str(&resp->body, "{}");
}

#define BIG_SIZE (3u << 20)

/* A body larger than the server's write high-water mark, to make it stop
 * parsing pipelined requests until the client has read the backlog. */
static void big(const struct httpd_req *req, struct httpd_resp *resp, void *arg)
{
  size_t i;

  (void)req;
  (void)arg;
  for (i = 0; i < BIG_SIZE; i++)
    buf_append_char(&resp->body, (char)('a' + i % 26));
}

static void fx_start(struct fx *f, const struct httpd_opts *o)
{
  static int teapot_status = 418, bad_status = 42;
  struct met_family *c;

  memset(f, 0, sizeof(*f));
  ck_assert_int_eq(uv_loop_init(&f->loop), 0);
  f->reg = met_registry_new();
  c = met_counter(f->reg, "test_requests_total", "Requests", MET_LV("code"));
  met_family_const_label(c, "name", "aws-account-operator");
  met_inc(c, MET_LV("200"));
  f->hl = health_new();
  ck_assert_int_eq(health_add_liveness(f->hl, "ping", check_ok, f), 0);
  ck_assert_int_eq(health_add_liveness(f->hl, "loop", check_live, f), 0);
  ck_assert_int_eq(health_add_readiness(f->hl, "informers", check_ready, f), 0);
  f->d = httpd_new(&f->loop, o);
  ck_assert_int_eq(httpd_route_metrics(f->d, "/metrics", f->reg), 0);
  ck_assert_int_eq(health_register(f->hl, f->d), 0);
  ck_assert_int_eq(httpd_route(f->d, "/hello", hello, NULL), 0);
  ck_assert_int_eq(httpd_route(f->d, "/teapot", teapot, &teapot_status), 0);
  ck_assert_int_eq(httpd_route(f->d, "/broken", teapot, &bad_status), 0);
  ck_assert_int_eq(httpd_route(f->d, "/big", big, NULL), 0);
  ck_assert_int_eq(httpd_listen(f->d, "127.0.0.1:0"), 0);
  f->port = httpd_port(f->d);
  ck_assert_int_gt(f->port, 0);
}

static void roundtrip(struct tcpcli *c, const char *req, unsigned idx,
                      struct tcpcli_resp *r);

static void on_httpd_closed(void *arg)
{
  *(int *)arg = 1;
}

/* Close the server, then every client handle, and prove the loop is
 * empty. */
static void fx_stop(struct fx *f)
{
  httpd_close(f->d, on_httpd_closed, &f->closed);
  ck_assert(test_run_until(&f->loop, &f->closed, WAIT_MS));
  health_free(f->hl);
  met_registry_free(f->reg);
  ASSERT_LOOP_CLEAN(&f->loop);
}

static void connect_ok(struct fx *f, struct tcpcli *c)
{
  ck_assert_int_eq(tcpcli_connect(c, &f->loop, f->port), 0);
}

/* Send one request and return its response (asserting it arrived). */
static void roundtrip(struct tcpcli *c, const char *req, unsigned idx,
                      struct tcpcli_resp *r)
{
  ck_assert_int_eq(tcpcli_send_str(c, req), 0);
  ck_assert_uint_ge(tcpcli_wait(c, idx + 1, WAIT_MS), idx + 1);
  ck_assert_int_eq(tcpcli_resp_at(c, idx, r), 0);
}

static void assert_header(const struct tcpcli_resp *r, const char *name,
                          const char *want)
{
  char v[256];

  ck_assert_msg(tcpcli_header(r, name, v, sizeof(v)), "no %s in %s", name,
                r->head);
  ck_assert_str_eq(v, want);
}

START_TEST(big_responses_pipelined)
{
  struct tcpcli_resp r;
  struct tcpcli c;
  struct fx f;
  unsigned i;

  fx_start(&f, NULL);
  connect_ok(&f, &c);
  ck_assert_int_eq(tcpcli_send_str(&c, "GET /big HTTP/1.1\r\n\r\n"
                                       "GET /big HTTP/1.1\r\n\r\n"
                                       "GET /big HTTP/1.1\r\n\r\n"
                                       "GET /hello?last HTTP/1.1\r\n\r\n"),
                   0);
  ck_assert_uint_eq(tcpcli_wait(&c, 4, 20000), 4);
  for (i = 0; i < 3; i++) {
    tcpcli_resp_at(&c, i, &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, BIG_SIZE);
    ck_assert(r.body[0] == 'a' &&
              r.body[BIG_SIZE - 1] == (char)('a' + (BIG_SIZE - 1) % 26));
  }
  tcpcli_resp_at(&c, 3, &r);
  ck_assert(strncmp(r.body, "GET /hello ?last", 16) == 0);
  ck_assert(!c.eof);
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

START_TEST(metrics_render_failure_is_500)
{
  struct httpd_opts o = { .max_response = 16 };
  struct tcpcli_resp r;
  struct tcpcli c;
  struct fx f;

  fx_start(&f, &o);
  connect_ok(&f, &c);
  roundtrip(&c, "GET /metrics HTTP/1.1\r\n\r\n", 0, &r);
  ck_assert_int_eq(r.status, 500);
  assert_header(&r, "Content-Type", "text/plain; charset=utf-8");
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

/* Body of a response as a string (bodies here are short text). */
static const char *body_str(const struct tcpcli_resp *r, char *out, size_t size)
{
  size_t n = UTIL_MIN(r->body_len, size - 1);

  memcpy(out, r->body, n);
  out[n] = '\0';
  return out;
}

static void on_tick(uv_timer_t *t)
{
  (void)t; /* only wakes the loop so the condition is re-checked */
}

/* Run the loop until the server has at most n connections. */
static int run_until_conns(struct fx *f, size_t n)
{
  uint64_t deadline = uv_now(&f->loop) + WAIT_MS;
  uv_timer_t tick;

  uv_timer_init(&f->loop, &tick);
  uv_timer_start(&tick, on_tick, 5, 5);
  while (httpd_conn_count(f->d) > n && uv_now(&f->loop) < deadline)
    uv_run(&f->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(&f->loop, UV_RUN_NOWAIT);
  return httpd_conn_count(f->d) <= n;
}

START_TEST(parse_addresses)
{
  struct sockaddr_storage ss;
  struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
  static const char *const bad[] = {
    "",         "8080",         ":",
    ":80a",     ":-1",          ":65536",
    "1.2.3.4:", "1.2.3.4",      "::1:80",
    "[::1]",    "[::1]80",      "[1.2.3.4]:80",
    "[::1:80",  "256.1.1.1:80", "example.com:80",
    ": 80",     ":+80",         "1.2.3.4:080000",
  };
  char ip[64];
  int all;
  size_t i;

  ck_assert_int_eq(httpd_parse_addr(":8080", &ss, &all), 0);
  ck_assert_int_eq(all, 1);
  ck_assert_int_eq(ss.ss_family, AF_INET);
  ck_assert_int_eq(ntohs(v4->sin_port), 8080);
  ck_assert_int_eq(httpd_parse_addr("127.0.0.1:18080", &ss, &all), 0);
  ck_assert_int_eq(all, 0);
  uv_ip4_name(v4, ip, sizeof(ip));
  ck_assert_str_eq(ip, "127.0.0.1");
  ck_assert_int_eq(ntohs(v4->sin_port), 18080);
  ck_assert_int_eq(httpd_parse_addr("0.0.0.0:8080", &ss, NULL), 0);
  ck_assert_int_eq(httpd_parse_addr("localhost:8080", &ss, NULL), 0);
  uv_ip4_name(v4, ip, sizeof(ip));
  ck_assert_str_eq(ip, "127.0.0.1");
  ck_assert_int_eq(httpd_parse_addr("[::1]:8080", &ss, NULL), 0);
  ck_assert_int_eq(ss.ss_family, AF_INET6);
  ck_assert_int_eq(ntohs(v6->sin6_port), 8080);
  uv_ip6_name(v6, ip, sizeof(ip));
  ck_assert_str_eq(ip, "::1");
  ck_assert_int_eq(httpd_parse_addr("[::]:0", &ss, NULL), 0);
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    ck_assert_msg(httpd_parse_addr(bad[i], &ss, NULL) == OP_EINVAL,
                  "accepted '%s'", bad[i]);
  ck_assert_int_eq(httpd_parse_addr(NULL, &ss, NULL), OP_EINVAL);
}
END_TEST

START_TEST(listen_and_route_errors)
{
  struct tcpcli_resp r;
  struct tcpcli c;
  struct fx f;
  struct httpd *d2;
  char addr[64];
  int closed = 0;

  fx_start(&f, NULL);
  ck_assert_int_eq(httpd_route(f.d, "/metrics", hello, NULL), OP_EEXIST);
  ck_assert_int_eq(httpd_route(f.d, "nope", hello, NULL), OP_EINVAL);
  ck_assert_int_eq(httpd_route(f.d, "/a?b", hello, NULL), OP_EINVAL);
  ck_assert_int_eq(httpd_listen(f.d, "127.0.0.1:0"), OP_ESTATE);
  d2 = httpd_new(&f.loop, NULL);
  ck_assert_int_lt(httpd_port(d2), 0);
  ck_assert_int_eq(httpd_listen(d2, "nonsense"), OP_EINVAL);
  str_fmt(addr, sizeof(addr), "127.0.0.1:%d", f.port);
  ck_assert_int_eq(httpd_listen(d2, addr), OP_EBUSY);
  httpd_close(d2, on_httpd_closed, &closed);
  ck_assert(test_run_until(&f.loop, &closed, WAIT_MS));
  /* ":0" listens on every interface (IPv6 wildcard when the kernel has
   * it, dual-stack); IPv4 loopback clients reach it either way. */
  closed = 0;
  d2 = httpd_new(&f.loop, NULL);
  ck_assert_int_eq(httpd_route(d2, "/hello", hello, NULL), 0);
  ck_assert_int_eq(httpd_listen(d2, ":0"), 0);
  ck_assert_int_eq(tcpcli_connect(&c, &f.loop, httpd_port(d2)), 0);
  roundtrip(&c, "GET /hello HTTP/1.1\r\n\r\n", 0, &r);
  ck_assert_int_eq(r.status, 200);
  httpd_close(d2, on_httpd_closed, &closed);
  ck_assert(test_run_until(&f.loop, &closed, WAIT_MS));
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

START_TEST(get_metrics)
{
  struct tcpcli_resp r;
  struct tcpcli c;
  struct fx f;
  struct buf want;
  char len[32], b[64];

  fx_start(&f, NULL);
  connect_ok(&f, &c);
  roundtrip(&c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(str_has_prefix(r.head, "HTTP/1.1 200 OK\r\n"));
  assert_header(&r, "Content-Type", MET_CONTENT_TYPE);
  buf_init(&want, 1 << 20);
  ck_assert_int_eq(met_render(f.reg, &want), 0);
  str_fmt(len, sizeof(len), "%zu", want.len);
  assert_header(&r, "Content-Length", len);
  ck_assert_uint_eq(r.body_len, want.len);
  ck_assert(memcmp(r.body, want.data, want.len) == 0);
  ck_assert_ptr_nonnull(strstr(buf_str(&want), "test_requests_total{name="
                                               "\"aws-account-operator\","
                                               "code=\"200\"} 1\n"));
  buf_cleanup(&want);
  /* The query string does not take part in routing. */
  roundtrip(&c, "GET /hello?a=1&verbose HTTP/1.1\r\n\r\n", 1, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(body_str(&r, b, sizeof(b)), "GET /hello ?a=1&verbose");
  ck_assert(!c.eof);
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

START_TEST(head_has_no_body)
{
  struct tcpcli_resp r;
  struct tcpcli c;
  struct fx f;
  char len[32];

  fx_start(&f, NULL);
  connect_ok(&f, &c);
  /* HEAD then a pipelined GET: the GET's status line must follow the
   * HEAD's headers immediately, proving no body bytes were sent. */
  c.head_mask = 1;
  ck_assert_int_eq(tcpcli_send_str(&c, "HEAD /metrics HTTP/1.1\r\n\r\n"
                                       "GET /nope HTTP/1.1\r\n\r\n"),
                   0);
  ck_assert_uint_eq(tcpcli_wait(&c, 2, WAIT_MS), 2);
  ck_assert_int_eq(tcpcli_resp_at(&c, 0, &r), 0);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Type", MET_CONTENT_TYPE);
  ck_assert(tcpcli_header(&r, "Content-Length", len, sizeof(len)));
  ck_assert_int_gt(atoi(len), 100);
  ck_assert(str_has_prefix(r.body, "HTTP/1.1 404 Not Found\r\n"));
  ck_assert_int_eq(tcpcli_resp_at(&c, 1, &r), 0);
  ck_assert_int_eq(r.status, 404);
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

START_TEST(not_found_and_method_not_allowed)
{
  struct tcpcli_resp r;
  struct tcpcli c;
  struct fx f;

  fx_start(&f, NULL);
  connect_ok(&f, &c);
  roundtrip(&c, "GET /metricsx HTTP/1.1\r\n\r\n", 0, &r);
  ck_assert_int_eq(r.status, 404);
  roundtrip(&c, "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", 1,
            &r);
  ck_assert_int_eq(r.status, 405);
  assert_header(&r, "Allow", "GET, HEAD");
  roundtrip(&c, "DELETE /healthz HTTP/1.1\r\n\r\n", 2, &r);
  ck_assert_int_eq(r.status, 405);
  /* Handler-chosen status and content type; invalid status becomes 500. */
  roundtrip(&c, "GET /teapot HTTP/1.1\r\n\r\n", 3, &r);
  ck_assert_int_eq(r.status, 418);
  assert_header(&r, "Content-Type", "application/json");
  roundtrip(&c, "GET /broken HTTP/1.1\r\n\r\n", 4, &r);
  ck_assert_int_eq(r.status, 500);
  ck_assert_uint_eq(r.body_len, 0);
  ck_assert(!c.eof); /* all of these keep the connection */
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

START_TEST(oversize_requests)
{
  struct tcpcli_resp r;
  struct tcpcli c, c2, c3;
  struct buf req;
  struct fx f;
  size_t n;

  fx_start(&f, NULL);
  /* Headers over 8 KiB: 431, then the server closes. */
  connect_ok(&f, &c);
  buf_init(&req, 1 << 20);
  buf_append_str(&req, "GET /metrics HTTP/1.1\r\nX-Pad: ");
  for (n = 0; n < 9000; n++)
    buf_append_char(&req, 'a');
  buf_append_str(&req, "\r\n\r\n");
  ck_assert_int_eq(tcpcli_send(&c, req.data, req.len), 0);
  ck_assert(tcpcli_wait_eof(&c, WAIT_MS));
  ck_assert_int_eq(tcpcli_resp_at(&c, 0, &r), 0);
  ck_assert_int_eq(r.status, 431);
  assert_header(&r, "Connection", "close");
  /* A body that takes the request over the cap: 413. */
  connect_ok(&f, &c2);
  buf_reset(&req);
  buf_append_str(&req, "GET /metrics HTTP/1.1\r\nContent-Length: 10000\r\n"
                       "\r\n");
  for (n = 0; n < 10000; n++)
    buf_append_char(&req, 'b');
  ck_assert_int_eq(tcpcli_send(&c2, req.data, req.len), 0);
  ck_assert(tcpcli_wait_eof(&c2, WAIT_MS));
  ck_assert_int_eq(tcpcli_resp_at(&c2, 0, &r), 0);
  ck_assert_int_eq(r.status, 413);
  /* Garbage: 400 and close. */
  connect_ok(&f, &c3);
  ck_assert_int_eq(tcpcli_send_str(&c3, "HELLO\r\n\r\n"), 0);
  ck_assert(tcpcli_wait_eof(&c3, WAIT_MS));
  ck_assert_int_eq(tcpcli_resp_at(&c3, 0, &r), 0);
  ck_assert_int_eq(r.status, 400);
  buf_cleanup(&req);
  fx_stop(&f);
  tcpcli_cleanup(&c);
  tcpcli_cleanup(&c2);
  tcpcli_cleanup(&c3);
}
END_TEST

START_TEST(exact_cap_is_accepted)
{
  struct httpd_opts o = { .max_request = 256 };
  struct tcpcli_resp r;
  struct tcpcli c;
  struct buf req;
  struct fx f;

  fx_start(&f, &o);
  connect_ok(&f, &c);
  buf_init(&req, 1024);
  buf_append_str(&req, "GET /hello HTTP/1.1\r\nX-Pad: ");
  while (req.len < 256 - 4)
    buf_append_char(&req, 'p');
  buf_append_str(&req, "\r\n\r\n");
  ck_assert_uint_eq(req.len, 256);
  roundtrip(&c, buf_str(&req), 0, &r);
  ck_assert_int_eq(r.status, 200);
  /* One byte more is over the cap. */
  buf_reset(&req);
  buf_append_str(&req, "GET /hello HTTP/1.1\r\nX-Pad: ");
  while (req.len < 257 - 4)
    buf_append_char(&req, 'p');
  buf_append_str(&req, "\r\n\r\n");
  roundtrip(&c, buf_str(&req), 1, &r);
  ck_assert_int_eq(r.status, 431);
  ck_assert(tcpcli_wait_eof(&c, WAIT_MS));
  buf_cleanup(&req);
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

START_TEST(slow_client_is_closed)
{
  struct httpd_opts o = { .read_timeout_ms = 100 };
  struct tcpcli c;
  struct fx f;

  fx_start(&f, &o);
  connect_ok(&f, &c);
  ck_assert_int_eq(tcpcli_send_str(&c, "GET /metrics HTTP/1.1\r\nHo"), 0);
  ck_assert(tcpcli_wait_eof(&c, WAIT_MS));
  ck_assert_uint_eq(c.in.len, 0); /* closed without an answer */
  ck_assert_uint_eq(httpd_conn_count(f.d), 0);
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

START_TEST(connection_cap)
{
  struct httpd_opts o = { .max_conns = 2 };
  struct tcpcli_resp r;
  struct tcpcli c1, c2, c3, c4;
  struct fx f;

  fx_start(&f, &o);
  connect_ok(&f, &c1);
  connect_ok(&f, &c2);
  /* A round trip on each proves the server accepted both. */
  roundtrip(&c1, "GET /healthz HTTP/1.1\r\n\r\n", 0, &r);
  roundtrip(&c2, "GET /healthz HTTP/1.1\r\n\r\n", 0, &r);
  ck_assert_uint_eq(httpd_conn_count(f.d), 2);
  connect_ok(&f, &c3); /* the kernel completes the handshake */
  tcpcli_send_str(&c3, "GET /healthz HTTP/1.1\r\n\r\n");
  ck_assert(tcpcli_wait_eof(&c3, WAIT_MS));
  ck_assert_uint_eq(c3.in.len, 0);
  /* The first two still work; closing one makes room again. */
  roundtrip(&c1, "GET /healthz HTTP/1.1\r\n\r\n", 1, &r);
  ck_assert_int_eq(r.status, 200);
  roundtrip(&c2, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 1, &r);
  ck_assert(tcpcli_wait_eof(&c2, WAIT_MS));
  tcpcli_close(&c2);
  ck_assert(run_until_conns(&f, 1));
  connect_ok(&f, &c4);
  roundtrip(&c4, "GET /healthz HTTP/1.1\r\n\r\n", 0, &r);
  ck_assert_int_eq(r.status, 200);
  fx_stop(&f);
  tcpcli_cleanup(&c1);
  tcpcli_cleanup(&c2);
  tcpcli_cleanup(&c3);
  tcpcli_cleanup(&c4);
}
END_TEST

START_TEST(keep_alive_and_close)
{
  struct tcpcli_resp r;
  struct tcpcli c, c10, c10k;
  struct fx f;
  char v[64];

  fx_start(&f, NULL);
  connect_ok(&f, &c);
  roundtrip(&c, "GET /hello HTTP/1.1\r\n\r\n", 0, &r);
  ck_assert(!tcpcli_header(&r, "Connection", v, sizeof(v)));
  roundtrip(&c, "GET /hello HTTP/1.1\r\n\r\n", 1, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_uint_eq(httpd_conn_count(f.d), 1);
  ck_assert(!c.eof);
  roundtrip(&c, "GET /hello HTTP/1.1\r\nConnection: close\r\n\r\n", 2, &r);
  assert_header(&r, "Connection", "close");
  ck_assert(tcpcli_wait_eof(&c, WAIT_MS));
  /* HTTP/1.0 closes by default... */
  connect_ok(&f, &c10);
  roundtrip(&c10, "GET /hello HTTP/1.0\r\n\r\n", 0, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert(tcpcli_wait_eof(&c10, WAIT_MS));
  /* ...unless it asks for keep-alive. */
  connect_ok(&f, &c10k);
  roundtrip(&c10k, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0,
            &r);
  assert_header(&r, "Connection", "keep-alive");
  roundtrip(&c10k, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1,
            &r);
  ck_assert(!c10k.eof);
  fx_stop(&f);
  tcpcli_cleanup(&c);
  tcpcli_cleanup(&c10);
  tcpcli_cleanup(&c10k);
}
END_TEST

START_TEST(pipelined_in_order)
{
  struct tcpcli_resp r;
  struct tcpcli c;
  struct fx f;

  fx_start(&f, NULL);
  connect_ok(&f, &c);
  ck_assert_int_eq(tcpcli_send_str(&c, "GET /hello?1 HTTP/1.1\r\n\r\n"
                                       "GET /nope HTTP/1.1\r\n\r\n"
                                       "GET /hello?3 HTTP/1.1\r\n\r\n"
                                       "GET /metrics HTTP/1.1\r\n\r\n"
                                       "GET /hello?5 HTTP/1.1\r\n"
                                       "Connection: close\r\n\r\n"
                                       "GET /hello?6 HTTP/1.1\r\n\r\n"),
                   0);
  ck_assert(tcpcli_wait_eof(&c, WAIT_MS));
  /* The sixth request came after "Connection: close": unanswered. */
  ck_assert_uint_eq(tcpcli_count(&c), 5);
  tcpcli_resp_at(&c, 0, &r);
  ck_assert(r.status == 200 && strncmp(r.body, "GET /hello ?1", 13) == 0);
  tcpcli_resp_at(&c, 1, &r);
  ck_assert_int_eq(r.status, 404);
  tcpcli_resp_at(&c, 2, &r);
  ck_assert(r.status == 200 && strncmp(r.body, "GET /hello ?3", 13) == 0);
  tcpcli_resp_at(&c, 3, &r);
  assert_header(&r, "Content-Type", MET_CONTENT_TYPE);
  tcpcli_resp_at(&c, 4, &r);
  ck_assert(r.status == 200 && strncmp(r.body, "GET /hello ?5", 13) == 0);
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

START_TEST(health_endpoints)
{
  struct tcpcli_resp r;
  struct tcpcli c;
  struct fx f;
  char b[512];

  fx_start(&f, NULL);
  connect_ok(&f, &c);
  roundtrip(&c, "GET /healthz HTTP/1.1\r\n\r\n", 0, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(body_str(&r, b, sizeof(b)), "ok");
  roundtrip(&c, "GET /readyz HTTP/1.1\r\n\r\n", 1, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(body_str(&r, b, sizeof(b)), "ok");
  roundtrip(&c, "GET /healthz?verbose HTTP/1.1\r\n\r\n", 2, &r);
  ck_assert_int_eq(r.status, 200);
  ck_assert_str_eq(body_str(&r, b, sizeof(b)),
                   "[+]ping ok\n[+]loop ok\nhealthz check passed\n");
  f.live_rc = OP_ETIMEDOUT;
  f.ready_rc = OP_EBUSY;
  roundtrip(&c, "GET /healthz HTTP/1.1\r\n\r\n", 3, &r);
  ck_assert_int_eq(r.status, 503);
  ck_assert_str_eq(body_str(&r, b, sizeof(b)),
                   "[+]ping ok\n[-]loop failed: reason withheld\n"
                   "healthz check failed\n");
  roundtrip(&c, "GET /healthz?verbose=1 HTTP/1.1\r\n\r\n", 4, &r);
  ck_assert_int_eq(r.status, 503);
  ck_assert_str_eq(body_str(&r, b, sizeof(b)),
                   "[+]ping ok\n[-]loop failed: deadlock detected\n"
                   "healthz check failed\n");
  roundtrip(&c, "GET /readyz?x=y&verbose HTTP/1.1\r\n\r\n", 5, &r);
  ck_assert_int_eq(r.status, 503);
  ck_assert_str_eq(body_str(&r, b, sizeof(b)),
                   "[-]informers failed: busy\nreadyz check failed\n");
  roundtrip(&c, "GET /readyz?verbose=false HTTP/1.1\r\n\r\n", 6, &r);
  ck_assert_str_eq(body_str(&r, b, sizeof(b)),
                   "[-]informers failed: reason withheld\n"
                   "readyz check failed\n");
  f.ready_rc = 0;
  c.head_mask = 1u << 7;
  roundtrip(&c, "HEAD /readyz HTTP/1.1\r\n\r\n", 7, &r);
  ck_assert_int_eq(r.status, 200);
  assert_header(&r, "Content-Length", "2");
  ck_assert_int_eq(health_add_readiness(f.hl, "informers", check_ok, NULL),
                   OP_EEXIST);
  ck_assert_int_eq(health_add_readiness(f.hl, "bad name", check_ok, NULL),
                   OP_EINVAL);
  fx_stop(&f);
  tcpcli_cleanup(&c);
}
END_TEST

static void count_open(uv_handle_t *h, void *arg)
{
  if (!uv_is_closing(h))
    (*(int *)arg)++;
}

START_TEST(close_with_open_connections)
{
  struct tcpcli_resp r;
  struct tcpcli c1, c2, c3;
  struct fx f;
  int open = 0;

  fx_start(&f, NULL);
  connect_ok(&f, &c1);
  connect_ok(&f, &c2);
  connect_ok(&f, &c3);
  tcpcli_send_str(&c2, "GET /metrics HTTP/1.1\r\nHost:"); /* half */
  /* c3: pipelined requests in flight when the server goes away. */
  tcpcli_send_str(&c3, "GET /metrics HTTP/1.1\r\n\r\n"
                       "GET /metrics HTTP/1.1\r\n\r\n");
  /* c1 ends idle after a round trip, which also gives the server time to
   * read what c2 and c3 sent (not asserted: either way must be clean). */
  roundtrip(&c1, "GET /hello HTTP/1.1\r\n\r\n", 0, &r);
  httpd_close(f.d, on_httpd_closed, &f.closed);
  ck_assert(test_run_until(&f.loop, &f.closed, WAIT_MS));
  /* Only the three client handles are left. */
  uv_walk(&f.loop, count_open, &open);
  ck_assert_int_eq(open, 3);
  ck_assert(tcpcli_wait_eof(&c1, WAIT_MS));
  ck_assert(tcpcli_wait_eof(&c2, WAIT_MS));
  ck_assert(tcpcli_wait_eof(&c3, WAIT_MS));
  tcpcli_close(&c1);
  tcpcli_close(&c2);
  tcpcli_close(&c3);
  uv_run(&f.loop, UV_RUN_DEFAULT);
  ck_assert(c1.closed && c2.closed && c3.closed);
  ck_assert_int_eq(uv_loop_close(&f.loop), 0);
  health_free(f.hl);
  met_registry_free(f.reg);
  tcpcli_cleanup(&c1);
  tcpcli_cleanup(&c2);
  tcpcli_cleanup(&c3);
}
END_TEST

static Suite *httpd_suite(void)
{
  Suite *s = suite_create("httpd");
  TCase *tc = tcase_create("core");

  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, parse_addresses);
  tcase_add_test(tc, listen_and_route_errors);
  tcase_add_test(tc, get_metrics);
  tcase_add_test(tc, head_has_no_body);
  tcase_add_test(tc, not_found_and_method_not_allowed);
  tcase_add_test(tc, oversize_requests);
  tcase_add_test(tc, exact_cap_is_accepted);
  tcase_add_test(tc, slow_client_is_closed);
  tcase_add_test(tc, connection_cap);
  tcase_add_test(tc, keep_alive_and_close);
  tcase_add_test(tc, pipelined_in_order);
  tcase_add_test(tc, big_responses_pipelined);
  tcase_add_test(tc, metrics_render_failure_is_500);
  tcase_add_test(tc, health_endpoints);
  tcase_add_test(tc, close_with_open_connections);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(httpd_suite)
