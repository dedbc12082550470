/* AWS IAM managed policies and their versions (Query protocol). */
#include "aws/iam.h"

#include <stdlib.h>

#include "aws/iam_int.h"
#include "util/err.h"
#include "util/util.h"

/* ---- element decoders --------------------------------------------------- */

static int policy_item(aws_xnode n, void *elem)
{
  struct aws_iam_policy *p = elem;

  p->policy_name = aws_ox_str_new(n, "PolicyName");
  p->policy_id = aws_ox_str_new(n, "PolicyId");
  p->arn = aws_ox_str_new(n, "Arn");
  p->path = aws_ox_str_new(n, "Path");
  p->default_version_id = aws_ox_str_new(n, "DefaultVersionId");
  return p->arn ? 0 : OP_EPARSE;
}

static void policy_clean(struct aws_iam_policy *p)
{
  free(p->policy_name);
  free(p->policy_id);
  free(p->arn);
  free(p->path);
  free(p->default_version_id);
}

static int version_item(aws_xnode n, void *elem)
{
  struct aws_iam_policy_version *v = elem;

  v->version_id = aws_ox_str_new(n, "VersionId");
  v->is_default_version = aws_ox_bool(n, "IsDefaultVersion");
  v->document = aws_iam_doc_str_new(n, "Document");
  return v->version_id ? 0 : OP_EPARSE;
}

static void version_clean(struct aws_iam_policy_version *v)
{
  free(v->version_id);
  free(v->document);
}

/* ---- policies ----------------------------------------------------------- */

int aws_enc_create_policy(const struct aws_create_policy_req *rq,
                          struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->policy_name || !rq->policy_document)
    return OP_EINVAL;
  aws_iam_query(&q, "CreatePolicy");
  aws_query_add(&q, "PolicyName", rq->policy_name);
  aws_query_add(&q, "PolicyDocument", rq->policy_document);
  aws_query_add(&q, "Description", rq->description);
  aws_query_add(&q, "Path", rq->path);
  return aws_query_request(w, &q);
}
ONE_DEC(create_policy, "CreatePolicy", iam_policy_result, policy, "Policy",
        policy_item)

int aws_enc_get_policy(const struct aws_iam_policy_req *rq, struct aws_wire *w)
{
  return aws_iam_enc1(w, "GetPolicy", "PolicyArn", rq->policy_arn);
}
ONE_DEC(get_policy, "GetPolicy", iam_policy_result, policy, "Policy",
        policy_item)

void aws_iam_policy_result_free(struct aws_iam_policy_result *r)
{
  if (!r)
    return;
  policy_clean(&r->policy);
  free(r);
}

int aws_enc_delete_policy(const struct aws_iam_policy_req *rq,
                          struct aws_wire *w)
{
  return aws_iam_enc1(w, "DeletePolicy", "PolicyArn", rq->policy_arn);
}
EMPTY_DEC(delete_policy)

int aws_enc_create_policy_version(
    const struct aws_create_policy_version_req *rq, struct aws_wire *w)
{
  struct aws_query q;

  if (!rq->policy_arn || !rq->policy_document)
    return OP_EINVAL;
  aws_iam_query(&q, "CreatePolicyVersion");
  aws_query_add(&q, "PolicyArn", rq->policy_arn);
  aws_query_add(&q, "PolicyDocument", rq->policy_document);
  if (rq->set_as_default)
    aws_query_add_bool(&q, "SetAsDefault", true);
  return aws_query_request(w, &q);
}
ONE_DEC(create_policy_version, "CreatePolicyVersion", iam_policy_version_result,
        version, "PolicyVersion", version_item)

int aws_enc_get_policy_version(const struct aws_iam_policy_version_req *rq,
                               struct aws_wire *w)
{
  return aws_iam_enc2(w, "GetPolicyVersion", "PolicyArn", rq->policy_arn,
                      "VersionId", rq->version_id);
}
ONE_DEC(get_policy_version, "GetPolicyVersion", iam_policy_version_result,
        version, "PolicyVersion", version_item)

void aws_iam_policy_version_result_free(struct aws_iam_policy_version_result *r)
{
  if (!r)
    return;
  version_clean(&r->version);
  free(r);
}

int aws_enc_delete_policy_version(const struct aws_iam_policy_version_req *rq,
                                  struct aws_wire *w)
{
  return aws_iam_enc2(w, "DeletePolicyVersion", "PolicyArn", rq->policy_arn,
                      "VersionId", rq->version_id);
}
EMPTY_DEC(delete_policy_version)

int aws_enc_list_policy_versions(const struct aws_iam_policy_page_req *rq,
                                 struct aws_wire *w)
{
  return aws_iam_enc_page(w, "ListPolicyVersions", "PolicyArn", rq->policy_arn,
                          rq->marker, rq->max_items);
}
LIST_DEC(list_policy_versions, "ListPolicyVersions", iam_policy_versions_result,
         "Versions", version_item)

void aws_iam_policy_versions_result_free(
    struct aws_iam_policy_versions_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    version_clean(&r->v[i]);
  free(r->v);
  free(r->marker);
  free(r);
}

int aws_enc_list_policies(const struct aws_list_policies_req *rq,
                          struct aws_wire *w)
{
  struct aws_query q;

  aws_iam_query(&q, "ListPolicies");
  aws_query_add(&q, "Scope", rq->scope);
  if (rq->only_attached)
    aws_query_add_bool(&q, "OnlyAttached", true);
  aws_query_add(&q, "PathPrefix", rq->path_prefix);
  aws_iam_page(&q, rq->marker, rq->max_items);
  return aws_query_request(w, &q);
}
LIST_DEC(list_policies, "ListPolicies", iam_policies_result, "Policies",
         policy_item)

void aws_iam_policies_result_free(struct aws_iam_policies_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    policy_clean(&r->v[i]);
  free(r->v);
  free(r->marker);
  free(r);
}
