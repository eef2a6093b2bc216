# Devices behind the PCIe-to-PCI bridge: on bus 1, and their MSI-X
# interrupts arrive although both carry the bridge's requester ID.
ls /sys/bus/pci/devices
for d in 0000:01:00.0 0000:01:01.0; do
	[ -e /sys/bus/pci/devices/$d ] || { echo "NBL2: FAIL no $d"; exit 1; }
done
echo "NBL2: bridge class $(cat /sys/bus/pci/devices/0000:00:01.0/class)"
grep -E '0000:01:0[01]' /proc/interrupts
n=$(grep -c 'ITS-PCI-MSIX-0000:01:0' /proc/interrupts)
echo "NBL2: msix vectors behind the bridge=$n"
[ "$n" -gt 0 ]
