/* Exponential backoff with jitter, as client-go's wait.Backoff and the AWS
 * SDKs' "full jitter": delay_n = min(cap, initial * factor^n), then jitter.
 *
 * jitter == 0: exact delay. 0 < jitter <= 1: delay * (1 + jitter * U[0,1))
 * (client-go reflector style: 800 ms, factor 2, jitter 1.0, cap 30 s).
 * BACKOFF_FULL_JITTER: U[0, delay) (AWS standard retry mode).
 */
#ifndef PKG_UTIL_BACKOFF_H
#define PKG_UTIL_BACKOFF_H

#include <stdint.h>

#include "util/rng.h"

#define BACKOFF_FULL_JITTER (-1.0)

struct backoff {
  uint64_t initial_ms;
  uint64_t cap_ms;
  double factor;
  double jitter;
  unsigned attempts; /* failures since the last reset */
};

void backoff_init(struct backoff *b, uint64_t initial_ms, uint64_t cap_ms,
                  double factor, double jitter);
/* The delay before the next attempt; counts one more failure. */
uint64_t backoff_next(struct backoff *b, struct rng *r);
/* The un-jittered delay for a given attempt number (pure). */
uint64_t backoff_delay(const struct backoff *b, unsigned attempt);
void backoff_reset(struct backoff *b);

#endif
