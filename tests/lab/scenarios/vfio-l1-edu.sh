# lab: timeout=180
# lab-qemu: -device edu
# The reference for edu-vfio (tests/lab/guest/progs/edu-vfio.c): in L1,
# against QEMU's own edu behind QEMU's emulated SMMUv3, a userspace driver
# on VFIO cdev + iommufd moves a page RAM -> edu -> RAM through an IOVA,
# with each DMA completed by an MSI on an eventfd, raises an interrupt by
# hand, then unmaps the page and lets the edu write to it once more. The
# same program later runs in L2, with the edu assigned from L1 and
# nestbox's virtio-iommu on the way; this run says what correct looks like.
timeout -s KILL 120 /lab/bin/edu-vfio --rounds 20 >/tmp/edu-vfio.out 2>&1
RC=$?
cat /tmp/edu-vfio.out
[ "$RC" = 0 ] || fail "edu-vfio: exit status $RC"
ok "edu-vfio: exit status 0"
grep -q "^edu-vfio: dma round 1 ok$" /tmp/edu-vfio.out ||
	fail "edu-vfio: no first round"
grep -q "^edu-vfio: dma round 20 ok$" /tmp/edu-vfio.out ||
	fail "edu-vfio: no last round"
grep -q "^edu-vfio: dma 20 rounds ok, interrupts=[1-9][0-9]*$" \
	/tmp/edu-vfio.out || fail "edu-vfio: no rounds summary"
ok "edu-vfio: 20 DMA rounds through the SMMU, completed by MSIs"
grep -q "^edu-vfio: raised interrupt received" /tmp/edu-vfio.out ||
	fail "edu-vfio: no raised interrupt"
ok "edu-vfio: raised interrupt received"
grep -q "^edu-vfio: after unmap: " /tmp/edu-vfio.out ||
	fail "edu-vfio: no report after the unmap"
ok "edu-vfio: reported the DMA after the unmap"
grep -q "^edu-vfio: ok$" /tmp/edu-vfio.out || fail "edu-vfio: no 'ok'"
ok "edu-vfio: ok"
