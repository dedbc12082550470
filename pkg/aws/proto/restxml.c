/* REST-XML request helpers. */
#include "aws/proto/restxml.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "aws/proto/query.h"

int aws_xml_escape(struct buf *b, const char *s)
{
  int rc = 0;

  for (; *s && !rc; s++) {
    unsigned char c = (unsigned char)*s;
    switch (c) {
    case '&':
      rc = buf_append_str(b, "&amp;");
      break;
    case '<':
      rc = buf_append_str(b, "&lt;");
      break;
    case '>':
      rc = buf_append_str(b, "&gt;");
      break;
    case '"':
      rc = buf_append_str(b, "&quot;");
      break;
    case '\'':
      rc = buf_append_str(b, "&apos;");
      break;
    default:
      if (c < 0x20 && c != '\t')
        rc = buf_printf(b, "&#x%X;", c); /* S3 keys may hold \n, \r */
      else
        rc = buf_append_char(b, (char)c);
    }
  }
  return rc;
}

int aws_xml_elem(struct buf *b, const char *name, const char *text)
{
  int rc;

  if (!text)
    return 0;
  rc = buf_printf(b, "<%s>", name);
  if (!rc)
    rc = aws_xml_escape(b, text);
  if (!rc)
    rc = buf_printf(b, "</%s>", name);
  return rc;
}

int aws_xml_elem_ll(struct buf *b, const char *name, long long v)
{
  return buf_printf(b, "<%s>%lld</%s>", name, v, name);
}

int aws_rest_query_add(struct buf *b, const char *key, const char *value)
{
  int rc = 0;

  if (!value)
    return 0;
  if (b->len)
    rc = buf_append_char(b, '&');
  if (!rc)
    rc = uri_encode(b, key, strlen(key), false);
  if (!rc)
    rc = buf_append_char(b, '=');
  if (!rc)
    rc = uri_encode(b, value, strlen(value), false);
  return rc;
}

void aws_content_md5(const void *data, size_t len, char out[25])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;

  EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL);
  EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}
