#!/usr/bin/python3
"""Start to synced and idle with a steady fleet, against the Kubernetes
stand-in (test/fakes/kube):

    /usr/bin/python3 test/bench/start_to_idle.py [N=10000]     (after: make all)

The stand-in runs in this process, filled directly (no HTTP) with N Ready,
claimed Accounts, N bound AccountClaims (Ready, linked both ways, placed
in an OU), N claim Secrets, the operator ConfigMap and credentials Secret.
AWS points at a closed local port: nothing in a steady fleet needs it
(AccountValidation's periodic AWS reads are pushed out with a 24 h
--validation-interval).
Then bin/aws-account-operator starts and we time:
  ready  - /readyz answers 200 (every informer listed);
  idle   - every workqueue is empty and no reconcile is running
           (workqueue_depth and controller_runtime_active_workers all 0,
           twice in a row 100 ms apart), polled from /metrics.
Prints one JSON line with both times, the reconciles done, the daemon's
CPU seconds, and the Kubernetes requests it made besides lists and
watches (goal: none for a fleet that needs nothing)."""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "test", "fakes"))

from kube.main import load_crds, write_kubeconfig  # noqa: E402
from kube.server import Fake, Handler, Server  # noqa: E402

NS = "aws-account-operator"
TEAM = "team"
GROUP = "aws.managed.openshift.io"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def put(st, group, plural, ns, obj, status=None):
    rt = st.lookup(group, "v1alpha1" if group else "v1", plural)
    st.create(rt, ns, obj, fv="Ignore")
    if status is not None:
        body = json.loads(json.dumps(st.get_obj(rt, ns, obj["metadata"]["name"])))
        body["status"] = status
        st.update(rt, ns, obj["metadata"]["name"], body, sub="status", fv="Ignore")


def fill(st, n):
    put(st, "", "namespaces", None, {"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": NS}})
    put(st, "", "namespaces", None, {"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": TEAM}})
    put(st, "", "configmaps", NS, {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "aws-account-operator-configmap"},
        "data": {"account-limit": "100000", "root": "r-root", "base": "ou-base",
                 "accountpool": "default:\n  default: true\n"}})
    put(st, "", "secrets", NS, {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "aws-account-operator-credentials"},
        "data": {"aws_access_key_id": "QUtJQUJFTkNI",
                 "aws_secret_access_key": "YmVuY2g="}})
    for i in range(n):
        acc, claim = "acc-%05d" % i, "claim-%05d" % i
        put(st, GROUP, "accounts", NS, {
            "apiVersion": GROUP + "/v1alpha1", "kind": "Account",
            "metadata": {"name": acc, "labels": {"iamUserId": "abc123"},
                         "finalizers": ["finalizer.aws.managed.openshift.io"]},
            "spec": {"awsAccountID": "%012d" % (100000000000 + i),
                     "iamUserSecret": acc + "-secret", "claimLink": claim,
                     "claimLinkNamespace": TEAM,
                     "legalEntity": {"id": "le1", "name": "LE"}}},
            status={"state": "Ready", "claimed": True,
                    "conditions": [{"type": "Ready", "status": "True",
                                    "lastTransitionTime": "2026-01-01T00:00:00Z"}]})
        put(st, GROUP, "accountclaims", TEAM, {
            "apiVersion": GROUP + "/v1alpha1", "kind": "AccountClaim",
            "metadata": {"name": claim,
                         "finalizers": ["finalizer.aws.managed.openshift.io"]},
            "spec": {"legalEntity": {"id": "le1", "name": "LE"},
                     "awsCredentialSecret": {"name": claim + "-aws", "namespace": TEAM},
                     "aws": {"regions": [{"name": "us-east-1"}]},
                     "accountLink": acc, "accountOU": "ou-le1"}},
            status={"state": "Ready",
                    "conditions": [{"type": "Claimed", "status": "True",
                                    "reason": "AccountClaimed",
                                    "message": "Account claim fulfilled",
                                    "lastProbeTime": "2026-01-01T00:00:00Z",
                                    "lastTransitionTime": "2026-01-01T00:00:00Z"}]})
        put(st, "", "secrets", TEAM, {
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": claim + "-aws"},
            "data": {"aws_access_key_id": "QUtJQQ==", "aws_secret_access_key": "eA=="}})


def serve(n, kc):
    args = argparse.Namespace(port=0, host="127.0.0.1", tls=False, token=None,
                              kubeconfig_out=kc, crds=None, log_requests=False,
                              bookmark_interval=1.0, history=1000,
                              watch_too_old="event", gc_interval=0.05)
    fake = Fake(args)
    load_crds(fake.state, os.path.join(ROOT, "crds"))
    fill(fake.state, n)
    Handler.fake = fake
    httpd = Server(("127.0.0.1", 0), Handler)
    write_kubeconfig(kc, "http://127.0.0.1:%d" % httpd.server_address[1], None, None)
    threading.Thread(target=fake.state.gc_loop, args=(0.05,), daemon=True).start()
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return fake, httpd


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode()


def metric_sum(text, name):
    return sum(float(v) for v in re.findall(r"^%s(?:\{[^}]*\})? (\S+)$" % name, text, re.M))


def poll(pred, timeout):
    """Poll pred every 20 ms (a measurement, not synchronization)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return time.monotonic()
        except (OSError, urllib.error.HTTPError):
            pass
        time.sleep(0.02)
    return None


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    tmp = tempfile.mkdtemp(prefix="aao-idle-")
    kc = os.path.join(tmp, "kubeconfig")
    op = None
    try:
        t_fill = time.monotonic()
        fake, httpd = serve(n, kc)
        fill_s = time.monotonic() - t_fill
        seq0 = fake.log_seq
        mport, hport, dead = free_port(), free_port(), free_port()
        t0 = time.monotonic()
        op = subprocess.Popen([os.path.join(ROOT, "bin", "aws-account-operator"),
                               "--kubeconfig", kc, "--namespace", NS,
                               "--aws-endpoint-url", "http://127.0.0.1:%d" % dead,
                               "--log-level", "warn",
                               # the first AccountValidation pass is spread
                               # over the period and calls AWS: keep it out
                               "--validation-interval", "24h",
                               "--metrics-bind-address", "127.0.0.1:%d" % mport,
                               "--health-probe-bind-address", "127.0.0.1:%d" % hport],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t_ready = poll(lambda: get("http://127.0.0.1:%d/readyz" % hport)[0] == 200, 300)
        state = {"quiet": 0}

        def idle():
            text = get("http://127.0.0.1:%d/metrics" % mport)[1]
            busy = metric_sum(text, "workqueue_depth") + \
                metric_sum(text, "controller_runtime_active_workers")
            state["quiet"] = state["quiet"] + 1 if busy == 0 else 0
            state["reconciles"] = metric_sum(text, "controller_runtime_reconcile_total")
            if state["quiet"] == 1:
                state["t"] = time.monotonic()
            return state["quiet"] >= 6  # 100 ms of quiet, at 20 ms polls
        t_idle = poll(idle, 600) if t_ready else None
        with fake.log_lock:
            reqs = [e for e in fake.log if e["seq"] > seq0]
        writes = [e for e in reqs if e["method"] not in ("GET",)]
        gets = [e for e in reqs if e["method"] == "GET" and not e.get("watch")
                and "watch=" not in (e.get("query") or "")]
        print(json.dumps({
            "n": n, "fill_s": round(fill_s, 1),
            "start_to_ready_s": round(t_ready - t0, 2) if t_ready else None,
            "start_to_idle_s": round(state["t"] - t0, 2) if t_idle else None,
            "reconciles": int(state.get("reconciles", 0)),
            "daemon_cpu_s": round(cpu_s(op.pid), 2),
            "k8s_writes": len(writes),
            "k8s_gets_and_lists": len(gets),
            "write_paths": sorted({e["path"].rsplit("/", 1)[0] for e in writes})[:5],
        }), flush=True)
        httpd.shutdown()
        return 0 if t_idle else 1
    finally:
        if op and op.poll() is None:
            op.send_signal(signal.SIGTERM)
            try:
                op.wait(timeout=10)
            except subprocess.TimeoutExpired:
                op.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
