"""What the Kubernetes-side e2e tests share: the C informer/REST driver
(build/drivers/k8s_driver), object templates and the operator process.
Works with either Kubernetes peer (envtest_util.Envtest or
kubefake_util.KubeFake)."""
import json
import os
import re
import signal
import uuid

from conftest import CRDS  # noqa: F401 - the modules that use k8s_util take it from here
from conftest import BIN, REPO, Proc, free_port, http_get, wait_for

DRIVER = os.path.join(REPO, "build", "drivers", "k8s_driver")
G = "aws.managed.openshift.io"
GV = "/apis/%s/v1alpha1" % G
LEASE = ("/apis/coordination.k8s.io/v1/namespaces/aws-account-operator/leases/"
         "aws-account-operator-lock")
OP_NS = "aws-account-operator"


def make_ns(kube, name=None):
    name = name or "t-" + uuid.uuid4().hex[:8]
    st, _, body = kube.req("POST", "/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert st in (201, 409), body
    return name


def account_template(pad=0):
    obj = {"apiVersion": "%s/v1alpha1" % G, "kind": "Account",
           "metadata": {"labels": {"app": "e2e"}},
           "spec": {"awsAccountID": "123456789012", "iamUserSecret": "secret-x",
                    "claimLink": "", "legalEntity": {"id": "1", "name": "e2e"}}}
    if pad:
        obj["metadata"]["annotations"] = {"e2e.example.com/padding": "p" * pad}
    return obj


def cm(name, data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
            "data": data}


class Driver:
    """build/drivers/k8s_driver in informer mode; events() are its JSON lines."""

    def __init__(self, procs, kube, resource, ns, *extra):
        self.p = Proc([DRIVER, "--kubeconfig", kube.kubeconfig, "--resource", resource,
                       "--namespace", ns, *extra, "informer"])
        procs.append(self.p)

    def events(self):
        out = []
        for line in list(self.p.lines):
            if line.startswith("{"):
                out.append(json.loads(line))
        return out

    def changes(self):
        """(ev, key, rv) after the first synced line."""
        evs = self.events()
        i = next(i for i, e in enumerate(evs) if e["ev"] == "synced")
        return [(e["ev"], e["key"], e["rv"]) for e in evs[i + 1:]
                if e["ev"] in ("add", "update", "delete")]

    def synced(self, timeout=20):
        return wait_for(lambda: next((e for e in self.events() if e["ev"] == "synced"), None),
                        timeout=timeout, what="informer synced")

    def store(self):
        """The informer's store as {key: rv} (SIGUSR1 makes the driver dump it)."""
        def dumps():
            return [e for e in self.events() if e["ev"] == "store"]
        before = len(dumps())
        self.p.p.send_signal(signal.SIGUSR1)
        wait_for(lambda: len(dumps()) > before, what="store dump")
        return {k: rv for k, rv in dumps()[-1]["items"]}


def start_operator(procs, kube, ident, ns=OP_NS, extra=()):
    hport = free_port()
    p = Proc([BIN, "--kubeconfig", kube.kubeconfig, "--namespace", ns,
              "--metrics-bind-address", "127.0.0.1:%d" % free_port(),
              "--health-probe-bind-address", "127.0.0.1:%d" % hport, *extra],
             env={"POD_NAME": ident})
    procs.append(p)
    p.hport = hport
    return p


def lease_holder(kube):
    st, _, obj = kube.req("GET", LEASE)
    return obj["spec"].get("holderIdentity") if st == 200 else None


def ready(p):
    return http_get("http://127.0.0.1:%d/readyz" % p.hport)[0] == 200


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
