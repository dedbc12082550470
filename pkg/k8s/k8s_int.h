/* pkg/k8s internals shared between its files (k8s__ prefix). */
#ifndef PKG_K8S_K8S_INT_H
#define PKG_K8S_K8S_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "http/httpc.h"
#include "k8s/client.h"
#include "util/rng.h"

/* A request or watch with an httpc request in flight, linked in the client
 * so k8s_client_close can cancel it. */
struct k8s__active {
  struct k8s__active *prev, *next;
  struct httpc_req *hr;
  void (*cancel)(struct k8s__active *a); /* NULL = httpc_req_cancel(hr) */
};

struct k8s__req;

/* Owns: cfg (k8s_config_free), the queue and active lists' nodes belong to
 * their requests/watches. Freed in the last close callback. */
struct k8s_client {
  uv_loop_t *loop;
  struct httpc *h;
  struct k8s_config *cfg;
  struct k8s_client_opts opts; /* opts.user_agent owned (copied) */
  struct k8s_tbucket tb;
  struct rng rng;    /* watch timeouts */
  uv_timer_t wake;   /* runs the queue when a token or retry is due */
  uv_timer_t reload; /* periodic token re-read */
  struct k8s__req *q_head, *q_tail; /* waiting to start */
  struct k8s__active active;        /* sentinel of the in-flight list */
  size_t pending;
  int open_handles;
  bool closing;
  void (*close_cb)(void *arg);
  void *close_arg;
};

/* A new httpc request for server+path_query with Accept, auth and TLS set. */
struct httpc_req *k8s__http_new(struct k8s_client *c, const char *method,
                                const char *path_query);
void k8s__active_add(struct k8s_client *c, struct k8s__active *a);
void k8s__active_del(struct k8s_client *c, struct k8s__active *a);
/* Called whenever a request or watch completes (may free the client). */
void k8s__done_one(struct k8s_client *c);
/* Re-read the token after a 401; true when a retry makes sense. */
bool k8s__auth_refresh(struct k8s_client *c);
/* Complete every queued (not started) request with OP_ECANCELED. */
void k8s__rest_cancel_queued(struct k8s_client *c);
/* Parse the response body as JSON (NULL if empty or invalid). New ref. */
json_t *k8s__body_json_new(const struct httpc_resp *resp, size_t flags);
/* Append the list/watch query parameters shared by both. */
int k8s__query_selectors(struct buf *q, const char *label, const char *field);

#endif
