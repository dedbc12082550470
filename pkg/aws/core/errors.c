/* AWS error decoding and classification. See errors.h. */
#include "aws/core/errors.h"

#include <jansson.h>
#include <string.h>

#include "aws/core/xml.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define JSON_ERR_MAX ((size_t)1 << 20)

struct code_class {
  const char *code;
  enum aws_err_class cls;
};

/* Exact codes first (botocore's standard retry lists plus each service's
 * documented errors), then the substring rules in classify_pattern. */
static const struct code_class codes[] = {
  { "Throttling", AWS_ERR_THROTTLED },
  { "ThrottlingException", AWS_ERR_THROTTLED },
  { "ThrottledException", AWS_ERR_THROTTLED },
  { "RequestThrottledException", AWS_ERR_THROTTLED },
  { "TooManyRequestsException", AWS_ERR_THROTTLED },
  { "ProvisionedThroughputExceededException", AWS_ERR_THROTTLED },
  { "TransactionInProgressException", AWS_ERR_THROTTLED },
  { "RequestLimitExceeded", AWS_ERR_THROTTLED },
  { "BandwidthLimitExceeded", AWS_ERR_THROTTLED },
  { "RequestThrottled", AWS_ERR_THROTTLED },
  { "SlowDown", AWS_ERR_THROTTLED },
  { "PriorRequestNotComplete", AWS_ERR_THROTTLED },
  { "EC2ThrottledException", AWS_ERR_THROTTLED },
  { "InternalError", AWS_ERR_TRANSIENT },
  { "InternalFailure", AWS_ERR_TRANSIENT },
  { "InternalServerError", AWS_ERR_TRANSIENT },
  { "InternalServiceError", AWS_ERR_TRANSIENT },
  { "InternalException", AWS_ERR_TRANSIENT },
  { "ServiceUnavailable", AWS_ERR_TRANSIENT },
  { "ServiceUnavailableException", AWS_ERR_TRANSIENT },
  { "ServiceException", AWS_ERR_TRANSIENT },
  { "Unavailable", AWS_ERR_TRANSIENT },
  { "RequestTimeout", AWS_ERR_TRANSIENT },
  { "RequestTimeoutException", AWS_ERR_TRANSIENT },
  { "InvalidClientTokenId", AWS_ERR_AUTH },
  { "AccessDenied", AWS_ERR_AUTH },
  { "AccessDeniedException", AWS_ERR_AUTH },
  { "UnrecognizedClientException", AWS_ERR_AUTH },
  { "ExpiredToken", AWS_ERR_AUTH },
  { "ExpiredTokenException", AWS_ERR_AUTH },
  { "AuthFailure", AWS_ERR_AUTH },
  { "SignatureDoesNotMatch", AWS_ERR_AUTH },
  { "InvalidSignatureException", AWS_ERR_AUTH },
  { "UnauthorizedOperation", AWS_ERR_AUTH },
  { "MissingAuthenticationToken", AWS_ERR_AUTH },
  { "MissingAuthenticationTokenException", AWS_ERR_AUTH },
  { "IncompleteSignature", AWS_ERR_AUTH },
  { "IncompleteSignatureException", AWS_ERR_AUTH },
  { "InvalidAccessKeyId", AWS_ERR_AUTH },
  { "InvalidToken", AWS_ERR_AUTH },
  { "InvalidIdentityToken", AWS_ERR_AUTH },
  { "NotAuthorized", AWS_ERR_AUTH },
  { "RequestTimeTooSkewed", AWS_ERR_CLOCK_SKEW },
  { "RequestExpired", AWS_ERR_CLOCK_SKEW },
  { "RequestInTheFuture", AWS_ERR_CLOCK_SKEW },
  { "NoSuchEntity", AWS_ERR_NOTFOUND },
  { "NoSuchBucket", AWS_ERR_NOTFOUND },
  { "NoSuchKey", AWS_ERR_NOTFOUND },
  { "NoSuchHostedZone", AWS_ERR_NOTFOUND },
  { "ConcurrentModificationException", AWS_ERR_CONFLICT },
  { "ConflictException", AWS_ERR_CONFLICT },
  { "OperationAbortedException", AWS_ERR_CONFLICT },
  { "ConstraintViolationException", AWS_ERR_LIMIT },
  { "LimitExceeded", AWS_ERR_LIMIT },
  { "LimitExceededException", AWS_ERR_LIMIT },
  { "ServiceQuotaExceededException", AWS_ERR_LIMIT },
  { "QuotaExceededException", AWS_ERR_LIMIT },
  { "TooManyBuckets", AWS_ERR_LIMIT },
  { "ValidationException", AWS_ERR_INVALID },
  { "ValidationError", AWS_ERR_INVALID },
  { "MalformedPolicyDocument", AWS_ERR_INVALID },
  { "MalformedPolicyDocumentException", AWS_ERR_INVALID },
  { "MalformedQueryString", AWS_ERR_INVALID },
  { "MissingParameter", AWS_ERR_INVALID },
  { "MissingAction", AWS_ERR_INVALID },
  { "InvalidAction", AWS_ERR_INVALID },
  { "SerializationException", AWS_ERR_INVALID },
  { "InvalidRequest", AWS_ERR_INVALID },
  { "InvalidArgument", AWS_ERR_INVALID },
};

static enum aws_err_class classify_pattern(const char *code)
{
  if (strstr(code, "NotFound") || str_has_prefix(code, "NoSuch"))
    return AWS_ERR_NOTFOUND;
  if (strstr(code, "AlreadyExists") || strstr(code, "AlreadyOwnedByYou") ||
      str_has_prefix(code, "Duplicate"))
    return AWS_ERR_CONFLICT;
  if (str_has_prefix(code, "InvalidParameter") ||
      str_has_prefix(code, "InvalidInput") || str_has_prefix(code, "Malformed"))
    return AWS_ERR_INVALID;
  if (strstr(code, "LimitExceeded"))
    return AWS_ERR_LIMIT;
  if (strstr(code, "Throttl"))
    return AWS_ERR_THROTTLED;
  return AWS_ERR_NONE;
}

static enum aws_err_class classify_status(long status)
{
  if (status >= 500 && status <= 599)
    return AWS_ERR_TRANSIENT;
  if (status == 429)
    return AWS_ERR_THROTTLED;
  if (status == 404)
    return AWS_ERR_NOTFOUND;
  if (status == 401 || status == 403)
    return AWS_ERR_AUTH;
  return AWS_ERR_OTHER;
}

enum aws_err_class aws_error_classify(const char *code, long status)
{
  enum aws_err_class c;
  size_t i;

  if (str_empty(code))
    return classify_status(status);
  for (i = 0; i < UTIL_ARRAY_SIZE(codes); i++)
    if (strcmp(code, codes[i].code) == 0)
      return codes[i].cls;
  c = classify_pattern(code);
  if (c != AWS_ERR_NONE)
    return c;
  return status >= 500 && status <= 599 ? AWS_ERR_TRANSIENT : AWS_ERR_OTHER;
}

int aws_error_class_op(enum aws_err_class cls)
{
  switch (cls) {
  case AWS_ERR_NONE:
    return 0;
  case AWS_ERR_THROTTLED:
    return OP_ETHROTTLED;
  case AWS_ERR_TRANSIENT:
    return OP_ETRANSIENT;
  case AWS_ERR_AUTH:
  case AWS_ERR_CLOCK_SKEW:
    return OP_EAUTH;
  case AWS_ERR_NOTFOUND:
    return OP_ENOTFOUND;
  case AWS_ERR_CONFLICT:
    return OP_ECONFLICT;
  case AWS_ERR_LIMIT:
    return OP_ELIMIT;
  case AWS_ERR_INVALID:
    return OP_EINVAL;
  default:
    return OP_EAWS;
  }
}

int aws_error_op(const struct aws_error *e)
{
  return aws_error_class_op((enum aws_err_class)e->cls);
}

const char *aws_error_class_name(enum aws_err_class cls)
{
  static const char *const names[] = { "none",     "throttled",  "transient",
                                       "auth",     "clock_skew", "not_found",
                                       "conflict", "limit",      "invalid",
                                       "other" };
  return (unsigned)cls < UTIL_ARRAY_SIZE(names) ? names[cls] : "other";
}

void aws_error_clear(struct aws_error *e)
{
  memset(e, 0, sizeof(*e));
}

/* "aws.protocoltests#FooError:http://..." -> "FooError" */
static void set_code(struct aws_error *e, const char *raw)
{
  const char *hash = strrchr(raw, '#');
  const char *start = hash ? hash + 1 : raw;
  size_t len = strcspn(start, ":");

  if (len >= sizeof(e->code))
    len = sizeof(e->code) - 1;
  memcpy(e->code, start, len);
  e->code[len] = '\0';
}

static const char *json_str(json_t *o, const char *const *keys)
{
  for (; *keys; keys++) {
    json_t *v = json_object_get(o, *keys);
    if (json_is_string(v))
      return json_string_value(v);
  }
  return NULL;
}

static void decode_json(const char *body, size_t len, struct aws_error *e)
{
  static const char *const type_keys[] = { "__type", "code", "Code", NULL };
  static const char *const msg_keys[] = { "message", "Message", "errorMessage",
                                          NULL };
  static const char *const reason_keys[] = { "Reason", "reason", NULL };
  json_error_t jerr;
  json_t *root;
  const char *s;

  if (len == 0 || len > JSON_ERR_MAX)
    return;
  root = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
  if (!json_is_object(root)) {
    json_decref(root);
    return;
  }
  if (!e->code[0] && (s = json_str(root, type_keys)))
    set_code(e, s);
  if ((s = json_str(root, msg_keys)))
    str_copy(e->message, s, sizeof(e->message));
  if ((s = json_str(root, reason_keys)))
    str_copy(e->reason, s, sizeof(e->reason));
  json_decref(root);
}

static void decode_xml(const char *body, size_t len, struct aws_error *e)
{
  const struct aws_xml_node *root, *err;
  struct aws_xml *x;
  const char *s;

  if (len == 0 || aws_xml_parse(body, len, &x) != 0)
    return;
  root = aws_xml_root(x);
  if (str_eq(aws_xml_name(root), "Error"))
    err = root;
  else if (!(err = aws_xml_path(root, "Error")))
    err = aws_xml_path(root, "Errors/Error");
  if (err) {
    if (!e->code[0] && (s = aws_xml_child_text(err, "Code")))
      set_code(e, s);
    if ((s = aws_xml_child_text(err, "Message")))
      str_copy(e->message, s, sizeof(e->message));
    if ((s = aws_xml_child_text(err, "Reason")))
      str_copy(e->reason, s, sizeof(e->reason));
  }
  if (!e->request_id[0]) {
    if (!(s = aws_xml_child_text(root, "RequestId")) &&
        !(s = aws_xml_child_text(root, "RequestID")))
      s = aws_xml_child_text(err, "RequestId");
    if (s)
      str_copy(e->request_id, s, sizeof(e->request_id));
  }
  aws_xml_free(x);
}

/* SignatureDoesNotMatch caused by a wrong clock, not a wrong secret. */
static int message_says_skew(const struct aws_error *e)
{
  return strstr(e->message, "Signature expired") ||
         strstr(e->message, "Signature not yet current") ||
         strstr(e->message, "too skewed") || strstr(e->message, "clock skew");
}

int aws_error_decode(enum aws_protocol proto, long status, const char *body,
                     size_t len, const char *hdr_error_type,
                     const char *hdr_request_id, struct aws_error *e)
{
  aws_error_clear(e);
  e->http_status = status;
  if (!str_empty(hdr_request_id))
    str_copy(e->request_id, hdr_request_id, sizeof(e->request_id));
  if (!str_empty(hdr_error_type) &&
      (proto == AWS_PROTO_JSON11 || proto == AWS_PROTO_RESTJSON))
    set_code(e, hdr_error_type);
  if (!body)
    len = 0;
  if (proto == AWS_PROTO_JSON11 || proto == AWS_PROTO_RESTJSON)
    decode_json(body, len, e);
  else
    decode_xml(body, len, e);
  if (!e->code[0] && !str_empty(hdr_error_type))
    set_code(e, hdr_error_type);
  e->cls = aws_error_classify(e->code, status);
  if (e->cls == AWS_ERR_AUTH &&
      (str_eq(e->code, "SignatureDoesNotMatch") ||
       str_eq(e->code, "InvalidSignatureException")) &&
      message_says_skew(e))
    e->cls = AWS_ERR_CLOCK_SKEW;
  return aws_error_op(e);
}

int aws_error_from_transport(int err, const char *detail, struct aws_error *e)
{
  aws_error_clear(e);
  str_copy(e->code, op_err_name(err), sizeof(e->code));
  str_copy(e->message, detail && *detail ? detail : op_strerror(err),
           sizeof(e->message));
  e->cls = err == OP_ECANCELED || err == OP_ESHUTDOWN || err == OP_ETOOBIG ||
                   err == OP_ETLS || err == OP_EINVAL
               ? AWS_ERR_OTHER
               : AWS_ERR_TRANSIENT;
  return err;
}
