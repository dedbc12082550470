/* Shared parts of k8s_config: lifetime, token reload, base64, file reads. */
#include "k8s/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/str.h"
#include "util/util.h"

static char *dup_or_null(const char *s)
{
  return s ? util_xstrdup(s) : NULL;
}

struct k8s_config *k8s_config_dup(const struct k8s_config *c)
{
  struct k8s_config *d = util_xcalloc(1, sizeof(*d));

  d->server = dup_or_null(c->server);
  d->ca_file = dup_or_null(c->ca_file);
  d->ca_pem = dup_or_null(c->ca_pem);
  d->cert_file = dup_or_null(c->cert_file);
  d->cert_pem = dup_or_null(c->cert_pem);
  d->key_file = dup_or_null(c->key_file);
  d->key_pem = dup_or_null(c->key_pem);
  d->token = dup_or_null(c->token);
  d->token_file = dup_or_null(c->token_file);
  d->namespace = dup_or_null(c->namespace);
  d->context = dup_or_null(c->context);
  d->insecure_skip_verify = c->insecure_skip_verify;
  return d;
}

void k8s_config_free(struct k8s_config *c)
{
  if (!c)
    return;
  free(c->server);
  free(c->ca_file);
  free(c->ca_pem);
  free(c->cert_file);
  free(c->cert_pem);
  free(c->key_file);
  util_free_secret(c->key_pem);
  util_free_secret(c->token);
  free(c->token_file);
  free(c->namespace);
  free(c->context);
  free(c);
}

int k8s_read_file_new(const char *path, size_t cap, char **out)
{
  struct buf b;
  char chunk[4096];
  size_t n;
  FILE *f;
  int rc = 0;

  *out = NULL;
  f = fopen(path, "rb");
  if (!f)
    return OP_EIO;
  buf_init_secret(&b, cap);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
    rc = buf_append(&b, chunk, n);
    if (rc)
      break;
  }
  if (!rc && ferror(f))
    rc = OP_EIO;
  fclose(f);
  util_wipe(chunk, sizeof(chunk));
  if (rc) {
    buf_cleanup(&b);
    return rc;
  }
  *out = buf_take(&b, NULL);
  return 0;
}

static int b64val(unsigned char ch)
{
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+')
    return 62;
  if (ch == '/')
    return 63;
  return -1;
}

/* Decodes into out (capacity >= strlen(in) * 3 / 4 + 3). */
static int b64_decode_into(const char *in, unsigned char *out, size_t *n)
{
  unsigned acc = 0, bits = 0, pad = 0;
  size_t o = 0, sextets = 0;
  const unsigned char *p;
  int v;

  for (p = (const unsigned char *)in; *p; p++) {
    if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
      continue;
    if (*p == '=') {
      pad++;
      continue;
    }
    v = b64val(*p);
    if (v < 0 || pad)
      return OP_EPARSE;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    sextets++;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (sextets % 4 == 1 || pad > 2 || (pad && (sextets + pad) % 4))
    return OP_EPARSE;
  *n = o;
  return 0;
}

int k8s_base64_decode_new(const char *in, char **out, size_t *len)
{
  size_t n = 0, cap = strlen(in) / 4 * 3 + 4;
  unsigned char *p = util_xmalloc(cap);
  int rc;

  *out = NULL;
  rc = b64_decode_into(in, p, &n);
  if (rc) {
    util_wipe(p, cap);
    free(p);
    return rc;
  }
  p[n] = '\0';
  *out = (char *)p;
  if (len)
    *len = n;
  return 0;
}

/* Tokens are short; 64 KiB is far above any real projected token. */
#define TOKEN_MAX (64 * 1024)

int k8s_config_reload_token(struct k8s_config *c, bool *changed,
                            struct op_error *e)
{
  char *tok = NULL, *t;
  int rc;

  if (changed)
    *changed = false;
  if (!c->token_file)
    return 0;
  rc = k8s_read_file_new(c->token_file, TOKEN_MAX, &tok);
  if (rc)
    return op_error_set(e, rc, "cannot read token file %s: %s", c->token_file,
                        op_strerror(rc));
  t = str_trim(tok);
  if (!*t) {
    util_free_secret(tok);
    return op_error_set(e, OP_ECONFIG, "token file %s is empty", c->token_file);
  }
  if (!str_eq(t, c->token)) {
    util_free_secret(c->token);
    c->token = util_xstrdup(t);
    if (changed)
      *changed = true;
  }
  util_free_secret(tok);
  return 0;
}
