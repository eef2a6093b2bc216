# lab: timeout=300
# A DMA to an unmapped IOVA behind nestbox's virtio-iommu: L2 drives its
# virtio-rng from userspace through VFIO and iommufd (so its IOAS MAP and
# UNMAP become virtio-iommu requests), unmaps the buffer, posts it again.
# nestbox fails that request (used length 0), reports the fault on the
# eventq, and L2's virtio_iommu driver logs it. The device keeps working.
run_vmm vfio run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --iommu virtio --rng \
	--cmdline "console=ttyAMA0 quiet iommu.passthrough=0 nbl2.run=viommu-vfio nbl2.action=poweroff"
grep -E 'NBL2|viommu-dma' /tmp/vfio.out
expect_rc vfio 0
expect_out vfio "viommu-dma: rng read 4096 bytes through IOVA"
expect_out vfio "viommu-dma: after unmap: used.len=0 "
expect_out vfio "NBL2: dmesg: .*fault from EP"
expect_out vfio "viommu-dma: bench single map+unmap pairs/s="
expect_out vfio "viommu-dma: ok"
expect_out vfio "NBL2: run viommu-vfio rc=0"
expect_err vfio "virtio-iommu: requests .*faults reported=[1-9]"
