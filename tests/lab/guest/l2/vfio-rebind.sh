# Route changes while the assigned NIC runs: the driver is unbound and bound
# again (its MSI-X vectors are torn down and programmed anew) and its
# vectors move to the other vCPU (ITS MOVI in the guest). Forwarding must
# come back each time; nestbox logs what KVM's vgic-state shows.
set -o pipefail
nic=$(ls /sys/bus/pci/drivers/e1000e 2>/dev/null | grep ':' | head -1)
[ -n "$nic" ] || { echo "NBL2: FAIL e1000e not bound"; exit 1; }
up() {
	ifc=$(ls "/sys/bus/pci/devices/$nic/net" | head -1)
	ip link set "$ifc" up
	ip addr add 169.254.78.2/24 dev "$ifc" 2>/dev/null
	i=0
	until ping -c 1 -W 2 169.254.78.1 >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 30 ] || { echo "NBL2: FAIL no reply from L1 ($1)"; exit 1; }
	done
	ping -c 3 -W 5 169.254.78.1 >/dev/null && echo "NBL2: ping ok $1"
}
up first
sleep 3
echo "$nic" >/sys/bus/pci/drivers/e1000e/unbind
echo "$nic" >/sys/bus/pci/drivers/e1000e/bind
up rebound
sleep 3
for irq in $(grep "$ifc" /proc/interrupts | cut -d: -f1); do
	echo 2 >"/proc/irq/$irq/smp_affinity" 2>/dev/null
done
grep "$ifc" /proc/interrupts | sed 's/^/NBL2: irq /'
up moved
sleep 4
