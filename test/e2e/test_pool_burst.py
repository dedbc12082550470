"""A 20-account pool never has more than 5 CreateAccount requests in flight
in the organization (AWS's limit), and every account is created exactly once.

The AWS stand-in keeps each creation IN_PROGRESS for 2 s, so the pool's
demand (20 at once) far exceeds the limit; the stand-in's counters record the
peak of creations in progress and any request it had to refuse."""
import os

import pytest

from awsfake_util import AwsFake
from conftest import wait_for
from kubefake_util import KubeFake
from test_claim_lifecycle import GROUP, NS, REPO, Env, _wired

pytestmark = pytest.mark.skipif(not _wired(), reason="executors not wired")


class BurstEnv(Env):
    def __init__(self, tmp):  # noqa: D107 - same as Env, slower creations
        self.kube = KubeFake(tmp / "kube", crds=os.path.join(REPO, "crds")).start()
        self.aws = AwsFake("--create-account-seconds", "2",
                           "--case-resolve-seconds", "0.5",
                           "--instance-running-seconds", "0.1")
        org = self.aws.client("organizations")
        self.root = org.list_roots()["Roots"][0]["Id"]
        self.base = org.create_organizational_unit(
            ParentId=self.root, Name="base")["OrganizationalUnit"]["Id"]
        self.op = None


def test_twenty_account_pool_stays_within_five_creations(tmp_path):
    env = BurstEnv(tmp_path)
    try:
        env.install()
        env.start_operator()
        env.post(f"{GROUP}/namespaces/{NS}/accountpools", {
            "apiVersion": "aws.managed.openshift.io/v1alpha1",
            "kind": "AccountPool", "metadata": {"name": "default"},
            "spec": {"poolSize": 20}})

        def all_created():
            accts = env.accounts()
            ids = [a["spec"].get("awsAccountID") for a in accts]
            return len(accts) == 20 and all(ids) and ids

        ids = wait_for(all_created, timeout=120, interval=0.5,
                       what="20 Accounts with an AWS account ID")
        counters = env.aws.control("GET", "counters")
        print("create_account_peak_in_flight=%s rejected=%s" % (
            counters["create_account_peak_in_flight"],
            counters["create_account_rejected_concurrent"]))
        assert counters["create_account_peak_in_flight"] <= 5, counters
        assert counters["create_account_rejected_concurrent"] == 0, counters
        # The limit was actually exercised, not trivially respected.
        assert counters["create_account_peak_in_flight"] >= 2, counters
        # One AWS account per Account CR, no duplicates.
        assert len(set(ids)) == 20
        created = [a for a in env.state()["accounts"]
                   if a["Name"].startswith("osd-creds-mgmt-")]
        assert len(created) == 20, created
    finally:
        env.stop()
