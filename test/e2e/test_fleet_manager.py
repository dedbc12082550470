"""Fleet Manager claims end to end (upstream 2.2.2 step 7, 2.2.5, 2.1 step
12), against a genuine kube-apiserver and the AWS stand-in: a claim on a
pool that is not the default one, with fleetManagerConfig.trustedARN and
feature.accountclaim_fleet_manager_trusted_arn on, gets managed-sts-role in
the claimed account trusting that ARN (the principal can assume it, another
cannot) with the AAO-CustomPolicy inline policy, and a Secret holding only
role_arn; the account's IAM user and IAM Secret are gone. Deleting the
claim removes the Secret and the role; the account returns to the pool
and gets its IAM user and Secret back.

The same operator also shows two start-up behaviours: CCS-Access-Arn (the
ARN of RH-SRE-CCS-Access in the payer account, created here before the
operator starts, is written into the ConfigMap) and FORCE_DEV_MODE, which
with an AWS endpoint override is ignored with a warning
(test_devmode.py has the refusal against real AWS).

The tests build on each other, in file order, on one operator."""
import json
from urllib.parse import unquote

import botocore.exceptions
import pytest

from conftest import wait_for
from operator_env import FAST_AWS, GROUP, stand_in_env

POOLS = "default:\n  default: true\nfleet: {}\n"
CLAIM = "fm-claim"
SECRET = "fm-creds"
ROLE = "managed-sts-role"


CCS_ROLE = "RH-SRE-CCS-Access"


@pytest.fixture(scope="module")
def env(kube):
    with stand_in_env(kube, *FAST_AWS, **{
            "feature.accountclaim_fleet_manager_trusted_arn": "true",
            "feature.opt_in_regions": "false", "accountpool": POOLS}) as e:
        e.ccs_arn = e.aws.client("iam").create_role(
            RoleName=CCS_ROLE, AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Action": "sts:AssumeRole",
                    "Principal": {"AWS": "arn:aws:iam::%s:root" % e.aws.account}}]})
        )["Role"]["Arn"]
        e.start_operator(env={"SUPPORT_CASE_POLL_INTERVAL": "2s",
                              "FORCE_DEV_MODE": "local"})
        yield e


@pytest.fixture(scope="module")
def fleet_manager(env):
    """The trusted principal: an IAM user of the management account."""
    iam = env.aws.client("iam")
    arn = iam.create_user(UserName="fleet-manager")["User"]["Arn"]
    k = iam.create_access_key(UserName="fleet-manager")["AccessKey"]
    return arn, {"AccessKeyId": k["AccessKeyId"],
                 "SecretAccessKey": k["SecretAccessKey"]}


def admin_session(env, acct_id):
    """OrganizationAccountAccessRole in the member account, from the
    operator's own (management) credentials, as an administrator would."""
    c = env.aws.client("sts").assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % acct_id,
        RoleSessionName="e2e")["Credentials"]
    return env.aws.client("iam", creds=c)


def tagged_users(iam, name, ns):
    out = []
    for u in iam.list_users()["Users"]:
        tags = {t["Key"]: t["Value"] for t in
                iam.list_user_tags(UserName=u["UserName"])["Tags"]}
        if tags.get("clusterAccountName") == name and tags.get("clusterNamespace") == ns:
            out.append(u["UserName"])
    return out


@pytest.fixture(scope="module")
def pool_account(env):
    env.post("%s/namespaces/%s/accountpools" % (GROUP, env.ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountPool",
        "metadata": {"name": "fleet"}, "spec": {"poolSize": 1}})
    name = wait_for(lambda: [a["metadata"]["name"] for a in env.accounts()
                             if a["spec"].get("accountPool") == "fleet"],
                    timeout=60, what="the fleet pool's Account")[0]
    wait_for(lambda: env.account_state(name) == "Ready", timeout=150,
             interval=0.5, what="Account Ready")
    acct = env.account(name)
    assert acct["spec"]["iamUserSecret"]
    return name, acct["spec"]["awsAccountID"]


def configmap(env):
    return env.get("/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap"
                   % env.ns)


def test_ccs_access_arn_written_at_startup(env):
    wait_for(lambda: configmap(env)["data"].get("CCS-Access-Arn") == env.ccs_arn,
             timeout=30, what="CCS-Access-Arn in the ConfigMap")
    assert env.ccs_arn.endswith(":role/" + CCS_ROLE)
    assert configmap(env)["data"]["accountpool"] == POOLS  # the rest kept


def test_force_dev_mode_ignored_with_a_stand_in(env):
    env.op.read_until("FORCE_DEV_MODE=local is ignored", timeout=5)


def make_fleet_claim(env, trusted_arn):
    env.post("%s/namespaces/%s/accountclaims" % (GROUP, env.claim_ns), {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "AccountClaim",
        "metadata": {"name": CLAIM},
        "spec": {"legalEntity": {"id": "fm-le", "name": "Fleet"},
                 "awsCredentialSecret": {"name": SECRET, "namespace": env.claim_ns},
                 "aws": {"regions": [{"name": "us-east-1"}]},
                 "accountLink": "", "accountPool": "fleet",
                 "fleetManagerConfig": {"trustedARN": trusted_arn}}})


def test_claim_gets_role_and_role_arn_secret(env, fleet_manager, pool_account):
    name, acct_id = pool_account
    iam_secret = env.account(name)["spec"]["iamUserSecret"]
    iam = admin_session(env, acct_id)
    assert tagged_users(iam, name, env.ns), "the pool account has its IAM user"
    make_fleet_claim(env, fleet_manager[0])
    wait_for(lambda: env.claim_state(CLAIM) == "Ready", timeout=60,
             interval=0.25, what="Fleet Manager claim Ready")
    role_arn = "arn:aws:iam::%s:role/%s" % (acct_id, ROLE)
    data = env.secret_data(SECRET)
    assert data == {"role_arn": role_arn}  # no IAM-user keys
    assert env.claim(CLAIM)["spec"]["accountLink"] == name
    # The role trusts exactly the configured ARN, with upstream's policy.
    role = iam.get_role(RoleName=ROLE)["Role"]
    assert role["Description"] == "Managed by AAO"
    trust = json.loads(unquote(role["AssumeRolePolicyDocument"])
                       if isinstance(role["AssumeRolePolicyDocument"], str)
                       else json.dumps(role["AssumeRolePolicyDocument"]))
    assert trust["Statement"][0]["Principal"]["AWS"] == [fleet_manager[0]]
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == ["AAO-CustomPolicy"]
    doc = iam.get_role_policy(RoleName=ROLE, PolicyName="AAO-CustomPolicy")["PolicyDocument"]
    doc = json.loads(unquote(doc)) if isinstance(doc, str) else doc
    actions = {a for s in doc["Statement"] for a in s["Action"]}
    assert {"sts:AssumeRoleWithWebIdentity", "iam:CreateOpenIDConnectProvider",
            "secretsmanager:CreateSecret", "s3:*"} <= actions
    assert "arn:aws:iam::%s:role/*" % acct_id in doc["Statement"][0]["Resource"]
    # The IAM user and its Secret are gone.
    assert tagged_users(iam, name, env.ns) == []
    assert not env.account(name)["spec"].get("iamUserSecret")
    assert env.secret_data(iam_secret, env.ns) is None


def test_only_the_trusted_principal_assumes_the_role(env, fleet_manager, pool_account):
    _, acct_id = pool_account
    role_arn = env.secret_data(SECRET)["role_arn"]
    creds = env.aws.client("sts", creds=fleet_manager[1]).assume_role(
        RoleArn=role_arn, RoleSessionName="fleet")["Credentials"]
    who = env.aws.client("sts", creds=creds).get_caller_identity()
    assert who["Account"] == acct_id
    assert who["Arn"].endswith("assumed-role/%s/fleet" % ROLE)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        env.aws.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="other")
    assert e.value.response["Error"]["Code"] == "AccessDenied"


def test_deletion_removes_secret_and_role_and_restores_the_iam_user(
        env, fleet_manager, pool_account):
    name, acct_id = pool_account
    env.delete(env.claim_path(CLAIM))
    wait_for(lambda: env.claim(CLAIM) is None, timeout=60, interval=0.25,
             what="claim deleted")
    assert env.secret_data(SECRET) is None
    iam = admin_session(env, acct_id)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_role(RoleName=ROLE)
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"

    def back_in_pool():
        a = env.account(name)
        st = a.get("status") or {}
        # rotateCredentials false: the revocation on reuse is done (it
        # deletes the restored user's key and vends a new one; the
        # account is not handed out before)
        return (st.get("state") == "Ready" and st.get("reused") and not st.get("claimed")
                and st.get("rotateCredentials") is False
                and not a["spec"].get("claimLink") and a["spec"].get("iamUserSecret"))
    wait_for(back_in_pool, timeout=60, interval=0.25,
             what="account back in the pool with its IAM Secret, keys revoked")
    secret = env.account(name)["spec"]["iamUserSecret"]
    keys = env.keys(secret, env.ns)
    assert tagged_users(iam, name, env.ns)
    # The restored key works in the account.
    who = env.aws.client("sts", creds=keys).get_caller_identity()
    assert who["Account"] == acct_id
