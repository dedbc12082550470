/* Rate governor maths and the retry token budget (pure, clock passed in).
 *
 * Token bucket with AIMD: a bucket refills at `rate` tokens/s up to
 * `burst`; a throttling answer halves the rate (never below min_rate), and
 * every success adds max_rate/AWS_GOV_RECOVERY_STEPS back (additive
 * recovery, never above max_rate).
 *
 * Retry budget (AWS SDK standard mode): 500 tokens; a retry costs 5, a
 * retry after a timeout 10; a success refunds what its retry cost (or 1
 * when it needed none), up to the maximum.
 */
#ifndef PKG_AWS_CORE_GOVERNOR_H
#define PKG_AWS_CORE_GOVERNOR_H

#include <stdbool.h>
#include <stdint.h>

#include "util/rng.h"

#define AWS_GOV_RECOVERY_STEPS 20
#define AWS_RETRY_TOKENS 500
#define AWS_RETRY_COST 5
#define AWS_RETRY_TIMEOUT_COST 10
#define AWS_RETRY_NO_RETRY_REFUND 1

struct aws_gov_bucket {
  double rate;     /* current tokens per second */
  double max_rate; /* configured rate */
  double min_rate; /* floor */
  double burst;    /* capacity */
  double tokens;
  uint64_t last_ms;
  unsigned throttles; /* for tests and logs */
};

void aws_gov_bucket_init(struct aws_gov_bucket *b, double rate, double min_rate,
                         double burst, uint64_t now_ms);
/* Take one token: returns 0 when taken, else the ms to wait before
 * trying again (nothing taken). */
uint64_t aws_gov_take(struct aws_gov_bucket *b, uint64_t now_ms);
void aws_gov_on_throttle(struct aws_gov_bucket *b, uint64_t now_ms);
void aws_gov_on_success(struct aws_gov_bucket *b);

struct aws_retry_budget {
  unsigned tokens;
  unsigned max;
};

void aws_retry_budget_init(struct aws_retry_budget *b, unsigned max);
/* Take cost tokens for a retry; false (nothing taken) when exhausted. */
bool aws_retry_budget_take(struct aws_retry_budget *b, unsigned cost);
void aws_retry_budget_refund(struct aws_retry_budget *b, unsigned n);

/* Full-jitter delay before retry number `attempt` (1 = first retry):
 * U[0, min(cap, base * 2^(attempt-1))). */
uint64_t aws_retry_delay_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms,
                            struct rng *r);

#endif
