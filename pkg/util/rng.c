#include "util/rng.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed)
{
  int i;

  for (i = 0; i < 4; i++)
    r->s[i] = splitmix64(&seed);
}

void rng_seed_os(struct rng *r)
{
  uint64_t seed;

  if (getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
    seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
  rng_seed(r, seed);
}

static uint64_t rotl(uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;

  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double rng_double(struct rng *r)
{
  return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
  uint64_t lim, x;

  if (n <= 1)
    return 0;
  /* Rejection sampling keeps the distribution uniform. */
  lim = UINT64_MAX - UINT64_MAX % n;
  do {
    x = rng_next(r);
  } while (x >= lim);
  return x % n;
}
