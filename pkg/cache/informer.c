#include "cache/informer.h"

#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "log/log.h"
#include "util/backoff.h"
#include "util/rng.h"
#include "util/str.h"
#include "util/util.h"

#define DEFAULT_PAGE 500
#define DEFAULT_BACKOFF_MS 800
#define DEFAULT_BACKOFF_MAX_MS 30000
#define DEFAULT_BACKOFF_RESET_MS 120000
#define NS_PER_MS 1000000ull
#define SHORT_WATCH_NS (1000 * NS_PER_MS)

struct inf_hslot {
  struct inf_handler h;
  int id;
  bool removed;
};

/* Owner of every pointer member: the informer. ops/src are borrowed, the
 * gvr strings too (documented in inf_opts). */
struct inf {
  uv_loop_t *loop;
  const struct inf_source *ops;
  void *src;
  struct k8s_gvr gvr;
  char *ns, *lsel, *fsel;
  long page;
  struct store *store;
  struct inf_hslot *handlers;
  size_t nh;
  int next_id, dispatching;
  bool compact;
  enum inf_state state;
  char *rv;        /* last resourceVersion seen */
  bool synced;     /* a complete list happened */
  bool gone_retry; /* a list already retried once after 410 */
  bool need_list;  /* the backoff timer must list, not watch */
  bool list_inflight;
  bool direct;        /* this list puts its items as its pages arrive */
  bool watch_list;    /* opts: the first list is a streaming one */
  bool streaming;     /* that streaming list's initial events are arriving */
  bool stream_failed; /* it failed once: lists in pages from then on */
  bool release;       /* a list completed: release_pages on the next timer */
  size_t decoded;     /* objects trimmed since the pages were last released */
  size_t releases;    /* release_pages calls, for tests */
  struct store_relist *pending; /* items of the pages so far */
  char *cont;                   /* continue token of the next page */
  struct k8s_watch *watch;
  struct backoff bo;
  struct rng rng;
  uint64_t last_failure_ns, reset_ns, backoff_ms;
  uint64_t watch_start_ns; /* to spot a very short watch */
  unsigned long watch_events;
  inf_clock_fn clock;
  void *clock_arg;
  uv_timer_t timer;
  /* STORE_COMPACT: store_trim once per iteration, in the prepare phase:
   * it runs before the loop blocks in poll, so what the last callbacks
   * decoded is released even when nothing wakes the loop for a long time
   * (a check handle runs only after poll returns). */
  uv_prepare_t trim;
  int open_handles;
  bool closing;
  inf_close_cb close_cb;
  void *close_arg;
};

static void start_list(struct inf *i);
static void start_watch(struct inf *i);
static void start_stream(struct inf *i);
static void stream_ended(struct inf *i, int err);
static void ev_upsert(struct inf *i, json_t *obj);

static uint64_t default_clock(void *arg)
{
  (void)arg;
  return uv_hrtime();
}

static const char *res(const struct inf *i)
{
  return i->gvr.resource ? i->gvr.resource : "?";
}

static void set_rv(struct inf *i, const char *rv)
{
  if (str_empty(rv) || str_eq(rv, i->rv))
    return;
  free(i->rv);
  i->rv = util_xstrdup(rv);
}

/* ---- handlers -------------------------------------------------------- */

static void compact_handlers(struct inf *i)
{
  size_t r, w = 0;

  for (r = 0; r < i->nh; r++) {
    if (!i->handlers[r].removed)
      i->handlers[w++] = i->handlers[r];
  }
  i->nh = w;
  i->compact = false;
}

enum ev { EV_ADD, EV_UPDATE, EV_DELETE, EV_DELETE_UNKNOWN, EV_SYNCED };

static void call_one(const struct inf_handler *h, enum ev e, const json_t *a,
                     const json_t *b)
{
  switch (e) {
  case EV_ADD:
    if (h->on_add)
      h->on_add(a, h->arg);
    break;
  case EV_UPDATE:
    if (h->on_update)
      h->on_update(a, b, h->arg);
    break;
  case EV_DELETE:
  case EV_DELETE_UNKNOWN:
    if (h->on_delete)
      h->on_delete(a, e == EV_DELETE_UNKNOWN, h->arg);
    break;
  case EV_SYNCED:
    if (h->on_synced)
      h->on_synced(h->arg);
    break;
  }
}

/* Call every live handler; handlers may add or remove handlers. */
static void dispatch(struct inf *i, enum ev e, const json_t *a, const json_t *b)
{
  size_t k;

  i->dispatching++;
  for (k = 0; k < i->nh; k++) {
    struct inf_handler h = i->handlers[k].h; /* the array may move */
    if (!i->handlers[k].removed)
      call_one(&h, e, a, b);
  }
  if (--i->dispatching == 0 && i->compact)
    compact_handlers(i);
}

int inf_add_handler(struct inf *i, const struct inf_handler *h)
{
  struct inf_hslot *s;
  size_t it = 0;
  const json_t *obj;

  i->handlers = util_xrealloc(i->handlers, (i->nh + 1) * sizeof(*s));
  s = &i->handlers[i->nh++];
  s->h = *h;
  s->id = ++i->next_id;
  s->removed = false;
  if (i->synced) {
    struct inf_handler copy = *h;
    while (store_next(i->store, &it, NULL, &obj))
      call_one(&copy, EV_ADD, obj, NULL);
    call_one(&copy, EV_SYNCED, NULL, NULL);
  }
  return i->next_id;
}

void inf_remove_handler(struct inf *i, int id)
{
  size_t k;

  for (k = 0; k < i->nh; k++) {
    if (i->handlers[k].id == id)
      i->handlers[k].removed = true;
  }
  if (i->dispatching)
    i->compact = true;
  else
    compact_handlers(i);
}

/* ---- backoff --------------------------------------------------------- */

/* A list's pages (response bodies, decoded pages) and what its handlers
 * decoded from compact stores were freed among the objects kept; hand the
 * free pages between them back to the system, or the list's peak stays
 * resident for good. Run from the timer after a list, i.e. after every
 * store's prepare-phase trim. */
static void release_pages(void)
{
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

static void on_timer(uv_timer_t *t)
{
  struct inf *i = t->data;

  if (i->release) {
    i->release = false;
    i->decoded = 0;
    i->releases++;
    release_pages();
  }
  if (i->state != INF_BACKOFF)
    return;
  if (i->need_list)
    start_list(i);
  else
    start_watch(i);
}

/* Something failed: wait, then list (need_list) or re-watch. */
static void failed(struct inf *i, int err, bool need_list)
{
  uint64_t now = i->clock(i->clock_arg);

  if (i->last_failure_ns && now - i->last_failure_ns >= i->reset_ns)
    backoff_reset(&i->bo);
  i->last_failure_ns = now;
  i->backoff_ms = backoff_next(&i->bo, &i->rng);
  i->need_list = need_list;
  i->state = INF_BACKOFF;
  log_warn("cache", "%s: %s failed: %s; retrying in %llu ms", res(i),
           need_list ? "list" : "watch", op_strerror(err),
           (unsigned long long)i->backoff_ms);
  uv_timer_start(&i->timer, on_timer, i->backoff_ms, 0);
}

void inf_retry_now(struct inf *i)
{
  if (i->state != INF_BACKOFF)
    return;
  uv_timer_stop(&i->timer);
  on_timer(&i->timer);
}

/* ---- closing --------------------------------------------------------- */

static void inf_free(struct inf *i)
{
  inf_close_cb cb = i->close_cb;
  void *arg = i->close_arg;

  store_free(i->store);
  store_relist_free(i->pending);
  free(i->cont);
  free(i->rv);
  free(i->ns);
  free(i->lsel);
  free(i->fsel);
  free(i->handlers);
  free(i);
  if (cb)
    cb(arg);
}

/* Free once nothing can call back into the informer any more. */
static bool maybe_finish(struct inf *i)
{
  if (!i->closing || i->open_handles || i->list_inflight || i->watch)
    return false;
  inf_free(i);
  return true;
}

static void on_handle_closed(uv_handle_t *h)
{
  struct inf *i = h->data;

  i->open_handles--;
  maybe_finish(i);
}

/* Between callbacks: borrowed references have ended. A burst of reads
 * after the list (a resync's reconciles, a scan over the Accounts) decodes
 * thousands of objects too, and its peak would stay resident as free pages
 * in the heap: after INF_RELEASE_AFTER decoded objects, the pages are
 * released once the burst has had INF_RELEASE_DELAY_MS to end. */
void inf_trim(struct inf *i)
{
  i->decoded += store_hot(i->store);
  store_trim(i->store);
}

static void on_trim(uv_prepare_t *h)
{
  struct inf *i = h->data;

  inf_trim(i);
  if (i->decoded < INF_RELEASE_AFTER || i->release ||
      i->state != INF_WATCHING || uv_is_active((uv_handle_t *)&i->timer))
    return;
  i->release = true;
  uv_timer_start(&i->timer, on_timer, INF_RELEASE_DELAY_MS, 0);
}

size_t inf_pages_released(const struct inf *i)
{
  return i ? i->releases : 0;
}

/* ---- listing --------------------------------------------------------- */

static void on_replace_added(const json_t *obj, void *arg)
{
  dispatch(arg, EV_ADD, obj, NULL);
}

static void on_replace_updated(const json_t *o, const json_t *n, void *arg)
{
  /* A relist returns unchanged objects too: not an update. */
  if (!str_eq(store_obj_rv(o), store_obj_rv(n)))
    dispatch(arg, EV_UPDATE, o, n);
}

static void on_replace_vanished(const char *key, const json_t *last, void *arg)
{
  (void)key;
  dispatch(arg, EV_DELETE_UNKNOWN, last, NULL);
}

static void list_complete(struct inf *i, const char *rv)
{
  static const struct store_replace_ops ops = { on_replace_added,
                                                on_replace_updated,
                                                on_replace_vanished };
  struct store_relist *items = i->pending;
  bool first = !i->synced;

  i->pending = NULL;
  set_rv(i, rv);
  i->gone_retry = false;
  if (i->direct)
    store_relist_free(items); /* empty: the pages were put as they came */
  else
    store_relist_apply(i->store, items, &ops, i);
  i->direct = false;
  log_info("cache", "%s: listed %zu objects at resourceVersion %s", res(i),
           store_len(i->store), i->rv ? i->rv : "");
  i->synced = true;
  if (first)
    dispatch(i, EV_SYNCED, NULL, NULL);
  if (i->state == INF_LISTING)
    start_watch(i);
  i->release = true;
  if (i->state == INF_WATCHING)
    uv_timer_start(&i->timer, on_timer, 0, 0);
}

static void list_page(struct inf *i, json_t *list)
{
  const json_t *meta = json_object_get(list, "metadata");
  const char *cont = json_string_value(json_object_get(meta, "continue"));
  json_t *items = json_object_get(list, "items");
  json_t *item;
  size_t k;

  /* Added (and, for a compact store, encoded) page by page: the decoded
   * page is released when this callback returns. */
  json_array_foreach(items, k, item)
  {
    if (i->direct)
      ev_upsert(i, item);
    else
      store_relist_add(i->pending, json_incref(item));
  }
  if (i->direct)
    store_trim(i->store); /* the handlers have returned */
  free(i->cont);
  i->cont = NULL;
  if (!str_empty(cont)) {
    i->cont = util_xstrdup(cont);
    start_list(i);
    return;
  }
  list_complete(i, json_string_value(json_object_get(meta, "resourceVersion")));
}

static void list_failed(struct inf *i, int err)
{
  i->direct = false; /* what it put stays: the next list is a relist */
  store_relist_free(i->pending);
  i->pending = NULL;
  free(i->cont);
  i->cont = NULL;
  if (err == OP_EGONE && !i->gone_retry) {
    /* An expired continue token: list again from the start, at once. */
    i->gone_retry = true;
    start_list(i);
    return;
  }
  failed(i, err, true);
}

static void on_list(int err, json_t *list, const struct op_error *detail,
                    void *arg)
{
  struct inf *i = arg;

  (void)detail;
  i->list_inflight = false;
  if (maybe_finish(i) || i->state != INF_LISTING)
    return;
  if (err)
    list_failed(i, err);
  else
    list_page(i, list);
}

static void start_list(struct inf *i)
{
  struct k8s_list_opts o = { 0 };
  int err;

  if (i->watch_list && !i->stream_failed && !i->synced && !i->pending &&
      store_len(i->store) == 0) {
    start_stream(i);
    return;
  }
  i->state = INF_LISTING;
  if (!i->pending) {
    i->pending = store_relist_new(i->store);
    /* The first list into an empty store has nothing to diff against and
     * no one reconciles before it completes: its items are put and
     * handed to the handlers page by page, without being encoded, kept
     * and decoded again at the end, and the handlers' work overlaps the
     * next page's round trip. A relist replaces the store at once. */
    i->direct = !i->synced && store_len(i->store) == 0;
  }
  o.namespace = i->ns;
  o.label_selector = i->lsel;
  o.field_selector = i->fsel;
  o.limit = i->page;
  o.continue_token = i->cont;
  o.drop_managed_fields = true; /* store_strip drops them */
  /* Every list is consistent (resourceVersion unset): a list at "0" is
   * served from the API server's watch cache, which ignores limit and sends
   * a fleet of 10,000 Accounts (20 MB) in one response, past our body cap
   * and our memory budget; a consistent list is paginated by the server.
   * A continue token carries its own version. */
  i->list_inflight = true;
  err = i->ops->list(i->src, &i->gvr, &o, on_list, i);
  if (err) {
    i->list_inflight = false;
    list_failed(i, err);
  }
}

/* ---- watching -------------------------------------------------------- */

static void ev_upsert(struct inf *i, json_t *obj)
{
  char key[STORE_KEY_MAX];
  const json_t *cur;
  json_t *old = NULL;

  if (store_obj_key(obj, key, sizeof(key)))
    return;
  cur = store_get(i->store, key);
  if (cur && str_eq(store_obj_rv(cur), store_obj_rv(obj)))
    return; /* nothing changed */
  if (store_put_new(i->store, json_incref(obj), &old))
    return;
  if (old)
    dispatch(i, EV_UPDATE, old, obj);
  else
    dispatch(i, EV_ADD, obj, NULL);
  json_decref(old);
}

static void ev_delete(struct inf *i, json_t *obj)
{
  char key[STORE_KEY_MAX];
  json_t *last;

  if (store_obj_key(obj, key, sizeof(key)))
    return;
  last = store_delete_take(i->store, key);
  dispatch(i, EV_DELETE, obj, NULL);
  json_decref(last);
}

static void stream_event(struct inf *i, enum k8s_event_type type, json_t *obj);

/* An ADDED, MODIFIED or DELETED event applied to the store (true), or
 * another type (false). */
static bool apply_change(struct inf *i, enum k8s_event_type type, json_t *obj)
{
  if (type == K8S_EV_ADDED || type == K8S_EV_MODIFIED)
    ev_upsert(i, obj);
  else if (type == K8S_EV_DELETED)
    ev_delete(i, obj);
  else
    return false;
  return true;
}

static void on_event(enum k8s_event_type type, json_t *obj, void *arg)
{
  struct inf *i = arg;

  if (i->streaming) {
    if (i->state == INF_LISTING)
      stream_event(i, type, obj);
    return;
  }
  if (i->state != INF_WATCHING)
    return;
  i->watch_events++;
  if (!apply_change(i, type, obj) && type == K8S_EV_ERROR) {
    log_warn("cache", "%s: watch error event: %s", res(i),
             json_string_value(json_object_get(obj, "message")));
    return;
  }
  set_rv(i, store_obj_rv(obj));
}

static bool short_watch(const struct inf *i)
{
  uint64_t now = i->clock(i->clock_arg);

  return !i->watch_events && now - i->watch_start_ns < SHORT_WATCH_NS;
}

static void on_watch_done(int err, const struct op_error *detail, void *arg)
{
  struct inf *i = arg;

  (void)detail;
  i->watch = NULL;
  if (maybe_finish(i))
    return;
  if (i->streaming) {
    stream_ended(i, err);
    return;
  }
  if (i->state != INF_WATCHING)
    return;
  if (!err && short_watch(i)) {
    /* client-go's "very short watch": closed within a second without a
     * single event is a failure, not a timeout (no hot re-watch loop). */
    failed(i, OP_EIO, false);
  } else if (!err) {
    start_watch(i); /* server timeout: carry on from the same version */
  } else if (err == OP_EGONE) {
    log_info("cache", "%s: resourceVersion %s expired, relisting", res(i),
             i->rv ? i->rv : "");
    start_list(i);
  } else if (i->watch_events) {
    /* Cut mid-stream after it delivered events (a proxy, an API server
     * going away): re-watch at once from the last version, as client-go
     * does; backing off here grows with every cut and leaves the cache
     * stale for up to a minute (every update based on it a 409). */
    backoff_reset(&i->bo);
    start_watch(i);
  } else {
    failed(i, err, false);
  }
}

static void start_watch(struct inf *i)
{
  struct k8s_watch_opts o = { 0 };
  int err;

  i->state = INF_WATCHING;
  i->watch_events = 0;
  i->watch_start_ns = i->clock(i->clock_arg);
  o.namespace = i->ns;
  o.label_selector = i->lsel;
  o.field_selector = i->fsel;
  o.resource_version = i->rv;
  o.allow_bookmarks = true;
  o.drop_managed_fields = true; /* store_strip drops them */
  err = i->ops->watch_start(i->src, &i->gvr, &o, on_event, on_watch_done, i,
                            &i->watch);
  if (err) {
    i->watch = NULL;
    if (err == OP_EGONE) {
      start_list(i);
    } else {
      failed(i, err, false);
    }
  }
}

/* ---- streaming list (WatchList) -------------------------------------- */

/* The first list into an empty store as a watch with sendInitialEvents:
 * the API server sends every object from its watch cache as an ADDED
 * event, then a bookmark annotated K8S_INITIAL_EVENTS_END at the version
 * they make up, then the changes after it on the same stream. Against
 * paginated lists of a 10,000 fleet it cost the API server a quarter of
 * the CPU (it encodes each object once for its cache instead of a page
 * at a time from a snapshot) and the operator no page buffers: objects
 * are put and handed over one by one, as a direct list's pages are. */
static void start_stream(struct inf *i)
{
  struct k8s_watch_opts o = { 0 };
  int err;

  i->state = INF_LISTING;
  i->streaming = true;
  i->direct = true;
  i->watch_events = 0;
  i->watch_start_ns = i->clock(i->clock_arg);
  o.namespace = i->ns;
  o.label_selector = i->lsel;
  o.field_selector = i->fsel;
  o.allow_bookmarks = true;
  o.send_initial_events = true;
  o.drop_managed_fields = true; /* store_strip drops them */
  err = i->ops->watch_start(i->src, &i->gvr, &o, on_event, on_watch_done, i,
                            &i->watch);
  if (err) {
    i->watch = NULL;
    stream_ended(i, err);
  }
}

static bool initial_events_end(const json_t *bookmark)
{
  const json_t *a =
      json_object_get(json_object_get(bookmark, "metadata"), "annotations");

  return str_eq(json_string_value(json_object_get(a, K8S_INITIAL_EVENTS_END)),
                "true");
}

/* A stream read from a fast peer hands over thousands of events in one
 * loop iteration: what they decoded into a compact store is released
 * every STREAM_TRIM events (their handlers have returned, as after a
 * page), not only at the iteration's end. */
#define STREAM_TRIM 256

static void stream_event(struct inf *i, enum k8s_event_type type, json_t *obj)
{
  if (apply_change(i, type, obj)) {
    if (store_hot(i->store) >= STREAM_TRIM)
      inf_trim(i);
  } else if (type == K8S_EV_BOOKMARK && initial_events_end(obj)) {
    /* synced: the same stream goes on as the informer's watch */
    i->streaming = false;
    i->state = INF_WATCHING;
    i->watch_events = 0;
    i->watch_start_ns = i->clock(i->clock_arg);
    list_complete(i, store_obj_rv(obj));
  } else if (type == K8S_EV_ERROR) {
    log_warn("cache", "%s: streaming list error event: %s", res(i),
             json_string_value(json_object_get(obj, "message")));
  }
}

/* The stream ended (or never started) before its initial events did: a
 * server without WatchList refuses it; list in pages from now on. What it
 * put stays, so that list diffs against it as a relist does. */
static void stream_ended(struct inf *i, int err)
{
  i->streaming = false;
  i->direct = false;
  if (i->state != INF_LISTING)
    return; /* stopped */
  i->stream_failed = true;
  log_info("cache", "%s: streaming list ended early (%s); listing in pages",
           res(i), err ? op_strerror(err) : "closed");
  start_list(i);
}

/* ---- lifecycle ------------------------------------------------------- */

static char *dup_opt(const char *s)
{
  return str_empty(s) ? NULL : util_xstrdup(s);
}

struct inf *inf_new_source(uv_loop_t *loop, const struct inf_source *ops,
                           void *src, const struct inf_opts *o)
{
  struct inf *i = util_xcalloc(1, sizeof(*i));

  i->loop = loop;
  i->ops = ops;
  i->src = src;
  i->gvr = o->gvr;
  i->ns = dup_opt(o->namespace);
  i->lsel = dup_opt(o->label_selector);
  i->fsel = dup_opt(o->field_selector);
  i->page = o->page_size ? o->page_size : DEFAULT_PAGE;
  i->watch_list = o->watch_list;
  i->store = store_new(o->store_flags);
  backoff_init(
      &i->bo,
      o->backoff_initial_ms ? o->backoff_initial_ms : DEFAULT_BACKOFF_MS,
      o->backoff_max_ms ? o->backoff_max_ms : DEFAULT_BACKOFF_MAX_MS, 2.0, 1.0);
  i->reset_ns =
      (o->backoff_reset_ms ? o->backoff_reset_ms : DEFAULT_BACKOFF_RESET_MS) *
      NS_PER_MS;
  if (o->rng_seed)
    rng_seed(&i->rng, o->rng_seed);
  else
    rng_seed_os(&i->rng);
  i->clock = o->clock ? o->clock : default_clock;
  i->clock_arg = o->clock_arg;
  uv_timer_init(loop, &i->timer);
  uv_prepare_init(loop, &i->trim);
  i->timer.data = i->trim.data = i;
  i->open_handles = 2;
  if (o->store_flags & STORE_COMPACT) {
    uv_prepare_start(&i->trim, on_trim);
    uv_unref((uv_handle_t *)&i->trim); /* never keeps the loop alive */
  }
  return i;
}

struct store *inf_store(struct inf *i)
{
  return i->store;
}

int inf_start(struct inf *i)
{
  if (i->state != INF_IDLE)
    return i->state == INF_STOPPED ? OP_ESTATE : 0;
  start_list(i);
  return 0;
}

void inf_stop(struct inf *i)
{
  if (i->state == INF_STOPPED)
    return;
  i->state = INF_STOPPED;
  if (!uv_is_closing((uv_handle_t *)&i->timer))
    uv_timer_stop(&i->timer);
  if (i->watch)
    i->ops->watch_stop(i->src, i->watch); /* done_cb comes later */
}

void inf_close(struct inf *i, inf_close_cb cb, void *arg)
{
  if (i->closing)
    return;
  inf_stop(i);
  i->closing = true;
  i->close_cb = cb;
  i->close_arg = arg;
  uv_close((uv_handle_t *)&i->timer, on_handle_closed);
  uv_close((uv_handle_t *)&i->trim, on_handle_closed);
}

bool inf_has_synced(const struct inf *i)
{
  return i->synced;
}

enum inf_state inf_state(const struct inf *i)
{
  return i->state;
}

const char *inf_resource_version(const struct inf *i)
{
  return i->rv ? i->rv : "";
}

uint64_t inf_backoff_ms(const struct inf *i)
{
  return i->backoff_ms;
}
