#!/usr/bin/env python3
"""Summarise bench/run's per-run JSON lines: table, boot.json, boot.png.

  report.py --raw boot-raw.jsonl [--meta meta.json] [--commit SHA]
            [--dirty true|false] [--rev REV] [--wall-s N] [--complete true|false]
            [--json OUT.json] [--png OUT.png]

Medians over the timed runs that ended with status 0 (warm-up runs, numbered
below 1, are left out); exit and syscall counts come from the ptrace runs.
Ratio = nestbox / QEMU. No figure is asserted: the goals are reported.
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

VMMS = ("nestbox", "qemu")

# (key, label, unit, source, getter, goal ratio or None, goal text)
# source "run": timed runs; "trace": ptrace runs.
FIGURES = [
    ("startup_ms", "start-up before the first KVM_RUN", "ms", "run",
     lambda r: r.get("t_first_kvm_run_ms"), 0.2, "<= 0.2x"),
    ("startup_cpu_ms", "CPU time before the first KVM_RUN", "ms", "run",
     lambda r: r.get("startup_cpu_ms"), None, ""),
    ("startup_minflt", "page faults before the first KVM_RUN", "", "run",
     lambda r: r.get("startup_minflt") if r.get("startup_minflt", -1) >= 0 else None,
     None, ""),
    ("boot_ms", "process start to L2 userspace", "ms", "run",
     lambda r: r.get("t_marker_ms"), 0.7, "<= 0.7x"),
    ("exit_ms", "process start to process exit", "ms", "run",
     lambda r: r.get("t_exit_ms"), None, ""),
    ("teardown_ms", "guest power-off line to process exit", "ms", "run",
     lambda r: (r["t_exit_ms"] - r["t_stop_ms"])
     if r.get("t_exit_ms") is not None and r.get("t_stop_ms") is not None
     else None, None, ""),
    ("rss_mib", "peak RSS excl. guest RAM (RssAnon+RssFile)", "MiB", "run",
     lambda r: r["rss_peak_kib"] / 1024 if r.get("rss_peak_kib", -1) >= 0
     else None, 0.25, "<= 0.25x"),
    ("rss_anon_mib", "  of which RssAnon", "MiB", "run",
     lambda r: r["rss_anon_peak_kib"] / 1024
     if r.get("rss_anon_peak_kib", -1) >= 0 else None, None, ""),
    ("rss_file_mib", "  of which RssFile", "MiB", "run",
     lambda r: r["rss_file_peak_kib"] / 1024
     if r.get("rss_file_peak_kib", -1) >= 0 else None, None, ""),
    ("guest_ram_touched_mib", "guest RAM touched (RssShmem)", "MiB", "run",
     lambda r: r["rss_shmem_peak_kib"] / 1024
     if r.get("rss_shmem_peak_kib", -1) >= 0 else None, None, ""),
    ("threads", "VMM threads (max)", "", "run",
     lambda r: r.get("threads_max"), None, ""),
    ("vm_exits_boot", "VM exits during boot (all, debugfs exits)", "", "run",
     lambda r: r.get("kvm", {}).get("exits"), None, ""),
    ("mmio_user_boot", "  MMIO exits to userspace (mmio_exit_user)", "",
     "run", lambda r: r.get("kvm", {}).get("mmio_exit_user"), None, ""),
    ("mmio_kernel_boot", "  MMIO exits in kernel (mmio_exit_kernel)", "",
     "run", lambda r: r.get("kvm", {}).get("mmio_exit_kernel"), None, ""),
    ("hvc_boot", "  HVC exits (hvc_exit_stat)", "", "run",
     lambda r: r.get("kvm", {}).get("hvc_exit_stat"), None, ""),
    ("wfx_boot", "  WFI/WFE exits", "", "run",
     lambda r: (r["kvm"].get("wfi_exit_stat", 0) + r["kvm"].get("wfe_exit_stat", 0))
     if "wfi_exit_stat" in r.get("kvm", {}) else None, None, ""),
    ("user_exits_boot", "exits to userspace during boot (KVM_RUN returns)", "",
     "trace", lambda r: r.get("kvm_run_returns_before_marker"), 1.0, "< 1x"),
    ("user_exits_total", "exits to userspace, whole run", "", "trace",
     lambda r: r.get("kvm_run_returns"), None, ""),
    ("syscalls_startup", "syscalls before the first KVM_RUN", "", "trace",
     lambda r: r.get("syscalls_before_first_kvm_run"), None, ""),
    ("syscalls_boot", "syscalls, start to L2 userspace", "", "trace",
     lambda r: r.get("syscalls_before_marker"), None, ""),
    ("syscalls_total", "syscalls, whole run", "", "trace",
     lambda r: r.get("syscalls_total"), None, ""),
]


# Guest physical regions of the two machines (nestbox: vmm/layout.h; QEMU:
# hw/arm/virt.c memmap, highmem ECAM), to name the MMIO exits to userspace.
REGIONS = {
    "nestbox": [
        (0x09000000, 0x1000, "UART"),
        (0x0b000000, 0x4000, "virtio-mmio"),
        (0x30000000, 0x10000000, "PCIe ECAM"),
        (0x40000000, 0x40000000, "PCIe MMIO"),
    ],
    "qemu": [
        (0x09000000, 0x1000, "UART"),
        (0x09010000, 0x1000, "RTC (PL031)"),
        (0x09020000, 0x18, "fw_cfg"),
        (0x09030000, 0x1000, "GPIO (PL061)"),
        (0x0a000000, 0x4000, "virtio-mmio"),
        (0x10000000, 0x2eff0000, "PCIe MMIO"),
        (0x3eff0000, 0x10000, "PCIe PIO"),
        (0x3f000000, 0x1000000, "PCIe ECAM"),
        (0x4010000000, 0x10000000, "PCIe ECAM"),
    ],
}


def region_of(vmm, page):
    """Name of the region holding the 64 KiB page (hex string)."""
    a = int(page, 16)
    for base, size, name in REGIONS.get(vmm, []):
        if base <= a + 0xffff and a < base + size:
            return name
    return "other (%s)" % page


def by_region(vmm, pages):
    out = {}
    for page, n in pages.items():
        r = region_of(vmm, page)
        out[r] = out.get(r, 0) + n
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def load(path):
    runs, bad = [], 0
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                runs.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
    return runs, bad


def stats(values):
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "values": values,
    }


def fmt(v, unit):
    if v is None:
        return "-"
    if unit == "MiB":
        return "%.1f" % v
    if abs(v) >= 100 or v == int(v):
        return "%d" % round(v)
    return "%.1f" % v


def merged_counters(runs, key):
    """Median of each counter over runs (for exit reasons, syscall names)."""
    names = set()
    for r in runs:
        names.update(r.get(key, {}).keys())
    out = {}
    for n in names:
        out[n] = statistics.median([r.get(key, {}).get(n, 0) for r in runs])
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--meta")
    ap.add_argument("--commit", default="")
    ap.add_argument("--dirty", default="false")
    ap.add_argument("--rev", default="")
    ap.add_argument("--wall-s", type=int, default=0)
    ap.add_argument("--complete", default="true")
    ap.add_argument("--host-load", default="")
    ap.add_argument("--json")
    ap.add_argument("--png")
    a = ap.parse_args()

    runs, bad = load(a.raw)
    meta = {}
    if a.meta and os.path.exists(a.meta):
        try:
            with open(a.meta) as f:
                meta = json.loads(f.read().strip() or "{}")
        except json.JSONDecodeError:
            meta = {}
    timed = {v: [r for r in runs if r.get("mode") == "run" and r.get("label") == v
                 and r.get("run", 0) >= 1] for v in VMMS}
    traced = {v: [r for r in runs if r.get("mode") == "trace" and r.get("label") == v]
              for v in VMMS}
    failed = [r for r in runs if r.get("status") != 0 or r.get("timeout")]
    ok = {v: [r for r in timed[v] if r.get("status") == 0 and not r.get("timeout")]
          for v in VMMS}
    tok = {v: [r for r in traced[v] if r.get("status") == 0 and not r.get("timeout")]
           for v in VMMS}

    figures = []
    for key, label, unit, src, get, goal, goal_text in FIGURES:
        per = {}
        for v in VMMS:
            pool = ok[v] if src == "run" else tok[v]
            vals = [get(r) for r in pool]
            per[v] = stats([x for x in vals if x is not None])
        ratio = None
        if per["nestbox"] and per["qemu"] and per["qemu"]["median"]:
            ratio = per["nestbox"]["median"] / per["qemu"]["median"]
        met = None
        if goal is not None and ratio is not None:
            met = ratio < goal if goal_text.startswith("<") and "=" not in goal_text \
                else ratio <= goal
        figures.append({"key": key, "figure": label.strip(), "unit": unit,
                        "source": "timed runs" if src == "run" else "ptrace runs",
                        "nestbox": per["nestbox"], "qemu": per["qemu"],
                        "ratio": ratio, "goal": goal_text or None, "met": met})

    now = datetime.datetime.now(datetime.timezone.utc)
    n_ok = {v: len(ok[v]) for v in VMMS}
    print()
    print("nestbox vs QEMU %s, %s, commit %s%s, %s UTC" % (
        meta.get("qemu", "").replace("QEMU emulator version ", ""),
        "%s vCPUs / %s MiB" % (meta.get("cpus", "?"), meta.get("mem_mib", "?")),
        a.commit[:12], " (dirty tree)" if a.dirty == "true" else "",
        now.strftime("%Y-%m-%d %H:%M")))
    print("timed runs with status 0: nestbox %d, qemu %d (alternating); ptrace runs: %d + %d"
          % (n_ok["nestbox"], n_ok["qemu"], len(tok["nestbox"]), len(tok["qemu"])))
    w = max(len(f["figure"]) for f in figures) + 2
    head = "%-*s %12s %12s %7s  %s" % (w, "figure (median)", "nestbox", "QEMU", "ratio", "goal")
    print(head)
    print("-" * len(head) + "-" * 8)
    for f, (key, label, unit, *_rest) in zip(figures, FIGURES):
        nb = f["nestbox"]["median"] if f["nestbox"] else None
        qm = f["qemu"]["median"] if f["qemu"] else None
        name = label + (" (%s)" % unit if unit else "")
        goal = ""
        if f["goal"]:
            goal = "%s: %s" % (f["goal"], {True: "met", False: "MISSED", None: "n/a"}[f["met"]])
        print("%-*s %12s %12s %7s  %s" % (w, name, fmt(nb, unit), fmt(qm, unit),
                                           "%.2f" % f["ratio"] if f["ratio"] is not None else "-",
                                           goal))
    if failed:
        print("\n%d run(s) did not end with status 0: %s" % (len(failed), ", ".join(
            "%s %s #%s (status %s%s)" % (r.get("mode"), r.get("label"), r.get("run"),
                                          r.get("status"), ", timeout" if r.get("timeout") else "")
            for r in failed)))
    if bad:
        print("%d garbled result line(s) skipped" % bad)
    if a.complete != "true":
        print("WARNING: the benchmark did not finish (no @@NBB-DONE): partial results")

    details = {}
    for v in VMMS:
        details[v] = {
            "exit_reasons_to_userspace_before_marker": merged_counters(tok[v], "exit_reasons_before_marker"),
            "mmio_pages_before_marker": merged_counters(tok[v], "mmio_pages_before_marker"),
            "mmio_exits_to_userspace_before_marker_by_device": by_region(
                v, merged_counters(tok[v], "mmio_pages_before_marker")),
            "exit_reasons_to_userspace": merged_counters(tok[v], "exit_reasons"),
            "syscalls_by_name": merged_counters(tok[v], "syscalls"),
            "syscalls_before_first_kvm_run_by_name": merged_counters(tok[v], "syscalls_before_first_kvm_run_by_name"),
            "ioctls": merged_counters(tok[v], "ioctls"),
            "ioctls_before_first_kvm_run": merged_counters(tok[v], "ioctls_before_first_kvm_run"),
            "kvm_debugfs_at_marker": merged_counters(ok[v], "kvm"),
        }
    for v in VMMS:
        d = details[v]
        print("\n%s: exits to userspace before the marker (ptrace, median): %s" % (
            v, ", ".join("%s %g" % kv for kv in d["exit_reasons_to_userspace_before_marker"].items()) or "-"))
        print("%s: of which MMIO, by device: %s" % (
            v, ", ".join("%s %g" % kv for kv in
                         d["mmio_exits_to_userspace_before_marker_by_device"].items()) or "-"))
        top = list(d["syscalls_by_name"].items())[:8]
        print("%s: top syscalls (whole run): %s" % (v, ", ".join("%s %g" % kv for kv in top) or "-"))
    probe = {}
    for v in VMMS:
        ms = [r["first_run_probe_ms"] for r in ok[v] if "first_run_probe_ms" in r]
        n = [r["first_run_probes"] for r in ok[v] if "first_run_probes" in r]
        if ms and n:
            probe[v] = {"probes_median": statistics.median(n),
                        "probe_ms_median": statistics.median(ms)}
    if probe:
        print("\nfirst-KVM_RUN probe (KVM debugfs exits counter, every max(1 ms, 1%% of the time elapsed)), its own time: %s" % (
            ", ".join("%s %.0f probes, %.0f ms" % (v, p["probes_median"], p["probe_ms_median"])
                      for v, p in probe.items())))
    if a.host_load:
        print("\nhost load average (1/5/15 min): %s" % a.host_load)
    if a.wall_s:
        print("wall time of bench/run: %d s" % a.wall_s)

    out = {
        "date_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": a.commit,
        "dirty_tree": a.dirty == "true",
        "rev": a.rev,
        "wall_s": a.wall_s,
        "host_load": a.host_load,
        "complete": a.complete == "true",
        "setup": meta,
        "timed_runs_ok": n_ok,
        "ptrace_runs_ok": {v: len(tok[v]) for v in VMMS},
        "failed_runs": [{k: r.get(k) for k in ("mode", "label", "run", "status", "timeout")}
                        for r in failed],
        "figures": figures,
        "first_kvm_run_probe": probe,
        "details": details,
    }
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
            f.write("\n")
        print("wrote %s" % a.json)
    if a.png:
        chart(figures, details, a.png, "nestbox vs QEMU %s (%s vCPUs, %s MiB), commit %s, %s; median, bars min-max" % (
            meta.get("qemu", "").replace("QEMU emulator version ", ""), meta.get("cpus", "?"),
            meta.get("mem_mib", "?"), a.commit[:10], now.strftime("%Y-%m-%d")))
    return 0 if not failed and a.complete == "true" else 1


# (title, log scale, figure keys, x labels)
PANELS = [
    ("time from VMM start (ms)", False, ["startup_ms", "boot_ms", "exit_ms", "teardown_ms"],
     ["to first\\nKVM_RUN", "to L2\\nuserspace", "to process\\nexit",
      "guest power-off\\nto process exit"]),
    ("peak RSS excluding guest RAM (MiB)", False, ["rss_mib", "rss_anon_mib", "rss_file_mib"],
     ["RssAnon+RssFile", "RssAnon", "RssFile"]),
    ("exits during boot (log scale)", True,
     ["vm_exits_boot", "mmio_kernel_boot", "user_exits_boot"],
     ["all VM exits\\n(debugfs)", "MMIO handled\\nin kernel", "to userspace\\n(KVM_RUN returns)"]),
    ("syscalls of the VMM (log scale)", True, ["syscalls_startup", "syscalls_boot", "syscalls_total"],
     ["before first\\nKVM_RUN", "start to\\nL2 userspace", "whole run"]),
]
GOAL_KEYS = [("startup_ms", "start-up"), ("boot_ms", "to userspace"),
             ("rss_mib", "RSS"), ("user_exits_boot", "exits to user")]


def chart(figures, details, path, title):
    gp = shutil.which("gnuplot")
    if not gp:
        print("no gnuplot: no chart (run scripts/install-deps)", file=sys.stderr)
        return
    byk = {f["key"]: f for f in figures}
    tmp = tempfile.mkdtemp(prefix="nbbench-plot-")
    script = [
        "set terminal pngcairo noenhanced size 1800,1000 font 'sans,10'",
        "set output '%s'" % path,
        "set multiplot layout 2,3 title \"%s\\n\" font 'sans,12'" % title.replace('"', "'"),
        "set bmargin 5",
        "set style data histogram",
        "set style histogram errorbars gap 2 lw 1",
        "set style fill solid 0.85 border -1",
        "set boxwidth 0.9",
        "set key tmargin center horizontal",
        "set grid ytics",
        "set yrange [0:*]",
        "set xtics nomirror",
        "set bars 0.5",
    ]
    for i, (ylabel, logy, keys, names) in enumerate(PANELS):
        dat = os.path.join(tmp, "p%d.dat" % i)
        with open(dat, "w") as f:
            for k, name in zip(keys, names):
                fig = byk.get(k)
                row = ['"%s"' % name]
                for v in VMMS:
                    s = fig[v] if fig else None
                    if s:
                        row += ["%g" % s["median"], "%g" % s["min"], "%g" % s["max"]]
                    else:
                        row += ["0", "0", "0"]
                f.write(" ".join(row) + "\n")
        script += [
            "set title '%s'" % ylabel,
            "unset ylabel",
            "set logscale y" if logy else "unset logscale y",
            "set yrange [1:*]" if logy else "set yrange [0:*]",
            "plot '%s' using 2:3:4:xtic(1) title 'nestbox' lc rgb '#2b7bba', "
            "'' using 5:6:7 title 'QEMU' lc rgb '#d95f02'" % dat,
        ]
    # The goals: nestbox/QEMU ratio of the medians against each goal.
    dat = os.path.join(tmp, "goals.dat")
    with open(dat, "w") as f:
        for k, name in GOAL_KEYS:
            fig = byk.get(k)
            if not fig:
                continue
            goal = next(g for key, _l, _u, _s, _g, g, _t in FIGURES if key == k)
            f.write('"%s" %g %g\n' % (name, fig["ratio"] if fig["ratio"] is not None else 0, goal))
    script += [
        "set title 'nestbox / QEMU (median ratio) and the goal'",
        "unset logscale y",
        "set yrange [0:1.2]",
        "set style histogram clustered gap 2",
        "plot '%s' using 2:xtic(1) title 'ratio' lc rgb '#2b7bba', "
        "'' using 3 title 'goal (at most)' lc rgb '#bbbbbb'" % dat,
    ]
    # Exits to userspace during boot by device.
    dat = os.path.join(tmp, "dev.dat")
    devs = {v: details[v]["mmio_exits_to_userspace_before_marker_by_device"] for v in VMMS}
    reasons = {v: details[v]["exit_reasons_to_userspace_before_marker"] for v in VMMS}
    names = sorted(set(devs["nestbox"]) | set(devs["qemu"]),
                   key=lambda n: -(devs["nestbox"].get(n, 0) + devs["qemu"].get(n, 0)))
    rows = [(n, devs["nestbox"].get(n, 0), devs["qemu"].get(n, 0)) for n in names]
    for rsn in sorted(set(reasons["nestbox"]) | set(reasons["qemu"])):
        if rsn != "MMIO":
            rows.append((rsn, reasons["nestbox"].get(rsn, 0), reasons["qemu"].get(rsn, 0)))
    with open(dat, "w") as f:
        for n, a_, b_ in rows:
            f.write('"%s" %g %g\n' % (n, a_, b_))
    script += [
        "set title 'exits to userspace during boot, by device / reason (ptrace runs)'",
        "set yrange [0:*]",
        "set xtics rotate by -30",
        "plot '%s' using 2:xtic(1) title 'nestbox' lc rgb '#2b7bba', "
        "'' using 3 title 'QEMU' lc rgb '#d95f02'" % dat,
        "unset multiplot",
    ]
    gpf = os.path.join(tmp, "plot.gp")
    with open(gpf, "w") as f:
        f.write("\n".join(script) + "\n")
    r = subprocess.run([gp, gpf], capture_output=True, text=True)
    if r.returncode != 0:
        print("gnuplot failed: %s" % r.stderr.strip(), file=sys.stderr)
    else:
        print("wrote %s" % path)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
