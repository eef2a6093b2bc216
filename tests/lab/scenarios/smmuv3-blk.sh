# lab: timeout=600
# virtio-blk and virtio-rng behind nestbox's emulated SMMUv3, driven by
# L2's own arm-smmu-v3 driver in DMA-translated mode (strict and lazy),
# with MSIs and with wired interrupts: 8 MiB written and read back with a
# checksum that L1 finds in the image file, nestbox walking L2's stage-1
# tables and L2's TLBI commands invalidating its TLB.
want=$(yes nestbox-blk-pattern-0123456789 | head -c 8388608 | md5sum | cut -d' ' -f1)
img=/tmp/smmu.img
dd if=/dev/zero of=$img bs=1048576 count=16 2>/dev/null
smmu_stats() { # name: "COMMANDS TLBI SYNC ERRORS TRANSLATIONS WALKS FAULTS"
	sed -n 's/.*smmuv3: commands=\([0-9]*\) (tlbi=\([0-9]*\) cfgi=[0-9]* sync=\([0-9]*\)) errors=\([0-9]*\); translations=\([0-9]*\) tlb-hits=[0-9]* walks=\([0-9]*\) faults=\([0-9]*\).*/\1 \2 \3 \4 \5 \6 \7/p' "/tmp/$1.err"
}
run_vmm strict run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu smmuv3 --disk "$img" --rng \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 iommu.strict=1 nbl2.run=smmu,blk-write,rng nbl2.action=poweroff"
grep NBL2 /tmp/strict.out
expect_rc strict 0
expect_out strict "NBL2: run smmu rc=0"
expect_out strict "NBL2: iommu group .* type=DMA devices=0000:00:0"
expect_out strict "NBL2: run blk-write rc=0"
expect_out strict "NBL2: run rng rc=0"
set -- $(smmu_stats strict)
echo "strict: commands=$1 tlbi=$2 sync=$3 errors=$4 translations=$5 walks=$6 faults=$7"
[ "${2:-0}" -gt 100 ] && [ "${6:-0}" -gt 100 ] && [ "${5:-0}" -gt 100 ] ||
	fail "strict: too few TLBIs/walks for 8 MiB of I/O"
[ "$4" = 0 ] && [ "$7" = 0 ] || fail "strict: $4 command errors, $7 faults"
ok "strict: $2 TLBIs, $6 table walks, $5 translations, no error or fault"
got=$(head -c 8388608 $img | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "image file holds $got, guest wrote $want"
ok "strict: the image file holds what the guest wrote"

run_vmm wired run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu smmuv3,irq=wired --disk "$img" \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 iommu.strict=0 nbl2.run=smmu,blk-verify nbl2.action=poweroff"
grep NBL2 /tmp/wired.out
expect_rc wired 0
expect_out wired "NBL2: iommu group .* type=DMA-FQ"
expect_out wired "NBL2: irq: .*GICv3 *12[89] Edge"
expect_out wired "NBL2: run blk-verify rc=0"
set -- $(smmu_stats wired)
echo "wired: commands=$1 tlbi=$2 sync=$3 errors=$4 translations=$5 walks=$6 faults=$7"
[ "${6:-0}" -gt 0 ] && [ "$4" = 0 ] && [ "$7" = 0 ] ||
	fail "wired: walk/error/fault counts are off"
ok "wired: $6 walks, no error or fault"
