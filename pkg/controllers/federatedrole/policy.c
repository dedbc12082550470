/* AWSFederatedRole custom policy checks (policy.h). */
#include "controllers/federatedrole/policy.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "controllers/common/obj.h"
#include "util/str.h"

static int bad(char *msg, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(char *msg, size_t n, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, n, fmt, ap);
  va_end(ap);
  return 1;
}

/* Letters, digits and the characters in extra; at least one. */
static bool chars_ok(const char *s, size_t len, const char *extra)
{
  size_t i;

  for (i = 0; i < len; i++) {
    if (!isalnum((unsigned char)s[i]) && !strchr(extra, s[i]))
      return false;
  }
  return len > 0;
}

static bool action_ok(const char *a)
{
  const char *c = strchr(a, ':');

  /* case as IAM: service prefixes and names match case-insensitively */
  if (str_eq(a, "*"))
    return true;
  if (!c || c == a || strchr(c + 1, ':'))
    return false;
  return chars_ok(a, (size_t)(c - a), "-") &&
         chars_ok(c + 1, strlen(c + 1), "*?");
}

static bool resource_ok(const char *r)
{
  const char *p;
  int colons = 0;

  if (str_eq(r, "*"))
    return true;
  /* arn:partition:service:region:account:resource; region and account may
   * be empty, partition and service not, the resource may hold colons */
  if (!str_has_prefix(r, "arn:") || strlen(r) > 2048 || r[4] == ':')
    return false;
  p = r + 4;
  for (; *p && colons < 4; p++) {
    colons += *p == ':';
    if (colons == 1 && *p == ':' && p[1] == ':')
      return false; /* empty service */
  }
  return colons == 4 && *p;
}

static const char *const cond_ops[] = {
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringNotEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "NumericEquals",
  "NumericNotEquals",
  "NumericLessThan",
  "NumericLessThanEquals",
  "NumericGreaterThan",
  "NumericGreaterThanEquals",
  "DateEquals",
  "DateNotEquals",
  "DateLessThan",
  "DateLessThanEquals",
  "DateGreaterThan",
  "DateGreaterThanEquals",
  "Bool",
  "BinaryEquals",
  "IpAddress",
  "NotIpAddress",
  "ArnEquals",
  "ArnLike",
  "ArnNotEquals",
  "ArnNotLike",
  "Null",
  NULL,
};

static bool cond_op_ok(const char *op)
{
  char base[64];
  size_t n, i;

  if (str_has_prefix(op, "ForAllValues:"))
    op += strlen("ForAllValues:");
  else if (str_has_prefix(op, "ForAnyValue:"))
    op += strlen("ForAnyValue:");
  str_copy(base, op, sizeof(base));
  n = strlen(base);
  if (str_has_suffix(base, "IfExists") && !str_eq(base, "IfExists"))
    base[n - strlen("IfExists")] = '\0';
  for (i = 0; cond_ops[i]; i++) {
    if (str_eq(base, cond_ops[i]))
      return true;
  }
  return false;
}

static bool cond_value_ok(const json_t *v)
{
  const json_t *e;
  size_t i;

  if (json_is_string(v))
    return true;
  if (!json_is_array(v) || !json_array_size(v))
    return false;
  json_array_foreach(v, i, e)
  {
    if (!json_is_string(e))
      return false;
  }
  return true;
}

static int check_condition(const json_t *c, size_t i, char *msg, size_t n)
{
  const char *op, *k;
  json_t *m, *v;

  if (!json_is_object(c))
    return bad(msg, n, "awsStatements[%zu].condition: not an object", i);
  json_object_foreach((json_t *)c, op, m)
  {
    if (!cond_op_ok(op))
      return bad(msg, n,
                 "awsStatements[%zu].condition: unknown condition operator "
                 "\"%s\"",
                 i, op);
    if (!json_is_object(m) || !json_object_size(m))
      return bad(msg, n,
                 "awsStatements[%zu].condition.%s: needs condition key: "
                 "value pairs",
                 i, op);
    json_object_foreach(m, k, v)
    {
      if (str_empty(k) || !cond_value_ok(v))
        return bad(msg, n,
                   "awsStatements[%zu].condition.%s.%s: value must be a "
                   "string or a list of strings",
                   i, op, k);
    }
  }
  return 0;
}

static bool principal_ok(const char *p)
{
  size_t i;

  if (str_eq(p, "*"))
    return true;
  if (strlen(p) == 12) {
    for (i = 0; i < 12 && isdigit((unsigned char)p[i]); i++)
      ;
    if (i == 12)
      return true;
  }
  return str_has_prefix(p, "arn:") && strstr(p, ":iam::") && resource_ok(p);
}

/* A list of strings at key of statement s, each passing ok. */
static int check_list(const json_t *s, size_t i, const char *key, bool required,
                      bool (*ok)(const char *), const char *want, char *msg,
                      size_t n)
{
  const json_t *l = json_object_get(s, key), *e;
  size_t k;

  if (!l && !required)
    return 0;
  if (!json_is_array(l) || !json_array_size(l))
    return bad(msg, n, "awsStatements[%zu].%s: must be a non-empty list", i,
               key);
  json_array_foreach(l, k, e)
  {
    if (!json_is_string(e) || !ok(json_string_value(e)))
      return bad(msg, n, "awsStatements[%zu].%s[%zu] \"%s\": %s", i, key, k,
                 json_is_string(e) ? json_string_value(e) : "?", want);
  }
  return 0;
}

static int check_principal(const json_t *p, size_t i, char *msg, size_t n)
{
  const json_t *aws = json_object_get(p, "AWS"), *e;
  size_t k;

  if (!json_is_object(p) || json_object_size(p) != 1 || !json_is_array(aws) ||
      !json_array_size(aws))
    return bad(msg, n,
               "awsStatements[%zu].principal: needs a non-empty AWS "
               "list and nothing else",
               i);
  json_array_foreach(aws, k, e)
  {
    if (!json_is_string(e) || !principal_ok(json_string_value(e)))
      return bad(msg, n,
                 "awsStatements[%zu].principal.AWS[%zu] \"%s\": not *, an "
                 "account id or an IAM ARN",
                 i, k, json_is_string(e) ? json_string_value(e) : "?");
  }
  return 0;
}

static int check_statement(const json_t *s, size_t i, char *msg, size_t n)
{
  const char *eff = obj_str(s, "effect");

  if (!json_is_object(s))
    return bad(msg, n, "awsStatements[%zu]: not an object", i);
  if (!str_eq(eff, "Allow") && !str_eq(eff, "Deny"))
    return bad(msg, n,
               "awsStatements[%zu].effect \"%s\": must be Allow or Deny", i,
               eff ? eff : "");
  if (check_list(s, i, "action", true, action_ok,
                 "not service:Action (e.g. ec2:Describe*) or *", msg, n))
    return 1;
  if (check_list(s, i, "resource", false, resource_ok,
                 "not an ARN (arn:partition:service:region:account:resource) "
                 "or *",
                 msg, n))
    return 1;
  if (json_object_get(s, "condition") &&
      check_condition(json_object_get(s, "condition"), i, msg, n))
    return 1;
  if (json_object_get(s, "principal") &&
      check_principal(json_object_get(s, "principal"), i, msg, n))
    return 1;
  return 0;
}

int frole_policy_check(const json_t *custom, char *msg, size_t n)
{
  const char *name = obj_str(custom, "name");
  const json_t *st = json_object_get(custom, "awsStatements"), *s;
  size_t i;

  if (str_empty(name) || strlen(name) > 128 ||
      !chars_ok(name, strlen(name), "+=,.@_-"))
    return bad(msg, n,
               "awsCustomPolicy.name \"%s\": 1-128 letters, digits or "
               "+=,.@_-",
               name ? name : "");
  if (!json_is_array(st) || !json_array_size(st))
    return bad(msg, n, "awsCustomPolicy.awsStatements: no statement");
  json_array_foreach(st, i, s)
  {
    if (check_statement(s, i, msg, n))
      return 1;
  }
  return 0;
}

static void copy_key(json_t *to, const char *tk, const json_t *from,
                     const char *fk)
{
  json_t *v = json_object_get(from, fk);

  if (v)
    json_object_set_new(to, tk, json_deep_copy(v));
}

char *frole_policy_doc_new(const json_t *custom)
{
  json_t *doc = json_object(), *sts = json_array(), *s;
  const json_t *in = json_object_get(custom, "awsStatements");
  char *out;
  size_t i;

  json_array_foreach(in, i, s)
  {
    json_t *o = json_object();

    copy_key(o, "Effect", s, "effect");
    copy_key(o, "Action", s, "action");
    copy_key(o, "Resource", s, "resource");
    copy_key(o, "Condition", s, "condition");
    copy_key(o, "Principal", s, "principal");
    json_array_append_new(sts, o);
  }
  json_object_set_new(doc, "Version", json_string("2012-10-17"));
  json_object_set_new(doc, "Statement", sts);
  out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(doc);
  return out;
}
