"""The local quick start (hack/run-local.sh, what `make run` runs after
building), driven non-interactively: both stand-ins, configuration with
kubectl, the operator, a pool of 3 and a claim; it must end with the claim
Ready and keys in its Secret that authenticate as the claimed account. And
Ctrl-C (SIGINT) stops everything and exits 0."""
import os
import signal
import socket
import subprocess

import pytest

from conftest import REPO, Proc, free_port

SCRIPT = os.path.join(REPO, "hack", "run-local.sh")


def _env(tmp_path, **extra):
    env = {
        "RUN_DIR": str(tmp_path / "run"),
        "METRICS_ADDR": f"127.0.0.1:{free_port()}",
        "HEALTH_ADDR": f"127.0.0.1:{free_port()}",
    }
    env.update(extra)
    return env


def run_local(tmp_path, timeout, **extra):
    """hack/run-local.sh run to its end from the repository, its state under
    tmp_path, free ports, and extra in its environment."""
    return subprocess.run([SCRIPT], cwd=REPO, env=dict(os.environ, **_env(tmp_path, **extra)),
                          capture_output=True, text=True, timeout=timeout)


def _port_open(url):
    host, port = url.rsplit("/", 1)[-1].split(":")
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0


# KUBE="" is `make run`; KUBE=envtest is `make run KUBE=envtest`, the same
# flow against a genuine kube-apiserver and etcd.
@pytest.mark.parametrize("kube_mode", ["", "envtest"])
def test_quickstart_ends_with_ready_claim_and_working_keys(tmp_path, kube_mode):
    p = run_local(tmp_path, 170, QUICKSTART_EXIT="1", QUICKSTART_TIMEOUT="150",
                  KUBE=kube_mode)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert "claim Ready; its Secret example-cluster/aws holds working keys" in out
    assert "pool: size=3" in out
    genuine = "Kubernetes API (genuine kube-apiserver): https://127.0.0.1:" in out
    assert genuine == (kube_mode == "envtest"), out
    if kube_mode == "envtest":
        # stopped on exit: nothing left listening on the apiserver's port
        url = out.split("(genuine kube-apiserver): ")[1].split()[0]
        assert not _port_open(url), "kube-apiserver still serving after exit"


def test_unknown_kube_is_refused(tmp_path):
    p = run_local(tmp_path, 30, KUBE="minikube")
    assert p.returncode == 2
    assert "KUBE must be 'envtest'" in p.stderr


def test_ctrl_c_stops_everything_and_exits_0(tmp_path, procs):
    # Ctrl-C in a terminal: SIGINT to the job's whole process group (the
    # script, its kubectl of the moment, and the background children, which
    # a non-interactive shell starts with SIGINT ignored)
    p = Proc([SCRIPT], env=_env(tmp_path), cwd=REPO, own_group=True)
    procs.append(p)
    kube = p.read_until("Kubernetes stand-in:", timeout=30).split()[-1]
    aws = p.read_until("AWS stand-in:", timeout=30).split()[3]
    p.read_until("applied AccountPool default", timeout=30)
    assert _port_open(kube) and _port_open(aws)
    p.signal_group(signal.SIGINT)
    try:
        rc = p.p.wait(timeout=15)
    finally:
        rc = p.stop(timeout=1)
    assert rc == 0, p.output()
    assert "run-local: stopping" in p.output()
    assert not _port_open(kube), "kube stand-in still serving"
    assert not _port_open(aws), "AWS stand-in still serving"
    log = (tmp_path / "run" / "operator.log").read_text()
    assert "msg=stopped" in log, log[-2000:]
