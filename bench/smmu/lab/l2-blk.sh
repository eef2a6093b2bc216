# In L2 as /l2tests/smmubench-blk.sh (nbl2.run=smmubench-blk): smb.ops
# 4 KiB O_DIRECT random reads on /dev/vda (blkbench, queue depth 1)
# between the markers L1 snapshots its KVM counters on; then blkbench's
# line and the disk's completed reads over the test. smb.ops=0: set-up
# run (boot and probe only).
ops=500
for arg in $(cat /proc/cmdline); do
	case "$arg" in smb.ops=*) ops=${arg#*=} ;; esac
done
[ -b /dev/vda ] || { echo "@@SMB-ERR no /dev/vda"; exit 1; }
echo "@@SMB-GROUPS $(cat /sys/kernel/iommu_groups/*/type 2>/dev/null | tr '\n' ' ')"
[ "$ops" -gt 0 ] || exit 0
r0=$(awk '{ print $1 }' /sys/block/vda/stat)
echo "@@SMB-BEGIN"
sleep 1
/l2bench/blkbench --mode direct --tag L2 --tests randread --rand-ops "$ops" \
	--rand-secs 120 /dev/vda >/tmp/r.json
rc=$?
echo "@@SMB-END"
sleep 1
echo "@@SMB-IO {\"reads\":$(($(awk '{ print $1 }' /sys/block/vda/stat) - r0)),\"blkbench\":$(cat /tmp/r.json)}"
exit $rc
