# The e1000e "NIC A" side of the vfio benchmark, the same script in both
# places it runs:
#   L2 (nestbox --vfio NIC A): /l2tests/vfiobench.sh, nbl2.run=vfiobench;
#     parameters from the kernel command line (vfb.bytes=N), the interface
#     is the one the e1000e driver bound; vfb.limit=SEC per transfer,
#     vfb.tso=off switches the NIC's TSO off; vfb.send=sendfile sends tx
#     from a file of BYTES through sendfile(2) instead of write(2).
#   L1 (NIC A on L1's own e1000e driver, in a network namespace):
#     sh side.sh IFC BYTES TCPBENCH LIMIT-SECONDS on|off (TSO) [write|sendfile]
# NIC B stays in L1's root namespace as 169.254.79.1; NIC A is .2. Two
# transfers: tx (A sends BYTES to B) then rx (B sends BYTES to A), each
# started by "@@VFB-BEGIN DIR" (L1 then starts its end of it) and followed,
# a second after its end, by "@@VFB-END DIR" and one "@@VFB-SIDE {json}"
# with the transfer and the delta of A's interrupts in this kernel's
# /proc/interrupts (the lines named IFC or IFC-*).
if [ -n "$1" ]; then
	ifc=$1 bytes=$2 tcp=$3 limit=$4 tso=$5 send=${6:-write}
	# L1 moves the interface into this namespace once it exists.
	i=0
	until ip link show "$ifc" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "@@VFB-ERR $ifc never arrived"; exit 1; }
		sleep 0.1
	done
else
	bytes=33554432 tcp=/l2bench/tcpbench limit=120 tso=on send=write
	for arg in $(cat /proc/cmdline); do
		case "$arg" in
		vfb.bytes=*) bytes=${arg#*=} ;;
		vfb.limit=*) limit=${arg#*=} ;;
		vfb.tso=*) tso=${arg#*=} ;;
		vfb.send=*) send=${arg#*=} ;;
		esac
	done
	nic=$(ls /sys/bus/pci/drivers/e1000e 2>/dev/null | grep ':' | head -1)
	[ -n "$nic" ] || { echo "@@VFB-ERR e1000e not bound in L2"; exit 1; }
	ifc=$(ls "/sys/bus/pci/devices/$nic/net" | head -1)
fi
PEER=169.254.79.1
ME=169.254.79.2

# irq_lines: "NAME COUNT" for every /proc/interrupts line of the interface.
irq_lines() {
	awk -v ifc="$ifc" '$NF == ifc || index($NF, ifc "-") == 1 {
		t = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) t += $i
		print $NF, t
	}' /proc/interrupts
}
irq_sum() { irq_lines | awk '{ t += $2 } END { print t + 0 }'; }
nic_stats() {
	for f in tx_packets tx_errors tx_dropped rx_packets rx_errors rx_dropped \
		rx_missed_errors rx_crc_errors rx_over_errors; do
		printf '%s=%s ' $f "$(cat /sys/class/net/$ifc/statistics/$f 2>/dev/null)"
	done
	echo
}

ip link set lo up
if [ "$send" = sendfile ]; then
	dd if=/dev/zero of=/tmp/vfb.data bs="$bytes" count=1 2>/dev/null ||
		{ echo "@@VFB-ERR cannot make /tmp/vfb.data"; exit 1; }
fi
[ "$tso" != off ] || "$tcp" tso "$ifc" off || echo "@@VFB-ERR cannot switch TSO off"
ip link set "$ifc" up
ip addr add $ME/24 dev "$ifc"
# Link negotiation of the emulated NIC takes a moment.
i=0
until ping -c 1 -W 2 $PEER >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 30 ] || { echo "@@VFB-ERR no reply from $PEER on $ifc"; exit 1; }
done
echo "@@VFB-IRQ-LINES $(irq_lines | tr '\n' ' ')"

rc=0
for dir in tx rx; do
	# L1 snapshots KVM's counters when this line appears, then starts its
	# receiver (tx) or sender (rx); its end snapshot is taken when its end
	# of the transfer is done. Nothing goes to the console in between: the
	# UART is emulated by nestbox, each byte would be exits to userspace.
	echo "@@VFB-BEGIN $dir"
	i0=$(irq_sum)
	# Stall evidence, printed only when the transfer does not finish: the
	# interface's interrupt lines, NIC and TCP counters at limit-20 s and
	# limit-5 s (the connection still open), i.e. their deltas during a stall,
	# and the driver's ring registers and counters (tcpbench regs).
	t1=5
	[ "$limit" -le 25 ] || t1=$((limit - 20))
	(
		sleep $t1
		echo "A t=$(cut -d' ' -f1 /proc/uptime) $(irq_lines | tr '\n' ' ')| $(nic_stats)| $(grep Tcp: /proc/net/snmp | tail -n1)"
		echo "A regs $("$tcp" regs "$ifc" 2>&1)"
		sleep 15
		echo "B t=$(cut -d' ' -f1 /proc/uptime) $(irq_lines | tr '\n' ' ')| $(nic_stats)| $(grep Tcp: /proc/net/snmp | tail -n1)"
		echo "B regs $("$tcp" regs "$ifc" 2>&1)"
	) >/tmp/stall.$dir 2>&1 &
	snp=$!
	if [ $dir = tx ]; then
		if [ "$send" = sendfile ]; then
			r=$(timeout -s KILL "$limit" "$tcp" sendfile $PEER 5001 /tmp/vfb.data) || rc=1
		else
			r=$(timeout -s KILL "$limit" "$tcp" send $PEER 5001 "$bytes") || rc=1
		fi
	else
		r=$(timeout -s KILL "$limit" "$tcp" recv 5002) || rc=1
	fi
	kill $snp 2>/dev/null
	i1=$(irq_sum)
	sleep 1
	echo "@@VFB-END $dir"
	if [ -z "$r" ]; then
		echo "@@VFB-ERR $dir transfer did not finish within ${limit}s; $ifc:"
		sed "s/^/@@VFB-STALL $dir /" /tmp/stall.$dir
		nic_stats
		irq_lines
		grep Tcp: /proc/net/snmp
		grep -E 'TcpExt:' /proc/net/netstat
		dmesg | tail -n 8
	fi
	echo "@@VFB-SIDE {\"dir\":\"$dir\",\"ifc\":\"$ifc\",\"irqs\":$((i1 - i0)),\"tcp\":${r:-null}}"
done
echo "@@VFB-IRQ-LINES $(irq_lines | tr '\n' ' ')"
echo "@@VFB-NICSTATS $(nic_stats)"
echo "@@VFB-NICREGS $("$tcp" regs "$ifc" 2>&1)"
exit $rc
