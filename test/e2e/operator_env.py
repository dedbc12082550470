"""The setup every operator scenario shares: a Kubernetes peer with our
CRDs, an AWS peer, the operator's namespace, ConfigMap and credentials
Secret, and the operator process itself.

    kube = genuine_kube(tmp)                   # kube-apiserver + etcd (+ GC)
    env = OperatorEnv(kube, aws)               # aws: AwsFake or Moto
    env.install(root=..., base=..., **configmap_data)
    env.start_operator("--support-case-poll-interval", "2s")
    env.make_claim("c1", "c1-creds"); env.claim_state("c1") ...
    env.stop()                                 # operators only; peers are the caller's

The Kubernetes peer is anything with KubeFake's interface (kubefake_util)
or Envtest's (envtest_util); scenarios that need no injected Kubernetes
fault use the genuine server (test/e2e/README.md).

A scenario that owns its peers starts them with an OrgEnv (its own genuine
kube-apiserver, an AWS peer whose organization has a root and a `base` OU):
StandInEnv with the AWS stand-in, test_moto_lifecycle.Env with moto; and
runs the operator with `with operating(env):`, which installs the
configuration, starts the operator and at the end stops operators and peers.
"""
import base64
import contextlib
import os
import uuid

from awsfake_util import AwsFake
from conftest import BIN, CRDS, Proc, free_port, http_get
from envtest_util import Envtest

NS = "aws-account-operator"
GROUP = "/apis/aws.managed.openshift.io/v1alpha1"
CLAIM_NS = "team-a"


def genuine_kube(workdir, controller_manager=True):
    """etcd, kube-apiserver and (for owner-reference GC and namespace
    deletion, as in a real cluster) kube-controller-manager, with our CRDs
    installed and serving."""
    return Envtest(workdir, controller_manager=controller_manager, crds=CRDS).start()


def b64(s):
    return base64.b64encode(s.encode()).decode()


# The AWS stand-in's timings (seconds) where scenarios wait for accounts to
# become Ready: CreateAccount, support case, instance start, region opt-in.
FAST_AWS = ("--create-account-seconds", "0.5", "--case-resolve-seconds", "0.5",
            "--instance-running-seconds", "0.1", "--region-enable-seconds", "0.2")


def org_root(aws):
    """The ID of the AWS peer's organization root."""
    return aws.client("organizations").list_roots()["Roots"][0]["Id"]


def start_peers(tmp, start_aws):
    """Start an AWS peer (start_aws()), then a genuine kube-apiserver in
    tmp/kube; if the latter fails, the AWS peer is stopped. (kube, aws)."""
    aws = start_aws()
    try:
        kube = genuine_kube(tmp / "kube")
    except BaseException:
        aws.stop()
        raise
    return kube, aws


@contextlib.contextmanager
def operating(env):
    """env's configuration installed (env.install()) and the operator running
    (env.start_operator()); whatever happens, env.shutdown() at the end."""
    try:
        env.install()
        env.start_operator()
        yield env
    finally:
        env.shutdown()


@contextlib.contextmanager
def stand_in_env(kube, *aws_args, **cm):
    """On a module's genuine kube-apiserver (conftest's `kube`): a fresh AWS
    stand-in started with aws_args, a fresh random operator namespace, and
    the ConfigMap installed with the organization root as root and base
    (cm overrides its defaults). Both stopped at the end."""
    aws = AwsFake(*aws_args)
    try:
        e = OperatorEnv(kube, aws, ns="aao-" + uuid.uuid4().hex[:8])
        try:
            root = stand_in_root(aws)
            e.install(root, root, **cm)
            yield e
        finally:
            e.stop()
    finally:
        aws.stop()


def stand_in_root(aws):
    """The AWS stand-in's organization root, read from its control API."""
    root = aws.control("GET", "state")["root"]
    return root.get("Id") or root.get("id") if isinstance(root, dict) else root


class OperatorEnv:
    def __init__(self, kube, aws, ns=NS, claim_ns=CLAIM_NS):
        self.kube, self.aws = kube, aws
        self.ns, self.claim_ns = ns, claim_ns
        self.ops = []

    # ---- Kubernetes helpers
    def post(self, path, obj):
        return self.kube.ok("POST", path, obj)

    def get(self, path):
        st, _, obj = self.kube.req("GET", path)
        return obj if st == 200 else None

    def items(self, path):
        return self.kube.ok("GET", path)["items"]

    def delete(self, path):
        return self.kube.ok("DELETE", path)

    def ensure_ns(self, name):
        st, _, body = self.kube.req("POST", "/api/v1/namespaces",
                                    {"metadata": {"name": name}})
        assert st in (201, 409), body

    # ---- installation
    def install(self, root, base, **data):
        """Namespaces, the ConfigMap (upstream's keys; data overrides the
        defaults below) and the credentials Secret of the AWS peer."""
        for ns in (self.ns, self.claim_ns):
            self.ensure_ns(ns)
        cm = {"account-limit": "100", "root": root, "base": base,
              "ami-owner": "309956199498", "shard-name": "e2e",
              "support-jump-role":
                  "arn:aws:iam::%s:role/support-jump-role" % self.aws.account,
              "accountpool": "default:\n  default: true\n"}
        cm.update(data)
        self.post("/api/v1/namespaces/%s/configmaps" % self.ns, {
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "aws-account-operator-configmap"}, "data": cm})
        self.post("/api/v1/namespaces/%s/secrets" % self.ns, {
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "aws-account-operator-credentials"},
            "type": "Opaque", "data": {
                "aws_access_key_id": b64(self.aws.access_key),
                "aws_secret_access_key": b64(self.aws.secret_key)}})

    # ---- the operator
    def start_operator(self, *extra, env=None):
        mport = free_port()
        hport = free_port()
        p = Proc([BIN, "--kubeconfig", self.kube.kubeconfig,
                  "--aws-endpoint-url", self.aws.endpoint, "--namespace", self.ns,
                  "--metrics-bind-address", "127.0.0.1:%d" % mport,
                  "--health-probe-bind-address", "127.0.0.1:%d" % hport,
                  "--log-level", os.environ.get("AAO_E2E_LOG_LEVEL", "info"), *extra],
                 env=dict({"AWS_REGION": "us-east-1"}, **(env or {})))
        p.metrics_port, p.health_port = mport, hport
        self.ops.append(p)
        return p

    @property
    def op(self):
        return self.ops[-1] if self.ops else None

    def metrics(self, op=None):
        return http_get("http://127.0.0.1:%d/metrics" % (op or self.op).metrics_port)[2].decode()

    def stop(self, tag="op"):
        """Stop every operator started here; with AAO_E2E_LOG set, keep their
        logs (the test's tmp dir is gone after a failure)."""
        out = os.environ.get("AAO_E2E_LOG")
        for i, p in enumerate(self.ops):
            p.stop()
            if out:
                with open("%s.%s.%d" % (out, tag, i), "w") as f:
                    f.write(p.output())
        self.ops = []

    # ---- objects
    def account(self, name):
        return self.get("%s/namespaces/%s/accounts/%s" % (GROUP, self.ns, name))

    def accounts(self):
        return self.items("%s/namespaces/%s/accounts" % (GROUP, self.ns))

    def account_state(self, name):
        return ((self.account(name) or {}).get("status") or {}).get("state")

    def create_account(self, name):
        self.post("%s/namespaces/%s/accounts" % (GROUP, self.ns), {
            "apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "Account",
            "metadata": {"name": name},
            "spec": {"awsAccountID": "", "iamUserSecret": "", "claimLink": "",
                     "byoc": False, "legalEntity": {"id": "", "name": ""}}})

    def pool(self, name="default"):
        return self.get("%s/namespaces/%s/accountpools/%s" % (GROUP, self.ns, name))

    def create_pool(self, size, name="default"):
        self.post("%s/namespaces/%s/accountpools" % (GROUP, self.ns), {
            "apiVersion": "aws.managed.openshift.io/v1alpha1",
            "kind": "AccountPool", "metadata": {"name": name},
            "spec": {"poolSize": size}})

    def claim_path(self, name):
        return "%s/namespaces/%s/accountclaims/%s" % (GROUP, self.claim_ns, name)

    def claim(self, name):
        return self.get(self.claim_path(name))

    def claim_state(self, name):
        return ((self.claim(name) or {}).get("status") or {}).get("state")

    def make_claim(self, name, secret, legal_id, legal_name="Team A",
                   regions=("us-east-1",)):
        self.post("%s/namespaces/%s/accountclaims" % (GROUP, self.claim_ns), {
            "apiVersion": "aws.managed.openshift.io/v1alpha1",
            "kind": "AccountClaim", "metadata": {"name": name},
            "spec": {"legalEntity": {"id": legal_id, "name": legal_name},
                     "awsCredentialSecret": {"name": secret, "namespace": self.claim_ns},
                     "aws": {"regions": [{"name": r} for r in regions]},
                     "accountLink": ""}})

    def secret_data(self, name, ns=None):
        s = self.get("/api/v1/namespaces/%s/secrets/%s" % (ns or self.claim_ns, name))
        if not s:
            return None
        return {k: base64.b64decode(v).decode() for k, v in s.get("data", {}).items()}

    def keys(self, secret, ns=None):
        """The access key pair in a Secret, as botocore credentials."""
        d = self.secret_data(secret, ns)
        return {"AccessKeyId": d["aws_access_key_id"],
                "SecretAccessKey": d["aws_secret_access_key"]}


class OrgEnv(OperatorEnv):
    """An OperatorEnv on peers it owns, whose organization has a root and a
    `base` OU under it (created here, as an administrator would); install()
    defaults to that root and OU."""

    def __init__(self, kube, aws, root):
        super().__init__(kube, aws)
        self.root = root
        self.base = aws.client("organizations").create_organizational_unit(
            ParentId=self.root, Name="base")["OrganizationalUnit"]["Id"]

    def install(self, root=None, base=None, **data):
        super().install(root or self.root, base or self.base, **data)


class StandInEnv(OrgEnv):
    """A genuine kube-apiserver, the AWS stand-in (FAST_AWS timings unless
    aws_args are given) with an organization root and a base OU, and the
    operator's configuration installed."""

    def __init__(self, tmp, *aws_args):
        kube, aws = start_peers(tmp, lambda: AwsFake(*(aws_args or FAST_AWS)))
        super().__init__(kube, aws, org_root(aws))

    def shutdown(self):
        self.stop()
        self.aws.stop()
        self.kube.stop()

    def state(self):
        return self.aws.control("GET", "state")
