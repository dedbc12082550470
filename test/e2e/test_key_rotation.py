"""IAM access keys that do not outlive their age or their tenant, against a
genuine kube-apiserver and the AWS stand-in (docs/configuration.md:
iam-key-max-age, iam-key-rotation-grace, revoke-credentials-on-reuse):

  * rotation: a claimed account's key older than a short maximum age is
    replaced, with the operator killed (-9) at each step: while the
    rotation's first AWS call is held (intent recorded, no key yet), while
    CreateAccessKey's answer is held (the key made, never stored: an
    orphan), during the grace period, and while the old key's
    DeleteAccessKey answer is held. It ends with exactly one active key,
    the one the account Secret and the claim Secret hold and that works;
    the old key and the orphan fail;
  * revocation on reuse: after the claim is deleted, the next claim of the
    same legal entity gets the same account with a new key; the previous
    claim's keys fail.

One module-scoped environment: the account is made once (support-case
settling dominates), the reuse test continues from the rotation test."""
import json
import signal

import pytest

from conftest import wait_for
from faults_util import account_summary, calls, fault_env, start_fast

KEY_ANN = "aws.managed.openshift.io/iam-access-key"
ROT_ANN = "aws.managed.openshift.io/iam-key-rotation"
LEGAL_ID = "le-keys"
HOLD_MS = 8000
GRACE = "8s"


def kill9(op):
    op.p.send_signal(signal.SIGKILL)
    op.p.wait(timeout=10)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with fault_env(tmp_path_factory.mktemp("keys"),
                   cm={"iam-key-max-age": "1h", "iam-key-rotation-grace": GRACE}) as e:
        e.current = start_fast(e)
        yield e


def restart(env):
    kill9(env.current)
    env.current = start_fast(env)


def set_cm(env, **data):
    env.kube.ok("PATCH", "/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap" % env.ns,
                {"data": data}, ctype="application/merge-patch+json")


def ann(env, name, key):
    a = env.account(name) or {}
    v = (a.get("metadata", {}).get("annotations") or {}).get(key)
    return json.loads(v) if v else None


def hold(env, operation):
    env.aws.control("POST", "hold", {"service": "iam", "operation": operation, "count": 1,
                                     "hold_ms": HOLD_MS})


def wait_call(env, operation, after, what):
    """The index of the first logged call of operation after index after."""
    def seen():
        cs = calls(env)
        return next((i + 1 for i in range(after, len(cs)) if cs[i]["operation"] == operation), None)
    return wait_for(seen, timeout=60, interval=0.05, what=what)


def identity(env, keys):
    """The account the keys act in, or the error code."""
    try:
        return env.aws.client("sts", creds=keys).get_caller_identity()["Account"]
    except Exception as e:  # noqa: BLE001 - the code is the answer
        return getattr(e, "response", {}).get("Error", {}).get("Code") or str(e)


def active_keys(env, account_id, user):
    """The user's active access key ids, read as the organization's admin."""
    role = "arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account_id
    c = env.aws.client("sts").assume_role(RoleArn=role, RoleSessionName="e2e-keys")["Credentials"]
    iam = env.aws.client("iam", creds=c)
    meta = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    return sorted(m["AccessKeyId"] for m in meta if m["Status"] == "Active")


def claimed(env, claim):
    c = env.claim(claim)
    a = env.account(c["spec"]["accountLink"])
    secret = env.secret_data(a["spec"]["iamUserSecret"], env.ns)
    return a["metadata"]["name"], a["spec"]["awsAccountID"], secret["aws_user_name"]


def test_rotation_with_a_kill_at_each_step(env):
    # one Account, an empty pool (claims need the pool to exist): nothing
    # else lists, creates or rotates keys meanwhile
    env.create_pool(0)
    env.create_account("osd-creds-mgmt-keys1")
    env.make_claim("first", "first-creds", LEGAL_ID)
    try:
        wait_for(lambda: env.claim_state("first") == "Ready", timeout=180, interval=0.25,
                 what="first claim Ready")
    except AssertionError as e:
        raise AssertionError("%s; claim %s; accounts %s; operator:\n%s" % (
            e, env.claim("first"), account_summary(env),
            "\n".join(env.current.lines[-40:]))) from None
    name, acct_id, user = claimed(env, "first")
    old = env.keys("first-creds")
    assert ann(env, name, KEY_ANN)["id"] == old["AccessKeyId"]
    assert identity(env, old) == acct_id

    # 1: the rotation recorded, its first AWS call (ListAccessKeys) held
    hold(env, "ListAccessKeys")
    mark = len(calls(env))
    set_cm(env, **{"iam-key-max-age": "3s"})
    wait_call(env, "ListAccessKeys", mark, "the rotation's ListAccessKeys")
    set_cm(env, **{"iam-key-max-age": "1h"})  # this rotation only
    rot = ann(env, name, ROT_ANN)
    assert rot and rot["old"] == old["AccessKeyId"] and "new" not in rot, rot
    hold(env, "CreateAccessKey")
    mark = len(calls(env))
    restart(env)
    # 2: the new key made, its answer held: killed before it is stored
    wait_call(env, "CreateAccessKey", mark, "the rotation's CreateAccessKey")
    keys = active_keys(env, acct_id, user)
    assert len(keys) == 2 and old["AccessKeyId"] in keys, keys
    orphan = next(k for k in keys if k != old["AccessKeyId"])
    restart(env)
    # 3: stored and recorded; killed during the grace period
    rot = wait_for(lambda: (ann(env, name, ROT_ANN) or {}).get("new") and ann(env, name, ROT_ANN),
                   timeout=60, interval=0.05, what="the new key recorded")
    new = rot["new"]
    assert new not in (old["AccessKeyId"], orphan)
    assert ann(env, name, KEY_ANN)["id"] == new
    assert sorted(active_keys(env, acct_id, user)) == sorted([old["AccessKeyId"], new])
    hold(env, "DeleteAccessKey")
    mark = len(calls(env))
    restart(env)
    # 4: the old key's deletion done, its answer held
    wait_call(env, "DeleteAccessKey", mark, "the old key's DeleteAccessKey")
    restart(env)
    wait_for(lambda: ann(env, name, ROT_ANN) is None, timeout=60, interval=0.1,
             what="the rotation closed")
    assert active_keys(env, acct_id, user) == [new]
    assert env.secret_data(name + "-secret", env.ns)["aws_access_key_id"] == new
    wait_for(lambda: env.keys("first-creds")["AccessKeyId"] == new, timeout=30,
             what="the claim Secret holding the new key")
    assert identity(env, env.keys("first-creds")) == acct_id
    assert identity(env, old) == "InvalidClientTokenId"
    assert env.claim("first")["metadata"]["annotations"][
        "aws.managed.openshift.io/credentials-key-id"] == new


def test_reused_account_gets_new_keys(env):
    name, acct_id, user = claimed(env, "first")
    previous = env.keys("first-creds")
    assert identity(env, previous) == acct_id
    env.delete(env.claim_path("first"))
    wait_for(lambda: env.claim("first") is None, timeout=60, what="first claim gone")
    env.make_claim("second", "second-creds", LEGAL_ID)
    wait_for(lambda: env.claim_state("second") == "Ready", timeout=120, interval=0.25,
             what="second claim Ready")
    assert env.claim("second")["spec"]["accountLink"] == name  # the same account, reused
    a = env.account(name)
    assert a["status"].get("reused") is True and not a["status"].get("rotateCredentials")
    now = env.keys("second-creds")
    assert now["AccessKeyId"] != previous["AccessKeyId"]
    assert identity(env, now) == acct_id
    assert identity(env, previous) == "InvalidClientTokenId"
    assert active_keys(env, acct_id, user) == [now["AccessKeyId"]]
