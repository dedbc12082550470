/* The bench driver's fleet and its counting Kubernetes seam. */
#ifndef TEST_BENCH_BENCH_RECONCILE_BENCH_H
#define TEST_BENCH_BENCH_RECONCILE_BENCH_H

#include <stdbool.h>
#include <stddef.h>

#include "controllers/exec/exec.h"

#define BENCH_NS "aws-account-operator"
#define BENCH_CM "aws-account-operator-configmap"

/* Requests seen, by verb. Writes succeed; GETs answer NotFound. */
struct bench_io {
  unsigned long get, create, update, update_status, del, events, aws;
};

struct exec_kio bench_kio(struct bench_io *io);
unsigned long bench_io_k8s(const struct bench_io *io);
void bench_io_reset(struct bench_io *io);

/* The key of Account (account) or claim i. */
void bench_key(bool account, size_t i, char *out, size_t n);
/* N Ready, claimed Accounts, N bound claims, the ConfigMap: 0 or -1. */
int bench_fill(struct store *accounts, struct store *claims, struct store *cm,
               size_t n);

#endif
