#!/usr/bin/env python3
"""Table and results.json for bench/vfio/run from the @@VFB lines."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from benchlib import (fmt, load_meta, load_runs, parse_report_args, ratio,  # noqa: E402
                      spread, write_json)

DIRS = ("tx", "rx")
# Exits to userspace that arm64 KVM counts per vCPU: MMIO it cannot handle
# in the kernel, and KVM_RUN returning for a signal. (PSCI SYSTEM_OFF and
# the like happen once per VM and have no counter.)
USER_EXIT_STATS = ("mmio_exit_user", "signal_exits")


def vm_delta(r, d, key):
    k = r.get("kvm") or {}
    b, e = k.get("begin_" + d) or {}, k.get("end_" + d) or {}
    if key in ("l1_vfio_irqs", "l1_peer_irqs", "global_exits"):
        bv, ev = b.get(key), e.get(key)
    else:
        bv, ev = (b.get("vm") or {}).get(key), (e.get("vm") or {}).get(key)
    return ev - bv if bv is not None and ev is not None else None


def completed(r, d):
    """Both ends of transfer d reported: a run's other transfer may not have."""
    side = r.get("side_" + d) or {}
    return bool(side.get("tcp") and r.get("l1_" + d))


def figures(r, d):
    """One transfer (direction d) of one run."""
    side = r.get("side_" + d) or {}
    # The receiver's clock: NIC B's (L1) for tx, NIC A's side for rx.
    recv = r.get("l1_tx") if d == "tx" else side.get("tcp")
    f = {"mb_s": recv.get("mb_s") if recv else None,
         "bytes": recv.get("bytes") if recv else None,
         "secs": recv.get("secs") if recv else None,
         "irqs": side.get("irqs")}
    f["irqs_per_mib"] = (f["irqs"] / (f["bytes"] / 1048576)
                         if f["irqs"] is not None and f["bytes"] else None)
    if r["mode"] == "l2":
        parts = [vm_delta(r, d, k) for k in USER_EXIT_STATS]
        f.update({k: v for k, v in zip(USER_EXIT_STATS, parts)})
        f["user_exits"] = None if None in parts else sum(parts)
        f["exits"] = vm_delta(r, d, "exits")
        f["l1_vfio_irqs"] = vm_delta(r, d, "l1_vfio_irqs")
        f["irqs_per_user_exit"] = ratio(f["irqs"], f["user_exits"])
        f["user_exits_per_irq"] = ratio(f["user_exits"], f["irqs"])
        f["exits_per_irq"] = ratio(f["exits"], f["irqs"])
    return f


def main():
    a = parse_report_args()

    runs = load_runs(a.raw)
    meta = load_meta(a.meta)
    failed = [f'{r["mode"]} round {r["round"]}' for r in runs if not r.get("ok")]
    per = {m: {d: [figures(r, d) for r in runs if r["mode"] == m and completed(r, d)]
               for d in DIRS} for m in ("l1", "l2")}
    incomplete = [f'{r["mode"]} {d} round {r["round"]}' for r in runs for d in DIRS
                  if not completed(r, d)]
    keys = ("mb_s", "irqs", "irqs_per_mib", "user_exits", "mmio_exit_user",
            "signal_exits", "exits", "l1_vfio_irqs", "irqs_per_user_exit",
            "user_exits_per_irq", "exits_per_irq")
    summary = {m: {d: {k: spread([f.get(k) for f in per[m][d]]) for k in keys}
                   for d in DIRS} for m in per}

    def m(mode, d, k):
        s = summary[mode][d][k]
        return s["median"] if s else None

    mib = (meta.get("bytes") or 0) / 1048576
    print(f"PCI device assignment: e1000e NIC A in L1 vs assigned to L2 "
          f"(nestbox --vfio), TCP {mib:.0f} MiB each way against NIC B in L1")
    print(f"medians of the completed transfers (tx: {len(per['l1']['tx'])} L1 / "
          f"{len(per['l2']['tx'])} L2, rx: {len(per['l1']['rx'])} / {len(per['l2']['rx'])}); "
          f"NIC A TSO {meta.get('tso', 'on')}; L1 {meta.get('l1_kernel', '?')}, "
          f"L2 {meta.get('l2', '?')}, QEMU TCG")
    print()
    print("| figure | dir | NIC A in L1 | NIC A in L2 | L2/L1 |")
    print("| --- | --- | ---: | ---: | ---: |")
    for d in DIRS:
        a1, a2 = m("l1", d, "mb_s"), m("l2", d, "mb_s")
        print(f"| throughput (MB/s) | {d} | {fmt(a1)} | {fmt(a2)} | {fmt(ratio(a2, a1))} |")
    for d in DIRS:
        a1, a2 = m("l1", d, "irqs_per_mib"), m("l2", d, "irqs_per_mib")
        print(f"| NIC A MSI-X interrupts per MiB | {d} | {fmt(a1, 1)} | {fmt(a2, 1)} | {fmt(ratio(a2, a1))} |")
    print()
    print("Assigned NIC (L2), per transfer: interrupts in L2 vs exits of the nestbox VM (L1 KVM debugfs)")
    print()
    print("| dir | L2 MSI-X irqs | L1 vfio-msix irqs | exits to userspace (mmio_exit_user + signal_exits) "
          "| user exits per irq | all exits | all exits per irq |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for d in DIRS:
        print(f"| {d} | {fmt(m('l2', d, 'irqs'), 0)} | {fmt(m('l2', d, 'l1_vfio_irqs'), 0)} "
              f"| {fmt(m('l2', d, 'user_exits'), 0)} ({fmt(m('l2', d, 'mmio_exit_user'), 0)} + "
              f"{fmt(m('l2', d, 'signal_exits'), 0)}) | {fmt(m('l2', d, 'user_exits_per_irq'), 4)} "
              f"| {fmt(m('l2', d, 'exits'), 0)} | {fmt(m('l2', d, 'exits_per_irq'), 2)} |")
    print()
    print("Per run (round mode dir: MB/s, irqs, user exits, all exits):")
    for r in runs:
        for d in DIRS:
            f = figures(r, d)
            def n(v):
                return "-" if v is None else v
            print(f"  {r['round']} {r['mode']} {d}: {fmt(f['mb_s'])} MB/s, {n(f['irqs'])} irqs, "
                  f"user exits {n(f.get('user_exits'))}, exits {n(f.get('exits'))}"
                  f"{'' if completed(r, d) else ' (did not complete)'}")
    if failed:
        print(f"\nfailed runs: {', '.join(failed)}; transfers that did not complete: "
              f"{', '.join(incomplete)}")
    vm_stats = sorted({k for r in runs for b in (r.get("kvm") or {}).values()
                       if b for k in (b.get("vm") or {})})
    result = {
        "benchmark": "bench/vfio",
        "commit": a.commit,
        "worktree": a.worktree == "1",
        "complete": a.complete == "true",
        "wall_s": a.wall_s,
        "host": a.host,
        "meta": meta,
        "failed": failed,
        "incomplete_transfers": incomplete,
        "kvm_vm_stats_seen": vm_stats,
        "summary": summary,
        "ratio_l2_l1_mb_s": {d: ratio(m("l2", d, "mb_s"), m("l1", d, "mb_s")) for d in DIRS},
        "runs": runs,
    }
    write_json(a.json, result)


if __name__ == "__main__":
    main()
