"""A 20-account pool never has more than 5 CreateAccount requests in flight
in the organization (AWS's limit), and every account is created exactly once.

The AWS stand-in keeps each creation IN_PROGRESS for 2 s (an AWS behaviour
no emulator reproduces on demand), so the pool's demand (20 at once) far
exceeds the limit; the stand-in's counters record the peak of creations in
progress and any request it had to refuse. Kubernetes is the genuine
kube-apiserver."""
from conftest import wait_for
from operator_env import StandInEnv, operating


def test_twenty_account_pool_stays_within_five_creations(tmp_path):
    with operating(StandInEnv(tmp_path, "--create-account-seconds", "2",
                              "--case-resolve-seconds", "0.5",
                              "--instance-running-seconds", "0.1")) as env:
        env.create_pool(20)

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
