# Assigned devices as L2 sees them: edu answers on its BAR (mapped into
# L2), and the e1000e works with L2's own driver: MSI-X vectors fire and
# it reaches L1's other e1000e over QEMU's hub.
lspci_like() {
	for d in /sys/bus/pci/devices/*; do
		echo "NBL2: pci $(basename "$d") $(cat "$d/vendor"):$(cat "$d/device") driver=$(basename "$(readlink "$d/driver" 2>/dev/null)" 2>/dev/null)"
	done
}
set -o pipefail
lspci_like
if [ -n "$(ls /sys/bus/pci/devices/*/device | xargs grep -l 0x11e8)" ]; then
	/l2bin/edu-probe | sed 's/^/NBL2: /' || exit 1
fi
nic=$(ls /sys/bus/pci/drivers/e1000e 2>/dev/null | grep ':' | head -1)
[ -n "$nic" ] || { echo "NBL2: FAIL e1000e not bound"; exit 1; }
ifc=$(ls "/sys/bus/pci/devices/$nic/net" | head -1)
echo "NBL2: e1000e $nic is $ifc"
ip link set lo up
ip link set "$ifc" up
ip addr add 169.254.78.2/24 dev "$ifc"
i=0
# Link negotiation of the emulated NIC takes a moment.
until ping -c 1 -W 2 169.254.78.1 >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -ge 30 ]; then
		echo "NBL2: FAIL no reply from L1"
		ip -s link show "$ifc"
		grep -E "$ifc|ITS" /proc/interrupts
		dmesg | grep -iE 'e1000e|eth0|vfio|iommu' | tail -20
		exit 1
	fi
done
ping -c 5 -W 5 169.254.78.1 | sed 's/^/NBL2: /'
echo "NBL2: e1000e ping ok"
grep -E "$ifc" /proc/interrupts | sed 's/^/NBL2: irq /'
fired=$(grep -E "$ifc" /proc/interrupts | grep -c 'ITS-PCI-MSI')
echo "NBL2: e1000e msi vectors=$fired"
[ "$fired" -gt 0 ]
