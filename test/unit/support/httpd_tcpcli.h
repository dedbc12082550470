/* A raw HTTP/1.1 client on the test's uv loop for the httpd suite: sends
 * bytes exactly as given (pipelining, half requests, oversize requests)
 * and collects everything the server returns.
 *
 *   struct tcpcli c;
 *   tcpcli_connect(&c, loop, port);            // then wait for c.connected
 *   tcpcli_send_str(&c, "GET / HTTP/1.1\r\n\r\n");
 *   tcpcli_wait(&c, 1, 5000);                  // one full response or EOF
 *   tcpcli_resp_at(&c, 0, &r);
 *   tcpcli_close(&c); ... run the loop ...; tcpcli_cleanup(&c);
 */
#ifndef TEST_UNIT_SUPPORT_HTTPD_TCPCLI_H
#define TEST_UNIT_SUPPORT_HTTPD_TCPCLI_H

#include <stddef.h>
#include <uv.h>

#include "util/buf.h"

struct tcpcli {
  uv_tcp_t tcp;
  uv_connect_t creq;
  uv_loop_t *loop;
  struct buf in;      /* every byte received */
  int connected;      /* 1 once connected, -1 if the connect failed */
  int eof;            /* the server closed (EOF or reset) */
  int closed;         /* our handle's close callback ran */
  int done;           /* the awaited condition holds (see tcpcli_wait) */
  unsigned want;      /* responses awaited */
  unsigned head_mask; /* bit i: response i answers a HEAD (no body) */
};

struct tcpcli_resp {
  int status;
  char head[2048];  /* status line and headers, NUL-terminated */
  const char *body; /* points into c->in */
  size_t body_len;
};

/* Connect to 127.0.0.1:port; c is caller storage. Returns 0 or a uv error.
 */
int tcpcli_connect(struct tcpcli *c, uv_loop_t *loop, int port);
/* Queue bytes (copied). Returns 0 or a uv error. */
int tcpcli_send(struct tcpcli *c, const char *data, size_t len);
int tcpcli_send_str(struct tcpcli *c, const char *s);
/* Run the loop until n complete responses arrived or the server closed,
 * at most timeout_ms. Returns the number of complete responses. */
unsigned tcpcli_wait(struct tcpcli *c, unsigned n, unsigned timeout_ms);
/* Run the loop until the server closes the connection; returns 1 if it
 * did within timeout_ms. */
int tcpcli_wait_eof(struct tcpcli *c, unsigned timeout_ms);
/* The i-th complete response received; returns 0 or -1 if absent. */
int tcpcli_resp_at(const struct tcpcli *c, unsigned i, struct tcpcli_resp *r);
/* Case-insensitive header lookup in r->head; copies the value into out.
 * Returns 1 if found. */
int tcpcli_header(const struct tcpcli_resp *r, const char *name, char *out,
                  size_t outsize);
unsigned tcpcli_count(const struct tcpcli *c);
void tcpcli_close(struct tcpcli *c);
/* Free the receive buffer (after the close callback ran). */
void tcpcli_cleanup(struct tcpcli *c);

#endif
