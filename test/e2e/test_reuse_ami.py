"""Reuse cleanup with AMIs, and region init's t3 -> t2 fallback, end to end
against a genuine kube-apiserver and the AWS stand-in.

A tenant who registered an AMI in the claimed account makes DeleteSnapshot
of the AMI's snapshot fail with InvalidSnapshot.InUse; the claim's cleanup
deregisters the account's own AMIs first, then deletes the snapshots the
account owns, and the account goes back to the pool Ready/reused. A public
snapshot of another owner is never touched (deleting it would fail with
UnauthorizedOperation and mark the account Failed).

The pool's account is initialized while one region does not offer
t3.micro (the stand-in's `no_t3_regions`): that region's init instance is
a t2.micro, the others t3.micro.

One operator and one stand-in serve the module; tests run in file order."""
import pytest
from botocore.exceptions import ClientError

from conftest import wait_for
from operator_env import stand_in_env

LEGAL_ID = "le-ami"
NO_T3 = "eu-west-1"
REGION = "us-east-1"
PUBLIC_OWNER = "309956199498"


@pytest.fixture(scope="module")
def env(kube):
    with stand_in_env(kube, "--create-account-seconds", "0.5",
                      "--case-resolve-seconds", "0.5",
                      "--instance-running-seconds", "0.1",
                      **{"feature.opt_in_regions": "false"}) as e:
        e.aws.control("POST", "timing", {"no_t3_regions": [NO_T3]})
        e.start_operator(env={"SUPPORT_CASE_POLL_INTERVAL": "2s"})
        e.create_pool(1)
        yield e


def claimed_account(env, claim="ami"):
    c = env.claim(claim)
    return env.account(c["spec"]["accountLink"])


def test_claim_ready_and_region_init_falls_back_to_t2(env):
    env.make_claim("ami", "ami-creds", LEGAL_ID, regions=(REGION,))
    try:
        wait_for(lambda: env.claim_state("ami") == "Ready", timeout=150,
                 interval=0.5, what="claim Ready")
    except AssertionError as e:
        raise AssertionError(f"{e}\naccounts: {env.accounts()}\noperator:\n"
                             + "\n".join(env.op.lines[-60:])) from None
    acct_id = claimed_account(env)["spec"]["awsAccountID"]
    inst = env.aws.control("GET", "state")["instances"].get(acct_id, {})
    types = {r: {v["instance_type"] for v in per.values()} for r, per in inst.items()}
    assert types.get(NO_T3) == {"t2.micro"}, types
    others = {r: t for r, t in types.items() if r != NO_T3}
    assert others and all(t == {"t3.micro"} for t in others.values()), types
    runs = [c for c in env.aws.control("GET", "calls")["calls"]
            if c["operation"] == "RunInstances" and c["account"] == acct_id
            and c["status"] == 200]
    assert {c["region"] for c in runs if c.get("instance_type") == "t2.micro"} == {NO_T3}


def member_ec2(env, acct_id):
    """An EC2 client in the account (an admin user the stand-in makes)."""
    r = env.aws.control("POST", "credentials", {"account_id": acct_id})
    return env.aws.client("ec2", region=REGION,
                          creds={"AccessKeyId": r["access_key_id"],
                                 "SecretAccessKey": r["secret_access_key"]})


def test_reuse_deregisters_ami_then_deletes_its_snapshot(env):
    acct = claimed_account(env)
    name, acct_id = acct["metadata"]["name"], acct["spec"]["awsAccountID"]
    seeded = env.aws.control("POST", "seed-image", {
        "account_id": acct_id, "region": REGION, "name": "tenant-image"})
    ec2 = member_ec2(env, acct_id)
    # the premise: while the AMI is registered its snapshot cannot go
    with pytest.raises(ClientError) as e:
        ec2.delete_snapshot(SnapshotId=seeded["snapshot_id"])
    assert e.value.response["Error"]["Code"] == "InvalidSnapshot.InUse"
    public = [s["SnapshotId"] for s in ec2.describe_snapshots()["Snapshots"]
              if s["OwnerId"] != acct_id]
    assert public, "the stand-in lists a public snapshot of another owner"
    env.aws.control("POST", "reset-log")

    env.delete(env.claim_path("ami"))
    wait_for(lambda: env.claim("ami") is None, timeout=60, interval=0.25,
             what="claim gone after cleanup (finalizer removed)")

    def reused():
        s = (env.account(name) or {}).get("status", {})
        return s.get("state") == "Ready" and s.get("reused") is True
    try:
        wait_for(reused, timeout=30, interval=0.25, what="account Ready, reused")
    except AssertionError as e:
        raise AssertionError(f"{e}\naccount: {env.account(name)}\noperator:\n"
                             + "\n".join(env.op.lines[-60:])) from None

    images = env.aws.control("GET", "state")["images"].get(acct_id, {})
    assert seeded["image_id"] not in images.get(REGION, []), images
    left = [s["SnapshotId"] for s in
            ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]]
    assert seeded["snapshot_id"] not in left, left
    still = [s["SnapshotId"] for s in ec2.describe_snapshots()["Snapshots"]]
    assert set(public) <= set(still)

    calls = [c for c in env.aws.control("GET", "calls")["calls"]
             if c["service"] == "ec2" and c["account"] == acct_id]
    ops = [c["operation"] for c in calls]
    assert "DeregisterImage" in ops and "DeleteSnapshot" in ops, ops
    # images first: the snapshot's deletion came after the deregistration
    assert ops.index("DeregisterImage") < ops.index("DeleteSnapshot"), ops
    failed = [(c["operation"], c["error_code"]) for c in calls
              if c["operation"] in ("DeleteSnapshot", "DeregisterImage")
              and c["status"] != 200]
    assert failed == [], failed
