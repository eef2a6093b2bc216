# In L2 as /l2tests/iommubench-blk.sh (nbl2.run=iommubench-blk): 4 KiB
# O_DIRECT random reads on /dev/vda for iob.secs seconds, between markers
# that L1 times its KVM counters on; then the result, the disk's I/O counts
# (/sys/block/vda/stat) and the IOMMU groups' domain types.
secs=10
for arg in $(cat /proc/cmdline); do
	case "$arg" in iob.secs=*) secs=${arg#*=} ;; esac
done
[ -b /dev/vda ] || { echo "@@IOB-ERR no /dev/vda"; exit 1; }
echo "@@IOB-GROUPS $(cat /sys/kernel/iommu_groups/*/type 2>/dev/null | tr '\n' ' ')"
echo "@@IOB-BEGIN"
/l2bench/blkbench --mode direct --tag L2 --tests randread --rand-secs "$secs" /dev/vda >/tmp/r.json
rc=$?
echo "@@IOB-END"
echo "@@IOB-BLK $(cat /tmp/r.json)"
echo "@@IOB-VDA $(cat /sys/block/vda/stat)"
exit $rc
