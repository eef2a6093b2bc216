# With pci=nomsi the guest's virtio-pci uses legacy INTx: level SPIs from
# the host bridge's interrupt-map, no MSI-X vectors at all.
grep -E 'virtio' /proc/interrupts
msix=$(grep -c 'ITS-PCI-MSIX' /proc/interrupts)
intx=$(grep -E 'GICv3 +(9[6-9]|1[0-9][0-9]) Level' /proc/interrupts | grep -c virtio)
echo "NBL2: intx lines=$intx msix vectors=$msix"
[ "$msix" = 0 ] && [ "$intx" -gt 0 ]
