#!/usr/bin/python3
"""make bench: the operator against its peers, one table (docs/benchmarks.md).

    hack/bench.py [--fill 1000] [--create-seconds 1] [--claims 30]
                  [--releases 10] [--fleet 1000,10000] [--events 20]
                  [--json build/bench/results.json]

Peers: a genuine kube-apiserver and etcd (hack/envtest.sh) with
kube-controller-manager for the pool, claims and releases; a second genuine
one for the steady fleet; the AWS stand-in (test/fakes/aws) for both. Every
reference is measured in the same run. Prints a Markdown table on stdout,
progress on stderr, and writes every raw number to the JSON file."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "test", "bench"))

import bench_fleet  # noqa: E402
import bench_minimal  # noqa: E402
import bench_peers  # noqa: E402
import bench_pool  # noqa: E402
from bench_report import machine, rows, table  # noqa: E402
from conftest import CRDS  # noqa: E402
from envtest_util import Envtest  # noqa: E402
from operator_env import OperatorEnv, StandInEnv  # noqa: E402


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fill", type=int, default=1000)
    ap.add_argument("--create-seconds", type=float, default=1.0)
    ap.add_argument("--claims", type=int, default=30)
    ap.add_argument("--claim-gap", type=float, default=0.3,
                    help="least seconds between two claims' POSTs (0: back to back; "
                    "below 0.2 s the Organizations governor paces the claims)")
    ap.add_argument("--releases", type=int, default=10)
    ap.add_argument("--fleet", default="1000,10000")
    ap.add_argument("--fill-timeout", type=float, default=240)
    # 10 events were too few: one run's Account event cost read 4.8 x, the
    # next 0.5 x; with 100 it read 1.3 x (the window's idle CPU dominates).
    ap.add_argument("--events", type=int, default=100)
    ap.add_argument("--ready-timeout", type=float, default=300,
                    help="how long the daemon may take to /readyz with a fleet")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--spare", type=int, default=5,
                    help="Ready accounts left unclaimed while the claims run")
    ap.add_argument("--ceiling-seconds", type=float, default=3.0)
    ap.add_argument("--cm", action="append", default=[], metavar="KEY=VALUE",
                    help="extra operator ConfigMap data for the pool phase "
                         "(e.g. MaxConcurrentReconciles.account=5); repeatable")
    ap.add_argument("--keep", action="store_true",
                    help="keep the peers' directories (audit logs) under /tmp")
    ap.add_argument("--report", metavar="JSON",
                    help="only print the table of an earlier run's results")
    ap.add_argument("--json", default=os.path.join(REPO, "build", "bench", "results.json"))
    a = ap.parse_args(argv)
    a.fleet = [int(x) for x in a.fleet.split(",") if x]
    if not (a.claims >= 1 and 0 <= a.releases <= a.claims and a.fleet and
            min(a.fleet) >= 1):
        ap.error("need claims >= 1, 0 <= releases <= claims and fleet sizes >= 1")
    if any("=" not in kv for kv in a.cm):
        ap.error("--cm takes KEY=VALUE")
    return a


def pool_phase(a, tmp, res):
    """Peers' ceiling, the claim minimum, claims, releases, then the fill;
    returns the fleet template and the environment (operator stopped)."""
    env = StandInEnv(tmp / "pool", *bench_pool.aws_args(a.fill + a.claims, a.create_seconds))
    try:
        env.install(**dict({"account-limit": str(a.fill + a.claims + 500)},
                           **dict(kv.split("=", 1) for kv in a.cm)))
        env.start_operator(*bench_pool.OP_ARGS)
        log("peers' ceiling")
        cm = "/api/v1/namespaces/%s/configmaps/aws-account-operator-configmap" % env.ns
        res["peers"] = {
            "kube_get_per_s": bench_peers.kube_ceiling(env.kube, cm, a.ceiling_seconds),
            "aws_calls_per_s": bench_peers.aws_ceiling(env.aws, a.ceiling_seconds)}
        log("claim minimum: plain-client round trips")
        sampler = bench_minimal.Sampler(env.kube, env.aws, env.root)
        for _ in range(a.reps):
            sampler.sample()
        total, parts, n = sampler.result()
        res["claim_minimum"] = {"sum_s": total, "parts_s": parts, "samples": n}
        log("claims: a pool of %d Ready accounts" % (a.claims + a.spare))
        bench_pool.claim_pool(env, a.claims, a.spare)
        log("claims: %d, the minimal round trips timed once before each" % a.claims)
        sampler.reset()
        res["claims"] = bench_pool.claims(env, a.claims, gap=a.claim_gap,
                                          before_each=sampler.sample,
                                          before_calls=sampler.aws_calls)
        if a.claims:
            total, parts, n = sampler.result()
            res["claim_minimum_between"] = {"sum_s": total, "parts_s": parts, "samples": n}
        sampler.close()
        tmpl = bench_fleet.template(env, "bench-c%03d" % (a.claims - 1))
        log("releases: %d" % a.releases)
        res["releases"] = bench_pool.releases(env, a.releases)
        if a.fill:
            log("fill: %d accounts, CreateAccount %g s, at most %d s" % (
                a.fill, a.create_seconds, a.fill_timeout))
            res["fill"] = bench_pool.fill(env, a.fill, a.create_seconds, a.fill_timeout)
        env.stop()
        return tmpl, env
    except BaseException:
        env.shutdown()
        raise


def fleet_phase(a, tmp, tmpl, pool_env, res):
    kube = Envtest(tmp / "fleet", crds=CRDS).start()
    env = OperatorEnv(kube, pool_env.aws)
    try:
        env.install(pool_env.root, pool_env.base)
        env.post("/api/v1/namespaces/%s/secrets" % env.ns, tmpl["iam"])
        env.create_pool(0)
        res["fleet"], have = [], 0
        for n in a.fleet:
            log("fleet: growing to %d of each kind" % n)
            grow_s = bench_fleet.grow(env, tmpl, have, n)
            have = n
            log("fleet: %d of each created in %.0f s; measuring" % (n, grow_s))
            m = bench_fleet.measure(env, n, bench_pool.OP_ARGS, a.events, a.ready_timeout)
            m["create_s"] = grow_s
            res["fleet"].append(m)
            if "error" in m:
                log("fleet: %s at %d of each; not growing further" % (m["error"], n))
                break
    finally:
        env.stop()  # a daemon left running after a failure would outlive its peers
        kube.stop()


def commit():
    def git(*args):
        return subprocess.run(["git", "-C", REPO, *args], capture_output=True,
                              text=True).stdout.strip()
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short=12", "HEAD") + (" (dirty)" if dirty else "")


def main(argv):
    import pathlib
    a = parse(argv)
    if a.report:
        with open(a.report) as f:
            res = json.load(f)
        print(table(res, rows(res)))
        return
    res = {"args": {k: v for k, v in vars(a).items()}, "machine": machine(), "commit": commit(),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    t0 = time.monotonic()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="aao-bench-"))
    # The operators' logs, kept with the peers' directories (--keep).
    os.environ.setdefault("AAO_E2E_LOG", str(tmp / "operator.log"))
    try:
        tmpl, env = pool_phase(a, tmp, res)
        try:
            fleet_phase(a, tmp, tmpl, env, res)
        finally:
            env.shutdown()
    except BaseException as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
        raise
    finally:
        if a.keep:
            log("peers' directories kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        res["wall_s"] = time.monotonic() - t0
        os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
        log("raw numbers in %s" % a.json)
    print(table(res, rows(res)))
    log("done in %.0f s" % res["wall_s"])


if __name__ == "__main__":
    main(sys.argv[1:])
