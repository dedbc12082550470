"""Our CRDs (crds/) against upstream's (test/testdata/upstream/).

Compatibility contract: every object valid under the
upstream CRDs is valid under ours, and the reverse, so either operator can
serve the other's objects. Shown three ways: the schemas accept the same
fields with the same types and required sets; every upstream example custom
resource validates under ours; and thousands of random objects generated from
either schema validate under both.
"""
import glob
import os
import random

import jsonschema
import pytest
import yaml

from conftest import REPO, UPSTREAM as UP
KINDS = ["accounts", "accountclaims", "accountpools", "awsfederatedroles",
         "awsfederatedaccountaccesses"]


def load_crd(path):
    with open(path) as f:
        return yaml.safe_load(f)


def ours(kind):
    return load_crd(os.path.join(REPO, "crds", f"aws.managed.openshift.io_{kind}.yaml"))


def theirs(kind):
    return load_crd(os.path.join(UP, f"deploy__crds__aws.managed.openshift.io_{kind}.yaml"))


def version(crd):
    vs = crd["spec"]["versions"]
    assert len(vs) == 1 and vs[0]["name"] == "v1alpha1"
    return vs[0]


def to_jsonschema(s):
    """Kubernetes structural schema node -> JSON Schema.

    Drops x-kubernetes-* and documentation keys; objects with declared
    properties reject unknown fields (the API server prunes them, so a
    generated object carrying one would not round-trip).
    """
    out = {}
    for k, v in s.items():
        if k.startswith("x-kubernetes-") or k == "description":
            continue
        if k == "properties":
            out[k] = {name: to_jsonschema(sub) for name, sub in v.items()}
        elif k in ("items", "additionalProperties") and isinstance(v, dict):
            out[k] = to_jsonschema(v)
        else:
            out[k] = v
    if "properties" in s and "additionalProperties" not in s:
        out["additionalProperties"] = False
    return out


def validator(crd):
    schema = to_jsonschema(version(crd)["schema"]["openAPIV3Schema"])
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft7Validator(schema)


def shape(s, path="$"):
    """{path: (type, sorted required)} for every node of a schema."""
    out = {path: (s.get("type"), tuple(sorted(s.get("required", []))))}
    for k, v in s.get("properties", {}).items():
        if k == "metadata":
            continue
        out.update(shape(v, f"{path}.{k}"))
    if isinstance(s.get("additionalProperties"), dict):
        out.update(shape(s["additionalProperties"], f"{path}{{*}}"))
    if "items" in s:
        out.update(shape(s["items"], f"{path}[]"))
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_identity_and_subresources(kind):
    o, t = ours(kind), theirs(kind)
    assert o["metadata"]["name"] == t["metadata"]["name"]
    for key in ("group", "names", "scope"):
        assert o["spec"][key] == t["spec"][key], key
    ov, tv = version(o), version(t)
    assert ov["served"] and ov["storage"]
    assert ov["subresources"] == {"status": {}}


@pytest.mark.parametrize("kind", KINDS)
def test_upstream_printer_columns_kept(kind):
    ocols = [(c["name"], c["jsonPath"], c["type"])
             for c in version(ours(kind))["additionalPrinterColumns"]
             if c.get("priority", 0) == 0]
    tcols = [(c["name"], c["jsonPath"], c["type"])
             for c in version(theirs(kind))["additionalPrinterColumns"]]
    assert ocols == tcols


@pytest.mark.parametrize("kind", KINDS)
def test_same_fields_types_and_required(kind):
    o = shape(version(ours(kind))["schema"]["openAPIV3Schema"])
    t = shape(version(theirs(kind))["schema"]["openAPIV3Schema"])
    assert sorted(o) == sorted(t), set(o) ^ set(t)
    for path in t:
        assert o[path] == t[path], path


@pytest.mark.parametrize("kind", KINDS)
def test_structural(kind):
    """Every schema node has a type (a structural schema requirement)."""
    for path, (typ, _) in shape(version(ours(kind))["schema"]["openAPIV3Schema"]).items():
        assert typ in ("object", "array", "string", "integer", "boolean", "number"), path


def example_objects():
    files = sorted(glob.glob(os.path.join(UP, "test__deploy__*_cr.yaml")) +
                   glob.glob(os.path.join(UP, "deploy_pko__AWSFederatedRole-*.yaml")))
    assert len(files) >= 9
    for f in files:
        with open(f) as fh:
            for doc in yaml.safe_load_all(fh):
                if doc:
                    yield os.path.basename(f), doc


def test_upstream_examples_valid_under_ours():
    plural = {"Account": "accounts", "AccountClaim": "accountclaims",
              "AccountPool": "accountpools", "AWSFederatedRole": "awsfederatedroles",
              "AWSFederatedAccountAccess": "awsfederatedaccountaccesses"}
    n = 0
    for name, obj in example_objects():
        kind = plural[obj["kind"]]
        assert not list(validator(theirs(kind)).iter_errors(obj)), name
        errs = [e.message for e in validator(ours(kind)).iter_errors(obj)]
        assert not errs, (name, errs)
        n += 1
    assert n >= 9


def generate(s, rng, depth=0):
    """A random instance of a structural schema (optional fields random)."""
    t = s.get("type")
    if t == "object":
        out = {}
        props = s.get("properties", {})
        for k, v in props.items():
            if k == "metadata":
                out[k] = {"name": "x"}
            elif k in s.get("required", []) or depth == 0 or rng.random() < 0.5:
                out[k] = generate(v, rng, depth + 1)
        if isinstance(s.get("additionalProperties"), dict) and depth < 6:
            for i in range(rng.randint(0, 3)):
                out[f"k{i}"] = generate(s["additionalProperties"], rng, depth + 1)
        return out
    if t == "array":
        return [generate(s["items"], rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if t == "string":
        if s.get("format") == "date-time":
            return "2026-11-23T15:00:00Z"
        return rng.choice(["", "a", "osd-creds-mgmt-abc", "123456789012", "Ready"])
    if t == "integer":
        return rng.randint(-5, 100000)
    if t == "boolean":
        return rng.random() < 0.5
    raise AssertionError(f"unexpected schema node {s}")


@pytest.mark.parametrize("kind", KINDS)
def test_random_objects_valid_both_ways(kind):
    rng = random.Random(kind)
    o, t = ours(kind), theirs(kind)
    vo, vt = validator(o), validator(t)
    for src, other in ((t, vo), (o, vt)):
        schema = version(src)["schema"]["openAPIV3Schema"]
        for _ in range(500):
            obj = generate(schema, rng)
            errs = [e.message for e in other.iter_errors(obj)]
            assert not errs, (obj, errs)


@pytest.mark.parametrize("kind", KINDS)
def test_violations_rejected_by_ours(kind):
    """The validator is not vacuous: a missing required spec field fails."""
    schema = version(ours(kind))["schema"]["openAPIV3Schema"]
    obj = generate(schema, random.Random(1))
    req = schema["properties"]["spec"]["required"]
    del obj["spec"][req[0]]
    assert list(validator(ours(kind)).iter_errors(obj))
    obj = generate(schema, random.Random(2))
    obj["spec"] = "not-an-object"
    assert list(validator(ours(kind)).iter_errors(obj))
