/* libFuzzer target: JSON 1.1 / REST-JSON error decoding (body and the
 * x-amzn-ErrorType header) and the DescribeOrganization parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/core/check.h"
#include "aws/core/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct aws_check_result r;
  struct aws_error e;
  const char *body = (const char *)data;
  char hdr[128];
  size_t hl = 0;

  /* First line (if short) doubles as the x-amzn-ErrorType header. */
  const uint8_t *nl = memchr(data, '\n', size < 127 ? size : 127);
  if (nl) {
    hl = (size_t)(nl - data);
    memcpy(hdr, data, hl);
    hdr[hl] = '\0';
  }
  aws_error_decode(AWS_PROTO_JSON11, 400, body, size, nl ? hdr : NULL, NULL,
                   &e);
  (void)aws_error_op(&e);
  aws_error_decode(AWS_PROTO_RESTJSON, 500, body, size, NULL, "rid", &e);
  memset(&r, 0, sizeof(r));
  (void)aws_check_parse_org(body, size, &r);
  (void)aws_check_parse_identity(body, size, &r);
  return 0;
}
