# lab: timeout=3600
# The PCI device assignment benchmark "scenario", run in the emulated arm64
# host (L1) as /lab/scenarios/vfiobench.sh by tests/lab/guest/l1-init
# (lib.sh sourced). The host has two e1000e on one QEMU hub (bench/vfio/run
# adds them): NIC A (the first) is what gets measured, NIC B (the second)
# stays on L1's e1000e driver in L1's root namespace as the peer,
# 169.254.79.1. Per round, alternating:
#   l1  NIC A on L1's own e1000e driver, moved into a network namespace
#       (unshare -n), runs bench/vfio/lab/side.sh against NIC B
#   l2  NIC A bound to vfio-pci and assigned to an L2 guest
#       (nestbox run --vfio A, 1 vCPU, 256 MiB) that runs the same side.sh
#       with its own e1000e driver; afterwards NIC A goes back to e1000e
# Each run: tx (A sends vfb.bytes to B) and rx (B sends to A), TCP through
# bench/vfio/tcpbench.c, timed by the receiver. L1 snapshots the nestbox
# VM's KVM debugfs stats (/sys/kernel/debug/kvm/PID-FD/*) and its own
# vfio-msix and NIC B interrupt counts when it sees the side's
# @@VFB-BEGIN marker (0.2 s poller) and when its own end of the transfer
# is done. One "@@VFB {json}" line per
# run; progress lines start with "[vfiobench]". Parameters:
#   vfb.runs=N  vfb.bytes=N  vfb.tso=on|off (NIC A's TSO, in L1 and L2)
#   vfb.vmm=nestbox|qemu|both  which VMM runs L2: nestbox (--vfio), Debian's
#       qemu-system-aarch64 (-device vfio-pci, when bench/vfio/run put it in
#       the initramfs), or both, alternating which goes first per round
#   vfb.qiommu=iommufd|legacy  QEMU's VFIO backend (iommufd, as nestbox's,
#       or the legacy group/container)
#   vfb.l1=1|0  whether each round has the run with NIC A in L1
#   vfb.limit=SEC  per transfer limit of the side (default 60 s + 2 s/MB)
#   vfb.send=write|sendfile  how the side sends tx (write(2) from a buffer,
#       or sendfile(2) from a file: 4 KiB page-cache pages as skb frags)
runs=3
bytes=33554432
tso=on
vmm=nestbox
qiommu=iommufd
l1runs=1
xlimit=""
send="write"
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vfb.runs=*) runs=${arg#*=} ;;
	vfb.bytes=*) bytes=${arg#*=} ;;
	vfb.tso=*) tso=${arg#*=} ;;
	vfb.vmm=*) vmm=${arg#*=} ;;
	vfb.qiommu=*) qiommu=${arg#*=} ;;
	vfb.l1=*) l1runs=${arg#*=} ;;
	vfb.limit=*) xlimit=${arg#*=} ;;
	vfb.send=*) send=${arg#*=} ;;
	esac
done
QEMU=/usr/bin/qemu-system-aarch64
# Per transfer: the side gives up after xlimit s (then prints its NIC's
# state), L1's end 30 s later: room for 0.5 MB/s (TCG does 2-15).
[ -n "$xlimit" ] || xlimit=$((60 + bytes / 500000))
l2timeout=$((2 * xlimit + 120))
TCP=/lab/vfb/tcpbench
A_IP=169.254.79.2
B_IP=169.254.79.1
bad=0
say() { echo "[vfiobench] $*"; }

NIC=$(find_fn 0x8086 0x10d3 0)
PEER=$(find_fn 0x8086 0x10d3 1)
[ -n "$NIC" ] && [ -n "$PEER" ] || { say "two e1000e expected, found '$NIC' '$PEER'"; exit 1; }

# rebind FN DRIVER: move a PCI function to DRIVER (vfio-pci or e1000e).
rebind() {
	if [ "$2" = vfio-pci ]; then
		echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override"
	else
		echo >"/sys/bus/pci/devices/$1/driver_override"
	fi
	[ -e "/sys/bus/pci/devices/$1/driver" ] &&
		echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$1/driver")")" = "$2" ] ||
		{ say "$1: not bound to $2"; return 1; }
}

# sum_irqs AWK-CONDITION: L1's /proc/interrupts counts of matching lines.
sum_irqs() {
	awk "$1"' { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) t += $i } END { print t + 0 }' \
		/proc/interrupts
}

# kvm_json: every numeric stat of the running VM's debugfs directory (one
# VM at a time), L1 KVM's global "exits", and L1's interrupt counts of the
# vfio-msix lines (NIC A assigned) and of NIC B.
. /lab/kvm-stats.sh
kvm_json() {
	j="\"t\":$(cut -d' ' -f1 /proc/uptime)"
	j="$j,\"l1_vfio_irqs\":$(sum_irqs '$NF ~ /^vfio-msix/')"
	j="$j,\"l1_peer_irqs\":$(sum_irqs "\$NF == \"$pifc\" || index(\$NF, \"$pifc-\") == 1")"
	echo "{$j,$(kvm_vm_json)}"
}

# watch NAME: until /tmp/NAME.done, on the side's "@@VFB-BEGIN DIR":
# snapshot the counters into /tmp/NAME.BEGIN-DIR, run L1's end of the
# transfer (receiver for tx, sender for rx) to its end, snapshot into
# /tmp/NAME.END-DIR. The side prints nothing meanwhile.
watch() {
	while [ ! -f /tmp/$1.done ]; do
		tr -d '\r' </tmp/$1.raw >/tmp/$1.out
		for dir in tx rx; do
			[ -s /tmp/$1.BEGIN-$dir ] && continue
			grep -q "^@@VFB-BEGIN $dir" /tmp/$1.out || continue
			kvm_json >/tmp/$1.BEGIN-$dir
			if [ $dir = tx ]; then
				timeout -s KILL $((xlimit + 30)) $TCP recv 5001 >/tmp/$1.l1tx 2>&1
			else
				timeout -s KILL $((xlimit + 30)) $TCP send $A_IP 5002 "$bytes" >/tmp/$1.l1rx 2>&1
			fi
			kvm_json >/tmp/$1.END-$dir
			[ $dir = rx ] && return
		done
		sleep 0.2
	done
}

# one NAME ROUND MODE: one run of side.sh through NIC A, in L1 or in L2.
one() {
	name=$1 round=$2 mode=$3
	rm -f /tmp/$name.*
	: >/tmp/$name.raw
	watch "$name" &
	wpid=$!
	t0=$(date +%s)
	if [ "$mode" = l1 ]; then
		ifc=$(ls "/sys/bus/pci/devices/$NIC/net" | head -1)
		timeout -s KILL "$l2timeout" unshare -n sh /lab/vfb/side.sh "$ifc" "$bytes" $TCP $xlimit $tso $send \
			</dev/null >/tmp/$name.raw 2>/tmp/$name.err &
		spid=$!
		# busybox timeout and unshare exec: spid ends up in the new namespace.
		i=0
		while [ "$(readlink /proc/$spid/ns/net)" = "$(readlink /proc/self/ns/net)" ] &&
			[ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		ip link set dev "$ifc" netns $spid
		wait $spid
		rc=$?
	else
		ifc=""
		rebind "$NIC" vfio-pci || bad=1
		l2c="console=ttyAMA0 quiet nbl2.run=vfiobench nbl2.action=poweroff vfb.bytes=$bytes vfb.limit=$xlimit vfb.tso=$tso vfb.send=$send"
		if [ "$mode" = l2 ]; then
			timeout -s KILL "$l2timeout" /bin/nestbox run -v --kernel "$L2_LAB_KERNEL" \
				--initrd "$L2_LAB_INITRD" --cpus 1 --memory 256M --vfio "$NIC" \
				--cmdline "$l2c" </dev/null >/tmp/$name.raw 2>/tmp/$name.err
			rc=$?
		else
			# The peer VMM: Debian's QEMU, the NIC through its vfio-pci
			# (iommufd cdev as nestbox, or the legacy group).
			if [ "$qiommu" = iommufd ]; then
				qv="-object iommufd,id=iommufd0 -device vfio-pci,host=$NIC,iommufd=iommufd0"
			else
				qv="-device vfio-pci,host=$NIC"
			fi
			# shellcheck disable=SC2086
			timeout -s KILL "$l2timeout" $QEMU -M virt,gic-version=3 -accel kvm -cpu host \
				-smp 1 -m 256M -kernel "$L2_LAB_KERNEL" -initrd "$L2_LAB_INITRD" \
				-append "$l2c" -nic none -display none -monitor none -serial stdio \
				-no-reboot $qv </dev/null >/tmp/$name.raw 2>/tmp/$name.err
			rc=$?
		fi
	fi
	touch /tmp/$name.done
	wait $wpid
	[ "$mode" = l1 ] || rebind "$NIC" e1000e || bad=1
	tr -d '\r' </tmp/$name.raw >/tmp/$name.out
	tx=$(sed -n 's/^@@VFB-SIDE \({"dir":"tx".*\)/\1/p' /tmp/$name.out | tail -n1)
	rx=$(sed -n 's/^@@VFB-SIDE \({"dir":"rx".*\)/\1/p' /tmp/$name.out | tail -n1)
	l1tx=$(grep '^{' /tmp/$name.l1tx 2>/dev/null | tail -n1)
	l1rx=$(grep '^{' /tmp/$name.l1rx 2>/dev/null | tail -n1)
	lines=$(sed -n 's/^@@VFB-IRQ-LINES //p' /tmp/$name.out | tail -n1)
	ok=false
	[ $rc = 0 ] && [ -n "$tx" ] && [ -n "$rx" ] && [ -n "$l1tx" ] && [ -n "$l1rx" ] && ok=true
	[ "$mode" = l1 ] || grep -q "NBL2: run vfiobench rc=0" /tmp/$name.out || ok=false
	k() { cat /tmp/$name.$1 2>/dev/null || echo null; }
	stall=$(sed -n 's/^@@VFB-STALL //p' /tmp/$name.out | tr '\n' ' ' | sed 's/"/'"'"'/g')
	echo "@@VFB {\"round\":$round,\"mode\":\"$mode\",\"stall\":\"$stall\",\"rc\":$rc,\"ok\":$ok,\"wall_s\":$(($(date +%s) - t0)),\"side_tx\":${tx:-null},\"side_rx\":${rx:-null},\"l1_tx\":${l1tx:-null},\"l1_rx\":${l1rx:-null},\"kvm\":{\"begin_tx\":$(k BEGIN-tx),\"end_tx\":$(k END-tx),\"begin_rx\":$(k BEGIN-rx),\"end_rx\":$(k END-rx)},\"irq_lines\":\"$lines\"}"
	mbs() { echo "$1" | sed -n 's/.*"mb_s":\([0-9.]*\).*/\1/p'; }
	irqs() { echo "$1" | sed -n 's/.*"irqs":\([0-9]*\).*/\1/p'; }
	say "  $mode: rc=$rc, tx $(mbs "$l1tx") MB/s ($(irqs "$tx") irqs), rx $(mbs "$rx") MB/s ($(irqs "$rx") irqs) ($(($(date +%s) - t0)) s)"
	sed -n 's/^@@VFB-NICSTATS /[vfiobench]     NIC A: /p; s/^@@VFB-NICREGS /[vfiobench]     NIC A regs: /p' /tmp/$name.out
	if [ $ok != true ]; then
		bad=1
		say "  $name failed; stderr and output (tails):"
		{
			tail -n 15 /tmp/$name.err
			sed -n '/@@VFB-ERR/,$p' /tmp/$name.out | grep . || tail -n 25 /tmp/$name.out
			cat /tmp/$name.l1tx /tmp/$name.l1rx 2>/dev/null | sed 's/^/L1: /'
			echo "L1: NIC B:"
			for f in tx_packets tx_errors rx_packets rx_errors rx_dropped rx_missed_errors; do
				printf '%s=%s ' $f "$(cat /sys/class/net/$pifc/statistics/$f)"
			done
			echo
			echo "L1: NIC B regs: $($TCP regs "$pifc" 2>&1)"
			grep Tcp: /proc/net/snmp
			grep -E 'vfio|e1000e|eth' /proc/interrupts
			echo "L1 dmesg SMMU/fault lines: $(dmesg | grep -ciE 'smmu|fault|event')"
			dmesg | grep -iE 'smmu|fault|event:|hang' | tail -n 20
			dmesg | grep -iE 'vfio|e1000e|eth' | tail -n 8
		} | sed 's/^/[vfiobench]     /'
	fi
}

say "L1: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs; nestbox: $(/bin/nestbox --version 2>&1)"
say "NIC A (measured) $NIC, NIC B (L1 peer) $PEER; $runs rounds of $bytes bytes each way; NIC A TSO $tso"
pifc=$(ls "/sys/bus/pci/devices/$PEER/net" | head -1)
ip link set lo up
ip link set "$pifc" up
ip addr add $B_IP/24 dev "$pifc"
echo "@@VFB-META {\"runs\":$runs,\"bytes\":$bytes,\"tso\":\"$tso\",\"l1_kernel\":\"$(uname -r)\",\"nestbox\":\"$(/bin/nestbox --version 2>&1)\",\"nic\":\"$NIC\",\"peer\":\"$PEER\",\"l2\":\"1 vCPU, 256 MiB, lab kernel\"}"
if [ "$vmm" != nestbox ]; then
	if $QEMU --version >/tmp/qemu.version 2>&1; then
		say "qemu: $(head -1 /tmp/qemu.version); VFIO backend $qiommu"
	else
		say "qemu-system-aarch64 does not start:"
		sed 's/^/[vfiobench]   /' /tmp/qemu.version
		exit 1
	fi
fi
say "VMM(s) for L2: $vmm; runs with NIC A in L1: $l1runs; per transfer limit ${xlimit}s; tx with $send(2)"
rnd=1
while [ $rnd -le "$runs" ]; do
	case "$vmm" in
	nestbox) l2s="l2" ;;
	qemu) l2s="l2q" ;;
	*) if [ $((rnd % 2)) = 1 ]; then l2s="l2 l2q"; else l2s="l2q l2"; fi ;;
	esac
	say "round $rnd/$runs: $([ "$l1runs" = 1 ] && echo "NIC A in L1, then ")L2 runs: $l2s (l2 = nestbox, l2q = QEMU)"
	[ "$l1runs" != 1 ] || one l1-$rnd $rnd l1
	for m in $l2s; do
		one $m-$rnd $rnd $m
	done
	rnd=$((rnd + 1))
done
echo "@@VFB-SMMU-EVENTS $(dmesg | grep -ciE 'arm-smmu.*event|smmu.*fault')"
dmesg | grep -iE 'arm-smmu|smmu' | tail -n 20 | sed 's/^/[vfiobench] L1 dmesg: /'

echo "@@VFB-DONE"
[ $bad = 0 ]
