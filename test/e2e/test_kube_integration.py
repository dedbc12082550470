"""Our informers, watches, retry-on-conflict, leader election and the daemon's
start-up (C, through build/drivers/k8s_driver and the daemon) against a
genuine kube-apiserver and etcd loaded with OUR crds/. The scenarios that
need a fault the real server cannot produce on demand (a dropped watch, a
compaction at a chosen moment, a slow list) are in test_kube_faults.py,
against the stand-in.

Run: make -j2 all build/drivers/k8s_driver
     cd test/e2e && /usr/bin/python3 -m pytest -q test_kube_integration.py
"""
import glob
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import BIN, UPSTREAM as UP, Proc, free_port, http_get, wait_for
from envtest_util import Envtest
from k8s_util import (CRDS, DRIVER, G, GV, LEASE, OP_NS, Driver, account_template,
                      lease_holder, make_ns, ready, rss_kib, start_operator)

# conftest's `kube`: our CRDs, no kube-controller-manager.
KUBE = {"crds": CRDS}


@pytest.fixture
def ns(kube):
    return make_ns(kube)


def bulk_accounts(kube, ns, count, pad=0, prefix="acc-"):
    t = account_template(pad)

    def objs():
        for n in range(count):
            o = json.loads(json.dumps(t))
            o["metadata"]["name"] = "%s%05d" % (prefix, n)
            yield o
    assert kube.bulk_create("%s/namespaces/%s/accounts" % (GV, ns), objs()) == count


# ---------------------------------------------------------------- informer

def test_informer_syncs_1000_objects(kube, ns, procs):
    bulk_accounts(kube, ns, 1000)
    d = Driver(procs, kube, "%s/v1alpha1/accounts" % G, ns)
    synced = d.synced()
    assert synced["count"] == 1000
    evs = d.events()
    i = evs.index(synced)
    adds = [e["key"] for e in evs[:i] if e["ev"] == "add"]
    assert len(adds) == 1000 and len(set(adds)) == 1000
    assert set(adds) == {"%s/acc-%05d" % (ns, n) for n in range(1000)}
    assert all(not e["unknown"] for e in evs[:i] if e["ev"] == "add")


def test_watch_delivers_every_change_in_order(kube, ns, procs):
    """Adds, updates and deletes after the sync arrive once each, in order,
    with the server's resourceVersions."""
    base = "/api/v1/namespaces/%s/configmaps" % ns
    kube.ok("POST", base, {"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "seed"}, "data": {"v": "0"}})
    d = Driver(procs, kube, "v1/configmaps", ns)
    d.synced()
    expected = []
    for n in range(5):
        o = kube.ok("POST", base, {"apiVersion": "v1", "kind": "ConfigMap",
                                   "metadata": {"name": "c%d" % n}, "data": {"v": "1"}})
        expected.append(("add", "%s/c%d" % (ns, n), o["metadata"]["resourceVersion"]))
    for n in (0, 1):
        o = kube.ok("PATCH", "%s/c%d" % (base, n), {"data": {"v": "2"}},
                    ctype="application/merge-patch+json")
        expected.append(("update", "%s/c%d" % (ns, n), o["metadata"]["resourceVersion"]))
    kube.ok("DELETE", "%s/c3" % base)
    expected.append(("delete", "%s/c3" % ns, None))
    wait_for(lambda: len(d.changes()) >= len(expected), timeout=20, what="events")
    got = d.changes()
    assert [(e, k, rv if e != "delete" else None) for e, k, rv in got] == expected


def test_stale_status_update_gets_409_and_is_retried(kube, ns, procs):
    path = "%s/namespaces/%s/accounts" % (GV, ns)
    first = kube.ok("POST", path, dict(account_template(), metadata={"name": "a1"}))
    rv1 = first["metadata"]["resourceVersion"]
    second = kube.ok("PATCH", path + "/a1", {"spec": {"claimLink": "c1"}},
                     ctype="application/merge-patch+json")
    rv2 = second["metadata"]["resourceVersion"]
    assert rv2 != rv1
    seq = kube.last_seq()
    p = Proc([DRIVER, "--kubeconfig", kube.kubeconfig, "--resource", "%s/v1alpha1/accounts" % G,
              "--namespace", ns, "--name", "a1", "--stale-rv", rv1,
              "--status", json.dumps({"state": "Ready", "claimed": False}), "conflict"])
    procs.append(p)
    assert p.p.wait(timeout=20) == 0, p.output()
    p.stop()
    evs = [json.loads(x) for x in p.lines if x.startswith("{")]
    assert [e["rv"] for e in evs if e["ev"] == "mutate"] == [rv1, rv2]
    done = evs[-1]
    assert done["ev"] == "done" and done["err"] == "OK"
    reqs = [(r["method"], r["path"].rsplit("/", 1)[-1], r["status"])
            for r in kube.requests(seq) if r["path"].startswith(path + "/a1")]
    assert reqs == [("GET", "a1", 200), ("PUT", "status", 409), ("GET", "a1", 200),
                    ("PUT", "status", 200)]
    obj = kube.ok("GET", path + "/a1")
    assert obj["status"]["state"] == "Ready"
    assert obj["spec"]["claimLink"] == "c1"  # the concurrent write survived
    assert obj["metadata"]["resourceVersion"] == done["rv"]


# ---------------------------------------------------------------- kubectl

def test_kubectl_apply_upstream_examples_against_our_crds(kube, tmp_path):
    examples = sorted(glob.glob(os.path.join(UP, "test__deploy__*_cr.yaml")) +
                      glob.glob(os.path.join(UP, "deploy_pko__AWSFederatedRole-*.yaml")))
    assert len(examples) == 9
    for ex in examples:
        with open(ex) as f:
            m = re.search(r"^\s+namespace:\s*(\S+)", f.read(), re.M)
        if m and m.group(1) != '""':
            make_ns(kube, m.group(1))
    make_ns(kube, "default")
    for ex in examples:
        p = kube.kubectl("apply", "-f", ex, cache_dir=tmp_path / "kcache")
        assert re.search(r"(created|configured|unchanged)", p.stdout), (ex, p.stdout)
    out = kube.kubectl("get", "accounts,accountclaims,accountpools,awsfederatedroles,"
                       "awsfederatedaccountaccesses", "-A", "-o", "name",
                       cache_dir=tmp_path / "kcache").stdout.split()
    assert len(out) >= 9, out


# ---------------------------------------------------------------- the daemon

def test_leader_election_one_writer_and_takeover_after_kill(tmp_path, procs):
    f = Envtest(tmp_path / "kube", crds=CRDS).start()
    try:
        make_ns(f, OP_NS)
        a = start_operator(procs, f, "op-a", extra=["--leader-elect"])
        b = start_operator(procs, f, "op-b", extra=["--leader-elect"])
        holder = wait_for(lambda: lease_holder(f), timeout=15, what="a lease holder")
        assert holder in ("op-a", "op-b")
        lead, standby = (a, b) if holder == "op-a" else (b, a)
        other = "op-b" if holder == "op-a" else "op-a"
        wait_for(lambda: ready(a) and ready(b), timeout=15, what="both ready")
        # Let the holder renew a few times (2 s retry period) while the other watches.
        renewed = f.ok("GET", LEASE)["spec"]["renewTime"]
        wait_for(lambda: f.ok("GET", LEASE)["spec"]["renewTime"] != renewed, timeout=10,
                 what="a renewal")
        assert lease_holder(f) == holder
        events = f.ok("GET", "/api/v1/namespaces/%s/events" % OP_NS)["items"]
        assert any(e["reason"] == "LeaderElection" and e["message"] == holder +
                   " became leader" and e["involvedObject"]["kind"] == "Lease"
                   for e in events), events
        reqs = f.requests(0)
        by = {ident: [r for r in reqs if "(%s)" % ident in r["user_agent"]]
              for ident in (holder, other)}
        assert by[holder] and by[other], "User-Agent does not carry the identity"
        lease_dir = LEASE.rsplit("/", 1)[0]
        other_writes = [r for r in by[other] if r["method"] != "GET"]
        assert all(r["path"].startswith(lease_dir) for r in other_writes), other_writes
        assert any(r["method"] == "PUT" and r["path"] == LEASE for r in by[holder])
        # kill -9 the holder: no release; the other must take over within 20 s.
        t0 = time.monotonic()
        lead.p.send_signal(signal.SIGKILL)
        lead.p.wait(timeout=5)
        wait_for(lambda: lease_holder(f) == other, timeout=25, interval=0.1,
                 what="takeover")
        elapsed = time.monotonic() - t0
        print("takeover after kill -9: %.1f s" % elapsed)
        assert elapsed < 20.0, elapsed
        standby.read_until("is the leader", timeout=5)
        # SIGTERM of the new leader releases the lease (empty holder) within the deadline.
        t1 = time.monotonic()
        assert standby.stop() == 0, standby.output()
        assert time.monotonic() - t1 < 5.0
        assert not lease_holder(f)
    finally:
        f.stop()


def test_bad_kubeconfig_is_a_startup_error(tmp_path):
    bad = tmp_path / "kc"
    bad.write_text("apiVersion: v1\nclusters: [\n")
    import subprocess
    r = subprocess.run([BIN, "--kubeconfig", str(bad),
                        "--metrics-bind-address", "127.0.0.1:%d" % free_port(),
                        "--health-probe-bind-address", "127.0.0.1:%d" % free_port()],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    assert "Kubernetes configuration: " in r.stderr + r.stdout


def test_unreachable_api_is_retried_not_fatal(tmp_path, procs):
    kc = tmp_path / "kc"
    kc.write_text("""apiVersion: v1
kind: Config
current-context: c
clusters: [{name: c, cluster: {server: "http://127.0.0.1:%d"}}]
users: [{name: u, user: {}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
""" % free_port())
    hport = free_port()
    p = Proc([BIN, "--kubeconfig", str(kc), "--metrics-bind-address",
              "127.0.0.1:%d" % free_port(), "--health-probe-bind-address",
              "127.0.0.1:%d" % hport])
    procs.append(p)
    p.read_until("failed", timeout=10)
    assert p.p.poll() is None
    assert http_get("http://127.0.0.1:%d/readyz" % hport)[0] == 503
    assert p.stop() == 0


def test_memory_after_syncing_10000_accounts_of_2kib(kube, ns, procs):
    """10,000 Accounts through the genuine server (managedFields, pagination); the
    bound fleet with claims and Secrets is test_memory.py (docs/memory.md). A
    regression ceiling, not a benchmark."""
    bulk_accounts(kube, ns, 10000, pad=1600)
    one = kube.ok("GET", "%s/namespaces/%s/accounts/acc-00000" % (GV, ns))
    assert 1800 <= len(json.dumps(one)) <= 2600
    p = start_operator(procs, kube, "op-mem", ns=ns)
    # Syncing 10,000 objects is CPU-bound: allow for modules running beside.
    wait_for(lambda: ready(p), timeout=300, what="ready")
    assert "accounts: listed 10000 objects" in p.output()
    kib = rss_kib(p.p.pid)
    print("RSS after syncing 10000 Accounts: %.1f MiB" % (kib / 1024.0))
    assert kib < 200 * 1024
