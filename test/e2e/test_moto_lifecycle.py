"""The core lifecycle with moto as the AWS peer (README.md).

moto (pinned, from the project venv made by hack/venv.sh) runs with IAM
authentication ON: every call the operator makes is SigV4-verified against
keys moto issued and authorised by IAM policies. The operator runs
unchanged except --support-case-poll-interval (moto moves a support case
one status per DescribeCases call). Scenarios, in file order, building on
each other like test_claim_lifecycle.py:

  an AccountPool fills and its Account becomes Ready; the Account's key
  Secret works as the new account; a claim becomes Ready, its Secret's
  keys pass GetCallerIdentity as the claimed account, the account sits in
  base/<legalEntity.id>; deleting the claim empties the account (S3, Route
  53, EBS) and returns it Ready with reused=true; a second claim of the
  same legal entity gets that account back.

Kubernetes is the genuine kube-apiserver and etcd (hack/envtest.sh).
That moto rejects bad signatures, the precondition for all of this, is
checked with the other peers' self-tests (test/fakes/tests/test_moto_peer.py),
which run before this suite.
"""
import json
import os
import time

import pytest

from conftest import wait_for
from moto_util import Moto
from operator_env import CLAIM_NS, NS, OrgEnv, operating, start_peers

LEGAL_ID = "le-moto-1"
POLL = "2s"  # --support-case-poll-interval
READY_S = float(os.environ.get("AAO_E2E_READY_S", "180"))
# DescribeRegions in moto also lists the aws-cn and aws-us-gov regions; the
# operator's credentials exist in the aws partition only (README.md).
OTHER_PARTITIONS = ("cn-", "us-gov-")


class Env(OrgEnv):
    """moto as the AWS peer, a genuine kube-apiserver as the Kubernetes one."""

    def __init__(self, tmp):
        kube, moto = start_peers(tmp, lambda: Moto(tmp / "moto").start())
        super().__init__(kube, moto, moto.root)
        self.moto = moto

    def install(self):
        # No service quotas and no opt-in regions: moto implements neither
        # RequestServiceQuotaIncrease nor the Account API's region calls.
        super().install(**{"shard-name": "moto-e2e", "feature.opt_in_regions": "false"})

    def start_operator(self):
        return super().start_operator("--support-case-poll-interval", POLL)

    def shutdown(self):
        self.stop("moto")
        self.kube.stop()
        self.moto.stop()

    def make_claim(self, name, secret):
        super().make_claim(name, secret, LEGAL_ID, legal_name="Team Moto")

    def secret_keys(self, ns, name):
        return self.secret_data(name, ns)

    def wait(self, pred, timeout, what):
        try:
            return wait_for(pred, timeout=timeout, interval=0.25, what=what)
        except AssertionError as e:
            raise AssertionError(f"{e}\noperator (last lines):\n"
                                 + "\n".join(self.op.lines[-40:])) from None

    # ---- AWS, as seen by moto
    def member(self, service, account_id, region="us-east-1"):
        return self.moto.client(service, creds=self.moto.assume(account_id),
                                region=region)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with operating(Env(tmp_path_factory.mktemp("moto"))) as e:
        yield e


def state(obj):
    return (obj or {}).get("status", {}).get("state")


def keys_of(d):
    return {"AccessKeyId": d["aws_access_key_id"],
            "SecretAccessKey": d["aws_secret_access_key"]}


def test_pool_account_ready(env):
    env.create_pool(1)
    t0 = time.monotonic()
    env.wait(lambda: [a for a in env.accounts() if state(a) == "Ready"],
             READY_S, "pool account Ready")
    print(f"pool account Ready after {time.monotonic() - t0:.1f}s")
    (acct,) = env.accounts()
    name, acct_id = acct["metadata"]["name"], acct["spec"]["awsAccountID"]
    # One AWS account for the CR, named after it, tagged with the shard.
    org = env.moto.client("organizations")
    mine = [a for a in org.list_accounts()["Accounts"] if a["Name"] == name]
    assert [a["Id"] for a in mine] == [acct_id]
    tags = {t["Key"]: t["Value"] for t in org.list_tags_for_resource(
        ResourceId=acct_id)["Tags"]}
    assert tags.get("owner") == "moto-e2e"
    assert acct["status"].get("supportCaseID")
    # Regions of the aws partition were initialised (instance launched and
    # terminated in each); moto's foreign-partition regions failed alone.
    regions = json.loads(
        acct["metadata"]["annotations"]["aws.managed.openshift.io/region-init"])
    ours = {r: p for r, p in regions.items() if not r.startswith(OTHER_PARTITIONS)}
    assert "us-east-1" in ours and set(ours.values()) == {"done"}, regions
    ec2 = env.member("ec2", acct_id)
    inst = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert inst and all(i["State"]["Name"] == "terminated" for i in inst)
    # The Account's key Secret works, as the new account's IAM user.
    keys = env.secret_keys(NS, f"{name}-secret")
    ident = env.moto.client("sts", creds=keys_of(keys)).get_caller_identity()
    assert ident["Account"] == acct_id
    assert ident["Arn"].endswith(":user/" + keys["aws_user_name"])
    # The support role trusts the operator and the jump role.
    role = env.member("iam", acct_id).get_role(
        RoleName=f"ManagedOpenShift-Support-{acct['metadata']['labels']['iamUserId']}")
    assert "support-jump-role" in str(role["Role"]["AssumeRolePolicyDocument"])
    assert keys["aws_secret_access_key"] not in env.op.output()


def test_claim_ready_keys_and_ou(env):
    (ready,) = [a for a in env.accounts() if state(a) == "Ready"]
    env.make_claim("moto-claim", "moto-claim-creds")
    env.wait(lambda: state(env.claim("moto-claim")) == "Ready", 60, "claim Ready")
    c = env.claim("moto-claim")
    assert c["spec"]["accountLink"] == ready["metadata"]["name"]
    acct = env.account(c["spec"]["accountLink"])
    acct_id = acct["spec"]["awsAccountID"]
    assert acct["spec"]["claimLink"] == "moto-claim"
    assert acct["spec"]["legalEntity"]["id"] == LEGAL_ID
    # Keys in the claim's Secret are the claimed account's.
    keys = env.secret_keys(CLAIM_NS, "moto-claim-creds")
    ident = env.moto.client("sts", creds=keys_of(keys)).get_caller_identity()
    assert ident["Account"] == acct_id
    assert keys["aws_secret_access_key"] not in env.op.output()
    # OU placement: root -> base -> <legalEntity.id> -> account.
    org = env.moto.client("organizations")
    (parent,) = org.list_parents(ChildId=acct_id)["Parents"]
    assert parent["Type"] == "ORGANIZATIONAL_UNIT"
    ou = org.describe_organizational_unit(
        OrganizationalUnitId=parent["Id"])["OrganizationalUnit"]
    assert ou["Name"] == LEGAL_ID
    assert org.list_parents(ChildId=ou["Id"])["Parents"][0]["Id"] == env.base
    assert c["spec"]["accountOU"] == ou["Id"]


def test_reuse_after_claim_deletion(env):
    c = env.claim("moto-claim")
    name = c["spec"]["accountLink"]
    acct_id = env.account(name)["spec"]["awsAccountID"]
    creds = keys_of(env.secret_keys(CLAIM_NS, "moto-claim-creds"))
    # Leftovers a cluster would leave, made with the claim's own keys.
    s3 = env.moto.client("s3", creds=creds)
    s3.create_bucket(Bucket="moto-leftover-bucket")
    s3.put_object(Bucket="moto-leftover-bucket", Key="k", Body=b"x")
    r53 = env.moto.client("route53", creds=creds)
    zone = r53.create_hosted_zone(Name="leftover.example.com.",
                                  CallerReference="e2e")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": "a.leftover.example.com.", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.1"}]}}]})
    ec2 = env.moto.client("ec2", creds=creds)
    vol = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]

    env.delete(env.claim_path("moto-claim"))
    env.wait(lambda: env.claim("moto-claim") is None, 60,
             "claim gone after cleanup (finalizer removed)")

    def reused():
        a = env.account(name)
        s = (a or {}).get("status", {})
        return s.get("state") == "Ready" and s.get("reused") is True and a
    a = env.wait(reused, 60, "account Ready with reused=true")
    assert not a["spec"].get("claimLink")
    assert a["spec"]["legalEntity"]["id"] == LEGAL_ID
    # The account was emptied, as seen through the management account.
    assert env.member("s3", acct_id).list_buckets()["Buckets"] == []
    assert env.member("route53", acct_id).list_hosted_zones()["HostedZones"] == []
    mec2 = env.member("ec2", acct_id)
    assert mec2.describe_volumes(VolumeIds=[])["Volumes"] == []
    assert snap not in [s["SnapshotId"] for s in
                        mec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]]


def test_same_legal_entity_gets_reused_account(env):
    reused = {a["metadata"]["name"] for a in env.accounts()
              if a.get("status", {}).get("reused")}
    assert reused
    env.make_claim("moto-again", "moto-again-creds")
    env.wait(lambda: state(env.claim("moto-again")) == "Ready", 60, "second claim Ready")
    c = env.claim("moto-again")
    assert c["spec"]["accountLink"] in reused
    acct_id = env.account(c["spec"]["accountLink"])["spec"]["awsAccountID"]
    keys = env.secret_keys(CLAIM_NS, "moto-again-creds")
    assert env.moto.client("sts", creds=keys_of(keys)).get_caller_identity()[
        "Account"] == acct_id
