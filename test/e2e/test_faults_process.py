"""The operator process on its worst day, against a genuine kube-apiserver
and the AWS stand-in:

  * kill -9 at random moments (seeded; the seed is printed and can be set
    with AAO_FAULT_SEED) while a 50-account pool fills and 20 claims are
    served: no duplicate AWS account, every claim Ready with keys that
    work, no Secret left without its owner;
  * two operators with --leader-elect: the leader killed mid-work, the
    standby takes the lease and finishes the job;
  * SIGTERM mid-work: exit 0 within the operator's 5 s shutdown deadline
    (docs/operations.md), and a restart finishes the work.
"""
import os
import random
import signal
import time

from conftest import wait_for
from faults_util import (assert_claims_have_working_keys, assert_no_duplicate_accounts,
                         assert_secrets_owned, calls, claim_names, fault_env, make_claims,
                         start_fast, wait_claims_ready, wait_pool_full)
from k8s_util import lease_holder

SHUTDOWN_DEADLINE_S = 5.0


def kill9(op):
    op.p.send_signal(signal.SIGKILL)
    op.p.wait(timeout=10)


def wait_first_create(env, timeout=60):
    wait_for(lambda: any(c["operation"] == "CreateAccount" for c in calls(env)),
             timeout=timeout, interval=0.1, what="the first CreateAccount")


def test_kill9_at_random_moments_while_50_accounts_fill_and_20_claims(tmp_path):
    seed = int(os.environ.get("AAO_FAULT_SEED") or random.SystemRandom().randrange(1 << 30))
    print("AAO_FAULT_SEED=%d" % seed)
    rng = random.Random(seed)
    with fault_env(tmp_path) as env:
        op = start_fast(env)
        env.create_pool(50)
        names = claim_names(20)
        make_claims(env, names)
        kills = []
        for _ in range(6):
            time.sleep(rng.uniform(1.0, 8.0))  # the fault's moment, chosen by the seed
            kill9(op)
            kills.append(len(calls(env)))
            op = start_fast(env)
        print("killed after AWS calls #%s" % kills)
        # 70 accounts' region initialisation: about 7,000 EC2 calls
        wait_claims_ready(env, names, timeout=600)
        wait_pool_full(env, 50, timeout=600)
        created = assert_no_duplicate_accounts(env)
        assert created == 70, "seed %d: %d AWS accounts for 70 Accounts" % (seed, created)
        assert_claims_have_working_keys(env, names)
        assert_secrets_owned(env)


def test_leader_killed_mid_work_standby_finishes(tmp_path):
    with fault_env(tmp_path) as env:
        ops = {ident: start_fast(env, "--leader-elect", env={"POD_NAME": ident})
               for ident in ("op-a", "op-b")}
        env.create_pool(4)
        names = claim_names(2)
        make_claims(env, names)
        wait_first_create(env)
        leader = lease_holder(env.kube)
        assert leader in ops, "lease held by %r, not by op-a or op-b" % leader
        kill9(ops[leader])
        standby = "op-b" if leader == "op-a" else "op-a"
        wait_for(lambda: lease_holder(env.kube) == standby, timeout=30, interval=0.2,
                 what="the standby taking the lease")
        wait_claims_ready(env, names, timeout=180)
        wait_pool_full(env, 4, timeout=180)
        assert ops[standby].p.poll() is None, "the standby exited: " + ops[standby].output()[-2000:]
        created = assert_no_duplicate_accounts(env)
        assert created == 6, "%d AWS accounts for 6 Accounts" % created


def test_sigterm_mid_work_exits_cleanly_and_restart_finishes(tmp_path):
    with fault_env(tmp_path) as env:
        op = start_fast(env)
        env.create_pool(4)
        names = claim_names(2)
        make_claims(env, names)
        wait_first_create(env)
        t0 = time.monotonic()
        op.p.send_signal(signal.SIGTERM)
        try:
            rc = op.p.wait(timeout=SHUTDOWN_DEADLINE_S + 5)
        except Exception:  # noqa: BLE001 - reported below
            rc = None
        took = time.monotonic() - t0
        assert rc == 0 and took < SHUTDOWN_DEADLINE_S, (
            "SIGTERM mid-work: exit %r after %.1f s (deadline %.0f s); log tail:\n%s" % (
                rc, took, SHUTDOWN_DEADLINE_S, op.output()[-2000:]))
        print("SIGTERM mid-work: exit 0 after %.2f s" % took)
        start_fast(env)
        wait_claims_ready(env, names, timeout=180)
        wait_pool_full(env, 4, timeout=180)
        created = assert_no_duplicate_accounts(env)
        assert created == 6, "%d AWS accounts for 6 Accounts" % created
