/* pkg/k8s REST verbs and watches against support/testsrv: round trips,
 * Status errors, 429 with Retry-After, 401 with token re-read, watch
 * streams with 410 at start and in-stream, garbage, stop, client close. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/httpc.h"
#include "k8s/client.h"
#include "k8s/events.h"
#include "k8s/leader.h"
#include "k8s/watch.h"
#include "support/testsrv.h"
#include "testutil.h"
#include "util/rng.h"
#include "util/str.h"
#include "util/util.h"

#define WAIT_MS 10000
#define CM_PATH "/api/v1/namespaces/ns/configmaps/cm"

static const struct k8s_gvr cms = { "", "v1", "configmaps", true };

struct fx {
  uv_loop_t loop;
  struct httpc *h;
  struct testsrv *s;
  struct k8s_client *c;
  uv_prepare_t script;
  /* one scripted route swap: after `after` requests, route path anew */
  unsigned after;
  const char *path;
  int status;
  const char *hdrs, *body;
  char dir[32], tok[64];
};

static void write_file(const char *path, const char *s)
{
  FILE *f = fopen(path, "w");

  ck_assert_ptr_nonnull(f);
  fputs(s, f);
  fclose(f);
}

static void on_script(uv_prepare_t *p)
{
  struct fx *f = p->data;

  if (f->path && testsrv_requests(f->s) >= f->after) {
    testsrv_route_fixed(f->s, f->path, f->status, f->hdrs, f->body,
                        strlen(f->body));
    f->path = NULL;
  }
}

static void swap_after(struct fx *f, unsigned after, const char *path,
                       int status, const char *hdrs, const char *body)
{
  f->after = after;
  f->path = path;
  f->status = status;
  f->hdrs = hdrs;
  f->body = body;
}

static void fx_setup(struct fx *f, const struct k8s_client_opts *o)
{
  struct k8s_config cfg = { 0 };
  char url[128];

  memset(f, 0, sizeof(*f));
  ck_assert_int_eq(uv_loop_init(&f->loop), 0);
  ck_assert_int_eq(httpc_new(&f->loop, NULL, &f->h), 0);
  ck_assert_int_eq(testsrv_new(&f->loop, &f->s), 0);
  str_copy(f->dir, "/tmp/k8s-rest-XXXXXX", sizeof(f->dir));
  ck_assert_ptr_nonnull(mkdtemp(f->dir));
  str_fmt(f->tok, sizeof(f->tok), "%s/token", f->dir);
  write_file(f->tok, "tok-1\n");
  testsrv_url(f->s, "", url, sizeof(url));
  cfg.server = url;
  cfg.token_file = f->tok;
  cfg.namespace = "ns";
  ck_assert_int_eq(k8s_config_reload_token(&cfg, NULL, NULL), 0);
  ck_assert_int_eq(k8s_client_new(&f->loop, f->h, &cfg, o, &f->c), 0);
  util_free_secret(cfg.token);
  uv_prepare_init(&f->loop, &f->script);
  f->script.data = f;
  uv_prepare_start(&f->script, on_script);
}

static void set_flag(void *arg)
{
  *(int *)arg = 1;
}

static void fx_teardown(struct fx *f)
{
  int cc = 0, hc = 0, sc = 0, all = 0;

  if (f->c)
    k8s_client_close(f->c, set_flag, &cc);
  else
    cc = 1;
  ck_assert(test_run_until(&f->loop, &cc, WAIT_MS));
  httpc_close(f->h, set_flag, &hc);
  testsrv_close(f->s, set_flag, &sc);
  uv_close((uv_handle_t *)&f->script, NULL);
  while (!(hc && sc) && uv_run(&f->loop, UV_RUN_ONCE))
    ;
  all = hc && sc;
  ck_assert_int_eq(all, 1);
  uv_run(&f->loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&f->loop), 0);
  unlink(f->tok);
  rmdir(f->dir);
}

/* ---- result collection ------------------------------------------------- */

struct res {
  int done, err;
  json_t *obj;
  struct op_error detail;
};

static void on_obj(int err, json_t *obj, const struct op_error *d, void *arg)
{
  struct res *r = arg;

  r->done++;
  r->err = err;
  r->obj = json_incref(obj);
  if (d)
    r->detail = *d;
  ck_assert(err ? obj == NULL && d != NULL : d == NULL);
}

static void wait_res(struct fx *f, struct res *r)
{
  ck_assert_msg(test_run_until(&f->loop, &r->done, WAIT_MS), "no completion");
  ck_assert_int_eq(r->done, 1);
}

static const char *last_header(struct fx *f, const char *name)
{
  const struct testsrv_req *q = testsrv_last(f->s);

  return q ? testsrv_req_header(q, name) : NULL;
}

static void route_json(struct fx *f, const char *path, int status,
                       const char *json)
{
  testsrv_route_fixed(f->s, path, status, "Content-Type: application/json\r\n",
                      json, strlen(json));
}

/* ---- verbs ------------------------------------------------------------- */

START_TEST(get_round_trip)
{
  struct res r = { 0 };
  struct fx f;

  fx_setup(&f, NULL);
  route_json(&f, CM_PATH, 200,
             "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\","
             "\"resourceVersion\":\"5\"}}");
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r), 0);
  ck_assert_int_eq(r.done, 0); /* never synchronously */
  wait_res(&f, &r);
  ck_assert_int_eq(r.err, 0);
  ck_assert_str_eq(k8s_obj_rv(r.obj), "5");
  ck_assert_str_eq(last_header(&f, "Authorization"), "Bearer tok-1");
  ck_assert_str_eq(last_header(&f, "Accept"), "application/json");
  ck_assert_str_eq(testsrv_last(f.s)->method, "GET");
  json_decref(r.obj);
  fx_teardown(&f);
}
END_TEST

static int get_err(struct fx *f, int status, const char *body,
                   struct op_error *d)
{
  struct res r = { 0 };

  route_json(f, CM_PATH, status, body);
  ck_assert_int_eq(k8s_get(f->c, &cms, "ns", "cm", on_obj, &r), 0);
  wait_res(f, &r);
  *d = r.detail;
  return r.err;
}

START_TEST(status_errors)
{
  struct op_error d;
  struct fx f;

  fx_setup(&f, NULL);
  ck_assert_int_eq(get_err(&f, 404,
                           "{\"kind\":\"Status\",\"reason\":\"NotFound\","
                           "\"message\":\"configmaps \\\"cm\\\" not found\"}",
                           &d),
                   OP_ENOTFOUND);
  ck_assert_str_eq(d.msg, "configmaps \"cm\" not found");
  ck_assert_int_eq(d.http_status, 404);
  ck_assert_int_eq(get_err(&f, 409, "{\"reason\":\"AlreadyExists\"}", &d),
                   OP_EEXIST);
  ck_assert_int_eq(get_err(&f, 409, "{\"reason\":\"Conflict\"}", &d),
                   OP_ECONFLICT);
  ck_assert_int_eq(get_err(&f, 422, "{\"reason\":\"Invalid\"}", &d),
                   OP_EINVALIDOBJ);
  ck_assert_int_eq(get_err(&f, 403, "{}", &d), OP_EFORBIDDEN);
  ck_assert_int_eq(get_err(&f, 410, "{\"reason\":\"Expired\"}", &d), OP_EGONE);
  ck_assert_int_eq(get_err(&f, 500, "oops", &d), OP_EHTTP);
  ck_assert_int_eq(get_err(&f, 200, "{not json", &d), OP_EPARSE);
  fx_teardown(&f);
}
END_TEST

START_TEST(list_query)
{
  struct k8s_list_opts o = { .namespace = "ns",
                             .label_selector = "a=b,c in (x,y)",
                             .field_selector = "metadata.name=cm",
                             .resource_version = "0",
                             .limit = 500,
                             .continue_token = "eyJ2Ijoi+/=" };
  struct res r = { 0 };
  struct fx f;

  fx_setup(&f, NULL);
  route_json(&f, "/api/v1/namespaces/ns/configmaps", 200,
             "{\"kind\":\"ConfigMapList\",\"metadata\":{\"resourceVersion\":"
             "\"9\",\"continue\":\"\"},\"items\":[]}");
  ck_assert_int_eq(k8s_list(f.c, &cms, &o, on_obj, &r), 0);
  wait_res(&f, &r);
  ck_assert_int_eq(r.err, 0);
  ck_assert(json_is_array(json_object_get(r.obj, "items")));
  ck_assert_str_eq(buf_str(&testsrv_last(f.s)->url),
                   "/api/v1/namespaces/ns/configmaps?labelSelector=a%3Db%2Cc%"
                   "20in%20%28x%2Cy%29&fieldSelector=metadata.name%3Dcm&"
                   "resourceVersion=0&limit=500&continue=eyJ2Ijoi%2B%2F%3D");
  json_decref(r.obj);
  fx_teardown(&f);
}
END_TEST

static json_t *sent_body(struct fx *f)
{
  const struct testsrv_req *q = testsrv_last(f->s);

  return json_loadb(q->body.data, q->body.len, 0, NULL);
}

START_TEST(write_verbs)
{
  struct k8s_delete_opts dopt = { "uid-1", "7", K8S_PROPAGATION_FOREGROUND };
  json_t *obj =
      json_pack("{s:s, s:{s:s, s:s, s:s}}", "kind", "ConfigMap", "metadata",
                "name", "cm", "namespace", "ns", "resourceVersion", "7");
  json_t *patch = json_pack("[{s:s, s:s, s:s}]", "op", "replace", "path",
                            "/data/x", "value", "y");
  struct res r[6] = { 0 };
  struct fx f;
  json_t *b;

  fx_setup(&f, NULL);
  testsrv_route_echo(f.s, CM_PATH);
  testsrv_route_echo(f.s, CM_PATH "/status");
  testsrv_route_echo(f.s, "/api/v1/namespaces/ns/configmaps");
  ck_assert_int_eq(k8s_update(f.c, &cms, obj, on_obj, &r[0]), 0);
  wait_res(&f, &r[0]);
  ck_assert_int_eq(r[0].err, 0);
  ck_assert_str_eq(testsrv_last(f.s)->method, "PUT");
  ck_assert_str_eq(k8s_obj_rv(r[0].obj), "7"); /* echoed back */
  ck_assert_int_eq(k8s_update_status(f.c, &cms, obj, on_obj, &r[1]), 0);
  wait_res(&f, &r[1]);
  ck_assert_str_eq(buf_str(&testsrv_last(f.s)->url), CM_PATH "/status");
  ck_assert_int_eq(k8s_create(f.c, &cms, NULL, obj, on_obj, &r[2]), 0);
  wait_res(&f, &r[2]);
  ck_assert_str_eq(testsrv_last(f.s)->method, "POST");
  ck_assert_str_eq(buf_str(&testsrv_last(f.s)->url),
                   "/api/v1/namespaces/ns/configmaps");
  ck_assert_int_eq(k8s_patch_status(f.c, &cms, "ns", "cm", K8S_PATCH_JSON,
                                    patch, on_obj, &r[3]),
                   0);
  wait_res(&f, &r[3]);
  ck_assert_str_eq(testsrv_last(f.s)->method, "PATCH");
  ck_assert_str_eq(last_header(&f, "Content-Type"),
                   "application/json-patch+json");
  ck_assert_int_eq(
      k8s_patch(f.c, &cms, "ns", "cm", K8S_PATCH_MERGE, obj, on_obj, &r[4]), 0);
  wait_res(&f, &r[4]);
  ck_assert_str_eq(last_header(&f, "Content-Type"),
                   "application/merge-patch+json");
  ck_assert_int_eq(k8s_delete(f.c, &cms, "ns", "cm", &dopt, on_obj, &r[5]), 0);
  wait_res(&f, &r[5]);
  ck_assert_str_eq(testsrv_last(f.s)->method, "DELETE");
  b = sent_body(&f);
  ck_assert_str_eq(json_string_value(json_object_get(b, "propagationPolicy")),
                   "Foreground");
  ck_assert_str_eq(k8s_obj_str(b, "preconditions", "uid"), "uid-1");
  ck_assert_str_eq(k8s_obj_str(b, "preconditions", "resourceVersion"), "7");
  json_decref(b);
  /* argument errors never call back */
  ck_assert_int_eq(
      k8s_patch(f.c, &cms, "ns", "cm", K8S_PATCH_JSON, obj, on_obj, &r[0]),
      OP_EINVAL);
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "..", on_obj, &r[0]), OP_EINVAL);
  for (int i = 0; i < 6; i++)
    json_decref(r[i].obj);
  json_decref(obj);
  json_decref(patch);
  fx_teardown(&f);
}
END_TEST

static void count_request(const char *method, long status, double secs,
                          void *arg)
{
  int *n = arg;

  ck_assert_str_eq(method, "GET");
  ck_assert(status == 429 || status == 200);
  ck_assert(secs >= 0);
  (*n)++;
}

START_TEST(throttled_retry_after)
{
  int attempts = 0;
  struct k8s_client_opts o = { .max_retry_after_ms = 20,
                               .on_request = count_request,
                               .on_request_arg = &attempts };
  struct res r = { 0 }, r2 = { 0 };
  uint64_t t0;
  struct fx f;

  fx_setup(&f, &o);
  route_json(&f, CM_PATH, 429, "{\"reason\":\"TooManyRequests\"}");
  testsrv_route_fixed(f.s, CM_PATH, 429, "Retry-After: 1\r\n", "{}", 2);
  swap_after(&f, 1, CM_PATH, 200, NULL, "{\"metadata\":{\"name\":\"cm\"}}");
  t0 = uv_now(&f.loop);
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r), 0);
  wait_res(&f, &r);
  ck_assert_int_eq(r.err, 0);
  ck_assert_uint_eq(testsrv_requests(f.s), 2);
  ck_assert_uint_ge(uv_now(&f.loop) - t0, 20); /* capped Retry-After waited */
  json_decref(r.obj);
  /* always 429: 1 + 3 retries, then OP_ETHROTTLED */
  testsrv_route_fixed(f.s, CM_PATH, 429, "Retry-After: 0\r\n", "{}", 2);
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r2), 0);
  wait_res(&f, &r2);
  ck_assert_int_eq(r2.err, OP_ETHROTTLED);
  ck_assert_uint_eq(testsrv_requests(f.s), 2 + 4);
  ck_assert_int_eq(attempts, 2 + 4); /* the metrics hook saw each attempt */
  fx_teardown(&f);
}
END_TEST

START_TEST(unauthorized_rereads_token)
{
  struct res r = { 0 }, r2 = { 0 };
  struct fx f;

  fx_setup(&f, NULL);
  write_file(f.tok, "tok-2\n"); /* rotated, client still has tok-1 */
  route_json(&f, CM_PATH, 401, "{\"reason\":\"Unauthorized\"}");
  swap_after(&f, 1, CM_PATH, 200, NULL, "{\"metadata\":{\"name\":\"cm\"}}");
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r), 0);
  wait_res(&f, &r);
  ck_assert_int_eq(r.err, 0);
  ck_assert_uint_eq(testsrv_requests(f.s), 2);
  ck_assert_str_eq(last_header(&f, "Authorization"), "Bearer tok-2");
  ck_assert_str_eq(k8s_client_config(f.c)->token, "tok-2");
  json_decref(r.obj);
  /* still 401 after the re-read: exactly one retry */
  route_json(&f, CM_PATH, 401, "{\"reason\":\"Unauthorized\"}");
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r2), 0);
  wait_res(&f, &r2);
  ck_assert_int_eq(r2.err, OP_EUNAUTHORIZED);
  ck_assert_uint_eq(testsrv_requests(f.s), 4);
  fx_teardown(&f);
}
END_TEST

START_TEST(rate_limited_queue)
{
  struct k8s_client_opts o = { .qps = 100, .burst = 2 };
  struct res r[5] = { 0 };
  uint64_t t0;
  struct fx f;
  int i;

  fx_setup(&f, &o);
  route_json(&f, CM_PATH, 200, "{}");
  t0 = uv_now(&f.loop);
  for (i = 0; i < 5; i++)
    ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r[i]), 0);
  ck_assert_uint_eq(k8s_client_pending(f.c), 5);
  for (i = 0; i < 5; i++) {
    wait_res(&f, &r[i]);
    ck_assert_int_eq(r[i].err, 0);
    json_decref(r[i].obj);
  }
  /* 2 at once, then 3 more at 10 ms each */
  ck_assert_uint_ge(uv_now(&f.loop) - t0, 29);
  fx_teardown(&f);
}
END_TEST

START_TEST(close_cancels_in_flight)
{
  struct res r = { 0 }, r2 = { 0 };
  struct k8s_client_opts o = { .qps = 1, .burst = 1 };
  int cc = 0;
  struct fx f;

  fx_setup(&f, &o);
  testsrv_route_hang(f.s, CM_PATH);
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r), 0);
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r2), 0);
  while (testsrv_requests(f.s) < 1 && uv_run(&f.loop, UV_RUN_ONCE))
    ;
  k8s_client_close(f.c, set_flag, &cc);
  ck_assert_int_eq(r2.done, 1); /* queued one: at once */
  ck_assert_int_eq(r2.err, OP_ECANCELED);
  wait_res(&f, &r);
  ck_assert_int_eq(r.err, OP_ECANCELED);
  ck_assert(test_run_until(&f.loop, &cc, WAIT_MS));
  f.c = NULL;
  fx_teardown(&f);
}
END_TEST

struct closer {
  struct k8s_client *c;
  int cc;
  struct res r;
};

static void close_in_cb(int err, json_t *obj, const struct op_error *d,
                        void *arg)
{
  struct closer *k = arg;

  on_obj(err, obj, d, &k->r);
  k8s_client_close(k->c, set_flag, &k->cc);
}

START_TEST(close_from_callback)
{
  struct k8s_client_opts o = { .qps = 1, .burst = 1 };
  struct closer k = { 0 };
  struct res r2 = { 0 };
  struct fx f;

  fx_setup(&f, &o);
  route_json(&f, CM_PATH, 404, "{}");
  k.c = f.c;
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", close_in_cb, &k), 0);
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r2), 0);
  wait_res(&f, &k.r);
  ck_assert_int_eq(k.r.err, OP_ENOTFOUND);
  ck_assert_int_eq(r2.done, 1);
  ck_assert_int_eq(r2.err, OP_ECANCELED);
  ck_assert(test_run_until(&f.loop, &k.cc, WAIT_MS));
  f.c = NULL;
  fx_teardown(&f);
}
END_TEST

/* ---- watch -----------------------------------------------------------------
 */

#define W_PATH "/api/v1/namespaces/ns/configmaps"

struct wres {
  struct buf log;
  int done, err, stop_at, n;
  struct op_error detail;
  struct k8s_watch *w;
};

static void w_event(enum k8s_event_type t, json_t *obj, void *arg)
{
  struct wres *r = arg;
  const char *name =
      t == K8S_EV_ERROR
          ? json_string_value(json_object_get(obj, "reason"))
          : (t == K8S_EV_BOOKMARK ? k8s_obj_rv(obj) : k8s_obj_name(obj));

  buf_printf(&r->log, "%s:%s;", k8s_event_type_name(t), name ? name : "-");
  if (++r->n == r->stop_at)
    k8s_watch_stop(r->w);
}

static void w_done(int err, const struct op_error *d, void *arg)
{
  struct wres *r = arg;

  r->done++;
  r->err = err;
  if (d)
    r->detail = *d;
}

static void w_start(struct fx *f, struct wres *r, const char *rv)
{
  struct k8s_watch_opts o = { .namespace = "ns",
                              .resource_version = rv,
                              .allow_bookmarks = true };

  buf_init(&r->log, 1 << 16);
  ck_assert_int_eq(k8s_watch_start(f->c, &cms, &o, w_event, w_done, r, &r->w),
                   0);
}

static void w_wait(struct fx *f, struct wres *r)
{
  ck_assert_msg(test_run_until(&f->loop, &r->done, WAIT_MS), "watch hung");
  ck_assert_int_eq(r->done, 1);
}

static const char wstream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"10\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"11\"}}}\r\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":"
    "\"15\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"16\"}}}\n";

START_TEST(watch_stream_chunks)
{
  size_t cuts[] = { 1, 7, 60, 61, 62, 100, 150, 151, 200 };
  struct wres r = { 0 };
  const char *url;
  struct fx f;

  fx_setup(&f, NULL);
  testsrv_route_chunked(f.s, W_PATH, wstream, sizeof(wstream) - 1, cuts,
                        UTIL_ARRAY_SIZE(cuts), 1);
  w_start(&f, &r, "9");
  w_wait(&f, &r);
  ck_assert_int_eq(r.err, 0); /* clean server close */
  ck_assert_str_eq(buf_str(&r.log),
                   "ADDED:a;MODIFIED:a;BOOKMARK:15;DELETED:a;");
  url = buf_str(&testsrv_last(f.s)->url);
  ck_assert_msg(strstr(url, "?watch=1&resourceVersion=9&allowWatchBookmarks="
                            "true&timeoutSeconds="),
                "%s", url);
  {
    long long ts;
    ck_assert_int_eq(
        str_to_ll(strstr(url, "timeoutSeconds=") + 15, 300, 600, &ts), 0);
  }
  buf_cleanup(&r.log);
  fx_teardown(&f);
}
END_TEST

START_TEST(watch_gone_at_start)
{
  struct wres r = { 0 };
  struct fx f;

  fx_setup(&f, NULL);
  route_json(&f, W_PATH, 410,
             "{\"kind\":\"Status\",\"reason\":\"Expired\",\"message\":\"too "
             "old resource version\",\"code\":410}");
  w_start(&f, &r, "1");
  w_wait(&f, &r);
  ck_assert_int_eq(r.err, OP_EGONE);
  ck_assert_str_eq(r.detail.msg, "too old resource version");
  ck_assert_str_eq(buf_str(&r.log), "");
  buf_cleanup(&r.log);
  fx_teardown(&f);
}
END_TEST

static void w_chunked(struct fx *f, const char *body)
{
  size_t cut = strlen(body) / 2;

  testsrv_route_chunked(f->s, W_PATH, body, strlen(body), &cut, 1, 1);
}

START_TEST(watch_gone_in_stream)
{
  struct wres r = { 0 };
  struct fx f;

  fx_setup(&f, NULL);
  w_chunked(&f, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
                "\"resourceVersion\":\"3\"}}}\n"
                "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":"
                "410,\"reason\":\"Expired\"}}\n"
                "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\"}}"
                "}\n");
  w_start(&f, &r, NULL);
  w_wait(&f, &r);
  ck_assert_int_eq(r.err, OP_EGONE);
  ck_assert_str_eq(buf_str(&r.log), "ADDED:a;ERROR:Expired;");
  buf_cleanup(&r.log);
  fx_teardown(&f);
}
END_TEST

START_TEST(watch_garbage_and_oversize)
{
  struct k8s_watch_opts o = { .namespace = "ns", .max_event_bytes = 64 };
  struct wres r = { 0 }, r2 = { 0 };
  char big[200];
  struct fx f;

  fx_setup(&f, NULL);
  w_chunked(&f, "{\"type\":\"ADDED\",\"object\":{}}\nthis is not json\n");
  w_start(&f, &r, NULL);
  w_wait(&f, &r);
  ck_assert_int_eq(r.err, OP_EPARSE);
  ck_assert_str_eq(buf_str(&r.log), "ADDED:-;");
  memset(big, 'x', sizeof(big) - 2);
  big[sizeof(big) - 2] = '\n';
  big[sizeof(big) - 1] = '\0';
  w_chunked(&f, big);
  buf_init(&r2.log, 1024);
  ck_assert_int_eq(k8s_watch_start(f.c, &cms, &o, w_event, w_done, &r2, NULL),
                   0);
  w_wait(&f, &r2);
  ck_assert_int_eq(r2.err, OP_ETOOBIG);
  buf_cleanup(&r.log);
  buf_cleanup(&r2.log);
  fx_teardown(&f);
}
END_TEST

START_TEST(watch_stop_inside_callback)
{
  struct wres r = { 0 }, r2 = { 0 };
  struct fx f;

  fx_setup(&f, NULL);
  testsrv_route_chunked(f.s, W_PATH, wstream, sizeof(wstream) - 1, NULL, 0, 0);
  r.stop_at = 2;
  w_start(&f, &r, NULL);
  w_wait(&f, &r);
  ck_assert_int_eq(r.err, OP_ECANCELED);
  ck_assert_str_eq(buf_str(&r.log), "ADDED:a;MODIFIED:a;");
  /* a hanging watch is cancelled by stop from outside, and by close */
  testsrv_route_hang(f.s, W_PATH);
  w_start(&f, &r2, NULL);
  while (testsrv_requests(f.s) < 2 && uv_run(&f.loop, UV_RUN_ONCE))
    ;
  k8s_watch_stop(r2.w);
  w_wait(&f, &r2);
  ck_assert_int_eq(r2.err, OP_ECANCELED);
  buf_cleanup(&r.log);
  buf_cleanup(&r2.log);
  fx_teardown(&f);
}
END_TEST

START_TEST(watch_cancelled_by_close)
{
  struct wres r = { 0 };
  struct fx f;

  fx_setup(&f, NULL);
  testsrv_route_hang(f.s, W_PATH);
  w_start(&f, &r, NULL);
  while (testsrv_requests(f.s) < 1 && uv_run(&f.loop, UV_RUN_ONCE))
    ;
  fx_teardown(&f);
  ck_assert_int_eq(r.done, 1);
  ck_assert_int_eq(r.err, OP_ECANCELED);
  buf_cleanup(&r.log);
}
END_TEST

START_TEST(watch_unauthorized_rereads_token)
{
  struct wres r = { 0 };
  struct fx f;

  fx_setup(&f, NULL);
  write_file(f.tok, "tok-9");
  route_json(&f, W_PATH, 401, "{\"reason\":\"Unauthorized\"}");
  swap_after(&f, 1, W_PATH, 200, NULL, wstream);
  w_start(&f, &r, NULL);
  w_wait(&f, &r);
  ck_assert_int_eq(r.err, 0);
  ck_assert_uint_eq(testsrv_requests(f.s), 2);
  ck_assert_str_eq(last_header(&f, "Authorization"), "Bearer tok-9");
  ck_assert_str_eq(buf_str(&r.log),
                   "ADDED:a;MODIFIED:a;BOOKMARK:15;DELETED:a;");
  buf_cleanup(&r.log);
  fx_teardown(&f);
}
END_TEST

START_TEST(token_reloaded_periodically)
{
  struct k8s_client_opts o = { .token_reload_ms = 10 };
  struct fx f;
  int never = 0, i;

  fx_setup(&f, &o);
  write_file(f.tok, "tok-rotated\n");
  /* condition wait: poll the config between short loop runs */
  for (i = 0; i < 500 && !str_eq(k8s_client_config(f.c)->token, "tok-rotated");
       i++)
    test_run_until(&f.loop, &never, 10);
  ck_assert_str_eq(k8s_client_config(f.c)->token, "tok-rotated");
  fx_teardown(&f);
}
END_TEST

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;

  return x < y ? -1 : x > y;
}

START_TEST(watch_random_chunks_seeded)
{
  size_t cuts[12] = { 0 }, n, i;
  struct rng rg;
  struct fx f;
  int round;

  fx_setup(&f, NULL);
  rng_seed(&rg, 20261123);
  for (round = 0; round < 20; round++) {
    struct wres r = { 0 };

    n = rng_below(&rg, UTIL_ARRAY_SIZE(cuts));
    for (i = 0; i < n; i++)
      cuts[i] = 1 + rng_below(&rg, sizeof(wstream) - 2);
    qsort(cuts, n, sizeof(cuts[0]), cmp_size);
    testsrv_route_chunked(f.s, W_PATH, wstream, sizeof(wstream) - 1, cuts, n,
                          0);
    w_start(&f, &r, NULL);
    w_wait(&f, &r);
    ck_assert_int_eq(r.err, 0);
    ck_assert_str_eq(buf_str(&r.log),
                     "ADDED:a;MODIFIED:a;BOOKMARK:15;DELETED:a;");
    buf_cleanup(&r.log);
  }
  fx_teardown(&f);
}
END_TEST

/* ---- leader and events through the real client ------------------------- */

static void on_started(void *arg)
{
  *(int *)arg = 1;
}

START_TEST(leader_via_client)
{
  struct k8s_leader_opts o = { .namespace = "aao",
                               .identity = "pod-a",
                               .retry_period_ms = 5000, /* one attempt */
                               .on_started_leading = on_started };
  struct k8s_leader *le;
  int started = 0, closed = 0;
  const struct testsrv_req *q;
  json_t *b;
  struct fx f;

  fx_setup(&f, NULL);
  o.arg = &started;
  /* no lease yet (unknown path: 404); the collection echoes the create */
  testsrv_route_echo(f.s, "/apis/coordination.k8s.io/v1/namespaces/aao/leases");
  ck_assert_int_eq(k8s_leader_new(&f.loop, f.c, &o, &le), 0);
  ck_assert_int_eq(k8s_leader_start(le), 0);
  ck_assert(test_run_until(&f.loop, &started, WAIT_MS));
  q = testsrv_last(f.s);
  ck_assert_str_eq(q->method, "POST");
  b = json_loadb(q->body.data, q->body.len, 0, NULL);
  ck_assert_str_eq(k8s_obj_str(b, "spec", "holderIdentity"), "pod-a");
  ck_assert_str_eq(k8s_obj_name(b), "aws-account-operator-lock");
  ck_assert_str_eq(k8s_obj_str(b, NULL, "kind"), "Lease");
  json_decref(b);
  k8s_leader_close(le, set_flag, &closed);
  ck_assert(test_run_until(&f.loop, &closed, WAIT_MS));
  fx_teardown(&f);
}
END_TEST

START_TEST(events_via_client)
{
  struct k8s_recorder *rec;
  struct k8s_recorder_stats st;
  const struct testsrv_req *q;
  json_t *acc =
      json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
                "ConfigMap", "metadata", "name", "cm", "namespace", "ns");
  json_t *b;
  struct fx f;
  unsigned n;

  fx_setup(&f, NULL);
  testsrv_route_echo(f.s, "/api/v1/namespaces/ns/events");
  ck_assert_int_eq(k8s_recorder_new(&f.loop, f.c, NULL, &rec), 0);
  k8s_event(rec, acc, K8S_EVENT_NORMAL, "Synced", "all good");
  for (n = 0; n < 500 && testsrv_requests(f.s) < 1; n++)
    uv_run(&f.loop, UV_RUN_ONCE);
  q = testsrv_last(f.s);
  ck_assert_str_eq(q->method, "POST");
  b = json_loadb(q->body.data, q->body.len, 0, NULL);
  ck_assert_str_eq(k8s_obj_str(b, NULL, "reason"), "Synced");
  ck_assert_str_eq(k8s_obj_str(b, "involvedObject", "name"), "cm");
  json_decref(b);
  k8s_event(rec, acc, K8S_EVENT_NORMAL, "Synced", "all good");
  for (n = 0; n < 500 && testsrv_requests(f.s) < 2; n++)
    uv_run(&f.loop, UV_RUN_ONCE);
  q = testsrv_last(f.s);
  ck_assert_str_eq(q->method, "PATCH");
  ck_assert(
      str_has_prefix(buf_str(&q->url), "/api/v1/namespaces/ns/events/cm."));
  ck_assert_str_eq(testsrv_req_header(q, "Content-Type"),
                   "application/merge-patch+json");
  k8s_recorder_stats(rec, &st);
  ck_assert_uint_eq(st.created, 1);
  ck_assert_uint_eq(st.patched, 1);
  k8s_recorder_free(rec); /* the PATCH (404 here) completes into nothing */
  json_decref(acc);
  fx_teardown(&f);
}
END_TEST

/* ---- update with retry on conflict ------------------------------------- */

struct mut {
  int calls;
  char rv[2][16];
};

static int set_ready(json_t *obj, void *arg)
{
  struct mut *m = arg;
  json_t *st = json_object_get(obj, "status");

  if (m->calls < 2)
    str_copy(m->rv[m->calls], k8s_obj_rv(obj), sizeof(m->rv[0]));
  m->calls++;
  if (!st) {
    st = json_object();
    json_object_set_new(obj, "status", st);
  }
  json_object_set_new(st, "state", json_string("Ready"));
  return 0;
}

#define CONFLICT_BODY                                                          \
  "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Conflict\","       \
  "\"code\":409,\"message\":\"the object has been modified\"}"

START_TEST(update_status_retry_on_conflict)
{
  json_t *stale =
      json_pack("{s:s, s:{s:s, s:s, s:s}}", "kind", "ConfigMap", "metadata",
                "name", "cm", "namespace", "ns", "resourceVersion", "3");
  struct k8s_retry_opts o = { .status = true };
  struct res r = { 0 };
  struct mut m = { 0 };
  json_t *sent;
  struct fx f;

  fx_setup(&f, NULL);
  route_json(&f, CM_PATH "/status", 409, CONFLICT_BODY);
  route_json(&f, CM_PATH, 200,
             "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\","
             "\"namespace\":\"ns\",\"resourceVersion\":\"7\"}}");
  swap_after(&f, 2, CM_PATH "/status", 200,
             "Content-Type: application/json\r\n",
             "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm\","
             "\"namespace\":\"ns\",\"resourceVersion\":\"8\"},"
             "\"status\":{\"state\":\"Ready\"}}");
  ck_assert_int_eq(
      k8s_update_retry(f.c, &cms, stale, &o, set_ready, &m, on_obj, &r), 0);
  ck_assert_int_eq(m.calls, 1); /* the first mutate runs inside the call */
  ck_assert_int_eq(r.done, 0);
  wait_res(&f, &r);
  ck_assert_int_eq(r.err, 0);
  ck_assert_str_eq(k8s_obj_rv(r.obj), "8");
  ck_assert_int_eq(m.calls, 2);
  ck_assert_str_eq(m.rv[0], "3"); /* stale */
  ck_assert_str_eq(m.rv[1], "7"); /* re-read */
  ck_assert_uint_eq(testsrv_requests(f.s), 3);
  ck_assert_str_eq(testsrv_last(f.s)->method, "PUT");
  sent = json_loadb(testsrv_last(f.s)->body.data, testsrv_last(f.s)->body.len,
                    0, NULL);
  ck_assert_str_eq(k8s_obj_rv(sent), "7");
  ck_assert_str_eq(k8s_obj_str(sent, "status", "state"), "Ready");
  /* the caller's object was not touched */
  ck_assert_ptr_null(json_object_get(stale, "status"));
  json_decref(sent);
  json_decref(r.obj);
  json_decref(stale);
  fx_teardown(&f);
}
END_TEST

START_TEST(update_retry_gives_up)
{
  json_t *obj = json_pack("{s:{s:s, s:s, s:s}}", "metadata", "name", "cm",
                          "namespace", "ns", "resourceVersion", "3");
  struct k8s_retry_opts o = { .attempts = 2 };
  struct res r = { 0 };
  struct mut m = { 0 };
  struct fx f;

  fx_setup(&f, NULL);
  route_json(&f, CM_PATH, 409, CONFLICT_BODY); /* GET and PUT share it */
  ck_assert_int_eq(
      k8s_update_retry(f.c, &cms, obj, &o, set_ready, &m, on_obj, &r), 0);
  wait_res(&f, &r);
  /* PUT 409, GET 409 (a GET error ends it) */
  ck_assert_int_eq(r.err, OP_ECONFLICT);
  ck_assert_uint_eq(testsrv_requests(f.s), 2);
  ck_assert_int_eq(r.detail.http_status, 409);
  json_decref(obj);
  fx_teardown(&f);
}
END_TEST

static int skip_write(json_t *obj, void *arg)
{
  (void)obj;
  (void)arg;
  return K8S_MUTATE_SKIP;
}

START_TEST(update_retry_skip_and_user_agent)
{
  struct k8s_client_opts co = { .user_agent = "aws-account-operator/t (id-1)" };
  json_t *obj =
      json_pack("{s:{s:s, s:s}}", "metadata", "name", "cm", "namespace", "ns");
  struct res r = { 0 };
  struct fx f;

  fx_setup(&f, &co);
  ck_assert_int_eq(
      k8s_update_retry(f.c, &cms, obj, NULL, skip_write, NULL, on_obj, &r),
      K8S_MUTATE_SKIP);
  ck_assert_int_eq(r.done, 0);
  route_json(&f, CM_PATH, 200, "{\"metadata\":{\"name\":\"cm\"}}");
  ck_assert_int_eq(k8s_get(f.c, &cms, "ns", "cm", on_obj, &r), 0);
  wait_res(&f, &r);
  ck_assert_str_eq(last_header(&f, "User-Agent"),
                   "aws-account-operator/t (id-1)");
  json_decref(r.obj);
  json_decref(obj);
  fx_teardown(&f);
}
END_TEST

static Suite *k8s_rest_suite(void)
{
  Suite *s = suite_create("k8s_rest");
  TCase *v = tcase_create("verbs"), *w = tcase_create("watch");

  tcase_add_test(v, get_round_trip);
  tcase_add_test(v, status_errors);
  tcase_add_test(v, list_query);
  tcase_add_test(v, write_verbs);
  tcase_add_test(v, throttled_retry_after);
  tcase_add_test(v, unauthorized_rereads_token);
  tcase_add_test(v, rate_limited_queue);
  tcase_add_test(v, close_cancels_in_flight);
  tcase_add_test(v, close_from_callback);
  tcase_add_test(v, token_reloaded_periodically);
  tcase_add_test(w, watch_stream_chunks);
  tcase_add_test(w, watch_gone_at_start);
  tcase_add_test(w, watch_gone_in_stream);
  tcase_add_test(w, watch_garbage_and_oversize);
  tcase_add_test(w, watch_stop_inside_callback);
  tcase_add_test(w, watch_cancelled_by_close);
  tcase_add_test(w, watch_unauthorized_rereads_token);
  tcase_add_test(w, watch_random_chunks_seeded);
  tcase_add_test(v, leader_via_client);
  tcase_add_test(v, events_via_client);
  tcase_add_test(v, update_status_retry_on_conflict);
  tcase_add_test(v, update_retry_gives_up);
  tcase_add_test(v, update_retry_skip_and_user_agent);
  suite_add_tcase(s, v);
  suite_add_tcase(s, w);
  return s;
}

TEST_MAIN(k8s_rest_suite)
