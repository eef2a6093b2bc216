#!/usr/bin/env python3
"""Summarise bench/irq/run: one serial log per emulated host.

  suite.py LOG... [--json OUT] [--plot PNG] [--commit C] [--worktree 0|1]
           [--dirty K] [--wall-s S] [--host TEXT]

Each LOG holds the lines of bench/irq/lab/irqbench.sh: "@@IRQB-LOG TAGS
<payload line>", "@@IRQB-V4 TAGS <nestbox's GICv4 line>", "@@IRQB-KVM
TAGS snap=a|b|c t=UPTIME out_bytes=B kvm=NAME:V,..." and "@@IRQB-RUN TAGS
rc=RC", TAGS = "gic=G round=R test=T". The payload lines are parsed with
report.py. Prints a table (stdout), writes JSON and, when gnuplot is
there, a PNG of the latency histograms.

Exits per iteration: the nestbox VM's L1 KVM debugfs counters between
snapshot a (the payload holding still before its test) and b (holding
still after its done line), minus the UART's cost of the output in
between (2 exits to userspace per byte: a FR read and a DR write), minus
the background rate of exits measured between b and c (about 1 s, both
vCPUs spinning: host timer ticks) times the a-b interval, divided by the
test's iterations (n + warm-up).
Exit status: 0 when every run ended with status 0 and no FAIL line.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

TAGS = re.compile(r"@@IRQB-(LOG|V4|KVM|RUN) gic=(\d+) round=(\d+) test=(\S+) ?(.*)")
UART_EXITS_PER_BYTE = 2
# Counters whose per-iteration delta is shown in the table.
TABLE_COUNTERS = ("exits", "mmio_exit_user", "mmio_exit_kernel", "other")
# Exits with a counter of their own; "other" is exits minus these: on
# arm64 IRQ exits (a host interrupt: the kick that makes a running vCPU
# take a software-injected interrupt, a host timer tick) and system
# register traps (ICC_SGI1R_EL1 writes that send an SGI).
NAMED_EXITS = ("mmio_exit_user", "mmio_exit_kernel", "hvc_exit_stat",
               "wfi_exit_stat", "wfe_exit_stat", "signal_exits")
TEST_ORDER = ("mmio", "doorbell", "inject", "edu", "its-int", "ipi",
              "ipi-rtt", "timer")


def parse_kv(rest):
    out = {}
    for tok in rest.split():
        k, _, v = tok.partition("=")
        if k == "kvm":
            out["kvm"] = {}
            for kv in v.split(","):
                name, _, val = kv.partition(":")
                if val.isdigit():
                    out["kvm"][name] = int(val)
        elif k == "t":
            out["t"] = float(v)
        elif v.isdigit():
            out[k] = int(v)
        else:
            out[k] = v
    return out


def parse_logs(paths):
    runs = {}
    results = {}
    for path in paths:
        with open(path, "rb") as f:
            for raw in f:
                line = raw.decode("utf-8", "replace").replace("\r", "")
                line = line.rstrip("\n")
                at = line.find("@@NBLAB RESULT irqbench ")
                if at >= 0:
                    results[path] = line[at:].split()[-1]
                m = TAGS.search(line)
                if not m:
                    continue
                kind, gic, rnd, test, rest = m.groups()
                run = runs.setdefault((int(gic), int(rnd), test), {
                    "gic": int(gic), "round": int(rnd), "test": test,
                    "lines": [], "gicv4": None, "rc": None, "snaps": {}})
                if kind == "LOG":
                    run["lines"].append(rest)
                elif kind == "V4":
                    run["gicv4"] = rest
                elif kind == "KVM":
                    snap = parse_kv(rest)
                    if "snap" in snap and "kvm" in snap:
                        run["snaps"][snap.pop("snap")] = snap
                else:
                    run["rc"] = parse_kv(rest).get("rc")
    for run in runs.values():
        run["report"] = report.parse_log(run.pop("lines"))
    return runs, results


def with_other(kvm):
    k = dict(kvm)
    if "exits" in k:
        k["other"] = k["exits"] - sum(k.get(n, 0) for n in NAMED_EXITS)
    return k


def exits_per_iteration(snaps, iterations):
    """Counter deltas a -> b, corrected, per test iteration."""
    a, b, c = snaps.get("a"), snaps.get("b"), snaps.get("c")
    if not a or not b or not iterations:
        return None
    ka, kb = with_other(a["kvm"]), with_other(b["kvm"])
    uart = UART_EXITS_PER_BYTE * (b["out_bytes"] - a["out_bytes"])
    span = b["t"] - a["t"]
    rate = {}
    if c and c["t"] > b["t"]:
        kc = with_other(c["kvm"])
        rate = {n: (kc[n] - kb[n]) / (c["t"] - b["t"])
                for n in ("exits", "other") if n in kc and n in kb}
    out = {"span_s": round(span, 3), "uart_exits": uart,
           "background_exits_per_s": round(rate.get("exits", 0), 1)}
    for name, value in kb.items():
        if name not in ka:
            continue
        d = value - ka[name]
        if name in ("exits", "mmio_exit_user"):
            d -= uart
        if name in rate:
            out[name + "_raw"] = round(d / iterations, 3)
            d -= rate[name] * span
        out[name] = round(d / iterations, 3)
    return out


def summarise(runs):
    rows = []
    for (gic, rnd, test), run in sorted(runs.items()):
        rep = run["report"]
        warmup = (rep["start"] or {}).get("warmup", 0)
        for t in rep["tests"]:
            iters = t["n"] + warmup
            row = {"gic": gic, "round": rnd, "test": t["test"],
                   "run": test, "n": t["n"], "warmup": warmup,
                   "freq": t["freq"], "rc": run["rc"],
                   "gicv4": run["gicv4"]}
            for k in report.STAT_KEYS + ("mean",):
                row[k] = t[k]
                row[k + "_ns"] = t[k + "_ns"]
            row["hist"] = rep["hists"].get(t["test"])
            row["kvm_snapshots"] = run["snaps"]
            # ipi-rtt shares its run with ipi: one exit count per round trip.
            row["exits_per_iteration"] = (
                exits_per_iteration(run["snaps"], iters)
                if t["test"] != "ipi" else None)
            rows.append(row)
    return rows


def combine(rows):
    """Rounds of one (test, gic) -> one line: min of min, median of p50/p99,
    max of max, median of the exit figures."""
    groups = {}
    for r in rows:
        groups.setdefault((r["test"], r["gic"]), []).append(r)
    out = []
    order = {t: i for i, t in enumerate(TEST_ORDER)}
    for (test, gic), rs in sorted(groups.items(),
                                  key=lambda kv: (order.get(kv[0][0], 99),
                                                  kv[0][1])):
        c = {"test": test, "gic": gic, "rounds": len(rs), "n": rs[0]["n"],
             "freq": rs[0]["freq"]}
        for unit in ("", "_ns"):
            c["min" + unit] = min(r["min" + unit] for r in rs)
            c["p50" + unit] = statistics.median(r["p50" + unit] for r in rs)
            c["p99" + unit] = statistics.median(r["p99" + unit] for r in rs)
            c["max" + unit] = max(r["max" + unit] for r in rs)
        for name in TABLE_COUNTERS:
            vals = [r["exits_per_iteration"][name] for r in rs
                    if r["exits_per_iteration"]
                    and name in r["exits_per_iteration"]]
            c[name + "_per_iter"] = statistics.median(vals) if vals else None
        c["gicv4"] = next((r["gicv4"] for r in rs if r["gicv4"]), None)
        out.append(c)
    return out


def fmt_num(v):
    if v is None:
        return "-"
    if isinstance(v, float) and not v.is_integer():
        return "%.1f" % v
    return str(int(v))


def format_table(combined):
    head = ("test", "GIC", "n", "min ticks", "p50 ticks", "p99 ticks",
            "max ticks", "p50 us", "p99 us", "exits/it", "user/it",
            "kmmio/it", "other/it")
    rows = []
    for c in combined:
        rows.append((c["test"], "v%d" % c["gic"], str(c["n"]),
                     fmt_num(c["min"]), fmt_num(c["p50"]), fmt_num(c["p99"]),
                     fmt_num(c["max"]), "%.1f" % (c["p50_ns"] / 1000.0),
                     "%.1f" % (c["p99_ns"] / 1000.0),
                     "-" if c["exits_per_iter"] is None
                     else "%.2f" % c["exits_per_iter"],
                     "-" if c["mmio_exit_user_per_iter"] is None
                     else "%.2f" % c["mmio_exit_user_per_iter"],
                     "-" if c["mmio_exit_kernel_per_iter"] is None
                     else "%.2f" % c["mmio_exit_kernel_per_iter"],
                     "-" if c["other_per_iter"] is None
                     else "%.2f" % c["other_per_iter"]))
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = []
    for r in [head] + rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def plot(rows, png):
    """Histograms of round 1: fraction of samples per quarter-octave
    bucket over the bucket's geometric centre in us (log x), one panel per
    GIC version."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        print("suite.py: no gnuplot, no plot", file=sys.stderr)
        return False
    gics = sorted({r["gic"] for r in rows})
    tmp = tempfile.mkdtemp(prefix="irqbench-plot-")
    script = ["set terminal pngcairo size 1400,%d font ',10'" % (450 * len(gics)),
              "set output '%s'" % png,
              "set multiplot layout %d,1" % len(gics),
              "set logscale x", "set grid",
              "set xlabel 'latency, us (quarter-octave buckets up from each "
              "test minimum)'",
              "set ylabel 'fraction of samples per bucket'",
              "set key outside right"]
    for g in gics:
        curves = []
        for r in rows:
            if r["gic"] != g or r["round"] != 1 or not r["hist"]:
                continue
            h = r["hist"]
            path = os.path.join(tmp, "g%d-%s.dat" % (g, r["test"]))
            with open(path, "w") as f:
                edges = report.hist_edges(h)
                last = max([i for i, c in enumerate(h["counts"]) if c] or [0])
                for i, cnt in enumerate(h["counts"][:last + 1]):
                    centre = (max(edges[i], 1) * edges[i + 1]) ** 0.5
                    f.write("%g %g\n" % (centre * 1e6 / h["freq"],
                                         cnt / float(r["n"])))
            curves.append("'%s' using 1:2 with linespoints title '%s'"
                          % (path, r["test"]))
        if curves:
            script.append("set title 'nestbox in L1 on a GICv%d host "
                          "(QEMU TCG: compare, do not read as hardware "
                          "latency)'" % g)
            script.append("plot " + ", ".join(curves))
    script.append("unset multiplot")
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    res = subprocess.run([gnuplot], input="\n".join(script) + "\n",
                         text=True, capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if res.returncode:
        print("suite.py: gnuplot failed: %s" % res.stderr.strip(),
              file=sys.stderr)
        return False
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1].strip())
    ap.add_argument("logs", nargs="+")
    ap.add_argument("--json")
    ap.add_argument("--plot")
    ap.add_argument("--commit", default="")
    ap.add_argument("--worktree", default="0")
    ap.add_argument("--dirty", default="0")
    ap.add_argument("--wall-s", type=int, default=0)
    ap.add_argument("--host", default="")
    args = ap.parse_args(argv)

    runs, results = parse_logs(args.logs)
    rows = summarise(runs)
    combined = combine(rows)
    print(format_table(combined))
    ok = True
    for (gic, rnd, test), run in sorted(runs.items()):
        rep = run["report"]
        if run["rc"] != 0 or rep["failures"] or rep["errors"] \
                or not rep["complete"]:
            ok = False
            print("GICv%d round %d run %s: status %s, %s" % (
                gic, rnd, test, run["rc"],
                "; ".join("%s %s" % (f.get("test"), f.get("reason"))
                          for f in rep["failures"]) or "no FAIL line"))
        for s in rep["skips"]:
            if s.get("reason") != "not-selected":
                ok = False
                print("GICv%d round %d: skipped %s: %s" % (
                    gic, rnd, s["test"], s.get("reason")))
    for c in combined:
        if c["test"] == "edu" and c["gicv4"]:
            print("edu on GICv%d: %s" % (c["gic"], c["gicv4"]))
    for path, res in sorted(results.items()):
        if res != "pass":
            ok = False
        print("%s: %s" % (os.path.basename(path), res))
    if not runs:
        print("suite.py: no @@IRQB lines in %s" % ", ".join(args.logs),
              file=sys.stderr)
        ok = False
    if args.plot and rows and plot(rows, args.plot):
        print("plot: %s" % args.plot)
    if args.json:
        doc = {"commit": args.commit, "worktree": args.worktree == "1",
               "changed_files": int(args.dirty),
               "wall_s": args.wall_s, "host": args.host,
               "uart_exits_per_byte": UART_EXITS_PER_BYTE,
               "summary": combined, "runs": rows,
               "hosts": {os.path.basename(k): v
                         for k, v in results.items()},
               "ok": ok}
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, args.json)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
