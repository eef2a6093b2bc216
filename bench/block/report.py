#!/usr/bin/env python3
"""Summarise bench/block results: medians per side and test, ratio L2/L1.

Input: the "@@BLK" JSON lines (one per test per round per side, with "side"
and "round" added by bench/block/lab/blkbench.sh) and the run's metadata.
Output: the table on stdout, and a JSON file with the medians, ratios, every
raw line and the metadata. Sequential tests are compared in MiB/s, random
ones in IOPS. No timing is asserted.
"""

import argparse
import datetime
import json
import statistics
import sys

TESTS = [
    ("seqread", "mib_s", "MiB/s"),
    ("seqwrite", "mib_s", "MiB/s"),
    ("randread", "iops", "IOPS"),
    ("randwrite", "iops", "IOPS"),
]


def kvm_rates(path, rows):
    """Per L2 test: L1 KVM counter deltas per op (from the rates over the
    sampled window and the test's own ops/s), and the share of the window the
    vCPU spent halted."""
    try:
        with open(path) as f:
            marks = [json.loads(l) for l in f if l.strip()]
    except (OSError, json.JSONDecodeError):
        return []
    fields = ("exits", "mmio_exit_user", "mmio_exit_kernel", "wfi_exit_stat", "halt_wakeup")
    out = []
    for test, _, _ in TESTS:
        per = {f: [] for f in fields}
        halted = []
        for m in marks:
            if m["test"] != test or m["mark"] != "BEGIN":
                continue
            end = [e for e in marks if e["round"] == m["round"] and e["test"] == test and e["mark"] == "END"]
            run = [r for r in rows if r["side"] == "L2" and r["round"] == m["round"] and r["test"] == test]
            if not end or not run:
                continue
            e, r = end[0], run[0]
            dt = e["t"] - m["t"]
            ops_s = r["ops"] / r["secs"] if r["secs"] else 0
            if dt <= 0 or not ops_s:
                continue
            for f in fields:
                if f in m and f in e:
                    per[f].append((e[f] - m[f]) / dt / ops_s)
            if "halt_wait_ns" in m and "halt_wait_ns" in e:
                halted.append(100.0 * (e["halt_wait_ns"] - m["halt_wait_ns"]) / 1e9 / dt)
        k = {"test": test}
        for f in fields:
            k[f] = statistics.median(per[f]) if per[f] else None
        k["halted_pct"] = statistics.median(halted) if halted else None
        if any(v is not None for key, v in k.items() if key != "test"):
            out.append(k)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--kvm", help="@@BLK-KVM lines: L1 KVM counters at L2 test boundaries")
    ap.add_argument("--host-load", default="{}", help="JSON: other QEMUs and load average during the run")
    ap.add_argument("--commit", required=True)
    ap.add_argument("--dirty", default="false")
    ap.add_argument("--wall-s", type=int, default=0)
    ap.add_argument("--complete", default="false")
    ap.add_argument("--json", required=True)
    a = ap.parse_args()

    rows = []
    with open(a.raw) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                print("report: skipping a malformed line: %s" % line[:80], file=sys.stderr)
    try:
        with open(a.meta) as f:
            meta = json.loads(f.read() or "{}")
    except (OSError, json.JSONDecodeError):
        meta = {}

    modes = {}
    for r in rows:
        modes.setdefault(r["side"], set()).add(r["mode"])
    odirect = {}
    for r in rows:
        odirect.setdefault(r["side"], set()).add(r.get("odirect_accepted"))

    results = []
    for test, key, unit in TESTS:
        entry = {"test": test, "unit": unit}
        for side in ("L1", "L2"):
            vals = [r[key] for r in rows if r["side"] == side and r["test"] == test and not r["error"]]
            entry[side] = {
                "median": statistics.median(vals) if vals else None,
                "min": min(vals) if vals else None,
                "max": max(vals) if vals else None,
                "runs": vals,
                "lat_p50_us_median": statistics.median(
                    [r["lat_us"]["p50"] for r in rows if r["side"] == side and r["test"] == test and "lat_us" in r]
                ) if any("lat_us" in r for r in rows if r["side"] == side and r["test"] == test) else None,
                "bytes_per_run": sorted({r["bytes"] for r in rows if r["side"] == side and r["test"] == test}),
            }
        l1, l2 = entry["L1"]["median"], entry["L2"]["median"]
        entry["ratio_l2_l1"] = (l2 / l1) if l1 and l2 is not None else None
        results.append(entry)

    def fmt(v, unit):
        if v is None:
            return "-"
        return "%.1f" % v if unit == "MiB/s" else "%.0f" % v

    print()
    print("block throughput, median of %d round(s); queue depth 1" % max((r["round"] for r in rows), default=0))
    print("L1: blkbench on %s (%s), mode %s; L2: /dev/vda via nestbox virtio-blk (PCI), mode %s"
          % ("the image file in L1's /tmp", meta.get("l1_tmp_fs", "?"),
             ",".join(sorted(modes.get("L1", []))) or "-", ",".join(sorted(modes.get("L2", []))) or "-"))
    print()
    hdr = "%-10s %-6s %12s %12s %9s %14s %14s" % ("test", "unit", "L1", "L2", "L2/L1",
                                                  "L1 p50 lat us", "L2 p50 lat us")
    print(hdr)
    print("-" * len(hdr))
    for e in results:
        ratio = "-" if e["ratio_l2_l1"] is None else "%.3f" % e["ratio_l2_l1"]
        lat = ["-" if e[s]["lat_p50_us_median"] is None else "%.1f" % e[s]["lat_p50_us_median"]
               for s in ("L1", "L2")]
        print("%-10s %-6s %12s %12s %9s %14s %14s" % (e["test"], e["unit"], fmt(e["L1"]["median"], e["unit"]),
                                                     fmt(e["L2"]["median"], e["unit"]), ratio, lat[0], lat[1]))
    print()
    print("absolute figures are from QEMU TCG emulating the arm64 host: slow; compare the ratios")
    hl = json.loads(a.host_load)
    if hl.get("other_qemu_max"):
        print("other QEMUs ran on this %s-CPU machine during the run (mean %.2f, max %d; load average %.2f):"
              % (hl.get("host_cpus", "?"), hl["other_qemu_mean"], hl["other_qemu_max"], hl["loadavg1_mean"]))
        print("the L1 and L2 legs may have seen different contention; the ratios are noisier")

    kvm = kvm_rates(a.kvm, rows) if a.kvm else []
    if kvm:
        print()
        print("L1 KVM counters during the L2 tests (per L2 op, medians over rounds; sampled at")
        print("test boundaries seen by a 0.5 s poller in L1, so approximate):")
        print("%-10s %10s %10s %10s %10s %10s %12s" % ("test", "exits/op", "mmio_user", "mmio_kern",
                                                    "wfi/op", "wakeup/op", "halted %"))
        for k in kvm:
            print("%-10s %10s %10s %10s %10s %10s %12s" % (
                k["test"], *("-" if k.get(f) is None else "%.2f" % k[f] for f in
                             ("exits", "mmio_exit_user", "mmio_exit_kernel", "wfi_exit_stat", "halt_wakeup")),
                "-" if k.get("halted_pct") is None else "%.0f" % k["halted_pct"]))

    doc = {
        "benchmark": "bench/block",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": a.commit,
        "dirty": a.dirty == "true",
        "complete": a.complete == "true",
        "wall_s": a.wall_s,
        "meta": meta,
        "host_load": json.loads(a.host_load),
        "modes": {k: sorted(v) for k, v in modes.items()},
        "odirect_accepted_by_target": {k: sorted(v) for k, v in odirect.items()},
        "results": results,
        "l2_kvm_per_op": kvm,
        "raw": rows,
    }
    with open(a.json, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %s" % a.json)


if __name__ == "__main__":
    main()
