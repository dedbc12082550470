#include "util/backoff.h"

#include <string.h>

void backoff_init(struct backoff *b, uint64_t initial_ms, uint64_t cap_ms,
                  double factor, double jitter)
{
  memset(b, 0, sizeof(*b));
  b->initial_ms = initial_ms;
  b->cap_ms = cap_ms;
  b->factor = factor < 1.0 ? 1.0 : factor;
  b->jitter = jitter;
}

uint64_t backoff_delay(const struct backoff *b, unsigned attempt)
{
  double d = (double)b->initial_ms;
  unsigned i;

  for (i = 0; i < attempt && d < (double)b->cap_ms; i++)
    d *= b->factor;
  if (d > (double)b->cap_ms)
    d = (double)b->cap_ms;
  return (uint64_t)d;
}

uint64_t backoff_next(struct backoff *b, struct rng *r)
{
  uint64_t d = backoff_delay(b, b->attempts);
  double j;

  if (b->attempts < 64)
    b->attempts++;
  if (b->jitter == BACKOFF_FULL_JITTER)
    return (uint64_t)(rng_double(r) * (double)d);
  if (b->jitter > 0) {
    j = (double)d * (1.0 + b->jitter * rng_double(r));
    return (uint64_t)j;
  }
  return d;
}

void backoff_reset(struct backoff *b)
{
  b->attempts = 0;
}
