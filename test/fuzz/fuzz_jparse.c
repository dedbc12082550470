/* libFuzzer target: the fast JSON decoder (k8s/jparse.h) against
 * json_loadb. jparse must decline whatever jansson rejects and, when it
 * accepts, build equal values; a disagreement aborts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "k8s/jparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  json_error_t e;
  json_t *ours = jparse((const char *)data, size, JSON_DECODE_ANY);
  json_t *ref = json_loadb((const char *)data, size, JSON_DECODE_ANY, &e);

  if (ours && (!ref || !json_equal(ours, ref)))
    abort();
  json_decref(ours);
  json_decref(ref);
  return 0;
}
