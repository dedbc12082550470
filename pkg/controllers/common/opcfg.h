/* The operator ConfigMap `aws-account-operator-configmap`, parsed once
 * into a struct (upstream's keys). The informer hands a
 * new ConfigMap to opcfg_parse; plans only read the result.
 *
 * Owner: the struct owns every pointer member; opcfg_cleanup frees them.
 * Lists and maps are jansson values (arrays of strings, objects).
 */
#ifndef PKG_CONTROLLERS_COMMON_OPCFG_H
#define PKG_CONTROLLERS_COMMON_OPCFG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define OPCFG_NAME "aws-account-operator-configmap"
#define OPCFG_DEFAULT_AMI_OWNER "309956199498"

enum opcfg_ctrl {
  OPCFG_CTRL_ACCOUNT,
  OPCFG_CTRL_ACCOUNTCLAIM,
  OPCFG_CTRL_ACCOUNTPOOL,
  OPCFG_CTRL_ACCOUNTPOOLVALIDATION,
  OPCFG_CTRL_ACCOUNTVALIDATION,
  OPCFG_CTRL_AWSFEDERATEDACCOUNTACCESS,
  OPCFG_CTRL_AWSFEDERATEDROLE,
  OPCFG_CTRL_COUNT
};

/* One entry of the `accountpool` YAML. */
struct opcfg_pool {
  char *name;
  bool is_default;
  /* region or "default" -> quota code -> integer value */
  json_t *servicequotas;
  /* quota code -> integer value */
  json_t *globalservicequotas;
};

struct opcfg {
  bool has_account_limit; /* missing -> creation blocked (as upstream) */
  long long account_limit;
  char *root, *base; /* NULL when missing */
  char *sts_jump_role, *support_jump_role;
  bool has_shard_name; /* key present (even empty) */
  char *shard_name;    /* "" when missing */
  char *ami_owner;     /* default OPCFG_DEFAULT_AMI_OWNER */
  bool has_quota_vcpu;
  long long quota_vcpu;
  json_t *aws_managed_tags; /* object key -> value, in file order */
  struct opcfg_pool *pools;
  size_t npools;
  int max_concurrent[OPCFG_CTRL_COUNT]; /* default 1 */
  bool fedramp;
  bool feat_validation_move_account;
  bool feat_validation_tag_account;
  bool feat_validation_delete_account;
  bool feat_accountpool_validation;
  bool feat_fleet_manager_trusted_arn;
  bool feat_opt_in_regions;
  bool feat_compliance_tags;
  bool feat_close_on_release;
  bool close_account_dry_run; /* default true, also when invalid */
  json_t *opt_in_regions;     /* array of strings */
  json_t *disabled_regions;   /* array of strings */
  char *app_code, *service_phase, *cost_center; /* "" when missing */
  json_t *payer_account_ids;                    /* array of strings */
  char *ccs_access_arn; /* CCS-Access-Arn (written at startup) or NULL */
  /* IAM access keys of plain accounts (plan_rotate.c): iam-key-max-age in
   * seconds (0 = never rotated, the default), iam-key-rotation-grace
   * (default OPCFG_DEFAULT_KEY_GRACE_S) and revoke-credentials-on-reuse
   * (default true). */
  long long iam_key_max_age_s;
  long long iam_key_grace_s;
  bool revoke_on_reuse;
};

#define OPCFG_DEFAULT_KEY_GRACE_S 3600

/* Parse a ConfigMap object (or its `data` object). On error returns
 * OP_ECONFIG with a message naming the key in err, and *c is left
 * cleaned (nothing to free). */
int opcfg_parse(struct opcfg *c, const json_t *cm, char *err, size_t errsz);
void opcfg_cleanup(struct opcfg *c);

/* Pool by name; "" or NULL means the default pool. NULL if none. */
const struct opcfg_pool *opcfg_pool(const struct opcfg *c, const char *name);
const struct opcfg_pool *opcfg_default_pool(const struct opcfg *c);
/* Pool names match with "" meaning the default pool. */
bool opcfg_pool_match(const struct opcfg *c, const char *a, const char *b);
bool opcfg_is_payer(const struct opcfg *c, const char *account_id);
bool opcfg_region_disabled(const struct opcfg *c, const char *region);
const char *opcfg_ctrl_name(enum opcfg_ctrl i);
/* The partition every ARN uses: "aws-us-gov" with `fedramp: "true"`, else
 * "aws" (also for c NULL). */
const char *opcfg_partition(const struct opcfg *c);
/* The partition's global region: where global quotas (IAM, L-FE177D64)
 * are requested and the default region of claims without regions:
 * "us-east-1", or "us-gov-west-1" in FedRAMP (upstream used us-gov-east-1
 * as its default; Organizations and IAM are served from us-gov-west-1). */
const char *opcfg_global_region(const struct opcfg *c);

/* Parse the accountpool YAML alone (exposed for tests). */
int opcfg_parse_pools(struct opcfg *c, const char *yaml, char *err,
                      size_t errsz);

#endif
