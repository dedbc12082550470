"""The Kubernetes API stand-in (test/fakes/kube_api.py) behaves like the real API server
where the operator and kubectl depend on it.

Run: /usr/bin/python3 -m pytest -q test/fakes/tests/test_kube_fake.py
"""
import glob
import json
import os
import re
import subprocess
import threading
import time
import uuid

import pytest
import yaml

from kubefake_util import KUBECTL, REPO, KubeFake, wait_for

UP = os.path.join(REPO, "test", "testdata", "upstream")
CRDS = sorted(glob.glob(os.path.join(UP, "deploy__crds__*.yaml")))
G = "/apis/aws.managed.openshift.io/v1alpha1"


@pytest.fixture(scope="module")
def crd_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("crds")
    for f in CRDS:
        os.symlink(f, d / os.path.basename(f))
    return str(d)


@pytest.fixture(scope="module")
def fake(tmp_path_factory, crd_dir):
    """One fake with the upstream CRDs preloaded, shared by the module's tests."""
    f = KubeFake(tmp_path_factory.mktemp("fake"), crds=crd_dir,
                 extra=["--bookmark-interval", "0.3"]).start()
    yield f
    f.stop()


@pytest.fixture
def ns(fake):
    name = "t-" + uuid.uuid4().hex[:8]
    fake.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": name}})
    yield name
    fake.control("POST", "fail", {"clear": True})
    fake.control("POST", "latency", {"clear": True})


@pytest.fixture
def kc(fake, tmp_path):
    """kubectl against the shared fake with a per-test discovery cache."""
    def run(*args, **kw):
        return fake.kubectl(*args, cache_dir=tmp_path / "kcache", **kw)
    return run


def account(name, ns, **spec):
    s = {"awsAccountID": "123456789012", "iamUserSecret": "", "claimLink": "",
         "legalEntity": {"id": "1", "name": "x"}}
    s.update(spec)
    return {"apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "Account",
            "metadata": {"name": name, "namespace": ns}, "spec": s}


def cm(name, labels=None, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels or {}}, "data": data or {}}


def ns_yaml(*names):
    return "".join("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n" % n
                   for n in names)


# ------------------------------------------------------------------ kubectl flows


def render_template(path, params):
    """OpenShift Template -> list of objects (${X} and ${{X}} substitution only)."""
    with open(path) as f:
        text = f.read()
    tmpl = yaml.safe_load(text)
    for p in tmpl.get("parameters") or []:
        params.setdefault(p["name"], p.get("value") or "value-" + p["name"].lower()
                          .replace("_", "-"))

    def sub(m):
        return str(params[m.group(1) or m.group(2)])
    text = re.sub(r"\$\{\{(\w+)\}\}|\$\{(\w+)\}", sub, text)
    return yaml.safe_load(text)["objects"]


def test_kubectl_apply_upstream_crds_and_examples(tmp_path):
    """kubectl apply (default strict validation via OpenAPI v3) of the upstream CRDs, then of
    every upstream example CR and rendered template; get shows printer columns."""
    f = KubeFake(tmp_path / "fake").start()
    try:
        def k(*a, **kw):
            return f.kubectl(*a, cache_dir=tmp_path / "cache", **kw)
        for crd in CRDS:
            out = k("apply", "-f", crd).stdout
            assert "created" in out
        k("wait", "--for=condition=Established", "crd", "--all", "--timeout=10s")
        k("apply", "-f", "-", input=ns_yaml("example-namespace", "corp-org",
                                            "aws-account-operator", "tmpl-ns"))
        examples = sorted(glob.glob(os.path.join(UP, "test__deploy__*_cr.yaml")) +
                          glob.glob(os.path.join(UP, "deploy_pko__AWSFederatedRole-*.yaml")))
        assert len(examples) == 9
        for ex in examples:
            p = k("apply", "-f", ex)
            assert re.search(r"(created|configured|unchanged)", p.stdout), p.stdout
        # Templates whose rendering is trivial.
        params = {"NAMESPACE": "tmpl-ns", "NAME": "tmpl-claim", "SIZE": 3, "TYPE": "Default",
                  "AWS_ACCOUNT_ID": "123456789012", "ACCOUNT_CR_NAME": "tmpl-account",
                  "CCS_ACCOUNT_ID": '"123456789012"', "FED_USER": "tmpl-fed",
                  "OPERATOR_NAMESPACE": "tmpl-ns", "OPERATOR_ACCESS_KEY_ID": "QUtJQQ==",
                  "OPERATOR_SECRET_ACCESS_KEY": "c2VjcmV0", "OPERATOR_SESSION_TOKEN": ""}
        rendered = {}
        for t in sorted(glob.glob(os.path.join(UP, "hack__templates__*.tmpl"))):
            objs = render_template(t, dict(params))
            rendered[os.path.basename(t)] = objs
        assert len(rendered) >= 10
        for name, objs in rendered.items():
            if "accountpool" in name:
                continue  # carries the removed spec.poolType field: checked below
            for i, obj in enumerate(objs):
                if obj["kind"] == "Namespace":
                    continue
                md = obj["metadata"]
                md["name"] = "%s-%d" % (md["name"], len(name) + i) \
                    if obj["kind"] == "AccountClaim" else md["name"]
                k("apply", "-f", "-", input=json.dumps(obj))
        pool = rendered["hack__templates__aws.managed.openshift.io_v1alpha1_accountpool.tmpl"]
        p = k("apply", "-f", "-", input=json.dumps(pool[0]), check=False)
        assert p.returncode != 0
        assert 'strict decoding error: unknown field "spec.poolType"' in p.stderr
        # Without client validation kubectl sends fieldValidation=Ignore: the field is pruned.
        k("apply", "--validate=false", "-f", "-", input=json.dumps(pool[0]))
        got = json.loads(k("get", "accountpool", "-n", "aws-account-operator",
                           pool[0]["metadata"]["name"], "-o", "json").stdout)
        assert got["spec"] == {"poolSize": 3}
        out = k("get", "accounts", "-A").stdout
        assert out.split("\n")[0].split() == ["NAMESPACE", "NAME", "STATE", "CLAIMED", "CLAIM",
                                              "AGE"]
        assert "example-account" in out and "tmpl-account" in out
        for kind, n in [("accountclaims", 4), ("awsfederatedroles", 2),
                        ("awsfederatedaccountaccesses", 2), ("accountpools", 2)]:
            items = json.loads(k("get", kind, "-A", "-o", "json").stdout)["items"]
            assert len(items) >= n, (kind, [i["metadata"]["name"] for i in items])
        # Re-applying an unchanged file is a no-op; a changed one is a merge patch.
        p = k("apply", "-f", examples[-1])
        assert "unchanged" in p.stdout
    finally:
        f.stop()


def test_kubectl_get_columns_and_output_formats(fake, ns, kc):
    fake.ok("POST", "%s/namespaces/%s/accounts" % (G, ns), account("acc1", ns,
                                                                  claimLink="claim-a"))
    fake.ok("PATCH", "%s/namespaces/%s/accounts/acc1/status" % (G, ns),
            {"status": {"state": "Ready", "claimed": True}},
            ctype="application/merge-patch+json")
    out = kc("get", "accounts", "-n", ns).stdout.splitlines()
    assert out[0].split() == ["NAME", "STATE", "CLAIMED", "CLAIM", "AGE"]
    assert out[1].split()[:4] == ["acc1", "Ready", "true", "claim-a"]
    assert re.match(r"^\d+s$", out[1].split()[4])
    wide = kc("get", "accounts", "-n", ns, "-o", "wide").stdout
    assert "acc1" in wide and "Ready" in wide
    obj = json.loads(kc("get", "account", "acc1", "-n", ns, "-o", "json").stdout)
    assert obj["kind"] == "Account" and obj["status"]["state"] == "Ready"
    lst = json.loads(kc("get", "accounts", "-n", ns, "-o", "json").stdout)
    assert [i["metadata"]["name"] for i in lst["items"]] == ["acc1"]
    y = yaml.safe_load(kc("get", "account", "acc1", "-n", ns, "-o", "yaml").stdout)
    assert y["spec"]["claimLink"] == "claim-a"
    # The server-side Table itself.
    st, _, tbl = fake.req("GET", "%s/namespaces/%s/accounts" % (G, ns), headers={
        "Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"})
    assert st == 200 and tbl["kind"] == "Table"
    assert [c["name"] for c in tbl["columnDefinitions"]] == ["Name", "State", "Claimed",
                                                             "Claim", "Age"]
    assert tbl["rows"][0]["cells"][:4] == ["acc1", "Ready", True, "claim-a"]
    assert tbl["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    # Built-ins get Name/Age.
    out = kc("get", "configmaps", "-n", ns).stdout
    assert "No resources found" in out or out.split()[:2] == ["NAME", "AGE"] or out == ""


def test_kubectl_wait_and_delete(fake, ns, kc):
    fake.ok("POST", "%s/namespaces/%s/accounts" % (G, ns), account("acc1", ns))

    def later():
        time.sleep(0.7)
        fake.ok("PATCH", "%s/namespaces/%s/accounts/acc1/status" % (G, ns),
                {"status": {"state": "Ready"}}, ctype="application/merge-patch+json")
    t = threading.Thread(target=later)
    t.start()
    p = kc("wait", "-n", ns, "--for=jsonpath={.status.state}=Ready", "account/acc1",
           "--timeout=10s")
    t.join()
    assert "condition met" in p.stdout
    p = kc("delete", "-n", ns, "account", "acc1", "--timeout=10s")
    assert "deleted" in p.stdout
    assert fake.req("GET", "%s/namespaces/%s/accounts/acc1" % (G, ns))[0] == 404
    # kubectl wait --for=delete on something that is going away.
    fake.ok("POST", "/api/v1/namespaces/%s/configmaps" % ns, cm("c1"))

    def rm():
        time.sleep(0.5)
        fake.ok("DELETE", "/api/v1/namespaces/%s/configmaps/c1" % ns)
    t = threading.Thread(target=rm)
    t.start()
    kc("wait", "-n", ns, "--for=delete", "configmap/c1", "--timeout=10s")
    t.join()


def test_no_schema_stores_custom_resources_as_sent(tmp_path, crd_dir):
    """--no-schema: a custom resource the CRD schema refuses is stored as sent (a client
    is then tested with what a real server would refuse); built-in kinds still checked."""
    f = KubeFake(tmp_path, crds=crd_dir, extra=["--no-schema"]).start()
    try:
        f.ok("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                            "metadata": {"name": "n"}})
        bad = account("bad", "n")
        bad["spec"]["byoc"] = "yes"
        bad["spec"]["legalEntity"] = 7
        bad["spec"]["bogus"] = [1]
        st, _, body = f.req("POST", "%s/namespaces/n/accounts" % G, bad)
        assert st == 201, body
        assert body["spec"]["byoc"] == "yes" and body["spec"]["legalEntity"] == 7
        assert body["spec"]["bogus"] == [1]
        st, _, body = f.req("POST", "/api/v1/namespaces/n/secrets", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"k": "not base64!"}})
        assert st in (400, 422), body
    finally:
        f.stop()


def test_schema_violation_is_422_and_kubectl_error(fake, ns, kc):
    bad = account("bad", ns)
    del bad["spec"]["awsAccountID"]
    bad["spec"]["byoc"] = "yes"
    st, _, body = fake.req("POST", "%s/namespaces/%s/accounts" % (G, ns), bad)
    assert st == 422, body
    assert body["kind"] == "Status" and body["reason"] == "Invalid" and body["code"] == 422
    causes = {(c["field"], c["reason"]) for c in body["details"]["causes"]}
    assert ("spec.awsAccountID", "FieldValueRequired") in causes
    assert ("spec.byoc", "FieldValueTypeInvalid") in causes
    assert body["message"].startswith('Account.aws.managed.openshift.io "bad" is invalid: [')
    p = kc("apply", "-f", "-", input=json.dumps(bad), check=False)
    assert p.returncode != 0 and "is invalid" in p.stderr and "Required value" in p.stderr
    # Unknown fields: pruned (Ignore), warned (Warn, the default), refused (Strict).
    extra = account("extra", ns)
    extra["spec"]["bogus"] = 1
    st, hdrs, body = fake.req("POST", "%s/namespaces/%s/accounts" % (G, ns), extra)
    assert st == 201 and "bogus" not in body["spec"]
    assert 'unknown field \\"spec.bogus\\"' in hdrs.get("warning", "")
    extra["metadata"]["name"] = "extra2"
    st, _, body = fake.req("POST", "%s/namespaces/%s/accounts?fieldValidation=Strict" %
                           (G, ns), extra)
    assert st == 400 and 'unknown field "spec.bogus"' in body["message"]
    # Bad secret data.
    st, _, body = fake.req("POST", "/api/v1/namespaces/%s/secrets" % ns, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
        "data": {"k": "not base64!"}})
    assert st == 400 and "illegal base64" in body["message"]


def test_generate_name_and_already_exists(fake, ns):
    body = account("", ns)
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "osd-creds-mgmt-"
    names = set()
    for _ in range(3):
        obj = fake.ok("POST", "%s/namespaces/%s/accounts" % (G, ns), body)
        assert re.match(r"^osd-creds-mgmt-[bcdfghjklmnpqrstvwxz2456789]{5}$",
                        obj["metadata"]["name"])
        names.add(obj["metadata"]["name"])
    assert len(names) == 3
    fake.ok("POST", "%s/namespaces/%s/accounts" % (G, ns), account("a", ns))
    st, _, body = fake.req("POST", "%s/namespaces/%s/accounts" % (G, ns), account("a", ns))
    assert st == 409 and body["reason"] == "AlreadyExists"
    st, _, body = fake.req("POST", "%s/namespaces/nope/accounts" % G, account("a", "nope"))
    assert st == 404 and body["reason"] == "NotFound"


def test_update_conflicts_and_resource_versions(fake, ns):
    base = "%s/namespaces/%s/accounts" % (G, ns)
    obj = fake.ok("POST", base, account("a", ns))
    rv1 = obj["metadata"]["resourceVersion"]
    obj["spec"]["claimLink"] = "c1"
    obj2 = fake.ok("PUT", base + "/a", obj)
    rv2 = obj2["metadata"]["resourceVersion"]
    assert int(rv2) > int(rv1)
    obj["spec"]["claimLink"] = "c2"   # still carries rv1
    st, _, body = fake.req("PUT", base + "/a", obj)
    assert st == 409 and body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]
    del obj["metadata"]["resourceVersion"]
    st, _, body = fake.req("PUT", base + "/a", obj)
    assert st == 422 and "must be specified for an update" in body["message"]
    # No-op update keeps the resourceVersion.
    same = fake.ok("PUT", base + "/a", obj2)
    assert same["metadata"]["resourceVersion"] == rv2
    # Merge patch carrying a stale resourceVersion is a conflict; JSON patch test op.
    st, _, _ = fake.req("PATCH", base + "/a", {"metadata": {"resourceVersion": rv1}},
                        ctype="application/merge-patch+json")
    assert st == 409
    st, _, body = fake.req("PATCH", base + "/a", [
        {"op": "test", "path": "/spec/claimLink", "value": "nope"},
        {"op": "replace", "path": "/spec/claimLink", "value": "x"}],
        ctype="application/json-patch+json")
    assert st == 422
    got = fake.ok("PATCH", base + "/a", [
        {"op": "test", "path": "/spec/claimLink", "value": "c1"},
        {"op": "replace", "path": "/spec/claimLink", "value": "x"}],
        ctype="application/json-patch+json")
    assert got["spec"]["claimLink"] == "x"
    # Strategic merge patch: built-ins only; server-side apply is not implemented.
    st, _, body = fake.req("PATCH", base + "/a", {"spec": {}},
                           ctype="application/strategic-merge-patch+json")
    assert st == 415 and body["reason"] == "UnsupportedMediaType"
    st, _, _ = fake.req("PATCH", base + "/a", "{}", ctype="application/apply-patch+yaml")
    assert st == 415
    fake.ok("POST", "/api/v1/namespaces/%s/configmaps" % ns, {
        "metadata": {"name": "c", "finalizers": ["a/b"]}, "data": {"a": "1"}})
    got = fake.ok("PATCH", "/api/v1/namespaces/%s/configmaps/c" % ns,
                  {"data": {"b": "2"}, "metadata": {"finalizers": ["c/d"]}},
                  ctype="application/strategic-merge-patch+json")
    assert got["data"] == {"a": "1", "b": "2"}
    assert got["metadata"]["finalizers"] == ["a/b", "c/d"]
    # Built-ins allow unconditional update.
    got["data"] = {"z": "9"}
    del got["metadata"]["resourceVersion"]
    assert fake.ok("PUT", "/api/v1/namespaces/%s/configmaps/c" % ns, got)["data"] == {"z": "9"}
    # Every write bumps one global counter.
    rvs = [int(fake.ok("GET", p)["metadata"]["resourceVersion"]) for p in
           (base, "/api/v1/namespaces/%s/configmaps" % ns, "/api/v1/namespaces")]
    assert len(set(rvs)) == 1


def test_status_subresource_and_generation(fake, ns):
    base = "%s/namespaces/%s/accounts" % (G, ns)
    body = account("a", ns)
    body["status"] = {"state": "Ready"}
    obj = fake.ok("POST", base, body)
    assert "status" not in obj and obj["metadata"]["generation"] == 1
    # Main resource ignores .status; unchanged spec means no write at all.
    obj["status"] = {"state": "Failed"}
    same = fake.ok("PUT", base + "/a", obj)
    assert "status" not in same and same["metadata"]["generation"] == 1
    assert same["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    # Status endpoint changes only .status, no generation bump.
    obj["spec"]["claimLink"] = "ignored"
    obj["metadata"]["labels"] = {"ignored": "yes"}
    st = fake.ok("PUT", base + "/a/status", obj)
    assert st["status"] == {"state": "Failed"} and st["spec"]["claimLink"] == ""
    assert "labels" not in st["metadata"] and st["metadata"]["generation"] == 1
    # Metadata-only change: no bump; spec change: bump.
    m = fake.ok("PATCH", base + "/a", {"metadata": {"labels": {"x": "y"}}},
                ctype="application/merge-patch+json")
    assert m["metadata"]["generation"] == 1
    s = fake.ok("PATCH", base + "/a", {"spec": {"claimLink": "c"}},
                ctype="application/merge-patch+json")
    assert s["metadata"]["generation"] == 2 and s["status"] == {"state": "Failed"}
    assert fake.req("PUT", "/api/v1/namespaces/%s/configmaps/x/status" % ns, {})[0] == 404


def test_finalizers_and_deletion_timestamp(fake, ns):
    base = "%s/namespaces/%s/accounts" % (G, ns)
    body = account("a", ns)
    body["metadata"]["finalizers"] = ["finalizer.aws.managed.openshift.io"]
    obj = fake.ok("POST", base, body)
    w = fake.watch(base, resourceVersion=obj["metadata"]["resourceVersion"])
    d = fake.ok("DELETE", base + "/a", {"kind": "DeleteOptions", "apiVersion": "v1",
                                        "propagationPolicy": "Background"})
    assert d["metadata"]["deletionTimestamp"] and d["metadata"]["deletionGracePeriodSeconds"] == 0
    assert d["metadata"]["generation"] == 2
    still = fake.ok("GET", base + "/a")
    assert still["metadata"]["deletionTimestamp"]
    st, _, body = fake.req("PATCH", base + "/a", {"metadata": {"finalizers": [
        "finalizer.aws.managed.openshift.io", "new/one"]}},
        ctype="application/merge-patch+json")
    assert st == 422 and "no new finalizers can be added" in body["message"]
    # Spec may still change while deleting.
    fake.ok("PATCH", base + "/a", {"spec": {"claimLink": "z"}},
            ctype="application/merge-patch+json")
    fake.ok("PATCH", base + "/a", {"metadata": {"finalizers": None}},
            ctype="application/merge-patch+json")
    assert fake.req("GET", base + "/a")[0] == 404
    evs = w.take(4)
    w.close()
    assert [e["type"] for e in evs] == ["MODIFIED", "MODIFIED", "MODIFIED", "DELETED"]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
    assert rvs == sorted(set(rvs))
    # Delete preconditions.
    obj = fake.ok("POST", base, account("b", ns))
    st, _, body = fake.req("DELETE", base + "/b", {"preconditions": {"uid": "other"}})
    assert st == 409 and "Precondition failed" in body["message"]
    st, _, body = fake.req("DELETE", base + "/b", {"preconditions": {
        "resourceVersion": obj["metadata"]["resourceVersion"]}})
    assert st == 200


def owned_cm(name, owner, **extra):
    o = cm(name)
    o["metadata"]["ownerReferences"] = [{
        "apiVersion": owner["apiVersion"], "kind": owner["kind"],
        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
        "controller": True, "blockOwnerDeletion": True}]
    o["metadata"].update(extra)
    return o


def test_owner_reference_garbage_collection(fake, ns):
    base = "%s/namespaces/%s/accounts" % (G, ns)
    cms = "/api/v1/namespaces/%s/configmaps" % ns
    a = fake.ok("POST", base, account("owner", ns))
    b = fake.ok("POST", base, account("owner2", ns))
    fake.ok("POST", cms, owned_cm("dep", a))
    fake.ok("POST", cms, owned_cm("dep-fin", a, finalizers=["x/y"]))
    two = owned_cm("dep-two", a)
    two["metadata"]["ownerReferences"].append({
        "apiVersion": b["apiVersion"], "kind": "Account", "name": "owner2",
        "uid": b["metadata"]["uid"]})
    fake.ok("POST", cms, two)
    fake.ok("DELETE", base + "/owner")
    wait_for(lambda: fake.req("GET", cms + "/dep")[0] == 404, what="dependent deleted")
    fin = wait_for(lambda: fake.ok("GET", cms + "/dep-fin")["metadata"].get(
        "deletionTimestamp"), what="dependent with finalizer marked")
    assert fin
    t = wait_for(lambda: len(fake.ok("GET", cms + "/dep-two")["metadata"]
                             ["ownerReferences"]) == 1, what="dangling ref removed")
    assert t
    # Foreground: owner stays until its dependents are gone.
    c = fake.ok("POST", base, account("fg", ns))
    fake.ok("POST", cms, owned_cm("fg-dep", c, finalizers=["hold/on"]))
    d = fake.ok("DELETE", base + "/fg", {"propagationPolicy": "Foreground"})
    assert "foregroundDeletion" in d["metadata"]["finalizers"]
    wait_for(lambda: fake.ok("GET", cms + "/fg-dep")["metadata"].get("deletionTimestamp"),
             what="foreground dependent marked")
    assert fake.req("GET", base + "/fg")[0] == 200
    fake.ok("PATCH", cms + "/fg-dep", [{"op": "remove", "path": "/metadata/finalizers"}],
            ctype="application/json-patch+json")
    wait_for(lambda: fake.req("GET", base + "/fg")[0] == 404, what="foreground owner gone")
    # Orphan: dependents lose the reference and survive.
    e = fake.ok("POST", base, account("orph", ns))
    fake.ok("POST", cms, owned_cm("orph-dep", e))
    fake.ok("DELETE", base + "/orph", {"propagationPolicy": "Orphan"})
    wait_for(lambda: fake.req("GET", base + "/orph")[0] == 404, what="orphaning owner gone")
    assert "ownerReferences" not in fake.ok("GET", cms + "/orph-dep")["metadata"]
    # Namespace deletion removes everything inside, then the namespace. The
    # object still holding a finalizer keeps the namespace Terminating, so the
    # refusal of new objects is observable without racing the collector.
    nso = fake.ok("DELETE", "/api/v1/namespaces/%s" % ns)
    assert nso["status"]["phase"] == "Terminating"
    st, _, body = fake.req("POST", cms, cm("late"))
    assert st == 403 and body["reason"] == "Forbidden"
    fake.ok("PATCH", cms + "/dep-fin", {"metadata": {"finalizers": None}},
            ctype="application/merge-patch+json")
    wait_for(lambda: fake.req("GET", "/api/v1/namespaces/%s" % ns)[0] == 404,
             what="namespace gone")
    assert fake.ok("GET", cms)["items"] == []


def test_list_pagination_and_expired_continue(fake, ns):
    cms = "/api/v1/namespaces/%s/configmaps" % ns
    for i in range(7):
        fake.ok("POST", cms, cm("c%d" % i))
    p1 = fake.ok("GET", cms + "?limit=3")
    assert [i["metadata"]["name"] for i in p1["items"]] == ["c0", "c1", "c2"]
    assert p1["metadata"]["remainingItemCount"] == 4 and p1["metadata"]["continue"]
    fake.ok("POST", cms, cm("c00"))  # not in the consistent snapshot
    p2 = fake.ok("GET", cms + "?limit=3&continue=" + p1["metadata"]["continue"])
    assert [i["metadata"]["name"] for i in p2["items"]] == ["c3", "c4", "c5"]
    assert p2["metadata"]["resourceVersion"] == p1["metadata"]["resourceVersion"]
    p3 = fake.ok("GET", cms + "?limit=3&continue=" + p2["metadata"]["continue"])
    assert [i["metadata"]["name"] for i in p3["items"]] == ["c6"]
    assert "continue" not in p3["metadata"]
    # At resourceVersion=0 the real server answers from its watch cache,
    # which ignores limit.
    whole = fake.ok("GET", cms + "?limit=3&resourceVersion=0")
    assert len(whole["items"]) == 8 and "continue" not in whole["metadata"]
    p1 = fake.ok("GET", cms + "?limit=2")
    fake.control("POST", "compact")
    st, _, body = fake.req("GET", cms + "?limit=2&continue=" + p1["metadata"]["continue"])
    assert st == 410 and body["reason"] == "Expired" and body["kind"] == "Status"
    st, _, body = fake.req("GET", cms + "?limit=2&continue=garbage")
    assert st == 400


def test_watch_resume_after_drop_no_miss_no_duplicate(fake, ns):
    cms = "/api/v1/namespaces/%s/configmaps" % ns
    fake.ok("POST", cms, cm("pre"))
    lst = fake.ok("GET", cms)
    w = fake.watch(cms, resourceVersion=lst["metadata"]["resourceVersion"],
                   allowWatchBookmarks="true")
    wait_for(lambda: any(ns in x["path"] for x in fake.control("GET", "watches")["watches"]),
             what="watch registered")
    expected = []
    for i in range(3):
        o = fake.ok("POST", cms, cm("a%d" % i))
        expected.append(("ADDED", "a%d" % i, o["metadata"]["resourceVersion"]))
    seen = []
    last_rv = lst["metadata"]["resourceVersion"]
    for ev in w.take(3):
        seen.append((ev["type"], ev["object"]["metadata"]["name"],
                     ev["object"]["metadata"]["resourceVersion"]))
        last_rv = ev["object"]["metadata"]["resourceVersion"]
    assert fake.control("POST", "drop-watches")["dropped"] >= 1
    try:
        assert w.next(timeout=3) is None
    except Exception:  # noqa: BLE001 - an abrupt close may surface as an error
        pass
    w.close()
    # Changes while no watch is open.
    o = fake.ok("PATCH", cms + "/a0", {"data": {"k": "v"}},
                ctype="application/merge-patch+json")
    expected.append(("MODIFIED", "a0", o["metadata"]["resourceVersion"]))
    o = fake.ok("DELETE", cms + "/a1")
    gone_rv = int(fake.ok("GET", cms)["metadata"]["resourceVersion"])
    expected.append(("DELETED", "a1", str(gone_rv)))
    fake.ok("POST", "/api/v1/namespaces/default/configmaps", cm("noise-" + ns))
    w2 = fake.watch(cms, resourceVersion=last_rv)
    o = fake.ok("POST", cms, cm("b0"))
    expected.append(("ADDED", "b0", o["metadata"]["resourceVersion"]))
    for ev in w2.take(3):
        seen.append((ev["type"], ev["object"]["metadata"]["name"],
                     ev["object"]["metadata"]["resourceVersion"]))
    with pytest.raises(Exception):
        extra = w2.next(timeout=0.5)
        if extra is None:
            raise TimeoutError
        raise AssertionError("unexpected extra event %r" % (extra,))
    w2.close()
    assert seen == expected
    # Absent resourceVersion: synthetic ADDED for what exists now.
    w3 = fake.watch(cms)
    names = sorted(e["object"]["metadata"]["name"] for e in w3.take(4))
    w3.close()
    assert names == ["a0", "a2", "b0", "pre"]


def test_compaction_gives_410(fake, ns, tmp_path):
    cms = "/api/v1/namespaces/%s/configmaps" % ns
    old = fake.ok("GET", cms)["metadata"]["resourceVersion"]
    fake.ok("POST", cms, cm("x"))
    horizon = fake.control("POST", "compact")["horizon"]
    w = fake.watch(cms, resourceVersion=old)
    assert w.status == 200
    ev = w.next()
    assert ev["type"] == "ERROR"
    assert ev["object"]["code"] == 410 and ev["object"]["reason"] == "Expired"
    assert "too old resource version" in ev["object"]["message"]
    assert w.next() is None
    w.close()
    # From the horizon itself nothing is missing: the watch is accepted.
    w = fake.watch(cms, resourceVersion=horizon)
    fake.ok("POST", cms, cm("y"))
    ev = w.take(1)[0]
    w.close()
    assert ev["type"] == "ADDED" and ev["object"]["metadata"]["name"] == "y"
    # A bounded history overflows like etcd compaction; --watch-too-old http answers the
    # watch start with HTTP 410 instead of an ERROR event.
    f = KubeFake(tmp_path / "h", extra=["--watch-too-old", "http", "--history", "4"]).start()
    try:
        cms = "/api/v1/namespaces/default/configmaps"
        start = f.ok("GET", cms)["metadata"]["resourceVersion"]
        for i in range(8):
            f.ok("POST", cms, cm("x%d" % i))
        w = f.watch(cms, resourceVersion=start)
        assert w.status == 410 and w.body["reason"] == "Expired"
        w.close()
        recent = f.ok("GET", cms)["metadata"]["resourceVersion"]
        w = f.watch(cms, resourceVersion=str(int(recent) - 2))
        assert [e["object"]["metadata"]["name"] for e in w.take(2)] == ["x6", "x7"]
        w.close()
    finally:
        f.stop()


def test_bookmarks_and_timeout(fake, ns):
    cms = "/api/v1/namespaces/%s/configmaps" % ns
    o = fake.ok("POST", cms, cm("x"))
    start = time.monotonic()
    w = fake.watch(cms, resourceVersion=o["metadata"]["resourceVersion"],
                   allowWatchBookmarks="true", timeoutSeconds="1")
    evs = []
    while True:
        ev = w.next(timeout=5)
        if ev is None:
            break
        evs.append(ev)
    w.close()
    elapsed = time.monotonic() - start
    assert 0.9 <= elapsed < 3.0
    bms = [e for e in evs if e["type"] == "BOOKMARK"]
    assert bms and all(set(b["object"]) == {"kind", "apiVersion", "metadata"} for b in bms)
    assert all(set(b["object"]["metadata"]) == {"resourceVersion"} for b in bms)
    assert int(bms[-1]["object"]["metadata"]["resourceVersion"]) >= \
        int(o["metadata"]["resourceVersion"])
    # Initial events end with an annotated bookmark.
    w = fake.watch(cms, sendInitialEvents="true", allowWatchBookmarks="true",
                   resourceVersionMatch="NotOlderThan")
    a = w.next()
    b = w.next()
    w.close()
    assert a["type"] == "ADDED" and b["type"] == "BOOKMARK"
    assert b["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_label_and_field_selectors(fake, ns):
    cms = "/api/v1/namespaces/%s/configmaps" % ns
    fake.ok("POST", cms, cm("a", {"app": "x", "tier": "web"}))
    fake.ok("POST", cms, cm("b", {"app": "y"}))
    fake.ok("POST", cms, cm("c", {}))

    def names(sel, fsel=None):
        q = {"labelSelector": sel}
        if fsel:
            q["fieldSelector"] = fsel
        return [i["metadata"]["name"] for i in fake.ok("GET", cms, query=q)["items"]]
    assert names("app=x") == ["a"]
    assert names("app==x") == ["a"]
    assert names("app!=x") == ["b", "c"]
    assert names("app in (x,y)") == ["a", "b"]
    assert names("app notin (x)") == ["b", "c"]
    assert names("app") == ["a", "b"]
    assert names("!app") == ["c"]
    assert names("app,tier=web") == ["a"]
    assert names("", "metadata.name=b") == ["b"]
    assert names("", "metadata.name!=b") == ["a", "c"]
    assert names("", "metadata.namespace=%s" % ns) == ["a", "b", "c"]
    assert fake.req("GET", cms, query={"labelSelector": "app in (x"})[0] == 400
    assert fake.req("GET", cms, query={"fieldSelector": "data.x=1"})[0] == 400
    # Watches: leaving the selection is DELETED, entering is ADDED.
    rv = fake.ok("GET", cms)["metadata"]["resourceVersion"]
    w = fake.watch(cms, resourceVersion=rv, labelSelector="app=x")
    fake.ok("PATCH", cms + "/a", {"metadata": {"labels": {"app": "z"}}},
            ctype="application/merge-patch+json")
    fake.ok("PATCH", cms + "/b", {"metadata": {"labels": {"app": "x"}}},
            ctype="application/merge-patch+json")
    fake.ok("PATCH", cms + "/b", {"data": {"k": "v"}}, ctype="application/merge-patch+json")
    fake.ok("PATCH", cms + "/c", {"data": {"k": "v"}}, ctype="application/merge-patch+json")
    evs = [(e["type"], e["object"]["metadata"]["name"]) for e in w.take(3)]
    w.close()
    assert evs == [("DELETED", "a"), ("ADDED", "b"), ("MODIFIED", "b")]


def test_fail_injection_and_latency(fake, ns, kc):
    cms = "/api/v1/namespaces/%s/configmaps" % ns
    fake.control("POST", "fail", {"count": 2, "code": 429, "method": "GET",
                                  "path_regex": "/configmaps$", "retry_after": 1})
    st, hdrs, body = fake.req("GET", cms)
    assert st == 429 and hdrs["retry-after"] == "1"
    assert body["reason"] == "TooManyRequests" and body["details"]["retryAfterSeconds"] == 1
    # kubectl (client-go) honours Retry-After and retries.
    since = fake.control("GET", "requests")["last"]
    t0 = time.monotonic()
    kc("get", "configmaps", "-n", ns)
    assert time.monotonic() - t0 >= 0.9
    log = [r for r in fake.control("GET", "requests?since=%d" % since)["requests"]
           if r["path"] == cms]
    assert [r["status"] for r in log] == [429, 200]
    assert fake.req("GET", cms)[0] == 200
    fake.control("POST", "fail", {"count": 1, "code": 500, "method": "PUT"})
    fake.ok("POST", cms, cm("a"))
    st, _, body = fake.req("PUT", cms + "/a", cm("a"))
    assert st == 500 and body["reason"] == "InternalError"
    fake.control("POST", "fail", {"count": 1, "code": 409, "path_regex": "/configmaps/a$"})
    st, _, body = fake.req("GET", cms + "/a")
    assert st == 409 and body["reason"] == "Conflict"
    fake.control("POST", "latency", {"ms": 300, "path_regex": "/configmaps/a$", "count": 1})
    t0 = time.monotonic()
    fake.ok("GET", cms + "/a")
    assert time.monotonic() - t0 >= 0.29
    fake.control("POST", "fail", {"count": 1, "drop": True, "path_regex": "/configmaps/a$"})
    with pytest.raises(Exception):
        fake.req("GET", cms + "/a")
    # The log records method, path, query, status; reset-log empties it.
    fake.control("POST", "reset-log")
    fake.req("GET", cms, query={"limit": "1"})
    log = fake.control("GET", "requests")["requests"]
    assert [(r["method"], r["path"], r["query"], r["status"]) for r in log] == [
        ("GET", cms, "limit=1", 200)]


def test_protobuf_is_415(fake, ns, kc):
    st, _, body = fake.req("POST", "/api/v1/namespaces", b"\x6b\x38\x73\x00",
                           ctype="application/vnd.kubernetes.protobuf")
    assert st == 415 and body["kind"] == "Status" and body["reason"] == "UnsupportedMediaType"
    p = kc("create", "namespace", "pb-" + ns, check=False)
    assert p.returncode != 0 and "unknown format" in p.stderr


def test_discovery_and_openapi(fake):
    apis = fake.ok("GET", "/apis")
    names = {g["name"] for g in apis["groups"]}
    assert {"aws.managed.openshift.io", "apiextensions.k8s.io",
            "coordination.k8s.io"} <= names
    rl = fake.ok("GET", G)
    res = {r["name"]: r for r in rl["resources"]}
    for plural in ("accounts", "accountclaims", "accountpools", "awsfederatedroles",
                   "awsfederatedaccountaccesses"):
        assert res[plural]["namespaced"] and "watch" in res[plural]["verbs"]
        assert plural + "/status" in res
    core = {r["name"] for r in fake.ok("GET", "/api/v1")["resources"]}
    assert {"namespaces", "secrets", "configmaps", "events"} <= core
    idx = fake.ok("GET", "/openapi/v3")["paths"]
    url = idx["apis/aws.managed.openshift.io/v1alpha1"]["serverRelativeURL"]
    doc = fake.ok("GET", url)
    patch = doc["paths"]["/apis/aws.managed.openshift.io/v1alpha1/namespaces/{namespace}/"
                         "accounts/{name}"]["patch"]
    assert any(p["name"] == "fieldValidation" for p in patch["parameters"])
    assert patch["x-kubernetes-group-version-kind"]["kind"] == "Account"


def test_leases_events_and_secrets(fake, ns):
    lease = fake.ok("POST", "/apis/coordination.k8s.io/v1/namespaces/%s/leases" % ns, {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}})
    lease["spec"]["holderIdentity"] = "b"
    fake.ok("PUT", "/apis/coordination.k8s.io/v1/namespaces/%s/leases/l" % ns, lease)
    st, _, _ = fake.req("PUT", "/apis/coordination.k8s.io/v1/namespaces/%s/leases/l" % ns, lease)
    assert st == 409  # second writer with the old resourceVersion loses
    fake.ok("POST", "/api/v1/namespaces/%s/events" % ns, {
        "metadata": {"name": "e1"}, "reason": "Test", "message": "m",
        "involvedObject": {"kind": "Account", "name": "a", "namespace": ns}})
    s = fake.ok("POST", "/api/v1/namespaces/%s/secrets" % ns, {
        "metadata": {"name": "s"}, "stringData": {"aws_access_key_id": "AKIA"},
        "data": {"other": "eA=="}})
    assert s["data"] == {"aws_access_key_id": "QUtJQQ==", "other": "eA=="}
    assert "stringData" not in s and s["type"] == "Opaque"
    st, _, body = fake.req("DELETE", "/api/v1/namespaces/%s/secrets/s" % ns)
    assert st == 200 and body["kind"] == "Status" and body["status"] == "Success"


def test_crd_lifecycle(fake, tmp_path):
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Cluster",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": True, "storage": True,
                                  "schema": {"openAPIV3Schema": {
                                      "type": "object", "properties": {
                                          "spec": {"type": "object",
                                                   "x-kubernetes-preserve-unknown-fields": True,
                                                   "properties": {
                                                       "size": {"x-kubernetes-int-or-string":
                                                                True},
                                                       "note": {"type": "string",
                                                                "nullable": True},
                                                       "mode": {"type": "string",
                                                                "default": "auto",
                                                                "enum": ["auto", "manual"]}}}}}}}]}}
    fake.ok("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    w = fake.ok("POST", "/apis/example.com/v1/widgets", {
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},
        "spec": {"size": "10%", "note": None, "free": {"a": 1}}})
    assert w["spec"] == {"size": "10%", "note": None, "free": {"a": 1}, "mode": "auto"}
    st, _, body = fake.req("POST", "/apis/example.com/v1/widgets", {
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w2"},
        "spec": {"size": 1.5, "mode": "other"}})
    assert st == 422
    assert {c["reason"] for c in body["details"]["causes"]} >= {"FieldValueNotSupported"}
    fake.ok("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                      "widgets.example.com")
    assert fake.req("GET", "/apis/example.com/v1/widgets")[0] == 404


GADGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
    - name: v1
      served: true
      storage: true
      additionalPrinterColumns:
        - {name: State, type: string, jsonPath: .status.state, description: New, Ready or Failed}
      schema:
        openAPIV3Schema:
          type: object
          properties:
            status: {type: object, properties: {state: {type: string, description: A, B.}}}
"""


def test_crd_unknown_fields_are_strict_errors(fake, kc, tmp_path):
    """An unquoted comma in a YAML flow mapping makes a key of its own. The
    real server refuses such a CRD under kubectl's default strict validation
    (kustomize keeps the null-valued key; plain `apply -f` drops nulls)."""
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "gadget.yaml").write_text(GADGET_CRD)
    (tmp_path / "k" / "kustomization.yaml").write_text("resources: [gadget.yaml]\n")
    p = kc("apply", "-k", str(tmp_path / "k"), check=False)
    assert p.returncode != 0
    assert ('strict decoding error: unknown field "spec.versions[0].additionalPrinterColumns[0]'
            '.Ready or Failed", unknown field "spec.versions[0].schema.openAPIV3Schema.'
            'properties.status.properties.state.B."') in p.stderr, p.stderr
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    assert fake.req("GET", path + "/gadgets.example.com")[0] == 404
    # Without strict validation: a warning, and the unknown field dropped.
    crd = yaml.safe_load(GADGET_CRD)
    st, hdrs, body = fake.req("POST", path + "?fieldValidation=Warn", crd)
    assert st == 201, body
    assert 'unknown field' in hdrs.get("warning", ""), hdrs
    assert body["spec"]["versions"][0]["additionalPrinterColumns"][0] == {
        "name": "State", "type": "string", "jsonPath": ".status.state", "description": "New"}
    fake.ok("DELETE", path + "/gadgets.example.com")


def test_tls_and_token(tmp_path):
    f = KubeFake(tmp_path / "tls", tls=True).start()
    try:
        assert f.url.startswith("https://127.0.0.1:") and f.token
        cfg = yaml.safe_load(open(f.kubeconfig))
        assert cfg["clusters"][0]["cluster"]["certificate-authority-data"]
        st, _, body = f.req("GET", "/api/v1/namespaces", auth=False)
        assert st == 401 and body["reason"] == "Unauthorized"
        out = f.kubectl("get", "namespaces", cache_dir=tmp_path / "c").stdout
        assert "default" in out
        f.kubectl("apply", "-f", CRDS[0], cache_dir=tmp_path / "c")
        p = subprocess.run([KUBECTL, "--kubeconfig", f.kubeconfig, "--cache-dir",
                            str(tmp_path / "c"), "--token", "wrong", "get", "ns"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0 and "Unauthorized" in p.stderr
    finally:
        f.stop()


def test_concurrent_writers_and_watch_cleanup(fake, ns):
    """Threaded server: concurrent writes, a watch sees every one in resourceVersion order;
    a watch whose client went away is unregistered."""
    cms = "/api/v1/namespaces/%s/configmaps" % ns
    for i in range(4):
        fake.ok("POST", cms, cm("w%d" % i, data={"n": "0"}))
    rv = fake.ok("GET", cms)["metadata"]["resourceVersion"]
    w = fake.watch(cms, resourceVersion=rv)
    errors = []

    def writer(i):
        try:
            for n in range(1, 26):
                fake.ok("PATCH", "%s/w%d" % (cms, i), {"data": {"n": str(n)}},
                        ctype="application/merge-patch+json")
        except AssertionError as e:
            errors.append(e)
    ts = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    evs = w.take(100, timeout=5)
    w.close()
    assert len(evs) == 100 and all(e["type"] == "MODIFIED" for e in evs)
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
    assert rvs == sorted(rvs) and len(set(rvs)) == 100
    for i in range(4):
        seq = [int(e["object"]["data"]["n"]) for e in evs
               if e["object"]["metadata"]["name"] == "w%d" % i]
        assert seq == list(range(1, 26))
    wait_for(lambda: not any(ns in x["path"] for x in fake.control("GET", "watches")
                             ["watches"]), timeout=5, what="closed watch unregistered")
