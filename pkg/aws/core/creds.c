/* Credential providers. See creds.h. */
#include "aws/core/creds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core/sigv4.h"
#include "aws/core/transport.h"
#include "aws/core/xml.h"
#include "log/log.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"
#include "util/uri.h"
#include "util/util.h"

#define MOD "aws"
#define TOKEN_FILE_MAX (64 * 1024)

struct waiter {
  aws_creds_cb cb;
  void *arg;
  struct waiter *next;
};

/* Who frees: akid/secret/token (secret ones wiped) and every provider
 * string are owned; source holds a reference. */
struct aws_creds {
  int refs;
  enum aws_creds_kind kind;
  char *akid, *secret, *token; /* current value; secret and token wiped */
  time_t expiry;               /* 0 = never */
  bool have;
  struct aws_client *client;
  struct aws_creds *source;
  char *role_arn, *external_id, *session_name, *region, *token_file;
  long duration_s;
  bool refreshing;
  struct waiter *whead, *wtail;
  char label[256];
};

time_t (*aws__creds_now)(void) = NULL; /* test clock */

static time_t now_s(void)
{
  return aws__creds_now ? aws__creds_now() : time(NULL);
}

static void clear_value(struct aws_creds *c)
{
  free(c->akid);
  util_free_secret(c->secret);
  util_free_secret(c->token);
  c->akid = c->secret = c->token = NULL;
  c->have = false;
  c->expiry = 0;
}

static void set_value(struct aws_creds *c, const char *id, const char *secret,
                      const char *token, time_t expiry)
{
  clear_value(c);
  c->akid = util_xstrdup(id);
  c->secret = util_xstrdup(secret);
  c->token = str_empty(token) ? NULL : util_xstrdup(token);
  c->expiry = expiry;
  c->have = true;
}

static struct aws_creds *creds_new(enum aws_creds_kind kind)
{
  struct aws_creds *c = util_xcalloc(1, sizeof(*c));

  c->refs = 1;
  c->kind = kind;
  return c;
}

struct aws_creds *aws_creds_static_new(const char *access_key_id,
                                       const char *secret,
                                       const char *session_token)
{
  struct aws_creds *c;

  if (str_empty(access_key_id) || str_empty(secret))
    return NULL;
  c = creds_new(AWS_CREDS_STATIC);
  set_value(c, access_key_id, secret, session_token, 0);
  str_copy(c->label, access_key_id, sizeof(c->label));
  return c;
}

int aws_creds_from_env(struct aws_creds **out)
{
  *out = aws_creds_static_new(getenv("AWS_ACCESS_KEY_ID"),
                              getenv("AWS_SECRET_ACCESS_KEY"),
                              getenv("AWS_SESSION_TOKEN"));
  return *out ? 0 : OP_ENOTFOUND;
}

struct aws_creds *aws_creds_ref(struct aws_creds *c)
{
  if (c)
    c->refs++;
  return c;
}

void aws_creds_unref(struct aws_creds *c)
{
  if (!c || --c->refs > 0)
    return;
  UTIL_ASSERT(!c->whead);
  clear_value(c);
  aws_creds_unref(c->source);
  free(c->role_arn);
  free(c->external_id);
  free(c->session_name);
  free(c->region);
  free(c->token_file);
  free(c);
}

enum aws_creds_kind aws_creds_kind(const struct aws_creds *c)
{
  return c->kind;
}

const char *aws_creds_label(const struct aws_creds *c)
{
  return c->label;
}

time_t aws_creds_expiry(const struct aws_creds *c)
{
  return c->expiry;
}

bool aws_creds_is_role_session(const struct aws_creds *c)
{
  return c->kind != AWS_CREDS_STATIC || (c->have && c->token);
}

void aws_creds_invalidate(struct aws_creds *c)
{
  if (c->kind != AWS_CREDS_STATIC)
    c->expiry = 1; /* stale: the next get refreshes */
}

static bool fresh(const struct aws_creds *c)
{
  return c->have &&
         (c->expiry == 0 || c->expiry - now_s() > AWS_CREDS_REFRESH_BEFORE_S);
}

static bool usable(const struct aws_creds *c)
{
  return c->have && (c->expiry == 0 || c->expiry > now_s() + 10);
}

static void deliver(struct aws_creds *c, aws_creds_cb cb, void *arg, int err)
{
  struct sigv4_creds v = { c->akid, c->secret, c->token };

  if (err == 0 && !c->have)
    err = OP_EAUTH;
  cb(err, err ? NULL : &v, arg);
}

/* Refresh finished: wake every waiter (value or error). */
static void refresh_done(struct aws_creds *c, int err)
{
  struct waiter *w = c->whead, *next;

  c->refreshing = false;
  c->whead = c->wtail = NULL;
  if (err && usable(c)) {
    log_warn(MOD, "%s: refresh failed (%s); using the cached value", c->label,
             op_strerror(err));
    err = 0;
  }
  for (; w; w = next) {
    next = w->next;
    deliver(c, w->cb, w->arg, err);
    free(w);
  }
  aws_creds_unref(c); /* the refresh's own reference */
}

static void start_refresh(struct aws_creds *c);

int aws_creds_get(struct aws_creds *c, aws_creds_cb cb, void *arg)
{
  struct waiter *w;

  if (!c || !cb)
    return OP_EINVAL;
  if (c->kind == AWS_CREDS_STATIC || fresh(c)) {
    deliver(c, cb, arg, 0);
    return 0;
  }
  w = util_xcalloc(1, sizeof(*w));
  w->cb = cb;
  w->arg = arg;
  if (c->wtail)
    c->wtail->next = w;
  else
    c->whead = w;
  c->wtail = w;
  if (!c->refreshing) {
    c->refreshing = true;
    aws_creds_ref(c);
    start_refresh(c);
  }
  return 0;
}

/* ---- STS responses ---- */

/* Parse <X Response><X Result><Credentials> for AssumeRole and
 * AssumeRoleWithWebIdentity. */
int aws__creds_parse_sts(struct aws_creds *c, const char *body, size_t len)
{
  const struct aws_xml_node *root, *cr = NULL, *n;
  struct aws_xml *x;
  const char *id, *sk, *tok, *exp;
  time_t t;
  int rc;

  rc = aws_xml_parse(body, len, &x);
  if (rc)
    return rc;
  root = aws_xml_root(x);
  for (n = aws_xml_child(root, NULL); n && !cr; n = aws_xml_next_any(n))
    cr = aws_xml_child(n, "Credentials");
  id = aws_xml_child_text(cr, "AccessKeyId");
  sk = aws_xml_child_text(cr, "SecretAccessKey");
  tok = aws_xml_child_text(cr, "SessionToken");
  exp = aws_xml_child_text(cr, "Expiration");
  if (str_empty(id) || str_empty(sk) || str_empty(exp) ||
      time_parse_rfc3339(exp, &t) != 0)
    rc = OP_EPARSE;
  else
    set_value(c, id, sk, tok, t);
  aws_xml_free(x);
  return rc;
}

static void on_sts(int err, const struct aws_resp *resp,
                   const struct aws_error *aerr, void *arg)
{
  struct aws_creds *c = arg;

  if (err == 0) {
    err = aws__creds_parse_sts(c, resp->body, resp->body_len);
    /* The answer holds a secret key: clobber httpc's buffer now (it is
     * released, unread, when this callback returns). */
    util_wipe((char *)resp->body, resp->body_len);
  }
  if (err)
    log_warn(MOD, "%s: STS refresh failed: %s%s%s", c->label, op_strerror(err),
             aerr ? " " : "", aerr ? aerr->code : "");
  refresh_done(c, err);
}

/* Append "&name=<value encoded>". */
static int form_add(struct buf *b, const char *name, const char *value)
{
  int rc = buf_printf(b, "&%s=", name);

  return rc ? rc : uri_encode(b, value, strlen(value), false);
}

static int sts_call(struct aws_creds *c, struct aws_creds *signer,
                    struct buf *body)
{
  static const struct aws_header hdr[] = {
    { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
  };
  struct aws_call call = { 0 };

  call.service = "sts";
  call.operation = c->kind == AWS_CREDS_ASSUME_ROLE
                       ? "AssumeRole"
                       : "AssumeRoleWithWebIdentity";
  call.region = c->region;
  call.method = "POST";
  call.path = "/";
  call.headers = hdr;
  call.nheaders = 1;
  call.body = body->data;
  call.body_len = body->len;
  call.protocol = AWS_PROTO_QUERY;
  call.idempotent = true;
  call.unsigned_request = signer == NULL;
  return aws_call_start(c->client, signer, &call, on_sts, c);
}

long aws__creds_duration(const struct aws_creds *c)
{
  long d = c->duration_s > 0 ? c->duration_s : 3600;

  if (c->source && aws_creds_is_role_session(c->source) &&
      d > AWS_ROLE_SESSION_CHAIN_MAX_S)
    d = AWS_ROLE_SESSION_CHAIN_MAX_S; /* role chaining: 1 h at most */
  return d;
}

static int assume_role_body(struct aws_creds *c, struct buf *b)
{
  char dur[24];
  int rc;

  str_fmt(dur, sizeof(dur), "%ld", aws__creds_duration(c));
  rc = buf_append_str(b, "Action=AssumeRole&Version=2011-06-15");
  if (rc == 0)
    rc = form_add(b, "RoleArn", c->role_arn);
  if (rc == 0)
    rc = form_add(b, "RoleSessionName", c->session_name);
  if (rc == 0)
    rc = form_add(b, "DurationSeconds", dur);
  if (rc == 0 && c->external_id)
    rc = form_add(b, "ExternalId", c->external_id);
  return rc;
}

static int read_token_file(const char *path, struct buf *out)
{
  char tmp[4096];
  size_t n;
  FILE *f = fopen(path, "rb");
  int rc = 0;

  if (!f)
    return OP_ENOTFOUND;
  while (rc == 0 && (n = fread(tmp, 1, sizeof(tmp), f)) > 0)
    rc = buf_append(out, tmp, n);
  fclose(f);
  util_wipe(tmp, sizeof(tmp));
  while (rc == 0 && out->len > 0 &&
         (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
    out->data[--out->len] = '\0';
  return rc ? rc : (out->len ? 0 : OP_EPARSE);
}

static int web_identity_body(struct aws_creds *c, struct buf *b)
{
  struct buf tok;
  int rc;

  buf_init_secret(&tok, TOKEN_FILE_MAX);
  rc = read_token_file(c->token_file, &tok);
  if (rc == 0)
    rc = buf_append_str(b, "Action=AssumeRoleWithWebIdentity&Version="
                           "2011-06-15");
  if (rc == 0)
    rc = form_add(b, "RoleArn", c->role_arn);
  if (rc == 0)
    rc = form_add(b, "RoleSessionName", c->session_name);
  if (rc == 0)
    rc = form_add(b, "WebIdentityToken", buf_str(&tok));
  buf_cleanup(&tok);
  return rc;
}

static void start_refresh(struct aws_creds *c)
{
  struct buf body;
  int rc;

  buf_init_secret(&body, 2 * TOKEN_FILE_MAX);
  if (c->kind == AWS_CREDS_ASSUME_ROLE)
    rc = assume_role_body(c, &body);
  else
    rc = web_identity_body(c, &body);
  if (rc == 0)
    rc =
        sts_call(c, c->kind == AWS_CREDS_ASSUME_ROLE ? c->source : NULL, &body);
  buf_cleanup(&body);
  if (rc)
    refresh_done(c, rc);
}

int aws_creds_assume_role_new(struct aws_client *cl, struct aws_creds *source,
                              const struct aws_assume_role_opts *o,
                              struct aws_creds **out)
{
  struct aws_creds *c;

  *out = NULL;
  if (!cl || !source || !o || str_empty(o->role_arn))
    return OP_EINVAL;
  c = creds_new(AWS_CREDS_ASSUME_ROLE);
  c->client = cl;
  c->source = aws_creds_ref(source);
  c->role_arn = util_xstrdup(o->role_arn);
  c->external_id =
      str_empty(o->external_id) ? NULL : util_xstrdup(o->external_id);
  c->session_name =
      util_xstrdup(o->session_name ? o->session_name : "awsAccountOperator");
  c->duration_s = o->duration_s;
  c->region = o->region ? util_xstrdup(o->region) : NULL;
  str_copy(c->label, o->role_arn, sizeof(c->label));
  *out = c;
  return 0;
}

int aws_creds_web_identity_new(struct aws_client *cl, const char *role_arn,
                               const char *token_file, const char *session_name,
                               struct aws_creds **out)
{
  struct aws_creds *c;

  *out = NULL;
  if (!role_arn)
    role_arn = getenv("AWS_ROLE_ARN");
  if (!token_file)
    token_file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
  if (str_empty(role_arn) || str_empty(token_file))
    return OP_ENOTFOUND;
  if (!cl)
    return OP_EINVAL;
  c = creds_new(AWS_CREDS_WEB_IDENTITY);
  c->client = cl;
  c->role_arn = util_xstrdup(role_arn);
  c->token_file = util_xstrdup(token_file);
  c->session_name =
      util_xstrdup(session_name ? session_name : "awsAccountOperator");
  str_copy(c->label, role_arn, sizeof(c->label));
  *out = c;
  return 0;
}
