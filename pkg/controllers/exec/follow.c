/* Following one named object of an informer (exec.h). */
#include "cache/informer.h"
#include "controllers/common/obj.h"
#include "controllers/exec/exec.h"
#include "util/err.h"
#include "util/str.h"

static void on_add(const json_t *obj, void *arg)
{
  struct exec_follower *f = arg;

  if (str_eq(obj_name(obj), f->name))
    f->fn(f->arg, obj);
}

static void on_update(const json_t *old_obj, const json_t *new_obj, void *arg)
{
  (void)old_obj;
  on_add(new_obj, arg);
}

static void on_delete(const json_t *obj, bool unknown, void *arg)
{
  struct exec_follower *f = arg;

  (void)unknown;
  if (str_eq(obj_name(obj), f->name))
    f->fn(f->arg, NULL);
}

int exec_follow_start(struct exec_follower *f, struct inf *i)
{
  struct inf_handler h = { on_add, on_update, on_delete, NULL, f };
  int id;

  f->inf = i;
  f->id = 0;
  if (!i)
    return 0;
  id = inf_add_handler(i, &h);
  if (id < 0)
    return id;
  f->id = id;
  return 0;
}

void exec_follow_stop(struct exec_follower *f)
{
  if (f->inf && f->id > 0)
    inf_remove_handler(f->inf, f->id);
  f->inf = NULL;
  f->id = 0;
}
