/* Status conditions (see cond.h). */
#include "controllers/common/cond.h"

#include "controllers/common/obj.h"
#include "util/str.h"

/* The condition of that type in an array the caller owns. */
static json_t *find_mut(json_t *conds, const char *type)
{
  json_t *c;
  size_t i;

  json_array_foreach(conds, i, c)
  {
    if (str_eq(obj_str(c, "type"), type))
      return c;
  }
  return NULL;
}

const json_t *cond_find(const json_t *conds, const char *type)
{
  const json_t *c;
  size_t i;

  json_array_foreach(conds, i, c)
  {
    if (str_eq(obj_str(c, "type"), type))
      return c;
  }
  return NULL;
}

bool cond_is_true(const json_t *conds, const char *type)
{
  return str_eq(obj_str(cond_find(conds, type), "status"), "True");
}

static void cond_fill(json_t *c, bool status, const char *reason,
                      const char *message, time_t now, bool full)
{
  const char *old = obj_str(c, "status");
  bool flips = !str_eq(old, status ? "True" : "False");

  json_object_set_new(c, "status", json_string(status ? "True" : "False"));
  json_object_set_new(c, "lastProbeTime", obj_time_new(now));
  if (flips || !json_object_get(c, "lastTransitionTime"))
    json_object_set_new(c, "lastTransitionTime", obj_time_new(now));
  if (full || flips) {
    json_object_set_new(c, "reason", json_string(reason ? reason : ""));
    json_object_set_new(c, "message", json_string(message ? message : ""));
  }
}

json_t *cond_upsert_new(const json_t *conds, const char *type, bool status,
                        const char *reason, const char *message, time_t now,
                        enum cond_mode mode)
{
  json_t *out = json_is_array(conds) ? json_deep_copy(conds) : json_array();
  json_t *c = find_mut(out, type);

  if (c) {
    cond_fill(c, status, reason, message, now, mode == COND_UPDATE_ALWAYS);
    return out;
  }
  if (!status)
    return out;
  c = json_object();
  json_object_set_new(c, "type", json_string(type));
  cond_fill(c, status, reason, message, now, true);
  json_array_append_new(out, c);
  return out;
}

json_t *cond_obj_set_new(const json_t *obj, const char *type, bool status,
                         const char *reason, const char *message,
                         const char *state, time_t now, enum cond_mode mode)
{
  json_t *o = obj_copy_new(obj);
  json_t *conds = cond_upsert_new(obj_get(obj, "status.conditions"), type,
                                  status, reason, message, now, mode);

  obj_set_new(o, "status.conditions", conds);
  if (state)
    obj_set_str(o, "status.state", state);
  return o;
}

void cond_all_false(json_t *conds, time_t now)
{
  json_t *c;
  size_t i;

  json_array_foreach(conds, i, c)
  {
    if (!str_eq(obj_str(c, "status"), "False")) {
      json_object_set_new(c, "status", json_string("False"));
      json_object_set_new(c, "lastTransitionTime", obj_time_new(now));
    }
    json_object_set_new(c, "lastProbeTime", obj_time_new(now));
  }
}
