/* libFuzzer target: the operator ConfigMap parser (opcfg_parse: every key
 * the controllers read, the accountpool YAML, quota maps, region and payer
 * lists) and the lookups the plans make on what it parsed. Input: the
 * ConfigMap (or its data object) as JSON; anything else is fed to the
 * accountpool YAML parser alone. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "controllers/common/opcfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use(const struct opcfg *c)
{
  opcfg_default_pool(c);
  opcfg_pool(c, "hive");
  opcfg_pool_match(c, "", "hive");
  opcfg_is_payer(c, "123456789012");
  opcfg_region_disabled(c, "us-east-1");
  opcfg_partition(c);
  opcfg_global_region(c);
}

static void parse_yaml(const uint8_t *data, size_t size)
{
  struct opcfg c;
  char err[256], *yaml = malloc(size + 1);

  if (!yaml)
    return;
  memcpy(yaml, data, size);
  yaml[size] = '\0';
  memset(&c, 0, sizeof(c));
  if (opcfg_parse_pools(&c, yaml, err, sizeof(err)) == 0)
    use(&c);
  opcfg_cleanup(&c);
  free(yaml);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct opcfg c;
  char err[256];
  json_t *cm = json_loadb((const char *)data, size, 0, NULL);

  if (!json_is_object(cm)) {
    json_decref(cm);
    parse_yaml(data, size);
    return 0;
  }
  if (opcfg_parse(&c, cm, err, sizeof(err)) == 0) {
    use(&c);
    opcfg_cleanup(&c);
  }
  json_decref(cm);
  return 0;
}
