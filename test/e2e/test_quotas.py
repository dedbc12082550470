"""Service quotas end to end, through the real executor, against a genuine
kube-apiserver and the AWS stand-in: the pool's `servicequotas` (ConfigMap)
go into the Accounts the pool creates, and reach Service Quotas as
RequestServiceQuotaIncrease in the new account; an approved increase lets
the Account become Ready with the quota COMPLETED, a denied one fails the
Account (QuotaIncreaseDenied)."""

import pytest

from conftest import wait_for
from operator_env import stand_in_env

POOL_QUOTAS = ("default:\n  default: true\n  servicequotas:\n    default:\n"
               "      L-1216C47A: '200'\n")


@pytest.fixture
def env(kube):
    with stand_in_env(kube, "--create-account-seconds", "1",
                      "--case-resolve-seconds", "1",
                      "--instance-running-seconds", "0.2",
                      **{"feature.opt_in_regions": "false",
                         "accountpool": POOL_QUOTAS}) as e:
        yield e


def quota_calls(aws, op):
    return [c for c in aws.control("GET", "calls")["calls"]
            if c["service"] == "service-quotas" and c["operation"] == op]


def regional(env, name):
    return (env.account(name).get("status") or {}).get("regionalServiceQuotas") or {}


def pool_account(env):
    """The pool's one Account, once it exists."""
    env.create_pool(1)
    items = wait_for(env.accounts, timeout=60, what="the pool's Account")
    return items[0]["metadata"]["name"]


def test_approved_quota_increase_then_ready(env):
    env.aws.control("POST", "quota-policy", {"default": "approve"})
    env.start_operator(env={"SUPPORT_CASE_POLL_INTERVAL": "2s"})
    name = pool_account(env)
    assert env.account(name)["spec"]["regionalServiceQuotas"]
    wait_for(lambda: env.account_state(name) == "Ready",
             timeout=150, interval=0.5, what="Account Ready")
    reqs = quota_calls(env.aws, "RequestServiceQuotaIncrease")
    assert reqs, "no quota increase was requested"
    acct = env.account(name)["spec"]["awsAccountID"]
    assert all(c["account"] == acct for c in reqs)  # in the new account
    statuses = [q.get("status") for per_region in regional(env, name).values()
                for q in (per_region.values() if isinstance(per_region, dict) else [])]
    assert statuses and set(statuses) == {"COMPLETED"}, regional(env, name)


def test_denied_quota_increase_fails_the_account(env):
    env.aws.control("POST", "quota-policy", {"default": "deny"})
    env.start_operator(env={"SUPPORT_CASE_POLL_INTERVAL": "2s"})
    name = pool_account(env)
    wait_for(lambda: env.account_state(name) == "Failed",
             timeout=150, interval=0.5, what="Account Failed")
    conds = env.account(name)["status"]["conditions"]
    assert any(c["type"] == "Failed" and c["status"] == "True" and
               c["reason"] == "QuotaIncreaseDenied" for c in conds), conds
    assert quota_calls(env.aws, "RequestServiceQuotaIncrease")
