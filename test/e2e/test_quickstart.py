"""The local quick start (hack/run-local.sh, what `make run` runs after
building), driven non-interactively: both stand-ins, configuration with
kubectl, the operator, a pool of 3 and a claim; it must end with the claim
Ready and keys in its Secret that authenticate as the claimed account. And
Ctrl-C (SIGINT) stops everything and exits 0."""
import glob
import os
import signal
import socket
import subprocess

import pytest

from conftest import REPO, Proc, free_port

SCRIPT = os.path.join(REPO, "hack", "run-local.sh")

def _wired():
    """The Account executor is built and exec_register_all registers the
    AccountPool and AccountClaim executors (pool_exec_setup and
    claim_exec_setup, branch claimexec)."""
    reg = os.path.join(REPO, "pkg", "controllers", "exec", "register.c")
    if not glob.glob(os.path.join(REPO, "pkg", "controllers", "account", "exec*.c")):
        return False
    try:
        with open(reg) as f:
            text = f.read()
    except OSError:
        return False
    return "pool_exec_setup" in text and "claim_exec_setup" in text


needs_account_exec = pytest.mark.skipif(
    not _wired(),
    reason="exec_register_all does not register the pool/claim executors yet")


def _env(tmp_path, **extra):
    env = {
        "RUN_DIR": str(tmp_path / "run"),
        "METRICS_ADDR": f"127.0.0.1:{free_port()}",
        "HEALTH_ADDR": f"127.0.0.1:{free_port()}",
    }
    env.update(extra)
    return env


def _port_open(url):
    host, port = url.rsplit("/", 1)[-1].split(":")
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0


@needs_account_exec
def test_quickstart_ends_with_ready_claim_and_working_keys(tmp_path):
    env = dict(os.environ, **_env(tmp_path, QUICKSTART_EXIT="1",
                                  QUICKSTART_TIMEOUT="100"))
    p = subprocess.run([SCRIPT], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=110)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "claim Ready; its Secret example-cluster/aws holds working keys" in out
    assert "pool: size=3" in out


def test_ctrl_c_stops_everything_and_exits_0(tmp_path, procs):
    p = Proc([SCRIPT], env=_env(tmp_path), cwd=REPO)
    procs.append(p)
    kube = p.read_until("Kubernetes stand-in:", timeout=30).split()[-1]
    aws = p.read_until("AWS stand-in:", timeout=30).split()[3]
    p.read_until("applied AccountPool default", timeout=30)
    assert _port_open(kube) and _port_open(aws)
    rc = p.stop(signal.SIGINT, timeout=15)
    assert rc == 0, p.output()
    assert "run-local: stopping" in p.output()
    assert not _port_open(kube), "kube stand-in still serving"
    assert not _port_open(aws), "AWS stand-in still serving"
    log = (tmp_path / "run" / "operator.log").read_text()
    assert "msg=stopped" in log, log[-2000:]
