/* A small seeded PRNG (xoshiro256**) for jitter and random names. Not for
 * secrets: anything secret comes from OpenSSL's RAND_bytes. Each owner keeps
 * its own state, so tests can seed it and there is no hidden global. */
#ifndef PKG_UTIL_RNG_H
#define PKG_UTIL_RNG_H

#include <stdint.h>

struct rng {
  uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
/* Seed from the OS (getrandom); falls back to time and pid. */
void rng_seed_os(struct rng *r);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1). */
double rng_double(struct rng *r);
/* Uniform in [0, n) for n > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);

#endif
