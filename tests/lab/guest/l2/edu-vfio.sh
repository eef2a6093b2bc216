# L2 userspace drives its assigned edu through L2's own VFIO and iommufd,
# on top of nestbox's virtio-iommu: every IOAS map here is a virtio-iommu
# MAP, which nestbox turns into an IOAS map in L1, so the edu's DMA engine
# reaches L2's buffer through both levels; its MSI arrives as an eventfd.
/l2bin/edu-vfio --rounds 10 | sed 's/^/NBL2: /'
