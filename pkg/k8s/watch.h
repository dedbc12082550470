/* Watch framing: the pure, incremental decoder behind k8s_watch_start
 * (k8s.h). Bytes arrive in arbitrary slices; complete lines are parsed as
 * watch events ({"type":..., "object":{...}}) exactly once, and only the
 * unfinished tail of the last line is kept, in a bounded buffer.
 *
 *   k8s_watch_decoder_init(&d, max_line, on_event, arg);
 *   rc = k8s_watch_decoder_feed(&d, data, len);  // per slice
 *   rc = k8s_watch_decoder_finish(&d);           // at end of stream
 *   k8s_watch_decoder_cleanup(&d);
 */
#ifndef PKG_K8S_WATCH_H
#define PKG_K8S_WATCH_H

#include <jansson.h>
#include <stddef.h>

#include "k8s/k8s.h"
#include "util/buf.h"

/* obj is borrowed. Return 0 to go on; non-zero stops the decoder and is
 * returned by feed/finish. */
typedef int (*k8s_watch_decoder_cb)(enum k8s_event_type type, json_t *obj,
                                    void *arg);

struct k8s_watch_decoder {
  struct buf line; /* unfinished line carried between feeds */
  size_t max;      /* cap on one line, CR/LF excluded */
  k8s_watch_decoder_cb cb;
  void *arg;
  int err;            /* sticky: once a feed failed, every later feed fails */
  size_t parse_flags; /* k8s_json_loadb flags for each event (jparse.h) */
  char errmsg[160];
};

#define K8S_WATCH_DEFAULT_MAX_EVENT (4u * 1024 * 1024)

/* max 0 = K8S_WATCH_DEFAULT_MAX_EVENT. */
void k8s_watch_decoder_init(struct k8s_watch_decoder *d, size_t max,
                            k8s_watch_decoder_cb cb, void *arg);
void k8s_watch_decoder_cleanup(struct k8s_watch_decoder *d);
/* 0, OP_EPARSE (not JSON, not an event, unknown type), OP_ETOOBIG (a line
 * over max), or the callback's non-zero return. Empty lines and a CR before
 * the LF are tolerated. */
int k8s_watch_decoder_feed(struct k8s_watch_decoder *d, const char *data,
                           size_t len);
/* End of stream: a pending unterminated line is decoded as a last event. */
int k8s_watch_decoder_finish(struct k8s_watch_decoder *d);

/* Parse "ADDED".."ERROR"; returns 0 or OP_EPARSE. */
int k8s_event_type_parse(const char *s, enum k8s_event_type *out);
const char *k8s_event_type_name(enum k8s_event_type t);

/* The resourceVersion of the last ADDED/MODIFIED/DELETED/BOOKMARK event
 * seen by this watch (borrowed, "" if none): where to resume. */
const char *k8s_watch_last_rv(const struct k8s_watch *w);

#endif
