/* Pagination helpers: carry a result's continuation into the next request. */
#include "aws/proto/shapes.h"

#include "util/str.h"

bool aws_page_next_token(const char *res_next_token, const char **req_token)
{
  if (str_empty(res_next_token))
    return false;
  *req_token = res_next_token;
  return true;
}

bool aws_page_next_marker(bool is_truncated, const char *res_marker,
                          const char **req_marker)
{
  if (!is_truncated || str_empty(res_marker))
    return false;
  *req_marker = res_marker;
  return true;
}
