/* Amazon Route 53 (REST-XML, API 2013-04-01). */
#include "aws/route53.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ops_int.h"
#include "aws/proto/query.h"
#include "aws/proto/restxml.h"
#include "util/err.h"
#include "util/str.h"
#include "util/util.h"

#define R53_NS "https://route53.amazonaws.com/doc/2013-04-01/"
#define R53_BASE "/2013-04-01/hostedzone"

/* "/2013-04-01/hostedzone/<id><suffix>", accepting "Z.." or
 * "/hostedzone/Z.." as ListHostedZones returns it. */
static int zone_path(struct aws_wire *w, const char *id, const char *suffix)
{
  struct buf p;
  int rc;

  if (str_empty(id))
    return OP_EINVAL;
  if (str_has_prefix(id, "/hostedzone/"))
    id += strlen("/hostedzone/");
  if (str_empty(id) || strchr(id, '/'))
    return OP_EINVAL;
  buf_init(&p, 1024);
  rc = buf_append_str(&p, R53_BASE "/");
  if (!rc)
    rc = uri_encode(&p, id, strlen(id), false);
  if (!rc)
    rc = buf_append_str(&p, suffix);
  if (!rc) {
    free(w->path);
    w->path = buf_take(&p, NULL);
  }
  buf_cleanup(&p);
  return rc;
}

static int set_query(struct aws_wire *w, struct buf *q, int rc)
{
  if (!rc && q->len) {
    free(w->query);
    w->query = buf_take(q, NULL);
  }
  buf_cleanup(q);
  return rc;
}

static const char *num(char *tmp, size_t n, int v)
{
  if (v <= 0)
    return NULL;
  snprintf(tmp, n, "%d", v);
  return tmp;
}

/* ---- ListHostedZones ---------------------------------------------------- */

int aws_enc_list_hosted_zones(const struct aws_r53_page_req *rq,
                              struct aws_wire *w)
{
  struct buf q;
  char tmp[24];
  int rc;

  w->method = "GET";
  free(w->path);
  w->path = util_xstrdup(R53_BASE);
  buf_init(&q, 4096);
  rc = aws_rest_query_add(&q, "marker", rq->marker);
  if (!rc)
    rc = aws_rest_query_add(&q, "maxitems",
                            num(tmp, sizeof(tmp), rq->max_items));
  return set_query(w, &q, rc);
}

static int zone_item(aws_xnode n, void *elem)
{
  struct aws_r53_zone *z = elem;

  z->id = aws_ox_str_new(n, "Id");
  z->name = aws_ox_str_new(n, "Name");
  z->private_zone = aws_ox_bool(n, "Config/PrivateZone");
  return z->id ? 0 : OP_EPARSE;
}

int aws_dec_list_hosted_zones(const char *body, size_t len,
                              struct aws_r53_zones_result **out)
{
  struct aws_xml *doc = aws_ox_parse_new(body, len, "ListHostedZonesResponse");
  struct aws_r53_zones_result *r;
  aws_xnode root;
  int rc;

  if (!doc)
    return OP_EPARSE;
  root = aws_xml_root(doc);
  r = util_xcalloc(1, sizeof(*r));
  rc = aws_ox_each(aws_ox_child(root, "HostedZones"), "HostedZone",
                   sizeof(*r->v), zone_item, (void **)&r->v, &r->n);
  r->is_truncated = aws_ox_bool(root, "IsTruncated");
  r->next_marker = aws_ox_str_new(root, "NextMarker");
  aws_xml_free(doc);
  if (!rc && r->is_truncated && !r->next_marker)
    rc = OP_EPARSE;
  if (rc) {
    aws_r53_zones_result_free(r);
    return rc == OP_ETOOBIG ? rc : OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_r53_zones_result_free(struct aws_r53_zones_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++) {
    free(r->v[i].id);
    free(r->v[i].name);
  }
  free(r->v);
  free(r->next_marker);
  free(r);
}

/* ---- ListResourceRecordSets --------------------------------------------- */

int aws_enc_list_resource_record_sets(const struct aws_r53_rrsets_req *rq,
                                      struct aws_wire *w)
{
  struct buf q;
  char tmp[24];
  int rc = zone_path(w, rq->hosted_zone_id, "/rrset");

  if (rc)
    return rc;
  w->method = "GET";
  buf_init(&q, 4096);
  rc = aws_rest_query_add(&q, "identifier", rq->start_record_identifier);
  if (!rc)
    rc = aws_rest_query_add(&q, "maxitems",
                            num(tmp, sizeof(tmp), rq->max_items));
  if (!rc)
    rc = aws_rest_query_add(&q, "name", rq->start_record_name);
  if (!rc)
    rc = aws_rest_query_add(&q, "type", rq->start_record_type);
  return set_query(w, &q, rc);
}

static int rrset_item(aws_xnode n, void *elem)
{
  struct aws_r53_rrset *s = elem;
  aws_xnode alias = aws_ox_child(n, "AliasTarget");
  int err = 0;

  s->name = aws_ox_str_new(n, "Name");
  s->type = aws_ox_str_new(n, "Type");
  s->set_identifier = aws_ox_str_new(n, "SetIdentifier");
  s->ttl = aws_ox_int(n, "TTL", -1, &err);
  s->weight = aws_ox_int(n, "Weight", -1, &err);
  s->region = aws_ox_str_new(n, "Region");
  s->failover = aws_ox_str_new(n, "Failover");
  s->geo_continent = aws_ox_str_new(n, "GeoLocation/ContinentCode");
  s->geo_country = aws_ox_str_new(n, "GeoLocation/CountryCode");
  s->geo_subdivision = aws_ox_str_new(n, "GeoLocation/SubdivisionCode");
  s->multi_value_answer = aws_ox_str_new(n, "MultiValueAnswer");
  s->health_check_id = aws_ox_str_new(n, "HealthCheckId");
  if (alias) {
    s->alias_hosted_zone_id = aws_ox_str_new(alias, "HostedZoneId");
    s->alias_dns_name = aws_ox_str_new(alias, "DNSName");
    s->alias_evaluate_target_health =
        aws_ox_bool(alias, "EvaluateTargetHealth");
  }
  if (!err) {
    aws_xnode rr =
        aws_ox_child(aws_ox_child(n, "ResourceRecords"), "ResourceRecord");
    for (; rr && !err; rr = aws_ox_next(rr, "ResourceRecord")) {
      char **slot;
      err = aws_arr_push((void **)&s->records.v, &s->records.n, sizeof(char *),
                         (void **)&slot);
      if (!err && !(*slot = aws_ox_str_new(rr, "Value")))
        err = OP_EPARSE;
    }
  }
  return err || !s->name || !s->type ? OP_EPARSE : 0;
}

static void rrset_clean(struct aws_r53_rrset *s)
{
  free(s->name);
  free(s->type);
  free(s->set_identifier);
  free(s->region);
  free(s->failover);
  free(s->geo_continent);
  free(s->geo_country);
  free(s->geo_subdivision);
  free(s->multi_value_answer);
  free(s->health_check_id);
  free(s->alias_hosted_zone_id);
  free(s->alias_dns_name);
  aws_strs_cleanup(&s->records);
}

int aws_dec_list_resource_record_sets(const char *body, size_t len,
                                      struct aws_r53_rrsets_result **out)
{
  struct aws_xml *doc =
      aws_ox_parse_new(body, len, "ListResourceRecordSetsResponse");
  struct aws_r53_rrsets_result *r;
  aws_xnode root;
  int rc;

  if (!doc)
    return OP_EPARSE;
  root = aws_xml_root(doc);
  r = util_xcalloc(1, sizeof(*r));
  rc =
      aws_ox_each(aws_ox_child(root, "ResourceRecordSets"), "ResourceRecordSet",
                  sizeof(*r->v), rrset_item, (void **)&r->v, &r->n);
  r->is_truncated = aws_ox_bool(root, "IsTruncated");
  r->next_record_name = aws_ox_str_new(root, "NextRecordName");
  r->next_record_type = aws_ox_str_new(root, "NextRecordType");
  r->next_record_identifier = aws_ox_str_new(root, "NextRecordIdentifier");
  aws_xml_free(doc);
  if (!rc && r->is_truncated && !r->next_record_name)
    rc = OP_EPARSE;
  if (rc) {
    aws_r53_rrsets_result_free(r);
    return rc == OP_ETOOBIG ? rc : OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_r53_rrsets_result_free(struct aws_r53_rrsets_result *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < r->n; i++)
    rrset_clean(&r->v[i]);
  free(r->v);
  free(r->next_record_name);
  free(r->next_record_type);
  free(r->next_record_identifier);
  free(r);
}

/* ---- ChangeResourceRecordSets ------------------------------------------- */

static int geo_xml(struct buf *b, const struct aws_r53_rrset *s)
{
  int rc;

  if (!s->geo_continent && !s->geo_country && !s->geo_subdivision)
    return 0;
  rc = buf_append_str(b, "<GeoLocation>");
  if (!rc)
    rc = aws_xml_elem(b, "ContinentCode", s->geo_continent);
  if (!rc)
    rc = aws_xml_elem(b, "CountryCode", s->geo_country);
  if (!rc)
    rc = aws_xml_elem(b, "SubdivisionCode", s->geo_subdivision);
  if (!rc)
    rc = buf_append_str(b, "</GeoLocation>");
  return rc;
}

/* Name .. TTL, in the model's (XSD sequence) order. */
static int rrset_head_xml(struct buf *b, const struct aws_r53_rrset *s)
{
  int rc = aws_xml_elem(b, "Name", s->name);

  if (!rc)
    rc = aws_xml_elem(b, "Type", s->type);
  if (!rc)
    rc = aws_xml_elem(b, "SetIdentifier", s->set_identifier);
  if (!rc && s->weight >= 0)
    rc = aws_xml_elem_ll(b, "Weight", s->weight);
  if (!rc)
    rc = aws_xml_elem(b, "Region", s->region);
  if (!rc)
    rc = geo_xml(b, s);
  if (!rc)
    rc = aws_xml_elem(b, "Failover", s->failover);
  if (!rc)
    rc = aws_xml_elem(b, "MultiValueAnswer", s->multi_value_answer);
  if (!rc && s->ttl >= 0)
    rc = aws_xml_elem_ll(b, "TTL", s->ttl);
  return rc;
}

/* ResourceRecords .. HealthCheckId. */
static int rrset_tail_xml(struct buf *b, const struct aws_r53_rrset *s)
{
  size_t i;
  int rc = 0;

  if (s->records.n) {
    rc = buf_append_str(b, "<ResourceRecords>");
    for (i = 0; i < s->records.n && !rc; i++) {
      rc = buf_append_str(b, "<ResourceRecord>");
      if (!rc)
        rc = aws_xml_elem(b, "Value", s->records.v[i]);
      if (!rc)
        rc = buf_append_str(b, "</ResourceRecord>");
    }
    if (!rc)
      rc = buf_append_str(b, "</ResourceRecords>");
  }
  if (!rc && s->alias_dns_name) {
    rc = buf_append_str(b, "<AliasTarget>");
    if (!rc)
      rc = aws_xml_elem(b, "HostedZoneId", s->alias_hosted_zone_id);
    if (!rc)
      rc = aws_xml_elem(b, "DNSName", s->alias_dns_name);
    if (!rc)
      rc = aws_xml_elem(b, "EvaluateTargetHealth",
                        s->alias_evaluate_target_health ? "true" : "false");
    if (!rc)
      rc = buf_append_str(b, "</AliasTarget>");
  }
  if (!rc)
    rc = aws_xml_elem(b, "HealthCheckId", s->health_check_id);
  return rc;
}

static int rrset_xml(struct buf *b, const struct aws_r53_rrset *s)
{
  int rc = buf_append_str(b, "<ResourceRecordSet>");

  if (!rc)
    rc = rrset_head_xml(b, s);
  if (!rc)
    rc = rrset_tail_xml(b, s);
  if (!rc)
    rc = buf_append_str(b, "</ResourceRecordSet>");
  return rc;
}

int aws_enc_change_resource_record_sets(const struct aws_r53_change_req *rq,
                                        struct aws_wire *w)
{
  struct buf *b = &w->body;
  size_t i;
  int rc;

  if (!rq->nchanges)
    return OP_EINVAL;
  rc = zone_path(w, rq->hosted_zone_id, "/rrset/");
  if (rc)
    return rc;
  w->method = "POST";
  rc = buf_append_str(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                         "<ChangeResourceRecordSetsRequest xmlns=\"" R53_NS
                         "\"><ChangeBatch>");
  if (!rc)
    rc = aws_xml_elem(b, "Comment", rq->comment);
  if (!rc)
    rc = buf_append_str(b, "<Changes>");
  for (i = 0; i < rq->nchanges && !rc; i++) {
    if (!rq->changes[i].action || !rq->changes[i].rrset)
      return OP_EINVAL;
    rc = buf_append_str(b, "<Change>");
    if (!rc)
      rc = aws_xml_elem(b, "Action", rq->changes[i].action);
    if (!rc)
      rc = rrset_xml(b, rq->changes[i].rrset);
    if (!rc)
      rc = buf_append_str(b, "</Change>");
  }
  if (!rc)
    rc = buf_append_str(b, "</Changes></ChangeBatch>"
                           "</ChangeResourceRecordSetsRequest>");
  if (!rc)
    rc = aws_wire_header(w, "Content-Type", "application/xml");
  return rc;
}

static int dec_change_info(const char *body, size_t len, const char *root_name,
                           struct aws_r53_change_info_result **out)
{
  struct aws_xml *doc = aws_ox_parse_new(body, len, root_name);
  struct aws_r53_change_info_result *r;
  aws_xnode ci;

  if (!doc)
    return OP_EPARSE;
  ci = aws_ox_child(aws_xml_root(doc), "ChangeInfo");
  r = util_xcalloc(1, sizeof(*r));
  r->id = aws_ox_str_new(ci, "Id");
  r->status = aws_ox_str_new(ci, "Status");
  aws_xml_free(doc);
  if (!r->id) {
    aws_r53_change_info_result_free(r);
    return OP_EPARSE;
  }
  *out = r;
  return 0;
}

int aws_dec_change_resource_record_sets(const char *body, size_t len,
                                        struct aws_r53_change_info_result **out)
{
  return dec_change_info(body, len, "ChangeResourceRecordSetsResponse", out);
}

void aws_r53_change_info_result_free(struct aws_r53_change_info_result *r)
{
  if (!r)
    return;
  free(r->id);
  free(r->status);
  free(r);
}

/* ---- DeleteHostedZone --------------------------------------------------- */

int aws_enc_delete_hosted_zone(const struct aws_r53_zone_req *rq,
                               struct aws_wire *w)
{
  w->method = "DELETE";
  return zone_path(w, rq->hosted_zone_id, "");
}

int aws_dec_delete_hosted_zone(const char *body, size_t len,
                               struct aws_r53_change_info_result **out)
{
  return dec_change_info(body, len, "DeleteHostedZoneResponse", out);
}

/* ---- CreateHostedZone (tests and local runs) ---------------------------- */

int aws_enc_create_hosted_zone(const struct aws_r53_create_zone_req *rq,
                               struct aws_wire *w)
{
  struct buf *b = &w->body;
  int rc;

  if (!rq->name || !rq->caller_reference)
    return OP_EINVAL;
  w->method = "POST";
  free(w->path);
  w->path = util_xstrdup(R53_BASE);
  rc = buf_append_str(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                         "<CreateHostedZoneRequest xmlns=\"" R53_NS "\">");
  if (!rc)
    rc = aws_xml_elem(b, "Name", rq->name);
  if (!rc)
    rc = aws_xml_elem(b, "CallerReference", rq->caller_reference);
  if (!rc && rq->comment) {
    rc = buf_append_str(b, "<HostedZoneConfig>");
    if (!rc)
      rc = aws_xml_elem(b, "Comment", rq->comment);
    if (!rc)
      rc = buf_append_str(b, "</HostedZoneConfig>");
  }
  if (!rc)
    rc = buf_append_str(b, "</CreateHostedZoneRequest>");
  if (!rc)
    rc = aws_wire_header(w, "Content-Type", "application/xml");
  return rc;
}

int aws_dec_create_hosted_zone(const char *body, size_t len,
                               struct aws_r53_zone_result **out)
{
  struct aws_xml *doc = aws_ox_parse_new(body, len, "CreateHostedZoneResponse");
  struct aws_r53_zone_result *r;
  aws_xnode z;
  int rc;

  if (!doc)
    return OP_EPARSE;
  z = aws_ox_child(aws_xml_root(doc), "HostedZone");
  r = util_xcalloc(1, sizeof(*r));
  rc = z ? zone_item(z, &r->zone) : OP_EPARSE;
  aws_xml_free(doc);
  if (rc) {
    aws_r53_zone_result_free(r);
    return OP_EPARSE;
  }
  *out = r;
  return 0;
}

void aws_r53_zone_result_free(struct aws_r53_zone_result *r)
{
  if (!r)
    return;
  free(r->zone.id);
  free(r->zone.name);
  free(r);
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
