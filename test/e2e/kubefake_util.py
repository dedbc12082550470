"""Helpers to run test/fakes/kube_api.py from pytest and talk to it.

    fake = KubeFake(tmp_dir, tls=False, crds=None, extra=[...]).start()
    fake.req("GET", "/api/v1/namespaces")       -> (status, headers, json-or-bytes)
    fake.kubectl("get", "ns", cache_dir=...)    -> CompletedProcess (text)
    w = fake.watch("/api/v1/namespaces/x/configmaps", resourceVersion="5")
    w.next(timeout=3) -> {"type":..., "object":...} or None on clean end
    fake.stop()

Independent of the project's C code and of conftest.py.
"""
import http.client
import json
import os
import select
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse

import yaml

from envtest_util import kubectl_path

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FAKE = os.path.join(REPO, "test", "fakes", "kube_api.py")
PYTHON = "/usr/bin/python3"
# kubectl of the release the genuine server runs (hack/envtest.sh builds it).
KUBECTL = os.environ.get("KUBECTL") or kubectl_path()


class KubeFake:
    def __init__(self, workdir, tls=False, crds=None, extra=()):
        self.workdir = str(workdir)
        os.makedirs(self.workdir, exist_ok=True)
        self.tls, self.crds, self.extra = tls, crds, list(extra)
        self.kubeconfig = os.path.join(self.workdir, "kubeconfig")
        self.proc = None
        self.port = None
        self.url = None
        self.ca = None
        self.token = None
        self.lines = []

    # ---- process

    def start(self, timeout=20.0):
        args = [PYTHON, FAKE, "--port", "0", "--kubeconfig-out", self.kubeconfig]
        if self.tls:
            args.append("--tls")
        if self.crds:
            args += ["--crds", self.crds]
        args += self.extra
        self.stderr = open(os.path.join(self.workdir, "kube_api.stderr"), "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr)
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        buf = b""
        ready_seen = False
        while not ready_seen and time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode().strip()
                self.lines.append(line)
                if line.startswith("port "):
                    self.port = int(line.split()[1])
                elif line.startswith("url "):
                    self.url = line.split()[1]
                elif line.startswith("ca "):
                    self.ca = line.split(None, 1)[1]
                elif line == "ready":
                    ready_seen = True
        if not ready_seen or self.port is None:
            self.stop()
            raise RuntimeError("kube_api.py did not become ready: %r" % self.lines)
        with open(self.kubeconfig) as f:
            cfg = yaml.safe_load(f)
        self.token = cfg["users"][0]["user"].get("token")
        return self

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()
        self.proc = None

    # ---- HTTP

    def conn(self, timeout=10.0):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.ca)
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def _headers(self, headers, auth):
        h = {"Accept": "application/json"}
        if self.token and auth:
            h["Authorization"] = "Bearer " + self.token
        h.update(headers or {})
        return h

    def req(self, method, path, body=None, ctype="application/json", headers=None,
            auth=True, query=None):
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query)
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        h = self._headers(headers, auth)
        if data is not None:
            h["Content-Type"] = ctype
        c = self.conn()
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            raw = r.read()
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw
            return r.status, {k.lower(): v for k, v in r.getheaders()}, payload
        finally:
            c.close()

    def ok(self, method, path, body=None, ctype="application/json", **kw):
        st, _, obj = self.req(method, path, body, ctype, **kw)
        assert 200 <= st < 300, (method, path, st, obj)
        return obj

    def control(self, method, what, body=None):
        return self.ok(method, "/fake/" + what, body)

    def watch(self, path, timeout=10.0, **query):
        query.setdefault("watch", "true")
        return Watch(self, path + "?" + urllib.parse.urlencode(query), timeout)

    # ---- kubectl

    def kubectl(self, *args, cache_dir, check=True, input=None, timeout=30):
        cmd = [KUBECTL, "--kubeconfig", self.kubeconfig, "--cache-dir", str(cache_dir)]
        cmd += list(args)
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p


class Watch:
    """A streaming watch; next() returns one decoded event, None at a clean end."""

    def __init__(self, fake, path, timeout):
        self.conn = fake.conn(timeout=timeout)
        self.conn.request("GET", path, headers=fake._headers(None, True))
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        if self.status != 200:
            self.body = json.loads(self.resp.read() or b"null")

    def next(self, timeout=5.0):
        self.conn.sock.settimeout(timeout)
        line = self.resp.readline()
        if not line:
            return None
        return json.loads(line)

    def take(self, n, timeout=5.0, skip_bookmarks=True):
        out = []
        while len(out) < n:
            ev = self.next(timeout)
            if ev is None:
                break
            if skip_bookmarks and ev["type"] == "BOOKMARK":
                continue
            out.append(ev)
        return out

    def close(self):
        try:
            self.conn.close()
        except OSError:
            pass


def wait_for(pred, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last %r)" % (what, last))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":  # manual smoke run
    f = KubeFake(sys.argv[1] if len(sys.argv) > 1 else "/tmp/kubefake").start()
    print(f.req("GET", "/version"))
    f.stop()
