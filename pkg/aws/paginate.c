/* Pagination helpers: carry a result's continuation into the next request. */
#include "aws/api.h"
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

bool aws_s3_objects_next(const struct aws_s3_objects_result *r,
                         struct aws_list_objects_req *rq)
{
  return aws_page_next_marker(r->is_truncated, r->next_continuation_token,
                              &rq->continuation_token);
}

bool aws_r53_zones_next(const struct aws_r53_zones_result *r,
                        struct aws_r53_page_req *rq)
{
  return aws_page_next_marker(r->is_truncated, r->next_marker, &rq->marker);
}

bool aws_r53_rrsets_next(const struct aws_r53_rrsets_result *r,
                         struct aws_r53_rrsets_req *rq)
{
  if (!r->is_truncated || str_empty(r->next_record_name))
    return false;
  rq->start_record_name = r->next_record_name;
  rq->start_record_type = r->next_record_type;
  rq->start_record_identifier = r->next_record_identifier;
  return true;
}
