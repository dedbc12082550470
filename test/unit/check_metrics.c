/* pkg/metrics: registry semantics and the exact text exposition. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "testutil.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/str.h"

#define PROMTOOL "/usr/bin/promtool"

/* Render r into a fresh string (caller frees). */
static char *render(struct met_registry *r)
{
  struct buf b;

  buf_init(&b, 1 << 20);
  ck_assert_int_eq(met_render(r, &b), 0);
  return buf_take(&b, NULL);
}

static void assert_render(struct met_registry *r, const char *want)
{
  char *got = render(r);

  ck_assert_str_eq(got, want);
  free(got);
}

/* Lint text with promtool; the test fails (never skips) without it. */
static void promtool_check(const char *text)
{
  char path[] = "/tmp/check_metrics_XXXXXX", cmd[256], out[4096];
  size_t n = 0;
  FILE *f, *p;
  int fd, st;

  ck_assert_msg(access(PROMTOOL, X_OK) == 0,
                PROMTOOL " is missing: run hack/install-deps.sh");
  fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  f = fdopen(fd, "w");
  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
  ck_assert_int_eq(
      str_fmt(cmd, sizeof(cmd), PROMTOOL " check metrics < %s 2>&1", path), 0);
  p = popen(cmd, "r");
  ck_assert_ptr_nonnull(p);
  n = fread(out, 1, sizeof(out) - 1, p);
  out[n] = '\0';
  st = pclose(p);
  unlink(path);
  ck_assert_msg(st == 0, "promtool check metrics failed (status %d): %s\n%s",
                st, out, text);
}

START_TEST(counter_gauge_text)
{
  static const char *const lbl[] = { "controller", "result", NULL };
  struct met_registry *r = met_registry_new();
  struct met_family *c, *g;

  c = met_counter(r, "controller_runtime_reconcile_total",
                  "Total number of reconciliations per controller", lbl);
  g = met_gauge(r, "aws_account_operator_account_pool_size", "Pool size",
                MET_LV("namespace", "pool_name"));
  met_counter(r, "aws_account_operator_accounts_closed_total",
              "Accounts closed", NULL);
  met_family_const_label(g, "name", "aws-account-operator");
  met_inc(c, MET_LV("account", "success"));
  met_inc(c, MET_LV("account", "success"));
  met_add(c, MET_LV("account", "error"), 0.5);
  met_inc(c, MET_LV("accountclaim", "error"));
  met_add(c, MET_LV("accountclaim", "error"), -3); /* ignored: counter */
  met_set(g, MET_LV("aws-account-operator", "hive"), 50);
  met_set(g, MET_LV("aws-account-operator", "alpha"), -1.25);
  assert_render(
      r, "# HELP controller_runtime_reconcile_total Total number of "
         "reconciliations per controller\n"
         "# TYPE controller_runtime_reconcile_total counter\n"
         "controller_runtime_reconcile_total{controller=\"account\","
         "result=\"error\"} 0.5\n"
         "controller_runtime_reconcile_total{controller=\"account\","
         "result=\"success\"} 2\n"
         "controller_runtime_reconcile_total{controller=\"accountclaim\","
         "result=\"error\"} 1\n"
         "# HELP aws_account_operator_account_pool_size Pool size\n"
         "# TYPE aws_account_operator_account_pool_size gauge\n"
         "aws_account_operator_account_pool_size{name=\"aws-account-"
         "operator\",namespace=\"aws-account-operator\",pool_name=\"alpha\"}"
         " -1.25\n"
         "aws_account_operator_account_pool_size{name=\"aws-account-"
         "operator\",namespace=\"aws-account-operator\",pool_name=\"hive\"}"
         " 50\n"
         "# HELP aws_account_operator_accounts_closed_total Accounts "
         "closed\n"
         "# TYPE aws_account_operator_accounts_closed_total counter\n"
         "aws_account_operator_accounts_closed_total 0\n");
  ck_assert(met_value(c, MET_LV("account", "success")) == 2);
  ck_assert(met_value(c, MET_LV("nope", "x")) == 0);
  met_registry_free(r);
}
END_TEST

/* A counted gauge drops a series at zero, as a recount would not make it. */
START_TEST(counted_gauge)
{
  static const char *const lbl[] = { "state", NULL };
  struct met_registry *r = met_registry_new();
  struct met_family *g = met_gauge(r, "crs", "CRs by state", lbl);

  met_count(g, MET_LV("Ready"), 1);
  met_count(g, MET_LV("Ready"), 1);
  met_count(g, MET_LV("Failed"), 1);
  met_count(g, MET_LV("Failed"), -1);
  met_count(g, MET_LV("Ready"), -1);
  assert_render(r, "# HELP crs CRs by state\n"
                   "# TYPE crs gauge\n"
                   "crs{state=\"Ready\"} 1\n");
  met_registry_free(r);
}
END_TEST

START_TEST(histogram_text)
{
  static const double b[] = { 0.005, 0.1, 1, 60 };
  struct met_registry *r = met_registry_new();
  struct met_family *h, *u;

  h = met_histogram(r, "aws_account_operator_reconcile_duration_seconds",
                    "Reconcile time", b, 4,
                    MET_LV("controller", "error", "error_source"));
  met_family_const_label(h, "name", "aws-account-operator");
  u = met_histogram(r, "plain_seconds", "No labels", b, 2, NULL);
  met_observe(h, MET_LV("account", "{OTHER}", "{OTHER}"), 0.005);
  met_observe(h, MET_LV("account", "{OTHER}", "{OTHER}"), 0.5);
  met_observe(h, MET_LV("account", "{OTHER}", "{OTHER}"), 100);
  met_observe(u, NULL, 0.25);
  ck_assert(met_value(h, MET_LV("account", "{OTHER}", "{OTHER}")) == 3);
  assert_render(
      r, "# HELP aws_account_operator_reconcile_duration_seconds Reconcile "
         "time\n"
         "# TYPE aws_account_operator_reconcile_duration_seconds histogram\n"
         "aws_account_operator_reconcile_duration_seconds_bucket{name=\"aws-"
         "account-operator\",controller=\"account\",error=\"{OTHER}\","
         "error_source=\"{OTHER}\",le=\"0.005\"} 1\n"
         "aws_account_operator_reconcile_duration_seconds_bucket{name=\"aws-"
         "account-operator\",controller=\"account\",error=\"{OTHER}\","
         "error_source=\"{OTHER}\",le=\"0.1\"} 1\n"
         "aws_account_operator_reconcile_duration_seconds_bucket{name=\"aws-"
         "account-operator\",controller=\"account\",error=\"{OTHER}\","
         "error_source=\"{OTHER}\",le=\"1\"} 2\n"
         "aws_account_operator_reconcile_duration_seconds_bucket{name=\"aws-"
         "account-operator\",controller=\"account\",error=\"{OTHER}\","
         "error_source=\"{OTHER}\",le=\"60\"} 2\n"
         "aws_account_operator_reconcile_duration_seconds_bucket{name=\"aws-"
         "account-operator\",controller=\"account\",error=\"{OTHER}\","
         "error_source=\"{OTHER}\",le=\"+Inf\"} 3\n"
         "aws_account_operator_reconcile_duration_seconds_sum{name=\"aws-"
         "account-operator\",controller=\"account\",error=\"{OTHER}\","
         "error_source=\"{OTHER}\"} 100.505\n"
         "aws_account_operator_reconcile_duration_seconds_count{name=\"aws-"
         "account-operator\",controller=\"account\",error=\"{OTHER}\","
         "error_source=\"{OTHER}\"} 3\n"
         "# HELP plain_seconds No labels\n"
         "# TYPE plain_seconds histogram\n"
         "plain_seconds_bucket{le=\"0.005\"} 0\n"
         "plain_seconds_bucket{le=\"0.1\"} 0\n"
         "plain_seconds_bucket{le=\"+Inf\"} 1\n"
         "plain_seconds_sum 0.25\n"
         "plain_seconds_count 1\n");
  met_registry_free(r);
}
END_TEST

START_TEST(escaping_and_floats)
{
  struct met_registry *r = met_registry_new();
  struct met_family *g;

  g = met_gauge(r, "esc_value", "Back\\slash and\nnewline \"quoted\"",
                MET_LV("v"));
  met_set(g, MET_LV("a\\b"), INFINITY);
  met_set(g, MET_LV("q\"uote"), -INFINITY);
  met_set(g, MET_LV("x\ny"), NAN);
  met_set(g, MET_LV("big"), 1e20);
  met_set(g, MET_LV("int"), 123456789);
  met_set(g, MET_LV("tenth"), 0.1);
  met_set(g, MET_LV("third"), 1.0 / 3);
  assert_render(r, "# HELP esc_value Back\\\\slash and\\nnewline "
                   "\"quoted\"\n"
                   "# TYPE esc_value gauge\n"
                   "esc_value{v=\"a\\\\b\"} +Inf\n"
                   "esc_value{v=\"big\"} 1e+20\n"
                   "esc_value{v=\"int\"} 123456789\n"
                   "esc_value{v=\"q\\\"uote\"} -Inf\n"
                   "esc_value{v=\"tenth\"} 0.1\n"
                   "esc_value{v=\"third\"} 0.3333333333333333\n"
                   "esc_value{v=\"x\\ny\"} NaN\n");
  met_registry_free(r);
}
END_TEST

static int ncollect;

static void collect_pools(struct met_registry *r, void *arg)
{
  struct met_family *g = arg;

  (void)r;
  ncollect++;
  met_family_reset(g); /* scrape-time gauges start from nothing */
  met_set(g, MET_LV("p", ncollect == 1 ? "first" : "second"), ncollect);
}

START_TEST(reset_remove_collectors)
{
  struct met_registry *r = met_registry_new();
  struct met_family *g, *c;

  g = met_gauge(r, "pool_accounts", "Accounts", MET_LV("ns", "pool"));
  c = met_counter(r, "things_total", "Things", NULL);
  met_add_collector(r, collect_pools, g);
  met_add(c, NULL, 5);
  ncollect = 0;
  assert_render(r, "# HELP pool_accounts Accounts\n"
                   "# TYPE pool_accounts gauge\n"
                   "pool_accounts{ns=\"p\",pool=\"first\"} 1\n"
                   "# HELP things_total Things\n"
                   "# TYPE things_total counter\n"
                   "things_total 5\n");
  assert_render(r, "# HELP pool_accounts Accounts\n"
                   "# TYPE pool_accounts gauge\n"
                   "pool_accounts{ns=\"p\",pool=\"second\"} 2\n"
                   "# HELP things_total Things\n"
                   "# TYPE things_total counter\n"
                   "things_total 5\n");
  ck_assert_int_eq(ncollect, 2);
  /* Unlabelled families keep their one series at 0 after a reset. */
  met_family_reset(c);
  ck_assert(met_value(c, NULL) == 0);
  met_series_remove(g, MET_LV("p", "second"));
  met_series_remove(g, MET_LV("p", "absent"));
  ck_assert(met_value(g, MET_LV("p", "second")) == 0);
  met_registry_free(r);
}
END_TEST

START_TEST(bucket_helpers)
{
  double e[4], l[3];

  met_buckets_exponential(1, 2, 4, e);
  ck_assert(e[0] == 1 && e[1] == 2 && e[2] == 4 && e[3] == 8);
  met_buckets_linear(5, 5, 3, l);
  ck_assert(l[0] == 5 && l[1] == 10 && l[2] == 15);
}
END_TEST

/* The value of a "name value" line of an unlabelled metric. */
static double sample(const char *text, const char *name)
{
  char pat[128];
  const char *p;

  str_fmt(pat, sizeof(pat), "\n%s ", name);
  p = strstr(text, pat);
  ck_assert_msg(p != NULL, "%s missing", name);
  return strtod(p + strlen(pat), NULL);
}

START_TEST(process_metrics)
{
  struct met_registry *r = met_registry_new();
  double now = (double)time(NULL), start;
  char *text;

  met_register_process(r);
  text = render(r);
  ck_assert_ptr_nonnull(strstr(text, "# TYPE process_cpu_seconds_total "
                                     "counter\n"));
  ck_assert(sample(text, "process_resident_memory_bytes") > 0);
  ck_assert(sample(text, "process_virtual_memory_bytes") >=
            sample(text, "process_resident_memory_bytes"));
  ck_assert(sample(text, "process_cpu_seconds_total") >= 0);
  ck_assert(sample(text, "process_open_fds") >= 3);
  ck_assert(sample(text, "process_max_fds") >=
            sample(text, "process_open_fds"));
  start = sample(text, "process_start_time_seconds");
  /* Started within the last hour and not in the future (clock ticks and
   * btime rounding allow a couple of seconds either way). */
  ck_assert_msg(start > now - 3600 && start < now + 5, "start %f now %f", start,
                now);
  promtool_check(text);
  free(text);
  met_registry_free(r);
}
END_TEST

START_TEST(promtool_accepts_all)
{
  static const double b[] = { 1, 5, 30 };
  struct met_registry *r = met_registry_new();
  struct met_family *h, *g, *c;
  char *text;

  h = met_histogram(r,
                    "aws_account_operator_account_reuse_cleanup_"
                    "duration_seconds",
                    "Reuse cleanup time", b, 3, NULL);
  met_family_const_label(h, "name", "aws-account-operator");
  g = met_gauge(r, "aws_account_operator_account_crs", "Account CRs",
                MET_LV("claimed", "reused", "state"));
  met_family_const_label(g, "name", "aws-account-operator");
  c = met_counter(r, "odd_labels_total", "Odd \\ help\nline", MET_LV("v"));
  met_observe(h, NULL, 3);
  met_set(g, MET_LV("true", "false", "Ready"), 3);
  met_set(g, MET_LV("false", "false", ""), 1);
  met_inc(c, MET_LV("a\"b\\c\nd"));
  met_register_process(r);
  text = render(r);
  promtool_check(text);
  free(text);
  met_registry_free(r);
}
END_TEST

START_TEST(render_size_cap)
{
  struct met_registry *r = met_registry_new();
  struct buf b;

  met_counter(r, "some_total", "A counter with a long enough help", NULL);
  buf_init(&b, 16);
  ck_assert_int_eq(met_render(r, &b), OP_ETOOBIG);
  buf_cleanup(&b);
  met_registry_free(r);
}
END_TEST

static Suite *metrics_suite(void)
{
  Suite *s = suite_create("metrics");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, counter_gauge_text);
  tcase_add_test(tc, counted_gauge);
  tcase_add_test(tc, histogram_text);
  tcase_add_test(tc, escaping_and_floats);
  tcase_add_test(tc, reset_remove_collectors);
  tcase_add_test(tc, bucket_helpers);
  tcase_add_test(tc, process_metrics);
  tcase_add_test(tc, promtool_accepts_all);
  tcase_add_test(tc, render_size_cap);
  suite_add_tcase(s, tc);
  return s;
}

TEST_MAIN(metrics_suite)
