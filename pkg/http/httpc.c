/* HTTP client: one libcurl multi handle driven by the uv loop.
 *
 * Shape: curl's docs/examples/multi-uv.c (one uv_timer for libcurl's
 * timeout, one uv_poll per socket attached with curl_multi_assign), with
 * these fixes:
 *   - curl_multi_info_read is drained after every socket_action;
 *   - poll errors are passed on as CURL_CSELECT_ERR;
 *   - a failing curl_multi_socket_action marks the multi broken: every
 *     transfer fails with OP_EIO and the multi is rebuilt;
 *   - no libcurl call is ever made from inside a libcurl callback. Aborts
 *     (cancel, idle timeout, close) only mark the request and schedule the
 *     "reap" zero-timer; handles are removed there, and done callbacks run
 *     there too, so user code never runs on top of libcurl's stack except
 *     the streaming data callback;
 *   - shutdown order: aborted transfers removed -> curl_multi_cleanup (which
 *     may ask us to stop polling sockets) -> uv_close every handle -> the
 *     close callback runs when the last uv close callback has run.
 *
 * Request states: NEW (configuring) -> PENDING (start was called from
 * inside a libcurl callback, where curl_multi_add_handle is refused; the
 * reap adds it) -> RUNNING (easy in the multi, on c->active) -> DONE (easy
 * removed, on the done queue) -> CALLING (done_cb running) -> freed.
 */
#include "http/httpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log/log.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#ifndef AAO_VERSION
#define AAO_VERSION "0.0.0"
#endif

#define MOD "httpc"
#define DEFAULT_MAX_BODY ((size_t)16 << 20)
#define DEFAULT_CONNECT_MS 10000L
#define DEFAULT_KEEPIDLE_S 30L
#define KEEPINTVL_MAX_S 10L
/* Bound on all response header lines of one response (libcurl already caps
 * a single header at 100 KiB). */
#define MAX_HEADER_BYTES ((size_t)256 << 10)

enum req_state { REQ_NEW, REQ_PENDING, REQ_RUNNING, REQ_DONE, REQ_CALLING };

/* Per-socket context, created when libcurl first asks to watch a socket and
 * attached to it with curl_multi_assign. Freed in its poll close callback. */
struct sock {
  uv_poll_t poll;
  curl_socket_t fd;
  struct httpc *c;
  struct sock *prev, *next; /* c->socks */
};

/* Copies of struct httpc_tls; key_pem is wiped on free. */
struct req_tls {
  char *ca_file, *ca_pem, *cert_file, *cert_pem, *key_file, *key_pem;
  bool insecure;
};

/* Owner: the httpc while started, the caller before. Every pointer member
 * is owned and freed by req_destroy, after curl_easy_cleanup (libcurl
 * borrows body, headers, TLS blobs and the error buffer). */
struct httpc_req {
  struct httpc *c;
  CURL *easy;
  enum req_state state;
  char *method, *url;
  struct curl_slist *headers; /* user headers, then our additions */
  char *auth;                 /* "Authorization: Bearer ..." (secret) */
  char *body;                 /* request body (wiped: may hold secrets) */
  size_t body_len;
  bool has_body, has_ctype, has_expect, tls_set;
  long timeout_ms, idle_ms;
  uint64_t last_rx; /* uv_now of the last received byte */
  httpc_data_cb data_cb;
  void *data_arg;
  struct req_tls tls;
  void *user;
  httpc_done_cb done_cb;
  void *done_arg;
  int abort_err; /* set by cancel/idle/close; handled by the reap */
  char abort_msg[96];
  int err; /* final result once DONE */
  bool streaming, too_big;
  size_t header_bytes, headers_cap;
  struct httpc_resp resp;        /* resp.body is a secret buffer */
  struct httpc_req *prev, *next; /* c->active, c->pending or done queue */
};

/* Owner: the caller until httpc_close; then freed after the last uv close
 * callback. socks, requests and user_agent are owned. */
struct httpc {
  uv_loop_t *loop;
  CURLM *multi;
  uv_timer_t curl_timer; /* libcurl's single timeout */
  uv_timer_t reap_timer; /* zero-delay safe point: aborts, done callbacks */
  uv_timer_t idle_timer; /* earliest per-request idle deadline */
  struct sock *socks;
  struct httpc_req *active, *pending, *done_head, *done_tail;
  size_t inflight, nabort, open_handles;
  int in_cb; /* > 0 while a user data callback runs inside libcurl */
  bool in_cleanup, broken, closing, shut;
  size_t max_body;
  long connect_ms, keepidle_s, max_host_conns;
  char *user_agent;
  void (*close_cb)(void *arg);
  void *close_arg;
};

static void on_reap(uv_timer_t *t);

/* ---- small list helpers ------------------------------------------------ */

static void list_push(struct httpc_req **head, struct httpc_req *r)
{
  r->prev = NULL;
  r->next = *head;
  if (*head)
    (*head)->prev = r;
  *head = r;
}

static void list_unlink(struct httpc_req **head, struct httpc_req *r)
{
  if (r->prev)
    r->prev->next = r->next;
  else
    *head = r->next;
  if (r->next)
    r->next->prev = r->prev;
  r->prev = r->next = NULL;
}

static void doneq_push(struct httpc *c, struct httpc_req *r)
{
  r->next = NULL;
  r->prev = c->done_tail;
  if (c->done_tail)
    c->done_tail->next = r;
  else
    c->done_head = r;
  c->done_tail = r;
}

static struct httpc_req *doneq_pop(struct httpc *c)
{
  struct httpc_req *r = c->done_head;

  if (!r)
    return NULL;
  c->done_head = r->next;
  if (c->done_head)
    c->done_head->prev = NULL;
  else
    c->done_tail = NULL;
  r->next = r->prev = NULL;
  return r;
}

static void schedule_reap(struct httpc *c)
{
  if (!c->shut && !uv_is_active((uv_handle_t *)&c->reap_timer))
    uv_timer_start(&c->reap_timer, on_reap, 0, 0);
}

/* ---- handle bookkeeping ------------------------------------------------ */

static void finish_close(struct httpc *c)
{
  void (*cb)(void *) = c->close_cb;
  void *arg = c->close_arg;

  free(c->user_agent);
  free(c);
  curl_global_cleanup();
  if (cb)
    cb(arg);
}

static void handle_closed(struct httpc *c)
{
  UTIL_ASSERT(c->open_handles > 0);
  if (--c->open_handles == 0 && c->shut)
    finish_close(c);
}

static void on_timer_closed(uv_handle_t *h)
{
  handle_closed(h->data);
}

static void on_sock_closed(uv_handle_t *h)
{
  struct sock *s = container_of(h, struct sock, poll);
  struct httpc *c = s->c;

  free(s);
  handle_closed(c);
}

static void sock_close(struct httpc *c, struct sock *s)
{
  if (s->prev)
    s->prev->next = s->next;
  else
    c->socks = s->next;
  if (s->next)
    s->next->prev = s->prev;
  uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/* ---- libcurl -> uv ----------------------------------------------------- */

static void multi_failed(struct httpc *c, CURLMcode mc);
static void drain(struct httpc *c);

static void multi_action(struct httpc *c, curl_socket_t fd, int ev)
{
  CURLMcode mc;
  int running;

  if (!c->multi || c->broken)
    return;
  mc = curl_multi_socket_action(c->multi, fd, ev, &running);
  if (mc != CURLM_OK) {
    multi_failed(c, mc);
    return;
  }
  drain(c);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
  struct sock *s = container_of(h, struct sock, poll);
  int ev = 0;

  /* libuv reports socket errors (and stops polling) through status. */
  if (status < 0)
    ev |= CURL_CSELECT_ERR;
  if (events & UV_READABLE)
    ev |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE)
    ev |= CURL_CSELECT_OUT;
  multi_action(s->c, s->fd, ev);
}

static void on_curl_timeout(uv_timer_t *t)
{
  multi_action(container_of(t, struct httpc, curl_timer), CURL_SOCKET_TIMEOUT,
               0);
}

static struct sock *sock_new(struct httpc *c, curl_socket_t fd)
{
  struct sock *s = util_xcalloc(1, sizeof(*s));
  int rc = uv_poll_init_socket(c->loop, &s->poll, fd);

  if (rc < 0) {
    log_error(MOD, "uv_poll_init_socket(%d): %s", (int)fd, uv_strerror(rc));
    free(s);
    return NULL;
  }
  s->fd = fd;
  s->c = c;
  s->next = c->socks;
  if (c->socks)
    c->socks->prev = s;
  c->socks = s;
  c->open_handles++;
  return s;
}

/* CURLMOPT_SOCKETFUNCTION: start, update or stop watching a socket. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                     void *socketp)
{
  struct httpc *c = userp;
  struct sock *s = socketp;
  int ev = 0, rc;

  (void)easy;
  if (what == CURL_POLL_REMOVE) {
    if (s) {
      sock_close(c, s);
      /* Inside curl_multi_cleanup the multi is already invalid. */
      if (!c->in_cleanup)
        curl_multi_assign(c->multi, fd, NULL);
    }
    return 0;
  }
  if (!s) {
    s = sock_new(c, fd);
    if (!s)
      return -1;
    curl_multi_assign(c->multi, fd, s);
  }
  if (what != CURL_POLL_OUT)
    ev |= UV_READABLE;
  if (what != CURL_POLL_IN)
    ev |= UV_WRITABLE;
  rc = uv_poll_start(&s->poll, ev, on_poll);
  if (rc < 0) {
    log_error(MOD, "uv_poll_start(%d): %s", (int)fd, uv_strerror(rc));
    return -1;
  }
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: libcurl must not be re-entered from here, so a
 * zero timeout is a zero-delay uv timer, never a direct socket_action. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
  struct httpc *c = userp;

  (void)multi;
  if (timeout_ms < 0)
    uv_timer_stop(&c->curl_timer);
  else
    uv_timer_start(&c->curl_timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

static int multi_create(struct httpc *c)
{
  CURLMcode mc = CURLM_OK;

  c->multi = curl_multi_init();
  if (!c->multi)
    return OP_ENOMEM;
  mc |= curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  mc |= curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
  mc |= curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
  mc |= curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
  if (c->max_host_conns > 0)
    mc |= curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                            c->max_host_conns);
  if (mc != CURLM_OK) {
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    return OP_EIO;
  }
  return 0;
}

/* Release the multi (closing its cached connections) and stop watching
 * whatever socket libcurl did not hand back. Only with no easy attached. */
static void multi_destroy(struct httpc *c)
{
  c->in_cleanup = true;
  if (c->multi)
    curl_multi_cleanup(c->multi);
  c->multi = NULL;
  c->in_cleanup = false;
  while (c->socks)
    sock_close(c, c->socks);
  uv_timer_stop(&c->curl_timer);
}

/* ---- completion ---------------------------------------------------------
 */

static int map_curl_error(struct httpc_req *r, CURLcode rc)
{
  long oserr = 0;

  switch (rc) {
  case CURLE_OK:
    return 0;
  case CURLE_COULDNT_CONNECT:
    curl_easy_getinfo(r->easy, CURLINFO_OS_ERRNO, &oserr);
    return oserr == ECONNREFUSED ? OP_ECONNREFUSED : OP_ECONNECT;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return OP_ECONNECT;
  case CURLE_OPERATION_TIMEDOUT:
    return OP_ETIMEDOUT;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CLIENTCERT:
  case CURLE_USE_SSL_FAILED:
    return OP_ETLS;
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
    /* A TLS alert after the handshake (TLS 1.3 reports a refused client
     * certificate on the first read) arrives as a read error; OpenSSL's
     * error string names its "SSL routines", a plain socket error not. */
    return strstr(r->resp.errmsg, "SSL routines") ? OP_ETLS : OP_EIO;
  case CURLE_WRITE_ERROR:
    return r->too_big ? OP_ETOOBIG : OP_EIO;
  case CURLE_FILESIZE_EXCEEDED:
    return OP_ETOOBIG;
  case CURLE_ABORTED_BY_CALLBACK:
    return OP_ECANCELED;
  case CURLE_URL_MALFORMAT:
    return OP_EINVAL;
  case CURLE_UNSUPPORTED_PROTOCOL:
    /* A scheme other than http(s), or a peer answering HTTP/0.9 (not
     * HTTP at all) to an http(s) URL. */
    return str_has_prefix(r->url, "http://") ||
                   str_has_prefix(r->url, "https://")
               ? OP_EIO
               : OP_EINVAL;
  default:
    return OP_EIO;
  }
}

static const char *version_name(long v)
{
  switch (v) {
  case CURL_HTTP_VERSION_1_0:
    return "1.0";
  case CURL_HTTP_VERSION_1_1:
    return "1.1";
  case CURL_HTTP_VERSION_2_0:
    return "2";
  case CURL_HTTP_VERSION_3:
    return "3";
  default:
    return "";
  }
}

/* Move a request (already out of the multi) to the done queue. */
static void req_finish(struct httpc_req *r, int err, CURLcode rc)
{
  long code = 0, ver = 0;
  double total = 0;

  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &ver);
  curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &total);
  r->resp.status = code;
  r->resp.http_version = version_name(ver);
  r->resp.total_s = total;
  /* Our own reasons beat libcurl's "Failure writing output". */
  if (r->abort_err)
    str_copy(r->resp.errmsg, r->abort_msg, sizeof(r->resp.errmsg));
  else if (err == OP_ETOOBIG && r->too_big)
    str_fmt(r->resp.errmsg, sizeof(r->resp.errmsg),
            "response exceeds the size limit (%zu body bytes)",
            r->resp.body.max);
  else if (err && !r->resp.errmsg[0])
    str_copy(r->resp.errmsg,
             rc != CURLE_OK ? curl_easy_strerror(rc) : op_strerror(err),
             sizeof(r->resp.errmsg));
  else if (!err)
    r->resp.errmsg[0] = '\0';
  r->err = err;
  r->state = REQ_DONE;
  doneq_push(r->c, r);
  schedule_reap(r->c);
}

/* Take a running request out of the multi. Never from a libcurl callback. */
static void req_detach(struct httpc_req *r)
{
  struct httpc *c = r->c;

  list_unlink(&c->active, r);
  if (r->abort_err)
    c->nabort--;
  if (c->multi)
    curl_multi_remove_handle(c->multi, r->easy);
}

static void drain(struct httpc *c)
{
  struct httpc_req *r;
  CURLMsg *msg;
  CURLcode rc;
  char *priv;
  int left;

  while (c->multi && (msg = curl_multi_info_read(c->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    /* The message dies with remove_handle: read it first. */
    rc = msg->data.result;
    priv = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    r = (struct httpc_req *)priv;
    UTIL_ASSERT(r && r->state == REQ_RUNNING);
    req_detach(r);
    req_finish(r, r->abort_err ? r->abort_err : map_curl_error(r, rc), rc);
  }
}

/* Mark a started request for abortion at the next safe point. */
static void req_abort(struct httpc_req *r, int err, const char *why)
{
  if (r->abort_err)
    return;
  r->abort_err = err;
  str_copy(r->abort_msg, why, sizeof(r->abort_msg));
  if (r->state == REQ_RUNNING)
    r->c->nabort++;
  schedule_reap(r->c);
}

static void abort_all(struct httpc *c, int err, const char *why)
{
  struct httpc_req *r;

  for (r = c->active; r; r = r->next)
    req_abort(r, err, why);
  for (r = c->pending; r; r = r->next)
    req_abort(r, err, why);
}

static void multi_failed(struct httpc *c, CURLMcode mc)
{
  log_error(MOD, "curl_multi_socket_action: %s; failing all transfers",
            curl_multi_strerror(mc));
  c->broken = true;
  abort_all(c, OP_EIO, curl_multi_strerror(mc));
}

/* ---- the safe point: aborts, pending starts, done callbacks ------------ */

static void idle_arm(struct httpc *c);

static int req_add(struct httpc_req *r)
{
  struct httpc *c = r->c;
  CURLMcode mc;

  r->state = REQ_RUNNING;
  r->last_rx = uv_now(c->loop);
  list_push(&c->active, r);
  mc = curl_multi_add_handle(c->multi, r->easy);
  if (mc != CURLM_OK) {
    list_unlink(&c->active, r);
    str_copy(r->resp.errmsg, curl_multi_strerror(mc), sizeof(r->resp.errmsg));
    return OP_EIO;
  }
  if (r->idle_ms > 0)
    idle_arm(c);
  return 0;
}

static void start_pending(struct httpc *c)
{
  struct httpc_req *r;

  while ((r = c->pending)) {
    list_unlink(&c->pending, r);
    if (r->abort_err || req_add(r) < 0)
      req_finish(r, r->abort_err ? r->abort_err : OP_EIO, CURLE_OK);
  }
}

static void reap_aborted(struct httpc *c)
{
  struct httpc_req *r, *next;

  for (r = c->active; r && c->nabort; r = next) {
    next = r->next;
    if (!r->abort_err)
      continue;
    req_detach(r);
    req_finish(r, r->abort_err, CURLE_OK);
  }
}

/* After a CURLMcode failure the transfers are in an unknown state: fail
 * them all and start over with a fresh multi (and connection cache). */
static void recover_multi(struct httpc *c)
{
  struct httpc_req *r;

  abort_all(c, OP_EIO, "libcurl multi handle failed");
  while ((r = c->active)) {
    req_detach(r);
    req_finish(r, r->abort_err, CURLE_OK);
  }
  multi_destroy(c);
  c->broken = false;
  if (multi_create(c) < 0)
    util_fatal("httpc: cannot recreate the libcurl multi handle");
}

static void req_destroy(struct httpc_req *r);

static void run_done(struct httpc *c, struct httpc_req *r)
{
  c->inflight--;
  r->state = REQ_CALLING;
  log_debug(MOD, "%s %s: err=%s status=%ld %.3fs", r->method, r->url,
            op_err_name(r->err), r->resp.status, r->resp.total_s);
  r->done_cb(r, r->err, &r->resp, r->done_arg);
  req_destroy(r);
}

static void shutdown_handles(struct httpc *c)
{
  c->shut = true;
  multi_destroy(c);
  uv_close((uv_handle_t *)&c->curl_timer, on_timer_closed);
  uv_close((uv_handle_t *)&c->reap_timer, on_timer_closed);
  uv_close((uv_handle_t *)&c->idle_timer, on_timer_closed);
}

static void on_reap(uv_timer_t *t)
{
  struct httpc *c = container_of(t, struct httpc, reap_timer);
  struct httpc_req *r;

  for (;;) {
    if (c->closing)
      abort_all(c, OP_ECANCELED, "client closed");
    if (c->broken && !c->in_cb)
      recover_multi(c);
    if (c->pending)
      start_pending(c);
    if (c->nabort)
      reap_aborted(c);
    r = doneq_pop(c);
    if (!r)
      break;
    run_done(c, r); /* may start, cancel, or close */
  }
  if (c->closing && !c->shut)
    shutdown_handles(c);
}

/* ---- idle timeouts ----------------------------------------------------- */

static void on_idle(uv_timer_t *t)
{
  struct httpc *c = container_of(t, struct httpc, idle_timer);
  uint64_t now = uv_now(c->loop);
  struct httpc_req *r;
  char why[96];

  for (r = c->active; r; r = r->next) {
    if (r->idle_ms <= 0 || r->abort_err)
      continue;
    if (now - r->last_rx >= (uint64_t)r->idle_ms) {
      str_fmt(why, sizeof(why), "idle timeout: no data for %ld ms", r->idle_ms);
      req_abort(r, OP_ETIMEDOUT, why);
    }
  }
  idle_arm(c);
}

/* Arm the idle timer for the earliest deadline. Arrivals only update
 * last_rx; an early wake-up just re-arms, which keeps the data path free
 * of timer calls. */
static void idle_arm(struct httpc *c)
{
  uint64_t next = UINT64_MAX, now = uv_now(c->loop), due;
  struct httpc_req *r;

  for (r = c->active; r; r = r->next) {
    if (r->idle_ms <= 0 || r->abort_err)
      continue;
    due = r->last_rx + (uint64_t)r->idle_ms;
    next = UTIL_MIN(next, due);
  }
  if (next == UINT64_MAX)
    uv_timer_stop(&c->idle_timer);
  else
    uv_timer_start(&c->idle_timer, on_idle, next > now ? next - now : 0, 0);
}

/* ---- libcurl easy callbacks (no libcurl calls but getinfo in here) ----- */

static void headers_clear(struct httpc_resp *resp)
{
  size_t i;

  for (i = 0; i < resp->nheaders; i++) {
    free(resp->headers[i].name);
    free(resp->headers[i].value);
  }
  resp->nheaders = 0;
}

static void header_add(struct httpc_req *r, const char *p, size_t len)
{
  struct httpc_resp *resp = &r->resp;
  const char *end = p + len, *colon, *v;

  while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                     end[-1] == '\t'))
    end--;
  colon = memchr(p, ':', (size_t)(end - p));
  if (!colon || colon == p)
    return; /* not a field line (obsolete folding is not supported) */
  for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
    ;
  if (resp->nheaders == r->headers_cap) {
    r->headers_cap = r->headers_cap ? r->headers_cap * 2 : 16;
    resp->headers =
        util_xrealloc(resp->headers, r->headers_cap * sizeof(*resp->headers));
  }
  resp->headers[resp->nheaders].name = util_xstrndup(p, (size_t)(colon - p));
  resp->headers[resp->nheaders].value = util_xstrndup(v, (size_t)(end - v));
  resp->nheaders++;
}

/* End of a header block: learn the status to decide whether the body is
 * streamed (2xx with a data callback) or buffered. */
static void headers_end(struct httpc_req *r)
{
  long code = 0;

  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
  r->resp.status = code;
  r->streaming = r->data_cb && code >= 200 && code < 300;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
  struct httpc_req *r = arg;
  size_t len = size * n;

  if (r->abort_err)
    return 0;
  r->last_rx = uv_now(r->c->loop);
  if (len >= 5 && !memcmp(p, "HTTP/", 5)) {
    /* A new response (after 1xx or a redirect): keep only the final one. */
    headers_clear(&r->resp);
    r->header_bytes = 0;
    r->streaming = false;
    return len;
  }
  if ((len == 2 && p[0] == '\r') || (len == 1 && p[0] == '\n')) {
    headers_end(r);
    return len;
  }
  r->header_bytes += len;
  if (r->header_bytes > MAX_HEADER_BYTES) {
    r->too_big = true;
    return 0;
  }
  header_add(r, p, len);
  return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
  struct httpc_req *r = arg;
  size_t len = size * n;
  int rc;

  if (r->abort_err)
    return CURL_WRITEFUNC_ERROR;
  r->last_rx = uv_now(r->c->loop);
  if (!r->streaming) {
    if (buf_append(&r->resp.body, p, len) < 0) {
      r->too_big = true;
      return CURL_WRITEFUNC_ERROR;
    }
    return len;
  }
  r->c->in_cb++;
  rc = r->data_cb(r, p, len, r->data_arg);
  r->c->in_cb--;
  if (rc)
    req_abort(r, OP_ECANCELED, "aborted by the data callback");
  /* Once aborted (also by httpc_req_cancel or httpc_close from inside the
   * callback) no further data is delivered. */
  return r->abort_err ? CURL_WRITEFUNC_ERROR : len;
}

/* ---- request configuration --------------------------------------------- */

#define SETOPT(e, opt, val)                                                    \
  do {                                                                         \
    CURLcode rc_ = curl_easy_setopt((e), (opt), (val));                        \
    if (rc_ != CURLE_OK)                                                       \
      return rc_;                                                              \
  } while (0)

_Static_assert(sizeof(((struct httpc_resp *)0)->errmsg) >= CURL_ERROR_SIZE,
               "errmsg doubles as CURLOPT_ERRORBUFFER");

static CURLcode setup_common(struct httpc_req *r)
{
  struct httpc *c = r->c;
  CURL *e = r->easy;

  SETOPT(e, CURLOPT_PRIVATE, (char *)r);
  SETOPT(e, CURLOPT_NOSIGNAL, 1L);
  SETOPT(e, CURLOPT_URL, r->url);
  SETOPT(e, CURLOPT_PROTOCOLS_STR, "http,https");
  SETOPT(e, CURLOPT_ERRORBUFFER, r->resp.errmsg);
  SETOPT(e, CURLOPT_WRITEFUNCTION, on_write);
  SETOPT(e, CURLOPT_WRITEDATA, r);
  SETOPT(e, CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(e, CURLOPT_HEADERDATA, r);
  SETOPT(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  SETOPT(e, CURLOPT_USERAGENT, c->user_agent);
  SETOPT(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
  SETOPT(e, CURLOPT_TCP_KEEPALIVE, 1L);
  SETOPT(e, CURLOPT_TCP_KEEPIDLE, c->keepidle_s);
  SETOPT(e, CURLOPT_TCP_KEEPINTVL, UTIL_MIN(c->keepidle_s, KEEPINTVL_MAX_S));
  SETOPT(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  /* Wait for a connection that may multiplex rather than open another one.
   * Only over TLS, where ALPN settles the question during the handshake: on
   * cleartext a request queued behind a silent one (a watch that has not
   * answered yet) would wait for it. */
  if (str_has_prefix(r->url, "https://"))
    SETOPT(e, CURLOPT_PIPEWAIT, 1L);
  /* Never on streams by default: CURLOPT_TIMEOUT covers the whole transfer,
   * queueing included. */
  if (r->timeout_ms > 0)
    SETOPT(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
  return CURLE_OK;
}

static bool method_is(const struct httpc_req *r, const char *m)
{
  return strcmp(r->method, m) == 0;
}

static CURLcode setup_method(struct httpc_req *r)
{
  CURL *e = r->easy;

  if (method_is(r, "GET") && !r->has_body) {
    SETOPT(e, CURLOPT_HTTPGET, 1L);
    return CURLE_OK;
  }
  if (method_is(r, "HEAD")) {
    SETOPT(e, CURLOPT_NOBODY, 1L);
    return CURLE_OK;
  }
  if (r->has_body || method_is(r, "POST") || method_is(r, "PUT") ||
      method_is(r, "PATCH")) {
    /* Borrowed by libcurl until curl_easy_cleanup in req_destroy. */
    SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    SETOPT(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
  }
  if (!method_is(r, "POST"))
    SETOPT(e, CURLOPT_CUSTOMREQUEST, r->method);
  return CURLE_OK;
}

static void slist_add(struct curl_slist **l, const char *line)
{
  struct curl_slist *n = curl_slist_append(*l, line);

  if (!n)
    util_fatal("httpc: out of memory");
  *l = n;
}

static CURLcode setup_headers(struct httpc_req *r)
{
  /* No "Expect: 100-continue" round trip before bodies over 1 KiB, and no
   * libcurl default form Content-Type the caller did not ask for. */
  if (!r->has_expect)
    slist_add(&r->headers, "Expect:");
  if (!r->has_ctype)
    slist_add(&r->headers, "Content-Type:");
  if (r->auth)
    slist_add(&r->headers, r->auth);
  SETOPT(r->easy, CURLOPT_HTTPHEADER, r->headers);
  return CURLE_OK;
}

static CURLcode set_blob(CURL *e, CURLoption opt, const char *pem)
{
  /* NOCOPY: ours is the only copy of the key and it is wiped; it outlives
   * the easy handle (req_destroy cleans the easy up first). */
  struct curl_blob blob = { (void *)pem, strlen(pem), CURL_BLOB_NOCOPY };

  return curl_easy_setopt(e, opt, &blob);
}

static CURLcode setup_tls(struct httpc_req *r)
{
  const struct req_tls *t = &r->tls;
  CURL *e = r->easy;
  CURLcode rc = CURLE_OK;

  if (!r->tls_set)
    return CURLE_OK;
  if (t->ca_pem)
    rc = set_blob(e, CURLOPT_CAINFO_BLOB, t->ca_pem);
  else if (t->ca_file)
    rc = curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
  if (rc == CURLE_OK && t->cert_pem)
    rc = set_blob(e, CURLOPT_SSLCERT_BLOB, t->cert_pem);
  else if (rc == CURLE_OK && t->cert_file)
    rc = curl_easy_setopt(e, CURLOPT_SSLCERT, t->cert_file);
  if (rc == CURLE_OK && t->key_pem)
    rc = set_blob(e, CURLOPT_SSLKEY_BLOB, t->key_pem);
  else if (rc == CURLE_OK && t->key_file)
    rc = curl_easy_setopt(e, CURLOPT_SSLKEY, t->key_file);
  if (rc != CURLE_OK)
    return rc;
  if (t->insecure) {
    SETOPT(e, CURLOPT_SSL_VERIFYPEER, 0L);
    SETOPT(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  return CURLE_OK;
}

static int req_configure(struct httpc_req *r)
{
  CURLcode rc;

  r->easy = curl_easy_init();
  if (!r->easy)
    return OP_ENOMEM;
  rc = setup_common(r);
  if (rc == CURLE_OK)
    rc = setup_method(r);
  if (rc == CURLE_OK)
    rc = setup_headers(r);
  if (rc == CURLE_OK)
    rc = setup_tls(r);
  if (rc == CURLE_OK)
    return 0;
  log_error(MOD, "%s %s: cannot configure the transfer: %s", r->method, r->url,
            curl_easy_strerror(rc));
  return rc == CURLE_OUT_OF_MEMORY ? OP_ENOMEM : OP_EINVAL;
}

/* ---- request lifetime -------------------------------------------------- */

static void tls_free(struct req_tls *t)
{
  free(t->ca_file);
  free(t->ca_pem);
  free(t->cert_file);
  free(t->cert_pem);
  free(t->key_file);
  util_free_secret(t->key_pem);
  memset(t, 0, sizeof(*t));
}

/* Wipe header lines that carry credentials before libcurl frees them. */
static void headers_free(struct curl_slist *l)
{
  struct curl_slist *n;

  for (n = l; n; n = n->next) {
    if (!strncasecmp(n->data, "authorization:", 14) ||
        !strncasecmp(n->data, "x-amz-security-token:", 21))
      util_wipe(n->data, strlen(n->data));
  }
  curl_slist_free_all(l);
}

static void req_destroy(struct httpc_req *r)
{
  /* libcurl borrows body, headers, blobs and errmsg: clean it up first. */
  if (r->easy)
    curl_easy_cleanup(r->easy);
  headers_free(r->headers);
  util_free_secret(r->auth);
  if (r->body) {
    util_wipe(r->body, r->body_len);
    free(r->body);
  }
  tls_free(&r->tls);
  headers_clear(&r->resp);
  free(r->resp.headers);
  buf_cleanup(&r->resp.body);
  free(r->method);
  free(r->url);
  free(r);
}

/* ---- public API -------------------------------------------------------- */

static void check_curl_features(void)
{
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

  if (!(v->features & CURL_VERSION_ASYNCHDNS))
    log_error(MOD,
              "libcurl %s has no asynchronous resolver "
              "(CURL_VERSION_ASYNCHDNS): every name lookup will BLOCK the "
              "event loop; use a libcurl built with threaded or c-ares DNS",
              v->version);
}

int httpc_new(uv_loop_t *loop, const struct httpc_opts *opts,
              struct httpc **out)
{
  static const struct httpc_opts defaults;
  struct httpc *c;
  int rc;

  if (!loop || !out)
    return OP_EINVAL;
  if (!opts)
    opts = &defaults;
  if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
    return OP_EIO;
  check_curl_features();
  c = util_xcalloc(1, sizeof(*c));
  c->loop = loop;
  c->max_body = opts->max_body ? opts->max_body : DEFAULT_MAX_BODY;
  c->connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                               : DEFAULT_CONNECT_MS;
  c->keepidle_s =
      opts->keepalive_idle_s > 0 ? opts->keepalive_idle_s : DEFAULT_KEEPIDLE_S;
  c->max_host_conns = opts->max_host_conns;
  c->user_agent =
      util_xstrdup(opts->user_agent ? opts->user_agent
                                    : "aws-account-operator/" AAO_VERSION);
  rc = multi_create(c);
  if (rc < 0) {
    free(c->user_agent);
    free(c);
    curl_global_cleanup();
    return rc;
  }
  uv_timer_init(loop, &c->curl_timer);
  uv_timer_init(loop, &c->reap_timer);
  uv_timer_init(loop, &c->idle_timer);
  c->curl_timer.data = c->reap_timer.data = c->idle_timer.data = c;
  c->open_handles = 3;
  *out = c;
  return 0;
}

static void cancel_done(struct httpc_req *r)
{
  /* Completed, callback not run yet: the caller asked for cancellation, so
   * it gets the cancellation contract, not the late result. */
  r->err = OP_ECANCELED;
  str_copy(r->resp.errmsg, "canceled", sizeof(r->resp.errmsg));
}

void httpc_close(struct httpc *c, void (*cb)(void *arg), void *arg)
{
  struct httpc_req *r;

  if (c->closing) {
    log_error(MOD, "httpc_close called twice; ignored");
    return;
  }
  c->closing = true;
  c->close_cb = cb;
  c->close_arg = arg;
  abort_all(c, OP_ECANCELED, "client closed");
  for (r = c->done_head; r; r = r->next)
    cancel_done(r);
  schedule_reap(c);
}

size_t httpc_inflight(const struct httpc *c)
{
  return c->inflight;
}

const char *httpc_resp_header(const struct httpc_resp *r, const char *name)
{
  size_t i;

  for (i = 0; i < r->nheaders; i++) {
    if (!strcasecmp(r->headers[i].name, name))
      return r->headers[i].value;
  }
  return NULL;
}

struct httpc_req *httpc_req_new(struct httpc *c, const char *method,
                                const char *url)
{
  struct httpc_req *r;

  if (!c || !method || !url || !*method || !*url)
    return NULL;
  r = util_xcalloc(1, sizeof(*r));
  r->c = c;
  r->state = REQ_NEW;
  r->method = util_xstrdup(method);
  r->url = util_xstrdup(url);
  /* Responses may carry credentials (Secrets, CreateAccessKey). */
  buf_init_secret(&r->resp.body, c->max_body);
  r->resp.http_version = "";
  return r;
}

void httpc_req_free(struct httpc_req *r)
{
  if (!r)
    return;
  UTIL_ASSERT(r->state == REQ_NEW);
  req_destroy(r);
}

static bool has_crlf(const char *s)
{
  return strpbrk(s, "\r\n");
}

int httpc_req_header(struct httpc_req *r, const char *name, const char *value)
{
  char *line;

  if (str_empty(name) || !value || has_crlf(name) || has_crlf(value) ||
      strpbrk(name, ": \t"))
    return OP_EINVAL;
  /* "Name;" is libcurl's spelling of a header with an empty value. */
  line = *value ? str_printf_new("%s: %s", name, value)
                : str_printf_new("%s;", name);
  slist_add(&r->headers, line);
  if (str_case_eq(name, "Authorization"))
    util_wipe(line, strlen(line));
  free(line);
  if (str_case_eq(name, "Content-Type"))
    r->has_ctype = true;
  if (str_case_eq(name, "Expect"))
    r->has_expect = true;
  return 0;
}

void httpc_req_body(struct httpc_req *r, const void *data, size_t len)
{
  if (r->body) {
    util_wipe(r->body, r->body_len);
    free(r->body);
  }
  r->body = util_xmalloc(len + 1);
  if (len)
    memcpy(r->body, data, len);
  r->body[len] = '\0';
  r->body_len = len;
  r->has_body = true;
}

void httpc_req_timeout_ms(struct httpc_req *r, long ms)
{
  r->timeout_ms = ms > 0 ? ms : 0;
}

void httpc_req_idle_timeout_ms(struct httpc_req *r, long ms)
{
  r->idle_ms = ms > 0 ? ms : 0;
}

void httpc_req_max_body(struct httpc_req *r, size_t max)
{
  r->resp.body.max = max ? max : r->c->max_body;
}

void httpc_req_stream(struct httpc_req *r, httpc_data_cb cb, void *arg)
{
  r->data_cb = cb;
  r->data_arg = arg;
}

static char *dup_opt(const char *s)
{
  return s ? util_xstrdup(s) : NULL;
}

void httpc_req_tls(struct httpc_req *r, const struct httpc_tls *tls)
{
  tls_free(&r->tls);
  r->tls_set = tls;
  if (!tls)
    return;
  r->tls.ca_file = dup_opt(tls->ca_file);
  r->tls.ca_pem = dup_opt(tls->ca_pem);
  r->tls.cert_file = dup_opt(tls->cert_file);
  r->tls.cert_pem = dup_opt(tls->cert_pem);
  r->tls.key_file = dup_opt(tls->key_file);
  r->tls.key_pem = dup_opt(tls->key_pem);
  r->tls.insecure = tls->insecure_skip_verify;
}

void httpc_req_bearer(struct httpc_req *r, const char *token)
{
  struct buf b;

  util_free_secret(r->auth);
  r->auth = NULL;
  if (!token)
    return;
  if (has_crlf(token)) {
    log_error(MOD, "%s %s: bearer token contains CR/LF; not sent", r->method,
              r->url);
    return;
  }
  buf_init_secret(&b, strlen(token) + 64);
  buf_append_str(&b, "Authorization: Bearer ");
  buf_append_str(&b, token);
  r->auth = buf_take(&b, NULL);
}

void httpc_req_set_data(struct httpc_req *r, void *data)
{
  r->user = data;
}

void *httpc_req_data(const struct httpc_req *r)
{
  return r->user;
}

const char *httpc_req_url(const struct httpc_req *r)
{
  return r->url;
}

const char *httpc_req_method(const struct httpc_req *r)
{
  return r->method;
}

int httpc_req_start(struct httpc_req *r, httpc_done_cb cb, void *arg)
{
  struct httpc *c = r->c;
  int rc;

  UTIL_ASSERT(r->state == REQ_NEW && cb);
  if (c->closing) {
    req_destroy(r);
    return OP_ESHUTDOWN;
  }
  r->done_cb = cb;
  r->done_arg = arg;
  rc = req_configure(r);
  if (rc == 0 && !c->in_cb && !c->broken)
    rc = req_add(r);
  else if (rc == 0) {
    /* libcurl refuses add_handle from inside its callbacks: defer. */
    r->state = REQ_PENDING;
    list_push(&c->pending, r);
    schedule_reap(c);
  }
  if (rc < 0) {
    req_destroy(r);
    return rc;
  }
  c->inflight++;
  return 0;
}

void httpc_req_cancel(struct httpc_req *r)
{
  switch (r->state) {
  case REQ_PENDING:
  case REQ_RUNNING:
    req_abort(r, OP_ECANCELED, "canceled");
    break;
  case REQ_DONE:
    cancel_done(r);
    break;
  case REQ_CALLING:
    break; /* its own done callback: nothing left to cancel */
  case REQ_NEW:
    log_warn(MOD,
             "%s %s: cancel of a request never started; use "
             "httpc_req_free",
             r->method, r->url);
    break;
  }
}
