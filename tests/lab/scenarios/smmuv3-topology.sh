# lab: timeout=900
# Who sits behind nestbox's emulated SMMUv3, as L2's arm-smmu-v3 driver
# sees it: virtio-net (ping and 4 MiB each way with checksums, L2 in strict
# DMA mode) and virtio-rng on PCI; a virtio-mmio disk reached through its
# "iommus" StreamID; two functions behind the PCIe-to-PCI bridge whose DMA
# carries the bridge's requester ID (one StreamID, one IOMMU group; Linux's
# driver refuses the second master on it, see below); and a device left
# out with iommu=off, which has no group and still works.
dd if=/dev/zero of=/tmp/t.img bs=1048576 count=16 2>/dev/null
smmu_stats() { # name: "ERRORS TRANSLATIONS WALKS FAULTS EVENTS"
	sed -n 's/.*smmuv3: .* errors=\([0-9]*\); translations=\([0-9]*\) tlb-hits=[0-9]* walks=\([0-9]*\) faults=\([0-9]*\); events=\([0-9]*\).*/\1 \2 \3 \4 \5/p' "/tmp/$1.err"
}
# clean NAME: nestbox translated for the guest, with no error or fault.
clean() {
	set -- "$1" $(smmu_stats "$1")
	echo "$1: errors=$2 translations=$3 walks=$4 faults=$5 events=$6"
	[ "${3:-0}" -gt 0 ] && [ "${4:-0}" -gt 0 ] ||
		fail "$1: the SMMU translated nothing (translations=${3:-?} walks=${4:-?})"
	[ "$2" = 0 ] && [ "$5" = 0 ] && [ "$6" = 0 ] ||
		fail "$1: command errors=$2 faults=$5 events=$6, expected none"
	ok "$1: $3 translations through L2's tables, no error, fault or event"
}
group_of() { # name bdf-or-mmio-pattern
	sed -n "s/^NBL2: $2 .*group=\([0-9a-z]*\)\$/\1/p" "/tmp/$1.out" | head -1
}
l2() { # name nbl2-runs nestbox-args...
	n=$1 r=$2
	shift 2
	run_vmm "$n" run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
		--memory 256M --iommu smmuv3 "$@" \
		--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 iommu.strict=1 nbl2.run=$r nbl2.action=poweroff"
	grep NBL2 "/tmp/$n.out"
	expect_rc "$n" 0
}

# ---- virtio-net and virtio-rng on PCI, strict DMA mode ----
mkdir -p /tmp/www
yes nestbox-net-pattern-down | head -c 4194304 >/tmp/www/data
down=$(md5sum </tmp/www/data | cut -d' ' -f1)
up=$(yes nestbox-net-pattern-up | head -c 4194304 | md5sum | cut -d' ' -f1)
net_vmm net "$up" 400 -v --kernel "$L2_LAB_KERNEL" \
	--initrd "$L2_LAB_INITRD" --memory 256M --iommu smmuv3 \
	--net tap=nbtap0 --rng \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 iommu.strict=1 nbl2.run=smmu,viommu-groups,net,rng nbl2.action=poweroff"
grep NBL2 /tmp/net.out
expect_rc net 0
expect_out net "NBL2: run smmu rc=0"
expect_out net "NBL2: iommu group .* type=DMA devices=0000:00:0"
expect_out net "NBL2: net ping ok"
expect_out net "NBL2: net rx sum=$down"
expect_out net "NBL2: net tx acked $up"
expect_out net "NBL2: run net rc=0"
expect_out net "NBL2: run rng rc=0"
expect_err net "virtio-net.* is behind the SMMUv3"
expect_err net "virtio-rng.* is behind the SMMUv3"
gn=$(sed -n 's/^NBL2: pci .* device=0x1041 group=\([0-9a-z]*\)$/\1/p' /tmp/net.out)
gr=$(sed -n 's/^NBL2: pci .* device=0x1044 group=\([0-9a-z]*\)$/\1/p' /tmp/net.out)
case "$gn$gr" in *none* | "") fail "net: net in group '$gn', rng in group '$gr'" ;; esac
[ "$gn" != "$gr" ] || fail "net: net and rng share group $gn"
ok "net: virtio-net in group $gn, virtio-rng in group $gr"
clean net

# ---- a virtio-mmio disk behind the SMMU (iommus), and a PCI rng ----
l2 mmio smmu,viommu-groups,blk-write,rng --disk /tmp/t.img,transport=mmio --rng
expect_out mmio "NBL2: run smmu rc=0"
expect_out mmio "NBL2: mmio .*virtio_mmio group=[0-9]"
expect_out mmio "NBL2: pci .* device=0x1044 group=[0-9]"
expect_out mmio "NBL2: run blk-write rc=0"
expect_out mmio "NBL2: run rng rc=0"
expect_err mmio "virtio-blk.* is behind the SMMUv3"
clean mmio

# ---- two functions behind the PCIe-to-PCI bridge: one alias ----
# Both carry the bridge's requester ID 0x100 (bus 1, devfn 0), so one
# StreamID: the device tree's iommu-map gives Linux both aliases and its
# pci_device_group puts the bridge and 01:00.0 in one group. Linux's
# arm-smmu-v3 refuses a StreamID shared by two masters, so 01:01.0 (the
# rng) is left without an IOMMU and its DMA, on StreamID 0x100 as on real
# hardware, faults in 01:00.0's domain: L2 must not wait for its entropy.
L2_TIMEOUT=150 l2 bridge smmu-bridge,blk-verify --disk /tmp/t.img,bus=bridge --rng=bridge
expect_out bridge "NBL2: run blk-verify rc=0"
g0=$(group_of bridge "pci 0000:00:01.0")
g1=$(group_of bridge "pci 0000:01:00.0")
case "$g1" in "" | none) fail "bridge: 01:00.0 has no IOMMU group" ;; esac
[ "$g0" = "$g1" ] ||
	fail "bridge: the bridge in group '$g0', 01:00.0 in group '$g1'"
ok "bridge: the bridge and 01:00.0 share IOMMU group $g1 (the alias)"
expect_out bridge "NBL2: dmesg: .*0000:01:01.0: Aliasing StreamID 0x100 (from 0000:01:00.0)"
expect_out bridge "NBL2: pci 0000:01:01.0 .* group=none"
expect_out bridge "NBL2: dmesg: .*event: F_TRANSLATION client: 0000:01:00.0 sid: 0x100 "
set -- $(smmu_stats bridge)
[ "${1:-x}" = 0 ] && [ "${2:-0}" -gt 0 ] && [ "${4:-0}" -ge 1 ] ||
	fail "bridge: errors=${1:-?} translations=${2:-?} faults=${4:-?}"
ok "bridge: $2 translations on StreamID 0x100, $4 faults of the refused function, no command error"

# ---- iommu=off: out of the SMMU's reach, no group, still working ----
l2 optout smmu,viommu-groups,blk-verify,rng --disk /tmp/t.img --rng=pci,iommu=off
expect_out optout "NBL2: pci .* device=0x1042 group=[0-9]"
expect_out optout "NBL2: pci .* device=0x1044 group=none"
expect_out optout "NBL2: run blk-verify rc=0"
expect_out optout "NBL2: run rng rc=0"
grep -q "virtio-rng.* is behind the SMMUv3" /tmp/optout.err &&
	fail "optout: nestbox put the iommu=off rng behind the SMMU"
ok "optout: the rng is not behind the SMMU"
clean optout
