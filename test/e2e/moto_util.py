"""moto as the e2e suite's second, independent AWS peer.

    m = Moto(tmp_dir).start()
    m.endpoint, m.access_key, m.secret_key   # the operator's IAM user
    m.account, m.root                        # management account, org root
    m.client("sts", creds={...})             # botocore (Debian's) client
    m.stop()

The server is the pinned moto of the project venv (hack/venv.sh, created
on first use) started through moto_peer.py on a free loopback port, with
IAM authentication ON: INITIAL_NO_AUTH_ACTION_COUNT lets exactly the
BOOTSTRAP_CALLS requests below through unsigned-for-real (any key, any
signature); from then on moto checks every request's SigV4 signature
against the keys it knows and the caller's IAM policies. Bootstrap: an IAM
user with AdministratorAccess and an access key in the default account,
which then creates the organization (all features) and so becomes its
management account.

Test processes run under Debian's /usr/bin/python3; clients use Debian's
python3-botocore, the server the venv's moto. Only 127.0.0.1 is used.
"""
import os
import socket
import subprocess
import time

import botocore.session
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
VENV_SH = os.path.join(REPO, "hack", "venv.sh")
PEER = os.path.join(HERE, "moto_peer.py")
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
BOOTSTRAP_CALLS = 3  # CreateUser, AttachUserPolicy, CreateAccessKey
NO_RETRY = Config(retries={"total_max_attempts": 1, "mode": "standard"})

_venv_python = None


def venv_python():
    """The venv's python: hack/venv.sh's last output line (once per run)."""
    global _venv_python
    if _venv_python is None:
        p = subprocess.run([VENV_SH], capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            raise RuntimeError("hack/venv.sh failed (%d):\n%s" % (p.returncode, p.stderr))
        _venv_python = p.stdout.strip().splitlines()[-1]
    return _venv_python


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Moto:
    def __init__(self, workdir):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.log_path = os.path.join(self.workdir, "moto.log")
        self.proc = None
        self.session = botocore.session.get_session()

    # ---- process

    def start(self, timeout=60.0):
        self.port = _free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ,
                   INITIAL_NO_AUTH_ACTION_COUNT=str(BOOTSTRAP_CALLS),
                   # AWS managed policies (AdministratorAccess) exist in every
                   # real account; moto loads them only when asked.
                   MOTO_IAM_LOAD_MANAGED_POLICIES="true")
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                  "MOTO_ACCOUNT_ID", "TEST_SERVER_MODE"):
            env.pop(k, None)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [venv_python(), PEER, "-H", "127.0.0.1", "-p", str(self.port)],
            env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_listening(timeout)
        try:
            self._bootstrap()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self, timeout):
        """A TCP connect only: an HTTP probe would use up a no-auth call."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("moto did not start:\n" + self.log())

    def _bootstrap(self):
        anon = {"AccessKeyId": "AKIABOOTSTRAP0000000", "SecretAccessKey": "bootstrap"}
        iam = self.client("iam", creds=anon)
        iam.create_user(UserName="aws-account-operator")
        iam.attach_user_policy(UserName="aws-account-operator", PolicyArn=ADMIN_POLICY)
        key = iam.create_access_key(UserName="aws-account-operator")["AccessKey"]
        self.access_key, self.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        org = self.client("organizations")
        self.account = org.create_organization(FeatureSet="ALL")[
            "Organization"]["MasterAccountId"]
        self.root = org.list_roots()["Roots"][0]["Id"]

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        self.proc = None

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    # ---- clients

    def creds(self):
        return {"AccessKeyId": self.access_key, "SecretAccessKey": self.secret_key}

    def client(self, service, creds=None, region="us-east-1", config=NO_RETRY):
        c = creds or self.creds()
        return self.session.create_client(
            service, endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=c["AccessKeyId"],
            aws_secret_access_key=c["SecretAccessKey"],
            aws_session_token=c.get("SessionToken"), config=config)

    def assume(self, account_id, role="OrganizationAccountAccessRole"):
        """Credentials in a member account, as the operator gets them."""
        return self.client("sts").assume_role(
            RoleArn="arn:aws:iam::%s:role/%s" % (account_id, role),
            RoleSessionName="e2e-check")["Credentials"]
