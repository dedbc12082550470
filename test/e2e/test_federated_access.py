"""AWSFederatedAccountAccess end to end, through the real executor, against a
genuine kube-apiserver and the AWS stand-in. The target account is a
standalone customer account whose admin keys are in a Secret in the access's
namespace; the external principal is a user of another standalone account.

* a Valid role (its status set here, as the AWSFederatedRole controller
  would) and an access give the role `<role>-<uid>` in the target account,
  which the external principal can assume, with exactly the managed and
  custom policies attached and the switch-role console URL;
* changing the role's custom policy (and stamping `lastRoleUpdate`, as the
  role controller does) makes the attached policy's default version the new
  document;
* deleting the access removes the role and the custom policy, then the
  finalizer; with the Secret deleted first, through OrganizationAccountAccessRole
  in the awsAccountID label's account (an organization member account);
* a credential Secret in another namespace is Failed, "Invalid spec"."""

import json
import urllib.parse
import uuid

import pytest
from botocore.exceptions import ClientError

from conftest import wait_for
from awsfake_util import create_account
from operator_env import b64, stand_in_env

GROUP = "/apis/aws.managed.openshift.io/v1alpha1"
API = "aws.managed.openshift.io/v1alpha1"


@pytest.fixture
def env(kube):
    with stand_in_env(kube) as e:
        e.tns = "fa-" + uuid.uuid4().hex[:8]
        e.ensure_ns(e.tns)
        yield e


def role_path(env, name):
    return "%s/namespaces/%s/awsfederatedroles/%s" % (GROUP, env.tns, name)


def access_path(env, name):
    return "%s/namespaces/%s/awsfederatedaccountaccesses/%s" % (GROUP, env.tns, name)


def make_role(env, name, actions, managed):
    env.post("%s/namespaces/%s/awsfederatedroles" % (GROUP, env.tns), {
        "apiVersion": API, "kind": "AWSFederatedRole", "metadata": {"name": name},
        "spec": {"roleDisplayName": "Read Only", "roleDescription": "read-only access",
                 "awsCustomPolicy": {"name": "CustomReadOnly", "description": "custom",
                                     "awsStatements": [{"effect": "Allow", "action": actions,
                                                        "resource": ["*"]}]},
                 "awsManagedPolicies": managed}})
    set_role_valid(env, name)


def update(env, path, mutate, attempts=20):
    """GET, mutate, PUT; again on 409: the operator's controllers write the
    same objects (the AWSFederatedRole controller adds its finalizer, sets
    the status and stamps lastRoleUpdate on accesses)."""
    for _ in range(attempts):
        obj = env.get(path.split("/status")[0])
        mutate(obj)
        st, _, body = env.kube.req("PUT", path, obj)
        if st != 409:
            assert st == 200, (path, st, body)
            return obj
    raise AssertionError("%s: still 409 after %d attempts" % (path, attempts))


def set_role_valid(env, name):
    """What the AWSFederatedRole controller does: status Valid through the
    status subresource (it may already have done so)."""
    def valid(r):
        r["status"] = {"state": "Valid", "conditions": [
            {"type": "Valid", "status": "True", "reason": "AllPoliciesValid",
             "message": "all policies valid"}]}
    update(env, role_path(env, name) + "/status", valid)


def make_secret(env, name, ns, keys):
    env.post("/api/v1/namespaces/%s/secrets" % ns, {
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
        "data": {"aws_access_key_id": b64(keys["AccessKeyId"]),
                 "aws_secret_access_key": b64(keys["SecretAccessKey"])}})


def make_access(env, name, role, principal, secret, secret_ns=None):
    env.post("%s/namespaces/%s/awsfederatedaccountaccesses" % (GROUP, env.tns), {
        "apiVersion": API, "kind": "AWSFederatedAccountAccess", "metadata": {"name": name},
        "spec": {"externalCustomerAWSIAMARN": principal,
                 "awsCustomerCredentialSecret": {"name": secret,
                                                 "namespace": secret_ns or env.tns},
                 "awsFederatedRole": {"name": role, "namespace": env.tns}}})


def access(env, name):
    return env.get(access_path(env, name))


def state(env, name):
    return ((access(env, name) or {}).get("status") or {}).get("state")


def attached(iam, role):
    return sorted(p["PolicyArn"] for p in
                  iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"])


def default_doc(iam, arn):
    v = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    doc = iam.get_policy_version(PolicyArn=arn, VersionId=v)["PolicyVersion"]["Document"]
    return json.loads(urllib.parse.unquote(doc)) if isinstance(doc, str) else doc


def actions_of(doc):
    st = doc["Statement"]
    st = st if isinstance(st, list) else [st]
    acts = st[0]["Action"]
    return acts if isinstance(acts, list) else [acts]


def test_access_lifecycle(env):
    target = env.aws.standalone()
    ext = env.aws.standalone(user_name="sre")
    principal = "arn:aws:iam::%s:user/sre" % ext["account"]
    make_secret(env, "customer-creds", env.tns, target["user"])
    make_role(env, "read-only", ["ec2:Describe*"], ["ReadOnlyAccess"])
    make_access(env, "sre-access", "read-only", principal, "customer-creds")
    env.start_operator()

    wait_for(lambda: state(env, "sre-access") == "Ready", timeout=60, interval=0.2,
             what="access Ready")
    a = access(env, "sre-access")
    labels = a["metadata"]["labels"]
    uid = labels["uid"]
    assert len(uid) == 6 and labels["awsAccountID"] == target["account"]
    assert labels["awsFederatedRoleName"] == "read-only"
    assert "finalizer.aws.managed.openshift.io" in a["metadata"]["finalizers"]
    role_name = "read-only-" + uid
    assert a["status"]["consoleURL"] == (
        "https://signin.aws.amazon.com/switchrole?account=%s&roleName=%s"
        % (target["account"], role_name))

    iam = env.aws.client("iam", creds=target["user"])
    custom = "arn:aws:iam::%s:policy/CustomReadOnly-%s" % (target["account"], uid)
    assert attached(iam, role_name) == sorted(
        ["arn:aws:iam::aws:policy/ReadOnlyAccess", custom])
    assert actions_of(default_doc(iam, custom)) == ["ec2:Describe*"]

    # the external principal can assume it
    sts = env.aws.client("sts", creds=ext["user"])
    role_arn = "arn:aws:iam::%s:role/%s" % (target["account"], role_name)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="sre")["Credentials"]
    who = env.aws.client("sts", creds=creds).get_caller_identity()
    assert who["Account"] == target["account"]
    # and someone else cannot
    other = env.aws.standalone(user_name="intruder")
    with pytest.raises(ClientError) as ei:
        env.aws.client("sts", creds=other["user"]).assume_role(
            RoleArn=role_arn, RoleSessionName="intruder")
    assert ei.value.response["Error"]["Code"] == "AccessDenied"

    # the role changes: the attached policy follows
    def new_actions(r):
        r["spec"]["awsCustomPolicy"]["awsStatements"][0]["action"] = ["s3:List*", "ec2:Describe*"]
    update(env, role_path(env, "read-only"), new_actions)
    set_role_valid(env, "read-only")
    update(env, access_path(env, "sre-access"), lambda a: a["metadata"].setdefault(
        "annotations", {}).update(lastRoleUpdate="2026-12-06T00:00:00Z"))
    wait_for(lambda: actions_of(default_doc(iam, custom)) == ["s3:List*", "ec2:Describe*"],
             timeout=60, interval=0.2, what="custom policy updated")
    assert attached(iam, role_name) == sorted(
        ["arn:aws:iam::aws:policy/ReadOnlyAccess", custom])

    # drift by hand is repaired: a foreign policy attached goes away
    iam.attach_role_policy(RoleName=role_name,
                           PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    update(env, access_path(env, "sre-access"), lambda a: a["metadata"].setdefault(
        "annotations", {}).update(lastRoleUpdate="2026-12-06T00:01:00Z"))
    wait_for(lambda: attached(iam, role_name) == sorted(
        ["arn:aws:iam::aws:policy/ReadOnlyAccess", custom]),
        timeout=60, interval=0.2, what="foreign policy detached")

    # deletion removes role and policies, then the finalizer
    env.delete(access_path(env, "sre-access"))
    wait_for(lambda: access(env, "sre-access") is None, timeout=60, interval=0.2,
             what="access gone")
    with pytest.raises(ClientError) as ei:
        iam.get_role(RoleName=role_name)
    assert ei.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(ClientError) as ei:
        iam.get_policy(PolicyArn=custom)
    assert ei.value.response["Error"]["Code"] == "NoSuchEntity"


def test_secret_in_another_namespace_fails(env):
    target = env.aws.standalone()
    make_secret(env, "customer-creds", env.ns, target["user"])
    make_role(env, "read-only", ["ec2:Describe*"], ["ReadOnlyAccess"])
    make_access(env, "bad", "read-only", "arn:aws:iam::123456789012:user/x",
                "customer-creds", secret_ns=env.ns)
    env.start_operator()
    wait_for(lambda: state(env, "bad") == "Failed", timeout=60, interval=0.2,
             what="access Failed")
    conds = {c["type"]: c for c in access(env, "bad")["status"]["conditions"]}
    assert conds["Failed"]["status"] == "True"
    assert conds["Failed"]["message"].startswith("Invalid spec: the credential Secret must "
                                                 "be in the access's namespace %s" % env.tns)
    # nothing was made in the target account
    iam = env.aws.client("iam", creds=target["user"])
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == []


def test_missing_role_fails(env):
    target = env.aws.standalone()
    make_secret(env, "customer-creds", env.tns, target["user"])
    make_access(env, "orphan", "nope", "arn:aws:iam::123456789012:user/x", "customer-creds")
    env.start_operator()
    wait_for(lambda: state(env, "orphan") == "Failed", timeout=60, interval=0.2,
             what="access Failed")
    conds = {c["type"]: c for c in access(env, "orphan")["status"]["conditions"]}
    assert conds["Failed"]["message"] == "Requested role does not exist"


def test_deletion_falls_back_to_the_org_role(env):
    """The credential Secret is deleted before the access: the cleanup goes
    through OrganizationAccountAccessRole in the awsAccountID label's
    account, assumed with the operator's credentials."""
    org = env.aws.client("organizations")
    st = create_account(org, "fa-%s@example.com" % uuid.uuid4().hex[:6], "fa-member",
                        timeout=30)
    member = st["AccountId"]
    role_creds = env.aws.client("sts").assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % member,
        RoleSessionName="setup")["Credentials"]
    miam = env.aws.client("iam", creds=role_creds)
    miam.create_user(UserName="customer-admin")
    miam.attach_user_policy(UserName="customer-admin",
                            PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    k = miam.create_access_key(UserName="customer-admin")["AccessKey"]
    make_secret(env, "customer-creds", env.tns,
                {"AccessKeyId": k["AccessKeyId"], "SecretAccessKey": k["SecretAccessKey"]})
    make_role(env, "read-only", ["ec2:Describe*"], ["ReadOnlyAccess"])
    make_access(env, "sre-access", "read-only", "arn:aws:iam::%s:root" % env.aws.account,
                "customer-creds")
    env.start_operator()
    wait_for(lambda: state(env, "sre-access") == "Ready", timeout=60, interval=0.2,
             what="access Ready")
    uid = access(env, "sre-access")["metadata"]["labels"]["uid"]
    assert access(env, "sre-access")["metadata"]["labels"]["awsAccountID"] == member
    role_name = "read-only-" + uid
    assert miam.get_role(RoleName=role_name)["Role"]["RoleName"] == role_name

    env.delete("/api/v1/namespaces/%s/secrets/customer-creds" % env.tns)
    env.delete(access_path(env, "sre-access"))
    wait_for(lambda: access(env, "sre-access") is None, timeout=60, interval=0.2,
             what="access gone")
    with pytest.raises(ClientError) as ei:
        miam.get_role(RoleName=role_name)
    assert ei.value.response["Error"]["Code"] == "NoSuchEntity"
    local = miam.list_policies(Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in local if p["PolicyName"].endswith("-" + uid)] == []
    # the cleanup ran as the org role (the stand-in's call log)
    calls = [c for c in env.aws.control("GET", "calls")["calls"]
             if c.get("operation") == "DeleteRole" and c.get("account") == member]
    assert calls and all("assumed-role/OrganizationAccountAccessRole/" in (c["caller_arn"] or "")
                         for c in calls), calls
