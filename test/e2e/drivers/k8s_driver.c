/* k8s_driver: pkg/k8s + pkg/cache from the outside, for the e2e suite.
 *
 *   k8s_driver --kubeconfig PATH --resource [GROUP/]VERSION/PLURAL
 *              [--namespace NS] [--page-size N] informer
 *     Runs an informer and prints one JSON line per handler event:
 *       {"ev":"add|update|delete","key":K,"rv":RV,"unknown":BOOL}
 *       {"ev":"synced","count":N}             (once, after the first list)
 *     SIGUSR1 prints the store: {"ev":"store","items":[[K,RV],...]} (sorted).
 *     SIGTERM/SIGINT stop it (exit 0 after everything closed).
 *
 *   k8s_driver --kubeconfig PATH --resource ... --namespace NS --name N
 *              --stale-rv RV --status JSON conflict
 *     Gets the object, sets its resourceVersion to RV (stale), merges JSON
 *     into .status and writes /status with k8s_update_retry. Prints
 *       {"ev":"mutate","rv":RV_SEEN}          (per attempt)
 *       {"ev":"done","err":"OK|E...","rv":RV_WRITTEN}
 *     and exits 0 when the write succeeded.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cache/informer.h"
#include "http/httpc.h"
#include "k8s/client.h"
#include "k8s/config.h"
#include "util/str.h"

struct drv {
  uv_loop_t loop;
  uv_signal_t sigterm, sigint, sigusr1;
  struct httpc *h;
  struct k8s_client *c;
  struct inf *inf;
  struct k8s_gvr gvr;
  char group[128], version[32], plural[128];
  const char *kubeconfig, *ns, *name, *stale_rv, *status;
  long page_size;
  int exit_code;
  bool stopping;
};

static void emit(json_t *o)
{
  char *s = json_dumps(o, JSON_COMPACT);

  if (s) {
    fputs(s, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    free(s);
  }
  json_decref(o);
}

static void emit_obj(const char *ev, const json_t *obj, bool unknown)
{
  char key[STORE_KEY_MAX];

  if (store_obj_key(obj, key, sizeof(key)))
    str_copy(key, "?", sizeof(key));
  emit(json_pack("{s:s, s:s, s:s, s:b}", "ev", ev, "key", key, "rv",
                 store_obj_rv(obj), "unknown", unknown));
}

static void on_add(const json_t *obj, void *arg)
{
  (void)arg;
  emit_obj("add", obj, false);
}

static void on_update(const json_t *old_obj, const json_t *new_obj, void *arg)
{
  (void)old_obj;
  (void)arg;
  emit_obj("update", new_obj, false);
}

static void on_delete(const json_t *obj, bool unknown, void *arg)
{
  (void)arg;
  emit_obj("delete", obj, unknown);
}

static void on_synced(void *arg)
{
  struct drv *d = arg;

  emit(json_pack("{s:s, s:I}", "ev", "synced", "count",
                 (json_int_t)store_len(inf_store(d->inf))));
}

static void dump_store(struct drv *d)
{
  size_t n = 0;
  char **keys;
  json_t *items = json_array();

  if (!d->inf)
    return;
  keys = store_keys_new(inf_store(d->inf), &n);
  for (size_t i = 0; i < n; i++) {
    const json_t *o = store_get(inf_store(d->inf), keys[i]);

    json_array_append_new(items, json_pack("[s, s]", keys[i], store_obj_rv(o)));
  }
  store_keys_free(keys, n);
  emit(json_pack("{s:s, s:o}", "ev", "store", "items", items));
}

/* ---- shutdown: informer, client, httpc, signals ----------------------------
 */

static void httpc_closed(void *arg)
{
  struct drv *d = arg;

  uv_close((uv_handle_t *)&d->sigterm, NULL);
  uv_close((uv_handle_t *)&d->sigint, NULL);
  uv_close((uv_handle_t *)&d->sigusr1, NULL);
}

static void client_closed(void *arg)
{
  struct drv *d = arg;

  httpc_close(d->h, httpc_closed, d);
}

static void inf_closed(void *arg)
{
  struct drv *d = arg;

  k8s_client_close(d->c, client_closed, d);
}

static void drv_stop(struct drv *d)
{
  if (d->stopping)
    return;
  d->stopping = true;
  if (d->inf)
    inf_close(d->inf, inf_closed, d);
  else
    inf_closed(d);
}

static void on_signal(uv_signal_t *s, int signum)
{
  struct drv *d = s->data;

  if (signum == SIGUSR1)
    dump_store(d);
  else
    drv_stop(d);
}

/* ---- modes -----------------------------------------------------------------
 */

static int run_informer(struct drv *d)
{
  struct inf_opts io = {
    .gvr = d->gvr,
    .namespace = d->ns,
    .page_size = d->page_size,
  };
  struct inf_handler hd = { on_add, on_update, on_delete, on_synced, d };

  d->inf = inf_new(&d->loop, d->c, &io);
  inf_add_handler(d->inf, &hd);
  return inf_start(d->inf);
}

static int merge_status(json_t *obj, void *arg)
{
  struct drv *d = arg;
  json_t *patch = json_loads(d->status, 0, NULL);
  json_t *st = json_object_get(obj, "status");

  emit(json_pack("{s:s, s:s}", "ev", "mutate", "rv", store_obj_rv(obj)));
  if (!json_is_object(patch)) {
    json_decref(patch);
    return OP_EINVAL;
  }
  if (!json_is_object(st)) {
    st = json_object();
    json_object_set_new(obj, "status", st);
  }
  json_object_update(st, patch);
  json_decref(patch);
  return 0;
}

static void on_written(int err, json_t *obj, const struct op_error *det,
                       void *arg)
{
  struct drv *d = arg;

  emit(json_pack("{s:s, s:s, s:s, s:s}", "ev", "done", "err", op_err_name(err),
                 "rv", obj ? store_obj_rv(obj) : "", "msg",
                 det ? det->msg : ""));
  d->exit_code = err ? 1 : 0;
  drv_stop(d);
}

static void on_got(int err, json_t *obj, const struct op_error *det, void *arg)
{
  struct drv *d = arg;
  struct k8s_retry_opts ro = { .status = true };
  json_t *stale;
  int rc = err;

  if (!err) {
    stale = json_deep_copy(obj);
    json_object_set_new(json_object_get(stale, "metadata"), "resourceVersion",
                        json_string(d->stale_rv));
    rc = k8s_update_retry(d->c, &d->gvr, stale, &ro, merge_status, d,
                          on_written, d);
    json_decref(stale);
  }
  if (rc) {
    emit(json_pack("{s:s, s:s, s:s}", "ev", "done", "err", op_err_name(rc),
                   "msg", det ? det->msg : ""));
    d->exit_code = 1;
    drv_stop(d);
  }
}

static int run_conflict(struct drv *d)
{
  if (!d->name || !d->stale_rv || !d->status)
    return OP_EINVAL;
  return k8s_get(d->c, &d->gvr, d->ns, d->name, on_got, d);
}

/* ---- set-up ----------------------------------------------------------------
 */

static int parse_resource(struct drv *d, const char *spec)
{
  char tmp[300];
  char *a, *b, *c;

  if (str_copy(tmp, spec, sizeof(tmp)) >= sizeof(tmp))
    return OP_EINVAL;
  a = tmp;
  b = strchr(a, '/');
  if (!b)
    return OP_EINVAL;
  *b++ = '\0';
  c = strchr(b, '/');
  if (c) {
    *c++ = '\0';
    str_copy(d->group, a, sizeof(d->group));
    str_copy(d->version, b, sizeof(d->version));
    str_copy(d->plural, c, sizeof(d->plural));
  } else {
    d->group[0] = '\0';
    str_copy(d->version, a, sizeof(d->version));
    str_copy(d->plural, b, sizeof(d->plural));
  }
  d->gvr = (struct k8s_gvr){ d->group, d->version, d->plural, true };
  return 0;
}

static int parse_args(struct drv *d, int argc, char **argv, const char **mode)
{
  const char *res = NULL;

  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;

    if (str_eq(argv[i], "--kubeconfig") && v)
      d->kubeconfig = argv[++i];
    else if (str_eq(argv[i], "--resource") && v)
      res = argv[++i];
    else if (str_eq(argv[i], "--namespace") && v)
      d->ns = argv[++i];
    else if (str_eq(argv[i], "--name") && v)
      d->name = argv[++i];
    else if (str_eq(argv[i], "--stale-rv") && v)
      d->stale_rv = argv[++i];
    else if (str_eq(argv[i], "--status") && v)
      d->status = argv[++i];
    else if (str_eq(argv[i], "--page-size") && v)
      d->page_size = strtol(argv[++i], NULL, 10);
    else if (argv[i][0] != '-')
      *mode = argv[i];
    else
      return OP_EINVAL;
  }
  if (!d->kubeconfig || !res || !*mode)
    return OP_EINVAL;
  return parse_resource(d, res);
}

static int setup(struct drv *d)
{
  struct k8s_config *cfg = NULL;
  struct op_error e = { 0 };
  struct k8s_client_opts co = { .qps = 1000,
                                .burst = 1000,
                                .user_agent = "k8s_driver" };
  int rc = k8s_config_load_kubeconfig(d->kubeconfig, NULL, &cfg, &e);

  if (rc) {
    fprintf(stderr, "k8s_driver: %s\n", e.msg);
    return rc;
  }
  uv_loop_init(&d->loop);
  rc = httpc_new(&d->loop, NULL, &d->h);
  if (!rc)
    rc = k8s_client_new(&d->loop, d->h, cfg, &co, &d->c);
  k8s_config_free(cfg);
  uv_signal_init(&d->loop, &d->sigterm);
  uv_signal_init(&d->loop, &d->sigint);
  uv_signal_init(&d->loop, &d->sigusr1);
  d->sigterm.data = d->sigint.data = d->sigusr1.data = d;
  uv_signal_start(&d->sigterm, on_signal, SIGTERM);
  uv_signal_start(&d->sigint, on_signal, SIGINT);
  uv_signal_start(&d->sigusr1, on_signal, SIGUSR1);
  return rc;
}

int main(int argc, char **argv)
{
  static struct drv d;
  const char *mode = NULL;
  int rc;

  if (parse_args(&d, argc, argv, &mode)) {
    fprintf(stderr, "usage: k8s_driver --kubeconfig PATH --resource "
                    "[G/]V/PLURAL [--namespace NS] informer|conflict\n");
    return 2;
  }
  if (setup(&d))
    return 1;
  if (str_eq(mode, "informer"))
    rc = run_informer(&d);
  else if (str_eq(mode, "conflict"))
    rc = run_conflict(&d);
  else
    rc = OP_EINVAL;
  if (rc) {
    fprintf(stderr, "k8s_driver: %s: %s\n", mode, op_strerror(rc));
    d.exit_code = 1;
    drv_stop(&d);
  }
  uv_run(&d.loop, UV_RUN_DEFAULT);
  uv_loop_close(&d.loop);
  return d.exit_code;
}
