/* Leader election on a coordination.k8s.io/v1 Lease (client-go
 * tools/leaderelection): acquire when the lease is free or expired (judged
 * by when WE last saw it change, not by the remote clock), renew every
 * retry period, stop leading at once when no renewal succeeded within the
 * renew deadline, release (empty holder) on close for fast failover.
 *
 * Callbacks run on the loop. on_stopped_leading runs BEFORE the release is
 * sent, so controllers stop acting before another replica can take over.
 */
#ifndef PKG_K8S_LEADER_H
#define PKG_K8S_LEADER_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "k8s/client.h"

struct k8s_leader;

/* The Lease operations, injectable for tests (NULL = the k8s client). */
struct k8s_lease_ops {
  int (*get)(void *ops_arg, const char *ns, const char *name, k8s_obj_cb cb,
             void *arg);
  int (*create)(void *ops_arg, const char *ns, json_t *lease, k8s_obj_cb cb,
                void *arg);
  int (*update)(void *ops_arg, json_t *lease, k8s_obj_cb cb, void *arg);
};

struct k8s_leader_opts {
  const char *namespace;      /* required: the operator namespace */
  const char *name;           /* NULL = "aws-account-operator-lock" */
  const char *identity;       /* NULL = $POD_NAME, else "<hostname>_<pid>" */
  uint64_t lease_duration_ms; /* 0 = 15 s */
  uint64_t renew_deadline_ms; /* 0 = 10 s */
  uint64_t retry_period_ms;   /* 0 = 2 s */
  void (*on_started_leading)(void *arg);
  void (*on_stopped_leading)(void *arg);
  void (*on_new_leader)(const char *identity, void *arg); /* may be NULL */
  void *arg;
  const struct k8s_lease_ops *ops; /* NULL = use the client */
  void *ops_arg;
};

/* c may be NULL when opts->ops is set. Does not start; see _start. */
int k8s_leader_new(uv_loop_t *loop, struct k8s_client *c,
                   const struct k8s_leader_opts *opts, struct k8s_leader **out);
/* First attempt now, then every retry period. */
int k8s_leader_start(struct k8s_leader *le);
bool k8s_leader_is_leader(const struct k8s_leader *le);
const char *k8s_leader_identity(const struct k8s_leader *le);
/* Stop: if leading, on_stopped_leading, then release the lease; then close
 * the timers and free; cb(arg) (may be NULL) runs when done. */
void k8s_leader_close(struct k8s_leader *le, void (*cb)(void *arg), void *arg);

/* "2006-01-02T15:04:05.000000Z" for wall ms (Lease MicroTime). */
void k8s_microtime(int64_t wall_ms, char out[32]);

#endif
