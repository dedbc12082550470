/* AWS Account Management (REST-JSON). GetRegionOptStatus and EnableRegion
 * post to /getRegionOptStatus and /enableRegion with a JSON body of
 * RegionName and optional AccountId (absent from botocore 1.29's model). */
#include "aws/account.h"

#include <stdlib.h>
#include <string.h>

#include "aws/ops_int.h"
#include "aws/proto/json11.h"
#include "util/err.h"
#include "util/util.h"

static int enc_region(struct aws_wire *w, const char *path,
                      const struct aws_region_opt_req *rq)
{
  json_t *b;

  if (!rq->region_name)
    return OP_EINVAL;
  b = json_pack("{s:s}", "RegionName", rq->region_name);
  aws_js_set_str(b, "AccountId", rq->account_id);
  return aws_restjson_post(w, path, b);
}

int aws_enc_get_region_opt_status(const struct aws_region_opt_req *rq,
                                  struct aws_wire *w)
{
  return enc_region(w, "/getRegionOptStatus", rq);
}

int aws_dec_get_region_opt_status(const char *body, size_t len,
                                  struct aws_region_opt_result **out)
{
  json_t *o = aws_js_parse_new(body, len);
  struct aws_region_opt_result *r;

  if (!o)
    return OP_EPARSE;
  r = util_xcalloc(1, sizeof(*r));
  r->region_name = aws_js_str_new(o, "RegionName");
  r->region_opt_status = aws_js_str_new(o, "RegionOptStatus");
  json_decref(o);
  if (!r->region_opt_status) {
    aws_region_opt_result_free(r);
    return OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_region_opt_result_free(struct aws_region_opt_result *r)
{
  if (!r)
    return;
  free(r->region_name);
  free(r->region_opt_status);
  free(r);
}

int aws_enc_enable_region(const struct aws_region_opt_req *rq,
                          struct aws_wire *w)
{
  return enc_region(w, "/enableRegion", rq);
}

int aws_dec_enable_region(const char *body, size_t len,
                          struct aws_empty_result **out)
{
  return aws_dec_empty_any(body, len, out);
}
