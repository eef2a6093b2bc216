# lab: timeout=3600
# The virtio-iommu benchmark "scenario", run in the emulated arm64 host (L1)
# as /lab/scenarios/iommubench.sh by tests/lab/guest/l1-init (lib.sh sourced).
# Per round:
#   dma       nestbox --iommu virtio --rng; L2 runs viommu-dma --bench N
#             (IOAS map/unmap through VFIO+iommufd = virtio-iommu requests)
#   blk       nestbox --disk, 4 KiB O_DIRECT random reads in L2 (blkbench),
#             without --iommu (none) and behind the virtio-iommu, strict and lazy
#   qemu blk  the same three under Debian's qemu-system-aarch64 -accel kvm
#             with -device virtio-iommu-pci (when iob.qemu=1)
# Once before the rounds: a dma run without --bench (setup-only requests).
# L1 KVM's global debugfs counters are read when L1 sees the L2's
# @@IOB-BEGIN/@@IOB-END markers (0.2 s poller). One "@@IOB {json}" line per
# run; progress lines start with "[iommubench]". Parameters:
#   iob.runs=N  iob.secs=S (random-read length)  iob.dman=N (--bench N)
#   iob.qemu=0|1  iob.timeout=SEC (per L2 run)
runs=3
secs=10
dman=2000
qemu=1
l2timeout=300
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	iob.runs=*) runs=${arg#*=} ;;
	iob.secs=*) secs=${arg#*=} ;;
	iob.dman=*) dman=${arg#*=} ;;
	iob.qemu=*) qemu=${arg#*=} ;;
	iob.timeout=*) l2timeout=${arg#*=} ;;
	esac
done
img=/tmp/iob.img
QEMU=/usr/bin/qemu-system-aarch64
KSTATS="exits mmio_exit_user mmio_exit_kernel wfi_exit_stat hvc_exit_stat halt_wakeup irq_exits signal_exits"
bad=0
say() { echo "[iommubench] $*"; }

# kvm_json: L1 KVM's global counters as a JSON object.
kvm_json() {
	j="\"t\":$(cut -d' ' -f1 /proc/uptime)"
	for f in $KSTATS; do
		[ -f /sys/kernel/debug/kvm/$f ] && j="$j,\"$f\":$(cat /sys/kernel/debug/kvm/$f)"
	done
	echo "{$j}"
}

# watch NAME: until /tmp/NAME.done exists, snapshot the counters into
# /tmp/NAME.kb and /tmp/NAME.ke when the L2's markers show up.
watch() {
	while [ ! -f /tmp/$1.done ]; do
		if [ ! -s /tmp/$1.kb ] && grep -q '^@@IOB-BEGIN' /tmp/$1.raw 2>/dev/null; then
			kvm_json >/tmp/$1.kb
		fi
		if [ ! -s /tmp/$1.ke ] && grep -q '^@@IOB-END' /tmp/$1.raw 2>/dev/null; then
			kvm_json >/tmp/$1.ke
			return
		fi
		sleep 0.2
	done
}

# l2run NAME ROUND VMM MODE TEST COMMAND...: run one L2, print its @@IOB line.
l2run() {
	name=$1 round=$2 vmm=$3 mode=$4 test=$5
	shift 5
	rm -f /tmp/$name.done /tmp/$name.kb /tmp/$name.ke
	: >/tmp/$name.raw
	watch "$name" &
	wpid=$!
	t0=$(date +%s)
	timeout -s KILL "$l2timeout" "$@" </dev/null >/tmp/$name.raw 2>/tmp/$name.err
	rc=$?
	touch /tmp/$name.done
	wait $wpid
	tr -d '\r' </tmp/$name.raw >/tmp/$name.out
	st=$(sed -n 's/.*virtio-iommu: requests attach=\([0-9]*\) detach=\([0-9]*\) map=\([0-9]*\) unmap=\([0-9]*\) probe=\([0-9]*\) failed=\([0-9]*\); translations=\([0-9]*\); faults reported=\([0-9]*\) dropped=\([0-9]*\).*/{"attach":\1,"detach":\2,"map":\3,"unmap":\4,"probe":\5,"failed":\6,"translations":\7,"faults":\8,"dropped":\9}/p' /tmp/$name.err | tail -n1)
	blk=$(sed -n 's/^@@IOB-BLK //p' /tmp/$name.out | tail -n1)
	vda=$(sed -n 's/^@@IOB-VDA //p' /tmp/$name.out | tail -n1 | tr -s ' ' ',' | sed 's/^,//;s/,$//')
	single=$(sed -n 's/.*viommu-dma: bench single map+unmap pairs\/s=\([0-9.]*\) (\([0-9]*\) pairs in \([0-9.]*\) s).*/{"per_s":\1,"n":\2,"secs":\3}/p' /tmp/$name.out)
	batch=$(sed -n 's/.*viommu-dma: bench batched pages\/s=\([0-9.]*\) (\([0-9]*\) x \([0-9]*\) pages in \([0-9.]*\) s).*/{"per_s":\1,"rounds":\2,"pages":\3,"secs":\4}/p' /tmp/$name.out)
	groups=$(sed -n 's/^@@IOB-GROUPS //p' /tmp/$name.out | tail -n1)
	ok=false
	grep -q "NBL2: run iommubench-$test rc=0" /tmp/$name.out && [ $rc = 0 ] && ok=true
	echo "@@IOB {\"round\":$round,\"vmm\":\"$vmm\",\"mode\":\"$mode\",\"test\":\"$test\",\"rc\":$rc,\"ok\":$ok,\"wall_s\":$(($(date +%s) - t0)),\"viommu\":${st:-null},\"kvm_begin\":$(cat /tmp/$name.kb 2>/dev/null || echo null),\"kvm_end\":$(cat /tmp/$name.ke 2>/dev/null || echo null),\"blk\":${blk:-null},\"vda_stat\":[${vda}],\"single\":${single:-null},\"batched\":${batch:-null},\"groups\":\"$groups\"}"
	line="$vmm $mode $test: rc=$rc"
	[ -z "$blk" ] || line="$line, $(echo "$blk" | sed -n 's/.*"iops":\([0-9.]*\).*/\1/p') IOPS"
	[ -z "$single" ] || line="$line, $(echo "$single" | sed -n 's/.*"per_s":\([0-9.]*\).*/\1/p') map+unmap pairs/s"
	[ -z "$batch" ] || line="$line, $(echo "$batch" | sed -n 's/.*"per_s":\([0-9.]*\).*/\1/p') pages/s batched"
	[ -z "$st" ] || line="$line; nestbox $(echo "$st" | sed 's/[{}"]//g;s/:/=/g;s/,/ /g' | cut -d' ' -f3,4,7)"
	say "  $line ($(($(date +%s) - t0)) s)"
	if [ $ok != true ]; then
		bad=1
		say "  $name failed; stderr and guest output (tails):"
		tail -n 15 /tmp/$name.err | sed 's/^/[iommubench]     /'
		tail -n 25 /tmp/$name.out | sed 's/^/[iommubench]     /'
	fi
}

L2C="console=ttyAMA0 quiet nbl2.action=poweroff"
nb() { # NAME ROUND MODE TEST EXTRA-NESTBOX-ARGS CMDLINE-TAIL
	n=$1 r=$2 m=$3 t=$4 x=$5 c=$6
	l2run "$n" "$r" nestbox "$m" "$t" /bin/nestbox run -v --kernel "$L2_LAB_KERNEL" \
		--initrd "$L2_LAB_INITRD" --cpus 1 --memory 256M $x \
		--cmdline "$L2C nbl2.run=iommubench-$t $c"
}
# QEMU's virtio-pci devices offer VIRTIO_F_ACCESS_PLATFORM only with
# iommu_platform=on, and only when modern-only (disable-legacy=on, as
# nestbox's are); without it L2's virtio driver bypasses the DMA API and
# nothing goes through the virtio-iommu.
VIOMMU_QEMU=",iommu_platform=on -device virtio-iommu-pci"
qm() { # NAME ROUND MODE EXTRA-BLK-DEVICE-PROPS-AND-ARGS CMDLINE-TAIL
	n=$1 r=$2 m=$3 x=$4 c=$5
	l2run "$n" "$r" qemu "$m" blk $QEMU -M virt,gic-version=3 -accel kvm -cpu host \
		-smp 1 -m 256M -kernel "$L2_LAB_KERNEL" -initrd "$L2_LAB_INITRD" \
		-append "$L2C nbl2.run=iommubench-blk $c" -nic none -display none \
		-monitor none -serial stdio -no-reboot \
		-drive file=$img,if=none,id=d0,format=raw -device virtio-blk-pci,drive=d0,disable-legacy=on$x
}
STRICT="iommu.passthrough=0 iommu.strict=1"
LAZY="iommu.passthrough=0 iommu.strict=0"

say "L1: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs; nestbox: $(/bin/nestbox --version 2>&1)"
if [ "$qemu" = 1 ]; then
	if $QEMU --version >/tmp/qemu.version 2>&1; then
		say "qemu: $(head -1 /tmp/qemu.version)"
	else
		say "qemu-system-aarch64 does not start; no QEMU peer:"
		sed 's/^/[iommubench]   /' /tmp/qemu.version
		qemu=0
	fi
fi
dd if=/dev/zero of=$img bs=1048576 count=64 2>/dev/null || { say "cannot create $img"; exit 1; }
echo "@@IOB-META {\"runs\":$runs,\"secs\":$secs,\"dma_n\":$dman,\"qemu\":$qemu,\"l1_kernel\":\"$(uname -r)\",\"nestbox\":\"$(/bin/nestbox --version 2>&1)\",\"qemu_version\":\"$(head -1 /tmp/qemu.version 2>/dev/null)\",\"l2\":\"1 vCPU, 256 MiB, lab kernel\"}"

say "setup-only dma run (viommu-dma without --bench: the requests to subtract)"
nb dma0 0 strict dma "--iommu virtio --rng" "$STRICT iob.dman=0"
i=1
while [ $i -le "$runs" ]; do
	say "round $i/$runs: nestbox viommu-dma --bench $dman"
	nb dma$i $i strict dma "--iommu virtio --rng" "$STRICT iob.dman=$dman"
	say "round $i/$runs: 4 KiB O_DIRECT random reads for ${secs}s: nestbox none, strict, lazy"
	nb none$i $i none blk "--disk $img" "iob.secs=$secs"
	nb strict$i $i strict blk "--iommu virtio --disk $img" "$STRICT iob.secs=$secs"
	nb lazy$i $i lazy blk "--iommu virtio --disk $img" "$LAZY iob.secs=$secs"
	if [ "$qemu" = 1 ]; then
		say "round $i/$runs: the same under QEMU: none, strict, lazy"
		qm qnone$i $i none "" "iob.secs=$secs"
		qm qstrict$i $i strict "$VIOMMU_QEMU" "$STRICT iob.secs=$secs"
		qm qlazy$i $i lazy "$VIOMMU_QEMU" "$LAZY iob.secs=$secs"
	fi
	i=$((i + 1))
done
echo "@@IOB-DONE"
[ $bad = 0 ]
