/* libFuzzer target: SigV4 canonicalization and signing on arbitrary
 * requests. Input: method \n path \n query \n header lines (name:value)
 * \n\n body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core/sigv4.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXH 16

static char *next_line(char **p)
{
  char *s = *p, *nl;

  if (!s)
    return NULL;
  nl = strchr(s, '\n');
  if (nl) {
    *nl = '\0';
    *p = nl + 1;
  } else {
    *p = NULL;
  }
  return s;
}

static void sign_all(const struct sigv4_req *r)
{
  static struct sigv4_key_cache *kc;
  struct sigv4_creds cr = { "AKID", "secret", "token" };
  struct sigv4_params p = {
    .region = "us-east-1", .service = "svc", .now = 1440938160, .expires = 60
  };
  struct sigv4_out o;
  struct buf q;
  int mode;

  if (!kc)
    kc = sigv4_key_cache_new();
  buf_init(&q, 1 << 22);
  for (mode = SIGV4_URI_STD; mode <= SIGV4_URI_ENCODE_ONLY; mode++) {
    p.uri_mode = (enum sigv4_uri_mode)mode;
    p.content_sha256_header = mode == SIGV4_URI_S3;
    if (sigv4_sign(kc, r, &p, &cr, &o) == 0)
      sigv4_out_cleanup(&o);
    buf_reset(&q);
    (void)sigv4_presign(kc, r, &p, &cr, &q);
  }
  buf_cleanup(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *copy = malloc(size + 1), *p = copy, *line, *body = "";
  struct sigv4_header h[MAXH];
  struct sigv4_req r = { 0 };
  size_t nh = 0;

  memcpy(copy, data, size);
  copy[size] = '\0';
  r.method = next_line(&p);
  r.path = next_line(&p);
  r.query = next_line(&p);
  while ((line = next_line(&p)) != NULL) {
    char *colon = strchr(line, ':');
    if (*line == '\0') {
      body = p ? p : "";
      break;
    }
    if (colon && nh < MAXH) {
      *colon = '\0';
      h[nh++] = (struct sigv4_header){ line, colon + 1 };
    }
  }
  r.headers = h;
  r.nheaders = nh;
  r.body = body;
  r.body_len = strlen(body);
  if (r.method)
    sign_all(&r);
  free(copy);
  return 0;
}
