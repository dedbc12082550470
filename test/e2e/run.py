#!/usr/bin/python3
"""Run pytest modules in parallel, one process per module.

Each e2e module starts its own peers on free loopback ports (module-scoped
fixtures), so modules are independent and most of their time is spent
waiting on timers: running several at once shortens the suite without
changing what any test asserts. Stdlib only (Debian's python3 has no
pytest-xdist).

    run.py [-j N] [--only SUBSTR,...] [--durations FILE] [--update] [--timeout S]
           DIR... [-- PYTEST_ARGS]

Every test_*.py under each DIR is one job, started longest first (the
durations file holds each module's last measured seconds, keyed by its path
relative to the repository; an unknown module is assumed long so that it
starts early). A module's output is printed only when it fails. The exit
status is non-zero if any module failed, timed out, collected nothing or
reported a skip (noskip.py already turns skips into failures; this is the
second guard)."""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_DURATIONS = os.path.join(REPO, "test", "e2e", "durations.json")
UNKNOWN_SECONDS = 600.0


def parse_args(argv):
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("E2E_JOBS", "4")))
    ap.add_argument("--durations", default=DEFAULT_DURATIONS)
    ap.add_argument("--update", action="store_true",
                    help="write the measured durations back to the file")
    ap.add_argument("--timeout", type=float, default=float(os.environ.get("E2E_TIMEOUT", "900")),
                    help="seconds after which a module is killed and counted failed")
    ap.add_argument("--only", default=os.environ.get("E2E_ONLY", ""),
                    help="comma-separated substrings: run only modules whose path has one")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args(argv)
    args.pytest_args = extra
    return args


def discover(dirs):
    """Every test_*.py directly in each directory, as repository-relative paths."""
    mods = []
    for d in dirs:
        for name in sorted(os.listdir(d)):
            if name.startswith("test_") and name.endswith(".py"):
                mods.append(os.path.relpath(os.path.abspath(os.path.join(d, name)), REPO))
    return mods


def load_durations(path):
    try:
        with open(path) as f:
            return {k: float(v) for k, v in json.load(f).items()}
    except (OSError, ValueError):
        return {}


def schedule(mods, durations):
    """Longest first; unknown modules count as long."""
    return sorted(mods, key=lambda m: (-durations.get(m, UNKNOWN_SECONDS), m))


SUMMARY_RE = re.compile(r"^=*\s*(.*\b(passed|failed|error|errors|skipped|no tests ran)\b.*?)\s*=*$")


def verdict(rc, out, timed_out):
    """(ok, short summary) for one module's pytest run."""
    summary = ""
    for line in out.splitlines():
        m = SUMMARY_RE.match(line.strip())
        if m and re.search(r"\d+ \w+ in [0-9.]+s", m.group(1)):
            summary = m.group(1)
    if timed_out:
        return False, "timed out; " + (summary or "no summary")
    if rc != 0:
        return False, summary or "exit %d" % rc
    if re.search(r"\b\d+ skipped\b", summary) or not re.search(r"\b\d+ passed\b", summary):
        return False, summary or "no tests passed"
    return True, summary


class Job:
    def __init__(self, mod, pytest_args, timeout):
        self.mod, self.timeout = mod, timeout
        self.out = tempfile.TemporaryFile(mode="w+")
        path = os.path.join(REPO, mod)
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
             *pytest_args, os.path.basename(path)],
            cwd=os.path.dirname(path), stdout=self.out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        self.timed_out = False

    def poll(self):
        """The exit code once finished (killing it past its timeout), else None."""
        rc = self.p.poll()
        if rc is None and time.monotonic() - self.t0 > self.timeout:
            self.timed_out = True
            self.kill()
            rc = self.p.wait()
        return rc

    def kill(self):
        # The module's peers are its children: end the whole session.
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def output(self):
        self.out.seek(0)
        return self.out.read()


def run(mods, args):
    """Run every module with at most args.jobs at once: {mod: (ok, secs, summary)}."""
    queue, running, results = list(mods), [], {}
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    old = signal.signal(signal.SIGTERM, on_signal)
    try:
        while (queue or running) and not stop.is_set():
            while queue and len(running) < args.jobs:
                running.append(Job(queue.pop(0), args.pytest_args, args.timeout))
            time.sleep(0.2)
            for job in [j for j in running if j.poll() is not None]:
                running.remove(job)
                results[job.mod] = finish(job)
    except KeyboardInterrupt:
        stop.set()
    finally:
        signal.signal(signal.SIGTERM, old)
        for job in running:
            job.kill()
            job.p.wait()
            results[job.mod] = (False, 0.0, "interrupted")
    return results


def finish(job):
    secs = time.monotonic() - job.t0
    out = job.output()
    ok, summary = verdict(job.p.returncode, out, job.timed_out)
    if not ok:
        print("=" * 30 + " %s output " % job.mod + "=" * 30)
        print(out.rstrip())
        print("=" * 78)
    print("%-4s %-48s %6.1fs  %s" % ("ok" if ok else "FAIL", job.mod, secs, summary), flush=True)
    job.out.close()
    return ok, secs, summary


def main(argv):
    args = parse_args(argv)
    durations = load_durations(args.durations)
    mods = discover(args.dirs)
    if args.only:
        mods = [m for m in mods if any(w and w in m for w in args.only.split(","))]
    mods = schedule(mods, durations)
    if not mods:
        print("run.py: no test modules under %s" % " ".join(args.dirs))
        return 1
    print("run.py: %d modules, %d at a time" % (len(mods), args.jobs), flush=True)
    t0 = time.monotonic()
    results = run(mods, args)
    failed = [m for m in mods if not results.get(m, (False,))[0]]
    print("run.py: %d modules in %.0fs, %d passed, %d failed%s"
          % (len(mods), time.monotonic() - t0, len(mods) - len(failed), len(failed),
             (": " + " ".join(failed)) if failed else ""))
    if args.update:
        durations.update({m: round(r[1], 1) for m, r in results.items() if r[0]})
        with open(args.durations, "w") as f:
            json.dump(dict(sorted(durations.items())), f, indent=1)
            f.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
