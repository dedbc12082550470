"""The release path at its minimum (docs/benchmarks.md, figure 6), against a
genuine kube-apiserver and the AWS stand-in:

  * a claim deleted: one listing per kind of resource in the claim's
    region, on the session the process already holds in the account (no
    AssumeRole of the release's own), the revocation's three IAM calls; the
    last region is recorded by the unlink (`released-by-claim` on the
    Account), not by a claim write; the revocation writes no marker;
  * kill -9 right after that unlink (the state it leaves, made by hand with
    the operator down): the restarted operator does not clean again, resets
    the account for reuse, revokes the tenant's key and lets the claim go.
"""
import json
import signal

from conftest import wait_for
from faults_util import calls, fault_env, start_fast
from operator_env import GROUP

LEGAL_ID = "le-release"
RELEASED = "aws.managed.openshift.io/released-by-claim"
KEY_ANN = "aws.managed.openshift.io/iam-access-key"
REGIONS_ANN = "aws.managed.openshift.io/cleanup-regions"
ROTATION_ANN = "aws.managed.openshift.io/iam-key-rotation"
LISTINGS = {"DescribeImages", "DescribeSnapshots", "DescribeVolumes", "ListBuckets",
            "DescribeVpcEndpointServiceConfigurations", "ListHostedZones"}
REVOKE = ["CreateAccessKey", "DeleteAccessKey", "ListAccessKeys"]


def claim_ready(env, name, secret):
    env.make_claim(name, secret, LEGAL_ID)
    wait_for(lambda: env.claim_state(name) == "Ready", timeout=120, interval=0.25,
             what="claim %s Ready" % name)
    return env.claim(name)


def reused(env, name):
    a = env.account(name) or {}
    st = a.get("status") or {}
    ok = (st.get("state") == "Ready" and st.get("reused") is True
          and not st.get("claimed") and st.get("rotateCredentials") is False)
    return a if ok else None


def ops_since(env, n, account_id):
    """The calls made in (or, AssumeRole, into) the account since call n."""
    out = []
    for c in calls(env)[n:]:
        arn = c.get("role_arn") or ""
        if c.get("account") == account_id or (c["operation"] == "AssumeRole"
                                               and arn.split(":")[4:5] == [account_id]):
            out.append(c["operation"])
    return sorted(out)


def test_release_makes_the_minimums_calls(tmp_path):
    with fault_env(tmp_path) as env:
        start_fast(env)
        env.create_pool(1)
        c = claim_ready(env, "r1", "r1-creds")
        acct = c["spec"]["accountLink"]
        key_before = json.loads(env.account(acct)["metadata"]["annotations"][KEY_ANN])["id"]
        n = len(calls(env))
        env.delete(env.claim_path("r1"))
        wait_for(lambda: env.claim("r1") is None, timeout=60, what="claim gone")
        a = wait_for(lambda: reused(env, acct), timeout=30, what="account reused, keys revoked")
        # the account was made by this process: its session serves
        ops = ops_since(env, n, a["spec"]["awsAccountID"])
        assert ops == sorted(list(LISTINGS) + REVOKE), ops
        ann = a["metadata"]["annotations"]
        assert ann[RELEASED] == c["metadata"]["uid"]
        rec = json.loads(ann[KEY_ANN])
        assert rec["revoked"] == c["metadata"]["uid"] and rec["id"] != key_before
        assert ROTATION_ANN not in ann  # no revocation marker was needed


def test_kill9_after_the_unlink_finishes_without_cleaning_again(tmp_path):
    with fault_env(tmp_path) as env:
        op = start_fast(env)
        env.create_pool(1)
        c = claim_ready(env, "r2", "r2-creds")
        acct = c["spec"]["accountLink"]
        op.p.send_signal(signal.SIGKILL)
        op.p.wait(timeout=10)
        # What a kill right after the unlink leaves: the claim deleting
        # with its finalizer and no region recorded, the Account unlinked
        # and naming the claim's release, its status still claimed.
        env.delete(env.claim_path("r2"))
        a = env.account(acct)
        a["spec"]["claimLink"] = ""
        a["spec"]["claimLinkNamespace"] = ""
        a["metadata"]["annotations"][RELEASED] = c["metadata"]["uid"]
        env.kube.ok("PUT", "%s/namespaces/%s/accounts/%s" % (GROUP, env.ns, acct), a)
        assert REGIONS_ANN not in (env.claim("r2")["metadata"].get("annotations") or {})
        n = len(calls(env))
        start_fast(env)
        wait_for(lambda: env.claim("r2") is None, timeout=60, what="claim gone")
        a = wait_for(lambda: reused(env, acct), timeout=30, what="account reused, keys revoked")
        # a new process: one AssumeRole for its session, then the revocation
        ops = ops_since(env, n, a["spec"]["awsAccountID"])
        assert not LISTINGS & set(ops), "cleaned again: %s" % ops
        assert ops == sorted(["AssumeRole"] + REVOKE), ops


def test_flag_set_again_by_hand_revokes_again(tmp_path):
    """After a release's revocation, an SRE sets status.rotateCredentials
    again: a new revocation, not the flag cleared on the old record."""
    with fault_env(tmp_path) as env:
        start_fast(env)
        env.create_pool(1)
        c = claim_ready(env, "r3", "r3-creds")
        acct = c["spec"]["accountLink"]
        env.delete(env.claim_path("r3"))
        wait_for(lambda: env.claim("r3") is None, timeout=60, what="claim gone")
        a = wait_for(lambda: reused(env, acct), timeout=30, what="account reused, keys revoked")
        conds = {x["type"]: x for x in a["status"].get("conditions") or []}
        assert conds["CredentialsRevoked"]["status"] == "True"
        key_revoked = json.loads(a["metadata"]["annotations"][KEY_ANN])["id"]
        n = len(calls(env))
        a["status"]["rotateCredentials"] = True
        env.kube.ok("PUT", "%s/namespaces/%s/accounts/%s/status" % (GROUP, env.ns, acct), a)
        a = wait_for(lambda: reused(env, acct), timeout=30, what="flag cleared again")
        ops = ops_since(env, n, a["spec"]["awsAccountID"])
        assert ops == sorted(REVOKE), ops
        ann = a["metadata"]["annotations"]
        assert json.loads(ann[KEY_ANN])["id"] != key_revoked
        assert ROTATION_ANN not in ann  # the marker of the hand-set request closed
