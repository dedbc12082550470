"""deploy/ installs with `kubectl apply -k` on a genuine kube-apiserver, says
what it promises, and its RBAC is enough: the operator, authenticated as
the ServiceAccount deploy/ creates (a token from the TokenRequest API),
takes a claim to Ready with no request refused."""
import json
import os
import subprocess

import yaml

from awsfake_util import AwsFake
from conftest import REPO, wait_for
from envtest_util import kubectl_path
from operator_env import FAST_AWS, NS, OperatorEnv, org_root

# conftest's `kube`: a cluster with nothing installed (deploy/ brings the
# CRDs itself), with kube-controller-manager.
KUBE = {"controller_manager": True}

SERVICEMONITOR_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names: {kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"""
SA_USER = "system:serviceaccount:%s:aws-account-operator" % NS


def rendered():
    out = subprocess.run([kubectl_path(), "kustomize", os.path.join(REPO, "deploy")],
                         capture_output=True, text=True, check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_apply_k_installs_everything(kube, tmp_path):
    cache = str(tmp_path / "cache")
    (tmp_path / "sm.yaml").write_text(SERVICEMONITOR_CRD)
    kube.kubectl("apply", "-f", str(tmp_path / "sm.yaml"), cache_dir=cache)
    kube.kubectl("wait", "--for=condition=Established", "--timeout=60s",
                 "crd/servicemonitors.monitoring.coreos.com", cache_dir=cache)
    r = kube.kubectl("apply", "-k", os.path.join(REPO, "deploy"), cache_dir=cache)
    assert r.returncode == 0, r.stderr
    for kind, name in (("crd", "accounts.aws.managed.openshift.io"),
                       ("deployment", "aws-account-operator"),
                       ("configmap", "aws-account-operator-configmap"),
                       ("serviceaccount", "aws-account-operator"),
                       ("servicemonitor", "aws-account-operator")):
        r = kube.kubectl("get", kind, name, "-n", NS, cache_dir=cache, check=False)
        assert r.returncode == 0, (kind, r.stderr)
    # The examples apply against the installed CRDs (the pool's storage may
    # answer 429 for a moment after the CRD is Established; kubectl retries).
    r = kube.kubectl("apply", "-f", os.path.join(REPO, "deploy", "examples"),
                     cache_dir=cache)
    assert r.returncode == 0, r.stderr
    # kubectl apply -f crds/, as upstream's users type it.
    r = kube.kubectl("apply", "-f", os.path.join(REPO, "crds"), cache_dir=cache)
    assert r.stdout.count("customresourcedefinition.apiextensions.k8s.io/") == 5, r.stdout


def sa_kubeconfig(kube, tmp_path):
    """A kubeconfig that authenticates as the operator's ServiceAccount."""
    token = kube.kubectl("create", "token", "aws-account-operator", "-n", NS,
                         "--duration=1h", cache_dir=str(tmp_path / "cache")).stdout.strip()
    with open(kube.kubeconfig) as f:
        cfg = yaml.safe_load(f)
    cfg["users"][0]["user"] = {"token": token}
    path = tmp_path / "sa-kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def test_operator_runs_with_its_own_rbac(kube, tmp_path):
    """deploy/ applied (previous test): the operator as its ServiceAccount,
    with leader election as deployed, fills a pool and readies a claim; the
    apiserver refused none of its requests."""
    aws = AwsFake(*FAST_AWS)
    env = OperatorEnv(kube, aws, claim_ns="example-cluster")
    try:
        root = org_root(aws)
        cm = env.get("/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap" % NS)
        cm["data"].update({"root": root, "base": root, "account-limit": "100",
                           "support-jump-role":
                               "arn:aws:iam::%s:role/support-jump-role" % aws.account})
        kube.ok("PUT", "/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap"
                % NS, cm)
        kube.ok("PATCH", "/api/v1/namespaces/%s/secrets/aws-account-operator-credentials"
                % NS, {"stringData": {"aws_access_key_id": aws.access_key,
                                      "aws_secret_access_key": aws.secret_key}},
                ctype="application/merge-patch+json")
        since = kube.last_seq()
        env.kube = _AsUser(kube, sa_kubeconfig(kube, tmp_path))
        env.start_operator("--leader-elect", "--support-case-poll-interval", "1s",
                           env={"POD_NAME": "aao-rbac"})
        env.kube = kube
        wait_for(lambda: env.claim_state("example-claim") == "Ready", timeout=150,
                 interval=0.5, what="example claim Ready as the ServiceAccount")
        keys = env.keys("aws")
        acct = env.account(env.claim("example-claim")["spec"]["accountLink"])
        sts = aws.client("sts", creds=keys)
        assert sts.get_caller_identity()["Account"] == acct["spec"]["awsAccountID"]
        mine = [r for r in kube.requests(since) if r["user"] == SA_USER]
        assert len(mine) > 20, "the operator did not act as its ServiceAccount"
        refused = [r for r in mine if r["status"] in (401, 403)]
        assert refused == [], json.dumps(refused[:10], indent=1)
        assert "forbidden" not in env.op.output().lower()
    finally:
        env.stop("rbac")
        aws.stop()


class _AsUser:
    """Only what OperatorEnv.start_operator reads: the kubeconfig."""

    def __init__(self, kube, kubeconfig):
        self.kubeconfig = kubeconfig


def test_deployment_is_hardened():
    dep = next(d for d in rendered() if d["kind"] == "Deployment")
    spec = dep["spec"]
    assert spec["replicas"] == 2
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    c = pod["containers"][0]
    assert "--leader-elect" in c["args"]
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind])


def test_rbac_narrower_than_upstream():
    docs = rendered()
    roles = [d for d in docs if d["kind"] in ("ClusterRole", "Role")]
    for role in roles:
        for rule in role["rules"]:
            assert "*" not in rule["verbs"], (role["metadata"]["name"], rule)
            assert "*" not in rule["resources"], (role["metadata"]["name"], rule)
    op = next(d for d in docs if d["kind"] == "ClusterRole"
              and d["metadata"]["name"] == "aws-account-operator")
    core = [r for r in op["rules"] if "" in r["apiGroups"]]
    # Secrets cluster-wide are read by name only: no list/watch.
    sec = [r for r in core if "secrets" in r["resources"]]
    assert sec and all(not {"list", "watch"} & set(r["verbs"]) for r in sec)
    granted = {res for r in core for res in r["resources"]}
    assert not granted & {"pods", "services", "endpoints", "persistentvolumeclaims"}
