"""`make bench`'s harness (hack/bench.py) end to end with tiny sizes, so that
it keeps working: every phase runs against the genuine kube-apiserver and
the AWS stand-in, the table has a row for each figure and the JSON file the
raw numbers. The figures themselves are not judged here (docs/benchmarks.md)."""
import json
import os
import subprocess
import sys

from conftest import REPO


def test_bench_harness_runs_every_phase(tmp_path):
    out = tmp_path / "results.json"
    p = subprocess.run([sys.executable, os.path.join(REPO, "hack", "bench.py"),
                        "--fill", "0", "--claims", "1", "--releases", "1", "--spare", "0",
                        "--fleet", "3,6", "--events", "2", "--reps", "2",
                        "--ceiling-seconds", "0.5", "--json", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-4000:]
    res = json.loads(out.read_text())
    assert len(res["claims"]["latency_s"]) == 1 and res["claims"]["latency_s"][0] > 0
    assert res["claim_minimum"]["sum_s"] > 0 and res["claim_minimum"]["samples"] == 2
    assert res["claim_minimum_between"]["samples"] == 1  # one per claim
    assert all(f["start_listed_s"] is None or f["start_listed_s"] > 0 for f in res["fleet"])
    assert res["releases"]["outcome"] in ({"reused": 1}, {"deleted": 1})
    assert [f["n"] for f in res["fleet"]] == [3, 6]
    assert all(f["rss_mib"] > 0 and f["start_idle_s"] > 0 for f in res["fleet"])
    figures = {line.split("|")[1].strip() for line in p.stdout.splitlines()
               if line.startswith("| ") and not line.startswith("| #")}
    assert figures == {"1", "3", "4", "5", "6", "8"}, p.stdout
    assert "Machine: " in p.stdout
