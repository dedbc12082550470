"""CCS/BYOC claims end to end, against a genuine kube-apiserver and the AWS
stand-in with a customer-owned account outside the organization (its
osdCcsAdmin keys in the claim's BYOC Secret): the claim's own Account CR,
the support role and IAM user made in the customer's account, region
initialization of the claim's regions only with the claim's KMS key on
RunInstances, the claim Ready with its credentials Secret; the BYOC Secret
finalizer added and removed; a region that cannot be initialized ends the
claim in CCSAccountClaimFailed; a customer who revoked the support role
does not block deletion."""
import base64
import signal

import pytest

from conftest import wait_for
from operator_env import GROUP, stand_in_env

BYOC_FIN = "finalizer.aws.managed.openshift.io/byoc"


@pytest.fixture
def env(kube):
    with stand_in_env(kube, "--instance-running-seconds", "0.1",
                      **{"feature.opt_in_regions": "false"}) as e:
        e.customer = e.aws.standalone()
        yield e


def b64(s):
    return base64.b64encode(s.encode()).decode()


def make_ccs_claim(env, name, regions=("us-east-1",), kms=None, tags=None):
    cust = env.customer
    env.post("/api/v1/namespaces/%s/secrets" % env.claim_ns, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name + "-byoc"},
        "type": "Opaque", "data": {
            "aws_access_key_id": b64(cust["user"]["AccessKeyId"]),
            "aws_secret_access_key": b64(cust["user"]["SecretAccessKey"])}})
    spec = {"legalEntity": {"id": "le-ccs", "name": "CCS customer"},
            "awsCredentialSecret": {"name": name + "-creds", "namespace": env.claim_ns},
            "aws": {"regions": [{"name": r} for r in regions]}, "accountLink": "",
            "byoc": True, "byocAWSAccountID": cust["account"],
            "byocSecretRef": {"name": name + "-byoc", "namespace": env.claim_ns}}
    if kms:
        spec["kmsKeyId"] = kms
    if tags:
        spec["customTags"] = tags
    env.post("%s/namespaces/%s/accountclaims" % (GROUP, env.claim_ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountClaim",
        "metadata": {"name": name}, "spec": spec})


def byoc_secret(env, name):
    return env.get("/api/v1/namespaces/%s/secrets/%s-byoc" % (env.claim_ns, name))


def failed_true(env, name):
    """The claim once it is Error with CCSAccountClaimFailed True (the
    Account's failure mirror may write Error/InternalError first)."""
    c = env.claim(name) or {}
    st = c.get("status") or {}
    return st.get("state") == "Error" and any(
        x["type"] == "CCSAccountClaimFailed" and x["status"] == "True"
        for x in st.get("conditions", [])) and c


def calls(env):
    return env.aws.control("GET", "calls")["calls"]


def dump(env, name):
    log = ["%s %s %s %s %s" % (x["operation"], x["account"], x["region"], x["status"],
                               x.get("error_code")) for x in calls(env)[-40:]]
    return "claim: %s\naccounts: %s\nAWS calls:\n%s\noperator:\n%s" % (
        env.claim(name), env.accounts(), "\n".join(log), "\n".join(env.op.lines[-60:]))


def wait_state(env, name, state, timeout=45):
    try:
        wait_for(lambda: env.claim_state(name) == state, timeout=timeout, interval=0.25,
                 what="claim %s %s" % (name, state))
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, dump(env, name))) from None


def ciam(env):
    return env.aws.client("iam", creds=env.customer["user"])


def delete_and_wait(env, name):
    acct = (env.claim(name) or {}).get("spec", {}).get("accountLink")
    env.delete(env.claim_path(name))
    try:
        wait_for(lambda: env.claim(name) is None and (not acct or env.account(acct) is None),
                 timeout=60, interval=0.25, what="claim and Account gone")
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, dump(env, name))) from None


def test_ccs_claim_ready_with_kms_key_and_byoc_finalizer(env):
    cust = env.customer["account"]
    kms = "arn:aws:kms:us-east-1:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % cust
    env.start_operator()
    make_ccs_claim(env, "ccs1", kms=kms, tags="team=blue\ncost=a=b")
    wait_state(env, "ccs1", "Ready")
    c = env.claim("ccs1")
    conds = {x["type"]: x for x in c["status"]["conditions"]}
    assert conds["Claimed"]["status"] == "True"
    assert conds["Claimed"]["message"] == "BYOC account ready"
    acct = env.account(c["spec"]["accountLink"])
    sfx = acct["metadata"]["labels"]["iamUserId"]
    assert acct["spec"]["byoc"] is True and acct["spec"]["awsAccountID"] == cust
    assert acct["spec"]["claimLink"] == "ccs1" and acct["spec"]["claimLinkNamespace"] == env.claim_ns
    assert not acct["metadata"].get("ownerReferences")
    assert acct["status"]["claimed"] is True
    assert BYOC_FIN in byoc_secret(env, "ccs1")["metadata"]["finalizers"]
    # Support role and IAM user in the customer's account, with customTags.
    iam = ciam(env)
    role = iam.get_role(RoleName="ManagedOpenShift-Support-" + sfx)["Role"]
    wait_for(lambda: env.claim("ccs1")["spec"].get("supportRoleARN"), timeout=20,
             what="supportRoleARN")
    assert env.claim("ccs1")["spec"]["supportRoleARN"] == role["Arn"]
    utags = {t["Key"]: t["Value"] for t in
             iam.list_user_tags(UserName="osdManagedAdmin-" + sfx)["Tags"]}
    assert utags.get("team") == "blue" and utags.get("cost") == "a=b", utags
    # Region init: the claim's region only, in the customer's account, with
    # the claim's KMS key.
    log = calls(env)
    runs = [x for x in log if x["operation"] == "RunInstances" and x["status"] == 200]
    assert runs and {x["region"] for x in runs} == {"us-east-1"}, runs
    assert all(x["account"] == cust for x in runs)
    assert all(x.get("kms_key_id") == kms for x in runs), runs
    # No OU move, no support case for the customer's account.
    ops = {x["operation"] for x in log}
    assert "MoveAccount" not in ops and "CreateCase" not in ops
    # The credentials Secret works in the customer's account.
    wait_for(lambda: env.secret_data("ccs1-creds"), timeout=20, what="credentials Secret")
    sts = env.aws.client("sts", creds=env.keys("ccs1-creds"))
    assert sts.get_caller_identity()["Account"] == cust
    # The CCS histograms: Account Creating -> Ready, claim -> Ready, Pending.
    text = env.metrics()
    for m in ("aws_account_operator_account_ccs_ready_duration_seconds_count",
              "aws_account_operator_account_claim_ccs_ready_duration_seconds_count",
              "aws_account_operator_account_claim_ccs_pending_duration_seconds_count"):
        line = next((x for x in text.splitlines() if x.startswith(m)), "")
        assert line and float(line.split()[-1]) >= 1, (m, line)
    line = next(x for x in text.splitlines()
                if x.startswith("aws_account_operator_account_claim_ready_duration_seconds_count"))
    assert float(line.split()[-1]) == 0, line  # the non-CCS one is not fed
    # Deletion: Account CR gone (its finalizer cleaned the customer's IAM),
    # BYOC Secret finalizer removed, claim gone.
    delete_and_wait(env, "ccs1")
    assert BYOC_FIN not in (byoc_secret(env, "ccs1")["metadata"].get("finalizers") or [])
    users = iam.list_users()["Users"]
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert not [u for u in users if u["UserName"].startswith("osdManagedAdmin-")], users
    assert "ManagedOpenShift-Support-" + sfx not in roles, roles
    assert "osdCcsAdmin" in [u["UserName"] for u in users]  # the customer's own user stays


def test_failing_region_ends_in_ccs_account_claim_failed(env):
    # A second region that is not enabled in the customer's account.
    env.start_operator()
    make_ccs_claim(env, "ccs-bad", regions=("us-east-1", "af-south-1"))
    wait_state(env, "ccs-bad", "Error")
    c = wait_for(lambda: failed_true(env, "ccs-bad"), timeout=30, what="CCSAccountClaimFailed")
    acct = env.account(c["spec"]["accountLink"])
    assert acct["status"]["state"] == "Failed"
    msg = " ".join(x.get("message", "") for x in acct["status"]["conditions"])
    assert "af-south-1" in msg, msg
    delete_and_wait(env, "ccs-bad")
    assert BYOC_FIN not in (byoc_secret(env, "ccs-bad")["metadata"].get("finalizers") or [])


def test_injected_runinstances_fault_fails_the_claim(env):
    # A client error: a 5xx or throttled RunInstances is retried until the
    # creation timeout instead (transient, like every region step).
    env.aws.control("POST", "faults", {"kind": "error", "service": "ec2",
                                       "operation": "^RunInstances$",
                                       "code": "Unsupported", "status": 400})
    env.start_operator()
    make_ccs_claim(env, "ccs-fault")
    wait_state(env, "ccs-fault", "Error")
    wait_for(lambda: failed_true(env, "ccs-fault"), timeout=30, what="CCSAccountClaimFailed")
    acct = env.account(env.claim("ccs-fault")["spec"]["accountLink"])
    msg = " ".join(x.get("message", "") for x in acct["status"]["conditions"])
    assert "us-east-1" in msg, msg


def test_revoked_access_does_not_block_deletion(env):
    env.start_operator()
    make_ccs_claim(env, "ccs-rev")
    wait_state(env, "ccs-rev", "Ready")
    acct = env.account(env.claim("ccs-rev")["spec"]["accountLink"])
    role = "ManagedOpenShift-Support-" + acct["metadata"]["labels"]["iamUserId"]
    iam = ciam(env)
    for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=p["PolicyArn"])
    iam.delete_role(RoleName=role)
    delete_and_wait(env, "ccs-rev")
    assert BYOC_FIN not in (byoc_secret(env, "ccs-rev")["metadata"].get("finalizers") or [])
    evs = env.items("/api/v1/namespaces/%s/events" % env.ns)
    assert any(e.get("reason") == "CustomerRevokedAccess" for e in evs), \
        sorted({e.get("reason") for e in evs})
    # Nothing was cleaned: the IAM user the operator made is still there.
    users = [u["UserName"] for u in iam.list_users()["Users"]]
    assert any(u.startswith("osdManagedAdmin-") for u in users), users


def test_kill_9_mid_way_makes_one_account_one_user_one_key(env):
    """Kill the operator (SIGKILL) as soon as the claim's Account exists and
    again once IAM bootstrap has begun; the restarted operator finishes with
    exactly one Account, one IAM user with one key, one support role."""
    make_ccs_claim(env, "ccs-kill")
    for progressed in (lambda: env.accounts(),
                       lambda: any((a["metadata"].get("annotations") or {}).get(
                           "aws.managed.openshift.io/iam-bootstrap") for a in env.accounts())):
        op = env.start_operator()
        wait_for(progressed, timeout=30, interval=0.02, what="progress before the kill")
        op.p.send_signal(signal.SIGKILL)
        op.p.wait(10)
    env.start_operator()
    wait_state(env, "ccs-kill", "Ready")
    accts = [a for a in env.accounts() if a["spec"].get("claimLink") == "ccs-kill"]
    assert len(accts) == 1, [a["metadata"]["name"] for a in accts]
    sfx = accts[0]["metadata"]["labels"]["iamUserId"]
    iam = ciam(env)
    users = [u["UserName"] for u in iam.list_users()["Users"]
             if u["UserName"].startswith("osdManagedAdmin-")]
    assert users == ["osdManagedAdmin-" + sfx], users
    keys = iam.list_access_keys(UserName=users[0])["AccessKeyMetadata"]
    assert len(keys) == 1, keys
    roles = [r["RoleName"] for r in iam.list_roles()["Roles"]
             if r["RoleName"].startswith("ManagedOpenShift-Support-")]
    assert roles == ["ManagedOpenShift-Support-" + sfx], roles
    wait_for(lambda: env.secret_data("ccs-kill-creds"), timeout=20, what="credentials Secret")
    sts = env.aws.client("sts", creds=env.keys("ccs-kill-creds"))
    assert sts.get_caller_identity()["Account"] == env.customer["account"]
    delete_and_wait(env, "ccs-kill")
