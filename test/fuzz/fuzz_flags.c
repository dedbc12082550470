/* libFuzzer target: the command-line and environment parser (pkg/config).
 * The input is split at NUL bytes into argv; a second part after the first
 * "\n\n" (if any) gives KEY=VALUE lines for the environment getter. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 32

static char *env_text; /* the current input's environment part */

static const char *env_get(const char *name)
{
  size_t n = strlen(name);
  char *line = env_text;

  while (line && *line) {
    char *end = strchr(line, '\n');

    if (!strncmp(line, name, n) && line[n] == '=') {
      if (end)
        *end = '\0'; /* left cut: the value lives as long as the input */
      return line + n + 1;
    }
    line = end ? end + 1 : NULL;
  }
  return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *text = malloc(size + 1), *argv[MAX_ARGS + 1], *p, *split;
  struct cfg c;
  char err[256];
  int argc = 0;

  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  split = memmem(text, size, "\n\n", 2);
  env_text = split ? split + 2 : NULL;
  if (split)
    *split = '\0';
  argv[argc++] = "aws-account-operator";
  for (p = text; argc < MAX_ARGS && p < text + size;) {
    argv[argc++] = p;
    p += strlen(p) + 1;
    if (split && p > split)
      break;
  }
  argv[argc] = NULL;
  memset(&c, 0, sizeof(c));
  if (cfg_parse(&c, argc, argv, env_get, err, sizeof(err)) == 0)
    cfg_cleanup(&c);
  free(text);
  return 0;
}
