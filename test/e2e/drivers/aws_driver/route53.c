/* aws_driver, all-ops: the Route 53 steps. */
#include "driver_int.h"
#include "util/err.h"
#include "util/str.h"

#define ZONE_NAME "aint.example.com."
#define RECORD_NAME "api.aint.example.com."

static int a_create_zone(struct drv *d, const void *res)
{
  const struct aws_r53_zone_result *r = res;

  return copy_id(d->id.zone, sizeof(d->id.zone), r->zone.id);
}

int s_create_zone(struct drv *d)
{
  char ref[64];
  struct aws_r53_create_zone_req rq = { ZONE_NAME, ref, "aws_driver" };

  str_fmt(ref, sizeof(ref), "aint-%s", d->id.acct);
  return CALL(d, create_hosted_zone, &d->xt, &rq, a_create_zone);
}

static int a_zones(struct drv *d, const void *res)
{
  const struct aws_r53_zones_result *r = res;
  size_t i;

  for (i = 0; i < r->n; i++)
    if (str_eq(r->v[i].id, d->id.zone))
      return 0;
  return OP_ENOTFOUND;
}

int s_list_zones(struct drv *d)
{
  struct aws_r53_page_req rq = { 0 };

  return CALL(d, list_hosted_zones, &d->xt, &rq, a_zones);
}

static int change_record(struct drv *d, const char *action)
{
  static char *const values[] = { (char *)"192.0.2.10" };
  struct aws_r53_rrset rs = { .name = (char *)RECORD_NAME,
                              .type = (char *)"A",
                              .ttl = 300,
                              .records = { (char **)values, 1 },
                              .weight = -1 };
  struct aws_r53_change ch = { action, &rs };
  struct aws_r53_change_req rq = { d->id.zone, "aws_driver", &ch, 1 };

  return CALL(d, change_resource_record_sets, &d->xt, &rq, NULL);
}

int s_create_record(struct drv *d)
{
  return change_record(d, "CREATE");
}

int s_delete_record(struct drv *d)
{
  return change_record(d, "DELETE");
}

/* The record round-trips: name, type, TTL and value as written. */
static int a_rrsets(struct drv *d, const void *res)
{
  const struct aws_r53_rrsets_result *r = res;
  size_t i;

  for (i = 0; i < r->n; i++)
    if (str_eq(r->v[i].name, RECORD_NAME) && str_eq(r->v[i].type, "A"))
      return r->v[i].ttl == 300 && r->v[i].records.n == 1 &&
                     str_eq(r->v[i].records.v[0], "192.0.2.10")
                 ? 0
                 : OP_EPARSE;
  return OP_ENOTFOUND;
}

int s_list_rrsets(struct drv *d)
{
  struct aws_r53_rrsets_req rq = { .hosted_zone_id = d->id.zone };

  return CALL(d, list_resource_record_sets, &d->xt, &rq, a_rrsets);
}

int s_delete_zone(struct drv *d)
{
  struct aws_r53_zone_req rq = { d->id.zone };

  return CALL(d, delete_hosted_zone, &d->xt, &rq, NULL);
}
