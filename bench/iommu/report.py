#!/usr/bin/env python3
"""Tables and results.json for bench/iommu/run from the @@IOB lines."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from benchlib import (fmt, load_meta, load_runs, parse_report_args, ratio,  # noqa: E402
                      spread, write_json)

KSTATS = ["exits", "mmio_exit_user", "mmio_exit_kernel", "wfi_exit_stat"]


def kvm_delta(r, key):
    b, e = r.get("kvm_begin"), r.get("kvm_end")
    if not b or not e or key not in b or key not in e:
        return None
    return e[key] - b[key]


def dma_figures(r, base):
    """Requests of the bench loops: this run minus the setup-only run."""
    s, b, v = r.get("single"), r.get("batched"), r.get("viommu")
    if not s or not v:
        return None
    f = {"pairs_per_s": s["per_s"], "pairs": s["n"], "single_secs": s["secs"]}
    if base and base.get("viommu"):
        f["map"] = v["map"] - base["viommu"]["map"]
        f["unmap"] = v["unmap"] - base["viommu"]["unmap"]
    else:
        f["map"], f["unmap"] = v["map"], v["unmap"]
    # The marker window holds the setup's few requests too: divide by all.
    d = kvm_delta(r, "exits")
    req = v["map"] + v["unmap"]
    f["exits_per_request"] = d / req if d is not None and req else None
    du = kvm_delta(r, "mmio_exit_user")
    f["mmio_user_per_request"] = du / req if du is not None and req else None
    # One page mapped then unmapped is one MAP and one UNMAP request
    # (virtio-iommu 1.2, 5.13.6.6/5.13.6.7); whatever is left over belongs
    # to the batched loop.
    f["single_requests_per_s"] = 2 * s["per_s"]
    if b:
        rounds = b["rounds"]
        f.update(pages_per_s=b["per_s"], batch_rounds=rounds,
                 batch_pages=b["pages"], batch_secs=b["secs"])
        bm, bu = f["map"] - s["n"], f["unmap"] - s["n"]
        f["batch_map_per_round"] = bm / rounds
        f["batch_unmap_per_round"] = bu / rounds
        f["batch_requests_per_s"] = (bm + bu) / b["secs"]
    return f


def blk_figures(r):
    blk, v = r.get("blk"), r.get("viommu")
    if not blk or not blk.get("ops"):
        return None
    ops = blk["ops"]
    f = {"iops": blk["iops"], "ops": ops, "p50_us": blk["lat_us"]["p50"]}
    for k in KSTATS:
        d = kvm_delta(r, k)
        f[k + "_per_io"] = d / ops if d is not None else None
    vda = r.get("vda_stat") or []
    ios = vda[0] + vda[4] if len(vda) >= 5 else None
    f["disk_requests"] = ios
    if v and ios:
        for k in ("map", "unmap", "translations"):
            f[k + "_per_io"] = v[k] / ios
            f[k] = v[k]
    return f


def main():
    a = parse_report_args()

    runs = load_runs(a.raw)
    meta = load_meta(a.meta)
    failed = [f'{r["vmm"]} {r["mode"]} {r["test"]} round {r["round"]}'
              for r in runs if not r.get("ok")]
    base = next((r for r in runs if r["test"] == "dma" and r["round"] == 0), None)

    dma = [f for f in (dma_figures(r, base) for r in runs
                       if r["test"] == "dma" and r["round"] > 0) if f]
    dma_sum = {k: spread([f.get(k) for f in dma]) for k in
               ("pairs_per_s", "single_requests_per_s", "pages_per_s",
                "batch_requests_per_s", "map", "unmap",
                "batch_map_per_round", "batch_unmap_per_round",
                "exits_per_request", "mmio_user_per_request")}

    blk = {}
    for r in runs:
        if r["test"] != "blk":
            continue
        f = blk_figures(r)
        if f:
            blk.setdefault((r["vmm"], r["mode"]), []).append(f)
    keys = ["iops", "p50_us"] + [k + "_per_io" for k in KSTATS] + \
        ["map_per_io", "unmap_per_io", "translations_per_io"]
    blk_sum = {}
    for (vmm, mode), fs in blk.items():
        blk_sum.setdefault(vmm, {})[mode] = {
            k: spread([f.get(k) for f in fs]) for k in keys}

    def m(vmm, mode, k):
        s = blk_sum.get(vmm, {}).get(mode, {}).get(k)
        return s["median"] if s else None

    print()
    print(f"virtio-iommu, commit {a.commit[:12]}, {meta.get('runs', '?')} rounds, "
          f"L1 {meta.get('l1_kernel', '?')}, L2 {meta.get('l2', '?')}; "
          f"medians over rounds; wall {a.wall_s} s")
    print()
    print("MAP/UNMAP throughput (viommu-dma --bench in L2 behind nestbox):")
    print()
    print("| figure | median | min - max |")
    print("| --- | ---: | --- |")
    rows = [("single map+unmap pairs/s (1 page)", "pairs_per_s"),
            ("  = requests/s (1 MAP + 1 UNMAP per pair)", "single_requests_per_s"),
            (f"batched pages/s ({dma[0]['batch_pages'] if dma else '?'} pages per map)", "pages_per_s"),
            ("  batched requests/s (nestbox's count)", "batch_requests_per_s"),
            ("  MAP requests per batched map", "batch_map_per_round"),
            ("  UNMAP requests per batched unmap", "batch_unmap_per_round"),
            ("nestbox MAP requests of the bench loops", "map"),
            ("nestbox UNMAP requests of the bench loops", "unmap"),
            ("L1 KVM exits per MAP/UNMAP request", "exits_per_request"),
            ("  of which MMIO exits to userspace", "mmio_user_per_request")]
    for label, k in rows:
        s = dma_sum.get(k)
        print(f"| {label} | {fmt(s and s['median'])} | "
              f"{fmt(s and s['min'])} - {fmt(s and s['max'])} |" if s else f"| {label} | - | - |")
    print()
    print("Per 4 KiB O_DIRECT random read in L2 (queue depth 1):")
    print()
    print("| VMM | IOMMU | IOPS | exits/IO | MMIO user/IO | MMIO kernel/IO "
          "| WFI/IO | MAP/IO | UNMAP/IO | translations/IO | exits vs none "
          "| IOPS vs none |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    ratios = {}
    for vmm in ("nestbox", "qemu"):
        for mode in ("none", "strict", "lazy"):
            if mode not in blk_sum.get(vmm, {}):
                continue
            re_ = ratio(m(vmm, mode, "exits_per_io"), m(vmm, "none", "exits_per_io"))
            ri = ratio(m(vmm, mode, "iops"), m(vmm, "none", "iops"))
            if mode != "none":
                ratios.setdefault(vmm, {})[f"{mode}/none"] = {
                    "exits_per_io": re_, "iops": ri}
            print(f"| {vmm} | {mode} | {fmt(m(vmm, mode, 'iops'), 0)} | "
                  f"{fmt(m(vmm, mode, 'exits_per_io'))} | "
                  f"{fmt(m(vmm, mode, 'mmio_exit_user_per_io'))} | "
                  f"{fmt(m(vmm, mode, 'mmio_exit_kernel_per_io'))} | "
                  f"{fmt(m(vmm, mode, 'wfi_exit_stat_per_io'))} | "
                  f"{fmt(m(vmm, mode, 'map_per_io'))} | "
                  f"{fmt(m(vmm, mode, 'unmap_per_io'))} | "
                  f"{fmt(m(vmm, mode, 'translations_per_io'))} | "
                  f"{fmt(re_) if mode != 'none' else ''} | "
                  f"{fmt(ri) if mode != 'none' else ''} |")
    if "qemu" not in blk_sum:
        print("\n(no QEMU peer figures in this run)")
    if failed:
        print("\nfailed runs: " + ", ".join(failed))
    print()

    res = {"what": "bench/iommu/run: nestbox virtio-iommu", "commit": a.commit,
           "worktree": a.worktree == "1", "wall_s": a.wall_s, "host": a.host,
           "complete": a.complete == "true", "failed": failed, "meta": meta,
           "dma": dma_sum, "blk": blk_sum, "ratios": ratios,
           "dma_setup_run": base, "runs": runs}
    write_json(a.json, res)


if __name__ == "__main__":
    main()
