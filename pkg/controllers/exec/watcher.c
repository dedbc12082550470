/* The total-account watcher (as upstream; exec.h): ListAccounts (ACTIVE)
 * + ListCreateAccountStatus IN_PROGRESS, every page, every 5 minutes, at
 * start and when the ConfigMap changes. */
#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "controllers/exec/exec.h"
#include "controllers/exec/metrics.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "util/err.h"
#include "util/map.h"
#include "util/str.h"

struct exec_watcher {
  struct exec_watcher_opts o;
  uv_timer_t timer;
  bool timer_init, running, again, closing, ok;
  /* the timer holds a failed listing's early retry, not the interval */
  bool retrying;
  unsigned polls;
  long long total, in_progress, active;
  long long n_active, n_prog; /* the poll in progress */
  unsigned own_at_start, own_seen;
  char token[2048];
  json_t *listing, *building;
  time_t listing_started, started;
  struct map own; /* keys with a CreateAccount in flight */
  /* CreateAccount calls sent by this process; at the start of the
   * listing the current total comes from (they raise the total until the
   * next listing counts them). */
  unsigned long long sent, sent_at_start, sent_seen;
  /* Of those, the ones seen SUCCEEDED (one account each, which no listing
   * since their call has counted); at the listing's start and the good
   * listing's. A success while a listing runs tells on that listing (it may
   * have missed the account, between its pages): the counts differ then. */
  unsigned long long done_ok, ok_at_start, ok_seen;
  /* The total may be off: a request failed or ended unseen (it counts though
   * it made no account), or one was sent while a listing ran (it may count
   * twice); _building: the same for the running listing's result. */
  bool unsure, unsure_building;
  /* Durations (s) of the latest completed creations, a ring. */
  double dur[EXEC_WATCH_DURATIONS];
  size_t ndur, dur_next;
  void (*slot_fn)(void *arg);
  void *slot_arg;
  char partition[32]; /* the ConfigMap's when a listing was last asked */
  struct {
    void (*fn)(void *arg);
    void *arg;
  } ls[EXEC_WATCH_MAX_LISTENERS];
  size_t nls;
};

void exec_watcher_on_change(struct exec_watcher *w, void (*fn)(void *arg),
                            void *arg)
{
  if (!w)
    return;
  if (!fn) {
    w->nls = 0;
    return;
  }
  if (w->nls < EXEC_WATCH_MAX_LISTENERS) {
    w->ls[w->nls].fn = fn;
    w->ls[w->nls].arg = arg;
    w->nls++;
  }
}

static const char *const car_states[] = { "IN_PROGRESS" };

bool exec_limit_allows(bool polled_ok, long long total, const struct opcfg *c)
{
  if (!polled_ok || !c || !c->has_account_limit)
    return false;
  return total < c->account_limit;
}

bool exec_slot_free(unsigned own, long long in_progress, unsigned cap)
{
  if (cap == 0)
    cap = 5;
  if (in_progress < 0)
    in_progress = 0;
  return (long long)own + in_progress < (long long)cap;
}

static void list_accounts(struct exec_watcher *w);
static void list_cars(struct exec_watcher *w);
static void on_timer(uv_timer_t *t);
static void poll_for(struct exec_watcher *w, const char *why);

static void watcher_free(struct exec_watcher *w)
{
  json_decref(w->listing);
  json_decref(w->building);
  map_cleanup(&w->own, NULL, NULL);
  free(w);
}

static void timer_closed(uv_handle_t *h)
{
  struct exec_watcher *w = h->data;

  if (!w->running)
    watcher_free(w);
  else
    w->timer_init = false;
}

/* The listed total plus our creations the listing has not seen. */
static long long current_total(const struct exec_watcher *w)
{
  return w->total + (long long)(w->sent - w->sent_seen);
}

/* The gauge shows the total the limit is checked against: without a
 * listing at rest it is the listing's plus our creations since. */
static void publish_total(const struct exec_watcher *w)
{
  if (w->o.metrics && w->o.metrics->aws_accounts)
    met_set(w->o.metrics->aws_accounts, NULL, (double)current_total(w));
}

/* Without a listing the total is exact when every request sent since the
 * last listing began (counted once each, at the call) SUCCEEDED after it,
 * and nothing made it unsure. */
static bool total_exact(const struct exec_watcher *w)
{
  return !w->unsure && w->sent - w->sent_seen == w->done_ok - w->ok_seen;
}

/* A good listing: the total, IN_PROGRESS and what it has seen. */
static void take_listing(struct exec_watcher *w)
{
  /* a good listing (after the ConfigMap came, say) makes the retry
   * pointless: it would list the organization again 30 s later, in
   * whatever the operator is doing then; the next is an interval away */
  if (w->retrying && w->timer_init)
    uv_timer_start(&w->timer, on_timer, w->o.interval_ms, w->o.interval_ms);
  w->retrying = false;
  w->active = w->n_active;
  w->in_progress = w->n_prog;
  w->total = w->n_active + w->n_prog;
  w->own_seen = w->own_at_start;
  w->sent_seen = w->sent_at_start;
  w->ok_seen = w->ok_at_start;
  w->unsure = w->unsure_building;
  /* one ended while it ran, at rest now: it may miss that account */
  if (!map_len(&w->own) && !total_exact(w))
    w->again = true;
  json_decref(w->listing);
  w->listing = w->building;
  w->building = NULL;
  w->listing_started = w->started;
  publish_total(w);
  log_debug("watcher", "%lld accounts (%lld ACTIVE, %lld IN_PROGRESS)",
            w->total, w->active, w->in_progress);
}

static void finish(struct exec_watcher *w, int err, const char *what)
{
  bool was_ok = w->ok;
  long long was_prog = w->in_progress;
  long long was_total = current_total(w);

  w->running = false;
  w->polls++;
  if (w->closing) {
    if (!w->timer_init)
      watcher_free(w);
    return;
  }
  w->ok = err == 0;
  if (err) {
    log_warn("watcher", "%s failed: %s; account creation blocked", what,
             op_strerror(err));
    if (w->timer_init && !w->again) { /* retry sooner than the interval */
      uv_timer_start(&w->timer, on_timer, EXEC_WATCH_RETRY_MS,
                     w->o.interval_ms);
      w->retrying = true;
    }
  } else {
    take_listing(w);
  }
  if (was_ok != w->ok || was_prog != w->in_progress ||
      was_total != current_total(w))
    for (size_t i = 0; i < w->nls; i++)
      w->ls[i].fn(w->ls[i].arg);
  if (w->again) {
    w->again = false;
    poll_for(w, "asked or needed while one ran");
  }
}

static void add_account(struct exec_watcher *w, const struct aws_org_account *a)
{
  json_t *o = json_object();

  json_object_set_new(o, "id", json_string(a->id ? a->id : ""));
  json_object_set_new(o, "email", json_string(a->email ? a->email : ""));
  json_object_set_new(o, "status", json_string(a->status ? a->status : ""));
  json_array_append_new(w->building, o);
  if (str_eq(a->status, "ACTIVE"))
    w->n_active++;
}

static void accounts_done(int err, const struct aws_error *aerr,
                          const struct aws_org_accounts_result *res, void *arg)
{
  struct exec_watcher *w = arg;

  (void)aerr;
  if (err || w->closing)
    return finish(w, err ? err : OP_ECANCELED, "ListAccounts");
  for (size_t i = 0; i < res->n; i++)
    add_account(w, &res->v[i]);
  if (!str_empty(res->next_token)) {
    str_copy(w->token, res->next_token, sizeof(w->token));
    return list_accounts(w);
  }
  w->token[0] = 0;
  list_cars(w);
}

static void cars_done(int err, const struct aws_error *aerr,
                      const struct aws_car_status_list_result *res, void *arg)
{
  struct exec_watcher *w = arg;

  (void)aerr;
  if (err || w->closing)
    return finish(w, err ? err : OP_ECANCELED, "ListCreateAccountStatus");
  for (size_t i = 0; i < res->n; i++)
    if (str_eq(res->v[i].state, "IN_PROGRESS"))
      w->n_prog++;
  if (!str_empty(res->next_token)) {
    str_copy(w->token, res->next_token, sizeof(w->token));
    return list_cars(w);
  }
  finish(w, 0, NULL);
}

static int target(struct exec_watcher *w, struct aws_target *t)
{
  memset(t, 0, sizeof(*t));
  t->creds = exec_aws_mgmt(w->o.aws);
  t->controller = "accountwatcher";
  /* a listing is hundreds of pages in a large organization: reconciles'
   * Organizations calls go first */
  t->background = true;
  /* no poll before the ConfigMap: it names the partition (fedramp) */
  if (w->o.cfg && !exec_cfg_get(w->o.cfg))
    return OP_ENOTFOUND;
  return t->creds ? 0 : OP_ENOTFOUND;
}

static void list_accounts(struct exec_watcher *w)
{
  struct aws_api *api = exec_aws_api(w->o.aws);
  struct aws_org_page_req rq = { .next_token = w->token[0] ? w->token : NULL };
  struct aws_target t;
  int rc = target(w, &t);

  if (!rc)
    rc = api->list_accounts(api, &t, &rq, accounts_done, w);
  if (rc)
    finish(w, rc, "ListAccounts");
}

static void list_cars(struct exec_watcher *w)
{
  struct aws_api *api = exec_aws_api(w->o.aws);
  struct aws_list_car_status_req rq = {
    .states = car_states,
    .nstates = 1,
    .next_token = w->token[0] ? w->token : NULL,
  };
  struct aws_target t;
  int rc = target(w, &t);

  if (!rc)
    rc = api->list_create_account_status(api, &t, &rq, cars_done, w);
  if (rc)
    finish(w, rc, "ListCreateAccountStatus");
}

/* why: for the debug log (each listing costs a page per 20 accounts). */
static void poll_for(struct exec_watcher *w, const char *why)
{
  if (w->closing)
    return;
  log_debug("watcher", "listing the organization: %s%s", why,
            w->running ? " (after the running one)" : "");
  if (w->running) {
    w->again = true;
    return;
  }
  w->running = true;
  w->n_active = w->n_prog = 0;
  w->token[0] = 0;
  w->started = time(NULL);
  w->own_at_start = (unsigned)map_len(&w->own);
  w->sent_at_start = w->sent;
  w->ok_at_start = w->done_ok;
  w->unsure_building = false;
  json_decref(w->building);
  w->building = json_array();
  list_accounts(w);
}

void exec_watcher_poll(struct exec_watcher *w)
{
  poll_for(w, "asked");
}

static void on_timer(uv_timer_t *t)
{
  struct exec_watcher *w = t->data;

  w->retrying = false; /* from here the timer repeats every interval */
  poll_for(w, "timer");
}

/* A new limit applies to the total as it is; only a failed (or not yet
 * made) listing, or one of the other partition, is redone at once. */
static void on_cfg(void *arg)
{
  struct exec_watcher *w = arg;
  const struct opcfg *c = exec_cfg_get(w->o.cfg);
  const char *part = c ? opcfg_partition(c) : "";

  if (w->ok && !w->running && str_eq(part, w->partition))
    return;
  str_copy(w->partition, part, sizeof(w->partition));
  poll_for(w, "ConfigMap");
}

struct exec_watcher *exec_watcher_new(uv_loop_t *loop,
                                      const struct exec_watcher_opts *o)
{
  struct exec_watcher *w = calloc(1, sizeof(*w));

  if (!w)
    return NULL;
  w->o = *o;
  if (!w->o.create_cap)
    w->o.create_cap = 5;
  if (!w->o.interval_ms)
    w->o.interval_ms = EXEC_WATCH_INTERVAL_MS;
  map_init(&w->own);
  if (uv_timer_init(loop, &w->timer) == 0) {
    w->timer.data = w;
    w->timer_init = true;
  }
  return w;
}

int exec_watcher_start(struct exec_watcher *w)
{
  int rc = 0;

  if (w->o.cfg)
    rc = exec_cfg_on_change(w->o.cfg, on_cfg, w);
  if (!rc && w->timer_init)
    rc = uv_timer_start(&w->timer, on_timer, 0, w->o.interval_ms) ? OP_ESYS : 0;
  return rc;
}

void exec_watcher_close(struct exec_watcher *w)
{
  if (!w)
    return;
  w->closing = true;
  if (w->timer_init) {
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, timer_closed);
  } else if (!w->running) {
    watcher_free(w);
  }
}

bool exec_watcher_limit_allows(const struct exec_watcher *w)
{
  return exec_limit_allows(w->ok, current_total(w), exec_cfg_get(w->o.cfg));
}

bool exec_watcher_has_total(const struct exec_watcher *w)
{
  return w->ok;
}

long long exec_watcher_total(const struct exec_watcher *w)
{
  return current_total(w);
}

long long exec_watcher_in_progress(const struct exec_watcher *w)
{
  return w->in_progress;
}

unsigned exec_watcher_polls(const struct exec_watcher *w)
{
  return w->polls;
}

uint64_t exec_watcher_next_poll_ms(const struct exec_watcher *w)
{
  return w->timer_init && uv_is_active((const uv_handle_t *)&w->timer)
             ? uv_timer_get_due_in(&w->timer)
             : 0;
}

const json_t *exec_watcher_accounts(const struct exec_watcher *w,
                                    time_t *started)
{
  if (started)
    *started = w->listing_started;
  return w->listing;
}

void exec_watcher_limit(void *arg, bool *allows, bool *has_total,
                        long long *total)
{
  struct exec_watcher *w = arg;

  *allows = w ? exec_watcher_limit_allows(w) : false;
  *has_total = w ? w->ok : false;
  *total = w ? current_total(w) : 0;
}

/* The value of an own key whose request this process sent (counted in
 * sent); a key found IN_PROGRESS after a restart has NULL. */
static char sent_here;

void exec_watcher_create_begin(struct exec_watcher *w, const char *key)
{
  if (w && !map_has(&w->own, key))
    map_put(&w->own, key, NULL, NULL);
}

static void mark_unsure(struct exec_watcher *w)
{
  w->unsure = true;
  if (w->running)
    w->unsure_building = true;
}

void exec_watcher_create_sent(struct exec_watcher *w, const char *key)
{
  if (!w)
    return;
  w->sent++;
  if (w->running) /* the listing may see it: it may count twice */
    mark_unsure(w);
  map_put(&w->own, key, &sent_here, NULL);
  publish_total(w);
}

/* A request left IN_PROGRESS: its slot is free at once (our own count
 * drops; the total already counts the account, see sent). The organization
 * is listed again only once none of ours is in flight: listing every page
 * per creation cost more Organizations calls than the creation itself. */
static void create_ended(struct exec_watcher *w, const char *key,
                         bool succeeded)
{
  void *v;

  if (!w || !map_has(&w->own, key))
    return;
  v = map_del(&w->own, key);
  if (!succeeded)
    mark_unsure(w);
  else if (v == &sent_here)
    w->done_ok++;
  if (w->slot_fn)
    w->slot_fn(w->slot_arg);
  /* at rest again: one listing makes the total exact, none when it is
   * already (a fill's listing at its end was a page per 20 accounts) */
  if (!map_len(&w->own) && !total_exact(w))
    poll_for(w, "creations at rest");
}

void exec_watcher_create_end(struct exec_watcher *w, const char *key)
{
  create_ended(w, key, false);
}

void exec_watcher_create_succeeded(struct exec_watcher *w, const char *key)
{
  create_ended(w, key, true);
}

void exec_watcher_on_slot(struct exec_watcher *w, void (*fn)(void *arg),
                          void *arg)
{
  if (!w)
    return;
  w->slot_fn = fn;
  w->slot_arg = arg;
}

void exec_watcher_create_took(struct exec_watcher *w, double secs)
{
  if (!w || !(secs > 0) || secs > 24 * 3600)
    return;
  w->dur[w->dur_next] = secs;
  w->dur_next = (w->dur_next + 1) % EXEC_WATCH_DURATIONS;
  if (w->ndur < EXEC_WATCH_DURATIONS)
    w->ndur++;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

double exec_watcher_create_estimate(const struct exec_watcher *w)
{
  double v[EXEC_WATCH_DURATIONS];

  if (!w || !w->ndur)
    return 0;
  memcpy(v, w->dur, w->ndur * sizeof(v[0]));
  qsort(v, w->ndur, sizeof(v[0]), cmp_double);
  return v[w->ndur / 2];
}

unsigned exec_watcher_own_in_flight(const struct exec_watcher *w)
{
  return w ? (unsigned)map_len(&w->own) : 0;
}

/* The watcher's IN_PROGRESS includes our own requests that were in flight
 * when it polled: count those once. */
bool exec_watcher_create_slot_free(const struct exec_watcher *w)
{
  long long others;

  if (!w)
    return false;
  others = w->in_progress - (long long)w->own_seen;
  return exec_slot_free(exec_watcher_own_in_flight(w), others, w->o.create_cap);
}
