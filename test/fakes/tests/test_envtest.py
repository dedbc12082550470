"""Self-test of test/e2e/envtest_util.py and hack/envtest.sh: a genuine
etcd + kube-apiserver (+ kube-controller-manager) built from the pinned
modules in hack/envtest/, driven the way the e2e tests drive the stand-in.

Run: /usr/bin/python3 -m pytest -q test/fakes/tests/test_envtest.py
(the first run on a machine builds the binaries; see hack/envtest/README.md)
"""
import glob
import os
import subprocess
import uuid

import pytest

from envtest_util import REPO, SCRIPT, Envtest, wait_for

CRD_DIR = os.path.join(REPO, "crds")
CRDS = sorted(f for f in glob.glob(os.path.join(CRD_DIR, "*.yaml"))
              if os.path.basename(f) != "kustomization.yaml")
G = "aws.managed.openshift.io"
GV = "/apis/%s/v1alpha1" % G
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager")



def pids(workdir):
    out = {}
    for c in COMPONENTS:
        p = os.path.join(workdir, c + ".pid")
        if os.path.exists(p):
            with open(p) as f:
                out[c] = int(f.read())
    return out


def alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = Envtest(tmp_path_factory.mktemp("envtest"), controller_manager=True).start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def env_crds(tmp_path_factory):
    """A second control plane, started with the CRDs installed (--crds)."""
    e = Envtest(tmp_path_factory.mktemp("envtest-crds"), controller_manager=True,
                crds=CRD_DIR).start()
    yield e
    e.stop()


@pytest.fixture(scope="module")
def crds(env, tmp_path_factory):
    cache = tmp_path_factory.mktemp("kcache")
    args = []
    for f in CRDS:
        args += ["-f", f]
    env.kubectl("apply", *args, cache_dir=cache)

    def established(name):
        st, _, crd = env.req(
            "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + name)
        return st == 200 and any(c["type"] == "Established" and c["status"] == "True"
                                 for c in crd.get("status", {}).get("conditions", []))

    names = [os.path.basename(f)[len(G) + 1:-len(".yaml")] + "." + G for f in CRDS]
    for n in names:
        wait_for(lambda: established(n), timeout=30, what=n + " Established")
    # Discovery serves the new group once the CRDs are established; each
    # resource's storage may still answer 429 "storage is (re)initializing"
    # (with Retry-After) for a moment after that, as on a real cluster.
    wait_for(lambda: env.req("GET", GV)[0] == 200, timeout=30, what="discovery of " + GV)
    for n in names:
        plural = n.split(".", 1)[0]
        wait_for(lambda: env.req("GET", "%s/%s" % (GV, plural))[0] == 200, timeout=30,
                 interval=0.2, what="list of " + plural)
    return names


@pytest.fixture
def ns(env):
    name = "t-" + uuid.uuid4().hex[:8]
    env.ok("POST", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name


def account(name):
    return {"apiVersion": "%s/v1alpha1" % G, "kind": "Account",
            "metadata": {"name": name, "labels": {"app": "e2e"}},
            "spec": {"awsAccountID": "123456789012", "iamUserSecret": "secret-x",
                     "claimLink": "", "legalEntity": {"id": "1", "name": "e2e"}}}


# ---------------------------------------------------------------- the server

def test_readyz_and_version(env):
    st, _, body = env.req("GET", "/readyz")
    assert st == 200 and body == b"ok"
    v = env.ok("GET", "/version")
    assert v["gitVersion"] == "v1.37.2" and (v["major"], v["minor"]) == ("1", "37")


def test_client_certificate_is_the_identity(env):
    # The admin certificate maps to aao-admin in system:masters ...
    review = env.ok("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    ui = review["status"]["userInfo"]
    assert ui["username"] == "aao-admin" and "system:masters" in ui["groups"]
    # ... and without it the request is anonymous, which RBAC refuses.
    st, _, body = env.req("GET", "/api/v1/namespaces", auth=False)
    assert st == 403, body


def test_kubeconfig_works_for_kubectl(env, tmp_path):
    p = env.kubectl("get", "ns", "default", "-o", "jsonpath={.status.phase}",
                    cache_dir=tmp_path)
    assert p.stdout == "Active"
    p = env.kubectl("version", "-o", "json", cache_dir=tmp_path)
    assert '"gitVersion": "v1.37.2"' in p.stdout


# ---------------------------------------------------------------- CRDs and Accounts

def test_crds_establish(env, crds):
    assert len(crds) == 5
    res = {r["name"] for r in env.ok("GET", GV)["resources"]}
    assert {"accounts", "accounts/status", "accountpools", "accountclaims"} <= res


def test_account_create_get_list_watch(env, crds, ns):
    base = "%s/namespaces/%s/accounts" % (GV, ns)
    lst = env.ok("GET", base)
    w = env.watch(base, resourceVersion=lst["metadata"]["resourceVersion"],
                  allowWatchBookmarks="true")
    try:
        assert w.status == 200
        created = env.ok("POST", base, account("a1"))
        assert created["metadata"]["uid"] and created["spec"]["awsAccountID"] == "123456789012"
        got = env.ok("GET", base + "/a1")
        assert got["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
        env.ok("POST", base, account("a2"))
        names = [i["metadata"]["name"] for i in env.ok("GET", base)["items"]]
        assert names == ["a1", "a2"]
        sel = env.ok("GET", base, query={"labelSelector": "app=e2e", "limit": "1"})
        assert len(sel["items"]) == 1 and sel["metadata"]["continue"]
        evs = w.take(2)
        assert [(e["type"], e["object"]["metadata"]["name"]) for e in evs] == [
            ("ADDED", "a1"), ("ADDED", "a2")]
        env.ok("DELETE", base + "/a2")
        ev = w.take(1)[0]
        assert (ev["type"], ev["object"]["metadata"]["name"]) == ("DELETED", "a2")
    finally:
        w.close()


def test_schema_is_enforced(env, crds, ns):
    bad = account("bad")
    del bad["spec"]["awsAccountID"]
    st, _, body = env.req("POST", "%s/namespaces/%s/accounts" % (GV, ns), bad)
    assert st == 422 and "awsAccountID" in body["message"], body


def test_status_subresource(env, crds, ns):
    path = "%s/namespaces/%s/accounts/s1" % (GV, ns)
    obj = env.ok("POST", "%s/namespaces/%s/accounts" % (GV, ns), account("s1"))
    # The main resource ignores status ...
    obj["status"] = {"state": "Ready"}
    obj = env.ok("PUT", path, obj)
    assert "status" not in obj or obj["status"].get("state") != "Ready"
    # ... the status subresource takes it and ignores spec.
    obj["status"] = {"state": "Ready", "claimed": False}
    obj["spec"]["claimLink"] = "changed-through-status"
    st_obj = env.ok("PUT", path + "/status", obj)
    assert st_obj["status"]["state"] == "Ready"
    assert st_obj["spec"]["claimLink"] == ""
    patched = env.ok("PATCH", path + "/status", {"status": {"state": "Failed"}},
                     ctype="application/merge-patch+json")
    assert patched["status"]["state"] == "Failed"
    assert env.ok("GET", path)["status"]["state"] == "Failed"


def test_stale_resource_version_is_409(env, crds, ns):
    path = "%s/namespaces/%s/accounts/c1" % (GV, ns)
    old = env.ok("POST", "%s/namespaces/%s/accounts" % (GV, ns), account("c1"))
    new = dict(old, metadata=dict(old["metadata"], labels={"app": "e2e", "x": "1"}))
    env.ok("PUT", path, new)
    old["metadata"]["labels"]["x"] = "2"
    st, _, body = env.req("PUT", path, old)
    assert st == 409 and body["reason"] == "Conflict", body
    st, _, body = env.req("PUT", path + "/status", dict(old, status={"state": "Ready"}))
    assert st == 409, body


# ---------------------------------------------------------------- controller manager

def secret(name, owner_ref=None):
    meta = {"name": name}
    if owner_ref:
        meta["ownerReferences"] = [owner_ref]
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "stringData": {"k": "v"}}


def ref(obj, api_version, kind):
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def test_owner_reference_garbage_collection(env, ns):
    cms = "/api/v1/namespaces/%s/configmaps" % ns
    sec = "/api/v1/namespaces/%s/secrets" % ns
    owner = env.ok("POST", cms, {"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "owner"}})
    env.ok("POST", sec, secret("owned", ref(owner, "v1", "ConfigMap")))
    env.ok("POST", sec, secret("free"))
    env.ok("DELETE", cms + "/owner")  # background propagation
    wait_for(lambda: env.req("GET", sec + "/owned")[0] == 404, timeout=30,
             interval=0.2, what="dependent secret collected")
    assert env.req("GET", sec + "/free")[0] == 200


def test_custom_resource_owner_garbage_collection(env_crds):
    e = env_crds
    ns = "gc-" + uuid.uuid4().hex[:8]
    e.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                        "metadata": {"name": ns}})
    accts = "%s/namespaces/%s/accounts" % (GV, ns)
    sec = "/api/v1/namespaces/%s/secrets" % ns
    owner = e.ok("POST", accts, account("owner"))
    e.ok("POST", sec, secret("owned", ref(owner, "%s/v1alpha1" % G, "Account")))
    # Foreground deletion: the owner waits for its dependents, which only the
    # garbage collector deletes. The CRDs were installed before the
    # controller manager started, so it knows Accounts at once.
    e.ok("DELETE", accts + "/owner",
         {"apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground"})
    wait_for(lambda: e.req("GET", sec + "/owned")[0] == 404, timeout=30,
             interval=0.2, what="dependent secret collected")
    wait_for(lambda: e.req("GET", accts + "/owner")[0] == 404, timeout=30,
             interval=0.2, what="owner gone")


def test_namespace_deletion(env_crds):
    e = env_crds
    ns = "del-" + uuid.uuid4().hex[:8]
    e.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                        "metadata": {"name": ns}})
    e.ok("POST", "%s/namespaces/%s/accounts" % (GV, ns), account("n1"))
    e.ok("DELETE", "/api/v1/namespaces/" + ns)
    assert e.ok("GET", "/api/v1/namespaces/" + ns)["status"]["phase"] == "Terminating"
    wait_for(lambda: e.req("GET", "/api/v1/namespaces/" + ns)[0] == 404, timeout=60,
             interval=0.2, what="namespace %s deleted" % ns)


# ---------------------------------------------------------------- lifecycle

def test_stop_when_nothing_runs_is_fine(tmp_path):
    p = subprocess.run([SCRIPT, "stop", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    # A stale pid file whose pid now belongs to another process (this one)
    # is left alone.
    (tmp_path / "etcd.pid").write_text(str(os.getpid()))
    (tmp_path / "kube-apiserver.pid").write_text("999999999")
    p = subprocess.run([SCRIPT, "stop", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert alive(os.getpid())
    p = subprocess.run([SCRIPT, "stop", str(tmp_path / "missing")], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr


def test_second_start_on_a_running_dir_is_refused(env):
    p = subprocess.run([SCRIPT, "start", env.workdir], capture_output=True, text=True)
    assert p.returncode != 0 and "still running" in p.stderr
    assert env.req("GET", "/readyz")[0] == 200


def test_restart_keeps_data_and_url(env, crds):
    env.ok("POST", "/api/v1/namespaces/default/configmaps", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "survives"},
        "data": {"k": "v"}})
    url = env.url
    env.stop()
    assert env.req  # the object stays usable
    env.start()
    assert env.url == url
    assert env.ok("GET", "/api/v1/namespaces/default/configmaps/survives")["data"] == {"k": "v"}


def test_stop_leaves_no_process(env):
    before = pids(env.workdir)
    assert set(before) == set(COMPONENTS)
    assert all(alive(p) for p in before.values())
    port = env.port
    env.stop()
    assert not any(alive(p) for p in before.values()), before
    assert pids(env.workdir) == {}
    with pytest.raises(OSError):
        env.req("GET", "/readyz")
    # A second stop is a no-op, from the helper and from the script.
    env.stop()
    p = subprocess.run([SCRIPT, "stop", env.workdir], capture_output=True, text=True)
    assert p.returncode == 0
    assert port
