"""FedRAMP end to end: the AWS stand-in serves GovCloud (`--partition
aws-us-gov`: keys work only in us-gov-* regions, ARNs of the commercial
partition are refused), the ConfigMap says `fedramp: "true"`, and the
operator runs with AWS_REGION=us-east-1 as a commercial deployment would.

A pool fills and a claim becomes Ready, then the claim is deleted and the
account is cleaned and reused; every ARN in the stand-in's call log and
state is an aws-us-gov ARN, no request was signed for a region outside
GovCloud, region initialization never ran (GovCloud is bring-your-own-VPC)
and the claim's supportRoleARN is a GovCloud ARN.

One operator and one stand-in serve the module; tests run in file order."""
import json
import re

import pytest

from conftest import wait_for
from operator_env import stand_in_env

LEGAL_ID = "le-gov"
REGION = "us-gov-west-1"
ARN = re.compile(r"arn:[a-z-]*:")


@pytest.fixture(scope="module")
def env(kube):
    with stand_in_env(kube, "--partition", "aws-us-gov",
                      "--create-account-seconds", "0.5",
                      "--case-resolve-seconds", "0.5",
                      "--instance-running-seconds", "0.1",
                      fedramp="true",
                      **{"support-jump-role": "placeholder"}) as e:
        # the jump role must name the GovCloud management account
        cm_path = "/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap" % e.ns
        cm = e.get(cm_path)
        cm["data"]["support-jump-role"] = \
            "arn:aws-us-gov:iam::%s:role/support-jump-role" % e.aws.account
        e.kube.ok("PUT", cm_path, cm)
        assert e.aws.partition == "aws-us-gov"
        e.start_operator(env={"SUPPORT_CASE_POLL_INTERVAL": "2s"})
        yield e


def calls(env):
    return env.aws.control("GET", "calls")["calls"]


def arns(doc):
    """Every string of doc (nested) that holds an ARN."""
    out = []

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and ARN.search(v):
            out.append(v)
    walk(doc)
    return out


def foreign(strings):
    return [s for s in strings if "arn:" in s and
            any(not m.startswith("arn:aws-us-gov:") for m in ARN.findall(s))]


def test_pool_fills_and_claim_ready_in_govcloud(env):
    env.create_pool(1)
    env.make_claim("gov", "gov-creds", LEGAL_ID, regions=(REGION,))
    try:
        wait_for(lambda: env.claim_state("gov") == "Ready", timeout=150,
                 interval=0.5, what="claim Ready")
    except AssertionError as e:
        raise AssertionError(f"{e}\naccounts: {env.accounts()}\noperator:\n"
                             + "\n".join(env.op.lines[-80:])) from None
    c = env.claim("gov")
    assert c["spec"]["supportRoleARN"].startswith("arn:aws-us-gov:iam::"), c["spec"]
    acct = env.account(c["spec"]["accountLink"])
    acct_id = acct["spec"]["awsAccountID"]
    # the vended keys work in GovCloud, as the claimed account
    sts = env.aws.client("sts", creds=env.keys("gov-creds"))
    ident = sts.get_caller_identity()
    assert ident["Account"] == acct_id
    assert ident["Arn"].startswith("arn:aws-us-gov:iam::")
    # the pool fills again: a second account, Ready
    wait_for(lambda: sum(1 for a in env.accounts()
                         if (a.get("status") or {}).get("state") == "Ready"
                         and not a["status"].get("claimed")) >= 1,
             timeout=150, interval=0.5, what="pool refilled")
    log = calls(env)
    roles = [x["role_arn"] for x in log if x.get("role_arn")]
    assert any(r.endswith(":role/OrganizationAccountAccessRole") for r in roles), roles
    policies = [x["policy_arn"] for x in log if x.get("policy_arn")]
    assert "arn:aws-us-gov:iam::aws:policy/AdministratorAccess" in policies, policies
    # GovCloud is bring-your-own-VPC: no region initialization
    assert not [x for x in log if x["operation"] in
                ("RunInstances", "DescribeInstanceTypes")]


def test_claim_deleted_account_cleaned_and_reused(env):
    name = env.claim("gov")["spec"]["accountLink"]
    env.delete(env.claim_path("gov"))
    wait_for(lambda: env.claim("gov") is None, timeout=60, interval=0.25,
             what="claim gone after cleanup")

    def reused():
        s = (env.account(name) or {}).get("status", {})
        return s.get("state") == "Ready" and s.get("reused") is True
    wait_for(reused, timeout=30, interval=0.25, what="account Ready, reused")
    cleanup = [x for x in calls(env) if x["operation"] in
               ("DescribeImages", "DescribeSnapshots", "ListBuckets")]
    assert cleanup and {x["region"] for x in cleanup} == {REGION}, cleanup


def test_every_arn_is_govcloud_and_every_request_signed_in_govcloud(env):
    log = calls(env)
    assert log
    regions = {x["region"] for x in log}
    assert all(r and r.startswith("us-gov-") for r in regions), regions
    # a key used outside GovCloud, or a commercial ARN, would fail these
    bad = [(x["operation"], x["status"], x.get("error_code")) for x in log
           if x["status"] >= 400 and (
               x.get("error_code") in ("InvalidClientTokenId", "AuthFailure",
                                       "UnrecognizedClientException",
                                       "MalformedPolicyDocument")
               or x["operation"] in ("AssumeRole", "AttachRolePolicy",
                                     "AttachUserPolicy", "CreateRole"))]
    assert bad == [], bad
    seen = arns(log) + arns(env.aws.control("GET", "state"))
    assert seen, "no ARN in the call log or state"
    assert foreign(seen) == [], foreign(seen)
    # and in what the operator wrote to Kubernetes
    k8s = json.dumps(env.accounts())
    assert foreign(arns(json.loads(k8s))) == []
