/* JSON 1.1 and REST-JSON request building. */
#include "aws/json11.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ops_internal.h"
#include "util/err.h"
#include "util/util.h"

int aws_json11_request(struct aws_wire *w, const char *target_prefix,
                       const char *operation, json_t *body)
{
  char target[160];
  int rc;

  if (snprintf(target, sizeof(target), "%s.%s", target_prefix, operation) >=
      (int)sizeof(target)) {
    json_decref(body);
    return OP_EINVAL;
  }
  w->method = "POST";
  rc = aws_js_body(w, body ? body : json_object());
  if (!rc)
    rc = aws_wire_header(w, "Content-Type", AWS_JSON11_CONTENT_TYPE);
  if (!rc)
    rc = aws_wire_header(w, "X-Amz-Target", target);
  return rc;
}

int aws_restjson_post(struct aws_wire *w, const char *path, json_t *body)
{
  int rc;

  w->method = "POST";
  free(w->path);
  w->path = util_xstrdup(path);
  rc = aws_js_body(w, body ? body : json_object());
  if (!rc)
    rc = aws_wire_header(w, "Content-Type", "application/json");
  return rc;
}
