/* AWS Service Quotas (JSON 1.1, ServiceQuotasV20190624). */
#include "aws/quotas.h"

#include <stdlib.h>
#include <string.h>

#include "aws/ops_int.h"
#include "aws/proto/json11.h"
#include "util/err.h"
#include "util/util.h"

#define SQ "ServiceQuotasV20190624" /* JSON 1.1 target prefix */

static int enc_codes(struct aws_wire *w, const char *op,
                     const struct aws_quota_req *rq, json_t **out)
{
  if (!rq->service_code || !rq->quota_code)
    return OP_EINVAL;
  *out = json_pack("{s:s,s:s}", "ServiceCode", rq->service_code, "QuotaCode",
                   rq->quota_code);
  return 0;
}

int aws_enc_get_service_quota(const struct aws_quota_req *rq,
                              struct aws_wire *w)
{
  json_t *b;
  int rc = enc_codes(w, "GetServiceQuota", rq, &b);

  return rc ? rc : aws_json11_request(w, SQ, "GetServiceQuota", b);
}

int aws_dec_get_service_quota(const char *body, size_t len,
                              struct aws_service_quota_result **out)
{
  json_t *o = aws_js_parse_new(body, len), *q, *v;
  struct aws_service_quota_result *r;

  q = o ? json_object_get(o, "Quota") : NULL;
  if (!json_is_object(q)) {
    json_decref(o);
    return OP_EPARSE;
  }
  r = util_xcalloc(1, sizeof(*r));
  r->service_code = aws_js_str_new(q, "ServiceCode");
  r->quota_code = aws_js_str_new(q, "QuotaCode");
  v = json_object_get(q, "Value");
  r->has_value = json_is_number(v);
  r->value = r->has_value ? json_number_value(v) : 0;
  r->adjustable = json_is_true(json_object_get(q, "Adjustable"));
  json_decref(o);
  *out = r;
  return 0;
}

void aws_service_quota_result_free(struct aws_service_quota_result *r)
{
  if (!r)
    return;
  free(r->service_code);
  free(r->quota_code);
  free(r);
}

static int change_item(const json_t *o, void *elem)
{
  struct aws_quota_change *c = elem;
  json_t *v = json_object_get(o, "DesiredValue");

  c->id = aws_js_str_new(o, "Id");
  c->case_id = aws_js_str_new(o, "CaseId");
  c->service_code = aws_js_str_new(o, "ServiceCode");
  c->quota_code = aws_js_str_new(o, "QuotaCode");
  c->status = aws_js_str_new(o, "Status");
  c->desired_value = json_is_number(v) ? json_number_value(v) : 0;
  return c->status ? 0 : OP_EPARSE;
}

static void change_clean(struct aws_quota_change *c)
{
  free(c->id);
  free(c->case_id);
  free(c->service_code);
  free(c->quota_code);
  free(c->status);
}

int aws_enc_request_service_quota_increase(
    const struct aws_quota_increase_req *rq, struct aws_wire *w)
{
  if (!rq->service_code || !rq->quota_code)
    return OP_EINVAL;
  return aws_json11_request(
      w, SQ, "RequestServiceQuotaIncrease",
      json_pack("{s:s,s:s,s:f}", "ServiceCode", rq->service_code, "QuotaCode",
                rq->quota_code, "DesiredValue", rq->desired_value));
}

int aws_dec_request_service_quota_increase(const char *body, size_t len,
                                           struct aws_quota_change_result **out)
{
  json_t *o = aws_js_parse_new(body, len), *c;
  struct aws_quota_change_result *r;
  int rc;

  c = o ? json_object_get(o, "RequestedQuota") : NULL;
  if (!json_is_object(c)) {
    json_decref(o);
    return OP_EPARSE;
  }
  r = util_xcalloc(1, sizeof(*r));
  rc = change_item(c, &r->change);
  json_decref(o);
  if (rc) {
    aws_quota_change_result_free(r);
    return OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_quota_change_result_free(struct aws_quota_change_result *r)
{
  if (!r)
    return;
  change_clean(&r->change);
  free(r);
}

int aws_enc_list_quota_change_history_by_quota(
    const struct aws_quota_history_req *rq, struct aws_wire *w)
{
  json_t *b;

  if (!rq->service_code || !rq->quota_code)
    return OP_EINVAL;
  b = json_pack("{s:s,s:s}", "ServiceCode", rq->service_code, "QuotaCode",
                rq->quota_code);
  aws_js_set_str(b, "Status", rq->status);
  aws_js_set_str(b, "NextToken", rq->next_token);
  return aws_json11_request(w, SQ,
                            "ListRequestedServiceQuotaChangeHistoryByQuota", b);
}

int aws_dec_list_quota_change_history_by_quota(
    const char *body, size_t len, struct aws_quota_changes_result **out)
{
  json_t *o = aws_js_parse_new(body, len);
  struct aws_quota_changes_result *r;
  int rc;

  if (!o)
    return OP_EPARSE;
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_js_each(o, "RequestedQuotas", sizeof(*r->v), change_item,
                   (void **)&r->v, &r->n);
  r->next_token = aws_js_str_new(o, "NextToken");
  json_decref(o);
  if (rc) {
    aws_quota_changes_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_quota_changes_result_free(struct aws_quota_changes_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    change_clean(&r->v[i]);
  free(r->v);
  free(r->next_token);
  free(r);
}
