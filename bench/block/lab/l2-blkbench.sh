# Runs in the L2 guest as /l2tests/blkbench.sh (l2-init, nbl2.run=blkbench):
# blkbench with O_DIRECT on /dev/vda, the virtio-blk disk nestbox serves.
# Every result line is printed as "@@BLK {json}" on the console. Parameters
# from the kernel command line (set by bench/block/lab/blkbench.sh):
#   blkbench.seqmib=N blkbench.seqmin=S blkbench.seqsecs=S blkbench.randsecs=S
seqmib=64
seqmin=2
seqsecs=30
randsecs=10
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	blkbench.seqmib=*) seqmib=${arg#*=} ;;
	blkbench.seqmin=*) seqmin=${arg#*=} ;;
	blkbench.seqsecs=*) seqsecs=${arg#*=} ;;
	blkbench.randsecs=*) randsecs=${arg#*=} ;;
	esac
done
dev=/dev/vda
[ -b $dev ] || { echo "@@BLK-ERR no $dev"; exit 1; }
echo "@@BLK-INFO L2 $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs, $dev $(($(cat /sys/block/vda/size) / 2048)) MiB, scheduler $(cat /sys/block/vda/queue/scheduler 2>/dev/null), write cache $(cat /sys/block/vda/queue/write_cache 2>/dev/null), max_sectors_kb $(cat /sys/block/vda/queue/max_sectors_kb 2>/dev/null)"
# One blkbench per test, between markers: with blkbench.kvmstats=1 the L1
# side samples KVM's counters when it sees them.
rc=0
for t in seqwrite seqread randread randwrite; do
	echo "@@BLK-BEGIN $t"
	/l2bench/blkbench --mode direct --tag L2 --tests $t --seq-mib "$seqmib" \
		--seq-min-secs "$seqmin" --seq-secs "$seqsecs" --rand-secs "$randsecs" \
		$dev >/tmp/blk-$t.json || rc=1
	echo "@@BLK-END $t"
done
for t in seqwrite seqread randread randwrite; do
	sed 's/^/@@BLK /' /tmp/blk-$t.json
done
exit $rc
