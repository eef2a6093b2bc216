#!/usr/bin/env python3
"""Tables and results.json for bench/smmu/run from the @@SMB lines.

Per run: the L2 VM's L1 KVM exits between L2's markers (per-VM debugfs
deltas), L2's I/O units (packets rx+tx, or completed reads) and nestbox's
IOMMU counters less those of the configuration's set-up run (round 0,
no I/O). Guest map/unmap pairs: virtio-iommu's UNMAP requests, exact; for
the SMMUv3 (where a map is a page-table write nobody sees) the same I/O's
pairs per unit under virtio-iommu in the same mode times this run's units.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from benchlib import (load_meta, load_runs, med, parse_report_args, spread,  # noqa: E402
                      write_json)

KSTATS = ["exits", "mmio_exit_user", "mmio_exit_kernel", "wfi_exit_stat",
          "hvc_exit_stat", "signal_exits"]
MODES = ["strict", "lazy"]


# Unlike benchlib.fmt: per-unit figures here are often well below one,
# so fewer digits from 10 up and rounding noise shown as zero.
def fmt(v, nd=2):
    if v is None:
        return "-"
    if abs(v) < 0.005:
        v = 0.0
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.{nd}f}"


def div(a, b):
    return a / b if a is not None and b else None


def ratio(a, b):
    """a/b when both are measurably above zero (not of rounding noise)."""
    if a is None or b is None or b < 0.01 or a < 0:
        return None
    return a / b


def kvm_delta(r, key):
    b, e = r.get("kvm_begin") or {}, r.get("kvm_end") or {}
    b, e = b.get("vm") or {}, e.get("vm") or {}
    if key not in b or key not in e:
        return None
    return e[key] - b[key]


def units(r):
    io = r.get("io") or {}
    if r["set"] == "nic":
        if "rx_packets" not in io:
            return None
        return io["rx_packets"] + io["tx_packets"]
    return io.get("reads")


def minus(r, base, group, key):
    v = (r.get(group) or {}).get(key)
    if v is None:
        return None
    b = ((base or {}).get(group) or {}).get(key, 0)
    return v - b


def run_figures(r, base):
    f = {"units": units(r)}
    for k in KSTATS:
        f[k] = kvm_delta(r, k)
    # What is left: host interrupts taken while L2 ran (the vCPU thread
    # preempted, IPIs), system register traps, aborts other than MMIO.
    parts = [f[k] for k in ("mmio_exit_user", "mmio_exit_kernel", "wfi_exit_stat",
                            "hvc_exit_stat")]
    f["other_exits"] = (f["exits"] - sum(p or 0 for p in parts)
                        if f["exits"] is not None else None)
    for k in ("map", "unmap"):
        f["viommu_" + k] = minus(r, base, "viommu", k)
    for k in ("commands", "tlbi", "cfgi", "sync", "walks", "translations"):
        f["smmu_" + k] = minus(r, base, "smmu", k)
    for k in ("commands", "ioctls", "failed"):
        f["nest_" + k] = minus(r, base, "nest", k)
    for k in ("maps", "unmaps"):
        f["ioas_" + k] = minus(r, base, "ioas", k)
    bb = (r.get("io") or {}).get("blkbench") or {}
    if "iops" in bb:
        f["iops"] = bb["iops"]
    f["wall_s"] = r.get("wall_s")
    return f


def main():
    a = parse_report_args()
    runs = load_runs(a.raw)
    meta = load_meta(a.meta)
    failed = [r for r in runs if not r.get("ok")]
    base = {(r["set"], r["iommu"], r["mode"]): r for r in runs
            if r["round"] == 0 and r.get("ok")}

    per = {}
    for r in runs:
        if r["round"] == 0 or not r.get("ok"):
            continue
        key = (r["set"], r["iommu"], r["mode"])
        per.setdefault(key, []).append(
            dict(run_figures(r, base.get(key)), round=r["round"]))

    out = {"meta": meta, "commit": a.commit, "worktree": a.worktree == "1",
           "wall_s": a.wall_s, "host": a.host, "complete": a.complete == "true",
           "failed_runs": len(failed), "sets": {}}
    for s in ("nic", "blk"):
        if not any(k[0] == s for k in per):
            continue
        unit = "packet (rx+tx)" if s == "nic" else "4 KiB read"
        none = per.get((s, "none", "none"), [])
        none_exits = med([div(f["exits"], f["units"]) for f in none])
        none_user = med([div(f["mmio_exit_user"], f["units"]) for f in none])
        none_other = med([div(f["other_exits"], f["units"]) for f in none])
        cfgs = {}
        for m in MODES:
            vir = per.get((s, "virtio", m), [])
            pairs_per_unit = med([div(f["viommu_unmap"], f["units"]) for f in vir])
            for im in ("virtio", "smmuv3"):
                fs = per.get((s, im, m), [])
                if not fs:
                    continue
                rows = []
                for f in fs:
                    u = f["units"]
                    if im == "virtio":
                        pairs = f["viommu_unmap"]
                    else:
                        pairs = pairs_per_unit * u if pairs_per_unit and u else None
                    x = {
                        "units": u,
                        "pairs": pairs,
                        "exits_per_unit": div(f["exits"], u),
                        "user_exits_per_unit": div(f["mmio_exit_user"], u),
                        "kernel_mmio_per_unit": div(f["mmio_exit_kernel"], u),
                        "exits_per_pair": div(f["exits"], pairs),
                        "user_exits_per_pair": div(f["mmio_exit_user"], pairs),
                        "kernel_mmio_per_pair": div(f["mmio_exit_kernel"], pairs),
                        "extra_other_exits_per_pair": div(
                            f["other_exits"] - none_other * u, pairs)
                        if none_other is not None and f["other_exits"] is not None and u else None,
                        "extra_exits_per_pair": div(
                            f["exits"] - none_exits * u, pairs)
                        if none_exits is not None and f["exits"] is not None and u else None,
                        "extra_user_exits_per_pair": div(
                            f["mmio_exit_user"] - none_user * u, pairs)
                        if none_user is not None and f["mmio_exit_user"] is not None and u else None,
                        "viommu_requests_per_pair": div(
                            (f["viommu_map"] or 0) + (f["viommu_unmap"] or 0), pairs)
                        if im == "virtio" else None,
                        "maps_per_unit": div(f["viommu_map"], u) if im == "virtio" else None,
                        "unmaps_per_unit": div(f["viommu_unmap"], u) if im == "virtio" else None,
                        "tlbi_per_unit": div(f["smmu_tlbi"], u),
                        "sync_per_unit": div(f["smmu_sync"], u),
                        "tlbi_per_pair": div(f["smmu_tlbi"], pairs) if im == "smmuv3" else None,
                        "sync_per_pair": div(f["smmu_sync"], pairs) if im == "smmuv3" else None,
                        "walks_per_unit": div(f["smmu_walks"], u) if im == "smmuv3" else None,
                        "extra_user_exits_per_sync": div(
                            f["mmio_exit_user"] - none_user * u, f["smmu_sync"])
                        if im == "smmuv3" and none_user is not None and u
                        and f["mmio_exit_user"] is not None else None,
                        "hwpt_invalidate_ioctls": f["nest_ioctls"],
                        "commands_per_ioctl": div(f["nest_commands"], f["nest_ioctls"]),
                        "ioctls_per_pair": div(f["nest_ioctls"], pairs)
                        if f["nest_ioctls"] is not None else None,
                        "ioas_unmaps_per_pair": div(f["ioas_unmaps"], pairs)
                        if f["ioas_unmaps"] is not None else None,
                        "iops": f.get("iops"),
                    }
                    rows.append(x)
                cfgs[f"{im}-{m}"] = {
                    "runs": fs,
                    "figures": {k: spread([x[k] for x in rows]) for k in rows[0]},
                }
        cfgs["none"] = {"runs": none, "figures": {
            "exits_per_unit": spread([div(f["exits"], f["units"]) for f in none]),
            "user_exits_per_unit": spread([div(f["mmio_exit_user"], f["units"]) for f in none]),
            "kernel_mmio_per_unit": spread([div(f["mmio_exit_kernel"], f["units"]) for f in none]),
            "other_exits_per_unit": spread([div(f["other_exits"], f["units"]) for f in none]),
            "units": spread([f["units"] for f in none]),
            "iops": spread([f.get("iops") for f in none]),
        }}
        ratios = {}
        for m in MODES:
            v = cfgs.get(f"virtio-{m}", {}).get("figures", {})
            n = cfgs.get(f"smmuv3-{m}", {}).get("figures", {})
            for k in ("exits_per_pair", "user_exits_per_pair", "extra_exits_per_pair",
                      "extra_user_exits_per_pair", "exits_per_unit", "user_exits_per_unit"):
                vv, nn = (v.get(k) or {}).get("median"), (n.get(k) or {}).get("median")
                ratios[f"{k}_{m}"] = ratio(nn, vv)
        out["sets"][s] = {"unit": unit, "configs": cfgs, "smmuv3_over_virtio": ratios}

        title = ("assigned e1000e (--vfio): virtio-iommu vs nested SMMUv3"
                 if s == "nic" else "virtio-blk: virtio-iommu vs emulated SMMUv3")
        print(f"\n### {title}\n")
        print("Medians of %s rounds; per %s and per guest map+unmap pair." % (
            meta.get("runs", "?"), unit))
        cols = ["none"] + [f"{im}-{m}" for m in MODES for im in ("virtio", "smmuv3")]
        hdr = ["figure", "none", "virtio strict", "smmuv3 strict", "ratio",
               "virtio lazy", "smmuv3 lazy", "ratio"]
        print("\n| " + " | ".join(hdr) + " |")
        print("| --- |" + " ---: |" * (len(hdr) - 1))
        names = [
            ("units", f"{unit}s in the window"),
            ("pairs", "guest map+unmap pairs (smmuv3: est. from virtio's per unit)"),
            ("exits_per_unit", f"L1 KVM exits per {unit}"),
            ("user_exits_per_unit", f"exits to nestbox (MMIO user) per {unit}"),
            ("exits_per_pair", "L1 KVM exits per pair"),
            ("extra_exits_per_pair", "L1 KVM exits per pair beyond no-IOMMU"),
            ("user_exits_per_pair", "exits to nestbox per pair"),
            ("extra_user_exits_per_pair", "exits to nestbox per pair beyond no-IOMMU"),
            ("kernel_mmio_per_pair", "in-kernel MMIO exits (ioeventfd) per pair"),
            ("extra_other_exits_per_pair",
             "other exits (host IRQs, traps) per pair beyond no-IOMMU"),
            ("viommu_requests_per_pair", "virtio-iommu requests per pair"),
            ("tlbi_per_pair", "TLBI commands per pair"),
            ("sync_per_pair", "CMD_SYNCs per pair"),
            ("extra_user_exits_per_sync", "exits to nestbox beyond no-IOMMU per CMD_SYNC"),
            ("hwpt_invalidate_ioctls", "HWPT_INVALIDATE ioctls"),
            ("commands_per_ioctl", "commands per HWPT_INVALIDATE ioctl"),
            ("ioctls_per_pair", "HWPT_INVALIDATE ioctls per pair"),
            ("ioas_unmaps_per_pair", "IOAS unmaps (L1 iommufd) per pair"),
            ("walks_per_unit", f"nestbox table walks per {unit}"),
            ("iops", "IOPS (TCG, not comparable to hardware)"),
        ]
        for k, label in names:
            vals = []
            for c in cols:
                fig = (cfgs.get(c, {}).get("figures") or {}).get(k)
                vals.append(fig["median"] if fig else None)
            if all(v is None for v in vals):
                continue
            rv = [ratio(vals[2], vals[1]), ratio(vals[4], vals[3])]
            cells = [fmt(vals[0]), fmt(vals[1]), fmt(vals[2]), fmt(rv[0]),
                     fmt(vals[3]), fmt(vals[4]), fmt(rv[1])]
            if k in ("units", "pairs", "hwpt_invalidate_ioctls", "viommu_requests_per_pair",
                     "tlbi_per_pair", "sync_per_pair", "commands_per_ioctl",
                     "ioctls_per_pair", "ioas_unmaps_per_pair", "walks_per_unit", "iops",
                     "extra_user_exits_per_sync"):
                cells[3] = cells[6] = ""
            print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\nruns failed: {len(failed)}; complete: {a.complete}; wall {a.wall_s} s; {a.host}")
    write_json(a.json, out, sort_keys=True)
    print(f"results: {a.json}")


if __name__ == "__main__":
    main()
