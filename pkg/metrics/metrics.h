/* Metrics registry: counters, gauges and histograms with label sets, and
 * the Prometheus text exposition format 0.0.4.
 *
 * Families are created once at start-up and live as long as the registry;
 * the returned family pointers are borrowed (the registry owns them).
 * Series are created on first use of a label-value combination.
 * Rendering happens only on scrape (never per update).
 *
 *   static const char *const lbl[] = { "controller", "result", NULL };
 *   struct met_family *f = met_counter(reg,
 * "controller_runtime_reconcile_total", "Total number of reconciliations",
 * lbl); met_inc(f, MET_LV("account", "success"));
 *
 * Label values arrays must have exactly as many entries as the family has
 * label names (MET_LV NULL-terminates; NULL for a family without labels).
 * Names and label names are validated at creation (abort on a programming
 * error: invalid name or duplicate family). Using a family with the wrong
 * number of label values, or an operation its type does not support
 * (met_observe on a counter, met_set on a histogram), aborts too.
 *
 * Exposition: families in registration order, each family's series sorted
 * by label values (byte order, label by label), so output is deterministic.
 * A family without labels always has its one series (0 until updated, back
 * to 0 after a reset); a labelled family with no series is left out.
 */
#ifndef PKG_METRICS_METRICS_H
#define PKG_METRICS_METRICS_H

#include <stddef.h>

#include "util/buf.h"

struct met_registry;
struct met_family;

enum met_type { MET_COUNTER, MET_GAUGE, MET_HISTOGRAM };

#define MET_LV(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct met_registry *met_registry_new(void);
void met_registry_free(struct met_registry *r);

/* labels: NULL-terminated label names (copied), or NULL for none. */
struct met_family *met_counter(struct met_registry *r, const char *name,
                               const char *help, const char *const *labels);
struct met_family *met_gauge(struct met_registry *r, const char *name,
                             const char *help, const char *const *labels);
/* buckets: strictly increasing upper bounds (copied); +Inf is implicit
 * (a trailing +Inf given by the caller is accepted and merged). */
struct met_family *met_histogram(struct met_registry *r, const char *name,
                                 const char *help, const double *buckets,
                                 size_t nbuckets, const char *const *labels);
/* A label with a fixed value on every series of the family, printed first
 * (upstream's name="aws-account-operator"). Call before first use. */
void met_family_const_label(struct met_family *f, const char *name,
                            const char *value);

/* met_inc/met_add: counters and gauges; a negative (or NaN) add to a
 * counter is ignored. met_set: gauges, and counters too, for collectors
 * that copy a total kept elsewhere (process_cpu_seconds_total). */
void met_inc(struct met_family *f, const char *const *values);
void met_add(struct met_family *f, const char *const *values, double v);
void met_set(struct met_family *f, const char *const *values, double v);
void met_observe(struct met_family *f, const char *const *values, double v);
/* Current value of a counter/gauge series (0 if absent); count of a
 * histogram series. For tests and for reading back. */
double met_value(struct met_family *f, const char *const *values);
/* Drop every series (scrape-time gauges are reset, then refilled). */
void met_family_reset(struct met_family *f);
void met_series_remove(struct met_family *f, const char *const *values);
/* A gauge that counts objects, kept up to date from informer events
 * instead of a recount per scrape: add delta (+1 / -1); a series that
 * falls to 0 or below is dropped, as a recount would not produce it. */
void met_count(struct met_family *f, const char *const *values, double delta);

/* Called at scrape time, in registration order, before rendering. */
typedef void (*met_collect_fn)(struct met_registry *r, void *arg);
void met_add_collector(struct met_registry *r, met_collect_fn fn, void *arg);

/* Render every family (collectors first) in text format 0.0.4, appending
 * to out. Returns 0 or OP_ETOOBIG when out's cap is reached (out is then
 * cleared, per buf's contract). */
int met_render(struct met_registry *r, struct buf *out);

/* Bucket helpers (fill out[n]): start * factor^i (start > 0, factor > 1)
 * and start + i * width (width > 0); bad parameters abort. */
void met_buckets_exponential(double start, double factor, size_t n,
                             double *out);
void met_buckets_linear(double start, double width, size_t n, double *out);

/* Register process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_cpu_seconds_total, process_open_fds, process_max_fds,
 * process_start_time_seconds, read from /proc at scrape time. */
void met_register_process(struct met_registry *r);

#define MET_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
