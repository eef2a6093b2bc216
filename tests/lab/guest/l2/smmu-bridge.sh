# Behind the PCIe-to-PCI bridge every function's DMA carries the bridge's
# requester ID (secondary bus, devfn 0): one StreamID for all of them.
# Linux's arm-smmu-v3 does not let two masters share a StreamID: the first
# function probed gets the IOMMU, later ones are refused ("Aliasing
# StreamID ... unsupported") and DMA with physical addresses, which the
# shared STE then translates (or faults). Show what the kernel decided.
dmesg | grep -iE 'alias|arm-smmu-v3.*(event|client)' | head -8 | sed 's/^/NBL2: dmesg: /'
sh /l2tests/viommu-groups.sh
