# Interrupts of virtio-pci devices are MSI-X vectors delivered as LPIs
# through the ITS: /proc/interrupts lists them under ITS-PCI-MSIX and
# their counts move.
grep -E 'MSI' /proc/interrupts
n=$(grep -c 'ITS-PCI-MSIX' /proc/interrupts)
echo "NBL2: msix vectors=$n"
[ "$n" -gt 0 ] || exit 1
fired=$(grep 'ITS-PCI-MSIX' /proc/interrupts |
	awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) t += $i } END { print t + 0 }')
echo "NBL2: msix interrupts=$fired"
[ "$fired" -gt 0 ]
