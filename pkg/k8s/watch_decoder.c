/* Newline framing of watch streams: each byte is
 * scanned for '\n' once; a line that arrives whole inside one slice is
 * parsed in place, only a line split across slices is copied into the
 * bounded carry buffer. */
#include <string.h>

#include "k8s/watch.h"
#include "util/str.h"
#include "util/util.h"
#include "k8s/jparse.h"

static const char *const type_names[] = { "ADDED", "MODIFIED", "DELETED",
                                          "BOOKMARK", "ERROR" };

int k8s_event_type_parse(const char *s, enum k8s_event_type *out)
{
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(type_names); i++) {
    if (str_eq(s, type_names[i])) {
      *out = (enum k8s_event_type)i;
      return 0;
    }
  }
  return OP_EPARSE;
}

const char *k8s_event_type_name(enum k8s_event_type t)
{
  return (unsigned)t < UTIL_ARRAY_SIZE(type_names) ? type_names[t] : "?";
}

void k8s_watch_decoder_init(struct k8s_watch_decoder *d, size_t max,
                            k8s_watch_decoder_cb cb, void *arg)
{
  memset(d, 0, sizeof(*d));
  d->max = max ? max : K8S_WATCH_DEFAULT_MAX_EVENT;
  buf_init(&d->line, d->max + 1); /* + a pending CR */
  d->cb = cb;
  d->arg = arg;
}

void k8s_watch_decoder_cleanup(struct k8s_watch_decoder *d)
{
  buf_cleanup(&d->line);
}

static int fail(struct k8s_watch_decoder *d, int err, const char *msg)
{
  d->err = err;
  str_copy(d->errmsg, msg, sizeof(d->errmsg));
  return err;
}

static int dispatch(struct k8s_watch_decoder *d, const char *p, size_t n)
{
  enum k8s_event_type type;
  json_error_t je;
  json_t *ev, *obj;
  int rc;

  if (n > 0 && p[n - 1] == '\r')
    n--;
  while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
    n--;
  if (n == 0)
    return 0;
  ev = k8s_json_loadb(p, n, d->parse_flags, &je);
  if (!ev)
    return fail(d, OP_EPARSE, "watch event is not JSON");
  obj = json_object_get(ev, "object");
  if (k8s_event_type_parse(json_string_value(json_object_get(ev, "type")),
                           &type) ||
      !json_is_object(obj)) {
    json_decref(ev);
    return fail(d, OP_EPARSE, "watch event without a known type and object");
  }
  rc = d->cb(type, obj, d->arg);
  json_decref(ev);
  if (rc)
    d->err = rc;
  return rc;
}

/* Bytes of the current line (carry + n new bytes) excluding a final CR. */
static size_t line_len(const struct k8s_watch_decoder *d, const char *data,
                       size_t n)
{
  size_t total = d->line.len + n;
  char last =
      n ? data[n - 1] : (d->line.len ? d->line.data[d->line.len - 1] : '\0');

  return last == '\r' ? total - 1 : total;
}

static int too_big(struct k8s_watch_decoder *d)
{
  buf_reset(&d->line);
  return fail(d, OP_ETOOBIG, "watch event exceeds the size cap");
}

int k8s_watch_decoder_feed(struct k8s_watch_decoder *d, const char *data,
                           size_t len)
{
  const char *nl;
  size_t n;
  int rc;

  if (d->err)
    return d->err;
  while (len > 0) {
    nl = memchr(data, '\n', len);
    n = nl ? (size_t)(nl - data) : len;
    /* an unterminated line may still end in the CR of a CRLF */
    if (line_len(d, data, n) > d->max || (!nl && d->line.len + n > d->max + 1))
      return too_big(d);
    if (!nl)
      return buf_append(&d->line, data, n) ? too_big(d) : 0;
    if (d->line.len == 0) {
      rc = dispatch(d, data, n);
    } else {
      if (n && buf_append(&d->line, data, n))
        return too_big(d);
      rc = dispatch(d, d->line.data, d->line.len);
      buf_reset(&d->line);
    }
    if (rc)
      return rc;
    data = nl + 1;
    len -= n + 1;
  }
  return 0;
}

int k8s_watch_decoder_finish(struct k8s_watch_decoder *d)
{
  int rc;

  if (d->err)
    return d->err;
  if (d->line.len == 0)
    return 0;
  rc = dispatch(d, d->line.data, d->line.len);
  buf_reset(&d->line);
  return rc;
}
