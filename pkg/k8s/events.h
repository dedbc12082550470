/* Event recorder: core/v1 Events against an object, like client-go's
 * record.EventRecorder with its EventCorrelator: repeats (same object,
 * type, reason and message within the aggregation window) PATCH count and
 * lastTimestamp of the existing Event instead of creating a new one; a
 * per-object token bucket (burst 25, then 1 per 5 min, as
 * EventSourceObjectSpamFilter) drops floods with a debug log. Recording
 * never blocks and never fails the caller.
 */
#ifndef PKG_K8S_EVENTS_H
#define PKG_K8S_EVENTS_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "k8s/client.h"

struct k8s_recorder;

/* Where Events go, injectable for tests (NULL = the k8s client). cb must
 * be called exactly once when the function returns 0. */
struct k8s_event_sink {
  int (*create)(void *sink_arg, const char *ns, json_t *ev, k8s_obj_cb cb,
                void *arg);
  int (*patch)(void *sink_arg, const char *ns, const char *name,
               json_t *merge_patch, k8s_obj_cb cb, void *arg);
};

struct k8s_recorder_opts {
  const char *component;          /* NULL = "aws-account-operator" */
  const char *reporting_instance; /* NULL = hostname */
  size_t cache_size;              /* aggregation entries; 0 = 4096 */
  uint64_t aggregate_window_ms;   /* 0 = 10 min */
  double burst;                   /* per object; 0 = 25 */
  double qps;                     /* refill; 0 = 1/300 (one per 5 min) */
  const struct k8s_event_sink *sink;
  void *sink_arg;
};

int k8s_recorder_new(uv_loop_t *loop, struct k8s_client *c,
                     const struct k8s_recorder_opts *opts,
                     struct k8s_recorder **out);
/* Requests in flight complete into nothing; memory goes when they did. */
void k8s_recorder_free(struct k8s_recorder *r);

#define K8S_EVENT_NORMAL "Normal"
#define K8S_EVENT_WARNING "Warning"

/* Record an event about obj (borrowed; needs apiVersion, kind,
 * metadata.name). type: K8S_EVENT_NORMAL or K8S_EVENT_WARNING. */
void k8s_event(struct k8s_recorder *r, json_t *obj, const char *type,
               const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Counters for tests and metrics. */
struct k8s_recorder_stats {
  unsigned long created, patched, dropped, failed;
};
void k8s_recorder_stats(const struct k8s_recorder *r,
                        struct k8s_recorder_stats *out);

#endif
