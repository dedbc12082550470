"""Account lifecycle end to end: the operator against both stand-ins.

One Account CR becomes Ready through the real executor (CreateAccount,
tags, IAM bootstrap, access key Secret, region initialisation, support
case); its `<account>-secret` keys work (GetCallerIdentity returns the new
account); and kill -9 of the operator at each creation step followed by a
restart leaves exactly one AWS account per Account CR.
"""
import base64
import json
import os
import signal
import subprocess
import time

import pytest

from awsfake_util import AwsFake
from conftest import BIN, REPO, Proc, free_port, http_get, wait_for
from kubefake_util import KubeFake

NS = "aws-account-operator"
ACC = "/apis/aws.managed.openshift.io/v1alpha1/namespaces/%s/accounts" % NS


@pytest.fixture
def env(tmp_path):
    kube = KubeFake(tmp_path / "kube", crds=os.path.join(REPO, "crds")).start()
    aws = AwsFake("--create-account-seconds", "2", "--case-resolve-seconds", "2",
                  "--instance-running-seconds", "0.2")
    try:
        seed(kube, aws)
        yield kube, aws
    finally:
        aws.stop()
        kube.stop()


def b64(s):
    return base64.b64encode(s.encode()).decode()


def seed(kube, aws):
    kube.req("POST", "/api/v1/namespaces",
             {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    kube.ok("POST", "/api/v1/namespaces/%s/secrets" % NS, {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "aws-account-operator-credentials", "namespace": NS},
        "data": {"aws_access_key_id": b64(aws.access_key),
                 "aws_secret_access_key": b64(aws.secret_key)}})
    root = aws.control("GET", "state")["root"]
    if isinstance(root, dict):
        root = root.get("Id") or root.get("id")
    kube.ok("POST", "/api/v1/namespaces/%s/configmaps" % NS, {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "aws-account-operator-configmap", "namespace": NS},
        "data": {"account-limit": "100", "root": root, "base": root,
                 "shard-name": "e2e", "ami-owner": "309956199498",
                 "support-jump-role":
                     "arn:aws:iam::%s:role/support-jump-role" % aws.account,
                 "MaxConcurrentReconciles.account": "1",
                 "feature.opt_in_regions": "false"}})


def operator(kube, aws):
    port = free_port()
    p = Proc([BIN, "--kubeconfig", kube.kubeconfig, "--aws-endpoint-url",
              aws.endpoint, "--namespace", NS,
              "--metrics-bind-address", "127.0.0.1:%d" % port,
              "--health-probe-bind-address", "127.0.0.1:%d" % free_port(),
              "--log-level", os.environ.get("AAO_E2E_LOG_LEVEL", "info")],
             env={"AWS_REGION": "us-east-1"})
    p.metrics_port = port
    return p


def create_account(kube, name):
    kube.ok("POST", ACC, {
        "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "Account",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"awsAccountID": "", "iamUserSecret": "", "claimLink": "",
                 "byoc": False, "legalEntity": {"id": "", "name": ""}}})


def get(kube, path):
    st, _, obj = kube.req("GET", path)
    return obj if st == 200 else None


def state(kube, name):
    a = get(kube, "%s/%s" % (ACC, name))
    return (a or {}).get("status", {}).get("state")


def calls(aws):
    return aws.control("GET", "calls")["calls"]


def created_accounts(aws):
    return [c for c in calls(aws) if c["operation"] == "CreateAccount"
            and c["status"] == 200]


def org_accounts_named(aws, name):
    return [a for a in aws.control("GET", "state")["accounts"]
            if a["Name"] == name]


def test_account_ready_and_vended_keys_work(env):
    kube, aws = env
    op = operator(kube, aws)
    try:
        create_account(kube, "osd-creds-mgmt-e2e001")
        wait_for(lambda: state(kube, "osd-creds-mgmt-e2e001") == "Ready",
                 timeout=float(os.environ.get("AAO_E2E_READY_S", "120")), interval=0.5,
                 what="Account Ready")
        a = get(kube, "%s/osd-creds-mgmt-e2e001" % ACC)
        acct_id = a["spec"]["awsAccountID"]
        assert acct_id
        sec = get(kube, "/api/v1/namespaces/%s/secrets/osd-creds-mgmt-e2e001-secret"
                  % NS)
        data = {k: base64.b64decode(v).decode() for k, v in sec["data"].items()}
        assert set(data) >= {"aws_user_name", "aws_access_key_id",
                             "aws_secret_access_key"}
        sts = aws.client("sts", creds={"AccessKeyId": data["aws_access_key_id"],
                                       "SecretAccessKey": data["aws_secret_access_key"]})
        assert sts.get_caller_identity()["Account"] == acct_id
        # the secret key never reaches the log
        assert data["aws_secret_access_key"] not in "".join(op.lines)
        assert len(created_accounts(aws)) == 1
        assert len(org_accounts_named(aws, "osd-creds-mgmt-e2e001")) == 1
        st, _, body = http_get("http://127.0.0.1:%d/metrics" % op.metrics_port)
        text = body.decode()
        assert st == 200
        assert ('aws_account_operator_account_crs{name="aws-account-operator",'
                'claimed="false",reused="false",state="Ready"} 1') in text
        assert "aws_account_operator_account_ready_duration_seconds_count" in text
        assert 'aws_account_operator_reconcile_duration_seconds_count{' in text
        wait_for(lambda: 'aws_account_operator_aws_accounts{name="aws-account-operator"} 2'
                 in http_get("http://127.0.0.1:%d/metrics" % op.metrics_port)[2].decode(),
                 timeout=60, interval=0.5, what="aws_accounts gauge")
    finally:
        op.stop()
        dump(op, "ready")


def dump(op, tag):
    """Keep the operator log for a failed run (the test's tmp dir is gone)."""
    out = os.environ.get("AAO_E2E_LOG")
    if out:
        with open("%s.%s" % (out, tag), "w") as f:
            f.write(op.output())


STEPS = ["CreateAccount", "DescribeCreateAccountStatus", "TagResource",
         "CreateRole", "CreateUser", "CreateAccessKey", "RunInstances"]


@pytest.mark.parametrize("step", STEPS)
def test_kill9_at_each_creation_step_yields_one_account(env, step):
    kube, aws = env
    name = "osd-creds-mgmt-k9%s" % STEPS.index(step)
    op = operator(kube, aws)
    create_account(kube, name)

    def reached():
        return any(c["operation"] == step for c in calls(aws))

    wait_for(reached, timeout=90, interval=0.02, what=step)
    op.p.send_signal(signal.SIGKILL)
    op.p.wait()
    op = operator(kube, aws)
    try:
        wait_for(lambda: state(kube, name) == "Ready", timeout=150,
                 interval=0.5, what="Account Ready after restart")
        # exactly one AWS account for the CR, and it is the recorded one
        assert len(created_accounts(aws)) == 1
        mine = org_accounts_named(aws, name)
        assert len(mine) == 1
        assert get(kube, "%s/%s" % (ACC, name))["spec"]["awsAccountID"] == mine[0]["Id"]
    finally:
        op.stop()
        dump(op, step)
