/* pkg/controllers/manager: what it watches (kinds, namespaces, selectors),
 * identity and User-Agent, start-up errors, the disabled mode, and the
 * controllers' lifecycle under leader election against support/testsrv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/informer.h"
#include "config/config.h"
#include "controllers/runtime/manager.h"
#include "controllers/runtime/ctrl.h"
#include "http/health.h"
#include "k8s/events.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "support/testsrv.h"
#include "testutil.h"
#include "util/buf.h"
#include "util/str.h"

#define WAIT_MS 10000
#define AAO "/apis/aws.managed.openshift.io/v1alpha1"

/* ---- pure parts ------------------------------------------------------- */

START_TEST(watch_table)
{
  const struct mgr_watch *w = mgr_watches();
  static const char *const plural[MGR_NKINDS] = { "accounts",
                                                  "accountpools",
                                                  "accountclaims",
                                                  "awsfederatedroles",
                                                  "awsfederatedaccountaccesses",
                                                  "configmaps",
                                                  "secrets" };
  static const bool own_ns[MGR_NKINDS] = { true,  true, false, false,
                                           false, true, true };

  for (int k = 0; k < MGR_NKINDS; k++) {
    ck_assert_int_eq(w[k].kind, k);
    ck_assert_str_eq(w[k].gvr.resource, plural[k]);
    ck_assert_int_eq(w[k].operator_ns, own_ns[k]);
    ck_assert(w[k].gvr.namespaced);
    if (k < MGR_CONFIGMAP) {
      ck_assert_str_eq(w[k].gvr.group, "aws.managed.openshift.io");
      ck_assert_str_eq(w[k].gvr.version, "v1alpha1");
      ck_assert_ptr_null(w[k].obj_name);
    } else {
      ck_assert_str_eq(w[k].gvr.group, "");
      ck_assert_str_eq(w[k].gvr.version, "v1");
    }
  }
  ck_assert_str_eq(w[MGR_CONFIGMAP].obj_name, "aws-account-operator-configmap");
  ck_assert_str_eq(w[MGR_SECRET].obj_name, "aws-account-operator-credentials");
}
END_TEST

START_TEST(inf_opts_namespaces_and_selectors)
{
  const struct mgr_watch *w = mgr_watches();
  struct inf_opts o;
  char fsel[128], tiny[8];

  ck_assert_int_eq(
      mgr_inf_opts(&w[MGR_ACCOUNTS], "aao", &o, fsel, sizeof(fsel)), 0);
  ck_assert_str_eq(o.namespace, "aao");
  ck_assert_ptr_null(o.field_selector);
  ck_assert_ptr_null(o.label_selector);
  ck_assert_str_eq(o.gvr.resource, "accounts");

  ck_assert_int_eq(
      mgr_inf_opts(&w[MGR_ACCOUNT_CLAIMS], "aao", &o, fsel, sizeof(fsel)), 0);
  ck_assert_ptr_null(o.namespace); /* all namespaces */
  ck_assert_int_eq(
      mgr_inf_opts(&w[MGR_FEDERATED_ROLES], "aao", &o, fsel, sizeof(fsel)), 0);
  ck_assert_ptr_null(o.namespace);

  ck_assert_int_eq(mgr_inf_opts(&w[MGR_SECRET], "aao", &o, fsel, sizeof(fsel)),
                   0);
  ck_assert_str_eq(o.namespace, "aao");
  ck_assert_str_eq(o.field_selector,
                   "metadata.name=aws-account-operator-credentials");
  ck_assert_int_eq(mgr_inf_opts(&w[MGR_CONFIGMAP], "x", &o, tiny, sizeof(tiny)),
                   OP_ETOOBIG);
}
END_TEST

START_TEST(identity_and_user_agent)
{
  char id[64], ua[128];

  ck_assert_int_eq(mgr_identity("pod-7", "host", 12, id, sizeof(id)), 0);
  ck_assert_str_eq(id, "pod-7");
  ck_assert_int_eq(mgr_identity("", "host", 12, id, sizeof(id)), 0);
  ck_assert_str_eq(id, "host_12");
  ck_assert_int_eq(mgr_identity(NULL, NULL, 3, id, sizeof(id)), 0);
  ck_assert_str_eq(id, "unknown_3");
  ck_assert_int_eq(mgr_identity("a-very-long-pod-name", NULL, 3, id, 8),
                   OP_ETOOBIG);
  ck_assert_int_eq(mgr_user_agent("1.2.3", "pod-7", ua, sizeof(ua)), 0);
  ck_assert_str_eq(ua, "aws-account-operator/1.2.3 (pod-7)");
  ck_assert_int_eq(mgr_user_agent(NULL, NULL, ua, sizeof(ua)), 0);
  ck_assert_str_eq(ua, "aws-account-operator/dev (unknown)");
}
END_TEST

/* ---- construction ------------------------------------------------------- */

static void base_cfg(struct cfg *c, char *kubeconfig)
{
  memset(c, 0, sizeof(*c));
  c->kubeconfig = kubeconfig;
  c->namespace = "aao";
  c->kube_qps = 50;
  c->kube_burst = 100;
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");

  ck_assert_ptr_nonnull(f);
  fputs(text, f);
  fclose(f);
}

START_TEST(malformed_kubeconfig_is_an_error)
{
  char path[] = "/tmp/mgr-kc-XXXXXX";
  int fd = mkstemp(path);
  struct op_error e = { 0 };
  struct mgr_opts o = { 0 };
  struct loop l;
  struct mgr *m = (struct mgr *)1;
  struct cfg c;

  ck_assert_int_ge(fd, 0);
  close(fd);
  write_file(path, "apiVersion: v1\nclusters: [\n");
  base_cfg(&c, path);
  o.cfg = &c;
  ck_assert_int_eq(loop_init(&l, 0), 0);
  ck_assert_int_eq(mgr_new(&l, &o, &m, &e), OP_ECONFIG);
  ck_assert_ptr_null(m);
  ck_assert_int_ne(e.msg[0], '\0');
  loop_request_stop(&l, "test");
  ck_assert_int_eq(loop_run(&l), 0);
  ck_assert_int_eq(loop_cleanup(&l), 0);
  unlink(path);
}
END_TEST

START_TEST(no_configuration_disables)
{
  struct op_error e = { 0 };
  struct mgr_opts o = { 0 };
  struct health *hl = health_new();
  struct loop l;
  struct mgr *m;
  struct cfg c;

  unsetenv("KUBERNETES_SERVICE_HOST");
  base_cfg(&c, NULL);
  o.cfg = &c;
  o.health = hl;
  ck_assert_int_eq(loop_init(&l, 0), 0);
  ck_assert_int_eq(mgr_new(&l, &o, &m, &e), 0);
  ck_assert(!mgr_enabled(m));
  ck_assert_ptr_null(mgr_client(m));
  ck_assert_ptr_null(mgr_informer(m, MGR_ACCOUNTS));
  ck_assert_int_eq(mgr_start(m), 0);
  loop_request_stop(&l, "test");
  ck_assert_int_eq(loop_run(&l), 0);
  mgr_free(m);
  health_free(hl);
  ck_assert_int_eq(loop_cleanup(&l), 0);
}
END_TEST

/* ---- lifecycle against testsrv ------------------------------------------ */

static const char list_body[] =
    "{\"kind\":\"List\",\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[]}";

static void route_lists(struct testsrv *s)
{
  static const char *const paths[] = {
    AAO "/namespaces/aao/accounts",
    AAO "/namespaces/aao/accountpools",
    AAO "/accountclaims",
    AAO "/awsfederatedroles",
    AAO "/awsfederatedaccountaccesses",
    "/api/v1/namespaces/aao/configmaps",
    "/api/v1/namespaces/aao/secrets",
  };

  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
    testsrv_route_fixed(s, paths[i], 200, "Content-Type: application/json\r\n",
                        list_body, sizeof(list_body) - 1);
  /* no lease yet (unrouted GET: 404); the collection echoes the create */
  testsrv_route_echo(s, "/apis/coordination.k8s.io/v1/namespaces/aao/leases");
  testsrv_route_echo(s, "/api/v1/namespaces/aao/events");
}

static int never_called(struct ctrl_ctx *ctx, const char *key,
                        struct ctrl_result *out)
{
  (void)ctx;
  (void)key;
  (void)out;
  return 0;
}

static void close_srv(void *arg)
{
  testsrv_close(arg, NULL, NULL);
}

typedef bool (*pred_fn)(const struct mgr *m);

static bool run_until(struct loop *l, struct mgr *m, pred_fn p)
{
  uint64_t end = uv_now(&l->uv) + WAIT_MS;

  while (!p(m)) {
    if (uv_now(&l->uv) > end)
      return false;
    uv_run(&l->uv, UV_RUN_ONCE);
  }
  return true;
}

static bool leads(const struct mgr *m)
{
  struct k8s_recorder_stats st;

  k8s_recorder_stats(mgr_recorder((struct mgr *)m), &st);
  return mgr_is_leader(m) && st.created == 1;
}

START_TEST(controllers_run_only_while_leading)
{
  char dir[] = "/tmp/mgr-kc-XXXXXX", path[64], url[128], kc[512];
  struct ctrl_opts co = { .name = "test", .reconcile = never_called };
  struct met_registry *reg = met_registry_new();
  struct health *hl = health_new();
  struct op_error e = { 0 };
  struct mgr_opts o = { 0 };
  struct testsrv *s;
  struct ctrl *ctl;
  struct loop l;
  struct mgr *m;
  struct cfg c;
  struct buf b;

  ck_assert_ptr_nonnull(mkdtemp(dir));
  ck_assert_int_eq(loop_init(&l, 10), 0);
  ck_assert_int_eq(testsrv_new(&l.uv, &s), 0);
  loop_on_stop(&l, close_srv, s); /* runs after the manager's hook */
  route_lists(s);
  testsrv_url(s, "", url, sizeof(url));
  str_fmt(kc, sizeof(kc),
          "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
          "clusters: [{name: c, cluster: {server: \"%s\"}}]\n"
          "users: [{name: u, user: {token: t0k}}]\n"
          "contexts: [{name: c, context: {cluster: c, user: u}}]\n",
          url);
  str_fmt(path, sizeof(path), "%s/kubeconfig", dir);
  write_file(path, kc);
  base_cfg(&c, path);
  c.leader_elect = true;
  o = (struct mgr_opts){ &c, reg, hl, "t", "pod-x" };
  ck_assert_int_eq(mgr_new(&l, &o, &m, &e), 0);
  ck_assert(mgr_enabled(m));
  ck_assert_str_eq(mgr_identity_str(m), "pod-x");
  ctl = ctrl_new(&l.uv, &co);
  ck_assert_int_eq(ctrl_watch(ctl, mgr_informer(m, MGR_CONFIGMAP)), 0);
  ck_assert_int_eq(mgr_add_controller(m, ctl), 0);
  ck_assert_ptr_eq(mgr_controller(m, ctrl_name(ctl)), ctl);
  ck_assert_ptr_null(mgr_controller(m, "no-such-controller"));
  ck_assert_int_eq(mgr_start(m), 0);
  ck_assert_int_eq(mgr_add_controller(m, ctl), OP_ESTATE);
  ck_assert(ctrl_paused(ctl)); /* not leading yet */
  ck_assert(!mgr_synced(m));
  ck_assert(run_until(&l, m, mgr_synced));
  ck_assert(run_until(&l, m, leads)); /* leading, and the Event was sent */
  ck_assert(!ctrl_paused(ctl));
  ck_assert_str_eq(testsrv_req_header(testsrv_last(s), "User-Agent"),
                   "aws-account-operator/t (pod-x)");
  buf_init(&b, 1 << 20);
  ck_assert_int_eq(met_render(reg, &b), 0);
  ck_assert_ptr_nonnull(strstr(buf_str(&b),
                               "leader_election_master_status{"
                               "name=\"aws-account-operator-lock\"} 1"));
  buf_cleanup(&b);
  loop_request_stop(&l, "test");
  ck_assert_int_eq(loop_run(&l), 0); /* everything closed in the deadline */
  ck_assert_ptr_null(mgr_client(m));
  mgr_free(m);
  health_free(hl);
  met_registry_free(reg);
  ck_assert_int_eq(loop_cleanup(&l), 0);
  unlink(path);
  rmdir(dir);
}
END_TEST

static Suite *manager_suite(void)
{
  Suite *s = suite_create("manager");
  TCase *p = tcase_create("pure"), *lc = tcase_create("lifecycle");

  tcase_add_test(p, watch_table);
  tcase_add_test(p, inf_opts_namespaces_and_selectors);
  tcase_add_test(p, identity_and_user_agent);
  tcase_add_test(lc, malformed_kubeconfig_is_an_error);
  tcase_add_test(lc, no_configuration_disables);
  tcase_add_test(lc, controllers_run_only_while_leading);
  tcase_set_timeout(lc, 30);
  suite_add_tcase(s, p);
  suite_add_tcase(s, lc);
  return s;
}

TEST_MAIN(manager_suite)
