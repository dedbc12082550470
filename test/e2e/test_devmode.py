"""FORCE_DEV_MODE against real AWS: upstream's development mode fakes
account creation, support cases and quota requests; this operator has no
such mode, so started with FORCE_DEV_MODE and no --aws-endpoint-url it
refuses to start (exit 2, with the reason) instead of creating real
accounts for someone who asked for none. With an endpoint override it only
warns (test_fleet_manager.py). No peers needed: the check runs before
anything else."""
import subprocess

from conftest import BIN


def run(env):
    return subprocess.run([BIN, "--kubeconfig", "/nonexistent/kubeconfig"],
                          env=env, capture_output=True, text=True, timeout=20)


def test_refused_against_real_aws():
    for mode in ("local", "cluster"):
        r = run({"FORCE_DEV_MODE": mode, "PATH": "/usr/bin:/bin"})
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert "FORCE_DEV_MODE=%s" % mode in r.stderr
        assert "--aws-endpoint-url" in r.stderr


def test_empty_is_production():
    # Empty means production, as upstream: past the check, the operator
    # fails on the missing kubeconfig instead (not exit 2 from the check).
    r = run({"FORCE_DEV_MODE": "", "PATH": "/usr/bin:/bin"})
    assert "FORCE_DEV_MODE" not in r.stderr + r.stdout
