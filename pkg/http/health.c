/* /healthz and /readyz: named checks run at request time. */
#include "http/health.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http/httpd.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define HEALTH_MSG_MAX 256

/* Owned by its set; name freed with it. */
struct check {
  char *name;
  health_check_fn fn;
  void *arg;
  struct check *next;
};

/* One endpoint's checks in registration order (the output order). */
struct check_set {
  const char *endpoint; /* "healthz" or "readyz" */
  struct check *head, **tail;
};

struct health {
  struct check_set live, ready;
};

struct health *health_new(void)
{
  struct health *hl = util_xcalloc(1, sizeof(*hl));

  hl->live.endpoint = "healthz";
  hl->live.tail = &hl->live.head;
  hl->ready.endpoint = "readyz";
  hl->ready.tail = &hl->ready.head;
  return hl;
}

static void set_free(struct check_set *s)
{
  struct check *c, *next;

  for (c = s->head; c; c = next) {
    next = c->next;
    free(c->name);
    free(c);
  }
}

void health_free(struct health *hl)
{
  if (!hl)
    return;
  set_free(&hl->live);
  set_free(&hl->ready);
  free(hl);
}

static bool valid_check_name(const char *s)
{
  if (str_empty(s))
    return false;
  for (; *s; s++) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || strchr("-_.", *s)))
      return false;
  }
  return true;
}

static int add_check(struct check_set *s, const char *name, health_check_fn fn,
                     void *arg)
{
  struct check *c;

  if (!fn || !valid_check_name(name))
    return OP_EINVAL;
  for (c = s->head; c; c = c->next)
    if (strcmp(c->name, name) == 0)
      return OP_EEXIST;
  c = util_xcalloc(1, sizeof(*c));
  c->name = util_xstrdup(name);
  c->fn = fn;
  c->arg = arg;
  *s->tail = c;
  s->tail = &c->next;
  return 0;
}

int health_add_liveness(struct health *hl, const char *name, health_check_fn fn,
                        void *arg)
{
  return add_check(&hl->live, name, fn, arg);
}

int health_add_readiness(struct health *hl, const char *name,
                         health_check_fn fn, void *arg)
{
  return add_check(&hl->ready, name, fn, arg);
}

/* "verbose" as a query parameter, with no value or a true-ish one. */
static bool query_verbose(const char *q)
{
  size_t n = strlen("verbose");
  bool v;

  while (q && *q) {
    if (strncmp(q, "verbose", n) == 0 && (q[n] == '\0' || q[n] == '&'))
      return true;
    if (strncmp(q, "verbose=", n + 1) == 0) {
      char val[16];
      size_t len = strcspn(q + n + 1, "&");
      if (len < sizeof(val)) {
        memcpy(val, q + n + 1, len);
        val[len] = '\0';
        if (len == 0 || (str_to_bool(val, &v) == 0 && v))
          return true;
      }
    }
    q = strchr(q, '&');
    if (q)
      q++;
  }
  return false;
}

static void serve(const struct httpd_req *req, struct httpd_resp *resp,
                  void *arg)
{
  const struct check_set *s = arg;
  bool verbose = query_verbose(req->query), failed = false;
  const struct check *c;
  struct buf *b = &resp->body;
  char msg[HEALTH_MSG_MAX];
  int rc;

  for (c = s->head; c; c = c->next) {
    msg[0] = '\0';
    rc = c->fn(c->arg, msg, sizeof(msg));
    msg[sizeof(msg) - 1] = '\0';
    for (char *p = msg; (p = strpbrk(p, "\r\n"));)
      *p = ' '; /* one line per check */
    if (rc == 0) {
      buf_printf(b, "[+]%s ok\n", c->name);
      continue;
    }
    failed = true;
    if (!verbose)
      buf_printf(b, "[-]%s failed: reason withheld\n", c->name);
    else
      buf_printf(b, "[-]%s failed: %s\n", c->name,
                 msg[0] ? msg : op_strerror(rc));
  }
  resp->status = failed ? 503 : 200;
  if (failed || verbose) {
    buf_printf(b, "%s check %s\n", s->endpoint, failed ? "failed" : "passed");
    return;
  }
  buf_reset(b);
  buf_append_str(b, "ok");
}

int health_register(struct health *hl, struct httpd *d)
{
  int rc = httpd_route(d, "/healthz", serve, &hl->live);

  return rc ? rc : httpd_route(d, "/readyz", serve, &hl->ready);
}
