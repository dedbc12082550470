"""The table of `make bench`: one row per figure with its value, the
reference or goal it is judged against, pass/fail and the peer it used."""
import os
import platform

from bench_util import pctl

GENUINE = "genuine kube-apiserver + AWS stand-in"


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kib = int(f.readline().split()[1])
    except OSError:
        mem_kib = 0
    return {"nproc": os.cpu_count(), "cpu": model, "ram_gib": round(mem_kib / 1048576, 1),
            "kernel": platform.release()}


def _row(fig, what, value, ref, ok, peer=GENUINE):
    return {"figure": fig, "what": what, "value": value, "reference": ref,
            "pass": {True: "pass", False: "FAIL", None: "info"}[ok], "peer": peer}


def _claim_rows(res):
    lat, mn = res["claims"]["latency_s"], res["claim_minimum"]["sum_s"]
    out = []
    for p in (50, 99):
        v = pctl(lat, p)
        out.append(_row("1", "claim latency p%d (claim created -> Secret ADDED, %d claims, "
                        "%.2f s apart)" % (p, len(lat), res["claims"].get("gap_s", 0.0)),
                        "%.3f s = %.1f x minimum" % (v, v / mn),
                        "minimum %.3f s (6 round trips, same run); goal <= 1.25 x" % mn,
                        v / mn <= 1.25))
    sent = res["claims"].get("latency_sent_s")
    if sent:
        v = pctl(sent, 50)
        out.append(_row("1", "claim latency p50 counted from the claim's POST sent (adds the "
                        "client's create round trip)", "%.3f s = %.1f x minimum" % (v, v / mn),
                        "minimum %.3f s (6 round trips, same run)" % mn, None))
    between = res.get("claim_minimum_between")
    if between:
        b = between["sum_s"]
        out.append(_row("1", "the same round trips timed once before each claim (%d samples, "
                        "each after 150 ms idle, as a claim meets the peers)" % between["samples"],
                        "%.3f s: p50 %.1f x, p99 %.1f x on it" % (
                            b, pctl(lat, 50) / b, pctl(lat, 99) / b),
                        "minimum %.3f s (20 back to back)" % mn, None))
    return out


def _fill_rows(res):
    if "fill" not in res:
        return []
    f = res["fill"]
    use_ok = f["slot_use"] >= 0.95 and f["rejected_concurrent"] == 0
    if f["complete"]:
        done = "%.1f s" % f["created_s"]
        if "created_seen_s" in f:
            done += " (seen by the harness's 3 s poll at %.1f s)" % f["created_seen_s"]
    else:
        done = "only %d of %d in %.0f s" % (f["created"], f["n"], f["timeout_s"])
    ready = ("%.1f s" % f["ready_s"] if f["all_ready"] else
             "only %d of %d in %.0f s" % (f["ready"], f["n"], f["timeout_s"]))
    return [
        _row("2", "pool fill: %d CreateAccount succeeded (T = %g s, 5 in flight)"
             % (f["n"], f["T"]), done,
             "ceil(%d/5) x T = %.0f s; goal <= that / 0.95 = %.1f s (95 %% slot use)" % (
                 f["n"], f["reference_s"], f["reference_s"] / 0.95),
             f["complete"] and f["created_s"] <= f["reference_s"] / 0.95),
        _row("2", "pool fill: average use of the 5 CreateAccount slots",
             "%.1f %% over %.0f s (peak %d in flight, %d refused)" % (
                 100 * f["slot_use"], f["create_window_s"], f["peak_in_flight"],
                 f["rejected_concurrent"]), "goal >= 95 %", use_ok),
        _row("2", "pool fill: the %d accounts Ready" % f["n"], ready,
             "%.0f s + the per-account setup" % f["reference_s"], None),
        _row("7", "CPU per account lifecycle (fill: create -> Ready)",
             "%.1f ms" % (1000 * f["cpu_s"] / max(1, f["created"])),
             "daemon CPU / accounts created", None),
    ]


def _fleet_rows(res):
    fl = res.get("fleet") or []
    if not fl:
        return []
    peer = "genuine kube-apiserver (fleet cloned from a served claim)"
    out = [_row("3/5", "daemon with %d of each" % f["n"], "%s (RSS %.0f MiB then)" % (
        f["error"], f["rss_mib"]), "goal: synced < 5 s, < 64 MiB", False, peer)
        for f in fl if "error" in f]
    fl = [f for f in fl if "error" not in f]
    if not fl:
        return out
    lo, hi = fl[0], fl[-1]
    out += [_row("3", "resident memory, %d Accounts + %d claims + %d Secrets" % ((hi["n"],) * 3),
                "%.1f MiB" % hi["rss_mib"], "goal < 64 MiB", hi["rss_mib"] < 64, peer)]
    if len(fl) > 1:
        per = (hi["rss_mib"] - lo["rss_mib"]) / ((hi["n"] - lo["n"]) * 3 / 1000.0)
        out.append(_row("3", "memory growth per 1,000 objects (%d -> %d of each)" % (
            lo["n"], hi["n"]), "%.2f MiB" % per, "%.1f MiB at %d of each" % (
            lo["rss_mib"], lo["n"]), None, peer))
    nz = hi["noop"]
    rate = nz["reconciles"] / nz["cpu_s"] if nz["cpu_s"] else 0.0
    out += [
        _row("4", "no-op reconciles per CPU-second (ConfigMap change, %d of each)" % hi["n"],
             "%.0f /s (%d reconciles, %.2f CPU s; %d threads, %.0f %% CPU on the main one)" % (
                 rate, nz["reconciles"], nz["cpu_s"], hi["threads"],
                 100 * hi["main_thread_cpu"]), "goal >= 5,000 /s", rate >= 5000, peer),
        _row("4", "API requests during that no-op resync", "%d kube, %d AWS%s" % (
            nz["kube_requests"], nz["aws_calls"],
            " (+ %d of validation's paced periodic reads)" % nz["validation_reads"]
            if nz.get("validation_reads") else ""), "goal 0",
            nz["kube_requests"] + nz["aws_calls"] == 0, peer),
        _row("5", "start -> /readyz 200, %d of each" % hi["n"], "%.2f s" % hi["start_ready_s"],
             "%.2f s at %d of each" % (lo["start_ready_s"], lo["n"]), None, peer),
        _row("5", "start -> synced and idle, %d of each" % hi["n"], "%.2f s" % hi["start_idle_s"],
             "goal < 5 s", hi["start_idle_s"] < 5, peer),
    ]
    if "start_listed_s" in hi:
        listed = hi["start_listed_s"]
        out.append(_row("5", "start -> the organization listed (the account watcher's "
                        "background poll, %d start-up AWS calls)" % hi["start_aws_calls"],
                        "%.2f s" % listed if listed is not None else "before idle",
                        "Organizations governor: 10 calls/s, reconciles' calls first",
                        None, peer))
    for kind in ("accounts", "accountclaims"):
        a, b = lo["event_" + kind], hi["event_" + kind]
        # Below 0.05 ms a difference is the baseline's noise, not work.
        ratio = max(b["per_event_ms"], 0.05) / max(a["per_event_ms"], 0.05)
        out.append(_row("5", "CPU per %s event at %d of each" % (kind[:-1], hi["n"]),
                        "%.2f ms (%.1f x)" % (b["per_event_ms"], ratio),
                        "%.2f ms at %d; goal: not growing with the fleet (<= 2 x)" % (
                            a["per_event_ms"], lo["n"]), ratio <= 2.0, peer))
    return out


def _calls_rows(res):
    from bench_minimum import judge
    return [_row("6", what, value, ref, ok) for what, value, ref, ok in judge(res)]


def _peer_rows(res):
    p, f = res["peers"], res.get("fill") or res["claims"]
    aws_total = sum(f["aws_calls"].values())
    aws_rate = aws_total / f["wall_s"] if f["wall_s"] else 0.0
    return [
        _row("8", "kube-apiserver ceiling (GET, 8 parallel keep-alive clients)",
             "%.0f req/s" % p["kube_get_per_s"],
             "operator's busiest second (fill, else claims): %d req" % f["kube_rate_peak"],
             f["kube_rate_peak"] < 0.5 * p["kube_get_per_s"]),
        _row("8", "AWS stand-in ceiling (signed calls, 8 parallel clients)",
             "%.0f calls/s" % p["aws_calls_per_s"],
             "operator's mean (fill, else claims): %.0f calls/s" % aws_rate,
             aws_rate < 0.5 * p["aws_calls_per_s"]),
    ]


def rows(res):
    return (_claim_rows(res) + _fill_rows(res) + _fleet_rows(res) + _calls_rows(res)
            + _peer_rows(res))


def table(res, rs):
    m = res["machine"]
    head = ["Machine: %d cores (%s), %.1f GiB RAM, Linux %s; commit %s; %s; %.0f s." % (
        m["nproc"], m["cpu"], m["ram_gib"], m["kernel"], res["commit"], res["date"],
        res.get("wall_s", 0)), "",
        "| # | figure | value | reference / goal | verdict | peer |",
        "|---|---|---|---|---|---|"]
    for r in rs:
        head.append("| %s | %s | %s | %s | %s | %s |" % (
            r["figure"], r["what"], r["value"], r["reference"], r["pass"], r["peer"]))
    return "\n".join(head)
