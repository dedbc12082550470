"""A steady fleet (figures 3, 4, 5): n Accounts, n AccountClaims bound to
them and n claim Secrets, cloned from a claim the operator really served
(its Account, AccountClaim and Secret, with their status), in a genuine
kube-apiserver of their own. The operator is started against it and
measured: start to /readyz and to idle, resident memory, a no-op resync of
every key (a ConfigMap change), and the CPU cost of one Account or claim
event."""
import concurrent.futures
import copy
import json
import threading
import time

from bench_util import (Audit, aws_ops, cpu_s, metric_sum, metrics, ops_delta,
                        ready, rss_mib, thread_cpu_share, wait_idle)
from conftest import wait_for

GROUP = "/apis/aws.managed.openshift.io/v1alpha1"
DROP = ("uid", "resourceVersion", "creationTimestamp", "managedFields",
        "ownerReferences", "generation")


def template(env, claim_name):
    """(account, claim, secret) of a served claim, stripped for cloning."""
    c = env.claim(claim_name)
    a = env.account(c["spec"]["accountLink"])
    s = env.get("/api/v1/namespaces/%s/secrets/%s" % (
        env.claim_ns, c["spec"]["awsCredentialSecret"]["name"]))
    iam = env.get("/api/v1/namespaces/%s/secrets/%s" % (env.ns, a["spec"]["iamUserSecret"]))
    for o in (a, c, s, iam):
        for k in DROP:
            o["metadata"].pop(k, None)
    return {"account": a, "claim": c, "secret": s, "iam": iam}


def _clone(t, i, ns, claim_ns):
    a, c, s = (copy.deepcopy(t[k]) for k in ("account", "claim", "secret"))
    an, cn, sn = "fleet-a-%05d" % i, "fleet-c-%05d" % i, "fleet-s-%05d" % i
    a["metadata"].update(name=an, namespace=ns)
    a["spec"].update(claimLink=cn, claimLinkNamespace=claim_ns)
    c["metadata"].update(name=cn, namespace=claim_ns)
    c["spec"]["accountLink"] = an
    c["spec"]["awsCredentialSecret"] = {"name": sn, "namespace": claim_ns}
    s["metadata"].update(name=sn, namespace=claim_ns)
    return a, c, s


def _bulk_patch(kube, items, workers=8):
    """Merge-PATCH (path, body) items, one keep-alive connection per worker
    (a PATCH needs no resourceVersion, unlike a PUT of a custom resource)."""
    local = threading.local()
    hdrs = {"Content-Type": "application/merge-patch+json", "Accept": "application/json"}

    def one(item):
        if not hasattr(local, "conn"):
            local.conn = kube.conn(timeout=60)
        local.conn.request("PATCH", item[0], body=json.dumps(item[1]), headers=hdrs)
        r = local.conn.getresponse()
        raw = r.read()
        return None if r.status == 200 else (r.status, raw[:300])
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        errors = [e for e in ex.map(one, items) if e]
    assert not errors, errors[:5]


def grow(env, t, lo, hi):
    """Create fleet members lo..hi-1 with their status; seconds taken."""
    t0 = time.monotonic()
    objs = [_clone(t, i, env.ns, env.claim_ns) for i in range(lo, hi)]
    k = env.kube
    k.bulk_create("%s/namespaces/%s/accounts" % (GROUP, env.ns),
                  ({kk: v for kk, v in a.items() if kk != "status"} for a, _, _ in objs))
    k.bulk_create("%s/namespaces/%s/accountclaims" % (GROUP, env.claim_ns),
                  ({kk: v for kk, v in c.items() if kk != "status"} for _, c, _ in objs))
    k.bulk_create("/api/v1/namespaces/%s/secrets" % env.claim_ns, (s for _, _, s in objs))
    _bulk_patch(k, [("%s/namespaces/%s/accounts/%s/status" % (
        GROUP, env.ns, a["metadata"]["name"]), {"status": a["status"]}) for a, _, _ in objs])
    _bulk_patch(k, [("%s/namespaces/%s/accountclaims/%s/status" % (
        GROUP, env.claim_ns, c["metadata"]["name"]), {"status": c["status"]})
        for _, c, _ in objs])
    return time.monotonic() - t0


def _touch(env, kind, names):
    path = {"accounts": "%s/namespaces/%s/accounts/" % (GROUP, env.ns),
            "accountclaims": "%s/namespaces/%s/accountclaims/" % (GROUP, env.claim_ns)}[kind]
    stamp = str(time.time())
    for n in names:
        env.kube.ok("PATCH", path + n, {"metadata": {"annotations": {"bench/touch": stamp}}},
                    ctype="application/merge-patch+json")


# AccountValidation's periodic reads (pkg/controllers/validation/plan.h):
# by design it asks AWS about every Account once per pass, a pass paced at
# VAL_READS_PER_S, so a steady fleet at rest is never without them. They
# are counted apart (from the operator's own per-controller call metric),
# never as the no-op resync's calls; a MOVE or TAG would still count.
VALIDATION_READS = ("ListParents", "ListTagsForResource",
                    "ListOrganizationalUnitsForParent")


def _reconciles(op):
    return metric_sum(metrics(op), "controller_runtime_reconcile_total")


def _read_calls(op):
    """(AccountValidation's read calls, the same operations by any other
    controller), from the operator's per-controller call metric."""
    text = metrics(op)
    name = "aws_account_operator_api_request_duration_seconds_count"
    val = sum(metric_sum(text, name, controller="accountvalidation", method=m)
              for m in VALIDATION_READS)
    return val, sum(metric_sum(text, name, method=m) for m in VALIDATION_READS) - val


def validation_reads(op):
    return _read_calls(op)[0]


def _calls_but_reads(delta):
    """Stand-in calls other than the read operations (those are taken from
    the operator's metric: a read still in flight at the window's end would
    be in the stand-in's count and not yet in the metric)."""
    return sum(n for k, n in delta.items() if k.split(".")[-1] not in VALIDATION_READS)


def _listing_pages(op):
    return metric_sum(metrics(op), "aws_account_operator_api_request_duration_seconds_count",
                      controller="accountwatcher", method="ListAccounts")


def listing_done(op, t_start, quiet=1.5, timeout=300):
    """Seconds from start to the account watcher's last ListAccounts page
    of its start-up listing of the organization (a background poll, not
    reconcile work: it goes on after idle). Polled until no page for
    `quiet` seconds; None when no page came after this call began (the
    listing had ended by then)."""
    t0 = time.monotonic()
    last, changed = _listing_pages(op), None
    while time.monotonic() < t0 + timeout:
        time.sleep(0.1)  # a measurement's sampling, not synchronization
        n = _listing_pages(op)
        if n != last:
            last, changed = n, time.monotonic()
        elif time.monotonic() - (changed or t0) >= quiet:
            break
    return changed - t_start if changed else None


def _windowed(env, op, action):
    """Run action(), wait for idle; (cpu s, reconciles, operator kube
    requests, AWS calls, wall s, validation's periodic reads) in that
    window; the AWS calls exclude those reads."""
    pid = op.p.pid
    pos, ops0, rec0, cpu0 = env.audit.mark(), aws_ops(env.aws), _reconciles(op), cpu_s(pid)
    val0, other0 = _read_calls(op)
    t0 = time.monotonic()
    action()
    wait_idle(env.audit, op, quiet=1.0, timeout=600)
    cpu, wall = cpu_s(pid) - cpu0, time.monotonic() - t0
    val1, other1 = _read_calls(op)
    calls = _calls_but_reads(ops_delta(ops0, aws_ops(env.aws))) + int(other1 - other0)
    return cpu, _reconciles(op) - rec0, env.audit.since(pos), calls, wall, int(val1 - val0)


def _baseline_cpu(op, wall):
    """CPU the idle daemon spends in `wall` seconds while being scraped as in
    wait_idle (a measurement window, not synchronization)."""
    c0 = cpu_s(op.p.pid)
    end = time.monotonic() + wall
    while time.monotonic() < end:
        metrics(op)
        time.sleep(0.1)
    return cpu_s(op.p.pid) - c0


def measure(env, n, op_args, events=20, ready_timeout=600):
    env.audit = Audit(env.kube)
    ops0 = aws_ops(env.aws)
    t_start = time.monotonic()
    op = env.start_operator(*op_args)
    try:
        wait_for(lambda: ready(op), timeout=ready_timeout, interval=0.02, what="/readyz")
    except AssertionError:
        res = {"n": n, "error": "no /readyz 200 within %.0f s" % ready_timeout,
               "rss_mib": rss_mib(op.p.pid), "cpu_s": cpu_s(op.p.pid)}
        env.stop()
        return res
    t_ready = time.monotonic() - t_start
    cpu_ready = cpu_s(op.p.pid)
    seen = []
    t_idle = wait_idle(env.audit, op, quiet=1.0, timeout=600, seen=seen) - t_start
    # The daemon's own CPU to idle (its scrapes included): unlike the wall
    # times it does not grow with what else the machine's cores are doing.
    cpu_idle = cpu_s(op.p.pid)
    t_listed = listing_done(op, t_start)
    start_calls = sum(ops_delta(ops0, aws_ops(env.aws)).values())
    rss = rss_mib(op.p.pid)
    cm = "/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap" % env.ns
    noop = _windowed(env, op, lambda: env.kube.ok(
        "PATCH", cm, {"data": {"bench-touch": str(time.time())}},
        ctype="application/merge-patch+json"))
    threads, main_share = thread_cpu_share(op.p.pid)
    res = {"n": n, "start_ready_s": t_ready, "start_idle_s": t_idle, "rss_mib": rss,
           "start_listed_s": t_listed,
           # what kept it from idle last (s from start, requests or queues)
           "start_busy": [(round(t - t_start, 2), w[:5]) for t, w in seen[-8:]],
           "start_ready_cpu_s": cpu_ready, "start_idle_cpu_s": cpu_idle,
           "start_aws_calls": start_calls, "threads": threads, "main_thread_cpu": main_share,
           "start_validation_reads": int(validation_reads(op)),
           "noop": {"cpu_s": noop[0], "reconciles": noop[1], "kube_requests": len(noop[2]),
                    "aws_calls": noop[3], "wall_s": noop[4], "validation_reads": noop[5]}}
    events = min(events, n)  # only fleet members can be touched
    for kind, prefix in (("accounts", "fleet-a-"), ("accountclaims", "fleet-c-")):
        names = ["%s%05d" % (prefix, i) for i in range(events)]
        cpu, rec, reqs, calls, wall, reads = _windowed(env, op, lambda: _touch(env, kind, names))
        base = _baseline_cpu(op, wall)
        res["event_" + kind] = {"events": events, "cpu_s": cpu, "baseline_cpu_s": base,
                                "per_event_ms": max(0.0, cpu - base) / events * 1000,
                                "reconciles": rec, "kube_requests": len(reqs),
                                "aws_calls": calls, "validation_reads": reads}
    env.stop()
    return res
