/* Levelled, structured logging: one line per record, key=value (logfmt) or
 * JSON, with a per-module tag and redaction of secrets.
 *
 * The logger is the one deliberate process-wide state in the project (like
 * stderr itself): it is configured once at start-up by log_configure and
 * read everywhere. The level is checked before anything is formatted
 * (redis's serverLog), so disabled debug lines cost one comparison.
 *
 *   log_info("httpc", "request done in %.3fs", secs);
 *   log_at(LOG_WARN, "k8s", LOG_KV({ "key", key }, { "code", "409" }),
 *          "update conflict, retrying");
 *
 * Redaction: values of fields whose key looks secret (authorization, token,
 * secret, password, signature, credential) are replaced by [REDACTED]; in
 * messages and other values, "Bearer <x>", "Signature=<x>",
 * "X-Amz-Security-Token=<x>" and "aws_secret_access_key=<x>" are scrubbed.
 * Callers must still never pass secret material on purpose.
 */
#ifndef PKG_LOG_LOG_H
#define PKG_LOG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL };
enum log_format { LOG_FMT_KV = 0, LOG_FMT_JSON };

struct log_field {
  const char *k;
  const char *v;
};

/* A NULL-terminated field list literal. */
#define LOG_KV(...) ((const struct log_field[]){ __VA_ARGS__, { NULL, NULL } })

/* spec: "info" or "info,httpc=debug,k8s=warn" (per-module overrides, at most
 * 16); format: "kv"/"text"/"logfmt" or "json". Returns 0 or OP_EINVAL and
 * changes nothing on error. Either argument may be NULL (unchanged). */
int log_configure(const char *spec, const char *format);
/* Where lines go (default stderr). For tests: an open_memstream FILE. */
void log_set_output(FILE *f);
/* Restore defaults: info, kv, stderr, no overrides. */
void log_reset(void);

int log_parse_level(const char *s, enum log_level *out);
const char *log_level_name(enum log_level l);

bool log_enabled(enum log_level l, const char *mod);

void log_emit(enum log_level l, const char *mod, const struct log_field *fields,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct buf;
/* Append s to out with secret-looking substrings scrubbed (see above). */
int log_redact(const char *s, struct buf *out);
/* True if a field with this key must never be printed. */
bool log_key_is_secret(const char *key);

#define log_at(l, mod, fields, ...)                                            \
  do {                                                                         \
    if (log_enabled((l), (mod)))                                               \
      log_emit((l), (mod), (fields), __VA_ARGS__);                             \
  } while (0)

#define log_debug(mod, ...) log_at(LOG_DEBUG, mod, NULL, __VA_ARGS__)
#define log_info(mod, ...) log_at(LOG_INFO, mod, NULL, __VA_ARGS__)
#define log_warn(mod, ...) log_at(LOG_WARN, mod, NULL, __VA_ARGS__)
#define log_error(mod, ...) log_at(LOG_ERROR, mod, NULL, __VA_ARGS__)

#endif
