"""A genuine Kubernetes API server for the e2e tests (hack/envtest.sh).

Real etcd and kube-apiserver (and, on request, kube-controller-manager for
ownerReference garbage collection and namespace deletion) on loopback,
built from the Go modules pinned in hack/envtest/. Same interface as the
stand-in's helper (kubefake_util.KubeFake), without its fault injection:

    env = Envtest(tmp_dir, controller_manager=False, crds=None).start()
    env.req("GET", "/api/v1/namespaces")       -> (status, headers, json-or-bytes)
    env.kubectl("get", "ns", cache_dir=...)    -> CompletedProcess (text)
    w = env.watch("/api/v1/namespaces/x/configmaps", resourceVersion="5")
    w.next(timeout=3) -> {"type":..., "object":...} or None on clean end
    env.stop()

The first start on a machine builds the binaries (several minutes on two
cores, see hack/envtest/README.md); later starts reuse the cached build.
Standard library and PyYAML only; independent of conftest.py.
"""
import atexit
import base64
import http.client
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.parse

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(REPO, "hack", "envtest.sh")

# A cold build of the four binaries; generous for two loaded cores.
INSTALL_TIMEOUT = float(os.environ.get("ENVTEST_INSTALL_TIMEOUT", "3600"))

_bin_dir = None


def bin_dir():
    """The directory of the project-built binaries, building them if needed."""
    global _bin_dir
    if _bin_dir is None:
        p = subprocess.run([SCRIPT, "install"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=INSTALL_TIMEOUT)
        if p.returncode != 0:
            raise RuntimeError("hack/envtest.sh install failed (%d):\n%s" % (
                p.returncode, p.stderr[-4000:]))
        _bin_dir = p.stdout.strip().splitlines()[-1]
    return _bin_dir


def kubectl_path():
    return os.path.join(bin_dir(), "kubectl")


class Envtest:
    """crds: a CRD file or directory (or a list of them) installed and serving
    before start() returns, and before the controller manager starts, so its
    garbage collector knows the types at once."""

    def __init__(self, workdir, controller_manager=False, crds=None):
        self.workdir = os.path.abspath(str(workdir))
        os.makedirs(self.workdir, exist_ok=True)
        self.controller_manager = controller_manager
        if crds is None:
            crds = []
        elif isinstance(crds, (str, os.PathLike)):
            crds = [crds]
        self.crds = [os.path.abspath(str(c)) for c in crds]
        self.kubeconfig = os.path.join(self.workdir, "kubeconfig")
        self.port = None
        self.url = None
        self.ca = None
        self.client_cert = None
        self.client_key = None
        self.started = False
        self._ctx = {}

    # ---- process

    def start(self, timeout=180.0):
        bin_dir()  # build outside the start timeout
        args = [SCRIPT, "start", self.workdir]
        if self.controller_manager:
            args.append("--controller-manager")
        for c in self.crds:
            args += ["--crds", c]
        env = dict(os.environ, ENVTEST_START_TIMEOUT=str(int(timeout)))
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout + 60, env=env)
        self.started = True  # whatever ran must be stopped, even after a failure
        atexit.register(self.stop)
        with open(os.path.join(self.workdir, "envtest.stderr"), "a") as f:
            f.write(p.stderr)
        lines = p.stdout.strip().splitlines()
        if p.returncode != 0 or not lines or lines[-1] != self.kubeconfig:
            self.stop()
            raise RuntimeError("hack/envtest.sh start failed (%d):\n%s%s" % (
                p.returncode, p.stdout, p.stderr[-6000:]))
        self._load_kubeconfig()
        return self

    def _load_kubeconfig(self):
        with open(self.kubeconfig) as f:
            cfg = yaml.safe_load(f)
        cluster = cfg["clusters"][0]["cluster"]
        user = cfg["users"][0]["user"]
        self.url = cluster["server"]
        self.port = urllib.parse.urlsplit(self.url).port
        # The TLS material as files, for ssl and for tools that want paths.
        tls = os.path.join(self.workdir, "tls")
        os.makedirs(tls, exist_ok=True)
        out = {}
        for name, data in (("ca.crt", cluster["certificate-authority-data"]),
                           ("client.crt", user["client-certificate-data"]),
                           ("client.key", user["client-key-data"])):
            path = out[name] = os.path.join(tls, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(base64.b64decode(data))
        self.ca, self.client_cert, self.client_key = (
            out["ca.crt"], out["client.crt"], out["client.key"])
        self._ctx = {}

    def stop(self):
        if not self.started:
            return
        self.started = False
        p = subprocess.run([SCRIPT, "stop", self.workdir], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("hack/envtest.sh stop failed (%d):\n%s" % (
                p.returncode, p.stdout))

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- HTTP

    def _context(self, auth):
        if auth not in self._ctx:
            ctx = ssl.create_default_context(cafile=self.ca)
            if auth:
                ctx.load_cert_chain(self.client_cert, self.client_key)
            self._ctx[auth] = ctx
        return self._ctx[auth]

    def conn(self, timeout=10.0, auth=True):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=self._context(bool(auth)))

    def _headers(self, headers, auth):
        h = {"Accept": "application/json"}
        h.update(headers or {})
        return h

    def req(self, method, path, body=None, ctype="application/json", headers=None,
            auth=True, query=None):
        """One request; auth=False sends no client certificate (anonymous)."""
        if query:
            path += ("&" if "?" in path else "?") + urllib.parse.urlencode(query)
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        h = self._headers(headers, auth)
        if data is not None:
            h["Content-Type"] = ctype
        c = self.conn(auth=auth)
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

    def bulk_create(self, path, objs, workers=8):
        """POST every object to path over a few keep-alive connections (what
        the stand-in's bulk-create control does in one call); returns the
        number created."""
        import queue
        import threading
        todo = queue.Queue()
        for o in objs:
            todo.put(json.dumps(o))
        errors, done = [], [0]
        lock = threading.Lock()

        def work():
            c = self.conn(timeout=60)
            try:
                while True:
                    try:
                        body = todo.get_nowait()
                    except queue.Empty:
                        return
                    c.request("POST", path, body=body, headers={
                        "Content-Type": "application/json", "Accept": "application/json"})
                    r = c.getresponse()
                    raw = r.read()
                    with lock:
                        if r.status == 201:
                            done[0] += 1
                        else:
                            errors.append((r.status, raw[:300]))
            finally:
                c.close()
        ts = [threading.Thread(target=work) for _ in range(workers)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert not errors, errors[:5]
        return done[0]

    # ---- request log (kube-apiserver's audit log, one line per request)

    _METHOD = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST",
               "update": "PUT", "patch": "PATCH", "delete": "DELETE",
               "deletecollection": "DELETE"}

    def requests(self, since=0):
        """Requests the server completed, in the stand-in's log shape:
        [{"seq", "method", "path", "query", "watch", "status", "user_agent",
        "user"}], seq counting from 1; only those with seq > since."""
        out = []
        try:
            with open(os.path.join(self.workdir, "audit.log")) as f:
                lines = f.readlines()
        except FileNotFoundError:
            return out
        for seq, line in enumerate(lines, 1):
            if seq <= since or not line.endswith("\n"):
                continue
            ev = json.loads(line)
            if ev.get("stage") != "ResponseComplete":
                continue
            u = urllib.parse.urlsplit(ev["requestURI"])
            out.append({"seq": seq, "method": self._METHOD.get(ev["verb"], ev["verb"]),
                        "path": u.path, "query": u.query,
                        "watch": ev["verb"] == "watch",
                        "status": ev.get("responseStatus", {}).get("code"),
                        "user_agent": ev.get("userAgent", ""),
                        "user": ev.get("user", {}).get("username")})
        return out

    def last_seq(self):
        try:
            with open(os.path.join(self.workdir, "audit.log")) as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0

    def watch(self, path, timeout=10.0, **query):
        query.setdefault("watch", "true")
        return Watch(self, path + "?" + urllib.parse.urlencode(query), timeout)

    # ---- kubectl

    def kubectl(self, *args, cache_dir, check=True, input=None, timeout=30):
        cmd = [kubectl_path(), "--kubeconfig", self.kubeconfig, "--cache-dir", str(cache_dir)]
        cmd += list(args)
        # KUBERC=off: a developer's ~/.kube/kuberc must not change the output.
        env = dict(os.environ, KUBERC="off")
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout,
                           env=env)
        if check and p.returncode != 0:
            raise AssertionError("kubectl %s failed (%d):\n%s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p


class Watch:
    """A streaming watch; next() returns one decoded event, None at a clean end."""

    def __init__(self, env, path, timeout):
        self.conn = env.conn(timeout=timeout)
        self.conn.request("GET", path, headers=env._headers(None, True))
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


if __name__ == "__main__":  # manual smoke run
    e = Envtest(sys.argv[1] if len(sys.argv) > 1 else "/tmp/envtest").start()
    print(e.req("GET", "/version"))
    e.stop()
