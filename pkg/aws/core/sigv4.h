/* AWS Signature Version 4 (pure functions on OpenSSL, no I/O, no clock).
 *
 * The pieces of the canonical request are exposed one by one so the test
 * vectors can be checked step by step; sigv4_sign and sigv4_presign put
 * them together:
 *
 *   struct sigv4_key_cache *kc = sigv4_key_cache_new();
 *   struct sigv4_out o;
 *   sigv4_sign(kc, &req, &params, &creds, &o);
 *   -> add o.amz_date as X-Amz-Date, o.token_header (if set) as
 *      X-Amz-Security-Token, o.content_sha256 (if set) as
 *      X-Amz-Content-Sha256, and o.authorization as Authorization.
 *   sigv4_out_cleanup(&o);
 *
 * Paths and queries are taken as they go on the wire (already encoded).
 * Non-S3 services sign the path normalized (dot segments and duplicate
 * slashes removed) and encoded once more (so "%" becomes "%25", botocore's
 * double encoding); S3 signs the wire path unchanged. The query is
 * canonicalised by decoding each name and value and re-encoding it with
 * RFC 3986 unreserved characters, then sorting by name and value.
 *
 * Secrets: the signing key cache is wiped when freed; derived keys and the
 * secret never appear in any output.
 */
#ifndef PKG_AWS_CORE_SIGV4_H
#define PKG_AWS_CORE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/buf.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_HASH_HEX 65 /* 64 hex digits + NUL */
#define SIGV4_AMZ_DATE 17 /* "20150830T123600Z" + NUL */

struct sigv4_header {
  const char *name;
  const char *value;
};

enum sigv4_uri_mode {
  SIGV4_URI_STD = 0,     /* normalize, then encode (every service but S3) */
  SIGV4_URI_S3,          /* as given: no normalization, no re-encoding */
  SIGV4_URI_ENCODE_ONLY, /* encode without normalizing */
};

struct sigv4_req {
  const char *method;
  const char *path;                   /* "/..." ; NULL or "" = "/" */
  const char *query;                  /* without '?', may be NULL */
  const struct sigv4_header *headers; /* must include Host */
  size_t nheaders;
  const void *body;
  size_t body_len;
  /* NULL: SHA-256 of the body; else a precomputed lowercase hex hash or
   * SIGV4_UNSIGNED_PAYLOAD. */
  const char *payload_hash;
};

struct sigv4_params {
  const char *region;
  const char *service;
  time_t now; /* signing time (already corrected for clock skew) */
  enum sigv4_uri_mode uri_mode;
  bool content_sha256_header; /* add and sign X-Amz-Content-Sha256 (S3) */
  bool omit_session_token;    /* add the token header after signing */
  long expires;               /* presign only: X-Amz-Expires seconds */
};

struct sigv4_creds {
  const char *access_key_id;
  const char *secret_access_key; /* secret */
  const char *session_token;     /* secret, optional */
};

/* Output of sigv4_sign: strings to add as headers (owned; cleanup frees).
 * token_header is a borrowed pointer to creds->session_token or NULL. */
struct sigv4_out {
  char amz_date[SIGV4_AMZ_DATE];
  char content_sha256[SIGV4_HASH_HEX]; /* "" unless requested */
  const char *token_header;
  char *authorization;
  char signature[SIGV4_HASH_HEX];
};

struct sigv4_key_cache;

/* --- the steps (each appends to out; returns 0 or an op_err) --- */
int sigv4_canonical_uri(const char *path, enum sigv4_uri_mode mode,
                        struct buf *out);
int sigv4_canonical_query(const char *query, struct buf *out);
/* Canonical header block ("name:value\n" each) and the signed header list
 * ("a;b;c"). Values are trimmed and inner runs of whitespace collapsed;
 * duplicate names are joined with ',' in their original order. */
int sigv4_canonical_headers(const struct sigv4_header *h, size_t n,
                            struct buf *canon, struct buf *signed_names);
void sigv4_sha256_hex(const void *data, size_t len, char out[SIGV4_HASH_HEX]);
/* "20150830T123600Z" */
void sigv4_amz_date(time_t t, char out[SIGV4_AMZ_DATE]);
int sigv4_canonical_request(const struct sigv4_req *r, enum sigv4_uri_mode mode,
                            struct buf *out, struct buf *signed_names);
/* scope = "<date>/<region>/<service>/aws4_request" */
int sigv4_string_to_sign(const char *amz_date, const char *scope,
                         const char *canonical_request, struct buf *out);

/* --- signing keys --- */
struct sigv4_key_cache *sigv4_key_cache_new(void);
void sigv4_key_cache_free(struct sigv4_key_cache *c); /* wipes */
/* kDate/kRegion/kService/kSigning for (date "YYYYMMDD", region, service,
 * secret), from the cache when present. c may be NULL (no caching). */
void sigv4_signing_key(struct sigv4_key_cache *c, const char *secret,
                       const char *date, const char *region,
                       const char *service, unsigned char key[32]);
void sigv4_hmac_hex(const unsigned char key[32], const char *msg,
                    char out[SIGV4_HASH_HEX]);

/* --- the whole thing --- */
/* Header form. The request's headers must not already carry X-Amz-Date,
 * X-Amz-Security-Token or Authorization (they are added here). */
int sigv4_sign(struct sigv4_key_cache *kc, const struct sigv4_req *r,
               const struct sigv4_params *p, const struct sigv4_creds *cr,
               struct sigv4_out *out);
void sigv4_out_cleanup(struct sigv4_out *o);
/* Presigned query form: appends to query_out the full query string to put
 * after '?' (the original query plus X-Amz-Algorithm, -Credential, -Date,
 * -Expires, -SignedHeaders, -Security-Token, -Signature). */
int sigv4_presign(struct sigv4_key_cache *kc, const struct sigv4_req *r,
                  const struct sigv4_params *p, const struct sigv4_creds *cr,
                  struct buf *query_out);

/* Intermediate results of the last sign/presign call, for tests. */
struct sigv4_debug {
  struct buf creq;
  struct buf sts;
};
void sigv4_debug_init(struct sigv4_debug *d);
void sigv4_debug_cleanup(struct sigv4_debug *d);
int sigv4_sign_debug(struct sigv4_key_cache *kc, const struct sigv4_req *r,
                     const struct sigv4_params *p, const struct sigv4_creds *cr,
                     struct sigv4_out *out, struct sigv4_debug *dbg);
int sigv4_presign_debug(struct sigv4_key_cache *kc, const struct sigv4_req *r,
                        const struct sigv4_params *p,
                        const struct sigv4_creds *cr, struct buf *query_out,
                        struct sigv4_debug *dbg);

#endif
