# lab: timeout=3600
# The block benchmark "scenario": runs inside the emulated arm64 host (L1) as
# /lab/scenarios/blkbench.sh, started by tests/lab/guest/l1-init (which has
# sourced /lab/lib.sh). It creates one raw image on L1's /tmp (tmpfs), then
# for each round runs blkbench on that image file in L1 directly, and boots
# nestbox with the image as a virtio-blk disk (PCI) and runs blkbench in L2
# on /dev/vda (bench/block/lab/l2-blkbench.sh). Results: one
# "@@BLK {json}" line per test, "side" and "round" added; progress lines
# start with "[blkbench]". Parameters from the kernel command line:
#   blkbench.runs=N       rounds (default 3)
#   blkbench.imgmib=N     image size in MiB (default 128)
#   blkbench.seqmib=N     sequential bytes per test, MiB (default 64)
#   blkbench.seqmin=S     sequential minimum time per test (default 2)
#   blkbench.seqsecs=S    sequential time cap per test (default 30)
#   blkbench.randsecs=S   random test length (default 10)
#   blkbench.cpus=C       L2 vCPUs (default 1)
#   blkbench.mem=MIB      L2 RAM (default 256)
#   blkbench.l1mode=M     blkbench --mode in L1 (default buffered)
#   blkbench.timeout=SEC  per L2 boot (default 300)
#   blkbench.kvmstats=1   sample L1 KVM's debugfs counters at the L2 test
#                         boundaries ("@@BLK-KVM" lines; a poller runs
#                         in L1 during the L2 run, so off by default)

runs=3
imgmib=128
seqmib=64
seqmin=2
seqsecs=30
randsecs=10
cpus=1
mem=256
l1mode=buffered
l2timeout=300
kvmstats=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	blkbench.runs=*) runs=${arg#*=} ;;
	blkbench.imgmib=*) imgmib=${arg#*=} ;;
	blkbench.seqmib=*) seqmib=${arg#*=} ;;
	blkbench.seqmin=*) seqmin=${arg#*=} ;;
	blkbench.seqsecs=*) seqsecs=${arg#*=} ;;
	blkbench.randsecs=*) randsecs=${arg#*=} ;;
	blkbench.cpus=*) cpus=${arg#*=} ;;
	blkbench.mem=*) mem=${arg#*=} ;;
	blkbench.l1mode=*) l1mode=${arg#*=} ;;
	blkbench.timeout=*) l2timeout=${arg#*=} ;;
	blkbench.kvmstats=*) kvmstats=${arg#*=} ;;
	esac
done
BB=/lab/blkbench/blkbench
img=/tmp/blk.img
# One blkbench run in L1 cannot take longer than this.
l1timeout=$((2 * seqsecs + 2 * randsecs + 120))
bad=0

# summarize SIDE ROUND FILE: the JSON lines, tagged, and one progress line each.
summarize() {
	while IFS= read -r l; do
		case "$l" in '{'*) ;; *) continue ;; esac
		echo "@@BLK {\"side\":\"$1\",\"round\":$2,${l#?}"
		t=$(echo "$l" | sed -n 's/.*"test":"\([a-z]*\)".*/\1/p')
		m=$(echo "$l" | sed -n 's/.*"mode":"\([a-z]*\)".*/\1/p')
		case "$t" in
		seq*) v="$(echo "$l" | sed -n 's/.*"mib_s":\([0-9.]*\).*/\1/p') MiB/s" ;;
		*) v="$(echo "$l" | sed -n 's/.*"iops":\([0-9.]*\).*/\1/p') IOPS" ;;
		esac
		p50=$(echo "$l" | sed -n 's/.*"p50":\([0-9.]*\).*/\1/p')
		p99=$(echo "$l" | sed -n 's/.*"p99":\([0-9.]*\).*/\1/p')
		echo "[blkbench]   $1 $t: $v ($m; latency p50 ${p50} us, p99 ${p99} us)"
	done <"$3"
}

# kvm_watch ROUND: while /tmp/l2.raw grows, print an "@@BLK-KVM" line with
# KVM's global counters each time a new @@BLK-BEGIN/END marker appears.
kvm_watch() {
	d=/sys/kernel/debug/kvm
	seen=" "
	while [ ! -f /tmp/l2.done ]; do
		for m in $(tr -d '\r' </tmp/l2.raw 2>/dev/null | sed -n 's/^@@BLK-\(BEGIN\|END\) \([a-z]*\)$/\1:\2/p'); do
			case "$seen" in *" $m "*) continue ;; esac
			seen="$seen$m "
			up=$(cut -d' ' -f1 /proc/uptime)
			j="{\"round\":$1,\"mark\":\"${m%%:*}\",\"test\":\"${m#*:}\",\"t\":$up"
			for f in exits mmio_exit_user mmio_exit_kernel wfi_exit_stat halt_wakeup halt_wait_ns signal_exits irq_exits; do
				[ -f $d/$f ] && j="$j,\"$f\":$(cat $d/$f)"
			done
			echo "@@BLK-KVM $j}"
		done
		sleep 0.5
	done
}

echo "[blkbench] L1: $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, $(sed -n 's/MemTotal: *//p' /proc/meminfo) RAM, /tmp is $(sed -n 's|^[^ ]* /tmp \([^ ]*\) .*|\1|p' /proc/mounts)"
echo "[blkbench] nestbox: $(/bin/nestbox --version 2>&1)"
echo "[blkbench] image $img ${imgmib} MiB; seq ${seqmib} MiB (at least ${seqmin}s, at most ${seqsecs}s), random ${randsecs}s; L1 mode $l1mode, L2 O_DIRECT on /dev/vda; L2 ${cpus} vCPU(s), ${mem} MiB"
dd if=/dev/zero of=$img bs=1048576 count="$imgmib" 2>/dev/null || { echo "[blkbench] cannot create $img"; exit 1; }
echo "@@BLK-META {\"runs\":$runs,\"img_mib\":$imgmib,\"seq_mib\":$seqmib,\"seq_min_secs\":$seqmin,\"seq_secs\":$seqsecs,\"rand_secs\":$randsecs,\"l2_cpus\":$cpus,\"l2_mem_mib\":$mem,\"l1_mode\":\"$l1mode\",\"l2_mode\":\"direct\",\"kvmstats\":$kvmstats,\"l1_kernel\":\"$(uname -r)\",\"l1_tmp_fs\":\"$(sed -n 's|^[^ ]* /tmp \([^ ]*\) .*|\1|p' /proc/mounts)\",\"nestbox\":\"$(/bin/nestbox --version 2>&1)\"}"

i=1
while [ $i -le "$runs" ]; do
	echo "[blkbench] round $i/$runs: L1 (blkbench --mode $l1mode on $img)"
	timeout -s KILL $l1timeout $BB --mode "$l1mode" --tag L1 --seq-mib "$seqmib" \
		--seq-min-secs "$seqmin" --seq-secs "$seqsecs" --rand-secs "$randsecs" $img >/tmp/l1.json 2>/tmp/l1.err
	rc=$?
	summarize L1 $i /tmp/l1.json
	if [ $rc != 0 ]; then
		bad=1
		echo "[blkbench]   L1 blkbench exit status $rc:"
		sed 's/^/[blkbench]     /' /tmp/l1.err
	fi

	echo "[blkbench] round $i/$runs: L2 (nestbox --disk $img, O_DIRECT on /dev/vda)"
	t0=$(date +%s)
	rm -f /tmp/l2.done
	: >/tmp/l2.raw
	wpid=""
	if [ "$kvmstats" = 1 ]; then
		kvm_watch $i &
		wpid=$!
	fi
	timeout -s KILL "$l2timeout" /bin/nestbox run --kernel "$L2_LAB_KERNEL" \
		--initrd "$L2_LAB_INITRD" --cpus "$cpus" --memory "${mem}M" --disk "$img" \
		--console stdio \
		--cmdline "console=ttyAMA0 quiet nbl2.run=blkbench nbl2.action=poweroff blkbench.seqmib=$seqmib blkbench.seqmin=$seqmin blkbench.seqsecs=$seqsecs blkbench.randsecs=$randsecs" \
		</dev/null >/tmp/l2.raw 2>/tmp/l2.err
	rc=$?
	touch /tmp/l2.done
	[ -z "$wpid" ] || wait $wpid
	tr -d '\r' </tmp/l2.raw >/tmp/l2.out
	sed -n 's/^@@BLK //p' /tmp/l2.out >/tmp/l2.json
	sed -n 's/^@@BLK-INFO /[blkbench]   /p' /tmp/l2.out
	summarize L2 $i /tmp/l2.json
	echo "[blkbench]   nestbox exit status $rc after $(($(date +%s) - t0)) s"
	if [ $rc != 0 ] || ! grep -q "NBL2: run blkbench rc=0" /tmp/l2.out; then
		bad=1
		echo "[blkbench]   L2 run failed; nestbox stderr and guest output:"
		sed 's/^/[blkbench]     /' /tmp/l2.err | tail -20
		sed 's/^/[blkbench]     /' /tmp/l2.out | tail -30
	fi
	i=$((i + 1))
done
echo "@@BLK-DONE"
[ $bad = 0 ]
