/* Cross-file internals of pkg/metrics (not part of the public API). */
#ifndef PKG_METRICS_INTERNAL_H
#define PKG_METRICS_INTERNAL_H

#include "metrics/metrics.h"

/* Like met_add_collector, but the registry frees arg (with free) when it
 * is freed: for collectors whose state exists only for the registry. */
void met__add_collector_owned(struct met_registry *r, met_collect_fn fn,
                              void *arg);

#endif
