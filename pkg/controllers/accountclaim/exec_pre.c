/* AccountClaim executor: a fresh claim's later round trips started beside
 * its link and reservation writes (claim_step.next_*), off the critical
 * path (finalizer PUT -> reservation PUT -> MoveAccount -> POST Secret):
 * the legal entity's OU, found or created, and the account's IAM Secret,
 * read. The step that needs one takes its outcome instead of making the
 * call, waiting for it when still in flight; a failed one is made again
 * by the step. Both are idempotent, so a crash or a lost race costs
 * nothing: the OU is shared by the legal entity's claims and never
 * removed by one, and a read changes nothing. What no step takes is
 * dropped after PRE_TTL_S; the Secret's data lives here until then at
 * most and is never logged. */
#include <stdlib.h>

#include "controllers/accountclaim/exec_int.h"
#include "controllers/common/obj.h"
#include "util/err.h"
#include "util/str.h"
#include "util/timeutil.h"

#define PRE_TTL_S 5.0

enum pre_state { PRE_NONE, PRE_FLIGHT, PRE_DONE, PRE_TAKEN };

struct pre {
  struct claim_exec *e;
  char key[256];
  double at;
  bool armed; /* named by the step starting; started once it is */
  char ou_name[VALIDATE_OU_NAME_MAX + 1], parent[64];
  enum pre_state ou_state;
  struct claim_obs ou;
  struct claim_job *ou_wait;
  char src[128];
  enum pre_state src_state;
  int src_err;
  json_t *src_obj; /* the IAM Secret read (owned) */
  struct claim_job *src_wait;
  k8s_obj_cb src_cb;
};

static void pre_free(struct pre *p)
{
  if (p)
    json_decref(p->src_obj);
  free(p);
}

static bool idle(const struct pre *p)
{
  return p->ou_state != PRE_FLIGHT && p->src_state != PRE_FLIGHT;
}

/* Gone once nothing is in flight and nothing is left to take. */
static void maybe_drop(struct pre *p)
{
  if (idle(p) && p->ou_state != PRE_DONE && p->src_state != PRE_DONE)
    pre_free(map_del(&p->e->pre, p->key));
}

static void prune(struct claim_exec *e, double now)
{
  size_t it = 0;
  const char *key;
  void *v;

  /* map_del leaves a tombstone: iterating on is safe */
  while (map_next(&e->pre, &it, &key, &v)) {
    struct pre *p = v;

    if (idle(p) && now - p->at >= PRE_TTL_S)
      pre_free(map_del(&e->pre, key));
  }
}

static void ou_done(void *arg, const struct claim_obs *o)
{
  struct pre *p = arg;
  struct claim_exec *e = p->e;
  struct claim_job *w = p->ou_wait;
  struct claim_obs got = *o;

  p->ou = got;
  p->ou_state = w ? PRE_TAKEN : PRE_DONE;
  p->ou_wait = NULL;
  maybe_drop(p);
  if (w) /* a failure is the step's own outcome, as if it had called */
    claim__action_done(w, &got);
  exec_runner_release(e->run);
}

static void src_done(int err, json_t *obj, const struct op_error *det,
                     void *arg)
{
  struct pre *p = arg;
  struct claim_exec *e = p->e;
  struct claim_job *w = p->src_wait;
  k8s_obj_cb cb = p->src_cb;

  if (w) {
    p->src_state = PRE_TAKEN;
    p->src_wait = NULL;
    maybe_drop(p);
    cb(err, obj, det, w);
  } else {
    p->src_err = err;
    p->src_obj = err ? NULL : json_deep_copy(obj);
    p->src_state = p->src_err || p->src_obj ? PRE_DONE : PRE_TAKEN;
    maybe_drop(p);
  }
  exec_runner_release(e->run);
}

static void start_ou(struct pre *p)
{
  struct claim_exec *e = p->e;
  struct aws_creds *mgmt =
      e->d.mgmt_creds ? e->d.mgmt_creds(e->d.creds_arg) : NULL;
  struct claim_step ou = { .action = CLAIM_ENSURE_OU };

  str_copy(ou.ou_name, p->ou_name, sizeof(ou.ou_name));
  str_copy(ou.parent, p->parent, sizeof(ou.parent));
  if (!mgmt || !exec_runner_hold(e->run))
    return;
  p->ou_state = PRE_FLIGHT;
  if (claim__exec_aws(e->d.api, mgmt, &ou, ou_done, p) < 0) {
    p->ou_state = PRE_NONE;
    exec_runner_release(e->run);
  }
}

static void start_src(struct pre *p)
{
  const struct exec_kio *k = &p->e->d.kio;

  if (!exec_runner_hold(p->e->run))
    return;
  p->src_state = PRE_FLIGHT;
  if (k->get(k->arg, &exec_gvr_secrets, p->e->ns, p->src, src_done, p) < 0) {
    p->src_state = PRE_NONE;
    exec_runner_release(p->e->run);
  }
}

/* The runner's starting hook: a step naming what follows arms it, once
 * per claim until taken or expired. */
void claim__pre_start(struct exec_job *b)
{
  struct claim_job *j = (struct claim_job *)b;
  struct claim_exec *e = j->e;
  double now = time_mono_s();
  struct pre *p;

  if (str_empty(j->st.next_ou_name) && str_empty(j->st.next_src_secret))
    return;
  prune(e, now);
  if (map_has(&e->pre, b->key) || !(p = calloc(1, sizeof(*p))))
    return;
  p->e = e;
  p->at = now;
  p->armed = true;
  str_copy(p->key, b->key, sizeof(p->key));
  str_copy(p->ou_name, j->st.next_ou_name, sizeof(p->ou_name));
  str_copy(p->parent, j->st.next_parent, sizeof(p->parent));
  str_copy(p->src, j->st.next_src_secret, sizeof(p->src));
  map_put(&e->pre, p->key, p, NULL);
}

/* The runner's started hook: the armed calls go out after the step's own
 * request, which they must not delay. */
void claim__pre_go(void *ctl, const char *key)
{
  struct claim_exec *e = ctl;
  struct pre *p = map_get(&e->pre, key);

  if (!p || !p->armed)
    return;
  p->armed = false;
  /* both may complete before they return (maybe_drop then frees p) */
  p->src_state = PRE_FLIGHT; /* holds p while the OU starts */
  if (!str_empty(p->ou_name))
    start_ou(p);
  p->src_state = PRE_NONE;
  if (!str_empty(p->src))
    start_src(p);
  else
    maybe_drop(p);
}

/* The step's entry, when it started what the step needs and is fresh. */
static struct pre *usable(struct claim_job *j)
{
  struct pre *p = map_get(&j->e->pre, j->base.key);

  return p && time_mono_s() - p->at < PRE_TTL_S ? p : NULL;
}

int claim__pre_take_ou(struct claim_job *j)
{
  struct pre *p = usable(j);
  struct claim_obs got;

  if (!p || !str_eq(p->ou_name, j->st.ou_name) ||
      !str_eq(p->parent, j->st.parent) ||
      (p->ou_state == PRE_DONE && p->ou.result < 0) ||
      (p->ou_state != PRE_DONE && p->ou_state != PRE_FLIGHT) || p->ou_wait)
    return 1;
  if (p->ou_state == PRE_FLIGHT) {
    p->ou_wait = j;
    return 0;
  }
  got = p->ou;
  p->ou_state = PRE_TAKEN;
  maybe_drop(p);
  claim__action_done(j, &got);
  return 0;
}

int claim__pre_get_secret(struct claim_job *j, k8s_obj_cb cb)
{
  const struct exec_kio *k = &j->e->d.kio;
  struct pre *p = usable(j);
  json_t *obj;

  if (!p || !str_eq(p->src, j->st.src_secret) || p->src_wait ||
      (p->src_state == PRE_DONE && p->src_err) ||
      (p->src_state != PRE_DONE && p->src_state != PRE_FLIGHT))
    return k->get(k->arg, &exec_gvr_secrets, j->e->ns, j->st.src_secret, cb, j);
  if (p->src_state == PRE_FLIGHT) {
    p->src_wait = j;
    p->src_cb = cb;
    return 0;
  }
  obj = p->src_obj;
  p->src_obj = NULL;
  p->src_state = PRE_TAKEN;
  maybe_drop(p);
  cb(0, obj, NULL, j);
  json_decref(obj);
  return 0;
}

static void pre_free_cb(void *val, void *arg)
{
  (void)arg;
  pre_free(val);
}

void claim__pre_free_all(struct claim_exec *e)
{
  map_cleanup(&e->pre, pre_free_cb, NULL);
}
