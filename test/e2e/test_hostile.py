"""Hostile and invalid input: each ends in a clear condition, Event or log
line, never a crash, a stall or silence (docs/robustness.md lists every
input and what the operator did).

Two groups, one operator each:
- the genuine kube-apiserver (conftest's `kube`) and the AWS stand-in, for
  everything the CRD schemas let through: a claim Secret named
  ../../etc/passwd, a 20,000-character legalEntity.id, a region that is
  not one, a claim naming a missing AccountPool (and its recovery), a
  negative poolSize, malformed ConfigMap values, and AWS answers cut in
  the middle or of 20 MiB (over the client's 16 MiB cap);
- the Kubernetes stand-in with schema checks off (--no-schema), for what
  a real server refuses: poolSize "ten", spec.aws.regions a string,
  spec.legalEntity a number, an Account of wrong types, a 1 MiB string
  and a 254 KiB annotation (a 1 MiB one is refused by the server).
"""
import pytest

from conftest import CRDS, http_get, wait_for
from kubefake_util import KubeFake
from awsfake_util import AwsFake
from operator_env import FAST_AWS, GROUP, OperatorEnv, stand_in_env, stand_in_root

CM_PATH = "/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap"


def cond(obj, ctype):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == ctype:
            return c
    return None


def events(env, ns, reason, name=None):
    return [e for e in env.items("/api/v1/namespaces/%s/events" % ns)
            if e.get("reason") == reason
            and (name is None or e["involvedObject"]["name"] == name)]


def claim(env, name, secret="creds", legal_id="le-1", regions=("us-east-1",),
          pool=None, **spec):
    body = {"apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountClaim",
            "metadata": {"name": name},
            "spec": {"legalEntity": {"id": legal_id, "name": "Team"},
                     "awsCredentialSecret": {"name": secret, "namespace": env.claim_ns},
                     "aws": {"regions": [{"name": r} for r in regions]},
                     "accountLink": ""}}
    if pool:
        body["spec"]["accountPool"] = pool
    body["spec"].update(spec)
    env.post("%s/namespaces/%s/accountclaims" % (GROUP, env.claim_ns), body)


def invalid_claim(env, name, words):
    """The claim ends Error/InvalidAccountClaim with a message holding words,
    and a Warning Event says the same."""
    c = wait_for(lambda: cond(env.claim(name), "InvalidAccountClaim"), timeout=30,
                 what="%s InvalidAccountClaim" % name)
    assert c["status"] == "True" and words in c["message"], c
    assert env.claim_state(name) == "Error"
    ev = wait_for(lambda: events(env, env.claim_ns, "InvalidAccountClaim", name),
                  timeout=15, what="%s Event" % name)
    assert ev[0]["type"] == "Warning" and words in ev[0]["message"]
    return c


def alive(env):
    assert env.op.p.poll() is None, env.op.output()[-3000:]
    st, _, _ = http_get("http://127.0.0.1:%d/healthz" % env.op.health_port)
    assert st == 200


def log_has(env, *words, timeout=30):
    return wait_for(lambda: next((ln for ln in env.op.lines
                                  if all(w in ln for w in words)), None),
                    timeout=timeout, what="log line with %s" % (words,))


# ---------------------------------------------------------------- genuine server
@pytest.fixture(scope="module")
def genv(kube):
    with stand_in_env(kube, *FAST_AWS, **{"feature.opt_in_regions": "false"}) as e:
        e.start_operator()
        yield e


def test_claims_the_schema_lets_through_end_invalid(genv):
    claim(genv, "passwd", secret="../../etc/passwd")
    claim(genv, "long-le", legal_id="x" * 20000)
    claim(genv, "bad-region", regions=("us-east-1", "evil.example/x"))
    invalid_claim(genv, "passwd", "awsCredentialSecret.name")
    invalid_claim(genv, "long-le", "128 characters")
    invalid_claim(genv, "bad-region", "aws.regions")
    # nothing reached AWS in their name: no OU of 20,000 (or 128) characters
    ous = genv.aws.control("GET", "state")["organizational_units"]
    assert not any(len(o["Name"]) > 128 for o in ous), [len(o["Name"]) for o in ous]
    alive(genv)


def test_negative_pool_size_creates_nothing_and_says_so(genv):
    genv.create_pool(-5, name="negative")
    ev = wait_for(lambda: events(genv, genv.ns, "InvalidAccountPool", "negative"),
                  timeout=30, what="InvalidAccountPool Event")
    assert ev[0]["type"] == "Warning" and "poolSize" in ev[0]["message"]
    log_has(genv, "InvalidAccountPool", "poolSize")
    assert not [a for a in genv.accounts() if a["spec"].get("accountPool") == "negative"]
    assert genv.pool("negative")["status"]["poolSize"] == -5


def test_claim_on_missing_pool_says_so_and_recovers(genv):
    claim(genv, "no-pool", pool="later")
    c = wait_for(lambda: cond(genv.claim("no-pool"), "AccountPoolNotFound"), timeout=30,
                 what="AccountPoolNotFound")
    assert c["status"] == "True" and "later" in c["message"]
    assert genv.claim_state("no-pool") == "Pending"
    ev = wait_for(lambda: events(genv, genv.claim_ns, "AccountPoolNotFound", "no-pool"),
                  timeout=15, what="AccountPoolNotFound Event")
    assert ev[0]["type"] == "Warning"
    # AWS answers cut in the middle (retried by the client) then one far
    # over its 16 MiB cap (refused: a log line, the step retried after its
    # 30 s wait) while the pool's first account is created
    genv.aws.control("POST", "truncate", {"service": "organizations",
                                          "operation": "DescribeCreateAccountStatus",
                                          "count": 2})
    genv.aws.control("POST", "oversize", {"service": "organizations",
                                          "operation": "DescribeCreateAccountStatus",
                                          "count": 1, "bytes": 20 * 1024 * 1024})
    genv.create_pool(1, name="later")
    wait_for(lambda: (cond(genv.claim("no-pool"), "AccountPoolNotFound") or {})
             .get("status") == "False", timeout=45, what="condition False once the pool exists")
    acct = wait_for(lambda: next((a for a in genv.accounts()
                                  if a["spec"].get("accountPool") == "later"
                                  and a["spec"].get("awsAccountID")), None),
                    timeout=60, what="the pool's account created despite the faults")
    assert len(acct["spec"]["awsAccountID"]) == 12
    assert genv.aws.control("GET", "faults")["rules"] == []
    log_has(genv, "DescribeCreateAccountStatus", "ETOOBIG", timeout=5)
    log_has(genv, "describe-create failed", "size limit", timeout=5)
    alive(genv)


BAD_CM = [
    ("account-limit", "ten"),
    ("account-limit", "-4"),
    ("account-limit", "99999999999999999999"),
    ("feature.opt_in_regions", "sure"),
    ("opt-in-regions", "us-east-1,../../etc"),
    ("payer-account-ids", "123"),
    ("MaxConcurrentReconciles.account", "0"),
    ("accountpool", "default: [unclosed"),
]


def test_malformed_configmap_values_are_named_and_ignored(genv):
    for key, value in BAD_CM:
        st, _, body = genv.kube.req("PATCH", CM_PATH % genv.ns, {"data": {key: value}},
                                    ctype="application/merge-patch+json")
        assert st == 200, body
        log_has(genv, "is invalid", key, timeout=20)
        st, _, body = genv.kube.req("PATCH", CM_PATH % genv.ns, {"data": {key: None}},
                                    ctype="application/merge-patch+json")
        assert st == 200, body
    ev = events(genv, genv.ns, "InvalidConfigMap")
    assert ev and all(e["type"] == "Warning" for e in ev)
    # the accountpool key was removed last: put the default pool back
    genv.kube.req("PATCH", CM_PATH % genv.ns,
                  {"data": {"accountpool": "default:\n  default: true\n"}},
                  ctype="application/merge-patch+json")
    alive(genv)


# ---------------------------------------------------------------- no schema
@pytest.fixture(scope="module")
def fenv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("noschema")
    kube = KubeFake(tmp, crds=CRDS, extra=["--no-schema"]).start()
    aws = AwsFake(*FAST_AWS)
    try:
        e = OperatorEnv(kube, aws)
        root = stand_in_root(aws)
        e.install(root, root, **{"feature.opt_in_regions": "false"})
        e.start_operator()
        try:
            yield e
        finally:
            e.stop()
    finally:
        aws.stop()
        kube.stop()


def test_wrong_json_types_end_in_conditions_and_events(fenv):
    fenv.post("%s/namespaces/%s/accountpools" % (GROUP, fenv.ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountPool",
        "metadata": {"name": "ten"}, "spec": {"poolSize": "ten"}})
    claim(fenv, "regions-string", aws={"regions": "us-east-1"})
    claim(fenv, "le-number", legalEntity=7)
    claim(fenv, "secret-string", awsCredentialSecret="creds")
    ev = wait_for(lambda: events(fenv, fenv.ns, "InvalidAccountPool", "ten"),
                  timeout=30, what="InvalidAccountPool Event")
    assert "integer" in ev[0]["message"]
    invalid_claim(fenv, "regions-string", "aws.regions")
    invalid_claim(fenv, "le-number", "legalEntity")
    invalid_claim(fenv, "secret-string", "awsCredentialSecret")
    assert not [a for a in fenv.accounts() if a["spec"].get("accountPool") == "ten"]
    alive(fenv)


def test_wrong_typed_account_and_huge_annotation_do_not_crash(fenv):
    fenv.post("%s/namespaces/%s/accounts" % (GROUP, fenv.ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "Account",
        "metadata": {"name": "weird"},
        "spec": {"awsAccountID": 123456789012, "iamUserSecret": ["x"], "claimLink": {},
                 "byoc": "yes", "legalEntity": "le", "regionalServiceQuotas": 5},
        "status": "broken"})
    # a 1 MiB annotation is refused by the server (at most 262144 bytes, as
    # kube-apiserver): the largest it takes, and a 1 MiB string in the spec
    st, _, body = fenv.kube.req("POST", "%s/namespaces/%s/accountclaims" % (GROUP, fenv.claim_ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountClaim",
        "metadata": {"name": "huge", "annotations": {"example.com/huge": "a" * (1 << 20)}},
        "spec": {}})
    assert st == 422 and "262144" in body["message"], body
    fenv.post("%s/namespaces/%s/accountclaims" % (GROUP, fenv.claim_ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountClaim",
        "metadata": {"name": "big", "annotations": {"example.com/huge": "a" * 260000}},
        "spec": {"legalEntity": {"id": "le-1", "name": "n" * (1 << 20)},
                 "awsCredentialSecret": {"name": "../big", "namespace": fenv.claim_ns},
                 "aws": {"regions": [{"name": "us-east-1"}]}, "accountLink": ""}})
    invalid_claim(fenv, "big", "awsCredentialSecret.name")
    # the wrong-typed Account is Failed (InvalidAccount), never sent to AWS
    wait_for(lambda: fenv.account_state("weird") == "Failed", timeout=30,
             what="wrong-typed Account Failed")
    ev = wait_for(lambda: events(fenv, fenv.ns, "InvalidAccount", "weird"), timeout=15,
                  what="InvalidAccount Event")
    assert ev[0]["type"] == "Warning" and "must be" in ev[0]["message"]
    reqs = fenv.aws.control("GET", "state")["create_account_requests"]
    assert not [r for r in reqs if "weird" in str(r)], reqs
    alive(fenv)
