#include "log/log.h"

#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"

#define LOG_MAX_OVERRIDES 16
#define LOG_LINE_MAX (64 * 1024)

struct log_override {
  char mod[32];
  enum log_level level;
};

/* The process-wide logger (see log.h for why this one global exists). */
static struct {
  enum log_level level;
  enum log_format format;
  FILE *out;
  struct log_override ov[LOG_MAX_OVERRIDES];
  int nov;
} L = { LOG_INFO, LOG_FMT_KV, NULL, { { "", LOG_INFO } }, 0 };

static const char *const level_names[] = { "debug", "info", "warn", "error",
                                           "fatal" };

const char *log_level_name(enum log_level l)
{
  return l <= LOG_FATAL ? level_names[l] : "unknown";
}

int log_parse_level(const char *s, enum log_level *out)
{
  int i;

  if (str_case_eq(s, "warning")) {
    *out = LOG_WARN;
    return 0;
  }
  for (i = 0; i <= LOG_FATAL; i++) {
    if (str_case_eq(s, level_names[i])) {
      *out = (enum log_level)i;
      return 0;
    }
  }
  return OP_EINVAL;
}

/* Parse "info,httpc=debug" into level and overrides, without side effects
 * until the whole spec is known to be valid. */
static int parse_spec(const char *spec, enum log_level *level,
                      struct log_override *ov, int *nov)
{
  char tmp[512], *save = NULL, *tok, *eq;

  if (str_copy(tmp, spec, sizeof(tmp)) >= sizeof(tmp) || !*spec)
    return OP_EINVAL;
  *nov = 0;
  for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    tok = str_trim(tok);
    eq = strchr(tok, '=');
    if (!eq) {
      if (log_parse_level(tok, level))
        return OP_EINVAL;
      continue;
    }
    *eq = '\0';
    if (*nov >= LOG_MAX_OVERRIDES || !*tok ||
        str_copy(ov[*nov].mod, tok, sizeof(ov[*nov].mod)) >=
            sizeof(ov[*nov].mod) ||
        log_parse_level(eq + 1, &ov[*nov].level))
      return OP_EINVAL;
    (*nov)++;
  }
  return 0;
}

int log_configure(const char *spec, const char *format)
{
  struct log_override ov[LOG_MAX_OVERRIDES];
  enum log_level level = L.level;
  enum log_format fmt = L.format;
  int nov = L.nov;

  if (format) {
    if (str_case_eq(format, "json"))
      fmt = LOG_FMT_JSON;
    else if (str_case_eq(format, "kv") || str_case_eq(format, "text") ||
             str_case_eq(format, "logfmt"))
      fmt = LOG_FMT_KV;
    else
      return OP_EINVAL;
  }
  memcpy(ov, L.ov, sizeof(ov));
  if (spec && parse_spec(spec, &level, ov, &nov))
    return OP_EINVAL;
  L.level = level;
  L.format = fmt;
  memcpy(L.ov, ov, sizeof(ov));
  L.nov = nov;
  return 0;
}

void log_set_output(FILE *f)
{
  L.out = f;
}

void log_reset(void)
{
  L.level = LOG_INFO;
  L.format = LOG_FMT_KV;
  L.out = NULL;
  L.nov = 0;
}

bool log_enabled(enum log_level l, const char *mod)
{
  int i;

  for (i = 0; i < L.nov; i++) {
    if (mod && strcmp(L.ov[i].mod, mod) == 0)
      return l >= L.ov[i].level;
  }
  return l >= L.level;
}

bool log_key_is_secret(const char *key)
{
  static const char *const words[] = { "authorization", "token",
                                       "secret",        "password",
                                       "signature",     "credential",
                                       "cookie" };
  char low[64];
  size_t i;

  str_copy(low, key, sizeof(low));
  str_lower(low);
  for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
    if (strstr(low, words[i]))
      return true;
  }
  return false;
}

/* Length of the secret value starting at p. */
static size_t value_len(const char *p)
{
  size_t n = 0;

  while (p[n] && !isspace((unsigned char)p[n]) && !strchr("&\",;'", p[n]))
    n++;
  return n;
}

int log_redact(const char *s, struct buf *out)
{
  static const char *const pats[] = { "bearer ",
                                      "signature=",
                                      "x-amz-security-token=",
                                      "x-amz-signature=",
                                      "aws_secret_access_key=",
                                      "aws_session_token=",
                                      "secretaccesskey=",
                                      "sessiontoken=" };
  size_t i, n, best_len = 0;
  const char *best;
  int rc = 0;

  while (*s && !rc) {
    best = NULL;
    for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
      const char *hit = strcasestr(s, pats[i]);
      if (hit && (!best || hit < best)) {
        best = hit;
        best_len = strlen(pats[i]);
      }
    }
    if (!best)
      return buf_append_str(out, s);
    rc = buf_append(out, s, (size_t)(best - s) + best_len);
    s = best + best_len;
    n = value_len(s);
    if (n && !rc)
      rc = buf_append_str(out, "[REDACTED]");
    s += n;
  }
  return rc;
}

static void timestamp(char *out, size_t n)
{
  struct timeval tv;
  struct tm tm;

  gettimeofday(&tv, NULL);
  gmtime_r(&tv.tv_sec, &tm);
  /* strftime cannot print milliseconds; append them separately. */
  strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + strlen(out), n - strlen(out), ".%03dZ",
           (int)(tv.tv_usec / 1000) % 1000);
}

/* logfmt value: bare when safe, else double-quoted with escapes. */
static void kv_value(struct buf *b, const char *v)
{
  const char *p;
  bool bare = *v != '\0';

  for (p = v; *p && bare; p++)
    bare = (unsigned char)*p > ' ' && *p != '"' && *p != '=' && *p != '\\';
  if (bare) {
    buf_append_str(b, v);
    return;
  }
  buf_append_char(b, '"');
  for (p = v; *p; p++) {
    if (*p == '"' || *p == '\\')
      buf_printf(b, "\\%c", *p);
    else if (*p == '\n')
      buf_append_str(b, "\\n");
    else if ((unsigned char)*p < ' ')
      buf_printf(b, "\\x%02x", (unsigned char)*p);
    else
      buf_append_char(b, *p);
  }
  buf_append_char(b, '"');
}

/* The redacted form of a field value. */
static void field_value(struct buf *tmp, const struct log_field *f)
{
  buf_reset(tmp);
  if (log_key_is_secret(f->k))
    buf_append_str(tmp, "[REDACTED]");
  else
    log_redact(f->v ? f->v : "", tmp);
}

static void emit_kv(struct buf *line, const char *ts, enum log_level l,
                    const char *mod, const char *msg,
                    const struct log_field *fields)
{
  struct buf tmp;

  buf_init(&tmp, LOG_LINE_MAX);
  buf_printf(line, "ts=%s level=%s mod=%s msg=", ts, log_level_name(l),
             mod ? mod : "-");
  kv_value(line, msg);
  for (; fields && fields->k; fields++) {
    field_value(&tmp, fields);
    buf_printf(line, " %s=", fields->k);
    kv_value(line, buf_str(&tmp));
  }
  buf_cleanup(&tmp);
}

static void emit_json(struct buf *line, const char *ts, enum log_level l,
                      const char *mod, const char *msg,
                      const struct log_field *fields)
{
  json_t *o = json_object();
  struct buf tmp;
  char *s;

  buf_init(&tmp, LOG_LINE_MAX);
  json_object_set_new(o, "ts", json_string(ts));
  json_object_set_new(o, "level", json_string(log_level_name(l)));
  json_object_set_new(o, "mod", json_string(mod ? mod : "-"));
  json_object_set_new(o, "msg", json_string(msg));
  for (; fields && fields->k; fields++) {
    field_value(&tmp, fields);
    json_object_set_new(o, fields->k, json_string(buf_str(&tmp)));
  }
  s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (s)
    buf_append_str(line, s);
  free(s);
  json_decref(o);
  buf_cleanup(&tmp);
}

void log_emit(enum log_level l, const char *mod, const struct log_field *fields,
              const char *fmt, ...)
{
  struct buf raw, msg, line;
  char ts[64];
  va_list ap;

  buf_init(&raw, LOG_LINE_MAX);
  buf_init(&msg, LOG_LINE_MAX);
  buf_init(&line, 2 * LOG_LINE_MAX);
  va_start(ap, fmt);
  buf_vprintf(&raw, fmt, ap);
  va_end(ap);
  log_redact(buf_str(&raw), &msg);
  timestamp(ts, sizeof(ts));
  if (L.format == LOG_FMT_JSON)
    emit_json(&line, ts, l, mod, buf_str(&msg), fields);
  else
    emit_kv(&line, ts, l, mod, buf_str(&msg), fields);
  buf_append_char(&line, '\n');
  fwrite(buf_str(&line), 1, line.len, L.out ? L.out : stderr);
  fflush(L.out ? L.out : stderr);
  buf_cleanup(&raw);
  buf_cleanup(&msg);
  buf_cleanup(&line);
}
