"""The informers and the daemon under Kubernetes faults that a genuine
kube-apiserver does not produce on demand, against the stand-in
(test/fakes/kube_api.py), which injects them: a watch dropped while writes
land and re-watches fail, a compaction at a chosen moment (410 Gone and a
relist), a slow initial list. Everything else runs against the genuine
server in test_kube_integration.py.
"""
import re

import pytest

from conftest import http_get, wait_for
from k8s_util import CRDS, G, Driver, account_template, cm, make_ns, ready, start_operator
from kubefake_util import KubeFake


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    f = KubeFake(tmp_path_factory.mktemp("fake"), crds=CRDS,
                 extra=["--bookmark-interval", "0.5"]).start()
    yield f
    f.stop()


@pytest.fixture
def ns(fake):
    yield make_ns(fake)
    fake.control("POST", "fail", {"clear": True})
    fake.control("POST", "latency", {"clear": True})


def bulk_accounts(fake, ns, count, pad=0, prefix="acc-"):
    for start in range(0, count, 1000):
        r = fake.control("POST", "bulk-create", {
            "group": G, "version": "v1alpha1", "plural": "accounts", "namespace": ns,
            "template": account_template(pad), "count": min(1000, count - start),
            "start": start, "prefix": prefix})
        assert r["created"] == min(1000, count - start)


def requests_since(fake, seq):
    return fake.control("GET", "requests?since=%d" % seq)["requests"]


def last_seq(fake):
    return fake.control("GET", "requests?since=999999999")["last"]


def watch_rule(path_part):
    """A /fake/fail rule that fails every watch under path_part (until cleared)."""
    return {"count": 100000, "code": 500, "method": "GET", "path_regex": path_part,
            "query_regex": "watch=(1|true)"}


# ---------------------------------------------------------------- watches

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
