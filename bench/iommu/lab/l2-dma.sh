# In L2 as /l2tests/iommubench-dma.sh (nbl2.run=iommubench-dma): the L2's
# virtio-rng through VFIO + iommufd, iob.dman=N map+unmap pairs (and N/64 rounds of
# 64 pages batched) timed by viommu-dma itself; iob.dman=0 only sets up.
n=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in iob.dman=*) n=${arg#*=} ;; esac
done
echo "@@IOB-GROUPS $(cat /sys/kernel/iommu_groups/*/type 2>/dev/null | tr '\n' ' ')"
echo "@@IOB-BEGIN"
if [ "$n" -gt 0 ]; then
	/l2bin/viommu-dma --bench "$n"
else
	/l2bin/viommu-dma
fi
rc=$?
echo "@@IOB-END"
# Let L1's poller read the counters before the VM goes away.
sleep 1
exit $rc
