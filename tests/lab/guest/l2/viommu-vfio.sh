# L2 userspace drives its virtio-rng through VFIO + iommufd: every MAP and
# UNMAP of the IOAS becomes a virtio-iommu request to nestbox. Then it
# unmaps a buffer the device is about to write: the DMA must fault, the
# fault must reach this kernel through the eventq, and the request fail.
/l2bin/viommu-dma --fault --bench 4000 || exit 1
dmesg | grep -i 'fault from EP' | tail -3 | sed 's/^/NBL2: dmesg: /'
n=$(dmesg | grep -ci 'fault from EP')
echo "NBL2: viommu faults logged=$n"
[ "$n" -gt 0 ]
