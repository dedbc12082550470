/* libFuzzer target: Kubernetes watch stream framing and event decoding.
 * The first input byte picks how the rest is sliced (as the network
 * would), so split points are fuzzed together with the content. */
#include <stddef.h>
#include <stdint.h>

#include "k8s/watch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_event(enum k8s_event_type type, json_t *obj, void *arg)
{
  (void)obj;
  *(unsigned *)arg += (unsigned)type + 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct k8s_watch_decoder d;
  unsigned seen = 0;
  size_t step, at;

  if (size < 1)
    return 0;
  step = (size_t)data[0] % 64 + 1;
  data++;
  size--;
  k8s_watch_decoder_init(&d, 4096, on_event, &seen);
  for (at = 0; at < size; at += step) {
    size_t n = size - at < step ? size - at : step;
    if (k8s_watch_decoder_feed(&d, (const char *)data + at, n))
      break;
  }
  k8s_watch_decoder_finish(&d);
  k8s_watch_decoder_cleanup(&d);
  return 0;
}
