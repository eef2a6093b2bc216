# lab: timeout=3600
# The SMMUv3 nesting benchmark "scenario", run in the emulated arm64 host
# (L1) as /lab/scenarios/smmubench.sh by tests/lab/guest/l1-init (lib.sh
# sourced). The host has two e1000e on one QEMU hub (bench/smmu/run adds
# them): NIC A goes to vfio-pci for L2, NIC B stays with L1 as
# 169.254.78.1 and serves smb.bytes over busybox httpd.
# Sets (smb.sets, comma separated), each IOMMU run in strict
# (iommu.strict=1) and lazy (iommu.strict=0, DMA-FQ) mode:
#   nic  nestbox --vfio A: none (no IOMMU), virtio (--iommu virtio: every
#        map/unmap a virtio-iommu request, mirrored into an iommufd IOAS),
#        smmuv3 (--iommu smmuv3: nested, L2's stage 1 in L1's SMMU);
#        L2 downloads smb.bytes
#   blk  nestbox --disk: none, virtio, smmuv3 (emulated: nestbox walks
#        L2's tables); L2 does smb.ops 4 KiB O_DIRECT random reads
# Round 0: one set-up run per IOMMU configuration (no I/O), whose nestbox
# counters are subtracted from the measured runs'. L1 snapshots the L2
# VM's KVM debugfs stats when it sees L2's @@SMB-BEGIN/@@SMB-END (0.2 s
# poller). One "@@SMB {json}" line per run; progress lines start with
# "[smmubench]". Parameters: smb.runs=N smb.sets=LIST smb.bytes=N smb.ops=N
# smb.timeout=SEC (per L2 run).
runs=3
sets=nic,blk
bytes=2097152
ops=500
l2timeout=300
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	smb.runs=*) runs=${arg#*=} ;;
	smb.sets=*) sets=${arg#*=} ;;
	smb.bytes=*) bytes=${arg#*=} ;;
	smb.ops=*) ops=${arg#*=} ;;
	smb.timeout=*) l2timeout=${arg#*=} ;;
	esac
done
img=/tmp/smb.img
bad=0
say() { echo "[smmubench] $*"; }

NIC=$(find_fn 0x8086 0x10d3 0)
PEER=$(find_fn 0x8086 0x10d3 1)
case ",$sets," in
*,nic,*)
	[ -n "$NIC" ] && [ -n "$PEER" ] || { say "two e1000e expected, found '$NIC' '$PEER'"; exit 1; }
	bind_vfio "$NIC" >/dev/null
	pifc=$(ls "/sys/bus/pci/devices/$PEER/net" | head -1)
	ip link set lo up
	ip link set "$pifc" up
	ip addr add 169.254.78.1/24 dev "$pifc"
	mkdir -p /tmp/www
	yes nestbox-smmubench-pattern | head -c "$bytes" >/tmp/www/data
	want=$(md5sum </tmp/www/data | cut -d' ' -f1)
	httpd -p 169.254.78.1:8080 -h /tmp/www
	;;
esac
dd if=/dev/zero of=$img bs=1048576 count=64 2>/dev/null || { say "cannot create $img"; exit 1; }

# kvm_json: the uptime, L1 KVM's global "exits" and every numeric stat of
# the running VM's debugfs directory (one VM at a time).
. /lab/kvm-stats.sh
kvm_json() {
	echo "{\"t\":$(cut -d' ' -f1 /proc/uptime),$(kvm_vm_json)}"
}

# watch NAME: until /tmp/NAME.done, snapshot the counters into /tmp/NAME.kb
# and /tmp/NAME.ke when L2's markers show up.
watch() {
	while [ ! -f /tmp/$1.done ]; do
		if [ ! -s /tmp/$1.kb ] && grep -q '^@@SMB-BEGIN' /tmp/$1.raw 2>/dev/null; then
			kvm_json >/tmp/$1.kb
		fi
		if [ ! -s /tmp/$1.ke ] && grep -q '^@@SMB-END' /tmp/$1.raw 2>/dev/null; then
			kvm_json >/tmp/$1.ke
			return
		fi
		sleep 0.2
	done
}

# kv PATTERN: the KEY=NUMBER pairs of nestbox's last stderr line matching
# PATTERN as a JSON object (null when there is none).
kv() {
	l=$(grep -- "$1" /tmp/$name.err | tail -n1)
	[ -n "$l" ] || { echo null; return; }
	echo "{$(echo "${l#*$1}" | grep -o '[a-z][a-z-]*=[0-9][0-9]*' |
		sed 's/\(.*\)=\(.*\)/"\1":\2/' | tr '\n' ',' | sed 's/,$//')}"
}

# l2run NAME ROUND SET IOMMU MODE: one nestbox L2, one "@@SMB {json}" line.
l2run() {
	name=$1 round=$2 set=$3 iommu=$4 mode=$5
	rm -f /tmp/$name.*
	: >/tmp/$name.raw
	x="" c="console=ttyAMA0 quiet nbl2.action=poweroff nbl2.run=smmubench-$set"
	[ "$iommu" = none ] || x="--iommu $iommu"
	case "$mode" in
	strict) c="$c iommu.passthrough=0 iommu.strict=1" ;;
	lazy) c="$c iommu.passthrough=0 iommu.strict=0" ;;
	esac
	if [ "$set" = nic ]; then
		x="$x --vfio $NIC"
		c="$c smb.bytes=$([ "$round" = 0 ] && echo 0 || echo "$bytes")"
	else
		x="$x --disk $img"
		c="$c smb.ops=$([ "$round" = 0 ] && echo 0 || echo "$ops")"
	fi
	watch "$name" &
	wpid=$!
	t0=$(date +%s)
	# shellcheck disable=SC2086
	timeout -s KILL "$l2timeout" /bin/nestbox run -v --kernel "$L2_LAB_KERNEL" \
		--initrd "$L2_LAB_INITRD" --cpus 1 --memory 256M $x --cmdline "$c" \
		</dev/null >/tmp/$name.raw 2>/tmp/$name.err
	rc=$?
	touch /tmp/$name.done
	wait $wpid
	tr -d '\r' </tmp/$name.raw >/tmp/$name.out
	io=$(sed -n 's/^@@SMB-IO //p' /tmp/$name.out | tail -n1)
	groups=$(sed -n 's/^@@SMB-GROUPS //p' /tmp/$name.out | tail -n1)
	nest=$(sed -n 's/.*smmuv3 nesting: \([0-9]*\) STE changes, \([0-9]*\) attaches, \([0-9]*\) nested HWPTs allocated; \([0-9]*\) commands in \([0-9]*\) HWPT_INVALIDATE ioctls (\([0-9]*\) failed); host events \([0-9]*\), lost \([0-9]*\).*/{"ste_changes":\1,"attaches":\2,"hwpts":\3,"commands":\4,"ioctls":\5,"failed":\6,"host_events":\7,"lost":\8}/p' /tmp/$name.err | tail -n1)
	ioas=$(sed -n 's/.*IOAS mirror: \([0-9]*\) device moves, \([0-9]*\) IOAS maps, \([0-9]*\) unmaps, \([0-9]*\) failures.*/{"moves":\1,"maps":\2,"unmaps":\3,"failures":\4}/p' /tmp/$name.err | tail -n1)
	ok=false
	grep -q "NBL2: run smmubench-$set rc=0" /tmp/$name.out && [ $rc = 0 ] && ok=true
	if [ "$round" != 0 ]; then
		[ -n "$io" ] && [ -s /tmp/$name.kb ] && [ -s /tmp/$name.ke ] || ok=false
		[ "$set" != nic ] || echo "$io" | grep -q "\"md5\":\"$want\"" || ok=false
	fi
	echo "@@SMB {\"round\":$round,\"set\":\"$set\",\"iommu\":\"$iommu\",\"mode\":\"$mode\",\"rc\":$rc,\"ok\":$ok,\"wall_s\":$(($(date +%s) - t0)),\"groups\":\"$groups\",\"io\":${io:-null},\"viommu\":$(kv 'virtio-iommu: requests '),\"smmu\":$(kv 'smmuv3: commands'),\"nest\":${nest:-null},\"ioas\":${ioas:-null},\"kvm_begin\":$(cat /tmp/$name.kb 2>/dev/null || echo null),\"kvm_end\":$(cat /tmp/$name.ke 2>/dev/null || echo null)}"
	line="$set $iommu $mode: rc=$rc"
	if [ -s /tmp/$name.kb ] && [ -s /tmp/$name.ke ]; then
		e() { sed -n "s/.*\"vm\":{.*\"$1\":\([0-9]*\).*/\1/p" "$2"; }
		line="$line, L1 KVM exits $(($(e exits /tmp/$name.ke) - $(e exits /tmp/$name.kb)))"
		line="$line (to userspace $(($(e mmio_exit_user /tmp/$name.ke) - $(e mmio_exit_user /tmp/$name.kb))))"
	fi
	[ -z "$io" ] || line="$line; L2 $(echo "$io" | sed 's/"blkbench":.*//;s/"md5":"[0-9a-f]*"//;s/[{}"]//g;s/,*$//;s/:/=/g;s/,/ /g')"
	l=$(grep 'virtio-iommu: requests ' /tmp/$name.err | tail -n1)
	[ -z "$l" ] || line="$line; nestbox $(echo "$l" | grep -o 'map=[0-9]* unmap=[0-9]*')"
	l=$(grep 'smmuv3: commands' /tmp/$name.err | tail -n1)
	[ -z "$l" ] || line="$line; nestbox $(echo "$l" | grep -o 'tlbi=[0-9]*\|sync=[0-9]*\|walks=[0-9]*' | tr '\n' ' ')"
	[ -z "$nest" ] || line="$line; HWPT_INVALIDATE $(echo "$nest" | sed 's/.*"commands":\([0-9]*\),"ioctls":\([0-9]*\).*/\1 commands in \2 ioctls/')"
	say "  $line ($(($(date +%s) - t0)) s)"
	if [ $ok != true ]; then
		bad=1
		say "  $name failed; stderr and guest output (tails):"
		tail -n 15 /tmp/$name.err | sed 's/^/[smmubench]     /'
		tail -n 25 /tmp/$name.out | sed 's/^/[smmubench]     /'
	fi
}

say "L1: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs; nestbox: $(/bin/nestbox --version 2>&1)"
echo "@@SMB-META {\"runs\":$runs,\"sets\":\"$sets\",\"bytes\":$bytes,\"ops\":$ops,\"nic\":\"$NIC\",\"l1_kernel\":\"$(uname -r)\",\"nestbox\":\"$(/bin/nestbox --version 2>&1)\",\"l2\":\"1 vCPU, 256 MiB, lab kernel\"}"
for set in $(echo "$sets" | tr , ' '); do
	say "$set: set-up runs (no I/O; their nestbox counters are subtracted)"
	for m in strict lazy; do
		for im in virtio smmuv3; do
			l2run $set-$im-$m-0 0 $set $im $m
		done
	done
	i=1
	while [ $i -le "$runs" ]; do
		say "$set: round $i/$runs: none, then virtio and smmuv3 in strict and lazy mode"
		l2run $set-none-$i $i $set none none
		for m in strict lazy; do
			# Alternate which IOMMU goes first.
			if [ $((i % 2)) = 1 ]; then ims="virtio smmuv3"; else ims="smmuv3 virtio"; fi
			for im in $ims; do
				l2run $set-$im-$m-$i $i $set $im $m
			done
		done
		i=$((i + 1))
	done
done
killall httpd 2>/dev/null
echo "@@SMB-SMMU-L1 $(dmesg | grep -ciE 'arm-smmu.*event|smmu.*fault')"
echo "@@SMB-DONE"
[ $bad = 0 ]
