/* Time helpers: monotonic and wall clocks, RFC 3339 (the format of every
 * Kubernetes timestamp and of the close-rate-limited-until annotation). */
#ifndef PKG_UTIL_TIMEUTIL_H
#define PKG_UTIL_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Milliseconds on a monotonic clock (for timeouts and durations). */
uint64_t time_mono_ms(void);
/* Seconds (with fraction) on a monotonic clock. */
double time_mono_s(void);
/* Milliseconds since the Unix epoch, wall clock. */
int64_t time_wall_ms(void);

#define TIME_RFC3339_LEN 21 /* "2006-01-02T15:04:05Z" + NUL */
/* Format t (UTC) as "YYYY-MM-DDTHH:MM:SSZ" into out[TIME_RFC3339_LEN]. */
void time_rfc3339(time_t t, char out[TIME_RFC3339_LEN]);
/* Parse RFC 3339 ("Z" or "+hh:mm"; fractional seconds ignored) into epoch
 * seconds. Returns 0 or OP_EPARSE. */
int time_parse_rfc3339(const char *s, time_t *out);
/* Parse an HTTP-date (RFC 7231 IMF-fixdate) into epoch seconds. */
int time_parse_http_date(const char *s, time_t *out);
/* Parse a duration in whole seconds, Go's notation without fractions:
 * one or more <digits><unit> with unit h, m or s ("10m", "1m30s", "45s").
 * Returns 0, OP_EINVAL (syntax) or OP_ERANGE (outside [min_s, max_s]). */
int time_parse_duration(const char *s, long long min_s, long long max_s,
                        long long *out_s);

#endif
