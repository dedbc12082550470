"""Claims, releases and a pool fill on the genuine kube-apiserver with the
AWS stand-in: the samples of figure 1 (claim latency), figures 2 (fill time,
slot use), 6 (calls per account and per claim) and 7 (CPU per account).

Claims come first, on a small pool and a quiet operator; the fill comes
last. The operator runs as a user would run it (default QPS, concurrency 5);
only the support-case poll interval is 1 s so that upstream's 30-59 s settle
wait after each creation does not hide the creation pipeline."""
import datetime
import queue
import socket
import threading
import time

from bench_util import (Audit, aws_ops, count_by, cpu_s, kube_kind, ops_delta,
                        wait_idle)
from conftest import wait_for

OP_ARGS = ("--support-case-poll-interval", "1s")
GROUP = "/apis/aws.managed.openshift.io/v1alpha1"


def aws_args(n, t):
    """AWS stand-in timings: CreateAccount T s, the rest small; room for the
    fill and the claims' pool besides the management account."""
    return ("--create-account-seconds", str(t), "--case-resolve-seconds", "0.1",
            "--instance-running-seconds", "0.05", "--region-enable-seconds", "0.05",
            "--max-accounts", str(n + 500))


def ready_count(env):
    return sum(1 for a in env.accounts()
               if (a.get("status") or {}).get("state") == "Ready")


def set_pool_size(env, size):
    p = env.pool()
    p["spec"]["poolSize"] = size
    env.kube.ok("PUT", "%s/namespaces/%s/accountpools/default" % (GROUP, env.ns), p)


class Window:
    """What the operator did between start() and end(): daemon CPU, its kube
    requests (audit log) and AWS calls (the stand-in's counters)."""

    def __init__(self, env):
        self.env = env
        if not hasattr(env, "audit"):
            env.audit = Audit(env.kube)
        self.pos, self.ops = env.audit.mark(), aws_ops(env.aws)
        self.cpu, self.t0 = cpu_s(env.op.p.pid), time.time()

    def end(self, **extra):
        env = self.env
        reqs = env.audit.since(self.pos)
        per_s = count_by(reqs, lambda r: r["second"])
        return dict(extra, cpu_s=cpu_s(env.op.p.pid) - self.cpu, wall_s=time.time() - self.t0,
                    aws_calls=ops_delta(self.ops, aws_ops(env.aws)),
                    kube_requests=count_by(reqs, kube_kind),
                    kube_rate_peak=max(per_s.values()) if per_s else 0)


def _ts(v):
    if isinstance(v, (int, float)):
        return float(v)
    return datetime.datetime.fromisoformat(str(v).replace("Z", "+00:00")).timestamp()


def slot_use(reqs, t, now, slots=5):
    """(creation window, mean use of the slots): each CreateAccount holds a
    slot on AWS's side for exactly t seconds from its request."""
    starts = sorted(_ts(r["RequestedTimestamp"]) for r in reqs)
    if not starts:
        return 0.0, 0.0
    window = min(starts[-1] + t, now) - starts[0]
    busy = sum(min(s + t, now) - s for s in starts)
    return window, busy / (slots * window) if window > 0 else 0.0


def slot_gaps(reqs, t, slots=5):
    """How long a slot stood free before its next CreateAccount (s, sorted):
    each request takes the slot that freed first (a request made while all
    were busy, e.g. after a refusal, counts 0)."""
    return sorted(g for _, g in slot_gap_times(reqs, t, slots))


def slot_gap_times(reqs, t, slots=5):
    """(seconds into the fill when the slot freed, gap) per request."""
    free = [None] * slots
    out = []
    starts = sorted(_ts(r["RequestedTimestamp"]) for r in reqs)
    for s in starts:
        i = min(range(slots), key=lambda k: -1 if free[k] is None else free[k])
        if free[i] is not None:
            out.append((free[i] - starts[0], max(0.0, s - free[i])))
        free[i] = s + t
    return out


def _creations(env, since):
    return [r for r in env.state()["create_account_requests"]
            if _ts(r["RequestedTimestamp"]) >= since]


def fill(env, n, t, timeout):
    """Raise the pool by n and wait (up to timeout) for n CreateAccount
    requests to succeed, then for the accounts to be Ready."""
    size = (env.pool().get("status") or {}).get("unclaimedAccounts", 0) + n
    w = Window(env)
    base_ready = ready_count(env)
    set_pool_size(env, size)
    end = time.monotonic() + timeout

    def created():
        done = [r for r in _creations(env, w.t0 - 1) if r["State"] == "SUCCEEDED"]
        return len(done) >= n
    complete = _wait_until(created, end, 3.0)
    seen_s = time.time() - w.t0
    # The fill ends when the n-th request succeeded on the stand-in's side
    # (its CompletedTimestamp), not when the 3 s poll above noticed it.
    done = sorted(_ts(r["CompletedTimestamp"]) for r in _creations(env, w.t0 - 1)
                  if r["State"] == "SUCCEEDED" and r.get("CompletedTimestamp"))
    created_s = done[n - 1] - w.t0 if complete and len(done) >= n else seen_s
    all_ready = complete and _wait_until(lambda: ready_count(env) - base_ready >= n, end, 3.0)
    ready_s = time.time() - w.t0
    reqs = [r for r in _creations(env, w.t0 - 1) if r["State"] != "FAILED"]
    window, use = slot_use(reqs, t, time.time())
    gaps = slot_gaps(reqs, t)
    q = (lambda f: gaps[min(len(gaps) - 1, int(f * len(gaps)))] if gaps else 0.0)
    counters = env.aws.control("GET", "counters")
    org = [(round(c["time"] - w.t0, 3), c["operation"]) for c in env.aws.control("GET", "calls")["calls"]
           if c["service"] == "organizations" and c["time"] >= w.t0]
    ready = ready_count(env) - base_ready
    return w.end(n=n, T=t, timeout_s=timeout, created=len(reqs), created_s=created_s,
                 created_seen_s=seen_s,
                 complete=complete, ready=ready, all_ready=all_ready, ready_s=ready_s,
                 create_window_s=window, reference_s=-(-n // 5) * t, slot_use=use,
                 slot_gap_mean_s=sum(gaps) / len(gaps) if gaps else 0.0,
                 org_calls=org, slot_gap_p50_s=q(0.5), slot_gap_p90_s=q(0.9), slot_gap_max_s=q(1.0),
                 slot_gaps_long=[(round(a, 2), round(g, 3)) for a, g in slot_gap_times(reqs, t)
                                 if g > 0.25],
                 peak_in_flight=counters["create_account_peak_in_flight"],
                 rejected_concurrent=counters["create_account_rejected_concurrent"])


def _wait_until(pred, end, interval):
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


class SecretWatch:
    """Arrival time of each Secret ADDED in a namespace (a watch stream)."""

    def __init__(self, kube, ns):
        rv = kube.ok("GET", "/api/v1/namespaces/%s/secrets" % ns)["metadata"]["resourceVersion"]
        self.w = kube.watch("/api/v1/namespaces/%s/secrets" % ns, timeout=30,
                            resourceVersion=rv)
        self.seen = queue.Queue()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                ev = self.w.next(timeout=600)
            except (OSError, ValueError, AttributeError):
                return  # closed
            if ev is None:
                return
            if ev["type"] == "ADDED":
                self.seen.put((ev["object"]["metadata"]["name"], time.monotonic()))

    def wait(self, name, timeout):
        end = time.monotonic() + timeout
        while True:
            got, at = self.seen.get(timeout=max(0.01, end - time.monotonic()))
            if got == name:
                return at

    def close(self):
        # Wake the reader blocked in recv first: closing the buffered
        # response would wait for the lock that reader holds.
        try:
            self.w.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.w.close()


def claim_pool(env, m, spare=5):
    """A pool of m + spare Ready accounts, then poolSize = spare so that
    serving m claims starts no top-up creation."""
    env.create_pool(m + spare)
    wait_for(lambda: ready_count(env) >= m + spare, timeout=300 + 2 * m, interval=1.0,
             what="%d Ready accounts" % (m + spare))
    set_pool_size(env, spare)
    env.audit = Audit(env.kube)
    wait_idle(env.audit, env.op, quiet=1.0, timeout=120)


def claims(env, m, timeout=60, gap=0.0, before_each=None, before_calls=None):
    """m claims one after another, each with a Ready account available;
    latency = the claim created (its POST answered: the object exists) to
    its Secret ADDED; latency_sent_s counts from the POST sent, so it also
    holds the client's own create round trip, which is not one of the
    round trips the operator needs. gap: the least time from
    one claim's POST to the next (an arrival rate, not a wait for the
    operator): each claim of a new legal entity makes 2 Organizations
    calls, and the operator's governor serves 10 a second after a burst of
    10, so claims arriving faster than one per 0.2 s time the governor's
    pacing rather than a claim's latency. before_each(): called once per
    claim, halfway through the gap before its POST (the operator idle
    between the previous claim's last write and this claim); before_calls():
    the AWS calls it has made, taken out of the window's."""
    watch = SecretWatch(env.kube, env.claim_ns)
    w = Window(env)
    own0 = before_calls() if before_calls else {}
    lat, lat_sent = [], []
    start = None
    try:
        for i in range(m):
            name = "bench-c%03d" % i
            if start is not None and gap > 0:
                if before_each:
                    # halfway through the gap: after the previous claim's
                    # last writes (within 50 ms), well before this one
                    time.sleep(max(0.0, start + gap / 2 - time.monotonic()))
                    before_each()
                time.sleep(max(0.0, start + gap - time.monotonic()))
            elif before_each:
                before_each()
            start = time.monotonic()
            env.make_claim(name, name + "-creds", "le-bench-%03d" % i)
            created = time.monotonic()
            done = watch.wait(name + "-creds", timeout)
            lat.append(done - created)
            lat_sent.append(done - start)
            wait_for(lambda: env.claim_state(name) == "Ready", timeout=timeout,
                     interval=0.05, what="claim %s Ready" % name)
    finally:
        watch.close()
    wait_idle(env.audit, env.op, quiet=1.0, timeout=120)
    res = w.end(m=m, latency_s=lat, latency_sent_s=lat_sent, gap_s=gap)
    if before_calls:
        own = ops_delta(own0, before_calls())
        res["aws_calls"] = {k: n - own.get(k, 0) for k, n in res["aws_calls"].items()
                            if n - own.get(k, 0)}
        res["harness_aws_calls"] = own
    return res


def releases(env, k, timeout=300):
    """Delete k claims; wait for each claim to be gone and its account to be
    Ready and unclaimed again (reused) or deleted."""
    names = ["bench-c%03d" % i for i in range(k)]
    accts = [env.claim(n)["spec"]["accountLink"] for n in names]
    w = Window(env)
    for n in names:
        env.delete(env.claim_path(n))

    def settled():
        if any(env.claim(n) for n in names):
            return False
        for a in accts:
            st = (env.account(a) or {}).get("status")
            if st is not None and not (st.get("state") == "Ready" and not st.get("claimed")):
                return False
        return True
    wait_for(settled, timeout=timeout, interval=0.5, what="released accounts reused")
    wait_idle(env.audit, env.op, quiet=1.0, timeout=120)
    outcome = count_by(accts, lambda a: "reused" if env.account(a) else "deleted")
    return w.end(k=k, outcome=outcome)
