"""pkg/aws end to end against the AWS stand-in (issue 4, "Show").

Our C client (build/drivers/aws_driver over pkg/aws's real operation table,
and `aws-account-operator aws-check`) talks to test/fakes/aws_api.py, which
verifies every SigV4 signature with botocore and validates every request
against botocore's models. Shown here:

  * every operation of issue 4 (and every entry of pkg/aws/api.h) succeeds
    at least once: from the driver's output and from the fake's coverage;
  * with 50 % of calls throttled every call still completes through
    retries, and the request rate the fake sees per (service, credentials)
    never exceeds the governor's token bucket (rate * window + burst);
  * 20 CreateAccount requests through the organization-wide cap never
    have more than 5 creations in flight and none is rejected;
  * a wrong secret and an unknown access key fail with class auth for
    every protocol;
  * aws-check's report and exit status for success and each failure class
    (wrong secret, unknown key, no credentials, closed port, access
    denied, clock skew), with credentials from the environment, from web
    identity (IRSA) and from the operator Secret read through --kubeconfig.

Clock skew, both ways and without faketime: (1) the stand-in runs with its
clock moved by +1 h / -30 min (time.time patched in a launcher, the fake
itself unchanged), so our correctly-timed requests are "skewed" for it; the
client learns the offset from the Date header, signs again and aws-check
succeeds, reporting the corrected skew; (2) a skew the correction cannot
fix: the fake's own skew answer (SignatureDoesNotMatch "Signature expired:
...", what STS sends) injected as a fault on every attempt; aws-check
reports clock_skew.

Run with Debian's /usr/bin/python3 (botocore); `make test-e2e` builds the
driver first.
"""
import base64
import json
import os
import re
import subprocess

import pytest

import awsfake_util
from awsfake_util import AwsFake
from conftest import BIN, REPO, free_port
from envtest_util import Envtest
from faults_util import max_in_window

DRIVER = os.path.join(REPO, "build", "drivers", "aws_driver")
API_H = os.path.join(REPO, "pkg", "aws", "api.h")
WEB_TOKEN = "aint-web-identity-token"

# Issue 4, "Operations", by the fake's service names.
ISSUE4_OPS = {
    "organizations": [
        "CreateAccount", "DescribeCreateAccountStatus", "ListCreateAccountStatus", "ListAccounts",
        "DescribeAccount", "DescribeOrganization", "MoveAccount", "ListParents", "ListChildren",
        "CreateOrganizationalUnit", "ListOrganizationalUnitsForParent", "TagResource", "UntagResource",
        "ListTagsForResource", "CloseAccount"],
    "sts": ["AssumeRole", "AssumeRoleWithWebIdentity", "GetCallerIdentity", "GetFederationToken"],
    "iam": [
        "CreateUser", "GetUser", "DeleteUser", "ListUsers", "ListUserTags", "TagUser", "AttachUserPolicy",
        "DetachUserPolicy", "ListAttachedUserPolicies", "CreateAccessKey", "ListAccessKeys", "DeleteAccessKey",
        "CreateRole", "GetRole", "DeleteRole", "ListRoles", "ListRoleTags", "TagRole", "AttachRolePolicy",
        "DetachRolePolicy", "ListAttachedRolePolicies", "PutRolePolicy", "DeleteRolePolicy", "ListRolePolicies",
        "CreatePolicy", "GetPolicy", "DeletePolicy", "CreatePolicyVersion", "ListPolicyVersions",
        "DeletePolicyVersion"],
    "support": ["CreateCase", "DescribeCases"],
    "ec2": [
        "DescribeRegions", "DescribeInstances", "DescribeInstanceStatus", "DescribeInstanceTypes",
        "DescribeImages", "RunInstances", "TerminateInstances", "DescribeVolumes", "DeleteVolume",
        "DescribeSnapshots", "DeleteSnapshot", "DescribeVpcEndpointServiceConfigurations",
        "DeleteVpcEndpointServiceConfigurations"],
    "service-quotas": ["GetServiceQuota", "RequestServiceQuotaIncrease",
                       "ListRequestedServiceQuotaChangeHistoryByQuota"],
    "account": ["GetRegionOptStatus", "EnableRegion"],
    "s3": ["ListBuckets", "ListObjectsV2", "DeleteObjects", "DeleteBucket"],
    "route53": ["ListHostedZones", "ListResourceRecordSets", "ChangeResourceRecordSets", "DeleteHostedZone"],
}
# pkg/aws's signing names -> the fake's service names
FAKE_SVC = {"servicequotas": "service-quotas"}

# The throttled run's governor (per service and credentials), and its load:
# THROTTLED_CALLS start at once, a quarter per service, so without the
# governor about 40 requests per service land in the first 0.25 s (measured:
# 37-42), far above its bound of rate * 0.25 + burst = 15.
GOV_RATE, GOV_BURST, GOV_MIN = 40.0, 5.0, 10.0
THROTTLED_CALLS = 160


def api_h_ops():
    """(service, Operation) of every entry of the AWS_OPS table, which api.h
    assembles from the service headers it includes (aws/orgs.h, ...)."""
    text = open(API_H).read()
    for name in re.findall(r'#include "aws/(\w+\.h)"', text):
        text += open(os.path.join(os.path.dirname(API_H), name)).read()
    text = re.sub(r"\\\n", " ", text)  # join the macros' lines
    ops = re.findall(r'XX\(\s*\w+,\s*(\w+),\s*"(\w+)"', text)
    assert len(ops) > 80, ops
    return {(FAKE_SVC.get(svc, svc), op) for op, svc in ops}


@pytest.fixture(scope="module")
def fake():
    if not os.access(DRIVER, os.X_OK):
        pytest.fail(f"{DRIVER} missing: run `make test-e2e` (it builds test/e2e/drivers)")
    f = AwsFake("--create-account-seconds", "1", "--case-resolve-seconds", "1")
    try:
        yield f
    finally:
        f.stop()


def clean_env(**extra):
    """The process environment without any AWS_* variable, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra)
    return env


def run_driver(fake, *args, secret=None, timeout=60):
    env = clean_env(AWS_ACCESS_KEY_ID=fake.access_key,
                    AWS_SECRET_ACCESS_KEY=secret or fake.secret_key)
    p = subprocess.run([DRIVER, *args, "--endpoint", fake.endpoint], env=env, capture_output=True,
                       text=True, timeout=timeout)
    assert fake.secret_key not in p.stdout + p.stderr
    lines = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    assert lines and "summary" in lines[-1], p.stdout + p.stderr
    return p, lines[:-1], lines[-1]["summary"]


def aws_check(env, *args, timeout=30):
    p = subprocess.run([BIN, "aws-check", *args], env=env, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


# ----------------------------------------------------------------------------- every operation
def test_every_operation_succeeds(fake):
    fake.control("POST", "web-identity", {"token": WEB_TOKEN,
                                          "subject": "system:serviceaccount:aws-account-operator:aao"})
    p, calls, summary = run_driver(fake, "all-ops", "--web-token", WEB_TOKEN, "--poll-ms", "100")
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    failed = [c for c in calls if not c["ok"]]
    assert failed == []
    assert summary["ok"] == summary["calls"] == len(calls)

    driven = {(FAKE_SVC.get(c["service"], c["service"]), c["op"]) for c in calls if not c.get("seed")}
    listed = {(svc, op) for svc, ops in ISSUE4_OPS.items() for op in ops}
    assert sorted(listed - driven) == []
    assert sorted(api_h_ops() - driven) == []
    # only what api.h lacks went around the table
    seeds = {c["op"] for c in calls if c.get("seed")}
    assert seeds <= {"CreateSnapshot", "CreateVpcEndpointServiceConfiguration",
                     "RegisterImage"}

    covered = set(fake.control("GET", "coverage")["succeeded"])
    assert sorted(f"{s}.{o}" for s, o in listed if f"{s}.{o}" not in covered) == []

    # a realistic order: the account exists before it is used, and is closed last
    ops = [c["op"] for c in calls]
    assert ops.index("CreateAccount") < ops.index("AssumeRole") < ops.index("CreateUser")
    assert ops[-1] == "CloseAccount"
    state = fake.control("GET", "state")
    acct = summary["account"]
    assert re.fullmatch(r"\d{12}", acct)
    assert json.dumps(state).count(acct) > 0


# ----------------------------------------------------------------------------- throttling
def test_throttling_half_completes_within_governor(fake):
    fake.control("POST", "reset-log")
    fake.control("POST", "faults", {"kind": "throttle", "service": "^(sts|iam|organizations|ec2)$",
                                    "fraction": 0.5})
    try:
        p, calls, summary = run_driver(
            fake, "throttled", str(THROTTLED_CALLS), "--rate", str(GOV_RATE), "--burst", str(GOV_BURST),
            "--min-rate", str(GOV_MIN), "--max-attempts", "25", "--backoff-cap-ms", "400",
            "--retry-tokens", "100000")
    finally:
        fake.control("POST", "faults/clear")
    counters = fake.control("GET", "counters")
    log = fake.control("GET", "calls")
    log = log["calls"] if isinstance(log, dict) else log

    # every call completed, through retries
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert summary["calls"] == summary["ok"] == THROTTLED_CALLS and summary["failed"] == 0
    assert counters["throttled"] > 20
    assert summary["throttles"] == counters["throttled"]
    assert summary["retries"] == counters["throttled"]  # each throttle was retried, nothing else
    assert summary["attempts"] == THROTTLED_CALLS + summary["retries"] == counters["calls"]

    # the fake saw at most rate * window + burst requests per governor key
    ours = [c for c in log if c["access_key"] == fake.access_key]
    assert len(ours) == summary["attempts"]
    by_service = {}
    for c in ours:
        by_service.setdefault(c["service"], []).append(c["time"])
    assert set(by_service) == {"sts", "iam", "organizations", "ec2"}
    for svc, times in by_service.items():
        times.sort()
        for w in (0.25, 0.5, 1.0, 2.0):
            bound = GOV_RATE * w + GOV_BURST + 1  # +1: arrival jitter on loopback
            assert max_in_window(times, w) <= bound, (svc, w, max_in_window(times, w), bound)
        # AIMD: throttling pulled the sending rate well under the configured maximum
        rate = summary["sends"][svc]["rate"]
        assert 0 < rate < GOV_RATE, (svc, rate)
    print("throttled:", json.dumps({k: summary[k] for k in ("attempts", "retries", "throttles")}),
          json.dumps(summary["sends"]))


# ----------------------------------------------------------------------------- CreateAccount cap
def test_create_account_cap_never_exceeded(fake):
    fake.control("POST", "reset-log")
    p, calls, summary = run_driver(fake, "create-burst", "20", "--cap", "5", "--poll-ms", "100")
    counters = fake.control("GET", "counters")
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    assert summary["bursts_done"] == 20
    assert counters["create_account_peak_in_flight"] <= 5
    assert counters["create_account_attempted_peak"] <= 5
    assert counters["create_account_rejected_concurrent"] == 0
    assert summary["peak_slots"] == 5  # the cap was reached, not just never approached
    assert counters["operations"]["organizations.CreateAccount"] == 20

    done = [c for c in calls if c.get("burst") == "done"]
    assert len(done) == 20 and all(c["state"] == "SUCCEEDED" for c in done)
    ids = {c["account"] for c in done}
    assert len(ids) == 20
    org = fake.client("organizations")
    token = None
    accounts = set()
    while True:
        page = org.list_accounts(**({"NextToken": token} if token else {}))
        accounts |= {a["Id"] for a in page["Accounts"]}
        token = page.get("NextToken")
        if not token:
            break
    assert ids <= accounts
    print("create-burst: peak in flight", counters["create_account_peak_in_flight"],
          "attempted peak", counters["create_account_attempted_peak"])


# ----------------------------------------------------------------------------- auth classes
def test_bad_secret_is_auth(fake):
    p, calls, summary = run_driver(fake, "bad-secret")
    assert p.returncode == 0, p.stdout
    assert len(calls) == 6 and all(c["class"] == "auth" and c["err"] == "EAUTH" for c in calls)
    codes = {c["service"]: c["code"] for c in calls}
    assert codes == {"sts": "SignatureDoesNotMatch", "iam": "SignatureDoesNotMatch",
                     "ec2": "SignatureDoesNotMatch", "s3": "SignatureDoesNotMatch",
                     "organizations": "InvalidSignatureException", "account": "InvalidSignatureException"}


def test_unknown_key_is_auth(fake):
    p, calls, summary = run_driver(fake, "unknown-key")
    assert p.returncode == 0, p.stdout
    assert len(calls) == 6 and all(c["class"] == "auth" and c["err"] == "EAUTH" for c in calls)
    codes = {c["service"]: c["code"] for c in calls}
    assert codes == {"sts": "InvalidClientTokenId", "iam": "InvalidClientTokenId", "ec2": "AuthFailure",
                     "s3": "InvalidAccessKeyId", "organizations": "UnrecognizedClientException",
                     "account": "UnrecognizedClientException"}


# ----------------------------------------------------------------------------- aws-check
def check_env(fake, secret=None, key=None, **extra):
    return clean_env(AWS_ACCESS_KEY_ID=key or fake.access_key,
                     AWS_SECRET_ACCESS_KEY=secret or fake.secret_key, **extra)


def assert_failed(rc, out, diag, call, code=None):
    assert rc == 1, out
    assert out.startswith(f"aws-check: FAILED ({diag})"), out
    assert f"call:    {call}" in out
    if code:
        assert f"error:   {code}" in out
    assert "what to do: " in out


def test_aws_check_ok(fake):
    # debug logging on: still no secret and no signature anywhere
    rc, out, err = aws_check(check_env(fake), "--aws-endpoint-url", fake.endpoint, "--log-level", "debug")
    assert rc == 0, out + err
    org = fake.client("organizations").describe_organization()["Organization"]
    assert out.startswith("aws-check: OK\n")
    assert f"account:            {fake.account}" in out
    assert f"arn:                arn:aws:iam::{fake.account}:user/" in out
    assert "partition:          aws\n" in out
    assert f"organization:       {org['Id']}" in out
    assert f"management account: {fake.account}" in out
    assert "credentials:        environment" in out
    assert "level=debug" in err
    assert fake.secret_key not in out + err and "Signature=" not in err


def test_aws_check_wrong_secret(fake):
    rc, out, err = aws_check(check_env(fake, secret=fake.secret_key[:-1] + "x"),
                             "--aws-endpoint-url", fake.endpoint)
    assert_failed(rc, out, "bad_signature", "sts:GetCallerIdentity", "SignatureDoesNotMatch")
    assert "secret access key is wrong" in out
    assert fake.secret_key[:-1] not in out + err


def test_aws_check_unknown_key(fake):
    rc, out, err = aws_check(check_env(fake, key="AKIAAINTUNKNOWN00000"), "--aws-endpoint-url", fake.endpoint)
    assert_failed(rc, out, "unknown_key", "sts:GetCallerIdentity", "InvalidClientTokenId")
    assert fake.secret_key not in out + err


def test_aws_check_no_credentials(fake):
    rc, out, err = aws_check(clean_env(), "--aws-endpoint-url", fake.endpoint)
    assert_failed(rc, out, "no_credentials", "credentials")
    assert "credentials:        none" in out


def test_aws_check_endpoint_unreachable(fake):
    port = free_port()  # bound then released: nothing listens there
    rc, out, err = aws_check(check_env(fake), "--aws-endpoint-url", f"http://127.0.0.1:{port}")
    assert_failed(rc, out, "unreachable", "sts:GetCallerIdentity", "ECONNREFUSED")
    assert fake.secret_key not in out + err


def test_aws_check_endpoint_override_per_service(fake):
    """AWS_ENDPOINT_URL_<SERVICE> beats --aws-endpoint-url for that service."""
    port = free_port()
    env = check_env(fake, AWS_ENDPOINT_URL_ORGANIZATIONS=f"http://127.0.0.1:{port}")
    rc, out, err = aws_check(env, "--aws-endpoint-url", fake.endpoint)
    assert_failed(rc, out, "unreachable", "organizations:DescribeOrganization", "ECONNREFUSED")
    assert f"account: {fake.account}" in out  # STS (through the flag) did answer


def test_aws_check_access_denied(fake):
    fake.control("POST", "faults", {
        "kind": "error", "service": "^organizations$", "operation": "^DescribeOrganization$",
        "code": "AccessDeniedException", "status": 400,
        "message": "You don't have permissions to access this resource."})
    try:
        rc, out, err = aws_check(check_env(fake), "--aws-endpoint-url", fake.endpoint)
    finally:
        fake.control("POST", "faults/clear")
    assert_failed(rc, out, "access_denied", "organizations:DescribeOrganization", "AccessDeniedException")
    assert f"account: {fake.account}" in out  # who we are is still reported


def test_aws_check_clock_skew(fake):
    fake.control("POST", "faults", {
        "kind": "error", "service": "^sts$", "operation": "^GetCallerIdentity$",
        "code": "SignatureDoesNotMatch", "status": 403,
        "message": "Signature expired: 20200101T000000Z is now earlier than 20200101T001000Z "
                   "(20200101T001500Z - 5 min.)"})
    try:
        fake.control("POST", "reset-log")
        rc, out, err = aws_check(check_env(fake), "--aws-endpoint-url", fake.endpoint)
        calls = fake.control("GET", "counters")["operations"].get("sts.GetCallerIdentity", 0)
    finally:
        fake.control("POST", "faults/clear")
    assert_failed(rc, out, "clock_skew", "sts:GetCallerIdentity", "SignatureDoesNotMatch")
    assert "fix NTP" in out
    assert calls == 2  # the one Date-based correction was tried, then reported


def test_aws_check_web_identity(fake, tmp_path):
    """AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (IRSA): no static keys at all."""
    iam = fake.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{fake.account}:oidc-provider/oidc.fake.local"},
        "Action": "sts:AssumeRoleWithWebIdentity"}]}
    role = iam.create_role(RoleName="aint-irsa", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    fake.control("POST", "web-identity", {"token": "irsa-token-1",
                                          "subject": "system:serviceaccount:aws-account-operator:aao"})
    token = tmp_path / "token"
    token.write_text("irsa-token-1")
    env = clean_env(AWS_ROLE_ARN=role, AWS_WEB_IDENTITY_TOKEN_FILE=str(token))
    rc, out, err = aws_check(env, "--aws-endpoint-url", fake.endpoint)
    assert rc == 0, out + err
    assert f"arn:                arn:aws:sts::{fake.account}:assumed-role/aint-irsa/" in out
    assert "credentials:        web identity" in out


def test_aws_check_web_identity_rejected(fake, tmp_path):
    token = tmp_path / "token"
    token.write_text("never-registered")
    env = clean_env(AWS_ROLE_ARN=f"arn:aws:iam::{fake.account}:role/aint-irsa",
                    AWS_WEB_IDENTITY_TOKEN_FILE=str(token))
    rc, out, err = aws_check(env, "--aws-endpoint-url", fake.endpoint)
    assert_failed(rc, out, "no_credentials", "sts:GetCallerIdentity", "CredentialsUnavailable")
    assert "credentials:        web identity" in out
    assert "InvalidIdentityToken" in err  # the provider's reason is logged


def test_aws_check_operator_secret(fake, tmp_path):
    """--kubeconfig: the credentials come from the operator Secret, read
    from a genuine kube-apiserver."""
    kube = Envtest(tmp_path / "kube").start()
    try:
        kube.ok("POST", "/api/v1/namespaces",
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "aao-check"}})
        args = ["--kubeconfig", kube.kubeconfig, "--namespace", "aao-check", "--aws-endpoint-url", fake.endpoint]
        where = "Secret aao-check/aws-account-operator-credentials"
        # the environment is ignored when the Secret is the source
        env = check_env(fake)

        rc, out, err = aws_check(env, *args)
        assert_failed(rc, out, "no_credentials", "credentials")
        assert f"credentials:        {where}: not found" in out

        def b64(v):
            return base64.b64encode(v.encode()).decode()
        kube.ok("POST", "/api/v1/namespaces/aao-check/secrets", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "aws-account-operator-credentials"},
            "data": {"aws_access_key_id": b64(fake.access_key), "aws_secret_access_key": b64(fake.secret_key)}})
        rc, out, err = aws_check(clean_env(), *args)
        assert rc == 0, out + err
        assert out.startswith("aws-check: OK\n")
        assert f"credentials:        {where}\n" in out
        assert fake.secret_key not in out + err

        kube.ok("PUT", "/api/v1/namespaces/aao-check/secrets/aws-account-operator-credentials", {
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "aws-account-operator-credentials"},
            "data": {"aws_access_key_id": b64(fake.access_key), "aws_secret_access_key": b64("wrong" * 8)}})
        rc, out, err = aws_check(clean_env(), *args)
        assert_failed(rc, out, "bad_signature", "sts:GetCallerIdentity", "SignatureDoesNotMatch")
    finally:
        kube.stop()


SKEWED_LAUNCHER = """
import os, runpy, sys, time
_real = time.time
time.time = lambda: _real() + {offset}
runpy.run_path({fake!r}, run_name="__main__")
"""


@pytest.mark.parametrize("offset", [3600, -1800])
def test_aws_check_corrects_real_clock_skew(tmp_path, monkeypatch, offset):
    """The stand-in's clock is `offset` seconds off ours: the first request
    is refused as expired, the client corrects from Date and succeeds."""
    launcher = tmp_path / "skewed_aws_api.py"
    launcher.write_text(SKEWED_LAUNCHER.format(offset=offset, fake=os.path.abspath(awsfake_util.FAKE)))
    monkeypatch.setattr(awsfake_util, "FAKE", str(launcher))
    skewed = AwsFake()
    try:
        rc, out, err = aws_check(check_env(skewed), "--aws-endpoint-url", skewed.endpoint)
        log = skewed.control("GET", "calls")
    finally:
        skewed.stop()
    assert rc == 0, out + err
    assert out.startswith("aws-check: OK\n")
    m = re.search(r"clock skew: +([+-]\d+) s \(corrected", out)
    assert m and abs(int(m.group(1)) - offset) <= 2, out
    log = log["calls"] if isinstance(log, dict) else log
    # one refused attempt (the fake's real skew answer), then both calls pass
    assert [(c["service"], c["operation"], c["error_code"]) for c in log] == [
        ("sts", None, "SignatureDoesNotMatch"), ("sts", "GetCallerIdentity", None),
        ("organizations", "DescribeOrganization", None)]
