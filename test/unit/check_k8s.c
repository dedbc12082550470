/* pkg/k8s pure parts: kubeconfig and in-cluster config, base64, path and
 * query building, Status decoding, Retry-After, token bucket, watch
 * framing (byte-by-byte, random splits, CRLF, caps, garbage). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s/client.h"
#include "k8s/config.h"
#include "k8s/leader.h"
#include "k8s/watch.h"
#include "testutil.h"
#include "util/rng.h"
#include "util/str.h"
#include "util/util.h"

#define FIX "test/unit/fixtures/kubeconfig/"

/* ---- kubeconfig ---------------------------------------------------------- */

START_TEST(kubeconfig_current_context)
{
  struct k8s_config *c;
  struct op_error e;

  ck_assert_int_eq(k8s_config_load_kubeconfig(FIX "good.yaml", NULL, &c, &e),
                   0);
  ck_assert_str_eq(c->context, "dev");
  ck_assert_str_eq(c->server, "https://dev.example.com:6443");
  ck_assert_str_eq(c->ca_pem, "CA-PEM-DATA");
  ck_assert_ptr_null(c->ca_file);
  ck_assert_str_eq(c->token, "s3cr3t-token");
  ck_assert_str_eq(c->namespace, "default");
  ck_assert(!c->insecure_skip_verify);
  k8s_config_free(c);
}
END_TEST

START_TEST(kubeconfig_named_context)
{
  struct k8s_config *c, *d;
  struct op_error e;

  ck_assert_int_eq(k8s_config_load_kubeconfig(FIX "good.yaml", "prod", &c, &e),
                   0);
  ck_assert_str_eq(c->server, "https://prod.example.com");
  ck_assert_str_eq(c->ca_file, FIX "certs/ca.crt");
  ck_assert(c->insecure_skip_verify);
  ck_assert_str_eq(c->cert_file, "/abs/client.crt");
  ck_assert_str_eq(c->cert_pem, "CERT-PEM");
  ck_assert_str_eq(c->key_pem, "KEY-PEM");
  ck_assert_ptr_null(c->token);
  ck_assert_str_eq(c->namespace, "aws-account-operator");
  d = k8s_config_dup(c);
  ck_assert_str_eq(d->key_pem, "KEY-PEM");
  k8s_config_free(c);
  k8s_config_free(d);
  ck_assert_int_eq(
      k8s_config_load_kubeconfig(FIX "good.yaml", "filetok", &c, &e), 0);
  ck_assert_str_eq(c->token, "file-token");
  ck_assert_str_eq(c->token_file, FIX "token.txt");
  k8s_config_free(c);
}
END_TEST

static void expect_fail(const char *file, const char *ctx, int code,
                        const char *needle)
{
  struct k8s_config *c = (void *)1;
  struct op_error e;

  op_error_clear(&e);
  ck_assert_int_eq(k8s_config_load_kubeconfig(file, ctx, &c, &e), code);
  ck_assert_ptr_null(c);
  ck_assert_int_eq(e.code, code);
  ck_assert_msg(strstr(e.msg, needle), "%s: '%s' lacks '%s'", file, e.msg,
                needle);
}

START_TEST(kubeconfig_errors)
{
  expect_fail(FIX "bad_yaml.yaml", NULL, OP_ECONFIG, "malformed YAML");
  expect_fail(FIX "no_current.yaml", NULL, OP_ECONFIG, "no current-context");
  expect_fail(FIX "good.yaml", "nope", OP_ECONFIG, "context \"nope\"");
  expect_fail(FIX "bad_base64.yaml", NULL, OP_ECONFIG,
              "certificate-authority-data is not valid base64");
  expect_fail(FIX "exec.yaml", NULL, OP_ECONFIG, "aws-iam-authenticator");
  expect_fail(FIX "auth_provider.yaml", NULL, OP_ECONFIG, "\"gcp\"");
  expect_fail(FIX "missing_cluster.yaml", NULL, OP_ECONFIG,
              "cluster \"nowhere\"");
  expect_fail(FIX "missing_user.yaml", NULL, OP_ECONFIG, "user \"ghost\"");
  expect_fail(FIX "does-not-exist.yaml", NULL, OP_EIO, "cannot read");
}
END_TEST

START_TEST(base64_strict)
{
  char *out;
  size_t n;

  ck_assert_int_eq(k8s_base64_decode_new("aGVsbG8=", &out, &n), 0);
  ck_assert_str_eq(out, "hello");
  ck_assert_uint_eq(n, 5);
  free(out);
  ck_assert_int_eq(k8s_base64_decode_new("aGVs\nbG8", &out, &n), 0);
  ck_assert_str_eq(out, "hello");
  free(out);
  ck_assert_int_eq(k8s_base64_decode_new("", &out, &n), 0);
  ck_assert_uint_eq(n, 0);
  free(out);
  ck_assert_int_eq(k8s_base64_decode_new("a", &out, &n), OP_EPARSE);
  ck_assert_int_eq(k8s_base64_decode_new("aGV*", &out, &n), OP_EPARSE);
  ck_assert_int_eq(k8s_base64_decode_new("aG=Vs", &out, &n), OP_EPARSE);
  ck_assert_int_eq(k8s_base64_decode_new("aGVsbG8===", &out, &n), OP_EPARSE);
}
END_TEST

/* ---- in-cluster ------------------------------------------------------------
 */

static void write_file(const char *path, const char *s)
{
  FILE *f = fopen(path, "w");

  ck_assert_ptr_nonnull(f);
  fputs(s, f);
  fclose(f);
}

START_TEST(incluster_config)
{
  char dir[] = "/tmp/k8s-sa-XXXXXX", tok[64], ca[64], ns[64];
  struct k8s_incluster_paths p;
  struct k8s_config *c;
  struct op_error e;
  bool changed;

  ck_assert_ptr_nonnull(mkdtemp(dir));
  str_fmt(tok, sizeof(tok), "%s/token", dir);
  str_fmt(ca, sizeof(ca), "%s/ca.crt", dir);
  str_fmt(ns, sizeof(ns), "%s/namespace", dir);
  p = (struct k8s_incluster_paths){ tok, ca, ns };
  unsetenv("KUBERNETES_SERVICE_HOST");
  ck_assert_int_eq(k8s_config_load_incluster(&p, &c, &e), OP_ECONFIG);
  ck_assert(strstr(e.msg, "KUBERNETES_SERVICE_HOST"));
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  ck_assert_int_eq(k8s_config_load_incluster(&p, &c, &e), OP_EIO);
  write_file(tok, "tok-1\n");
  write_file(ca, "PEM");
  write_file(ns, "aao\n");
  ck_assert_int_eq(k8s_config_load_incluster(&p, &c, &e), 0);
  ck_assert_str_eq(c->server, "https://10.0.0.1:443");
  ck_assert_str_eq(c->token, "tok-1");
  ck_assert_str_eq(c->ca_file, ca);
  ck_assert_str_eq(c->namespace, "aao");
  ck_assert_int_eq(k8s_config_reload_token(c, &changed, &e), 0);
  ck_assert(!changed);
  write_file(tok, "tok-2");
  ck_assert_int_eq(k8s_config_reload_token(c, &changed, &e), 0);
  ck_assert(changed);
  ck_assert_str_eq(c->token, "tok-2");
  unlink(tok);
  ck_assert_int_eq(k8s_config_reload_token(c, &changed, &e), OP_EIO);
  ck_assert_str_eq(c->token, "tok-2"); /* old one kept */
  k8s_config_free(c);
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  write_file(tok, "t");
  unlink(ns);
  ck_assert_int_eq(k8s_config_load_incluster(&p, &c, &e), 0);
  ck_assert_str_eq(c->server, "https://[fd00::1]:443");
  ck_assert_str_eq(c->namespace, "default");
  k8s_config_free(c);
  unlink(tok);
  unlink(ca);
  rmdir(dir);
}
END_TEST

/* ---- paths, queries, status ---------------------------------------------- */

static const struct k8s_gvr accounts = { "aws.managed.openshift.io", "v1alpha1",
                                         "accounts", true };
static const struct k8s_gvr nodes = { "", "v1", "nodes", false };

START_TEST(path_building)
{
  struct buf b;

  buf_init(&b, 4096);
  ck_assert_int_eq(k8s_path_build(&b, &accounts, "ns1", "osd-1", "status"), 0);
  ck_assert_str_eq(
      buf_str(&b),
      "/apis/aws.managed.openshift.io/v1alpha1/namespaces/ns1/accounts/osd-1/"
      "status");
  buf_reset(&b);
  ck_assert_int_eq(k8s_path_build(&b, &accounts, NULL, NULL, NULL), 0);
  ck_assert_str_eq(buf_str(&b),
                   "/apis/aws.managed.openshift.io/v1alpha1/accounts");
  buf_reset(&b);
  ck_assert_int_eq(k8s_path_build(&b, &nodes, "ignored", "n 1/x", NULL), 0);
  ck_assert_str_eq(buf_str(&b), "/api/v1/nodes/n%201%2Fx");
  buf_reset(&b);
  ck_assert_int_eq(k8s_path_build(&b, &accounts, "ns", "..", NULL), OP_EINVAL);
  buf_reset(&b);
  ck_assert_int_eq(k8s_path_build(&b, &accounts, "ns", "", NULL), OP_EINVAL);
  buf_reset(&b);
  ck_assert_int_eq(k8s_path_build(&b, &accounts, "ns", "a", NULL), 0);
  ck_assert_int_eq(k8s_query_add(&b, "labelSelector", "app=x,tier!=db"), 0);
  ck_assert_int_eq(k8s_query_add(&b, "fieldSelector", "metadata.name=a b&c"),
                   0);
  ck_assert_str_eq(buf_str(&b),
                   "/apis/aws.managed.openshift.io/v1alpha1/namespaces/ns/"
                   "accounts/a?labelSelector=app%3Dx%2Ctier%21%3Ddb&"
                   "fieldSelector=metadata.name%3Da%20b%26c");
  buf_cleanup(&b);
}
END_TEST

static int status_err(long http, const char *json, struct op_error *e)
{
  json_t *j = json ? json_loads(json, 0, NULL) : NULL;
  int rc = k8s_status_to_err(http, j, e);

  json_decref(j);
  return rc;
}

START_TEST(status_decoding)
{
  struct op_error e;

  ck_assert_int_eq(status_err(404,
                              "{\"kind\":\"Status\",\"reason\":\"NotFound\","
                              "\"message\":\"accounts \\\"x\\\" not found\","
                              "\"code\":404}",
                              &e),
                   OP_ENOTFOUND);
  ck_assert_str_eq(e.msg, "accounts \"x\" not found");
  ck_assert_str_eq(e.code_str, "NotFound");
  ck_assert_int_eq(e.http_status, 404);
  ck_assert_int_eq(status_err(409, "{\"reason\":\"AlreadyExists\"}", &e),
                   OP_EEXIST);
  ck_assert_int_eq(status_err(409, "{\"reason\":\"Conflict\"}", &e),
                   OP_ECONFLICT);
  ck_assert_int_eq(status_err(410, "{\"reason\":\"Expired\"}", &e), OP_EGONE);
  ck_assert_int_eq(status_err(422, NULL, &e), OP_EINVALIDOBJ);
  ck_assert_int_eq(status_err(429, NULL, &e), OP_ETHROTTLED);
  ck_assert_int_eq(status_err(401, NULL, &e), OP_EUNAUTHORIZED);
  ck_assert_int_eq(status_err(403, NULL, NULL), OP_EFORBIDDEN);
  ck_assert_int_eq(status_err(500, "not json", &e), OP_EHTTP);
  /* in-stream ERROR: the code comes from the Status object */
  ck_assert_int_eq(status_err(0, "{\"code\":410,\"reason\":\"Expired\"}", &e),
                   OP_EGONE);
  ck_assert_int_eq(e.http_status, 410);
}
END_TEST

START_TEST(retry_after_parsing)
{
  ck_assert_int_eq(k8s_retry_after_ms("3", 0), 3000);
  ck_assert_int_eq(k8s_retry_after_ms("0", 0), 0);
  ck_assert_int_eq(k8s_retry_after_ms(NULL, 0), -1);
  ck_assert_int_eq(k8s_retry_after_ms("soon", 0), -1);
  ck_assert_int_eq(
      k8s_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 5), 5000);
  ck_assert_int_eq(
      k8s_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 5), 0);
}
END_TEST

START_TEST(token_bucket_maths)
{
  struct k8s_tbucket tb;
  int i;

  k8s_tbucket_init(&tb, 10, 5, 1000);
  for (i = 0; i < 5; i++)
    ck_assert_uint_eq(k8s_tbucket_take(&tb, 1000), 0);
  ck_assert_uint_eq(k8s_tbucket_take(&tb, 1000), 100); /* 1 token per 100 ms */
  ck_assert_uint_eq(k8s_tbucket_take(&tb, 1050), 50);
  ck_assert_uint_eq(k8s_tbucket_take(&tb, 1100), 0);
  /* long idle refills only up to burst */
  for (i = 0; i < 5; i++)
    ck_assert_uint_eq(k8s_tbucket_take(&tb, 100000), 0);
  ck_assert_uint_gt(k8s_tbucket_take(&tb, 100000), 0);
  /* event spam filter shape: burst 25 then one per 300 s */
  k8s_tbucket_init(&tb, 1.0 / 300, 25, 0);
  for (i = 0; i < 25; i++)
    ck_assert_uint_eq(k8s_tbucket_take(&tb, 0), 0);
  ck_assert_uint_eq(k8s_tbucket_take(&tb, 0), 300000);
  ck_assert_uint_eq(k8s_tbucket_take(&tb, 300000), 0);
}
END_TEST

START_TEST(microtime_format)
{
  char out[32];

  k8s_microtime(784111777123, out);
  ck_assert_str_eq(out, "1994-11-06T08:49:37.123000Z");
}
END_TEST

/* ---- watch framing
 * ----------------------------------------------------------- */

struct rec {
  struct buf log; /* "TYPE:name;" per event */
  int stop_after; /* return non-zero after this many events (0 = never) */
  int n;
};

static int rec_cb(enum k8s_event_type t, json_t *obj, void *arg)
{
  struct rec *r = arg;
  const char *name = k8s_obj_name(obj);

  if (t == K8S_EV_BOOKMARK || t == K8S_EV_ERROR)
    name = t == K8S_EV_BOOKMARK
               ? k8s_obj_rv(obj)
               : json_string_value(json_object_get(obj, "reason"));
  buf_printf(&r->log, "%s:%s;", k8s_event_type_name(t), name ? name : "-");
  r->n++;
  return r->stop_after && r->n >= r->stop_after ? 42 : 0;
}

static const char stream[] =
    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\","
    "\"resourceVersion\":\"1\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\r\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":"
    "\"77\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"\xc3\xa9\"}}}"
    "\r\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
    "\"reason\":\"Expired\"}}\n";
static const char expect_log[] =
    "ADDED:a;MODIFIED:b;BOOKMARK:77;DELETED:\xc3\xa9;ERROR:Expired;";

static void run_split(const size_t *cuts, size_t ncuts, size_t max)
{
  struct k8s_watch_decoder d;
  struct rec r = { 0 };
  size_t i, at = 0, len = sizeof(stream) - 1, end;

  buf_init(&r.log, 4096);
  k8s_watch_decoder_init(&d, max, rec_cb, &r);
  for (i = 0; i <= ncuts; i++) {
    end = i < ncuts ? cuts[i] : len;
    ck_assert_int_eq(k8s_watch_decoder_feed(&d, stream + at, end - at), 0);
    at = end;
  }
  ck_assert_int_eq(k8s_watch_decoder_finish(&d), 0);
  ck_assert_str_eq(buf_str(&r.log), expect_log);
  k8s_watch_decoder_cleanup(&d);
  buf_cleanup(&r.log);
}

START_TEST(watch_byte_by_byte)
{
  size_t cuts[sizeof(stream)], i;

  for (i = 0; i < sizeof(stream) - 2; i++)
    cuts[i] = i + 1;
  run_split(cuts, sizeof(stream) - 2, 0);
  run_split(cuts, 0, 0);                    /* one slice */
  run_split(cuts, sizeof(stream) - 2, 120); /* longest line is < 120 */
}
END_TEST

static int cmp_size(const void *a, const void *b)
{
  size_t x = *(const size_t *)a, y = *(const size_t *)b;

  return x < y ? -1 : x > y;
}

START_TEST(watch_random_splits)
{
  size_t cuts[16] = { 0 }, n, i;
  struct rng r;
  int round;

  rng_seed(&r, 0x6b387377);
  for (round = 0; round < 500; round++) {
    n = rng_below(&r, 16);
    for (i = 0; i < n; i++)
      cuts[i] = rng_below(&r, sizeof(stream) - 1);
    qsort(cuts, n, sizeof(cuts[0]), cmp_size);
    run_split(cuts, n, 0);
  }
}
END_TEST

static int feed_all(const char *s, size_t max, struct rec *r, size_t step)
{
  struct k8s_watch_decoder d;
  size_t i, len = strlen(s);
  int rc = 0;

  k8s_watch_decoder_init(&d, max, rec_cb, r);
  for (i = 0; i < len && !rc; i += step)
    rc = k8s_watch_decoder_feed(&d, s + i, UTIL_MIN(step, len - i));
  if (!rc)
    rc = k8s_watch_decoder_finish(&d);
  /* sticky */
  if (rc)
    ck_assert_int_eq(k8s_watch_decoder_feed(&d, "\n", 1), rc);
  k8s_watch_decoder_cleanup(&d);
  return rc;
}

START_TEST(watch_garbage_and_caps)
{
  const char *ev = "{\"type\":\"ADDED\",\"object\":{}}"; /* 28 bytes */
  struct rec r = { 0 };
  char line[128];
  size_t step;

  buf_init(&r.log, 4096);
  for (step = 1; step <= 64; step *= 4) {
    ck_assert_int_eq(feed_all("not json\n", 0, &r, step), OP_EPARSE);
    ck_assert_int_eq(
        feed_all("{\"type\":\"NOPE\",\"object\":{}}\n", 0, &r, step),
        OP_EPARSE);
    ck_assert_int_eq(
        feed_all("{\"type\":\"ADDED\",\"object\":3}\n", 0, &r, step),
        OP_EPARSE);
    ck_assert_int_eq(feed_all("[1]\n", 0, &r, step), OP_EPARSE);
    /* exactly at the cap passes, with or without CR; one over fails */
    str_fmt(line, sizeof(line), "%s\r\n%s\n", ev, ev);
    ck_assert_int_eq(feed_all(line, 28, &r, step), 0);
    ck_assert_int_eq(feed_all(line, 27, &r, step), OP_ETOOBIG);
    /* oversize with no newline at all stops before buffering more */
    ck_assert_int_eq(
        feed_all("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 30, &r, step),
        OP_ETOOBIG);
    /* truncated last line at EOF */
    ck_assert_int_eq(feed_all("{\"type\":\"ADD", 0, &r, step), OP_EPARSE);
  }
  /* the callback's stop value comes back and halts decoding */
  buf_reset(&r.log);
  r.n = 0;
  r.stop_after = 1;
  str_fmt(line, sizeof(line), "%s\n%s\n", ev, ev);
  ck_assert_int_eq(feed_all(line, 0, &r, 100), 42);
  ck_assert_int_eq(r.n, 1);
  buf_cleanup(&r.log);
}
END_TEST

START_TEST(event_type_names)
{
  enum k8s_event_type t;

  ck_assert_int_eq(k8s_event_type_parse("BOOKMARK", &t), 0);
  ck_assert_int_eq(t, K8S_EV_BOOKMARK);
  ck_assert_int_eq(k8s_event_type_parse("added", &t), OP_EPARSE);
  ck_assert_int_eq(k8s_event_type_parse(NULL, &t), OP_EPARSE);
  ck_assert_str_eq(k8s_event_type_name(K8S_EV_ERROR), "ERROR");
}
END_TEST

static Suite *k8s_suite(void)
{
  Suite *s = suite_create("k8s");
  TCase *cfg = tcase_create("config"), *rest = tcase_create("rest_pure"),
        *w = tcase_create("watch_framing");

  tcase_add_test(cfg, kubeconfig_current_context);
  tcase_add_test(cfg, kubeconfig_named_context);
  tcase_add_test(cfg, kubeconfig_errors);
  tcase_add_test(cfg, base64_strict);
  tcase_add_test(cfg, incluster_config);
  tcase_add_test(rest, path_building);
  tcase_add_test(rest, status_decoding);
  tcase_add_test(rest, retry_after_parsing);
  tcase_add_test(rest, token_bucket_maths);
  tcase_add_test(rest, microtime_format);
  tcase_add_test(w, watch_byte_by_byte);
  tcase_add_test(w, watch_random_splits);
  tcase_add_test(w, watch_garbage_and_caps);
  tcase_add_test(w, event_type_names);
  suite_add_tcase(s, cfg);
  suite_add_tcase(s, rest);
  suite_add_tcase(s, w);
  return s;
}

TEST_MAIN(k8s_suite)
