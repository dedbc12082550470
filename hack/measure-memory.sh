#!/usr/bin/env bash
# Resident memory of the daemon after its informers synced N Account custom
# resources of about 2 KiB each from the Kubernetes stand-in (docs/memory.md).
#
#   hack/measure-memory.sh [N=10000]      (after: make all)
#
# Starts test/fakes/kube_api.py with our crds/, creates N Accounts through
# POST /fake/bulk-create (validated and stored like POSTs, without N round
# trips), starts bin/aws-account-operator against it, waits for /readyz 200
# (every informer listed), then prints VmRSS and VmHWM from /proc and the
# daemon's own process_resident_memory_bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000}"
exec /usr/bin/python3 - "$N" <<'PY'
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.request

n = int(sys.argv[1])
tmp = tempfile.mkdtemp(prefix="aao-mem-")
kc = os.path.join(tmp, "kubeconfig")
procs = []

def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def req(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(base + path, data=data, method=method,
                               headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=300) as resp:
        return json.load(resp)

def wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("timed out waiting for " + what)

try:
    fake = subprocess.Popen(["/usr/bin/python3", "test/fakes/kube_api.py", "--port", "0",
                             "--kubeconfig-out", kc, "--crds", "crds",
                             "--history", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs.append(fake)
    base = None
    for line in fake.stdout:
        if line.startswith("url "):
            base = line.split()[1]
        if line.strip() == "ready":
            break
    ns = "aws-account-operator"
    req(base, "POST", "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    tmpl = {"apiVersion": "aws.managed.openshift.io/v1alpha1", "kind": "Account",
            "metadata": {"labels": {"app": "memory"},
                         "annotations": {"e2e.example.com/padding": "p" * 1600}},
            "spec": {"awsAccountID": "123456789012", "iamUserSecret": "secret-x",
                     "claimLink": "", "legalEntity": {"id": "1", "name": "memory"}}}
    t0 = time.monotonic()
    for start in range(0, n, 1000):
        req(base, "POST", "/fake/bulk-create",
            {"group": "aws.managed.openshift.io", "version": "v1alpha1",
             "plural": "accounts", "namespace": ns, "template": tmpl,
             "count": min(1000, n - start), "start": start, "prefix": "acc-"})
    if n:
        one = req(base, "GET", "/apis/aws.managed.openshift.io/v1alpha1/namespaces/%s/"
                  "accounts/acc-00000" % ns)
        print("created %d Accounts of %d bytes (JSON) in %.1f s" % (
            n, len(json.dumps(one)), time.monotonic() - t0))
    mport, hport = port(), port()
    t1 = time.monotonic()
    op = subprocess.Popen(["bin/aws-account-operator", "--kubeconfig", kc,
                           "--namespace", ns,
                           "--metrics-bind-address", "127.0.0.1:%d" % mport,
                           "--health-probe-bind-address", "127.0.0.1:%d" % hport],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(op)
    def ready():
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % hport,
                                        timeout=2) as r:
                return r.status == 200
        except urllib.error.HTTPError:
            return False
    wait(ready, 300, "readyz")
    print("daemon ready (all informers synced) after %.1f s" % (time.monotonic() - t1))
    time.sleep(1)  # let the allocator settle; a measurement, not synchronization
    with open("/proc/%d/status" % op.pid) as f:
        st = f.read()
    rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1))
    hwm = int(re.search(r"VmHWM:\s+(\d+)", st).group(1))
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport) as r:
        m = re.search(r"^process_resident_memory_bytes (\S+)", r.read().decode(), re.M)
    print("VmRSS %.1f MiB, VmHWM (peak) %.1f MiB, process_resident_memory_bytes %.1f MiB"
          % (rss / 1024, hwm / 1024, float(m.group(1)) / 1048576))
finally:
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
PY
