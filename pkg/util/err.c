#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *op_strerror(int err)
{
  switch (err) {
  case OP_OK:
    return "success";
#define OP_ERR_MSG(name, val, msg)                                             \
  case OP_##name:                                                              \
    return msg;
    OP_ERR_MAP(OP_ERR_MSG)
#undef OP_ERR_MSG
  default:
    return "unknown error";
  }
}

const char *op_err_name(int err)
{
  switch (err) {
  case OP_OK:
    return "OK";
#define OP_ERR_NAME(name, val, msg)                                            \
  case OP_##name:                                                              \
    return #name;
    OP_ERR_MAP(OP_ERR_NAME)
#undef OP_ERR_NAME
  default:
    return "EUNKNOWN";
  }
}

int op_error_set(struct op_error *e, int code, const char *fmt, ...)
{
  va_list ap;

  if (!e)
    return code;
  e->code = code;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
  va_end(ap);
  return code;
}

void op_error_clear(struct op_error *e)
{
  if (e)
    memset(e, 0, sizeof(*e));
}
