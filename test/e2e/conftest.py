"""Shared helpers for the end-to-end suite (pytest, Debian's /usr/bin/python3).

Every test starts its own processes on free loopback ports and stops them;
nothing here talks to anything but 127.0.0.1.
"""
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from envtest_util import Envtest
from noskip import pytest_runtest_makereport  # noqa: F401 - a pytest hook

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# AAO_OPERATOR_BIN runs the scenarios against another build of the operator
# (make test-e2e-asan: one built with AddressSanitizer and UBSan).
BIN = os.environ.get("AAO_OPERATOR_BIN") or os.path.join(REPO, "bin", "aws-account-operator")
# What a sanitizer prints when it finds something (ASan, LSan, UBSan).
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")
# Reports found in the output of stopped operator processes: checked after
# each module (sanitizer_clean), not where the process stops, so that a
# report never keeps the peers from being stopped.
SANITIZER_REPORTS = []
CRDS = os.path.join(REPO, "crds")
# Third-party data copied in with its licences (test/testdata/README.md).
TESTDATA = os.environ.get("AAO_TESTDATA", os.path.join(REPO, "test", "testdata"))
UPSTREAM = os.path.join(TESTDATA, "upstream")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    """Poll pred() until it returns a truthy value or the timeout passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - report the last failure
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}: {last!r}")


def http_get(url, timeout=5.0, method="GET"):
    """(status, headers, body) without raising on HTTP errors."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def _default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Proc:
    """A child process whose output a reader thread collects line by line;
    stopped at teardown."""

    def __init__(self, args, env=None, cwd=None, own_group=False):
        """own_group: the child leads its own process group with SIGINT at
        its default action, as a job in a terminal does (see signal_group);
        whoever started the test suite may have left SIGINT ignored (a
        background job), and an ignored signal cannot be trapped."""
        self.args = args
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.p = subprocess.Popen(
            args, env=full_env, cwd=cwd, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=own_group,
            preexec_fn=_default_sigint if own_group else None)
        self.lines = []
        self._cv = threading.Condition()
        self._t = threading.Thread(target=self._pump, daemon=True)
        self._t.start()

    def _pump(self):
        for line in self.p.stdout:
            with self._cv:
                self.lines.append(line.rstrip("\n"))
                self._cv.notify_all()
        with self._cv:
            self._eof = True
            self._cv.notify_all()

    def read_until(self, needle, timeout=15.0, start=0):
        """Wait for an output line (index >= start) containing needle."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for line in self.lines[start:]:
                    if needle in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or getattr(self, "_eof", False):
                    break
                self._cv.wait(left)
        raise AssertionError(
            f"{self.args[0]}: no line with {needle!r}; output:\n" + self.output())

    def output(self):
        with self._cv:
            return "\n".join(self.lines)

    def signal_group(self, sig):
        """Signal the whole process group, as a terminal's Ctrl-C does
        (needs own_group=True)."""
        os.killpg(self.p.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self._t.join(timeout=5)
        if self.args and self.args[0] == BIN:
            text = self.output()
            if any(m in text for m in SANITIZER_MARKS):
                SANITIZER_REPORTS.append("exit %s:\n%s" % (self.p.returncode, text))
        return self.p.returncode


@pytest.fixture(scope="module", autouse=True)
def sanitizer_clean():
    """Fail the module if any operator it stopped printed a sanitizer
    report (torn down after the module's other fixtures)."""
    yield
    found, SANITIZER_REPORTS[:] = list(SANITIZER_REPORTS), []
    assert not found, "sanitizer report from the operator:\n" + "\n".join(found)


@pytest.fixture
def procs():
    """Track processes started by a test; all are stopped at teardown."""
    started = []
    yield started
    for p in reversed(started):
        p.stop(signal.SIGKILL if p.p.poll() is None else signal.SIGTERM)


@pytest.fixture(scope="module")
def kube(request, tmp_path_factory):
    """A genuine kube-apiserver and etcd (hack/envtest.sh) shared by the
    module's tests and stopped after the last one. A module chooses what runs
    with a module-level KUBE, Envtest's keyword arguments; by default our
    CRDs with kube-controller-manager (operator_env.genuine_kube)."""
    opts = getattr(request.module, "KUBE", {"controller_manager": True, "crds": CRDS})
    k = Envtest(tmp_path_factory.mktemp("kube"), **opts).start()
    yield k
    k.stop()
