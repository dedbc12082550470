#!/usr/bin/env bash
# Resident memory of the daemon after its informers synced a bound fleet
# from the Kubernetes stand-in (docs/memory.md).
#
#   hack/measure-memory.sh [N...]      (default: 1000 5000 10000; after: make all)
#
# For each N: starts test/fakes/kube_api.py with our crds/, creates N Ready
# Accounts (claimed, with the conditions the Account controller writes), N
# Ready AccountClaims linked to them (spec.accountLink <-> spec.claimLink)
# spread over 10 namespaces, and N claim credential Secrets, through
# POST /fake/bulk-create (validated and stored like POSTs, status written
# through the status subresource); starts bin/aws-account-operator against
# it, waits for /readyz 200 (every informer listed), then prints VmRSS and
# VmHWM from /proc and the daemon's process_resident_memory_bytes, and the
# growth per 1,000 objects of each kind between successive N. Another replica
# holds the leader Lease (the controllers stay idle) unless MEASURE_LEADING=1.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 - "${@:-1000 5000 10000}" <<'PY'
import json, os, re, threading, shutil, signal, socket, subprocess, sys, tempfile, time
import urllib.request

sys.path.insert(0, "test/e2e")
from fleet_util import OP_NS as NS, hold_lease, populate  # noqa: E402

# MEASURE_LEADING=1: the daemon leads and its controllers reconcile the fleet
# while it syncs. Default: another replica holds the leader Lease.
LEAD = os.environ.get("MEASURE_LEADING") == "1"
# MEASURE_OUTPUT=null|pipe|file: where the daemon's stdout and stderr go (a
# drained pipe is what a container runtime gives it).
OUT = os.environ.get("MEASURE_OUTPUT", "null")

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
        time.sleep(0.05)
    sys.exit("timed out waiting for " + what)

def measure(n, tmp):
    kc = os.path.join(tmp, "kubeconfig-%d" % n)
    procs = []
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
        t0 = time.monotonic()
        sizes = populate(lambda m, p, b: req(base, m, p, b),
                         lambda m, w, b: req(base, m, "/fake/" + w, b), n)
        print("N=%d: created %d Accounts, %d AccountClaims, %d Secrets in %.1f s; "
              "compact JSON bytes each: %s" % (n, n, n, n, time.monotonic() - t0,
                                                json.dumps(sizes)), flush=True)
        if not LEAD:
            hold_lease(lambda m, p, b: req(base, m, p, b))
        mport, hport = port(), port()
        t1 = time.monotonic()
        out = {"null": subprocess.DEVNULL, "pipe": subprocess.PIPE}.get(OUT)
        if out is None:
            out = open(os.path.join(tmp, "operator.log"), "wb")
        op = subprocess.Popen(["bin/aws-account-operator", "--kubeconfig", kc,
                               "--namespace", NS, "--leader-elect=%s" % str(not LEAD).lower(),
                               "--metrics-bind-address", "127.0.0.1:%d" % mport,
                               "--health-probe-bind-address", "127.0.0.1:%d" % hport],
                              stdout=out, stderr=subprocess.STDOUT)
        procs.append(op)
        if OUT == "pipe":
            threading.Thread(target=lambda: [None for _ in op.stdout],
                             daemon=True).start()
        def ready():
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % hport,
                                            timeout=2) as r:
                    return r.status == 200
            except urllib.error.HTTPError:
                return False
        wait(ready, 300, "readyz")
        t_ready = time.monotonic() - t1
        time.sleep(1)  # let the allocator settle; a measurement, not synchronization
        with open("/proc/%d/status" % op.pid) as f:
            st = f.read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1)) / 1024
        hwm = int(re.search(r"VmHWM:\s+(\d+)", st).group(1)) / 1024
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport) as r:
            m = re.search(r"^process_resident_memory_bytes (\S+)", r.read().decode(), re.M)
        prm = float(m.group(1)) / 1048576
        print("N=%d: /readyz after %.2f s; VmRSS %.1f MiB, VmHWM (peak) %.1f MiB, "
              "process_resident_memory_bytes %.1f MiB" % (n, t_ready, rss, hwm, prm),
              flush=True)
        return rss
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()

tmp = tempfile.mkdtemp(prefix="aao-mem-")
try:
    prev = None
    for n in [int(a) for arg in sys.argv[1:] for a in arg.split()]:
        rss = measure(n, tmp)
        if prev and n > prev[0]:
            print("growth from N=%d to N=%d: %.2f MiB per 1,000 of each kind" % (
                prev[0], n, (rss - prev[1]) * 1000 / (n - prev[0])), flush=True)
        prev = (n, rss)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
PY
