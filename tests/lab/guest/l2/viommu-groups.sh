# IOMMU groups of the PCI functions: behind the PCIe-to-PCI bridge the
# functions share the bridge's requester ID, so one endpoint and one
# group; a device left out of the vIOMMU (iommu=off) has no group.
for d in /sys/bus/pci/devices/*; do
	g=none
	[ -e "$d/iommu_group" ] && g=$(basename "$(readlink "$d/iommu_group")")
	echo "NBL2: pci $(basename "$d") vendor=$(cat "$d/vendor") device=$(cat "$d/device") group=$g"
done
for d in /sys/bus/platform/devices/*virtio_mmio*; do
	[ -e "$d" ] || continue
	g=none
	[ -e "$d/iommu_group" ] && g=$(basename "$(readlink "$d/iommu_group")")
	echo "NBL2: mmio $(basename "$d") group=$g"
done
