"""hack/measure-memory.sh in CI form (docs/memory.md): the daemon's resident
memory after syncing 10,000 Ready Accounts, 10,000 AccountClaims bound to
them and 10,000 claim Secrets from the Kubernetes stand-in (fast bulk
creation), as a standby replica. A regression ceiling, not a benchmark.

Run: make -j2 all
     cd test/e2e && /usr/bin/python3 -m pytest -q test_memory.py
"""
import os
import re
import subprocess

from conftest import REPO


def test_memory_after_syncing_a_bound_fleet_of_10000():
    r = subprocess.run([os.path.join(REPO, "hack", "measure-memory.sh"), "10000"],
                       capture_output=True, text=True, timeout=600)
    print(r.stdout)
    assert r.returncode == 0, r.stderr[-2000:]
    sizes = re.search(r'"Account": (\d+), "AccountClaim": (\d+)', r.stdout)
    assert sizes and int(sizes.group(1)) > 1200 and int(sizes.group(2)) > 700
    m = re.search(r"/readyz after ([\d.]+) s; VmRSS ([\d.]+) MiB", r.stdout)
    assert m, r.stdout
    assert float(m.group(2)) < 80.0
