"""Kubernetes on a bad day, with the AWS stand-in:

  * the API server unreachable for 60 s (the genuine kube-apiserver
    SIGSTOPped: connections hang, as behind a dead load balancer), then
    back: the operator never exits and finishes the work with no duplicate
    AWS account (CreateAccount successes against Accounts);
  * every watch dropped every 2 s (the Kubernetes stand-in's
    /fake/drop-watches) while a pool fills and claims are served: no event
    missed (every claim Ready, every count right);
  * 409 storms (the stand-in answers Conflict to bursts of PUTs): the
    operator converges with no write lost.
"""
import os
import signal
import time

from conftest import wait_for
from faults_util import (assert_claims_have_working_keys, assert_no_duplicate_accounts,
                         assert_secrets_owned, calls, claim_names, fault_env, kube_fake_env,
                         make_claims, pool_status, repeating, start_fast, wait_claims_ready,
                         wait_pool_full)

OUTAGE_S = 60


def served_pool(env, pool, claims):
    """A pool of that size and that many claims, created now."""
    env.create_pool(pool)
    names = claim_names(claims)
    make_claims(env, names)
    return names


def assert_counts(env, pool, names):
    st = pool_status(env)
    want = {"poolSize": pool, "unclaimedAccounts": pool, "claimedAccounts": len(names),
            "availableAccounts": pool}
    got = {k: st.get(k) for k in want}
    assert got == want, "pool status %s, want %s" % (got, want)
    claimed = sorted(a["spec"].get("claimLink") for a in env.accounts() if a["spec"].get("claimLink"))
    assert claimed == sorted(names), "Accounts' claimLinks %s, want %s" % (claimed, names)


def test_api_server_unreachable_60s(tmp_path):
    with fault_env(tmp_path) as env:
        op = start_fast(env)
        names = served_pool(env, 4, 2)
        wait_for(lambda: any(c["operation"] == "CreateAccount" for c in calls(env)),
                 timeout=60, interval=0.1, what="the first CreateAccount")
        with open(os.path.join(env.kube.workdir, "kube-apiserver.pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(OUTAGE_S)  # the outage itself
            assert op.p.poll() is None, "operator exited during the outage:\n" + op.output()[-3000:]
        finally:
            os.kill(pid, signal.SIGCONT)
        wait_claims_ready(env, names, timeout=180)
        wait_pool_full(env, 4, timeout=180)
        assert op.p.poll() is None, "operator exited:\n" + op.output()[-3000:]
        ok = [c for c in calls(env) if c["operation"] == "CreateAccount" and c["status"] == 200]
        created = assert_no_duplicate_accounts(env)
        assert created == len(ok) == 6, "%d CreateAccount successes, %d AWS accounts, 6 Accounts" % (
            len(ok), created)


def test_watches_dropped_every_2s(tmp_path):
    with kube_fake_env(tmp_path) as env:
        start_fast(env)
        with repeating(2.0, lambda: env.kube.control("POST", "drop-watches")) as drops:
            names = served_pool(env, 3, 3)
            wait_claims_ready(env, names, timeout=180)
            wait_pool_full(env, 3, timeout=180, claimed=len(names))
        print("watch drops: %d" % len(drops))
        assert len(drops) >= 5, "only %d drops happened" % len(drops)
        assert_counts(env, 3, names)
        assert_no_duplicate_accounts(env)
        assert_claims_have_working_keys(env, names)
        assert_secrets_owned(env)


def test_409_storms(tmp_path):
    with kube_fake_env(tmp_path) as env:
        start_fast(env)
        # every second the next 8 PUTs (updates and status writes) get 409
        storm = {"method": "PUT", "code": 409, "count": 8, "reason": "Conflict"}
        with repeating(1.0, lambda: env.kube.control("POST", "fail", storm)) as storms:
            names = served_pool(env, 3, 3)
            wait_claims_ready(env, names, timeout=180)
            wait_pool_full(env, 3, timeout=180, claimed=len(names))
        env.kube.control("POST", "fail", {"clear": True})
        conflicts = [r for r in env.kube.control("GET", "requests")["requests"]
                     if r.get("status") == 409]
        print("storms: %d, 409 answers: %d" % (len(storms), len(conflicts)))
        assert len(conflicts) >= 20, "only %d PUTs met a 409" % len(conflicts)
        assert_counts(env, 3, names)
        assert_no_duplicate_accounts(env)
        assert_claims_have_working_keys(env, names)
