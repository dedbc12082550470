"""The operator ConfigMap, live, against a genuine kube-apiserver and the AWS
stand-in: MaxConcurrentReconciles.account changes how many Accounts reconcile
at once without a restart, and a ConfigMap that fails validation leaves the
previous configuration in force (a Warning Event and a log line name the bad
key; the plans keep running).

Concurrency is read from the operator's own controller_runtime_active_workers
{controller="account"} (keys reconciling or waiting on AWS; the work queue
never hands one key to two workers), while the stand-in holds every
Organizations call for a second so reconciles overlap for long enough to see.
"""
import re
import time

import pytest

from conftest import wait_for
from operator_env import stand_in_env

CM_PATH = "/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap"


@pytest.fixture
def env(kube):
    """conftest's module-scoped genuine kube-apiserver, a fresh AWS stand-in
    and namespace per test."""
    with stand_in_env(kube, "--create-account-seconds", "30",
                      **{"MaxConcurrentReconciles.account": "1",
                         "feature.opt_in_regions": "false"}) as e:
        yield e


def gauge(text, name, controller):
    m = re.search(r'^%s\{[^}]*controller="%s"[^}]*\} (\S+)$' % (name, controller),
                  text, re.M)
    return float(m.group(1)) if m else None


def active(env):
    return gauge(env.metrics(), "controller_runtime_active_workers", "account")


def max_conc(env):
    return gauge(env.metrics(), "controller_runtime_max_concurrent_reconciles",
                 "account")


def patch_cm(env, data):
    st, _, body = env.kube.req("PATCH", CM_PATH % env.ns, {"data": data},
                               ctype="application/merge-patch+json")
    assert st == 200, body


def sample_active(env, seconds):
    """Highest active_workers seen while polling for `seconds`."""
    top, end = 0.0, time.monotonic() + seconds
    while time.monotonic() < end:
        top = max(top, active(env) or 0.0)
        time.sleep(0.05)
    return top


def hold_org_calls(env, ms=1000):
    env.aws.control("POST", "latency", {"service": "organizations",
                                        "latency_ms": ms})


def test_max_concurrent_reconciles_follows_the_configmap(env):
    env.start_operator()
    wait_for(lambda: max_conc(env) == 1, timeout=30, what="limit 1 in force")
    hold_org_calls(env)
    for i in range(4):
        env.create_account("osd-creds-mgmt-conc%d" % i)
    # every Account has work and each AWS call takes a second, so a second
    # worker would show within a few samples; with the limit at 1 none does
    wait_for(lambda: active(env) == 1, timeout=30, what="one reconcile in flight")
    assert sample_active(env, 4.0) == 1
    patch_cm(env, {"MaxConcurrentReconciles.account": "2"})
    wait_for(lambda: max_conc(env) == 2, timeout=30, what="limit 2 in force")
    wait_for(lambda: active(env) == 2, timeout=30, interval=0.05,
             what="two Accounts reconciling at once")
    assert sample_active(env, 3.0) <= 2
    # back down: no new reconcile starts until fewer than the limit run
    patch_cm(env, {"MaxConcurrentReconciles.account": "1"})
    wait_for(lambda: max_conc(env) == 1, timeout=30, what="limit 1 again")
    wait_for(lambda: active(env) == 1, timeout=30, what="back to one")
    assert sample_active(env, 3.0) == 1
    assert len(env.ops) == 1 and env.op.p.poll() is None  # never restarted


def warning_events(env):
    return [e for e in env.items("/api/v1/namespaces/%s/events" % env.ns)
            if e.get("reason") == "InvalidConfigMap"]


def test_invalid_configmap_keeps_the_previous_configuration(env):
    op = env.start_operator()
    patch_cm(env, {"MaxConcurrentReconciles.account": "2"})
    wait_for(lambda: max_conc(env) == 2, timeout=30, what="limit 2 in force")
    patch_cm(env, {"MaxConcurrentReconciles.account": "lots"})
    ev = wait_for(lambda: warning_events(env), timeout=30, what="InvalidConfigMap Event")
    assert "MaxConcurrentReconciles.account" in ev[0]["message"]
    assert ev[0]["type"] == "Warning"
    assert ev[0]["involvedObject"]["name"] == "aws-account-operator-configmap"
    wait_for(lambda: any("MaxConcurrentReconciles.account" in line
                         for line in op.lines), timeout=10,
             what="log line naming the key")
    # the previous configuration stays in force ...
    assert max_conc(env) == 2
    # ... and the plans keep using it: a new Account gets its AWS account
    env.create_account("osd-creds-mgmt-afterbad")
    wait_for(lambda: env.account("osd-creds-mgmt-afterbad").get("spec", {})
             .get("awsAccountID"), timeout=90, interval=0.5,
             what="Account created under the previous configuration")
    # a fixed ConfigMap applies again
    patch_cm(env, {"MaxConcurrentReconciles.account": "3"})
    wait_for(lambda: max_conc(env) == 3, timeout=30, what="limit 3 in force")
