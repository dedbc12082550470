/* The AWS client object: options, governor buckets and their queues, the
 * CreateAccount slots, metrics, closing. See transport.h. */
#include <stdlib.h>
#include <string.h>

#include "aws/core/transport_int.h"
#include "metrics/metrics.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

static uint64_t clock_ms(const struct aws_client *c)
{
  return c->o.clock ? c->o.clock(c->o.clock_arg) : time_mono_ms();
}

static void metrics_init(struct aws_client *c)
{
  static const char *const dur_l[] = { "controller", "method", "resource",
                                       "status",     "error",  "error_source",
                                       NULL };
  static const char *const op_l[] = { "service", "operation", NULL };
  static const double one[] = { 1 };
  struct met_registry *r = c->o.metrics;

  c->m_dur =
      met_histogram(r, "aws_account_operator_api_request_duration_seconds",
                    "Distribution of the number of seconds an AWS API "
                    "request takes",
                    one, 1, dur_l);
  c->m_thr = met_counter(r, "aws_account_operator_api_throttles_total",
                         "AWS API answers classified as throttling", op_l);
  c->m_retry = met_counter(r, "aws_account_operator_api_retries_total",
                           "AWS API request retries", op_l);
  c->m_slots = met_gauge(r, "aws_account_operator_create_account_in_flight",
                         "CreateAccount requests holding a slot", NULL);
  c->m_slots_wait = met_gauge(r, "aws_account_operator_create_account_waiting",
                              "Callers waiting for a CreateAccount slot", NULL);
  met_family_const_label(c->m_dur, "name", "aws-account-operator");
  met_family_const_label(c->m_thr, "name", "aws-account-operator");
  met_family_const_label(c->m_retry, "name", "aws-account-operator");
  met_family_const_label(c->m_slots, "name", "aws-account-operator");
  met_family_const_label(c->m_slots_wait, "name", "aws-account-operator");
}

static void opts_defaults(struct aws_client_opts *o)
{
  if (!o->max_attempts)
    o->max_attempts = 3;
  if (!o->backoff_base_ms)
    o->backoff_base_ms = 100;
  if (!o->backoff_cap_ms)
    o->backoff_cap_ms = 20000;
  if (!o->timeout_ms)
    o->timeout_ms = 30000;
  if (!o->create_account_cap)
    o->create_account_cap = 5;
  if (o->governor_rate <= 0)
    o->governor_rate = 10;
  if (o->governor_min_rate <= 0)
    o->governor_min_rate = 0.5;
}

int aws_client_new(uv_loop_t *loop, struct httpc *http,
                   const struct aws_client_opts *o, struct aws_client **out)
{
  struct aws_client_opts def = { 0 };
  struct aws_client *c;
  const char *region;
  int rc;

  *out = NULL;
  c = util_xcalloc(1, sizeof(*c));
  c->o = o ? *o : def;
  opts_defaults(&c->o);
  rc = aws_endpoints_new(c->o.partition, c->o.endpoint_url, NULL, &c->ep);
  if (rc) {
    free(c);
    return rc;
  }
  region = c->o.default_region
               ? c->o.default_region
               : aws_partition_default_region(aws_endpoints_partition(c->ep));
  str_copy(c->default_region, region, sizeof(c->default_region));
  c->o.partition = NULL;
  c->o.default_region = NULL;
  c->o.endpoint_url = NULL;
  c->loop = loop;
  c->http = http;
  c->kc = sigv4_key_cache_new();
  if (c->o.rng_seed)
    rng_seed(&c->rng, c->o.rng_seed);
  else
    rng_seed_os(&c->rng);
  aws_retry_budget_init(&c->budget, c->o.retry_tokens);
  map_init(&c->govs);
  c->slot_cap = c->o.create_account_cap;
  if (c->o.metrics)
    metrics_init(c);
  *out = c;
  return 0;
}

long aws_client_skew(const struct aws_client *c)
{
  return c->skew_s;
}

const char *aws_client_partition(const struct aws_client *c)
{
  return aws_endpoints_partition(c->ep);
}

int aws_client_set_partition(struct aws_client *c, const char *partition)
{
  int rc = aws_endpoints_set_partition(c->ep, partition);

  /* a region of the old partition cannot sign for the new one */
  if (!rc && !str_eq(aws_partition_of_region(c->default_region), partition))
    str_copy(c->default_region, aws_partition_default_region(partition),
             sizeof(c->default_region));
  return rc;
}

const char *aws_client_default_region(const struct aws_client *c)
{
  return c->default_region;
}

uv_loop_t *aws_client_loop(const struct aws_client *c)
{
  return c->loop;
}

size_t aws_client_inflight(const struct aws_client *c)
{
  return c->inflight;
}

/* ---- governor ---- */

static void gov_timer_cb(uv_timer_t *t);

static struct aws_gov *gov_get(struct aws_client *c, struct aws_call_st *k)
{
  const char *acct = k->call.account ? k->call.account
                     : k->creds      ? aws_creds_label(k->creds)
                                     : "anonymous";
  char *key = str_printf_new("%s|%s", k->call.service, acct);
  struct aws_gov *g = map_get(&c->govs, key);

  if (!g) {
    g = util_xcalloc(1, sizeof(*g));
    g->c = c;
    aws_gov_bucket_init(&g->b, c->o.governor_rate, c->o.governor_min_rate,
                        c->o.governor_burst, clock_ms(c));
    uv_timer_init(c->loop, &g->timer);
    g->timer.data = g;
    c->handles++;
    g->key = util_xstrdup(key);
    map_put(&c->govs, key, g, NULL);
  }
  g->users++;
  free(key);
  return g;
}

static void gov_closed(uv_handle_t *h);

static bool gov_idle(const struct aws_gov *g)
{
  return g->users == 0 && !g->fg.head && !g->bg.head &&
         g->b.rate >= g->b.max_rate &&
         !uv_is_active((const uv_handle_t *)&g->timer);
}

/* Drop idle buckets when the table has grown (one per account and
 * service adds up with thousands of accounts). */
static void gov_evict(struct aws_client *c)
{
  struct aws_gov **idle;
  size_t it = 0, n = 0, i;
  const char *key;
  void *v;

  if (map_len(&c->govs) <= AWS_GOV_EVICT_ABOVE)
    return;
  idle = util_xcalloc(map_len(&c->govs), sizeof(*idle));
  while (map_next(&c->govs, &it, &key, &v))
    if (gov_idle(v))
      idle[n++] = v;
  for (i = 0; i < n; i++) {
    map_del(&c->govs, idle[i]->key);
    uv_close((uv_handle_t *)&idle[i]->timer, gov_closed);
  }
  free(idle);
}

void aws__gov_release(struct aws_call_st *k)
{
  if (!k->gov)
    return;
  k->gov->users--;
  k->gov = NULL;
}

static void gov_arm(struct aws_gov *g)
{
  uint64_t wait = aws_gov_take(&g->b, clock_ms(g->c));

  if (wait == 0) {
    /* A token is available right now: give it back and run the timer at
     * once so the queue drains in order. */
    g->b.tokens += 1.0;
    wait = 0;
  }
  uv_timer_start(&g->timer, gov_timer_cb, wait, 0);
}

static void q_push(struct aws_gov_q *q, struct aws_call_st *k)
{
  k->qnext = NULL;
  if (q->tail)
    q->tail->qnext = k;
  else
    q->head = k;
  q->tail = k;
}

static struct aws_call_st *q_pop(struct aws_gov_q *q)
{
  struct aws_call_st *k = q->head;

  q->head = k->qnext;
  if (!q->head)
    q->tail = NULL;
  k->qnext = NULL;
  return k;
}

/* The queue whose head goes next: reconciles' calls first (a claim's
 * MoveAccount must not wait behind a listing of thousands of accounts),
 * unless the oldest background call has waited its limit. */
static struct aws_gov_q *gov_next(struct aws_gov *g, uint64_t now)
{
  if (g->bg.head && (!g->fg.head ||
                     now - g->bg.head->queued_ms >= AWS_GOV_BACKGROUND_WAIT_MS))
    return &g->bg;
  return g->fg.head ? &g->fg : NULL;
}

static void gov_timer_cb(uv_timer_t *t)
{
  struct aws_gov *g = t->data;
  struct aws_gov_q *q;

  while ((q = gov_next(g, clock_ms(g->c))) &&
         aws_gov_take(&g->b, clock_ms(g->c)) == 0)
    aws__call_go(q_pop(q));
  if (g->fg.head || g->bg.head)
    gov_arm(g);
}

void aws__gov_enter(struct aws_call_st *k)
{
  struct aws_client *c = k->c;
  struct aws_gov *g = k->gov;
  bool bg = k->call.background;

  if (!g) {
    gov_evict(c);
    g = k->gov = gov_get(c, k);
  }

  k->phase = CALL_GOV;
  /* A reconcile's call passes waiting background calls. */
  if (!g->fg.head && (!bg || !g->bg.head) &&
      aws_gov_take(&g->b, clock_ms(c)) == 0) {
    aws__call_go(k);
    return;
  }
  k->queued_ms = clock_ms(c);
  q_push(bg ? &g->bg : &g->fg, k);
  if (!uv_is_active((uv_handle_t *)&g->timer))
    gov_arm(g);
}

void aws__gov_dequeue(struct aws_call_st *k)
{
  struct aws_gov_q *q = k->call.background ? &k->gov->bg : &k->gov->fg;
  struct aws_call_st **pp, *prev = NULL;

  for (pp = &q->head; *pp; prev = *pp, pp = &(*pp)->qnext) {
    if (*pp == k) {
      *pp = k->qnext;
      if (q->tail == k)
        q->tail = prev;
      k->qnext = NULL;
      return;
    }
  }
}

/* ---- metrics ---- */

void aws__metrics_call(struct aws_client *c, struct aws_call_st *k, int err,
                       const struct aws_resp *resp,
                       const struct aws_error *aerr)
{
  char status[16];
  const char *error = "", *source = "";

  if (!c->m_dur)
    return;
  str_fmt(status, sizeof(status), "%ld",
          resp ? resp->status : (aerr ? aerr->http_status : 0));
  if (err && aerr && aerr->http_status) {
    error = aerr->code[0] ? aerr->code : "{OTHER}";
    source = "aws";
  } else if (err) {
    error = op_err_name(err);
    source = "{OTHER}";
  }
  met_observe(c->m_dur,
              MET_LV(k->call.controller, k->call.operation, k->ep.host, status,
                     error, source),
              (double)(time_mono_ms() - k->t0) / 1000.0);
}

void aws__metrics_throttle(struct aws_client *c, struct aws_call_st *k)
{
  if (c->m_thr)
    met_inc(c->m_thr, MET_LV(k->call.service, k->call.operation));
}

void aws__metrics_retry(struct aws_client *c, struct aws_call_st *k)
{
  if (c->m_retry)
    met_inc(c->m_retry, MET_LV(k->call.service, k->call.operation));
}

static void slots_gauge(struct aws_client *c)
{
  if (c->m_slots) {
    met_set(c->m_slots, NULL, c->slots_used);
    met_set(c->m_slots_wait, NULL, c->slots_waiting);
  }
}

/* ---- CreateAccount slots ---- */

int aws_create_slot_acquire(struct aws_client *c, aws_slot_cb cb, void *arg,
                            struct aws_create_slot **out)
{
  struct aws_create_slot *s;

  *out = NULL;
  if (c->closing)
    return OP_ESHUTDOWN;
  if (!cb)
    return OP_EINVAL;
  s = util_xcalloc(1, sizeof(*s));
  s->c = c;
  s->cb = cb;
  s->arg = arg;
  *out = s;
  if (c->slots_used < c->slot_cap && !c->wait_head) {
    c->slots_used++;
    s->held = true;
    slots_gauge(c);
    cb(0, s, arg);
    return 0;
  }
  if (c->wait_tail)
    c->wait_tail->next = s;
  else
    c->wait_head = s;
  c->wait_tail = s;
  c->slots_waiting++;
  slots_gauge(c);
  return 0;
}

static int unlink_waiter(struct aws_client *c, struct aws_create_slot *s)
{
  struct aws_create_slot **pp, *prev = NULL;

  for (pp = &c->wait_head; *pp; prev = *pp, pp = &(*pp)->next) {
    if (*pp == s) {
      *pp = s->next;
      if (c->wait_tail == s)
        c->wait_tail = prev;
      c->slots_waiting--;
      return 1;
    }
  }
  return 0;
}

/* Hand free slots to waiters, oldest first. */
static void slots_grant(struct aws_client *c)
{
  while (c->wait_head && c->slots_used < c->slot_cap) {
    struct aws_create_slot *w = c->wait_head;
    unlink_waiter(c, w);
    c->slots_used++;
    w->held = true;
    slots_gauge(c);
    w->cb(0, w, w->arg);
  }
}

void aws_create_slot_release(struct aws_create_slot *s)
{
  struct aws_client *c;

  if (!s)
    return;
  c = s->c;
  if (s->held) {
    c->slots_used--;
    free(s);
    slots_gauge(c);
    if (!c->closing)
      slots_grant(c);
    else
      aws__client_maybe_freed(c);
  } else if (unlink_waiter(c, s)) {
    slots_gauge(c);
    s->cb(OP_ECANCELED, s, s->arg);
    free(s);
  }
}

unsigned aws_create_slots_in_use(const struct aws_client *c)
{
  return c->slots_used;
}

unsigned aws_create_slots_waiting(const struct aws_client *c)
{
  return c->slots_waiting;
}

/* ---- closing ---- */

static void gov_closed(uv_handle_t *h)
{
  struct aws_gov *g = h->data;
  struct aws_client *c = g->c;

  free(g->key);
  free(g);
  c->handles--;
  aws__client_maybe_freed(c);
}

void aws__client_maybe_freed(struct aws_client *c)
{
  void (*cb)(void *);
  void *arg;

  if (!c->closing || c->freed || c->inflight || c->handles || c->slots_used)
    return;
  c->freed = true;
  cb = c->close_cb;
  arg = c->close_arg;
  map_cleanup(&c->govs, NULL, NULL);
  aws_endpoints_free(c->ep);
  sigv4_key_cache_free(c->kc);
  free(c);
  if (cb)
    cb(arg);
}

static void close_govs(struct aws_client *c)
{
  size_t it = 0;
  const char *key;
  void *v;

  while (map_next(&c->govs, &it, &key, &v)) {
    struct aws_gov *g = v;
    uv_close((uv_handle_t *)&g->timer, gov_closed);
  }
}

void aws_client_close(struct aws_client *c, void (*cb)(void *arg), void *arg)
{
  struct aws_create_slot *w;

  c->closing = true;
  c->close_cb = cb;
  c->close_arg = arg;
  while ((w = c->wait_head) != NULL) {
    unlink_waiter(c, w);
    w->cb(OP_ECANCELED, w, w->arg);
    free(w);
  }
  slots_gauge(c);
  aws__calls_cancel(c);
  close_govs(c);
  c->handles++; /* hold until this function is done */
  c->handles--;
  aws__client_maybe_freed(c);
}
