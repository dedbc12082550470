/* Internals shared by transport.c and transport_client.c (not a public
 * header: operations use transport.h only). */
#ifndef PKG_AWS_CORE_TRANSPORT_INT_H
#define PKG_AWS_CORE_TRANSPORT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "aws/core/endpoints.h"
#include "aws/core/governor.h"
#include "aws/core/sigv4.h"
#include "aws/core/transport.h"
#include "util/map.h"
#include "util/rng.h"

enum call_phase { CALL_GOV, CALL_CREDS, CALL_HTTP, CALL_BACKOFF, CALL_DONE };

struct aws_gov;

/* One call. Owns copies of every string of `call`, a reference on creds,
 * and its timer (the struct is freed in the timer's close callback). */
struct aws_call_st {
  struct aws_client *c;
  struct aws_call call;
  struct aws_creds *creds;
  struct aws_endpoint ep;
  aws_call_cb cb;
  void *arg;
  unsigned attempt;   /* attempts sent so far */
  unsigned last_cost; /* budget tokens the last retry took */
  bool skew_retried, token_retried;
  enum call_phase phase;
  uint64_t t0;
  uv_timer_t timer; /* backoff */
  struct httpc_req *req;
  struct aws_gov *gov;
  struct aws_call_st *qnext; /* governor queue */
  uint64_t queued_ms;        /* when it joined that queue (governor clock) */
  struct aws_call_st *prev, *next;
};

struct aws_gov_q {
  struct aws_call_st *head, *tail;
};

/* A background call waits while reconciles' calls queue, up to this long;
 * then it goes in turn, so a listing still gets a call a second. */
#define AWS_GOV_BACKGROUND_WAIT_MS 1000

/* A governor bucket per (service, account) with its FIFOs of waiting
 * calls (reconciles' first, background polls' behind them) and the timer
 * that releases them. Freed in the timer's close callback. */
struct aws_gov {
  struct aws_client *c;
  struct aws_gov_bucket b;
  uv_timer_t timer;
  struct aws_gov_q fg, bg;
  unsigned users; /* live calls bound to this bucket */
  char *key;      /* map key, owned */
};

/* Idle buckets (no live call, full rate) are dropped once the table holds
 * more than this many; a new one starts at full rate, which is exactly the
 * state of an idle bucket. */
#define AWS_GOV_EVICT_ABOVE 256

struct aws_create_slot {
  struct aws_client *c;
  aws_slot_cb cb;
  void *arg;
  bool held;
  struct aws_create_slot *next; /* waiters queue */
};

/* Who frees: ep, kc, govs (and their entries), create-slot waiters are
 * owned by the client and released when the last handle closed. */
struct aws_client {
  uv_loop_t *loop;
  struct httpc *http;
  struct aws_endpoints *ep;
  struct sigv4_key_cache *kc;
  struct aws_client_opts o;
  char default_region[32];
  long skew_s;
  struct rng rng;
  struct aws_retry_budget budget;
  struct map govs;
  struct aws_call_st *calls;
  size_t inflight;
  unsigned handles;
  bool closing, freed;
  void (*close_cb)(void *arg);
  void *close_arg;
  unsigned slot_cap, slots_used, slots_waiting;
  struct aws_create_slot *wait_head, *wait_tail;
  struct met_family *m_dur, *m_thr, *m_retry, *m_slots, *m_slots_wait;
};

void aws__gov_enter(struct aws_call_st *k);
void aws__gov_dequeue(struct aws_call_st *k);
void aws__gov_release(struct aws_call_st *k);
void aws__call_go(struct aws_call_st *k);
void aws__send(struct aws_call_st *k, const struct sigv4_creds *v);
void aws__after_transport_error(struct aws_call_st *k, int err,
                                const char *detail);
void aws__calls_cancel(struct aws_client *c);
void aws__client_maybe_freed(struct aws_client *c);
void aws__metrics_call(struct aws_client *c, struct aws_call_st *k, int err,
                       const struct aws_resp *resp,
                       const struct aws_error *aerr);
void aws__metrics_throttle(struct aws_client *c, struct aws_call_st *k);
void aws__metrics_retry(struct aws_client *c, struct aws_call_st *k);

#endif
