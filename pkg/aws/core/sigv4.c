/* SigV4 on OpenSSL. See sigv4.h. */
#include "aws/core/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/str.h"
#include "util/uri.h"
#include "util/util.h"

#define SIGV4_MAX_CANON ((size_t)1 << 22)
#define KEY_CACHE_SLOTS 8

struct key_slot {
  int used;
  char date[9];
  char region[32];
  char service[32];
  unsigned char secret_hash[32]; /* identifies the secret, wiped */
  unsigned char key[32];         /* wiped */
};

struct sigv4_key_cache {
  struct key_slot slot[KEY_CACHE_SLOTS];
  unsigned next;
};

struct seg {
  const char *p;
  size_t n;
};

/* Remove "." and ".." segments and empty segments (duplicate slashes). */
static int normalize_encode(const char *path, struct buf *out)
{
  size_t len = strlen(path), nseg = 0, i, start;
  struct seg *segs = util_xcalloc(len / 2 + 2, sizeof(*segs));
  int rc = 0, trailing;

  for (i = 0; i <= len; i = start + 1) {
    const char *slash = memchr(path + i, '/', len - i);
    size_t end = slash ? (size_t)(slash - path) : len;
    size_t n = end - i;
    start = end;
    if (n == 0 || (n == 1 && path[i] == '.'))
      continue;
    if (n == 2 && path[i] == '.' && path[i + 1] == '.') {
      if (nseg > 0)
        nseg--;
      continue;
    }
    segs[nseg].p = path + i;
    segs[nseg++].n = n;
  }
  trailing = len > 0 && path[len - 1] == '/';
  for (i = 0; i < nseg && rc == 0; i++) {
    rc = buf_append_char(out, '/');
    if (rc == 0)
      rc = uri_encode(out, segs[i].p, segs[i].n, false);
  }
  if (rc == 0 && (nseg == 0 || trailing))
    rc = buf_append_char(out, '/');
  free(segs);
  return rc;
}

int sigv4_canonical_uri(const char *path, enum sigv4_uri_mode mode,
                        struct buf *out)
{
  if (str_empty(path))
    return buf_append_char(out, '/');
  switch (mode) {
  case SIGV4_URI_S3:
    return buf_append_str(out, path);
  case SIGV4_URI_ENCODE_ONLY:
    return uri_encode(out, path, strlen(path), true);
  default:
    return normalize_encode(path, out);
  }
}

struct qparam {
  char *name;
  char *value;
};

static int qparam_cmp(const void *a, const void *b)
{
  const struct qparam *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : strcmp(x->value, y->value);
}

/* Decode then re-encode one query component into a new string. */
static char *requote_new(const char *s, size_t n)
{
  struct buf dec, enc;

  buf_init(&dec, SIGV4_MAX_CANON);
  buf_init(&enc, SIGV4_MAX_CANON);
  if (uri_decode(&dec, s, n) != 0 ||
      uri_encode(&enc, buf_str(&dec), dec.len, false) != 0) {
    buf_cleanup(&dec);
    buf_cleanup(&enc);
    return NULL;
  }
  buf_cleanup(&dec);
  return buf_take(&enc, NULL);
}

static size_t split_query(const char *q, struct qparam *ps)
{
  size_t np = 0, len = strlen(q), i = 0;

  while (i <= len) {
    const char *amp = memchr(q + i, '&', len - i);
    size_t end = amp ? (size_t)(amp - q) : len;
    if (end > i) {
      const char *eq = memchr(q + i, '=', end - i);
      size_t nlen = eq ? (size_t)(eq - (q + i)) : end - i;
      ps[np].name = requote_new(q + i, nlen);
      ps[np].value = eq ? requote_new(eq + 1, end - (size_t)(eq + 1 - q))
                        : util_xstrdup("");
      np++;
    }
    i = end + 1;
  }
  return np;
}

int sigv4_canonical_query(const char *query, struct buf *out)
{
  struct qparam *ps;
  size_t np, i, cnt = 1;
  int rc = 0;

  if (str_empty(query))
    return 0;
  for (i = 0; query[i]; i++)
    cnt += query[i] == '&';
  ps = util_xcalloc(cnt, sizeof(*ps));
  np = split_query(query, ps);
  for (i = 0; i < np; i++)
    if (!ps[i].name || !ps[i].value)
      rc = OP_ETOOBIG;
  if (rc == 0)
    qsort(ps, np, sizeof(*ps), qparam_cmp);
  for (i = 0; i < np && rc == 0; i++)
    rc = buf_printf(out, "%s%s=%s", i ? "&" : "", ps[i].name, ps[i].value);
  for (i = 0; i < np; i++) {
    free(ps[i].name);
    free(ps[i].value);
  }
  free(ps);
  return rc;
}

struct chdr {
  char *name;  /* lowercased */
  char *value; /* trimmed, collapsed */
  size_t idx;
};

static int chdr_cmp(const void *a, const void *b)
{
  const struct chdr *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c)
    return c;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int is_ws(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
         c == '\f';
}

static char *collapse_new(const char *v)
{
  size_t n = strlen(v), o = 0, i;
  char *r = util_xmalloc(n + 1);
  int space = 0;

  while (*v && is_ws(*v))
    v++;
  for (i = 0; v[i]; i++) {
    if (is_ws(v[i])) {
      space = 1;
      continue;
    }
    if (space && o > 0)
      r[o++] = ' ';
    space = 0;
    r[o++] = v[i];
  }
  r[o] = '\0';
  return r;
}

static int emit_headers(struct chdr *hs, size_t n, struct buf *canon,
                        struct buf *signed_names)
{
  size_t i;
  int rc = 0;

  for (i = 0; i < n && rc == 0; i++) {
    int same = i > 0 && strcmp(hs[i].name, hs[i - 1].name) == 0;
    if (same) {
      if (canon)
        rc = buf_printf(canon, ",%s", hs[i].value);
      continue;
    }
    if (canon)
      rc = buf_printf(canon, "%s%s:%s", i ? "\n" : "", hs[i].name, hs[i].value);
    if (rc == 0 && signed_names)
      rc = buf_printf(signed_names, "%s%s", signed_names->len ? ";" : "",
                      hs[i].name);
  }
  if (rc == 0 && canon && n > 0)
    rc = buf_append_char(canon, '\n');
  return rc;
}

int sigv4_canonical_headers(const struct sigv4_header *h, size_t n,
                            struct buf *canon, struct buf *signed_names)
{
  struct chdr *hs = util_xcalloc(n ? n : 1, sizeof(*hs));
  size_t i;
  int rc;

  for (i = 0; i < n; i++) {
    hs[i].name = util_xstrdup(h[i].name ? h[i].name : "");
    str_lower(hs[i].name);
    hs[i].value = collapse_new(h[i].value ? h[i].value : "");
    hs[i].idx = i;
  }
  qsort(hs, n, sizeof(*hs), chdr_cmp);
  rc = emit_headers(hs, n, canon, signed_names);
  for (i = 0; i < n; i++) {
    free(hs[i].name);
    free(hs[i].value);
  }
  free(hs);
  return rc;
}

void sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HASH_HEX])
{
  unsigned char md[SHA256_DIGEST_LENGTH];

  SHA256(data ? data : (const void *)"", len, md);
  str_hex(md, sizeof(md), out);
}

void sigv4_amz_date(time_t t, char out[SIGV4_AMZ_DATE])
{
  struct tm tm;

  gmtime_r(&t, &tm);
  if (strftime(out, SIGV4_AMZ_DATE, "%Y%m%dT%H%M%SZ", &tm) == 0)
    out[0] = '\0';
}

int sigv4_canonical_request(const struct sigv4_req *r, enum sigv4_uri_mode mode,
                            struct buf *out, struct buf *signed_names)
{
  char hash[SIGV4_HASH_HEX];
  struct buf sn;
  int rc;

  buf_init(&sn, 65536);
  rc = buf_printf(out, "%s\n", r->method ? r->method : "GET");
  if (rc == 0)
    rc = sigv4_canonical_uri(r->path, mode, out);
  if (rc == 0)
    rc = buf_append_char(out, '\n');
  if (rc == 0)
    rc = sigv4_canonical_query(r->query, out);
  if (rc == 0)
    rc = buf_append_char(out, '\n');
  if (rc == 0)
    rc = sigv4_canonical_headers(r->headers, r->nheaders, out, &sn);
  if (!r->payload_hash)
    sigv4_sha256_hex(r->body, r->body_len, hash);
  if (rc == 0)
    rc = buf_printf(out, "\n%s\n%s", buf_str(&sn),
                    r->payload_hash ? r->payload_hash : hash);
  if (rc == 0 && signed_names)
    rc = buf_append_str(signed_names, buf_str(&sn));
  buf_cleanup(&sn);
  return rc;
}

int sigv4_string_to_sign(const char *amz_date, const char *scope,
                         const char *canonical_request, struct buf *out)
{
  char hash[SIGV4_HASH_HEX];

  sigv4_sha256_hex(canonical_request, strlen(canonical_request), hash);
  return buf_printf(out, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM, amz_date, scope,
                    hash);
}

struct sigv4_key_cache *sigv4_key_cache_new(void)
{
  return util_xcalloc(1, sizeof(struct sigv4_key_cache));
}

void sigv4_key_cache_free(struct sigv4_key_cache *c)
{
  if (!c)
    return;
  util_wipe(c, sizeof(*c));
  free(c);
}

static void hmac(const void *key, size_t klen, const char *msg,
                 unsigned char out[32])
{
  unsigned int olen = 32;

  HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg),
       out, &olen);
}

static void derive(const char *secret, const char *date, const char *region,
                   const char *service, unsigned char key[32])
{
  size_t n = strlen(secret) + 5;
  char *k = util_xmalloc(n);
  unsigned char a[32], b[32];

  str_fmt(k, n, "AWS4%s", secret);
  hmac(k, n - 1, date, a);
  hmac(a, 32, region, b);
  hmac(b, 32, service, a);
  hmac(a, 32, "aws4_request", key);
  util_wipe(k, n);
  free(k);
  util_wipe(a, sizeof(a));
  util_wipe(b, sizeof(b));
}

static struct key_slot *cache_find(struct sigv4_key_cache *c,
                                   const unsigned char sh[32], const char *date,
                                   const char *region, const char *service)
{
  unsigned i;

  for (i = 0; i < KEY_CACHE_SLOTS; i++) {
    struct key_slot *s = &c->slot[i];
    if (s->used && strcmp(s->date, date) == 0 &&
        strcmp(s->region, region) == 0 && strcmp(s->service, service) == 0 &&
        CRYPTO_memcmp(s->secret_hash, sh, 32) == 0)
      return s;
  }
  return NULL;
}

void sigv4_signing_key(struct sigv4_key_cache *c, const char *secret,
                       const char *date, const char *region,
                       const char *service, unsigned char key[32])
{
  unsigned char sh[32];
  struct key_slot *s;

  if (!c || strlen(region) >= sizeof(s->region) ||
      strlen(service) >= sizeof(s->service) || strlen(date) != 8) {
    derive(secret, date, region, service, key);
    return;
  }
  SHA256((const unsigned char *)secret, strlen(secret), sh);
  s = cache_find(c, sh, date, region, service);
  if (!s) {
    s = &c->slot[c->next++ % KEY_CACHE_SLOTS];
    util_wipe(s, sizeof(*s));
    derive(secret, date, region, service, s->key);
    memcpy(s->secret_hash, sh, 32);
    str_copy(s->date, date, sizeof(s->date));
    str_copy(s->region, region, sizeof(s->region));
    str_copy(s->service, service, sizeof(s->service));
    s->used = 1;
  }
  memcpy(key, s->key, 32);
  util_wipe(sh, sizeof(sh));
}

void sigv4_hmac_hex(const unsigned char key[32], const char *msg,
                    char out[SIGV4_HASH_HEX])
{
  unsigned char md[32];

  hmac(key, 32, msg, md);
  str_hex(md, 32, out);
}

/* ---- putting it together ---- */

struct signing {
  char amz_date[SIGV4_AMZ_DATE];
  char scope[128];
  char hash[SIGV4_HASH_HEX];
  struct buf creq, sts, signed_names;
};

static int signing_init(struct signing *s, const struct sigv4_req *r,
                        const struct sigv4_params *p)
{
  char date[9];

  buf_init(&s->creq, SIGV4_MAX_CANON);
  buf_init(&s->sts, 65536);
  buf_init(&s->signed_names, 65536);
  sigv4_amz_date(p->now, s->amz_date);
  str_copy(date, s->amz_date, sizeof(date));
  if (r->payload_hash)
    str_copy(s->hash, r->payload_hash, sizeof(s->hash));
  else
    sigv4_sha256_hex(r->body, r->body_len, s->hash);
  if (!p->region || !p->service || !r->method)
    return OP_EINVAL;
  return str_fmt(s->scope, sizeof(s->scope), "%s/%s/%s/aws4_request", date,
                 p->region, p->service);
}

static void signing_cleanup(struct signing *s, struct sigv4_debug *dbg)
{
  if (dbg) {
    buf_reset(&dbg->creq);
    buf_reset(&dbg->sts);
    buf_append_str(&dbg->creq, buf_str(&s->creq));
    buf_append_str(&dbg->sts, buf_str(&s->sts));
  }
  buf_cleanup(&s->creq);
  buf_cleanup(&s->sts);
  buf_cleanup(&s->signed_names);
}

/* creq -> string to sign -> signature. */
static int signing_finish(struct sigv4_key_cache *kc, struct signing *s,
                          const struct sigv4_params *p,
                          const struct sigv4_creds *cr,
                          char sig[SIGV4_HASH_HEX])
{
  unsigned char key[32];
  char date[9];
  int rc;

  rc = sigv4_string_to_sign(s->amz_date, s->scope, buf_str(&s->creq), &s->sts);
  if (rc)
    return rc;
  str_copy(date, s->amz_date, sizeof(date));
  sigv4_signing_key(kc, cr->secret_access_key, date, p->region, p->service,
                    key);
  sigv4_hmac_hex(key, buf_str(&s->sts), sig);
  util_wipe(key, sizeof(key));
  return 0;
}

int sigv4_sign_debug(struct sigv4_key_cache *kc, const struct sigv4_req *r,
                     const struct sigv4_params *p, const struct sigv4_creds *cr,
                     struct sigv4_out *out, struct sigv4_debug *dbg)
{
  struct sigv4_header *hs;
  struct sigv4_req r2 = *r;
  struct signing s;
  size_t n = r->nheaders;
  int rc;

  memset(out, 0, sizeof(*out));
  if (!cr || str_empty(cr->access_key_id) || str_empty(cr->secret_access_key))
    return OP_EINVAL;
  rc = signing_init(&s, r, p);
  hs = util_xcalloc(r->nheaders + 3, sizeof(*hs));
  if (r->nheaders)
    memcpy(hs, r->headers, r->nheaders * sizeof(*hs));
  memcpy(out->amz_date, s.amz_date, sizeof(out->amz_date));
  hs[n++] = (struct sigv4_header){ "X-Amz-Date", out->amz_date };
  if (!str_empty(cr->session_token)) {
    out->token_header = cr->session_token;
    if (!p->omit_session_token)
      hs[n++] =
          (struct sigv4_header){ "X-Amz-Security-Token", cr->session_token };
  }
  if (p->content_sha256_header) {
    str_copy(out->content_sha256, s.hash, sizeof(out->content_sha256));
    hs[n++] =
        (struct sigv4_header){ "X-Amz-Content-Sha256", out->content_sha256 };
  }
  r2.headers = hs;
  r2.nheaders = n;
  r2.payload_hash = s.hash;
  if (rc == 0)
    rc = sigv4_canonical_request(&r2, p->uri_mode, &s.creq, &s.signed_names);
  if (rc == 0)
    rc = signing_finish(kc, &s, p, cr, out->signature);
  if (rc == 0)
    out->authorization = str_printf_new(
        "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", SIGV4_ALGORITHM,
        cr->access_key_id, s.scope, buf_str(&s.signed_names), out->signature);
  free(hs);
  signing_cleanup(&s, dbg);
  return rc;
}

int sigv4_sign(struct sigv4_key_cache *kc, const struct sigv4_req *r,
               const struct sigv4_params *p, const struct sigv4_creds *cr,
               struct sigv4_out *out)
{
  return sigv4_sign_debug(kc, r, p, cr, out, NULL);
}

void sigv4_out_cleanup(struct sigv4_out *o)
{
  free(o->authorization);
  o->authorization = NULL;
}

/* The X-Amz-* query parameters of a presigned request. */
static int presign_params(struct signing *s, const struct sigv4_params *p,
                          const struct sigv4_creds *cr, struct buf *q)
{
  char cred[256];
  int rc;

  rc = str_fmt(cred, sizeof(cred), "%s/%s", cr->access_key_id, s->scope);
  if (rc == 0)
    rc = buf_printf(q,
                    "%sX-Amz-Algorithm=%s&X-Amz-Credential=", q->len ? "&" : "",
                    SIGV4_ALGORITHM);
  if (rc == 0)
    rc = uri_encode(q, cred, strlen(cred), false);
  if (rc == 0)
    rc = buf_printf(q, "&X-Amz-Date=%s&X-Amz-Expires=%ld", s->amz_date,
                    p->expires > 0 ? p->expires : 3600);
  if (rc == 0 && !str_empty(cr->session_token) && !p->omit_session_token) {
    rc = buf_append_str(q, "&X-Amz-Security-Token=");
    if (rc == 0)
      rc = uri_encode(q, cr->session_token, strlen(cr->session_token), false);
  }
  if (rc == 0)
    rc = buf_append_str(q, "&X-Amz-SignedHeaders=");
  if (rc == 0)
    rc = uri_encode(q, buf_str(&s->signed_names), s->signed_names.len, false);
  return rc;
}

int sigv4_presign_debug(struct sigv4_key_cache *kc, const struct sigv4_req *r,
                        const struct sigv4_params *p,
                        const struct sigv4_creds *cr, struct buf *query_out,
                        struct sigv4_debug *dbg)
{
  struct sigv4_req r2 = *r;
  struct signing s;
  struct buf q;
  char sig[SIGV4_HASH_HEX];
  int rc;

  if (!cr || str_empty(cr->access_key_id) || str_empty(cr->secret_access_key))
    return OP_EINVAL;
  buf_init(&q, SIGV4_MAX_CANON);
  rc = signing_init(&s, r, p);
  if (rc == 0)
    rc =
        sigv4_canonical_headers(r->headers, r->nheaders, NULL, &s.signed_names);
  if (rc == 0 && !str_empty(r->query))
    rc = buf_append_str(&q, r->query);
  if (rc == 0)
    rc = presign_params(&s, p, cr, &q);
  r2.query = buf_str(&q);
  r2.payload_hash = s.hash;
  buf_reset(&s.signed_names);
  if (rc == 0)
    rc = sigv4_canonical_request(&r2, p->uri_mode, &s.creq, NULL);
  if (rc == 0)
    rc = signing_finish(kc, &s, p, cr, sig);
  if (rc == 0)
    rc = buf_printf(&q, "&X-Amz-Signature=%s", sig);
  if (rc == 0)
    rc = buf_append_str(query_out, buf_str(&q));
  buf_cleanup(&q);
  signing_cleanup(&s, dbg);
  return rc;
}

int sigv4_presign(struct sigv4_key_cache *kc, const struct sigv4_req *r,
                  const struct sigv4_params *p, const struct sigv4_creds *cr,
                  struct buf *query_out)
{
  return sigv4_presign_debug(kc, r, p, cr, query_out, NULL);
}

void sigv4_debug_init(struct sigv4_debug *d)
{
  buf_init(&d->creq, SIGV4_MAX_CANON);
  buf_init(&d->sts, 65536);
}

void sigv4_debug_cleanup(struct sigv4_debug *d)
{
  buf_cleanup(&d->creq);
  buf_cleanup(&d->sts);
}
