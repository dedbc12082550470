"""deploy/ installs with `kubectl apply -k` and says what it promises."""
import os

import pytest
import yaml

from conftest import REPO
from kubefake_util import KubeFake

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


@pytest.fixture
def fake(tmp_path):
    f = KubeFake(tmp_path / "kube").start()
    yield f
    f.stop()


def rendered():
    import subprocess
    out = subprocess.run(["kubectl", "kustomize", os.path.join(REPO, "deploy")],
                         capture_output=True, text=True, check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def test_apply_k_installs_everything(fake, tmp_path):
    cache = str(tmp_path / "cache")
    (tmp_path / "sm.yaml").write_text(SERVICEMONITOR_CRD)
    fake.kubectl("apply", "-f", str(tmp_path / "sm.yaml"), cache_dir=cache)
    r = fake.kubectl("apply", "-k", os.path.join(REPO, "deploy"), cache_dir=cache)
    assert r.returncode == 0, r.stderr
    for kind, name in (("crd", "accounts.aws.managed.openshift.io"),
                       ("deployment", "aws-account-operator"),
                       ("configmap", "aws-account-operator-configmap"),
                       ("serviceaccount", "aws-account-operator")):
        r = fake.kubectl("get", kind, name, "-n", "aws-account-operator",
                         cache_dir=cache, check=False)
        assert r.returncode == 0, (kind, r.stderr)
    # The examples apply against the installed CRDs.
    r = fake.kubectl("apply", "-f", os.path.join(REPO, "deploy", "examples"),
                     cache_dir=cache)
    assert r.returncode == 0, r.stderr


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
