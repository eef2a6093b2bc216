# L2 userspace drives its virtio-rng through VFIO + iommufd on L2's own
# arm-smmu-v3 driver (nestbox's emulated SMMUv3): the IOAS maps become
# stage-1 page tables that nestbox walks. Then it unmaps a buffer the
# device is about to write: the DMA must fault, the fault must arrive in
# L2's event queue as F_TRANSLATION (0x10) for that IOVA, and afterwards
# the device, given back to the kernel's virtio_rng, must still work.
/l2bin/viommu-dma --fault || exit 1
dmesg | grep -E 'arm-smmu-v3.*event' | tail -4 | sed 's/^/NBL2: dmesg: /'
n=$(dmesg | grep -c 'event 0x10 received')
echo "NBL2: smmu translation fault events logged=$n"
[ "$n" -gt 0 ] || exit 1
# Back to the kernel: vfio-pci lets go, virtio-pci binds again.
bdf=$(basename "$(readlink /sys/bus/pci/drivers/vfio-pci/0000:* | head -1)")
[ -n "$bdf" ] || { echo "NBL2: FAIL nothing on vfio-pci"; exit 1; }
echo >"/sys/bus/pci/devices/$bdf/driver_override"
echo "$bdf" >/sys/bus/pci/drivers/vfio-pci/unbind
echo "$bdf" >/sys/bus/pci/drivers_probe
drv=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")
echo "NBL2: $bdf rebound to $drv"
[ "$drv" = virtio-pci ] || exit 1
sh /l2tests/rng.sh
