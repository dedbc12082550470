"""The Grafana dashboard and the alert rules (deploy/monitoring) against a
live Prometheus scraping a live operator.

The operator runs against the genuine kube-apiserver and the AWS stand-in
(leader election on, as deployed); a pool of 2 fills and a claim is
served, so the histograms have samples. Debian's real Prometheus
(/usr/bin/prometheus) scrapes the operator every second under the job name
the ServiceMonitor produces and loads deploy/monitoring/rules.yml. A CCS
claim is served too, and the AWS stand-in throttles the first
CreateAccount: on a quiet operator the CCS, throttle, retry and AWS-error
panels may legitimately be empty (the operator prints a labelled family
only once it has a series), so this run makes every one of them have
data, and every panel is held to it. Then:

- every panel target of dashboard.json (template variables substituted)
  is valid PromQL for Prometheus, uses metric names the operator exposes
  and returns at least one series;
- every rule expression of rules.yml is valid PromQL, uses only metric
  names the operator exposes (`up` is Prometheus's own), the rules load
  and evaluate without error, and the alerts that a healthy operator must
  not raise (down, no leader, limit near) are inactive;
- the new gauge aws_account_operator_aws_account_limit reads the
  ConfigMap's account-limit (100).

No prometheus binary fails the module: the suite does not skip
(noskip.py)."""
import json
import os
import re
import urllib.parse

import pytest
import yaml

from conftest import REPO, Proc, free_port, http_get, wait_for
from operator_env import StandInEnv
from test_ccs import make_ccs_claim

PROMETHEUS = os.environ.get("AAO_PROMETHEUS", "/usr/bin/prometheus")
DASHBOARD = os.path.join(REPO, "deploy", "monitoring", "dashboard.json")
RULES = os.path.join(REPO, "deploy", "monitoring", "rules.yml")
JOB = "aws-account-operator-metrics"  # the ServiceMonitor's job (the Service)
# Grafana's variables, as Grafana would expand them for this run.
VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "5m",
             "${job}": JOB, "$job": JOB}
# Series Prometheus makes itself, not the operator.
PROMETHEUS_OWN = {"up"}
# Alerts a healthy operator must not raise (the job matcher, the leader
# gauge and the limit gauge are right).
QUIET = {"AWSAccountOperatorDown", "AWSAccountOperatorNoLeader",
         "AWSAccountOperatorAccountLimitNear"}
PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring",
                "group_left", "group_right", "offset", "bool", "inf", "nan"}


def metric_names(expr):
    """The metric names a PromQL expression selects: identifiers that are
    not functions, keywords, label names (in braces or grouping clauses)
    or durations."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    s = re.sub(r"(?<![\w:])\d+(\.\d+)?([eE][+-]?\d+)?[smhdwy]*", " ", s)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][\w:]*", s):
        if s[m.end():].lstrip().startswith("(") or m.group(0).lower() in PROMQL_WORDS:
            continue
        names.add(m.group(0))
    return names


def test_metric_names_extraction():
    """The extraction the checks below rely on."""
    e = ('sum by (state) (max by (claimed, reused, state) (a_crs{state=~"x|y"})) > 0 '
         'unless on () (sum(increase(b_count[30m])) > 0.5) or absent(up{job="j"}) '
         'or c offset 1h and histogram_quantile(0.9, sum by (le) (rate(d_bucket[1m])))')
    assert metric_names(e) == {"a_crs", "b_count", "up", "c", "d_bucket"}


def exposed_names(text):
    """Every sample name the operator's /metrics can serve: the families'
    TYPE lines (histograms with their _bucket/_sum/_count) and the samples."""
    names = set()
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            names.add(m.group(1))
            if m.group(2) in ("histogram", "summary"):
                names.update(m.group(1) + s for s in ("_bucket", "_sum", "_count"))
        elif line and not line.startswith("#"):
            names.add(re.match(r"[^{\s]+", line).group(0))
    return names


class TargetNotUp(str):
    """A falsy reason (wait_for keeps polling and prints the last one)."""

    def __bool__(self):
        return False


class Prometheus:
    """Debian's Prometheus on a free loopback port, scraping one target
    every second under JOB, with the rules file loaded."""

    def __init__(self, tmp, target, rules):
        if not os.access(PROMETHEUS, os.X_OK):
            pytest.fail("%s not found: install Debian's `prometheus` package "
                        "(this module needs the real Prometheus; the suite "
                        "does not skip)" % PROMETHEUS)
        cfg = tmp / "prometheus.yml"
        cfg.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [rules],
            "scrape_configs": [{"job_name": JOB, "scrape_interval": "1s",
                                "static_configs": [{"targets": [target]}]}]}))
        self.port = free_port()
        self.proc = Proc([PROMETHEUS, "--config.file", str(cfg),
                          "--storage.tsdb.path", str(tmp / "tsdb"),
                          "--web.listen-address", "127.0.0.1:%d" % self.port,
                          "--log.level", "warn"])

    def api(self, path, **params):
        url = "http://127.0.0.1:%d/api/v1/%s" % (self.port, path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        status, _, body = http_get(url, timeout=10)
        try:
            return json.loads(body)
        except ValueError:
            return {"status": "error", "error": "HTTP %d: %r" % (status, body[:200])}

    def query(self, expr):
        return self.api("query", query=expr)

    def target_up(self):
        """True once a scrape of the target succeeded; otherwise a falsy
        value wait_for reports, saying what Prometheus answered (it
        answers 503 until its storage is open, longer on a loaded
        machine)."""
        r = self.api("targets")
        if "data" not in r:
            return TargetNotUp("Prometheus answered %r" % r)
        health = [t.get("health") for t in r["data"]["activeTargets"]]
        return any(h == "up" for h in health) or TargetNotUp("targets' health %r" % health)

    def stop(self):
        self.proc.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """The operator (leader election on) with a pool of 2 (its first
    CreateAccount throttled), a Ready claim and a Ready CCS claim, scraped
    by Prometheus from before the pool exists."""
    e = StandInEnv(tmp_path_factory.mktemp("dashboard"))
    prom = None
    try:
        e.install()
        e.start_operator("--leader-elect")
        prom = Prometheus(tmp_path_factory.mktemp("prometheus"),
                          "127.0.0.1:%d" % e.op.metrics_port, RULES)
        wait_for(prom.target_up, timeout=120, interval=0.5, what="the operator's target up")
        e.aws.control("POST", "faults", {"kind": "throttle", "count": 1,
                                         "service": "organizations",
                                         "operation": "CreateAccount"})
        e.create_pool(2)
        e.make_claim("dash", "dash-creds", "le-dash")
        e.customer = e.aws.standalone()
        make_ccs_claim(e, "dash-ccs")
        for claim in ("dash", "dash-ccs"):
            wait_for(lambda: e.claim_state(claim) == "Ready", timeout=120,
                     interval=0.5, what="claim %s Ready" % claim)
        for scraped in ("aws_account_operator_account_claim_ready_duration_seconds_count",
                        "aws_account_operator_account_claim_ccs_ready_duration_seconds_count",
                        "aws_account_operator_api_throttles_total",
                        "aws_account_operator_api_retries_total"):
            wait_for(lambda: prom.query(scraped + " > 0")["data"]["result"],
                     timeout=30, interval=0.5, what=scraped + " > 0 scraped")
        e.prom = prom
        yield e
    finally:
        if prom:
            prom.stop()
        e.shutdown()


def dashboard_targets():
    """(panel title, legend, expr with variables substituted) of every
    panel, nested rows included."""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []

    def walk(panels):
        for p in panels:
            walk(p.get("panels", []))
            for t in p.get("targets", []):
                expr = t["expr"]
                for k, v in VARIABLES.items():
                    expr = expr.replace(k, v)
                assert "$" not in expr, "unsubstituted variable in %r" % expr
                out.append((p["title"], t.get("legendFormat", ""), expr))
    walk(dash["panels"])
    return out


def rule_exprs():
    with open(RULES) as f:
        rules = yaml.safe_load(f)
    return [(r.get("alert") or r.get("record"), r["expr"])
            for g in rules["groups"] for r in g["rules"]]


def test_dashboard_shape():
    with open(DASHBOARD) as f:
        dash = json.load(f)
    assert dash["schemaVersion"] >= 36
    names = {v["name"]: v for v in dash["templating"]["list"]}
    assert names["datasource"]["type"] == "datasource"
    assert names["datasource"]["query"] == "prometheus"
    titles = {p["title"] for p in dash["panels"]}
    for want in ("Pool fill", "Accounts by state", "Claim ready latency",
                 "AWS calls by endpoint and operation",
                 "AWS throttles by service and operation", "Memory",
                 "Reconciles by controller and result", "Work queue depth"):
        assert want in titles
    for p in dash["panels"]:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", p["title"]


def test_every_panel_query_valid_and_has_series(env):
    exposed = exposed_names(env.metrics())
    empty, bad = [], []
    for title, legend, expr in dashboard_targets():
        r = env.prom.query(expr)
        if r.get("status") != "success":
            bad.append("%s / %s: %s: %s" % (title, legend, expr, r.get("error")))
            continue
        missing = metric_names(expr) - exposed
        if missing:
            bad.append("%s / %s: metrics not exposed: %s" % (title, legend, missing))
        if not r["data"]["result"]:
            empty.append("%s / %s: %s" % (title, legend, expr))
    assert not bad, "\n".join(bad)
    assert not empty, "panel targets without series:\n" + "\n".join(empty)


def test_rules_valid_and_use_exposed_metrics(env):
    exposed = exposed_names(env.metrics())
    bad = []
    for name, expr in rule_exprs():
        r = env.prom.query(expr)
        if r.get("status") != "success":
            bad.append("%s: %s" % (name, r.get("error")))
        missing = metric_names(expr) - exposed - PROMETHEUS_OWN
        if missing:
            bad.append("%s: metrics not exposed by the operator: %s" % (name, missing))
    assert not bad, "\n".join(bad)
    # The one metric that is Prometheus's: the job the rule matches is the
    # one scraping the operator, and it is up.
    up = env.prom.query('up{job="%s"}' % JOB)["data"]["result"]
    assert [s["value"][1] for s in up] == ["1"]


def test_rules_load_evaluate_and_stay_quiet_on_a_healthy_operator(env):
    want = {n for n, _ in rule_exprs()}

    def evaluated():
        groups = env.prom.api("rules")["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        done = all(g["lastEvaluation"] > "2000" for g in groups)
        return done and {r["name"]: r for r in rules}
    rules = wait_for(evaluated, timeout=30, interval=0.5, what="rules evaluated")
    assert set(rules) == want
    errors = {n: r.get("lastError") for n, r in rules.items() if r["health"] != "ok"}
    assert not errors, errors
    raised = {n: r["state"] for n, r in rules.items()
              if n in QUIET and r["state"] != "inactive"}
    assert not raised, raised


def test_account_limit_gauge_reads_the_configmap(env):
    r = env.prom.query("aws_account_operator_aws_account_limit")["data"]["result"]
    assert [s["value"][1] for s in r] == ["100"]
    assert 'aws_account_operator_aws_account_limit{name="aws-account-operator"} 100' \
        in env.metrics()
