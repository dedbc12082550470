/* Deterministic names (see names.h). */
#include "controllers/common/names.h"

#include <string.h>

#include "cache/store.h"
#include "controllers/common/obj.h"
#include "controllers/common/step.h"
#include "util/err.h"
#include "util/str.h"

#include <stdarg.h>
#include <stdio.h>

static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

void names_suffix(const unsigned char rnd[NAMES_SUFFIX_LEN], char *out)
{
  size_t i;

  for (i = 0; i < NAMES_SUFFIX_LEN; i++)
    out[i] = alnum[rnd[i] % 36];
  out[NAMES_SUFFIX_LEN] = '\0';
}

int names_account_name(const char *suffix, char *out, size_t outsz)
{
  return str_fmt(out, outsz, "%s%s", NAMES_ACCOUNT_PREFIX, suffix);
}

int names_account_email(const char *name, char *out, size_t outsz)
{
  const char *dash = name ? strrchr(name, '-') : NULL;

  if (str_empty(name))
    return OP_EINVAL;
  if (!dash) /* Go's Split yields one segment: "<name>+<name>@" */
    return str_fmt(out, outsz, "%s+%s@redhat.com", name, name);
  return str_fmt(out, outsz, "%.*s+%s@redhat.com", (int)(dash - name), name,
                 dash + 1);
}

void names_suffix_from(const char *seed, char *out)
{
  unsigned long long h = 1469598103934665603ull;
  size_t i;

  for (; seed && *seed; seed++)
    h = (h ^ (unsigned char)*seed) * 1099511628211ull;
  for (i = 0; i < NAMES_SUFFIX_LEN; i++) {
    out[i] = alnum[h % 36];
    h /= 36;
  }
  out[NAMES_SUFFIX_LEN] = '\0';
}

void plan_event_set(struct plan_event *ev, const char *type, const char *reason,
                    const char *fmt, ...)
{
  va_list ap;

  str_copy(ev->type, type, sizeof(ev->type));
  str_copy(ev->reason, reason, sizeof(ev->reason));
  va_start(ap, fmt);
  vsnprintf(ev->message, sizeof(ev->message), fmt, ap);
  va_end(ap);
}

void names_ix_access_role(const json_t *access, struct store_values *out,
                          void *arg)
{
  const char *ns = obj_str(access, "spec.awsFederatedRole.namespace");
  const char *name = obj_str(access, "spec.awsFederatedRole.name");
  char key[STORE_KEY_MAX];

  (void)arg;
  if (str_empty(ns))
    ns = obj_namespace(access);
  if (!str_empty(name) && str_fmt(key, sizeof(key), "%s/%s", ns, name) >= 0)
    store_values_add(out, key);
}
