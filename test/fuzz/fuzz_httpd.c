/* libFuzzer target: the metrics/health server's request handling (HTTP/1.1
 * parsing, pipelining, size caps, routing, HEAD, keep-alive and close)
 * over a real loopback connection, since the server reads only from its
 * sockets. The input is what the client sends; the first byte picks the
 * size of the writes, so split points are fuzzed with the content. Every
 * input runs until the server has closed the connection. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/httpd.h"
#include "metrics/metrics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TURNS 100000

static uv_loop_t loop;
static struct httpd *server;
static int port;

static void on_ok(const struct httpd_req *req, struct httpd_resp *resp,
                  void *arg)
{
  (void)arg;
  buf_append(&resp->body, req->query, strlen(req->query));
}

static int start(void)
{
  static const struct httpd_opts o = { .read_timeout_ms = 200,
                                       .max_request = 4096 };
  static struct met_registry *reg;

  uv_loop_init(&loop);
  server = httpd_new(&loop, &o);
  reg = met_registry_new();
  httpd_route(server, "/healthz", on_ok, NULL);
  httpd_route(server, "/readyz", on_ok, NULL);
  httpd_route_metrics(server, "/metrics", reg);
  if (httpd_listen(server, "127.0.0.1:0") != 0)
    return -1;
  port = httpd_port(server);
  return 0;
}

static int dial(void)
{
  struct sockaddr_in a = { .sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Drain what the server sent: 1 once it closed, else 0. */
static int drain(int fd)
{
  char b[16384];
  ssize_t n;

  while ((n = read(fd, b, sizeof(b))) > 0)
    ;
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  size_t step, sent = 0;
  int fd, turns = 0, closed = 0;

  if (size < 1 || (!server && start() != 0))
    return 0;
  step = (size_t)data[0] * 64 + 1;
  data++;
  size--;
  if ((fd = dial()) < 0)
    return 0;
  while (!closed && turns++ < MAX_TURNS) {
    if (sent < size) {
      size_t n = size - sent < step ? size - sent : step;
      ssize_t w = send(fd, data + sent, n, MSG_NOSIGNAL);

      if (w > 0)
        sent += (size_t)w;
      else if (w < 0 && errno != EAGAIN && errno != ENOTCONN)
        sent = size; /* the server closed: nothing more to send */
      if (sent == size)
        shutdown(fd, SHUT_WR);
    }
    uv_run(&loop, sent < size ? UV_RUN_NOWAIT : UV_RUN_ONCE);
    closed = drain(fd);
  }
  close(fd);
  while (httpd_conn_count(server) > 0 && turns++ < MAX_TURNS)
    uv_run(&loop, UV_RUN_ONCE);
  return 0;
}
