"""Opt-in regions end to end, through the real executor, against a genuine
kube-apiserver and the AWS stand-in: with feature.opt_in_regions on, a new
Account enables the listed regions (Account API EnableRegion in the new
account) before region initialisation; a region that stays ENABLING keeps
the Account in OptingInRegions, polled at most once a minute."""
import time

import pytest

from conftest import wait_for
from operator_env import stand_in_env

REGIONS = "il-central-1,eu-south-1"


@pytest.fixture
def env(kube):
    with stand_in_env(kube, "--create-account-seconds", "1",
                      "--case-resolve-seconds", "1",
                      "--instance-running-seconds", "0.2",
                      "--region-enable-seconds", "0.5",
                      **{"feature.opt_in_regions": "true",
                         "opt-in-regions": REGIONS}) as e:
        yield e


def optin(env, name):
    return (env.account(name).get("status") or {}).get("optInRegions") or {}


def calls(env, op, region=None):
    return [c for c in env.aws.control("GET", "calls")["calls"]
            if c["service"] == "account" and c["operation"] == op]


def test_opt_in_regions_enabled_then_ready(env):
    env.start_operator(env={"SUPPORT_CASE_POLL_INTERVAL": "2s"})
    env.create_account("osd-creds-mgmt-optin1")
    wait_for(lambda: env.account_state("osd-creds-mgmt-optin1") == "Ready",
             timeout=180, interval=0.5, what="Account Ready")
    regions = optin(env, "osd-creds-mgmt-optin1")
    assert {r: v["status"] for r, v in regions.items()} == {
        "il-central-1": "ENABLED", "eu-south-1": "ENABLED"}
    acct = env.account("osd-creds-mgmt-optin1")["spec"]["awsAccountID"]
    enables = calls(env, "EnableRegion")
    assert len(enables) == 2 and all(c["account"] in (acct, env.aws.account) for c in enables)


def test_region_stuck_enabling_keeps_polling_slowly(env):
    env.aws.control("POST", "timing", {"stuck_regions": ["eu-south-1"]})
    env.start_operator(env={"SUPPORT_CASE_POLL_INTERVAL": "2s"})
    env.create_account("osd-creds-mgmt-optin2")
    wait_for(lambda: optin(env, "osd-creds-mgmt-optin2").get("eu-south-1", {})
             .get("status") == "ENABLING", timeout=120, interval=0.5,
             what="the stuck region recorded ENABLING")
    t0 = time.monotonic()
    before = len(calls(env, "GetRegionOptStatus"))
    # a real interval to count calls in, not a synchronisation
    time.sleep(20)
    polls = len(calls(env, "GetRegionOptStatus")) - before
    assert polls <= 1, f"{polls} status checks in {time.monotonic() - t0:.0f} s"
    assert env.account_state("osd-creds-mgmt-optin2") == "OptingInRegions"
    assert optin(env, "osd-creds-mgmt-optin2")["eu-south-1"]["status"] == "ENABLING"
