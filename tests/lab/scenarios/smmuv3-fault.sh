# lab: timeout=300
# A DMA to an unmapped IOVA behind nestbox's SMMUv3: L2 drives its
# virtio-rng from userspace through VFIO and iommufd on L2's arm-smmu-v3
# driver, unmaps the buffer, posts it again. nestbox's stage-1 walk finds
# no mapping, fails that request (used length 0) and records F_TRANSLATION
# in L2's event queue, which L2's driver logs with the IOVA. Handed back to
# the kernel's virtio_rng afterwards, the device still delivers entropy.
run_vmm fault run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu smmuv3 --rng \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 iommu.strict=1 nbl2.run=smmu-fault nbl2.action=poweroff"
grep -E 'NBL2|viommu-dma' /tmp/fault.out
expect_rc fault 0
expect_out fault "viommu-dma: rng read 4096 bytes through IOVA 0x200000"
expect_out fault "viommu-dma: after unmap: used.len=0 "
grep -q "the unmapped page was written anyway" /tmp/fault.out &&
	fail "fault: the device wrote the unmapped page (stale TLB)"
ok "fault: the unmapped page stayed untouched"
expect_out fault "viommu-dma: ok"
expect_out fault "NBL2: dmesg: .*arm-smmu-v3 .*event 0x10 received"
expect_out fault "NBL2: dmesg: .*event: F_TRANSLATION client: 0000:00:0[0-9a-f].0 sid: 0x[0-9a-f]* ssid: 0x0 iova: 0x200000"
expect_out fault "NBL2: .* rebound to virtio-pci"
expect_out fault "NBL2: hwrng bytes=65536"
expect_out fault "NBL2: run smmu-fault rc=0"
expect_err fault "virtio-rng.* is behind the SMMUv3"
set -- $(sed -n 's/.*smmuv3: .* errors=\([0-9]*\); .* faults=\([0-9]*\); events=\([0-9]*\) lost=\([0-9]*\) config-errors=\([0-9]*\).*/\1 \2 \3 \4 \5/p' /tmp/fault.err)
echo "fault: errors=$1 faults=$2 events=$3 lost=$4 config-errors=$5"
[ "${2:-0}" -ge 1 ] && [ "${3:-0}" -ge 1 ] ||
	fail "fault: nestbox counted faults=${2:-?} events=${3:-?}, expected >= 1"
[ "$1" = 0 ] && [ "$4" = 0 ] && [ "$5" = 0 ] ||
	fail "fault: command errors=$1, lost events=$4, config errors=$5"
ok "fault: nestbox counted $2 faults and posted $3 events, none lost"
