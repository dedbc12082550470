/* AWS Support (JSON 1.1, AWSSupport_20130415). */
#include "aws/support.h"

#include <stdlib.h>
#include <string.h>

#include "aws/ops_int.h"
#include "aws/proto/json11.h"
#include "util/err.h"
#include "util/util.h"

#define SUPPORT "AWSSupport_20130415" /* JSON 1.1 target prefix */

int aws_enc_create_case(const struct aws_create_case_req *rq,
                        struct aws_wire *w)
{
  json_t *b;

  if (!rq->subject || !rq->communication_body)
    return OP_EINVAL;
  b = json_pack("{s:s,s:s}", "subject", rq->subject, "communicationBody",
                rq->communication_body);
  aws_js_set_str(b, "serviceCode", rq->service_code);
  aws_js_set_str(b, "severityCode", rq->severity_code);
  aws_js_set_str(b, "categoryCode", rq->category_code);
  aws_js_set_str(b, "language", rq->language);
  aws_js_set_str(b, "issueType", rq->issue_type);
  return aws_json11_request(w, SUPPORT, "CreateCase", b);
}

int aws_dec_create_case(const char *body, size_t len,
                        struct aws_create_case_result **out)
{
  json_t *o = aws_js_parse_new(body, len);
  struct aws_create_case_result *r;

  if (!o)
    return OP_EPARSE;
  r = util_xcalloc(1, sizeof(*r));
  r->case_id = aws_js_str_new(o, "caseId");
  json_decref(o);
  if (!r->case_id) {
    aws_create_case_result_free(r);
    return OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_create_case_result_free(struct aws_create_case_result *r)
{
  if (!r)
    return;
  free(r->case_id);
  free(r);
}

int aws_enc_describe_cases(const struct aws_describe_cases_req *rq,
                           struct aws_wire *w)
{
  json_t *b = json_object();

  if (rq->ncase_ids)
    json_object_set_new(b, "caseIdList",
                        aws_js_strs_new(rq->case_ids, rq->ncase_ids));
  if (rq->include_resolved_cases)
    json_object_set_new(b, "includeResolvedCases", json_true());
  aws_js_set_str(b, "nextToken", rq->next_token);
  return aws_json11_request(w, SUPPORT, "DescribeCases", b);
}

static int case_item(const json_t *o, void *elem)
{
  struct aws_support_case *c = elem;

  c->case_id = aws_js_str_new(o, "caseId");
  c->display_id = aws_js_str_new(o, "displayId");
  c->subject = aws_js_str_new(o, "subject");
  c->status = aws_js_str_new(o, "status");
  return c->case_id ? 0 : OP_EPARSE;
}

int aws_dec_describe_cases(const char *body, size_t len,
                           struct aws_describe_cases_result **out)
{
  json_t *o = aws_js_parse_new(body, len);
  struct aws_describe_cases_result *r;
  int rc;

  if (!o)
    return OP_EPARSE;
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_js_each(o, "cases", sizeof(*r->v), case_item, (void **)&r->v, &r->n);
  r->next_token = aws_js_str_new(o, "nextToken");
  json_decref(o);
  if (rc) {
    aws_describe_cases_result_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void aws_describe_cases_result_free(struct aws_describe_cases_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].case_id);
    free(r->v[i].display_id);
    free(r->v[i].subject);
    free(r->v[i].status);
  }
  free(r->v);
  free(r->next_token);
  free(r);
}
