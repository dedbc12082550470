/* libFuzzer target: the safe XML reader and the XML error decoders (Query,
 * EC2, REST-XML) on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "aws/core/errors.h"
#include "aws/core/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk the whole tree with the public helpers (bounded by the depth cap). */
static size_t walk(const struct aws_xml_node *n, int depth)
{
  const struct aws_xml_node *c;
  size_t k = 0;

  if (!n || depth > AWS_XML_MAX_DEPTH + 1)
    return 0;
  for (c = aws_xml_child(n, NULL); c; c = aws_xml_next_any(c)) {
    const char *t = aws_xml_text(c);
    k += t ? strlen(t) : 0;
    k += aws_xml_count(n, aws_xml_name(c));
    k += walk(c, depth + 1);
  }
  return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct aws_xml *x;
  struct aws_error e;
  char buf[16];

  if (aws_xml_parse((const char *)data, size, &x) == 0) {
    const struct aws_xml_node *root = aws_xml_root(x);
    (void)walk(root, 1);
    (void)aws_xml_copy(root, "Error/Code", buf, sizeof(buf));
    (void)aws_xml_child_text(root, "a/b/c/member/item");
    aws_xml_free(x);
  }
  aws_error_decode(AWS_PROTO_QUERY, 400, (const char *)data, size, NULL, NULL,
                   &e);
  aws_error_decode(AWS_PROTO_EC2, 503, (const char *)data, size, NULL, NULL,
                   &e);
  aws_error_decode(AWS_PROTO_RESTXML, 404, (const char *)data, size, "X:y",
                   "rid", &e);
  return 0;
}
