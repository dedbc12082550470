"""STS claims (manualSTSMode) end to end, against a genuine kube-apiserver
and the AWS stand-in with a customer-owned account outside the
organization: credentials come only from role chaining (the operator's
keys -> the ConfigMap's sts-jump-role -> the claim's stsRoleARN with its
stsExternalID); the claim becomes Ready with no IAM user, access key or
credentials Secret anywhere; a wrong external ID leaves the claim in Error
with the reason; deleting the claim removes its Account."""
import json

import pytest

from conftest import wait_for
from operator_env import GROUP, stand_in_env

EXT_ID = "cluster-ext-42"


@pytest.fixture
def env(kube):
    with stand_in_env(kube, "--instance-running-seconds", "0.1",
                      **{"feature.opt_in_regions": "false"}) as e:
        prepare_sts(e)
        yield e


def prepare_sts(e):
    """The jump role (in the ConfigMap) and a customer account whose
    installer role trusts it with EXT_ID: e.customer, e.jump_arn,
    e.role_arn."""
    mgmt = e.aws.account
    iam = e.aws.client("iam")
    # The jump role in the management account, trusting the operator.
    jump = iam.create_role(RoleName="sts-jump-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": "arn:aws:iam::%s:root" % mgmt}}]}))["Role"]["Arn"]
    e.kube.ok("PATCH", "/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap" % e.ns,
              {"data": {"sts-jump-role": jump}}, "application/merge-patch+json")
    # The customer's account and installer role, trusting the jump role
    # with an external ID.
    cust = e.aws.standalone()
    ciam = e.aws.client("iam", creds=cust["user"])
    e.customer = cust
    e.jump_arn = jump
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": jump},
        "Condition": {"StringEquals": {"sts:ExternalId": EXT_ID}}}]}
    e.role_arn = ciam.create_role(RoleName="ManagedOpenShift-Installer-Role",
                                  AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    ciam.attach_role_policy(RoleName="ManagedOpenShift-Installer-Role",
                            PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


def make_sts_claim(env, name, ext_id=EXT_ID):
    env.post("%s/namespaces/%s/accountclaims" % (GROUP, env.claim_ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountClaim",
        "metadata": {"name": name},
        "spec": {"legalEntity": {"id": "le-sts", "name": "STS customer"},
                 "awsCredentialSecret": {"name": name + "-creds", "namespace": env.claim_ns},
                 "aws": {"regions": [{"name": "us-east-1"}]}, "accountLink": "",
                 "byoc": True, "manualSTSMode": True, "stsRoleARN": env.role_arn,
                 "stsExternalID": ext_id}})


def failed_true(env, name):
    """The claim once it is Error with CCSAccountClaimFailed True (the
    Account's failure mirror may write Error/InternalError first)."""
    c = env.claim(name) or {}
    st = c.get("status") or {}
    return st.get("state") == "Error" and any(
        x["type"] == "CCSAccountClaimFailed" and x["status"] == "True"
        for x in st.get("conditions", [])) and c


def calls(env):
    return env.aws.control("GET", "calls")["calls"]


def dump(env, name):
    return "claim: %s\naccounts: %s\noperator:\n%s" % (
        env.claim(name), env.accounts(), "\n".join(env.op.lines[-60:]))


def test_sts_claim_ready_by_role_chaining_only(env):
    env.start_operator()
    make_sts_claim(env, "sts1")
    try:
        wait_for(lambda: env.claim_state("sts1") == "Ready", timeout=90, interval=0.25,
                 what="STS claim Ready")
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, dump(env, "sts1"))) from None
    c = env.claim("sts1")
    acct = env.account(c["spec"]["accountLink"])
    assert acct["spec"]["manualSTSMode"] is True and acct["spec"]["byoc"] is True
    assert acct["spec"]["awsAccountID"] == env.customer["account"]
    assert acct["status"]["state"] == "Ready"
    assert not acct["metadata"].get("ownerReferences")
    log = calls(env)
    # The chain: the jump role by the operator's keys, the customer's role by
    # the jump role's session.
    assumes = [x for x in log if x["operation"] == "AssumeRole" and x["status"] == 200]
    jump = [x for x in assumes if x["role_arn"] == env.jump_arn]
    cust = [x for x in assumes if x["role_arn"] == env.role_arn]
    assert jump and cust, assumes
    # The jump role by the operator's own keys, session awsAccountOperator;
    # the customer's role by the jump role's session, RH-Account-Initialization.
    assert all(x["account"] == env.aws.account and ":user/" in x["caller_arn"]
               and x["role_session_name"] == "awsAccountOperator" for x in jump), jump
    assert all(":assumed-role/sts-jump-role/" in x["caller_arn"]
               and x["role_session_name"] == "RH-Account-Initialization" for x in cust), cust
    assert min(x["time"] for x in jump) <= min(x["time"] for x in cust)
    # Once for the explicit check, once for the session every step shares.
    assert len(cust) <= 3, "the chain is assumed per session, not per step: %d" % len(cust)
    # The work happened in the customer's account, with role credentials.
    runs = [x for x in log if x["operation"] == "RunInstances"]
    assert runs and all(x["account"] == env.customer["account"] for x in runs)
    # No long-lived credentials anywhere.
    ops = {x["operation"] for x in log}
    assert "CreateUser" not in ops and "CreateAccessKey" not in ops, sorted(ops)
    assert env.get("/api/v1/namespaces/%s/secrets/%s-secret" % (env.ns, acct["metadata"]["name"])) is None
    assert env.get("/api/v1/namespaces/%s/secrets/sts1-creds" % env.claim_ns) is None
    assert not c["spec"].get("supportRoleARN")
    # Deletion removes the Account.
    name = acct["metadata"]["name"]
    env.delete(env.claim_path("sts1"))
    wait_for(lambda: env.claim("sts1") is None and env.account(name) is None, timeout=30,
             what="claim and Account gone")


def test_wrong_external_id_leaves_the_claim_in_error(env):
    env.start_operator()
    make_sts_claim(env, "sts-bad", ext_id="not-the-right-one")
    try:
        wait_for(lambda: env.claim_state("sts-bad") == "Error", timeout=60, interval=0.25,
                 what="claim Error")
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, dump(env, "sts-bad"))) from None
    c = wait_for(lambda: failed_true(env, "sts-bad"), timeout=30, what="CCSAccountClaimFailed")
    msgs = " ".join(x.get("message", "") for x in c["status"]["conditions"])
    acct = env.account(c["spec"]["accountLink"])
    amsg = " ".join(x.get("message", "") for x in acct["status"]["conditions"])
    assert "stsRoleARN" in amsg and "AccessDenied" in amsg, amsg
    assert "failed" in msgs, msgs
    ops = {x["operation"] for x in calls(env)}
    assert "CreateUser" not in ops and "RunInstances" not in ops
    refused = [x for x in calls(env) if x["operation"] == "AssumeRole"
               and x.get("role_arn") == env.role_arn]
    assert refused and all(x["error_code"] == "AccessDenied" for x in refused), refused
    env.delete(env.claim_path("sts-bad"))
    wait_for(lambda: env.claim("sts-bad") is None and not env.accounts(), timeout=30,
             what="claim and Account gone")
