"""The daemon's foundation, black-box: flags, endpoints, shutdown."""
import shutil
import signal
import subprocess
import time

import pytest

from conftest import BIN, Proc, free_port, http_get, wait_for


def run(*args, env=None):
    return subprocess.run([BIN, *args], capture_output=True, text=True,
                          timeout=10, env=env)


def test_version_and_help():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("aws-account-operator ")
    r = run("--help")
    assert r.returncode == 0
    for flag in ("--kubeconfig", "--namespace", "--metrics-bind-address",
                 "--health-probe-bind-address", "--leader-elect",
                 "--aws-endpoint-url", "--log-level", "--log-format"):
        assert flag in r.stdout, flag


@pytest.mark.parametrize("args,needle", [
    (["--no-such-flag"], "unknown flag --no-such-flag"),
    (["--log-level", "loud"], "invalid --log-level"),
    (["--leader-elect=perhaps"], "invalid value \"perhaps\""),
    (["--metrics-bind-address"], "needs a value"),
])
def test_bad_flags_exit_2_with_reason(args, needle):
    r = run(*args)
    assert r.returncode == 2
    assert needle in r.stderr
    assert r.stdout == ""


def test_bad_bind_address_fails_clearly():
    r = run("--metrics-bind-address", "nonsense:xyz",
            "--health-probe-bind-address", f"127.0.0.1:{free_port()}")
    assert r.returncode != 0
    assert "cannot serve /metrics on nonsense:xyz" in r.stderr


@pytest.fixture
def daemon(procs):
    mport, hport = free_port(), free_port()
    p = Proc([BIN, "--metrics-bind-address", f"127.0.0.1:{mport}",
              "--health-probe-bind-address", f"127.0.0.1:{hport}",
              "--log-format", "json"])
    procs.append(p)
    p.read_until("started")
    return p, mport, hport


def test_metrics_pass_promtool(daemon):
    _, mport, _ = daemon
    status, headers, body = http_get(f"http://127.0.0.1:{mport}/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    for name in ("process_resident_memory_bytes", "process_cpu_seconds_total",
                 "process_open_fds", "process_start_time_seconds",
                 "aws_account_operator_build_info"):
        assert f"\n{name}" in "\n" + text, name
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: hack/install-deps.sh installs prometheus"
    r = subprocess.run([promtool, "check", "metrics"], input=body,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


def test_health_endpoints(daemon):
    _, mport, hport = daemon
    assert http_get(f"http://127.0.0.1:{hport}/healthz")[0] == 200
    assert http_get(f"http://127.0.0.1:{hport}/readyz")[0] == 200
    st, _, body = http_get(f"http://127.0.0.1:{hport}/readyz?verbose")
    assert st == 200 and b"[+]ping ok" in body
    assert http_get(f"http://127.0.0.1:{hport}/nope")[0] == 404
    assert http_get(f"http://127.0.0.1:{mport}/healthz")[0] == 404


def test_sigterm_exits_0_within_5s(daemon):
    p, mport, _ = daemon
    # An open keep-alive connection must not hold shutdown up.
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", mport, timeout=5)
    c.request("GET", "/metrics")
    c.getresponse().read()
    t0 = time.monotonic()
    p.p.send_signal(signal.SIGTERM)
    rc = p.p.wait(timeout=10)
    elapsed = time.monotonic() - t0
    c.close()
    assert rc == 0, p.output()
    assert elapsed < 5.0, elapsed
    assert "shutting down: SIGTERM" in p.output()


def test_sigint_also_stops_cleanly(daemon):
    p, _, _ = daemon
    p.p.send_signal(signal.SIGINT)
    assert p.p.wait(timeout=10) == 0
