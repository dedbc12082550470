#include "cache_fake.h"

#include <string.h>

#include "util/err.h"
#include "util/str.h"

static void record(struct cache_fake_call *c, const char *rv, const char *cont,
                   const char *ns, long limit, bool bm)
{
  memset(c, 0, sizeof(*c));
  str_copy(c->rv, rv ? rv : "(null)", sizeof(c->rv));
  str_copy(c->cont, cont ? cont : "", sizeof(c->cont));
  str_copy(c->ns, ns ? ns : "", sizeof(c->ns));
  c->limit = limit;
  c->bookmarks = bm;
}

static int fake_list(void *src, const struct k8s_gvr *gvr,
                     const struct k8s_list_opts *o, k8s_list_cb cb, void *arg)
{
  struct cache_fake *f = src;

  (void)gvr;
  if (f->nlists < CACHE_FAKE_MAX_CALLS)
    record(&f->lists[f->nlists], o->resource_version, o->continue_token,
           o->namespace, o->limit, false);
  f->nlists++;
  if (f->list_err)
    return f->list_err;
  f->list_cb = cb;
  f->list_arg = arg;
  return 0;
}

static int fake_watch_start(void *src, const struct k8s_gvr *gvr,
                            const struct k8s_watch_opts *o,
                            k8s_watch_event_cb ev, k8s_watch_done_cb done,
                            void *arg, struct k8s_watch **out)
{
  struct cache_fake *f = src;

  (void)gvr;
  if (f->nwatches < CACHE_FAKE_MAX_CALLS)
    record(&f->watches[f->nwatches], o->resource_version, NULL, o->namespace, 0,
           o->allow_bookmarks);
  if (f->nwatches < CACHE_FAKE_MAX_CALLS)
    f->watches[f->nwatches].initial = o->send_initial_events;
  f->nwatches++;
  if (f->watch_err)
    return f->watch_err;
  f->ev_cb = ev;
  f->done_cb = done;
  f->watch_arg = arg;
  f->watch_active = true;
  f->watch_stopped = false;
  *out = (struct k8s_watch *)f;
  return 0;
}

static void on_stop_timer(uv_timer_t *t)
{
  struct cache_fake *f = t->data;

  if (f->watch_active && f->watch_stopped)
    cache_fake_watch_end(f, OP_ECANCELED);
}

/* done_cb runs later, from the loop, as k8s_watch_stop promises. */
static void fake_watch_stop(void *src, struct k8s_watch *w)
{
  struct cache_fake *f = src;

  (void)w;
  if (!f->watch_active || f->watch_stopped)
    return;
  f->watch_stopped = true;
  uv_timer_start(&f->stop_timer, on_stop_timer, 0, 0);
}

const struct inf_source cache_fake_source = { fake_list, fake_watch_start,
                                              fake_watch_stop };

void cache_fake_init(struct cache_fake *f, uv_loop_t *loop)
{
  memset(f, 0, sizeof(*f));
  f->loop = loop;
  uv_timer_init(loop, &f->stop_timer);
  f->stop_timer.data = f;
}

void cache_fake_cleanup(struct cache_fake *f)
{
  uv_close((uv_handle_t *)&f->stop_timer, NULL);
}

bool cache_fake_list_pending(const struct cache_fake *f)
{
  return f->list_cb != NULL;
}

void cache_fake_list_reply(struct cache_fake *f, int err, json_t *items_new,
                           const char *rv, const char *cont)
{
  k8s_list_cb cb = f->list_cb;
  json_t *list = NULL;

  f->list_cb = NULL;
  if (!err) {
    list = json_pack("{s:o, s:{s:s, s:s}}", "items",
                     items_new ? items_new : json_array(), "metadata",
                     "resourceVersion", rv ? rv : "", "continue",
                     cont ? cont : "");
    items_new = NULL;
  }
  json_decref(items_new);
  if (cb)
    cb(err, list, NULL, f->list_arg);
  json_decref(list);
}

void cache_fake_event(struct cache_fake *f, enum k8s_event_type type,
                      json_t *obj_new)
{
  if (f->watch_active && !f->watch_stopped)
    f->ev_cb(type, obj_new, f->watch_arg);
  json_decref(obj_new);
}

void cache_fake_watch_end(struct cache_fake *f, int err)
{
  if (!f->watch_active)
    return;
  f->watch_active = false;
  f->watch_stopped = false;
  f->done_cb(err, NULL, f->watch_arg);
}

json_t *cache_fake_obj_new(const char *ns, const char *name, const char *rv)
{
  return json_pack("{s:{s:s, s:s, s:s, s:s}}", "metadata", "name", name,
                   "namespace", ns, "resourceVersion", rv, "uid", name);
}
