# lab: timeout=600
# virtio-blk behind nestbox's virtio-iommu with L2's own virtio_iommu
# driver in DMA-translated mode, strict and lazy: 8 MiB written and read
# back with a checksum that L1 finds in the image file.
want=$(yes nestbox-blk-pattern-0123456789 | head -c 8388608 | md5sum | cut -d' ' -f1)
img=/tmp/viommu.img
dd if=/dev/zero of=$img bs=1048576 count=16 2>/dev/null
run_vmm strict run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu virtio --disk "$img" --rng \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 iommu.strict=1 nbl2.run=viommu,blk-write nbl2.action=poweroff"
grep NBL2 /tmp/strict.out
expect_rc strict 0
expect_out strict "NBL2: run viommu rc=0"
expect_out strict "NBL2: iommu group .* type=DMA devices=0000:00:0"
expect_out strict "NBL2: run blk-write rc=0"
# The DMA really went through the vIOMMU: the guest mapped, nestbox
# translated, nothing faulted.
viommu_stats() { # name: "MAPS UNMAPS TRANSLATIONS FAULTS"
	sed -n 's/.*virtio-iommu: requests .* map=\([0-9]*\) unmap=\([0-9]*\) .*translations=\([0-9]*\); faults reported=\([0-9]*\).*/\1 \2 \3 \4/p' "/tmp/$1.err"
}
set -- $(viommu_stats strict)
echo "strict: map=$1 unmap=$2 translations=$3 faults=$4"
[ "${1:-0}" -gt 100 ] && [ "${2:-0}" -gt 100 ] && [ "${3:-0}" -ge "${1:-0}" ] ||
	fail "strict: too few MAP/UNMAP/translations for 8 MiB of I/O"
[ "$4" = 0 ] || fail "strict: $4 faults"
ok "strict: $1 MAPs, $2 UNMAPs, $3 translations, no fault"
got=$(head -c 8388608 $img | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "image file holds $got, guest wrote $want"
ok "strict: the image file holds what the guest wrote"

run_vmm lazy run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu virtio --disk "$img" \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 iommu.strict=0 nbl2.run=viommu,blk-verify nbl2.action=poweroff"
grep NBL2 /tmp/lazy.out
expect_rc lazy 0
expect_out lazy "NBL2: iommu group .* type=DMA-FQ"
expect_out lazy "NBL2: run blk-verify rc=0"
set -- $(viommu_stats lazy)
echo "lazy: map=$1 unmap=$2 translations=$3 faults=$4"
[ "${1:-0}" -gt 0 ] && [ "${3:-0}" -ge "${1:-0}" ] && [ "$4" = 0 ] ||
	fail "lazy: MAP/translation/fault counts are off"
ok "lazy: $1 MAPs, $2 UNMAPs, $3 translations, no fault"
