/* The manager: Kubernetes config, client, informers, recorder, leader
 * election and the controllers' lifecycle (see manager.h). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/informer.h"
#include "config/config.h"
#include "controllers/runtime/manager.h"
#include "controllers/runtime/ctrl.h"
#include "http/health.h"
#include "http/httpc.h"
#include "k8s/client.h"
#include "k8s/config.h"
#include "k8s/events.h"
#include "k8s/leader.h"
#include "log/log.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "util/str.h"
#include "util/util.h"

#define AAO_GROUP "aws.managed.openshift.io"
#define AAO_VERSION_V "v1alpha1"

static const struct mgr_watch watches[MGR_NKINDS] = {
  { MGR_ACCOUNTS,
    "accounts",
    { AAO_GROUP, AAO_VERSION_V, "accounts", true },
    true,
    NULL },
  { MGR_ACCOUNT_POOLS,
    "accountpools",
    { AAO_GROUP, AAO_VERSION_V, "accountpools", true },
    true,
    NULL },
  { MGR_ACCOUNT_CLAIMS,
    "accountclaims",
    { AAO_GROUP, AAO_VERSION_V, "accountclaims", true },
    false,
    NULL },
  { MGR_FEDERATED_ROLES,
    "awsfederatedroles",
    { AAO_GROUP, AAO_VERSION_V, "awsfederatedroles", true },
    false,
    NULL },
  { MGR_FEDERATED_ACCESSES,
    "awsfederatedaccountaccesses",
    { AAO_GROUP, AAO_VERSION_V, "awsfederatedaccountaccesses", true },
    false,
    NULL },
  { MGR_CONFIGMAP,
    "configmap",
    { "", "v1", "configmaps", true },
    true,
    MGR_CONFIGMAP_NAME },
  { MGR_SECRET,
    "secret",
    { "", "v1", "secrets", true },
    true,
    MGR_SECRET_NAME },
};

struct mgr_ctrl {
  struct ctrl *c;
  struct mgr_ctrl *next;
};

/* Owns every object it built; cfg, metrics and health are borrowed. */
struct mgr {
  struct loop *loop;
  const struct cfg *cfg;
  struct met_registry *metrics;
  struct met_family *leader_gauge;
  char *identity;
  struct k8s_config *kcfg;
  struct httpc *h;
  struct k8s_client *client;
  /* Events go through a client of their own, as controller-runtime's
   * recorder does: its rate limit is not the one reconciles wait on. */
  struct k8s_client *ev_client;
  unsigned clients_open;
  struct k8s_recorder *rec;
  struct inf *inf[MGR_NKINDS];
  struct k8s_leader *le;
  struct mgr_ctrl *ctrls;
  uv_timer_t release_timer;
  bool enabled, started, leading, stopping, client_closing;
  int pending; /* asynchronous closes outstanding in the current phase */
};

/* ---- pure helpers -------------------------------------------------------- */

const struct mgr_watch *mgr_watches(void)
{
  return watches;
}

int mgr_inf_opts(const struct mgr_watch *w, const char *ns, struct inf_opts *o,
                 char *fsel, size_t fsel_size)
{
  memset(o, 0, sizeof(*o));
  o->gvr = w->gvr;
  o->namespace = w->operator_ns ? ns : NULL;
  /* The fleet kinds hold almost all cached bytes: compact JSON text costs a
   * quarter of a decoded tree (docs/memory.md). */
  if (w->kind == MGR_ACCOUNTS || w->kind == MGR_ACCOUNT_CLAIMS)
    o->store_flags = STORE_COMPACT;
  /* The first list streams from the API server's watch cache (WatchList);
   * in pages if refused. */
  o->watch_list = true;
  if (fsel_size)
    fsel[0] = '\0';
  if (w->obj_name) {
    if (str_fmt(fsel, fsel_size, "metadata.name=%s", w->obj_name) < 0)
      return OP_ETOOBIG;
    o->field_selector = fsel;
  }
  return 0;
}

int mgr_identity(const char *pod_name, const char *host, long pid, char *out,
                 size_t outsize)
{
  int n;

  if (!str_empty(pod_name))
    n = str_fmt(out, outsize, "%s", pod_name);
  else
    n = str_fmt(out, outsize, "%s_%ld", str_empty(host) ? "unknown" : host,
                pid);
  return n < 0 ? OP_ETOOBIG : 0;
}

int mgr_user_agent(const char *version, const char *identity, char *out,
                   size_t outsize)
{
  int n = str_fmt(out, outsize, "aws-account-operator/%s (%s)",
                  str_empty(version) ? "dev" : version,
                  str_empty(identity) ? "unknown" : identity);

  return n < 0 ? OP_ETOOBIG : 0;
}

/* ---- accessors ----------------------------------------------------------- */

bool mgr_enabled(const struct mgr *m)
{
  return m && m->enabled;
}

bool mgr_is_leader(const struct mgr *m)
{
  return m && m->leading;
}

bool mgr_synced(const struct mgr *m)
{
  if (!mgr_enabled(m))
    return false;
  for (int k = 0; k < MGR_NKINDS; k++)
    if (!m->inf[k] || !inf_has_synced(m->inf[k]))
      return false;
  return true;
}

const char *mgr_identity_str(const struct mgr *m)
{
  return m ? m->identity : NULL;
}

struct inf *mgr_informer(struct mgr *m, enum mgr_kind k)
{
  return m && k < MGR_NKINDS ? m->inf[k] : NULL;
}

struct k8s_client *mgr_client(struct mgr *m)
{
  return m ? m->client : NULL;
}

struct k8s_recorder *mgr_recorder(struct mgr *m)
{
  return m ? m->rec : NULL;
}

struct httpc *mgr_httpc(struct mgr *m)
{
  return m ? m->h : NULL;
}

int mgr_add_controller(struct mgr *m, struct ctrl *c)
{
  struct mgr_ctrl *mc, **tail;

  if (!m || !c)
    return OP_EINVAL;
  if (m->started || m->stopping)
    return OP_ESTATE;
  mc = util_xcalloc(1, sizeof(*mc));
  mc->c = c;
  for (tail = &m->ctrls; *tail; tail = &(*tail)->next)
    ;
  *tail = mc;
  return 0;
}

struct ctrl *mgr_controller(struct mgr *m, const char *name)
{
  for (struct mgr_ctrl *mc = m ? m->ctrls : NULL; mc; mc = mc->next) {
    if (str_eq(ctrl_name(mc->c), name))
      return mc->c;
  }
  return NULL;
}

/* ---- health -------------------------------------------------------------- */

static int check_synced(void *arg, char *msg, size_t msgsize)
{
  struct mgr *m = arg;
  size_t used = 0;
  int rc = 0;

  for (int k = 0; k < MGR_NKINDS; k++) {
    if (m->inf[k] && inf_has_synced(m->inf[k]))
      continue;
    if (!rc)
      used = str_copy(msg, "waiting for: ", msgsize);
    if (used < msgsize)
      used += str_copy(msg + used, watches[k].name, msgsize - used);
    if (used < msgsize)
      used += str_copy(msg + used, " ", msgsize - used);
    rc = OP_EBUSY;
  }
  return rc;
}

static int check_leader(void *arg, char *msg, size_t msgsize)
{
  struct mgr *m = arg;

  str_fmt(msg, msgsize, "%s %s", m->identity,
          m->leading ? "leads" : "stands by");
  return 0;
}

static void set_leader_gauge(struct mgr *m, bool leading)
{
  if (m->leader_gauge)
    met_set(m->leader_gauge, MET_LV(MGR_LEASE_NAME), leading ? 1 : 0);
}

/* ---- leader election ------------------------------------------------------
 */

static void each_ctrl(struct mgr *m, void (*fn)(struct ctrl *c))
{
  for (struct mgr_ctrl *mc = m->ctrls; mc; mc = mc->next)
    if (mc->c) /* NULL once closed at shutdown */
      fn(mc->c);
}

/* Like client-go's leaderelection: a Normal Event on the Lease. */
static void record_leader_event(struct mgr *m)
{
  json_t *lease =
      json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion",
                "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name",
                MGR_LEASE_NAME, "namespace", m->cfg->namespace);

  if (lease && m->rec)
    k8s_event(m->rec, lease, K8S_EVENT_NORMAL, "LeaderElection",
              "%s became leader", m->identity);
  json_decref(lease);
}

static void on_started_leading(void *arg)
{
  struct mgr *m = arg;

  if (m->stopping)
    return;
  m->leading = true;
  set_leader_gauge(m, true);
  log_info("manager", "%s is the leader: controllers start reconciling",
           m->identity);
  record_leader_event(m);
  each_ctrl(m, ctrl_resume);
}

static void on_stopped_leading(void *arg)
{
  struct mgr *m = arg;

  m->leading = false;
  set_leader_gauge(m, false);
  each_ctrl(m, ctrl_pause);
  if (!m->stopping)
    log_warn("manager", "%s lost the lease: controllers paused, caches kept",
             m->identity);
}

static void on_new_leader(const char *identity, void *arg)
{
  struct mgr *m = arg;

  if (!str_eq(identity, m->identity))
    log_info("manager", "the leader is %s", identity);
}

static int start_leader(struct mgr *m)
{
  struct k8s_leader_opts lo = {
    .namespace = m->cfg->namespace,
    .name = MGR_LEASE_NAME,
    .identity = m->identity,
    .on_started_leading = on_started_leading,
    .on_stopped_leading = on_stopped_leading,
    .on_new_leader = on_new_leader,
    .arg = m,
  };
  int rc = k8s_leader_new(&m->loop->uv, m->client, &lo, &m->le);

  if (!rc)
    rc = k8s_leader_start(m->le);
  return rc;
}

/* ---- start -----------------------------------------------------------------
 */

/* Informers exist from mgr_new on, so controllers can watch them before
 * mgr_start; they list and watch from mgr_start. */
static int build_informers(struct mgr *m)
{
  char fsel[STORE_KEY_MAX + 32];
  struct inf_opts io;
  int rc;

  for (int k = 0; k < MGR_NKINDS; k++) {
    rc = mgr_inf_opts(&watches[k], m->cfg->namespace, &io, fsel, sizeof(fsel));
    if (rc)
      return rc;
    m->inf[k] = inf_new(&m->loop->uv, m->client, &io);
  }
  return 0;
}

static int start_informers(struct mgr *m)
{
  int rc;

  for (int k = 0; k < MGR_NKINDS; k++) {
    rc = inf_start(m->inf[k]);
    if (rc) {
      log_error("manager", "cannot start the %s informer: %s", watches[k].name,
                op_strerror(rc));
      return rc;
    }
  }
  return 0;
}

int mgr_start(struct mgr *m)
{
  int rc;

  if (!m || m->started)
    return OP_ESTATE;
  m->started = true;
  if (!m->enabled)
    return 0;
  rc = start_informers(m);
  for (struct mgr_ctrl *mc = m->ctrls; !rc && mc; mc = mc->next) {
    if (m->cfg->leader_elect)
      ctrl_pause(mc->c); /* before start: nothing may reconcile yet */
    rc = ctrl_start(mc->c);
  }
  if (!rc && m->cfg->leader_elect)
    rc = start_leader(m);
  else if (!rc)
    m->leading = true;
  set_leader_gauge(m, m->leading);
  if (!rc)
    log_info("manager", "started as %s against %s (leader election %s)",
             m->identity, m->kcfg->server, m->cfg->leader_elect ? "on" : "off");
  return rc;
}

/* ---- shutdown: controllers, then informers and lease, then the client ---- */

static void httpc_closed(void *arg)
{
  struct mgr *m = arg;

  m->h = NULL;
  log_info("manager", "Kubernetes client closed");
}

static void client_closed(void *arg)
{
  struct mgr *m = arg;

  if (m->clients_open > 0 && --m->clients_open > 0)
    return;
  m->client = NULL;
  m->ev_client = NULL;
  if (m->h)
    httpc_close(m->h, httpc_closed, m);
}

/* Also from the release timer: cancels a lease release still in flight. */
static void close_client(struct mgr *m)
{
  if (m->client_closing)
    return;
  m->client_closing = true;
  uv_timer_stop(&m->release_timer);
  uv_close((uv_handle_t *)&m->release_timer, NULL);
  m->clients_open = 2;
  if (m->ev_client)
    k8s_client_close(m->ev_client, client_closed, m);
  else
    client_closed(m);
  if (m->client)
    k8s_client_close(m->client, client_closed, m);
  else
    client_closed(m); /* mgr_new failed half-way */
}

static void on_release_timeout(uv_timer_t *t)
{
  struct mgr *m = t->data;

  log_warn("manager",
           "informers or lease release still busy after %d ms: "
           "cancelling",
           MGR_RELEASE_MS);
  close_client(m);
}

static void part_closed(void *arg)
{
  struct mgr *m = arg;

  if (--m->pending == 0)
    close_client(m);
}

static void close_sources(struct mgr *m)
{
  m->pending = 1; /* held until every close started */
  for (int k = 0; k < MGR_NKINDS; k++) {
    if (!m->inf[k])
      continue;
    m->pending++;
    inf_close(m->inf[k], part_closed, m);
    m->inf[k] = NULL;
  }
  if (m->le) {
    m->pending++;
    k8s_leader_close(m->le, part_closed, m); /* releases the lease */
    m->le = NULL;
  }
  k8s_recorder_free(m->rec);
  m->rec = NULL;
  uv_timer_start(&m->release_timer, on_release_timeout, MGR_RELEASE_MS, 0);
  part_closed(m);
}

static void ctrl_closed(void *arg)
{
  struct mgr *m = arg;

  if (--m->pending == 0)
    close_sources(m);
}

static void on_stop(void *arg)
{
  struct mgr *m = arg;

  m->stopping = true;
  if (!m->enabled)
    return;
  m->pending = 1;
  for (struct mgr_ctrl *mc = m->ctrls; mc; mc = mc->next) {
    m->pending++;
    ctrl_close(mc->c, ctrl_closed, m);
    mc->c = NULL;
  }
  ctrl_closed(m);
}

/* ---- construction ----------------------------------------------------------
 */

/* 0 with m->kcfg set, 1 when there is no configuration at all, or an
 * error with *e. */
static int load_kube_config(struct mgr *m, struct op_error *e)
{
  const char *path = m->cfg->kubeconfig;
  int rc;

  if (!str_empty(path)) {
    rc = k8s_config_load_kubeconfig(path, NULL, &m->kcfg, e);
  } else if (!str_empty(getenv("KUBERNETES_SERVICE_HOST"))) {
    rc = k8s_config_load_incluster(NULL, &m->kcfg, e);
  } else {
    return 1;
  }
  if (!rc && str_empty(m->kcfg->server))
    rc = op_error_set(e, OP_ECONFIG, "%s: no server", path ? path : "cluster");
  return rc;
}

static char *default_identity(void)
{
  char host[256], id[320];

  if (gethostname(host, sizeof(host)) != 0)
    host[0] = '\0';
  host[sizeof(host) - 1] = '\0';
  if (mgr_identity(getenv("POD_NAME"), host, (long)getpid(), id, sizeof(id)))
    return util_xstrdup("unknown");
  return util_xstrdup(id);
}

static void register_observability(struct mgr *m, struct health *hl)
{
  static const char *const lbl[] = { "name", NULL };

  if (m->metrics)
    m->leader_gauge = met_gauge(
        m->metrics, "leader_election_master_status",
        "1 when this replica holds the lease of the named election, else 0",
        lbl);
  set_leader_gauge(m, false);
  if (hl) {
    health_add_readiness(hl, "informers-synced", check_synced, m);
    health_add_readiness(hl, "leader", check_leader, m);
  }
}

static int build_clients(struct mgr *m, const struct mgr_opts *o)
{
  char ua[512];
  struct httpc_opts ho = { .user_agent = ua };
  struct k8s_client_opts co = {
    .qps = (double)m->cfg->kube_qps,
    .burst = (double)m->cfg->kube_burst,
    .user_agent = ua,
  };
  struct k8s_recorder_opts ro = { .reporting_instance = m->identity };
  int rc;

  if (mgr_user_agent(o->version, m->identity, ua, sizeof(ua)))
    str_copy(ua, "aws-account-operator", sizeof(ua));
  rc = httpc_new(&m->loop->uv, &ho, &m->h);
  if (!rc)
    rc = k8s_client_new(&m->loop->uv, m->h, m->kcfg, &co, &m->client);
  if (!rc)
    rc = k8s_client_new(&m->loop->uv, m->h, m->kcfg, &co, &m->ev_client);
  if (!rc)
    rc = k8s_recorder_new(&m->loop->uv, m->ev_client, &ro, &m->rec);
  if (!rc)
    rc = build_informers(m);
  return rc;
}

int mgr_new(struct loop *l, const struct mgr_opts *o, struct mgr **out,
            struct op_error *e)
{
  struct mgr *m;
  int rc;

  *out = NULL;
  if (!l || !o || !o->cfg || str_empty(o->cfg->namespace))
    return op_error_set(e, OP_EINVAL, "manager: no namespace");
  m = util_xcalloc(1, sizeof(*m));
  m->loop = l;
  m->cfg = o->cfg;
  m->metrics = o->metrics;
  m->identity = o->identity ? util_xstrdup(o->identity) : default_identity();
  rc = load_kube_config(m, e);
  if (rc < 0) {
    mgr_free(m);
    return rc;
  }
  *out = m;
  loop_on_stop(l, on_stop, m);
  if (rc == 1) {
    log_warn("manager", "no Kubernetes configuration (no --kubeconfig, no "
                        "$KUBECONFIG, KUBERNETES_SERVICE_HOST unset): "
                        "controllers disabled");
    return 0;
  }
  m->enabled = true;
  uv_timer_init(&l->uv, &m->release_timer);
  m->release_timer.data = m;
  register_observability(m, o->health);
  rc = build_clients(m, o);
  if (rc)
    op_error_set(e, rc, "cannot create the Kubernetes client: %s",
                 op_strerror(rc));
  return rc;
}

void mgr_free(struct mgr *m)
{
  struct mgr_ctrl *mc, *next;

  if (!m)
    return;
  for (mc = m->ctrls; mc; mc = next) {
    next = mc->next;
    free(mc);
  }
  k8s_config_free(m->kcfg);
  free(m->identity);
  free(m);
}
