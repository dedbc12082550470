/* Reconcile cost against fleet size, in-process: the caches hold N
 * Accounts (Ready, claimed), N bound AccountClaims and their operator
 * ConfigMap; the real Account and AccountClaim runners reconcile every
 * key repeatedly over a Kubernetes seam and management credentials that
 * only COUNT requests. Prints one JSON object per N:
 *
 *   bench_reconcile [--rounds R] [N...]      (default N: 1000 10000)
 *
 * noop_reconciles_per_s: per CPU second, every key of both kinds per
 * round (all figures are CPU time: the machine may be shared);
 * api_requests / aws_requests: requests the no-op rounds made (goal 0);
 * account_event_us / claim_event_us: one changed object's whole cost (its
 * store update with the indexes, every mapping that watches its kind,
 * then a reconcile of every key they yield), averaged over 200 events. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "cache/store.h"
#include "controllers/account/exec.h"
#include "controllers/accountclaim/exec.h"
#include "controllers/common/obj.h"
#include "controllers/exec/metrics.h"
#include "log/log.h"
#include "metrics/metrics.h"
#include "util/str.h"

#define EVENTS 200

/* CPU seconds of this process: the machine may be shared, and the goal
 * is per core. */
static double cpu_s(void)
{
  struct timespec t;

  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct world {
  struct bench_io io;
  struct store *accounts, *claims, *cm;
  struct exec_cfg *cfg;
  struct met_registry *reg;
  struct exec_metrics *metrics;
  struct acct_exec *acct;
  struct claim_exec *claim;
  unsigned long not_noop; /* reconciles that did not end as done at once */
};

static struct aws_creds *no_mgmt(void *arg)
{
  struct bench_io *io = arg;

  io->aws++; /* every claim AWS step asks for them first */
  return NULL;
}

static int world_init(struct world *w, size_t n)
{
  struct acct_exec_deps ad = { 0 };
  struct claim_exec_deps cd = { 0 };

  /* BENCH_COMPACT: the fleet kinds as the daemon keeps them (manager.c),
   * so every read decodes as it does there */
  unsigned fl = getenv("BENCH_COMPACT") ? STORE_COMPACT : 0;

  memset(w, 0, sizeof(*w));
  w->accounts = store_new(fl);
  w->claims = store_new(fl);
  w->cm = store_new(0);
  if (bench_fill(w->accounts, w->claims, w->cm, n))
    return -1;
  w->cfg = exec_cfg_new(NULL, NULL);
  exec_cfg_apply(w->cfg, store_get(w->cm, BENCH_NS "/" BENCH_CM));
  w->reg = met_registry_new();
  w->metrics = exec_metrics_new(w->reg);
  ad.kio = bench_kio(&w->io);
  ad.accounts = w->accounts;
  ad.claims = w->claims;
  ad.cfg = w->cfg;
  ad.metrics = w->metrics;
  ad.ns = BENCH_NS;
  w->acct = acct_exec_new(&ad);
  cd.kio = bench_kio(&w->io);
  cd.claims = w->claims;
  cd.accounts = w->accounts;
  cd.configmap = w->cm;
  cd.cfg_get = exec_cfg_of;
  cd.cfg_arg = w->cfg;
  cd.mgmt_creds = no_mgmt;
  cd.creds_arg = &w->io;
  cd.metrics = w->reg;
  cd.ns = BENCH_NS;
  w->claim = claim_exec_new(&cd);
  return w->acct && w->claim && exec_cfg_get(w->cfg) ? 0 : -1;
}

static void world_free(struct world *w)
{
  claim_exec_free(w->claim);
  acct_exec_free(w->acct);
  exec_metrics_free(w->metrics);
  met_registry_free(w->reg);
  exec_cfg_free(w->cfg);
  store_free(w->accounts);
  store_free(w->claims);
  store_free(w->cm);
}

static void done_cb(void *arg, const char *key, const struct ctrl_result *r)
{
  (void)key;
  (void)r;
  ((struct world *)arg)->not_noop++;
}

static void reconcile(struct world *w, bool account, const char *key)
{
  struct ctrl_result out;
  int rc = account ? acct_exec_reconcile(w->acct, key, &out, done_cb, w)
                   : claim_exec_reconcile(w->claim, key, &out, done_cb, w);

  if (rc != 0 || out.err || out.requeue)
    w->not_noop++;
}

/* BENCH_COMPACT: the daemon's pump runs up to this many reconciles per
 * loop iteration; the compact caches are trimmed after each (ctrl.c)
 * and at the end of the iteration. BENCH_BATCH=N trims every N instead. */
#define BENCH_BATCH                                                            \
  (getenv("BENCH_BATCH") ? (size_t)atoi(getenv("BENCH_BATCH")) : 64)

static void reconcile_kind(struct world *w, bool account)
{
  size_t i, n;
  char **keys = store_keys_new(account ? w->accounts : w->claims, &n);
  size_t every =
      getenv("BENCH_BATCH") ? strtoul(getenv("BENCH_BATCH"), NULL, 10) : 1;

  /* store order (hash order), as a resync's kick enqueues them */
  if (getenv("BENCH_COMPACT")) {
    size_t it = 0;
    const char *k;

    for (i = 0;
         i < n && store_next(account ? w->accounts : w->claims, &it, &k, NULL);
         i++) {
      free(keys[i]);
      keys[i] = strdup(k);
    }
  }
  for (i = 0; i < n; i++) {
    reconcile(w, account, keys[i]);
    if (every && ((i + 1) % every == 0 || (i + 1) % BENCH_BATCH == 0)) {
      store_trim(w->accounts);
      store_trim(w->claims);
    }
  }
  store_trim(w->accounts);
  store_trim(w->claims);
  store_keys_free(keys, n);
}

/* Rounds over every key of both kinds: reconciles per second. */
static double noop_rate(struct world *w, unsigned rounds, size_t *total)
{
  double t0 = cpu_s(), dt;
  unsigned r;

  for (r = 0; r < rounds; r++) {
    reconcile_kind(w, true);
    reconcile_kind(w, false);
  }
  dt = cpu_s() - t0;
  *total = rounds * (store_len(w->accounts) + store_len(w->claims));
  return dt > 0 ? (double)*total / dt : 0;
}

struct keyv {
  char keys[8][STORE_KEY_MAX];
  size_t n;
};

static void add_key(const char *key, void *arg)
{
  struct keyv *v = arg;

  if (v->n < 8)
    str_copy(v->keys[v->n++], key, sizeof(v->keys[0]));
}

/* One event of kind `account` on object i: a changed annotation put into
 * its store, the other controller's mapping, the reconciles. */
static void one_event(struct world *w, bool account, size_t i, unsigned gen)
{
  struct store *s = account ? w->accounts : w->claims;
  const struct exec_desc *other = account ? &claim_desc : &acct_desc;
  void *other_ctl = account ? (void *)w->claim : (void *)w->acct;
  char key[STORE_KEY_MAX], val[16];
  struct keyv kv = { .n = 0 };
  json_t *o;
  size_t k;

  bench_key(account, i, key, sizeof(key));
  o = json_deep_copy(store_get(s, key));
  str_fmt(val, sizeof(val), "%u", gen);
  obj_set_annotation(o, "bench.example.com/gen", val);
  store_put_new(s, o, NULL);
  ctrl_map_keys(other->watches[0].map, other_ctl, store_get(s, key), add_key,
                &kv);
  reconcile(w, account, key);
  for (k = 0; k < kv.n; k++)
    reconcile(w, !account, kv.keys[k]);
}

static double event_us(struct world *w, bool account, size_t n)
{
  double t0 = cpu_s();
  unsigned e;

  for (e = 0; e < EVENTS; e++)
    one_event(w, account, (e * 7919u) % n, e);
  return (cpu_s() - t0) * 1e6 / EVENTS;
}

static int run(size_t n, unsigned rounds)
{
  struct world w;
  double fill0 = cpu_s(), fill_s, rate, acct_us, claim_us;
  size_t total;
  unsigned long api, aws, not_noop;

  if (world_init(&w, n)) {
    fprintf(stderr, "bench_reconcile: setup failed for n=%zu\n", n);
    world_free(&w);
    return 1;
  }
  fill_s = cpu_s() - fill0;
  reconcile_kind(&w, true); /* warm up */
  reconcile_kind(&w, false);
  bench_io_reset(&w.io);
  w.not_noop = 0;
  rate = noop_rate(&w, rounds, &total);
  api = bench_io_k8s(&w.io);
  aws = w.io.aws;
  not_noop = w.not_noop;
  acct_us = event_us(&w, true, n);
  claim_us = event_us(&w, false, n);
  printf("{\"n\":%zu,\"noop_reconciles_per_s\":%.0f,\"noop_reconciles\":%zu,"
         "\"api_requests\":%lu,\"aws_requests\":%lu,\"not_noop\":%lu,"
         "\"account_event_us\":%.1f,\"claim_event_us\":%.1f,"
         "\"fill_cpu_s\":%.3f}\n",
         n, rate, total, api, aws, not_noop, acct_us, claim_us, fill_s);
  fflush(stdout);
  world_free(&w);
  return 0;
}

int main(int argc, char **argv)
{
  unsigned rounds = 3;
  int i, rc = 0, sizes = 0;

  log_configure(getenv("BENCH_LOG") ? getenv("BENCH_LOG") : "warn", NULL);
  for (i = 1; i < argc; i++) {
    if (str_eq(argv[i], "--rounds") && i + 1 < argc) {
      rounds = (unsigned)strtoul(argv[++i], NULL, 10);
      continue;
    }
    rc |= run(strtoul(argv[i], NULL, 10), rounds);
    sizes++;
  }
  if (!sizes)
    rc = run(1000, rounds) | run(10000, rounds);
  return rc;
}
