# lab: timeout=180
# lab-qemu: -device virtio-rng-pci,iommu_platform=on,disable-legacy=on
# The reference for viommu-dma (tests/lab/guest/progs/viommu-dma.c): in L1,
# against QEMU's own virtio-rng-pci behind QEMU's emulated SMMUv3, a
# userspace driver on VFIO cdev + iommufd reads entropy through an IOVA,
# then unmaps it and reposts it (the DMA faults), then measures iommufd
# map/unmap throughput. The same program later runs in L2 behind
# nestbox's virtio-iommu; this run says what a correct IOMMU looks like.
timeout -s KILL 120 /lab/bin/viommu-dma --fault --bench 2000 \
	>/tmp/viommu.out 2>&1
RC=$?
cat /tmp/viommu.out
[ "$RC" = 0 ] || fail "viommu-dma: exit status $RC"
ok "viommu-dma: exit status 0"
grep -q "^viommu-dma: rng read [1-9][0-9]* bytes through IOVA 0x" \
	/tmp/viommu.out || fail "viommu-dma: no rng line"
ok "viommu-dma: read entropy through the SMMU"
grep -q "^viommu-dma: after unmap: " /tmp/viommu.out ||
	fail "viommu-dma: no report after the unmap"
ok "viommu-dma: reported the DMA after the unmap"
grep -q "^viommu-dma: bench single map+unmap pairs/s=" /tmp/viommu.out ||
	fail "viommu-dma: no single bench figure"
grep -q "^viommu-dma: bench batched pages/s=" /tmp/viommu.out ||
	fail "viommu-dma: no batched bench figure"
ok "viommu-dma: bench figures"
grep -q "^viommu-dma: ok$" /tmp/viommu.out || fail "viommu-dma: no 'ok'"
ok "viommu-dma: ok"
