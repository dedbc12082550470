"""Issue 3's "Show" list, end to end: our informers, watches, retry-on-conflict and leader
election (C, through build/drivers/k8s_driver and the daemon) against the Kubernetes
stand-in loaded with OUR crds/.

Run: make -j2 all build/drivers/k8s_driver
     cd test/e2e && /usr/bin/python3 -m pytest -q test_kube_integration.py
"""
import glob
import json
import os
import re
import signal
import time
import uuid

import pytest

from conftest import BIN, REPO, UPSTREAM, Proc, free_port, http_get, wait_for
from kubefake_util import KUBECTL, KubeFake

DRIVER = os.path.join(REPO, "build", "drivers", "k8s_driver")
CRDS = os.path.join(REPO, "crds")
UP = UPSTREAM
G = "aws.managed.openshift.io"
GV = "/apis/%s/v1alpha1" % G
LEASE = ("/apis/coordination.k8s.io/v1/namespaces/aws-account-operator/leases/"
         "aws-account-operator-lock")
OP_NS = "aws-account-operator"

pytestmark = pytest.mark.skipif(not os.path.exists(DRIVER) or not os.path.exists(BIN),
                                reason="needs make all build/drivers/k8s_driver")


# ---------------------------------------------------------------- helpers

@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    f = KubeFake(tmp_path_factory.mktemp("fake"), crds=CRDS,
                 extra=["--bookmark-interval", "0.5"]).start()
    yield f
    f.stop()


def make_ns(fake, name=None):
    name = name or "t-" + uuid.uuid4().hex[:8]
    st, _, body = fake.req("POST", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert st in (201, 409), body
    return name


@pytest.fixture
def ns(fake):
    yield make_ns(fake)
    fake.control("POST", "fail", {"clear": True})
    fake.control("POST", "latency", {"clear": True})


def account_template(pad=0):
    obj = {"apiVersion": "%s/v1alpha1" % G, "kind": "Account",
           "metadata": {"labels": {"app": "e2e"}},
           "spec": {"awsAccountID": "123456789012", "iamUserSecret": "secret-x",
                    "claimLink": "", "legalEntity": {"id": "1", "name": "e2e"}}}
    if pad:
        obj["metadata"]["annotations"] = {"e2e.example.com/padding": "p" * pad}
    return obj


def bulk_accounts(fake, ns, count, pad=0, prefix="acc-"):
    for start in range(0, count, 1000):
        r = fake.control("POST", "bulk-create", {
            "group": G, "version": "v1alpha1", "plural": "accounts", "namespace": ns,
            "template": account_template(pad), "count": min(1000, count - start),
            "start": start, "prefix": prefix})
        assert r["created"] == min(1000, count - start)


def cm(name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": data}


class Driver:
    """build/drivers/k8s_driver in informer mode; events() are its JSON lines."""

    def __init__(self, procs, fake, resource, ns, *extra):
        self.p = Proc([DRIVER, "--kubeconfig", fake.kubeconfig, "--resource", resource,
                       "--namespace", ns, *extra, "informer"])
        procs.append(self.p)

    def events(self):
        out = []
        for line in list(self.p.lines):
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def changes(self):
        """(ev, key, rv) after the first synced line."""
        evs = self.events()
        i = next(i for i, e in enumerate(evs) if e["ev"] == "synced")
        return [(e["ev"], e["key"], e["rv"]) for e in evs[i + 1:]
                if e["ev"] in ("add", "update", "delete")]

    def synced(self, timeout=20):
        return wait_for(lambda: next((e for e in self.events() if e["ev"] == "synced"), None),
                        timeout=timeout, what="informer synced")

    def store(self):
        """The informer's store as {key: rv} (SIGUSR1 makes the driver dump it)."""
        def dumps():
            return [e for e in self.events() if e["ev"] == "store"]
        before = len(dumps())
        self.p.p.send_signal(signal.SIGUSR1)
        wait_for(lambda: len(dumps()) > before, what="store dump")
        return {k: rv for k, rv in dumps()[-1]["items"]}


def requests_since(fake, seq):
    return fake.control("GET", "requests?since=%d" % seq)["requests"]


def last_seq(fake):
    return fake.control("GET", "requests?since=999999999")["last"]


def watch_rule(path_part):
    """A /fake/fail rule that fails every watch under path_part (until cleared)."""
    return {"count": 100000, "code": 500, "method": "GET", "path_regex": path_part,
            "query_regex": "watch=(1|true)"}


# ---------------------------------------------------------------- informer

def test_informer_syncs_1000_objects(fake, ns, procs):
    bulk_accounts(fake, ns, 1000)
    d = Driver(procs, fake, "%s/v1alpha1/accounts" % G, ns)
    synced = d.synced()
    assert synced["count"] == 1000
    evs = d.events()
    i = evs.index(synced)
    adds = [e["key"] for e in evs[:i] if e["ev"] == "add"]
    assert len(adds) == 1000 and len(set(adds)) == 1000
    assert set(adds) == {"%s/acc-%05d" % (ns, n) for n in range(1000)}
    assert all(not e["unknown"] for e in evs[:i] if e["ev"] == "add")


def test_dropped_watch_resumes_without_gaps_or_duplicates(fake, ns, procs):
    base = "/api/v1/namespaces/%s/configmaps" % ns
    fake.ok("POST", base, cm("seed", {"v": "0"}))
    d = Driver(procs, fake, "v1/configmaps", ns)
    d.synced()
    wait_for(lambda: any(ns in w["path"] for w in fake.control("GET", "watches")["watches"]),
             what="watch open")
    expected = []

    def write(method, path, body=None, ev=None, key=None, **kw):
        obj = fake.ok(method, path, body, **kw)
        expected.append((ev, "%s/%s" % (ns, key), obj["metadata"]["resourceVersion"]))

    for n in range(5):
        write("POST", base, cm("c%d" % n, {"v": "1"}), "add", "c%d" % n)
    wait_for(lambda: len(d.changes()) == 5, what="first events")
    seq = last_seq(fake)
    # Drop the stream; fail re-watches while more writes land, so the informer must
    # replay them from the resourceVersion it had reached.
    fake.control("POST", "fail", watch_rule(base))
    assert fake.control("POST", "drop-watches")["dropped"] >= 1
    for n in range(5, 10):
        write("POST", base, cm("c%d" % n, {"v": "1"}), "add", "c%d" % n)
    for n in range(0, 4):
        write("PATCH", "%s/c%d" % (base, n), {"data": {"v": "2"}}, "update", "c%d" % n,
              ctype="application/merge-patch+json")
    for n in (1, 6):
        fake.ok("DELETE", "%s/c%d" % (base, n))
        expected.append(("delete", "%s/c%d" % (ns, n), None))
    fake.control("POST", "fail", {"clear": True})
    wait_for(lambda: len(d.changes()) >= len(expected), timeout=20, what="replayed events")
    got = d.changes()
    # Deletions carry the deletion's resourceVersion: compare those by key and order only.
    assert [(e, k, rv if e != "delete" else None) for e, k, rv in got] == expected
    assert all(not e["unknown"] for e in d.events() if e["ev"] == "delete")
    # It resumed (watch from the last resourceVersion it had), it did not relist.
    reqs = requests_since(fake, seq)
    lists = [r for r in reqs if r["path"] == base and r["method"] == "GET" and not r["watch"]]
    assert lists == []
    rewatch = [r for r in reqs if r["path"] == base and r["watch"] and r["status"] == 200]
    assert rewatch and "resourceVersion=%s" % expected[4][2] in rewatch[0]["query"]


def test_compaction_forces_relist_and_synthesized_deletes(fake, ns, procs):
    base = "/api/v1/namespaces/%s/configmaps" % ns
    for n in range(6):
        fake.ok("POST", base, cm("k%d" % n, {"v": "1"}))
    d = Driver(procs, fake, "v1/configmaps", ns)
    assert d.synced()["count"] == 6
    wait_for(lambda: any(ns in w["path"] for w in fake.control("GET", "watches")["watches"]),
             what="watch open")
    seq = last_seq(fake)
    fake.control("POST", "fail", watch_rule(base))
    fake.control("POST", "drop-watches")
    for n in (0, 1, 2):
        fake.ok("DELETE", "%s/k%d" % (base, n))
    fake.ok("PATCH", "%s/k3" % base, {"data": {"v": "2"}},
            ctype="application/merge-patch+json")
    fake.ok("POST", base, cm("k6", {"v": "1"}))
    fake.control("POST", "compact")
    fake.ok("POST", base, cm("k7", {"v": "1"}))
    fake.control("POST", "fail", {"clear": True})
    wait_for(lambda: len([e for e in d.changes() if e[0] == "delete"]) >= 3, timeout=40,
             what="synthesized deletes")
    dels = [e for e in d.events() if e["ev"] == "delete"]
    assert sorted(e["key"] for e in dels) == ["%s/k%d" % (ns, n) for n in (0, 1, 2)]
    assert all(e["unknown"] for e in dels)  # DeletedFinalStateUnknown
    server = {"%s/%s" % (ns, o["metadata"]["name"]): o["metadata"]["resourceVersion"]
              for o in fake.ok("GET", base)["items"]}
    wait_for(lambda: d.store() == server, what="store == server")
    reqs = requests_since(fake, seq)
    watch_410 = [r for r in reqs if r["path"] == base and r["watch"] and r["status"] == 200]
    assert watch_410, "no re-watch after the fault was cleared"
    relists = [r for r in reqs if r["path"] == base and r["method"] == "GET" and not r["watch"]]
    assert relists and "resourceVersion=0" not in relists[0]["query"]  # consistent relist


def test_stale_status_update_gets_409_and_is_retried(fake, ns, procs):
    path = "%s/namespaces/%s/accounts" % (GV, ns)
    first = fake.ok("POST", path, dict(account_template(), metadata={"name": "a1"}))
    rv1 = first["metadata"]["resourceVersion"]
    second = fake.ok("PATCH", path + "/a1", {"spec": {"claimLink": "c1"}},
                     ctype="application/merge-patch+json")
    rv2 = second["metadata"]["resourceVersion"]
    assert rv2 != rv1
    seq = last_seq(fake)
    p = Proc([DRIVER, "--kubeconfig", fake.kubeconfig, "--resource", "%s/v1alpha1/accounts" % G,
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
            for r in requests_since(fake, seq) if r["path"].startswith(path + "/a1")]
    assert reqs == [("GET", "a1", 200), ("PUT", "status", 409), ("GET", "a1", 200),
                    ("PUT", "status", 200)]
    obj = fake.ok("GET", path + "/a1")
    assert obj["status"]["state"] == "Ready"
    assert obj["spec"]["claimLink"] == "c1"  # the concurrent write survived
    assert obj["metadata"]["resourceVersion"] == done["rv"]


# ---------------------------------------------------------------- kubectl

@pytest.mark.skipif(not os.path.exists(KUBECTL), reason="needs kubectl")
def test_kubectl_apply_upstream_examples_against_our_crds(fake, tmp_path):
    examples = sorted(glob.glob(os.path.join(UP, "test__deploy__*_cr.yaml")) +
                      glob.glob(os.path.join(UP, "deploy_pko__AWSFederatedRole-*.yaml")))
    assert len(examples) == 9
    for ex in examples:
        with open(ex) as f:
            m = re.search(r"^\s+namespace:\s*(\S+)", f.read(), re.M)
        if m and m.group(1) != '""':
            make_ns(fake, m.group(1))
    make_ns(fake, "default")
    for ex in examples:
        p = fake.kubectl("apply", "-f", ex, cache_dir=tmp_path / "kcache")
        assert re.search(r"(created|configured|unchanged)", p.stdout), (ex, p.stdout)
    out = fake.kubectl("get", "accounts,accountclaims,accountpools,awsfederatedroles,"
                       "awsfederatedaccountaccesses", "-A", "-o", "name",
                       cache_dir=tmp_path / "kcache").stdout.split()
    assert len(out) >= 9, out


# ---------------------------------------------------------------- the daemon

def start_operator(procs, fake, ident, ns=OP_NS, extra=()):
    hport = free_port()
    p = Proc([BIN, "--kubeconfig", fake.kubeconfig, "--namespace", ns,
              "--metrics-bind-address", "127.0.0.1:%d" % free_port(),
              "--health-probe-bind-address", "127.0.0.1:%d" % hport, *extra],
             env={"POD_NAME": ident})
    procs.append(p)
    p.hport = hport
    return p


def lease_holder(fake):
    st, _, obj = fake.req("GET", LEASE)
    return obj["spec"].get("holderIdentity") if st == 200 else None


def ready(p):
    return http_get("http://127.0.0.1:%d/readyz" % p.hport)[0] == 200


def test_leader_election_one_writer_and_takeover_after_kill(tmp_path, procs):
    f = KubeFake(tmp_path / "fake", crds=CRDS).start()
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
        reqs = requests_since(f, 0)
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


def test_readyz_only_after_informers_synced(fake, ns, procs):
    bulk_accounts(fake, ns, 50)
    fake.control("POST", "latency", {"ms": 1500, "method": "GET", "count": 1,
                                     "path_regex": "/namespaces/%s/accounts$" % ns})
    p = start_operator(procs, fake, "op-ready", ns=ns)
    wait_for(lambda: http_get("http://127.0.0.1:%d/readyz" % p.hport)[0] in (200, 503),
             what="health server")
    st, _, body = http_get("http://127.0.0.1:%d/readyz?verbose" % p.hport)
    assert st == 503, body
    assert b"[-]informers-synced failed: waiting for: accounts" in body
    wait_for(lambda: ready(p), timeout=15, what="ready")
    assert "accounts: listed 50 objects" in p.output()
    assert len(re.findall(r"listed \d+ objects", p.output())) == 7


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


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def test_memory_after_syncing_10000_accounts_of_2kib(fake, ns, procs):
    """hack/measure-memory.sh in CI form (docs/memory.md): a regression ceiling, not a
    benchmark."""
    bulk_accounts(fake, ns, 10000, pad=1600)
    one = fake.ok("GET", "%s/namespaces/%s/accounts/acc-00000" % (GV, ns))
    assert 1800 <= len(json.dumps(one)) <= 2600
    p = start_operator(procs, fake, "op-mem", ns=ns)
    wait_for(lambda: ready(p), timeout=30, what="ready")
    assert "accounts: listed 10000 objects" in p.output()
    kib = rss_kib(p.p.pid)
    print("RSS after syncing 10000 Accounts: %.1f MiB" % (kib / 1024.0))
    assert kib < 200 * 1024
