"""What every bench phase shares: the daemon's CPU time and memory from
/proc, its /metrics, the operator's requests in the genuine kube-apiserver's
audit log and in the AWS stand-in's call log, and waiting for idle.

Standard library only, plus the e2e helpers (test/e2e) on sys.path."""
import json
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "test", "e2e"))

from conftest import http_get  # noqa: E402

OP_AGENT = "aws-account-operator/"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """CPU seconds the process used (every thread), at nanosecond resolution
    where /proc/PID/schedstat exists, else utime+stime in clock ticks."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            ns = int(f.read().split()[0])
        total = 0
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        return max(ns, total) / 1e9
    except (OSError, ValueError):
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK


def thread_cpu_share(pid):
    """(threads, share of CPU time spent on the main thread)."""
    per = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
            per[int(tid)] = int(f.read().split()[0])
    total = sum(per.values()) or 1
    return len(per), per.get(pid, 0) / total


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        st = f.read()
    return int(re.search(r"VmRSS:\s+(\d+)", st).group(1)) / 1024.0


def metrics(op):
    return http_get("http://127.0.0.1:%d/metrics" % op.metrics_port)[2].decode()


def metric_sum(text, name, **labels):
    """Sum of every sample of name whose labels include labels."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        m = re.match(r"^%s(\{[^}]*\})?\s+(\S+)" % re.escape(name), line)
        if not m:
            continue
        lbl = m.group(1) or ""
        if all('%s="%s"' % (k, v) in lbl for k, v in labels.items()):
            total += float(m.group(2))
    return total


def ready(op):
    try:
        return http_get("http://127.0.0.1:%d/readyz" % op.health_port, timeout=2)[0] == 200
    except OSError:
        return False


class Audit:
    """The operator's completed, non-watch requests in the genuine
    kube-apiserver's audit log, read incrementally (the log of a 1,000-account
    fill is hundreds of MB: Envtest.requests() would re-read it all)."""

    _METHOD = {"get": "GET", "list": "GET", "create": "POST", "update": "PUT",
               "patch": "PATCH", "delete": "DELETE", "deletecollection": "DELETE"}

    def __init__(self, kube):
        self.path = os.path.join(kube.workdir, "audit.log")
        self.f = open(self.path)
        self.f.seek(0, os.SEEK_END)
        self.buf = ""

    def mark(self):
        """Position of the log's end: the start of a window."""
        return os.path.getsize(self.path)

    def since(self, pos):
        """Operator requests logged after pos, each {method, path, second}."""
        out = []
        with open(self.path) as f:
            f.seek(pos)
            for line in f:
                if not line.endswith("\n"):
                    break
                r = self._parse(line)
                if r:
                    out.append(r)
        return out

    def _parse(self, line):
        ev = json.loads(line)
        if (ev.get("stage") != "ResponseComplete" or ev.get("verb") == "watch"
                or not ev.get("userAgent", "").startswith(OP_AGENT)):
            return None
        return {"method": self._METHOD.get(ev["verb"], ev["verb"]),
                "path": ev["requestURI"].split("?")[0], "second": ev["stageTimestamp"][:19]}

    def activity(self):
        """The operator's requests since the last call (a list: truthy if
        any)."""
        self.buf += self.f.read()
        lines = self.buf.split("\n")
        self.buf = lines.pop()
        return [r for r in (self._parse(ln + "\n") for ln in lines if ln) if r]


def aws_ops(aws):
    """The AWS stand-in's cumulative count per "service.Operation"."""
    return dict(aws.control("GET", "counters")["operations"])


def ops_delta(before, after):
    return {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def _queued(text):
    """The workqueues with items waiting, from /metrics."""
    return [ln for ln in text.splitlines()
            if ln.startswith("workqueue_depth") and not ln.endswith(" 0")]


def wait_idle(audit, op, quiet=1.0, timeout=600.0, seen=None):
    """Wait until every workqueue is empty and the operator made no kube
    request for `quiet` seconds; returns the time (monotonic) idle began.
    seen: a list that gets (monotonic time, what) of each sign of work."""
    deadline = time.monotonic() + timeout
    audit.activity()
    last_activity = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        busy = audit.activity() + _queued(metrics(op))
        if busy:
            last_activity = time.monotonic()
            if seen is not None:
                seen.append((last_activity, [b if isinstance(b, str) else
                                             "%s %s" % (b["method"], b["path"]) for b in busy]))
        elif time.monotonic() - last_activity >= quiet:
            return last_activity
    raise AssertionError("operator not idle after %.0f s" % timeout)


def pctl(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def count_by(reqs, key):
    out = {}
    for r in reqs:
        k = key(r)
        out[k] = out.get(k, 0) + 1
    return out


def kube_kind(r):
    """A request's method and resource, e.g. "PUT accounts/status"."""
    parts = r["path"].strip("/").split("/")
    if "namespaces" in parts:
        i = parts.index("namespaces")
        rest = parts[i + 2:]
    else:
        rest = parts[2:] if parts[0] == "api" else parts[3:]
    kind = rest[0] if rest else "namespaces"
    sub = "/" + rest[2] if len(rest) > 2 else ""
    coll = "" if len(rest) > 1 else " (collection)"
    return "%s %s%s%s" % (r["method"], kind, sub, coll)
