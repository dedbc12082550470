/* A fast JSON decoder into jansson values, for the bulk text the operator
 * decodes over and over: list pages and watch events from the API server,
 * and the compact text its caches keep (cache/store.h).
 *
 * Why not json_loadb alone: jansson's lexer reads one character at a time
 * through a stream callback and copies every string through a growing
 * buffer; on a 2.6 KB Account it takes ~60 us where building the same
 * values takes ~7 us (json_deep_copy). Decoding took most of the daemon's
 * CPU from start to idle at 10,000 Accounts (docs/benchmarks.md).
 *
 * jparse accepts exactly RFC 8259 JSON as json_loadb does with the flags
 * below (UTF-8 validated, no "\u0000", integers that fit json_int_t, no
 * real overflow, nesting at most JPARSE_MAX_DEPTH, duplicate keys: the
 * last wins, key order kept) and builds the same values. On anything else
 * it returns NULL without a reason: k8s_json_loadb then asks json_loadb,
 * which decodes or reports the error, so an input jparse declines costs
 * time, never behaviour. */
#ifndef PKG_K8S_JPARSE_H
#define PKG_K8S_JPARSE_H

#include <jansson.h>
#include <stddef.h>

/* jansson's JSON_PARSER_MAX_DEPTH */
#define JPARSE_MAX_DEPTH 2048

/* Leave out the member managedFields of every object that is the value of
 * a member named metadata (server-side apply bookkeeping, a third of a
 * listed Account's bytes, dropped by every cache: store_strip). Ours only:
 * never passed on to jansson. */
#define JPARSE_DROP_MANAGED 0x100000

/* flags: JSON_DECODE_ANY (any value at the top, else an object or array
 * only), JPARSE_DROP_MANAGED. */
json_t *jparse(const char *p, size_t n, size_t flags);

/* jparse, else json_loadb(p, n, flags, err) (err may be NULL), with
 * JPARSE_DROP_MANAGED applied to its result the same way. */
json_t *k8s_json_loadb(const char *p, size_t n, size_t flags,
                       json_error_t *err);

#endif
