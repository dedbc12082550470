/* Compact JSON text of a jansson value, for the compact store (store.h):
 * every object a fleet list brings is encoded once on the way in.
 *
 * Why not json_dumps: it writes through a callback per token and walks
 * each string code point by code point; on a 2.6 KB Account it took ~30 us,
 * a seventh of the daemon's CPU from start to idle at 10,000 Accounts
 * (docs/benchmarks.md). The text is the one json_dumps(v, JSON_COMPACT)
 * writes: same escapes, key order, number forms. */
#ifndef PKG_CACHE_JWRITE_H
#define PKG_CACHE_JWRITE_H

#include <jansson.h>
#include <stddef.h>

/* NUL-terminated text (free() it) and its length in *len (may be NULL);
 * NULL for a NULL value or when memory runs out. */
char *jwrite_compact(const json_t *v, size_t *len);

#endif
