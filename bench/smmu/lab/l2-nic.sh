# In L2 as /l2tests/smmubench-nic.sh (nbl2.run=smmubench-nic): the assigned
# e1000e (L2's own driver) downloads smb.bytes from L1's httpd, between the
# markers L1 snapshots its KVM counters on; then the NIC's packet counts
# over the transfer and the checksum. smb.bytes=0: link up and ping only
# (the set-up run whose IOMMU counts are subtracted).
bytes=2097152
for arg in $(cat /proc/cmdline); do
	case "$arg" in smb.bytes=*) bytes=${arg#*=} ;; esac
done
nic=$(ls /sys/bus/pci/drivers/e1000e 2>/dev/null | grep ':' | head -1)
[ -n "$nic" ] || { echo "@@SMB-ERR e1000e not bound"; exit 1; }
ifc=$(ls "/sys/bus/pci/devices/$nic/net" | head -1)
ip link set lo up
ip link set "$ifc" up
ip addr add 169.254.78.2/24 dev "$ifc"
# Link negotiation of the emulated NIC takes a moment.
i=0
until ping -c 1 -W 2 169.254.78.1 >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 30 ] || { echo "@@SMB-ERR no reply from L1 on $ifc"; exit 1; }
done
echo "@@SMB-GROUPS $(cat /sys/kernel/iommu_groups/*/type 2>/dev/null | tr '\n' ' ')"
[ "$bytes" -gt 0 ] || exit 0
st() { cat "/sys/class/net/$ifc/statistics/$1"; }
rx0=$(st rx_packets) tx0=$(st tx_packets)
# L1 polls for the markers every 0.2 s: quiet seconds around them keep
# the snapshots on the transfer's edges. No console output in between
# (every UART byte is an exit to nestbox).
echo "@@SMB-BEGIN"
sleep 1
sum=$(wget -q -O - http://169.254.78.1:8080/data | md5sum | cut -d' ' -f1)
echo "@@SMB-END"
sleep 1
echo "@@SMB-IO {\"rx_packets\":$(($(st rx_packets) - rx0)),\"tx_packets\":$(($(st tx_packets) - tx0)),\"md5\":\"$sum\"}"
