"""The Kubernetes stand-in and the genuine kube-apiserver answer alike where
the operator depends on them: the same requests go to both peers and the
same answers are asserted. A difference found here is a bug in the stand-in
(or in our reading of the server), fixed with a row below.

Run: /usr/bin/python3 -m pytest -q test/fakes/tests/test_kube_parity.py
"""
import os
import uuid

import pytest
import yaml

from envtest_util import REPO, Envtest, wait_for
from kubefake_util import KubeFake

CRDS = os.path.join(REPO, "crds")
GV = "/apis/aws.managed.openshift.io/v1alpha1"


@pytest.fixture(scope="module", params=["stand-in", "genuine"])
def kube(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(request.param)
    k = (KubeFake(d, crds=CRDS) if request.param == "stand-in"
         else Envtest(d, controller_manager=True, crds=CRDS)).start()
    k.kind = request.param
    yield k
    k.stop()


@pytest.fixture
def ns(kube):
    name = "p-" + uuid.uuid4().hex[:8]
    kube.ok("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    return name


def account(name, **spec):
    s = {"awsAccountID": "", "iamUserSecret": "", "claimLink": "",
         "legalEntity": {"id": "", "name": ""}}
    s.update(spec)
    return {"apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "Account",
            "metadata": {"name": name}, "spec": s}


def test_consistent_lists_paginate_and_rv0_lists_do_not(kube, ns):
    path = "/api/v1/namespaces/%s/configmaps" % ns
    for i in range(5):
        kube.ok("POST", path, {"metadata": {"name": "c%d" % i}, "data": {}})
    p1 = kube.ok("GET", path + "?limit=2")
    assert len(p1["items"]) == 2 and p1["metadata"].get("continue")
    p2 = kube.ok("GET", path + "?limit=2&continue=" + p1["metadata"]["continue"])
    assert len(p2["items"]) == 2
    whole = kube.ok("GET", path + "?limit=2&resourceVersion=0")
    assert len(whole["items"]) == 5 and not whole["metadata"].get("continue")


def test_stale_update_is_409_and_status_ignores_spec(kube, ns):
    path = "%s/namespaces/%s/accounts" % (GV, ns)
    a = kube.ok("POST", path, account("a1"))
    kube.ok("PATCH", path + "/a1", {"spec": {"claimLink": "x"}},
            ctype="application/merge-patch+json")
    stale = dict(a, status={"state": "Ready"})
    st, _, body = kube.req("PUT", path + "/a1/status", stale)
    assert st == 409 and body["reason"] == "Conflict", body
    cur = kube.ok("GET", path + "/a1")
    cur["status"] = {"state": "Ready"}
    cur["spec"]["claimLink"] = "ignored"
    out = kube.ok("PUT", path + "/a1/status", cur)
    assert out["status"]["state"] == "Ready" and out["spec"]["claimLink"] == "x"
    # And a normal update ignores status.
    out["status"] = {"state": "Failed"}
    out = kube.ok("PUT", path + "/a1", out)
    assert out["status"]["state"] == "Ready"


def test_schema_violation_is_422_with_causes(kube, ns):
    st, _, body = kube.req("POST", "%s/namespaces/%s/accountpools" % (GV, ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountPool",
        "metadata": {"name": "p"}, "spec": {"poolSize": "three"}})
    assert st == 422 and body["reason"] == "Invalid", body
    assert any(c["field"] == "spec.poolSize" for c in body["details"]["causes"]), body


def test_unknown_fields_strict_is_400_warn_prunes(kube, ns):
    path = "%s/namespaces/%s/accounts" % (GV, ns)
    obj = account("u1")
    obj["spec"]["bogus"] = 1
    st, _, body = kube.req("POST", path + "?fieldValidation=Strict", obj)
    assert st == 400 and 'unknown field "spec.bogus"' in body["message"], body
    st, hdrs, body = kube.req("POST", path + "?fieldValidation=Warn", obj)
    assert st == 201 and "bogus" not in body["spec"]
    assert 'unknown field \\"spec.bogus\\"' in hdrs.get("warning", ""), hdrs


def test_crd_with_unknown_fields_is_refused_under_strict(kube):
    crd = yaml.safe_load("""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
    - name: v1
      served: true
      storage: true
      additionalPrinterColumns:
        - {name: State, type: string, jsonPath: .status.state, description: A, B}
      schema: {openAPIV3Schema: {type: object}}
""")
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    st, _, body = kube.req("POST", path + "?fieldValidation=Strict", crd)
    assert st == 400, body
    assert 'unknown field "spec.versions[0].additionalPrinterColumns[0].B"' \
        in body["message"], body


def test_finalizer_holds_deletion_until_removed(kube, ns):
    path = "%s/namespaces/%s/accounts" % (GV, ns)
    obj = account("f1")
    obj["metadata"]["finalizers"] = ["finalizer.aws.managed.openshift.io"]
    kube.ok("POST", path, obj)
    kube.ok("DELETE", path + "/f1")
    held = kube.ok("GET", path + "/f1")
    assert held["metadata"].get("deletionTimestamp")
    kube.ok("PATCH", path + "/f1", {"metadata": {"finalizers": None}},
            ctype="application/merge-patch+json")
    wait_for(lambda: kube.req("GET", path + "/f1")[0] == 404, timeout=10,
             what="deleted after the finalizer went")


def test_owner_reference_gc_deletes_dependents(kube, ns):
    pools = "%s/namespaces/%s/accountpools" % (GV, ns)
    pool = kube.ok("POST", pools, {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountPool",
        "metadata": {"name": "owner"}, "spec": {"poolSize": 1}})
    dep = account("dep")
    dep["metadata"]["ownerReferences"] = [{
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountPool",
        "name": "owner", "uid": pool["metadata"]["uid"], "controller": True,
        "blockOwnerDeletion": True}]
    kube.ok("POST", "%s/namespaces/%s/accounts" % (GV, ns), dep)
    kube.ok("DELETE", pools + "/owner")
    wait_for(lambda: kube.req("GET", "%s/namespaces/%s/accounts/dep" % (GV, ns))[0] == 404,
             timeout=30, what="dependent collected")
