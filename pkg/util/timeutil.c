#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>

#include "util/err.h"

uint64_t time_mono_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

double time_mono_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t time_wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void time_rfc3339(time_t t, char out[TIME_RFC3339_LEN])
{
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, TIME_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Parse the offset suffix ("Z", "+hh:mm", "-hh:mm") into seconds east. */
static int parse_offset(const char *p, long *off)
{
  int hh, mm, n = 0;

  if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0') {
    *off = 0;
    return 0;
  }
  if ((p[0] != '+' && p[0] != '-') ||
      sscanf(p + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || p[1 + n] != '\0' ||
      hh > 23 || mm > 59)
    return OP_EPARSE;
  *off = (hh * 3600L + mm * 60L) * (p[0] == '-' ? -1 : 1);
  return 0;
}

int time_parse_rfc3339(const char *s, time_t *out)
{
  struct tm tm;
  const char *p;
  long off;
  time_t t;

  memset(&tm, 0, sizeof(tm));
  if (!s)
    return OP_EPARSE;
  p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p)
    return OP_EPARSE;
  if (*p == '.') {
    p++;
    if (*p < '0' || *p > '9')
      return OP_EPARSE;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  if (parse_offset(p, &off))
    return OP_EPARSE;
  t = timegm(&tm);
  if (t == (time_t)-1)
    return OP_EPARSE;
  *out = t - off;
  return 0;
}

int time_parse_http_date(const char *s, time_t *out)
{
  struct tm tm;
  const char *p;

  memset(&tm, 0, sizeof(tm));
  if (!s)
    return OP_EPARSE;
  p = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!p || *p != '\0')
    return OP_EPARSE;
  *out = timegm(&tm);
  return 0;
}

static long long unit_seconds(char c)
{
  return c == 'h' ? 3600 : c == 'm' ? 60 : c == 's' ? 1 : 0;
}

int time_parse_duration(const char *s, long long min_s, long long max_s,
                        long long *out_s)
{
  /* Cap every partial sum well below overflow: anything larger than a
   * year is out of range for every caller anyway. */
  const long long cap = 366LL * 24 * 3600;
  long long total = 0;

  if (!s || !*s)
    return OP_EINVAL;
  while (*s) {
    long long n = 0, unit;

    if (*s < '0' || *s > '9')
      return OP_EINVAL;
    while (*s >= '0' && *s <= '9') {
      if (n <= cap)
        n = n * 10 + (*s - '0');
      s++;
    }
    unit = unit_seconds(*s);
    if (!unit)
      return OP_EINVAL;
    s++;
    total += n > cap ? cap + 1 : n * unit;
    if (total > cap)
      total = cap + 1;
  }
  if (total < min_s || total > max_s)
    return OP_ERANGE;
  *out_s = total;
  return 0;
}
