"""AWSFederatedRole end to end: the built operator against a genuine
kube-apiserver and the AWS stand-in. An invalid role (bad action, unknown
managed policy) ends Invalid with a message naming what is wrong, without
AWS being asked about a document we can judge ourselves; the stock roles of
deploy/examples end Valid (one AWS managed policy listing for both, no probe
policy left behind, a probe left by a crash cleaned); a spec change stamps
lastRoleUpdate on the accesses labelled with the role; deleting a role
deletes the accesses that reference it (in any namespace) and its leftover
probes, then the role."""
import copy
import os

import pytest
import yaml

from conftest import wait_for
from operator_env import GROUP, stand_in_env

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROBE_PATH = "/aws-account-operator-probe/"
ROLE_GEN = "aws.managed.openshift.io/federated-role-generation"


@pytest.fixture
def env(kube):
    with stand_in_env(kube) as e:
        e.start_operator()
        yield e


def roles_path(env, name=""):
    return "%s/namespaces/%s/awsfederatedroles/%s" % (GROUP, env.ns, name)


def access_path(ns, name=""):
    return "%s/namespaces/%s/awsfederatedaccountaccesses/%s" % (GROUP, ns, name)


def stock(name):
    with open(os.path.join(REPO, "deploy", "examples",
                           "awsfederatedrole-%s.yaml" % name)) as f:
        return yaml.safe_load(f)


def make_role(env, name, spec):
    return env.post(roles_path(env), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1",
        "kind": "AWSFederatedRole", "metadata": {"name": name}, "spec": spec})


def make_access(env, ns, name, role, labelled=True):
    env.ensure_ns(ns)
    meta = {"name": name}
    if labelled:
        meta["labels"] = {"awsFederatedRoleName": role}
    return env.post(access_path(ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1",
        "kind": "AWSFederatedAccountAccess", "metadata": meta,
        "spec": {"externalCustomerAWSIAMARN": "arn:aws:iam::123456789012:user/sre",
                 "awsCustomerCredentialSecret": {"name": "creds", "namespace": ns},
                 "awsFederatedRole": {"name": role, "namespace": env.ns}}})


def role(env, name):
    return env.get(roles_path(env, name))


def verdict(env, name, state):
    """The role's condition of type state, once status.state is state."""
    r = role(env, name) or {}
    st = r.get("status") or {}
    if st.get("state") != state:
        return None
    return next((c for c in st.get("conditions", [])
                 if c["type"] == state and c["status"] == "True"), None)


def calls(env, op):
    return [c for c in env.aws.control("GET", "calls")["calls"]
            if c["service"] == "iam" and c["operation"] == op]


def probes_left(env):
    iam = env.aws.client("iam")
    return iam.list_policies(Scope="Local", PathPrefix=PROBE_PATH)["Policies"]


def test_invalid_roles_say_what_is_wrong(env):
    spec = copy.deepcopy(stock("read-only")["spec"])
    spec["awsCustomPolicy"]["awsStatements"].append(
        {"effect": "Allow", "action": ["s3:GetObject", "ec2Describe*"], "resource": ["*"]})
    make_role(env, "bad-action", spec)
    make_role(env, "bad-managed", {
        "roleDisplayName": "x", "roleDescription": "x",
        "awsManagedPolicies": ["NoSuchManagedPolicy", "AmazonEC2ReadOnlyAccess",
                               "job-function/Billing", "AlsoMissing"]})
    make_role(env, "no-policies", {"roleDisplayName": "x", "roleDescription": "x"})
    c = wait_for(lambda: verdict(env, "bad-action", "Invalid"), timeout=30,
                 what="bad-action Invalid")
    assert c["reason"] == "InvalidCustomerPolicy", c
    assert 'awsStatements[1].action[1] "ec2Describe*"' in c["message"], c
    c = wait_for(lambda: verdict(env, "bad-managed", "Invalid"), timeout=30,
                 what="bad-managed Invalid")
    assert c["reason"] == "InvalidManagedPolicy", c
    assert c["message"] == \
        "unknown AWS managed policies: NoSuchManagedPolicy, AlsoMissing", c
    c = wait_for(lambda: verdict(env, "no-policies", "Invalid"), timeout=30,
                 what="no-policies Invalid")
    assert c["reason"] == "NoAWSCustomPolicyOrAWSManagedPolicies", c
    # the bad document never reached IAM: judged before any AWS call
    uid = role(env, "bad-action")["metadata"]["uid"]
    assert not [c for c in calls(env, "CreatePolicy")
                if uid in str(c)], "the invalid document was sent to IAM"
    assert "finalizer.aws.managed.openshift.io" in role(env, "bad-action")["metadata"]["finalizers"]


def test_stock_roles_are_valid_and_leave_no_probe(env):
    for name in ("read-only", "network-mgmt"):
        r = stock(name)
        make_role(env, name, r["spec"])
    for name in ("read-only", "network-mgmt"):
        c = wait_for(lambda: verdict(env, name, "Valid"), timeout=30,
                     what="%s Valid" % name)
        assert c["reason"] == "AllPoliciesValid", c
    # one listing of the AWS managed policies served both roles
    aws_lists = [c for c in calls(env, "ListPolicies") if c.get("status", 200) == 200]
    assert 1 <= len(aws_lists) <= 2, aws_lists
    assert len(calls(env, "CreatePolicy")) == 2
    assert len(calls(env, "DeletePolicy")) == 2
    assert probes_left(env) == []


def test_probe_left_by_a_crash_is_cleaned(kube):
    with stand_in_env(kube) as env:
        make_role(env, "read-only", stock("read-only")["spec"])
        uid = role(env, "read-only")["metadata"]["uid"]
        # what a crash between CreatePolicy and DeletePolicy leaves
        env.aws.client("iam").create_policy(
            PolicyName="frole-probe-%s-1" % uid, Path=PROBE_PATH,
            PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                           '"Action":"s3:*","Resource":"*"}]}')
        env.start_operator()
        wait_for(lambda: verdict(env, "read-only", "Valid"), timeout=30,
                 what="read-only Valid")
        assert probes_left(env) == []
        # ours (the "crash"), then the operator's: refused, cleaned, again
        assert [c["error_code"] for c in calls(env, "CreatePolicy")] == \
            [None, "EntityAlreadyExists", None]


def test_spec_change_stamps_the_labelled_accesses(env):
    make_role(env, "read-only", stock("read-only")["spec"])
    make_access(env, env.claim_ns, "mine", "read-only")
    make_access(env, env.claim_ns, "other", "network-mgmt")
    wait_for(lambda: verdict(env, "read-only", "Valid"), timeout=30, what="Valid")
    r = role(env, "read-only")
    gen = r["metadata"]["generation"]
    first = wait_for(lambda: ((env.get(access_path(env.claim_ns, "mine"))["metadata"]
                               .get("annotations") or {}).get(ROLE_GEN)),
                     timeout=30, what="first stamp")
    assert first.endswith(":%d" % gen)
    # GET-mutate-PUT, again on 409: the controller may write the role
    # (status) between our read and our write, more often under load.
    for _ in range(20):
        r = role(env, "read-only")
        r["spec"]["awsManagedPolicies"].append("job-function/ViewOnlyAccess")
        st, _, body = env.kube.req("PUT", roles_path(env, "read-only"), r)
        if st != 409:
            break
    assert st == 200, (st, body)

    def stamped():
        a = env.get(access_path(env.claim_ns, "mine"))["metadata"].get("annotations") or {}
        return a if a.get(ROLE_GEN, "").endswith(":%d" % (gen + 1)) else None
    ann = wait_for(stamped, timeout=30, what="the access re-stamped")
    assert ann.get("lastRoleUpdate")
    other = env.get(access_path(env.claim_ns, "other"))["metadata"].get("annotations") or {}
    assert "lastRoleUpdate" not in other
    assert verdict(env, "read-only", "Valid")


def test_deleting_a_role_deletes_its_accesses(env):
    make_role(env, "read-only", stock("read-only")["spec"])
    make_role(env, "network-mgmt", stock("network-mgmt")["spec"])
    make_access(env, env.claim_ns, "a1", "read-only")
    make_access(env, env.ns, "a2", "read-only", labelled=False)
    make_access(env, env.claim_ns, "keep", "network-mgmt")
    wait_for(lambda: verdict(env, "read-only", "Valid"), timeout=30, what="Valid")
    # a probe of an older generation a crash left goes with the role
    uid = role(env, "read-only")["metadata"]["uid"]
    env.aws.client("iam").create_policy(
        PolicyName="frole-probe-%s-0" % uid, Path=PROBE_PATH,
        PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                       '"Action":"s3:*","Resource":"*"}]}')
    env.delete(roles_path(env, "read-only"))
    wait_for(lambda: role(env, "read-only") is None, timeout=30, what="role gone")
    # each access goes through its own finalizer: gone soon after, not at once
    wait_for(lambda: env.get(access_path(env.claim_ns, "a1")) is None, timeout=30,
             what="access a1 gone")
    wait_for(lambda: env.get(access_path(env.ns, "a2")) is None, timeout=30,
             what="access a2 gone")
    assert env.get(access_path(env.claim_ns, "keep")) is not None
    assert role(env, "network-mgmt") is not None
    assert probes_left(env) == []


def reconciles(env):
    """controller_runtime_reconcile_total of the role controller (all results)."""
    n = 0
    for line in env.metrics().splitlines():
        if line.startswith("controller_runtime_reconcile_total{") and \
                'controller="awsfederatedrole"' in line:
            n += float(line.rsplit(" ", 1)[1])
    return n


def test_fedramp_disables_the_controller(kube):
    """As upstream: in FedRAMP the controller does nothing (one log line
    says so) and a role gets no finalizer and no status."""
    with stand_in_env(kube, "--partition", "aws-us-gov", fedramp="true") as env:
        env.start_operator()
        make_role(env, "read-only", stock("read-only")["spec"])
        env.op.read_until("AWSFederatedRole controller is disabled", timeout=30)
        make_role(env, "network-mgmt", stock("network-mgmt")["spec"])
        wait_for(lambda: reconciles(env) >= 2, timeout=30, what="both roles reconciled")
        for name in ("read-only", "network-mgmt"):
            r = role(env, name)
            assert not r.get("status"), r
            assert not r["metadata"].get("finalizers"), r
        assert env.op.output().count("AWSFederatedRole controller is disabled") == 1
        assert calls(env, "CreatePolicy") == [] and calls(env, "ListPolicies") == []
