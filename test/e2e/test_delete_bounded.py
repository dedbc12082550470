"""Deleting an Account whose OrganizationAccountAccessRole can no longer be
assumed costs a bounded number of AWS calls (issue 10, 6th item), against a
genuine kube-apiserver and the AWS stand-in (which logs every call and
refuses every sts:AssumeRole once told to).

The bound comes from the deletion plan (pkg/controllers/account/
plan_delete.c): a failed IAM cleanup (one AssumeRole) is retried 30 s, then
60 s after it; the third failure sets AccountClientError. From then on one
DescribeAccount and one cleanup attempt are made per CLIENT_ERROR_RETRY_S
(300 s), while the AWS account stays ACTIVE. So over one minute:

  - from Ready: at most 3 AssumeRole (t = 0, 30, and one of slack for the
    30 s requeue landing inside the window), no DescribeAccount;
  - after AccountClientError: at most 1 DescribeAccount and 1 AssumeRole.

The operator is restarted before the deletions so that it holds no
assumed-role session for the account (see restart()).

The Account CR stays (deletionTimestamp set, our finalizer, the attempts
recorded in annotations) while AssumeRole fails, as documented in
docs/differences.md; once AssumeRole works again the next retry cleans up
and the finalizer goes."""
import datetime
import time

import pytest

from conftest import wait_for
from operator_env import FAST_AWS, GROUP, stand_in_env

WINDOW_S = 60
FAULT = {"kind": "error", "service": "sts", "operation": "AssumeRole",
         "code": "AccessDenied", "status": 403}
FINALIZER = "finalizer.aws.managed.openshift.io"


@pytest.fixture(scope="module")
def env(kube):
    with stand_in_env(kube, *FAST_AWS, **{"feature.opt_in_regions": "false"}) as e:
        e.start_operator(env={"SUPPORT_CASE_POLL_INTERVAL": "2s"})
        for name in ("osd-creds-mgmt-bound1", "osd-creds-mgmt-bound2"):
            e.create_account(name)
        for name in ("osd-creds-mgmt-bound1", "osd-creds-mgmt-bound2"):
            wait_for(lambda n=name: e.account_state(n) == "Ready", timeout=150,
                     interval=0.5, what="Account %s Ready" % name)
        yield e


def account_path(env, name):
    return "%s/namespaces/%s/accounts/%s" % (GROUP, env.ns, name)


def calls_by_account(env, ids):
    """AssumeRole calls per target account (from the role ARN) and the
    DescribeAccount count, since the last reset-log."""
    out = {"DescribeAccount": 0}
    out.update({i: 0 for i in ids})
    for c in env.aws.control("GET", "calls")["calls"]:
        if c["operation"] == "DescribeAccount":
            out["DescribeAccount"] += 1
        elif c["operation"] == "AssumeRole":
            acct = (c.get("role_arn") or "").split(":")[4:5]
            if acct and acct[0] in out:
                out[acct[0]] += 1
    return out


def restart(env):
    """A fresh operator process: its cache of assumed-role sessions is
    empty, so the deletion has to call AssumeRole (a session the previous
    process still held would outlive the revoked role for up to an hour)."""
    env.stop()
    op = env.start_operator(env={"SUPPORT_CASE_POLL_INTERVAL": "2s"})
    op.read_until("started", timeout=15)


def mark_client_error(env, name):
    """What three failed cleanups leave: state Failed, AccountClientError."""
    a = env.account(name)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    a["status"]["state"] = "Failed"
    a["status"]["conditions"] = (a["status"].get("conditions") or []) + [{
        "type": "AccountClientError", "status": "True", "reason": "AssumeRoleFailed",
        "message": "Cannot assume OrganizationAccountAccessRole for cleanup",
        "lastProbeTime": now, "lastTransitionTime": now}]
    env.kube.ok("PUT", account_path(env, name) + "/status", a)


def test_failing_assume_role_costs_bounded_calls_then_recovers(env):
    """Both cases in one window: bound1 deleted from Ready, bound2 deleted
    after AccountClientError. Checks every second that the budget is not
    exceeded early (a loop shows at once)."""
    fresh, failed = "osd-creds-mgmt-bound1", "osd-creds-mgmt-bound2"
    ids = {n: env.account(n)["spec"]["awsAccountID"] for n in (fresh, failed)}
    mark_client_error(env, failed)
    env.aws.control("POST", "faults", FAULT)
    try:
        restart(env)
        env.aws.control("POST", "reset-log")
        env.delete(account_path(env, fresh))
        env.delete(account_path(env, failed))
        end = time.monotonic() + WINDOW_S
        while time.monotonic() < end:
            seen = calls_by_account(env, ids.values())
            assert seen[ids[fresh]] <= 3 and seen[ids[failed]] <= 1 and \
                seen["DescribeAccount"] <= 1, "deletion loops: %s" % seen
            time.sleep(1)  # sampling the call log, not synchronising
        seen = calls_by_account(env, ids.values())
    except BaseException:
        env.aws.control("POST", "faults/clear")
        raise
    # From Ready: 30 s then 60 s retries, no DescribeAccount for it.
    assert 1 <= seen[ids[fresh]] <= 3, seen
    # After AccountClientError: one DescribeAccount and one attempt.
    assert seen[ids[failed]] == 1 and seen["DescribeAccount"] == 1, seen
    for name, ann_key in ((fresh, "cleanup-attempts"), (failed, "cleanup-failed-at")):
        a = env.account(name)
        assert a and a["metadata"].get("deletionTimestamp"), "the CR stays while cleanup fails"
        assert FINALIZER in a["metadata"]["finalizers"]
        ann = a["metadata"].get("annotations") or {}
        assert ann.get("aws.managed.openshift.io/" + ann_key), (name, ann)
    # AssumeRole works again: the next retry (<= 60 s later) cleans up.
    env.aws.control("POST", "faults/clear")
    wait_for(lambda: env.account(fresh) is None, timeout=75, interval=0.5,
             what="Account deleted once AssumeRole works")
