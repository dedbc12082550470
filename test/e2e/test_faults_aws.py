"""AWS on a bad day, the operator against a genuine kube-apiserver and the
AWS stand-in's fault rules (test/fakes/aws/__init__.py, /_fake/faults):

  * half of all AWS calls throttled (until THROTTLES throttled answers):
    the pool fills and the claims are Ready, and the stand-in's call log
    shows no more requests per (service, account) than the operator's
    governor allows, and no more than 5 CreateAccount creations in
    progress;
  * bursts of 5xx answers on every service (every call fails for 1 s,
    then 1-7 s of calm, seeded): the same, with no duplicate AWS account;
  * eventual consistency: every credential minted in a new account is
    refused (InvalidClientTokenId) for its first seconds, as IAM does;
    the accounts still become Ready and the claims' keys work.
"""
import os
import random
import time

from faults_util import (assert_claims_have_working_keys, assert_create_cap,
                         assert_no_duplicate_accounts, assert_within_governor, calls,
                         claim_names, fault_env, make_claims, repeating, start_fast,
                         wait_claims_ready, wait_pool_full)

POOL, CLAIMS = 4, 3
# Random throttling of half the calls keeps the governor's rate near its
# floor (every throttle halves it, 0.5 requests/s), where initialising the
# ~17 regions of one account takes minutes: the run is kept small, and the
# throttling ends after THROTTLES throttled answers (about twice as many
# calls: the whole creation phase and much of region initialisation).
THROTTLED_POOL, THROTTLED_CLAIMS = 2, 1
THROTTLES = 80
# 5xx bursts: every call fails for BURST_S seconds every BURST_EVERY_S on
# average (seeded random gaps; AAO_FAULT_SEED replays a run).
BURST_S, BURST_EVERY_S = 1.0, 4.0


def fill_and_claim(env, timeout, pool=POOL, claims=CLAIMS):
    env.create_pool(pool)
    names = claim_names(claims)
    make_claims(env, names)
    wait_claims_ready(env, names, timeout)
    wait_pool_full(env, pool, timeout)
    return names


def test_half_of_all_calls_throttled(tmp_path):
    with fault_env(tmp_path) as env:
        env.aws.control("POST", "faults", {"kind": "throttle", "fraction": 0.5,
                                           "count": THROTTLES})
        start_fast(env)
        t0 = time.monotonic()
        names = fill_and_claim(env, timeout=400, pool=THROTTLED_POOL, claims=THROTTLED_CLAIMS)
        print("throttled run: pool and claims Ready after %.0f s" % (time.monotonic() - t0))
        log = calls(env)
        peak = assert_within_governor(log)
        counters = assert_create_cap(env)
        throttled = counters["throttled"]
        print("calls=%d throttled=%d peak_per_key_1s=%d create_peak=%d" % (
            len(log), throttled, peak, counters["create_account_attempted_peak"]))
        assert throttled == THROTTLES, "%d of %d calls throttled, want %d" % (
            throttled, len(log), THROTTLES)
        assert_no_duplicate_accounts(env)
        assert_claims_have_working_keys(env, names)


def test_5xx_bursts(tmp_path):
    with fault_env(tmp_path) as env:
        def burst():
            # every call, whatever it is, answers 5xx for a second
            env.aws.control("POST", "5xx", {})
            time.sleep(BURST_S)
            env.aws.control("POST", "faults/clear")
        seed = int(os.environ.get("AAO_FAULT_SEED") or random.SystemRandom().randrange(1 << 30))
        print("AAO_FAULT_SEED=%d" % seed)
        rng = random.Random(seed)
        # irregular gaps: bursts on a fixed period stay in phase with the
        # operator's 30 s retry interval and hit the same step every time
        with repeating(lambda: rng.uniform(1.0, 2 * BURST_EVERY_S - 1.0), burst) as bursts:
            start_fast(env)
            names = fill_and_claim(env, timeout=300)
        errors = [c for c in calls(env) if c["status"] >= 500]
        print("%d bursts, 5xx answers: %d" % (len(bursts), len(errors)))
        assert len(errors) >= 20, "%d bursts hit only %d calls" % (len(bursts), len(errors))
        created = assert_no_duplicate_accounts(env)
        assert created == POOL + CLAIMS, "%d AWS accounts for %d Accounts" % (
            created, POOL + CLAIMS)
        assert_create_cap(env)
        assert_claims_have_working_keys(env, names)


def test_new_account_credentials_eventually_consistent(tmp_path):
    with fault_env(tmp_path) as env:
        env.aws.control("POST", "eventual-consistency", {"account_id": "*", "seconds": 4})
        start_fast(env)
        names = fill_and_claim(env, timeout=300)
        refused = [c for c in calls(env) if c["error_code"] == "InvalidClientTokenId"]
        print("calls refused while credentials propagated: %d" % len(refused))
        assert refused, "no call met the eventual-consistency window"
        assert_no_duplicate_accounts(env)
        # The window also holds for keys minted now: the claims' keys work
        # once it has passed, as the test's own client retries them.
        env.aws.control("POST", "eventual-consistency", {"account_id": "*", "seconds": 0})
        assert_claims_have_working_keys(env, names)
