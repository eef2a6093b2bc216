# The assigned e1000e with pci=nomsi: its legacy INTx line, a level SPI
# behind the host bridge's interrupt-map, carries its interrupts.
nic=$(ls /sys/bus/pci/drivers/e1000e 2>/dev/null | grep ':' | head -1)
[ -n "$nic" ] || { echo "NBL2: FAIL e1000e not bound"; exit 1; }
ifc=$(ls "/sys/bus/pci/devices/$nic/net" | head -1)
ip link set "$ifc" up
ip addr add 169.254.78.2/24 dev "$ifc"
i=0
until ping -c 1 -W 2 169.254.78.1 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 30 ] || { echo "NBL2: FAIL no reply from L1"; grep "$ifc" /proc/interrupts; exit 1; }
done
ping -c 3 -W 5 169.254.78.1 >/dev/null && echo "NBL2: e1000e ping ok"
grep "$ifc" /proc/interrupts | sed 's/^/NBL2: irq /'
n=$(grep "$ifc" /proc/interrupts | grep -v MSI |
	awk '{ for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) t += $i } END { print t + 0 }')
echo "NBL2: e1000e intx interrupts=$n"
[ "$n" -gt 0 ]
