/* A scripted list/watch source for informer and controller tests: every
 * list and watch call is recorded; the test answers them explicitly. */
#ifndef TEST_UNIT_SUPPORT_CACHE_FAKE_H
#define TEST_UNIT_SUPPORT_CACHE_FAKE_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "cache/informer.h"

#define CACHE_FAKE_MAX_CALLS 64

struct cache_fake_call {
  char rv[64];   /* resource_version as sent ("(null)" for NULL) */
  char cont[64]; /* continue token or "" */
  char ns[64];
  long limit;
  bool bookmarks;
  bool initial; /* send_initial_events (a streaming list) */
};

struct cache_fake {
  uv_loop_t *loop;
  int list_err;  /* if non-zero, list() fails synchronously with it */
  int watch_err; /* if non-zero, watch_start() fails with it */
  /* the outstanding list */
  k8s_list_cb list_cb;
  void *list_arg;
  /* the active watch */
  k8s_watch_event_cb ev_cb;
  k8s_watch_done_cb done_cb;
  void *watch_arg;
  bool watch_active, watch_stopped;
  uv_timer_t stop_timer;
  /* call logs */
  struct cache_fake_call lists[CACHE_FAKE_MAX_CALLS];
  struct cache_fake_call watches[CACHE_FAKE_MAX_CALLS];
  int nlists, nwatches;
};

extern const struct inf_source cache_fake_source;

void cache_fake_init(struct cache_fake *f, uv_loop_t *loop);
/* Closes its timer (run the loop afterwards). */
void cache_fake_cleanup(struct cache_fake *f);

/* Answer the outstanding list: err, or a List with items (stolen, may be
 * NULL = empty), resourceVersion rv and continue token cont (may be NULL).
 */
void cache_fake_list_reply(struct cache_fake *f, int err, json_t *items_new,
                           const char *rv, const char *cont);
bool cache_fake_list_pending(const struct cache_fake *f);
/* Deliver a watch event (obj stolen). */
void cache_fake_event(struct cache_fake *f, enum k8s_event_type type,
                      json_t *obj_new);
/* End the watch with err (0 = clean server close). */
void cache_fake_watch_end(struct cache_fake *f, int err);

/* A small object: {"metadata":{name,namespace,resourceVersion,uid}}. */
json_t *cache_fake_obj_new(const char *ns, const char *name, const char *rv);

#endif
