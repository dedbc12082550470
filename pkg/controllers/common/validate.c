/* Shape checks of names and ids (see validate.h). */
#include "controllers/common/validate.h"

#include <string.h>

static bool lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool digit(char c)
{
  return c >= '0' && c <= '9';
}

static bool alpha(char c)
{
  return c >= 'a' && c <= 'z';
}

/* One label of n characters: [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static bool label_ok(const char *s, size_t n)
{
  size_t i;

  if (n == 0 || !lower_alnum(s[0]) || !lower_alnum(s[n - 1]))
    return false;
  for (i = 1; i + 1 < n; i++)
    if (!lower_alnum(s[i]) && s[i] != '-')
      return false;
  return true;
}

bool validate_dns1123_label(const char *s)
{
  size_t n = s ? strlen(s) : 0;

  return n <= 63 && label_ok(s, n);
}

bool validate_dns1123_subdomain(const char *s)
{
  const char *p, *dot;

  if (!s || strlen(s) > 253)
    return false;
  for (p = s;; p = dot + 1) {
    dot = strchr(p, '.');
    if (!label_ok(p, dot ? (size_t)(dot - p) : strlen(p)))
      return false;
    if (!dot)
      return true;
  }
}

bool validate_account_id(const char *s)
{
  size_t i;

  if (!s || strlen(s) != 12)
    return false;
  for (i = 0; i < 12; i++)
    if (!digit(s[i]))
      return false;
  return true;
}

/* Skip [a-z]+ at *p; false when there is none. */
static bool word(const char **p)
{
  const char *s = *p;

  while (alpha(**p))
    (*p)++;
  return *p > s;
}

bool validate_region(const char *s)
{
  const char *p = s;

  if (!s || strlen(s) > 31 || !alpha(p[0]) || !alpha(p[1]) || p[2] != '-')
    return false;
  p += 3;
  if (!strncmp(p, "gov-", 4))
    p += 4;
  else if (!strncmp(p, "iso-", 4) ||
           (!strncmp(p, "iso", 3) && alpha(p[3]) && p[4] == '-'))
    p += p[3] == '-' ? 4 : 5;
  if (!word(&p) || *p++ != '-' || !digit(*p))
    return false;
  while (digit(*p))
    p++;
  return *p == '\0';
}

static bool space(char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r');
}

bool validate_principal_arn(const char *s, unsigned long max)
{
  static const char *const parts[] = { "arn:aws:", "arn:aws-us-gov:",
                                       "arn:aws-cn:" };
  const char *p = NULL;
  size_t i;

  if (!s || strlen(s) > max)
    return false;
  for (i = 0; i < 3 && !p; i++)
    if (!strncmp(s, parts[i], strlen(parts[i])))
      p = s + strlen(parts[i]);
  if (!p || (strncmp(p, "iam::", 5) && strncmp(p, "sts::", 5)))
    return false;
  p += 5;
  for (i = 0; i < 12; i++)
    if (!digit(p[i]))
      return false;
  if (p[12] != ':' || !p[13])
    return false;
  for (p += 13; *p; p++)
    if (space(*p))
      return false;
  return true;
}

bool validate_email(const char *s)
{
  const char *at, *dot, *p;
  size_t n = s ? strlen(s) : 0;

  if (n < 6 || n > 64)
    return false;
  for (p = s; *p; p++)
    if (space(*p))
      return false;
  at = strchr(s, '@');
  if (!at || at == s || strchr(at + 1, '@'))
    return false;
  dot = strrchr(at + 1, '.');
  return dot && dot > at + 1 && dot[1] != '\0';
}

bool validate_len(const char *s, unsigned long min, unsigned long max)
{
  unsigned long n = 0;
  const unsigned char *p;

  if (!s)
    return false;
  for (p = (const unsigned char *)s; *p; n++) {
    size_t k = *p < 0x80         ? 1
               : (*p >> 5) == 6  ? 2
               : (*p >> 4) == 14 ? 3
               : (*p >> 3) == 30 ? 4
                                 : 0;
    size_t i;

    if (!k)
      return false;
    for (i = 1; i < k; i++)
      if ((p[i] & 0xC0) != 0x80)
        return false;
    p += k;
    if (n >= max)
      return false;
  }
  return n >= min;
}
