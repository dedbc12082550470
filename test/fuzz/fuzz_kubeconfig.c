/* libFuzzer target: kubeconfig YAML (libyaml document walk, base64 data
 * fields, context/cluster/user resolution). The input is written to an
 * in-memory file because the loader takes a path, as the operator does. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "k8s/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct k8s_config *cfg = NULL;
  struct op_error e;
  char path[64];
  int fd = memfd_create("kubeconfig", 0);

  if (fd < 0)
    return 0;
  if (write(fd, data, size) == (ssize_t)size) {
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    if (k8s_config_load_kubeconfig(path, NULL, &cfg, &e) == 0)
      k8s_config_free(cfg);
  }
  close(fd);
  return 0;
}
