/* The project-wide error list.
 *
 * Every function that can fail returns 0 or one of these negative codes
 * (libuv's convention). The table is one X-macro, like libuv's
 * UV_ERRNO_MAP, so the enum, the names and the messages cannot drift apart.
 *
 * Contract copied from libuv: when a function that takes a callback returns
 * an error, the callback is never called; when it returns 0 the callback is
 * called exactly once.
 */
#ifndef PKG_UTIL_ERR_H
#define PKG_UTIL_ERR_H

#include <stddef.h>

#define OP_ERR_MAP(XX)                                                         \
  XX(ENOMEM, -1, "out of memory")                                              \
  XX(EINVAL, -2, "invalid argument")                                           \
  XX(EIO, -3, "input/output error")                                            \
  XX(ETIMEDOUT, -4, "timed out")                                               \
  XX(ECANCELED, -5, "operation canceled")                                      \
  XX(ECONNREFUSED, -6, "connection refused")                                   \
  XX(ECONNECT, -7, "could not connect")                                        \
  XX(ETLS, -8, "TLS error")                                                    \
  XX(EHTTP, -9, "unexpected HTTP status")                                      \
  XX(EPARSE, -10, "malformed input")                                           \
  XX(ETOOBIG, -11, "input exceeds size limit")                                 \
  XX(ENOTFOUND, -12, "not found")                                              \
  XX(ECONFLICT, -13, "conflict")                                               \
  XX(EGONE, -14, "gone (resource version too old)")                            \
  XX(EINVALIDOBJ, -15, "object rejected as invalid")                           \
  XX(ETHROTTLED, -16, "throttled")                                             \
  XX(EUNAUTHORIZED, -17, "unauthorized")                                       \
  XX(EFORBIDDEN, -18, "forbidden")                                             \
  XX(EEXIST, -19, "already exists")                                            \
  XX(EAUTH, -20, "authentication failed")                                      \
  XX(ELIMIT, -21, "limit exceeded")                                            \
  XX(ETRANSIENT, -22, "transient failure")                                     \
  XX(EAWS, -23, "AWS error")                                                   \
  XX(ESHUTDOWN, -24, "shutting down")                                          \
  XX(ENOTSUP, -25, "not supported")                                            \
  XX(EBUSY, -26, "busy")                                                       \
  XX(ERANGE, -27, "value out of range")                                        \
  XX(ESTATE, -28, "invalid state for this operation")                          \
  XX(ECONFIG, -29, "invalid configuration")                                    \
  XX(ESYS, -30, "system call failed")

enum op_err {
  OP_OK = 0,
#define OP_ERR_ENUM(name, val, msg) OP_##name = (val),
  OP_ERR_MAP(OP_ERR_ENUM)
#undef OP_ERR_ENUM
};

/* "out of memory" for OP_ENOMEM; "unknown error" for codes not in the map. */
const char *op_strerror(int err);
/* "ENOMEM" for OP_ENOMEM, "OK" for 0, "EUNKNOWN" otherwise. */
const char *op_err_name(int err);

/* Rich detail about a failure, owned by the caller, optional everywhere it
 * is accepted (NULL allowed). Never holds secret material. */
struct op_error {
  int code;            /* an op_err */
  long http_status;    /* 0 when not an HTTP failure */
  char code_str[64];   /* remote error code, e.g. AWS "AccessDenied" */
  char request_id[64]; /* remote request id for logs, may be empty */
  char msg[256];       /* human-readable message, NUL-terminated */
};

/* Fill *e (if not NULL) with code and a printf-formatted message.
 * Returns code, so callers can write `return op_error_set(e, OP_EINVAL, ..)`.
 */
int op_error_set(struct op_error *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void op_error_clear(struct op_error *e);

#endif
