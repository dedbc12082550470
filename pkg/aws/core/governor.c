/* Rate governor and retry budget maths. See governor.h. */
#include "aws/core/governor.h"

#include <math.h>

#include "util/backoff.h"

void aws_gov_bucket_init(struct aws_gov_bucket *b, double rate, double min_rate,
                         double burst, uint64_t now_ms)
{
  b->rate = b->max_rate = rate > 0 ? rate : 10;
  b->min_rate = min_rate > 0 && min_rate <= b->rate ? min_rate : b->rate / 20;
  b->burst = burst >= 1 ? burst : (b->rate >= 1 ? b->rate : 1);
  b->tokens = b->burst;
  b->last_ms = now_ms;
  b->throttles = 0;
}

static void refill(struct aws_gov_bucket *b, uint64_t now_ms)
{
  if (now_ms > b->last_ms) {
    b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
    if (b->tokens > b->burst)
      b->tokens = b->burst;
    b->last_ms = now_ms;
  }
}

uint64_t aws_gov_take(struct aws_gov_bucket *b, uint64_t now_ms)
{
  double missing;

  refill(b, now_ms);
  if (b->tokens >= 1.0) {
    b->tokens -= 1.0;
    return 0;
  }
  missing = 1.0 - b->tokens;
  return (uint64_t)ceil(missing * 1000.0 / b->rate);
}

void aws_gov_on_throttle(struct aws_gov_bucket *b, uint64_t now_ms)
{
  refill(b, now_ms);
  b->rate /= 2;
  if (b->rate < b->min_rate)
    b->rate = b->min_rate;
  /* The server just said no: do not spend a saved-up burst right away. */
  if (b->tokens > 1.0)
    b->tokens = 1.0;
  b->throttles++;
}

void aws_gov_on_success(struct aws_gov_bucket *b)
{
  b->rate += b->max_rate / AWS_GOV_RECOVERY_STEPS;
  if (b->rate > b->max_rate)
    b->rate = b->max_rate;
}

void aws_retry_budget_init(struct aws_retry_budget *b, unsigned max)
{
  b->max = b->tokens = max ? max : AWS_RETRY_TOKENS;
}

bool aws_retry_budget_take(struct aws_retry_budget *b, unsigned cost)
{
  if (b->tokens < cost)
    return false;
  b->tokens -= cost;
  return true;
}

void aws_retry_budget_refund(struct aws_retry_budget *b, unsigned n)
{
  b->tokens = b->tokens + n > b->max ? b->max : b->tokens + n;
}

uint64_t aws_retry_delay_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms,
                            struct rng *r)
{
  struct backoff bo;
  uint64_t d;

  backoff_init(&bo, base_ms, cap_ms, 2.0, BACKOFF_FULL_JITTER);
  d = backoff_delay(&bo, attempt ? attempt - 1 : 0);
  return d ? rng_below(r, d) : 0;
}
