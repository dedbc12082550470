/* Amazon Route 53 (REST-XML): requests, results and the operation list
 * AWS_OPS_ROUTE53, which aws/api.h assembles into struct aws_api. Strings,
 * frees and the calling contract: see aws/api.h and aws/proto/shapes.h.
 */
#ifndef PKG_AWS_ROUTE53_H
#define PKG_AWS_ROUTE53_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/core/errors.h"
#include "aws/proto/shapes.h"

struct aws_r53_page_req { /* ListHostedZones */
  const char *marker;
  int max_items;
};
struct aws_r53_zone {
  char *id, *name; /* id as sent: "/hostedzone/Z..." */
  bool private_zone;
};
struct aws_r53_zones_result {
  struct aws_r53_zone *v;
  size_t n;
  bool is_truncated;
  char *next_marker;
};
struct aws_r53_rrsets_req {
  const char *hosted_zone_id; /* "Z..." or "/hostedzone/Z..." */
  const char *start_record_name, *start_record_type, *start_record_identifier;
  int max_items;
};
struct aws_r53_rrset { /* result and request side (owned in results) */
  char *name, *type, *set_identifier;
  long long ttl; /* -1 when absent (alias records) */
  struct aws_strs records;
  char *alias_hosted_zone_id, *alias_dns_name; /* alias records */
  bool alias_evaluate_target_health;
  long long weight; /* -1 when absent */
  char *region, *failover;
  char *geo_continent, *geo_country, *geo_subdivision; /* GeoLocation */
  char *multi_value_answer; /* "true"/"false" as sent, NULL when absent */
  char *health_check_id;
  /* A DELETE must repeat every field of the record exactly: decode a
   * record from ListResourceRecordSets and pass it back unchanged. */
};
struct aws_r53_rrsets_result {
  struct aws_r53_rrset *v;
  size_t n;
  bool is_truncated;
  char *next_record_name, *next_record_type, *next_record_identifier;
};
struct aws_r53_change {
  const char *action; /* CREATE, DELETE, UPSERT */
  const struct aws_r53_rrset *rrset;
};
struct aws_r53_change_req {
  const char *hosted_zone_id, *comment;
  const struct aws_r53_change *changes;
  size_t nchanges;
};
struct aws_r53_change_info_result {
  char *id, *status;
};
struct aws_r53_zone_req {
  const char *hosted_zone_id;
};
struct aws_r53_create_zone_req {       /* for tests and local runs */
  const char *name, *caller_reference; /* required */
  const char *comment;
};
struct aws_r53_zone_result {
  struct aws_r53_zone zone;
};

/* ---- pagination ------------------------------------------------------- */

/* Route 53 NextMarker/IsTruncated. */
bool aws_r53_zones_next(const struct aws_r53_zones_result *r,
                        struct aws_r53_page_req *rq);
/* Route 53 NextRecordName/Type/Identifier. */
bool aws_r53_rrsets_next(const struct aws_r53_rrsets_result *r,
                         struct aws_r53_rrsets_req *rq);

/* ---- operations ------------------------------------------------------- */

/* XX(field, Operation, service, protocol, idempotent, request, result) */
#define AWS_OPS_ROUTE53(XX)                                                    \
  XX(list_hosted_zones, ListHostedZones, "route53", AWS_PROTO_RESTXML, true,   \
     r53_page_req, r53_zones_result)                                           \
  XX(list_resource_record_sets, ListResourceRecordSets, "route53",             \
     AWS_PROTO_RESTXML, true, r53_rrsets_req, r53_rrsets_result)               \
  XX(change_resource_record_sets, ChangeResourceRecordSets, "route53",         \
     AWS_PROTO_RESTXML, false, r53_change_req, r53_change_info_result)         \
  XX(delete_hosted_zone, DeleteHostedZone, "route53", AWS_PROTO_RESTXML, true, \
     r53_zone_req, r53_change_info_result)                                     \
  XX(create_hosted_zone, CreateHostedZone, "route53", AWS_PROTO_RESTXML,       \
     false, r53_create_zone_req, r53_zone_result)

/* Result types; each has aws_<type>_free (NULL is fine). */
#define AWS_RESULTS_ROUTE53(XX)                                                \
  XX(r53_zones_result)                                                         \
  XX(r53_rrsets_result)                                                        \
  XX(r53_change_info_result)                                                   \
  XX(r53_zone_result)
AWS_RESULTS_ROUTE53(AWS_RESULT_FREE_DECL)

#endif
