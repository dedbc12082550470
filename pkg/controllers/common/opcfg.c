/* Operator ConfigMap parsing (see opcfg.h). */
#include "controllers/common/opcfg.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "aws/core/endpoints.h"
#include "controllers/common/validate.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/util.h"

static const char *const ctrl_names[OPCFG_CTRL_COUNT] = {
  "account",           "accountclaim",
  "accountpool",       "accountpoolvalidation",
  "accountvalidation", "awsfederatedaccountaccess",
  "awsfederatedrole",
};

const char *opcfg_ctrl_name(enum opcfg_ctrl i)
{
  return (unsigned)i < OPCFG_CTRL_COUNT ? ctrl_names[i] : "";
}

static int fail(char *err, size_t errsz, const char *key, const char *why)
{
  str_fmt(err, errsz, "configmap key %s: %s", key, why);
  return OP_ECONFIG;
}

static const char *get(const json_t *data, const char *key)
{
  return json_string_value(json_object_get(data, key));
}

static char *dup_or(const json_t *data, const char *key, const char *dflt)
{
  const char *v = get(data, key);

  if (v)
    return util_xstrdup(v);
  return dflt ? util_xstrdup(dflt) : NULL;
}

/* Comma list -> array of trimmed non-empty strings. */
static json_t *split_list(const char *s)
{
  json_t *arr = json_array();
  char *copy, *p, *tok;

  if (!s)
    return arr;
  copy = util_xstrdup(s);
  for (p = copy; p; p = tok) {
    tok = strchr(p, ',');
    if (tok)
      *tok++ = '\0';
    p = str_trim(p);
    if (*p)
      json_array_append_new(arr, json_string(p));
  }
  free(copy);
  return arr;
}

/* Newline "k=v" lines (split at the first '=') -> object. */
static json_t *split_tags(const char *s)
{
  json_t *obj = json_object();
  char *copy, *p, *nl, *eq;

  if (!s)
    return obj;
  copy = util_xstrdup(s);
  for (p = copy; p; p = nl) {
    nl = strchr(p, '\n');
    if (nl)
      *nl++ = '\0';
    eq = strchr(p, '=');
    if (!eq)
      continue;
    *eq = '\0';
    p = str_trim(p);
    if (*p)
      json_object_set_new(obj, p, json_string(str_trim(eq + 1)));
  }
  free(copy);
  return obj;
}

static int parse_bool(const json_t *data, const char *key, bool dflt, bool *out,
                      char *err, size_t errsz)
{
  const char *v = get(data, key);

  *out = dflt;
  if (!v || !*v)
    return 0;
  if (str_to_bool(v, out) != 0)
    return fail(err, errsz, key, "not a boolean");
  return 0;
}

static int parse_int(const json_t *data, const char *key, long long min,
                     bool *has, long long *out, char *err, size_t errsz)
{
  const char *v = get(data, key);
  char tmp[32];

  *has = false;
  if (!v || !*v)
    return 0;
  str_copy(tmp, v, sizeof(tmp));
  if (str_to_ll(str_trim(tmp), min, 1000000000LL, out) != 0)
    return fail(err, errsz, key, "not a valid integer");
  *has = true;
  return 0;
}

/* A Go-style duration ("90s", "12h", "1h30m"); absent or empty = dflt. */
static int parse_dur(const json_t *data, const char *key, long long min_s,
                     long long dflt, long long *out, char *err, size_t errsz)
{
  const char *v = get(data, key);
  char tmp[32];

  *out = dflt;
  if (!v || !*v)
    return 0;
  str_copy(tmp, v, sizeof(tmp));
  if (strlen(v) >= sizeof(tmp) ||
      time_parse_duration(str_trim(tmp), min_s, 366LL * 86400, out))
    return fail(err, errsz, key,
                "not a duration from 1s to 366 days (8784h) such as "
                "\"90s\", \"2160h\" or \"1h30m\"");
  return 0;
}

static int parse_keys(struct opcfg *c, const json_t *d, char *err, size_t errsz)
{
  int rc =
      parse_dur(d, "iam-key-max-age", 1, 0, &c->iam_key_max_age_s, err, errsz);

  if (!rc)
    rc = parse_dur(d, "iam-key-rotation-grace", 1, OPCFG_DEFAULT_KEY_GRACE_S,
                   &c->iam_key_grace_s, err, errsz);
  if (!rc)
    rc = parse_bool(d, "revoke-credentials-on-reuse", true, &c->revoke_on_reuse,
                    err, errsz);
  return rc;
}

static int parse_flags(struct opcfg *c, const json_t *d, char *err,
                       size_t errsz)
{
  static const struct {
    const char *key;
    size_t off;
  } flags[] = {
    { "fedramp", offsetof(struct opcfg, fedramp) },
    { "feature.validation_move_account",
      offsetof(struct opcfg, feat_validation_move_account) },
    { "feature.validation_tag_account",
      offsetof(struct opcfg, feat_validation_tag_account) },
    { "feature.validation_delete_account",
      offsetof(struct opcfg, feat_validation_delete_account) },
    { "feature.accountpool_validation",
      offsetof(struct opcfg, feat_accountpool_validation) },
    { "feature.accountclaim_fleet_manager_trusted_arn",
      offsetof(struct opcfg, feat_fleet_manager_trusted_arn) },
    { "feature.opt_in_regions", offsetof(struct opcfg, feat_opt_in_regions) },
    { "feature.compliance_tags", offsetof(struct opcfg, feat_compliance_tags) },
    { "feature.close_on_release",
      offsetof(struct opcfg, feat_close_on_release) },
  };
  size_t i;
  int rc;

  for (i = 0; i < UTIL_ARRAY_SIZE(flags); i++) {
    bool *dst = (bool *)((char *)c + flags[i].off);

    rc = parse_bool(d, flags[i].key, false, dst, err, errsz);
    if (rc)
      return rc;
  }
  /* Upstream: absent or invalid means dry run. */
  if (parse_bool(d, "close_account.dry_run", true, &c->close_account_dry_run,
                 NULL, 0) != 0)
    c->close_account_dry_run = true;
  return 0;
}

static int parse_concurrency(struct opcfg *c, const json_t *d, char *err,
                             size_t errsz)
{
  size_t i;

  for (i = 0; i < OPCFG_CTRL_COUNT; i++) {
    char key[96];
    bool has;
    long long v;
    int rc;

    str_fmt(key, sizeof(key), "MaxConcurrentReconciles.%s", ctrl_names[i]);
    rc = parse_int(d, key, 1, &has, &v, err, errsz);
    if (rc)
      return rc;
    c->max_concurrent[i] = has ? (int)v : 1;
  }
  return 0;
}

static void parse_strings(struct opcfg *c, const json_t *d)
{
  c->root = dup_or(d, "root", NULL);
  c->base = dup_or(d, "base", NULL);
  c->sts_jump_role = dup_or(d, "sts-jump-role", NULL);
  c->support_jump_role = dup_or(d, "support-jump-role", NULL);
  c->has_shard_name = get(d, "shard-name") != NULL;
  c->shard_name = dup_or(d, "shard-name", "");
  c->ami_owner = str_empty(get(d, "ami-owner"))
                     ? util_xstrdup(OPCFG_DEFAULT_AMI_OWNER)
                     : dup_or(d, "ami-owner", NULL);
  c->app_code = dup_or(d, "app-code", "");
  c->service_phase = dup_or(d, "service-phase", "");
  c->cost_center = dup_or(d, "cost-center", "");
  c->aws_managed_tags = split_tags(get(d, "aws-managed-tags"));
  c->opt_in_regions = split_list(get(d, "opt-in-regions"));
  c->disabled_regions = split_list(get(d, "disabled-regions"));
  c->payer_account_ids = split_list(get(d, "payer-account-ids"));
  c->ccs_access_arn = dup_or(d, "CCS-Access-Arn", NULL);
}

/* Every entry of a comma list key has the shape AWS needs (a region, an
 * account id): a bad one fails the whole ConfigMap, naming key and entry. */
static int check_list(const json_t *list, const char *key,
                      bool (*ok)(const char *), const char *what, char *err,
                      size_t errsz)
{
  const json_t *v;
  size_t i;

  json_array_foreach(list, i, v)
  {
    const char *s = json_string_value(v);

    if (!ok(s)) {
      char why[128];

      str_fmt(why, sizeof(why), "'%.40s%s' is not %s", s,
              strlen(s) > 40 ? "..." : "", what);
      return fail(err, errsz, key, why);
    }
  }
  return 0;
}

/* Values that become AWS tags: keys 1..128, values up to 256 characters
 * (Organizations' and IAM's TagKey and TagValue). */
static int check_tags(const struct opcfg *c, char *err, size_t errsz)
{
  static const struct {
    const char *key;
    size_t off;
  } vals[] = {
    { "shard-name", offsetof(struct opcfg, shard_name) },
    { "app-code", offsetof(struct opcfg, app_code) },
    { "service-phase", offsetof(struct opcfg, service_phase) },
    { "cost-center", offsetof(struct opcfg, cost_center) },
  };
  const char *k;
  json_t *v;
  size_t i;

  for (i = 0; i < UTIL_ARRAY_SIZE(vals); i++)
    if (!validate_len(*(char *const *)((const char *)c + vals[i].off), 0, 256))
      return fail(err, errsz, vals[i].key,
                  "a tag value: at most 256 characters of UTF-8");
  json_object_foreach(c->aws_managed_tags, k, v)
  {
    if (!validate_len(k, 1, 128) || !validate_len(json_string_value(v), 0, 256))
      return fail(err, errsz, "aws-managed-tags",
                  "tag keys: 1 to 128 characters, values at most 256");
  }
  return 0;
}

static int check_lists(const struct opcfg *c, char *err, size_t errsz)
{
  int rc = check_tags(c, err, errsz);

  if (!rc)
    rc = check_list(c->opt_in_regions, "opt-in-regions", validate_region,
                    "an AWS region", err, errsz);

  if (!rc)
    rc = check_list(c->disabled_regions, "disabled-regions", validate_region,
                    "an AWS region", err, errsz);
  if (!rc)
    rc = check_list(c->payer_account_ids, "payer-account-ids",
                    validate_account_id, "a 12-digit AWS account ID", err,
                    errsz);
  return rc;
}

int opcfg_parse(struct opcfg *c, const json_t *cm, char *err, size_t errsz)
{
  const json_t *d = json_object_get(cm, "data");
  bool has;
  int rc;

  memset(c, 0, sizeof(*c));
  if (!d)
    d = json_is_object(json_object_get(cm, "metadata")) ? NULL : cm;
  if (!json_is_object(d))
    d = NULL;
  parse_strings(c, d);
  rc = check_lists(c, err, errsz);
  if (!rc)
    rc = parse_int(d, "account-limit", 0, &c->has_account_limit,
                   &c->account_limit, err, errsz);
  if (!rc)
    rc = parse_int(d, "quota.vcpu", 0, &c->has_quota_vcpu, &c->quota_vcpu, err,
                   errsz);
  if (!rc)
    rc = parse_flags(c, d, err, errsz);
  if (!rc)
    rc = parse_concurrency(c, d, err, errsz);
  if (!rc)
    rc = parse_keys(c, d, err, errsz);
  if (!rc && !str_empty(get(d, "accountpool")))
    rc = opcfg_parse_pools(c, get(d, "accountpool"), err, errsz);
  (void)has;
  if (rc)
    opcfg_cleanup(c);
  return rc;
}

void opcfg_cleanup(struct opcfg *c)
{
  size_t i;

  free(c->root);
  free(c->base);
  free(c->sts_jump_role);
  free(c->support_jump_role);
  free(c->shard_name);
  free(c->ami_owner);
  free(c->app_code);
  free(c->service_phase);
  free(c->cost_center);
  free(c->ccs_access_arn);
  json_decref(c->aws_managed_tags);
  json_decref(c->opt_in_regions);
  json_decref(c->disabled_regions);
  json_decref(c->payer_account_ids);
  for (i = 0; i < c->npools; i++) {
    free(c->pools[i].name);
    json_decref(c->pools[i].servicequotas);
    json_decref(c->pools[i].globalservicequotas);
  }
  free(c->pools);
  memset(c, 0, sizeof(*c));
}

const struct opcfg_pool *opcfg_default_pool(const struct opcfg *c)
{
  size_t i;

  for (i = 0; c && i < c->npools; i++) {
    if (c->pools[i].is_default)
      return &c->pools[i];
  }
  return NULL;
}

const struct opcfg_pool *opcfg_pool(const struct opcfg *c, const char *name)
{
  size_t i;

  if (str_empty(name))
    return opcfg_default_pool(c);
  for (i = 0; c && i < c->npools; i++) {
    if (str_eq(c->pools[i].name, name))
      return &c->pools[i];
  }
  return NULL;
}

bool opcfg_pool_match(const struct opcfg *c, const char *a, const char *b)
{
  const struct opcfg_pool *d = opcfg_default_pool(c);
  const char *dn = d ? d->name : "";

  a = str_empty(a) ? dn : a;
  b = str_empty(b) ? dn : b;
  return str_eq(a, b);
}

static bool in_list(const json_t *arr, const char *s)
{
  json_t *v;
  size_t i;

  json_array_foreach(arr, i, v)
  {
    if (str_eq(json_string_value(v), s))
      return true;
  }
  return false;
}

bool opcfg_is_payer(const struct opcfg *c, const char *account_id)
{
  return c && !str_empty(account_id) &&
         in_list(c->payer_account_ids, account_id);
}

bool opcfg_region_disabled(const struct opcfg *c, const char *region)
{
  return c && in_list(c->disabled_regions, region);
}

const char *opcfg_partition(const struct opcfg *c)
{
  return c && c->fedramp ? "aws-us-gov" : "aws";
}

const char *opcfg_global_region(const struct opcfg *c)
{
  return aws_partition_default_region(opcfg_partition(c));
}
