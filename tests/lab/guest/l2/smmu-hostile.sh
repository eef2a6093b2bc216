# The kernel runs without its arm-smmu-v3 driver (initcall_blacklist), so
# the SMMU is nobody's: smmu-attack takes it over through /dev/mem and
# attacks it, with DMA from the virtio-blk device it takes from the
# kernel. Afterwards the kernel gets the disk back (the SMMU is off again,
# bypassing) and the virtio-rng outside the SMMU must have kept working.
d=$(ls -d /sys/class/iommu/smmu3.* 2>/dev/null | wc -l)
echo "NBL2: smmuv3 instances=$d"
dmesg | grep -i 'arm-smmu' | sed 's/^/NBL2: dmesg: /'
[ "$d" = 0 ] || { echo "NBL2: FAIL the arm-smmu-v3 driver is bound"; exit 1; }
blk=""
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/device")" = 0x1042 ] && blk=$(basename "$d")
done
[ -n "$blk" ] || { echo "NBL2: FAIL no virtio-blk"; exit 1; }
n=$(cat /sys/bus/pci/devices/$blk/virtio*/block/*/size)
echo "NBL2: blk $blk sectors=$n"
echo "$blk" >/sys/bus/pci/drivers/virtio-pci/unbind
rc=0
/l2bin/smmu-attack 0x1042 || rc=1
echo "NBL2: smmu-attack rc=$rc"
# The disk, back with its kernel driver.
echo "$blk" >/sys/bus/pci/drivers_probe
dev=$(ls /sys/bus/pci/devices/$blk/virtio*/block/ 2>/dev/null | head -1)
echo "NBL2: blk rebound as '$dev'"
if [ -n "$dev" ]; then
	n=$(dd if=/dev/$dev bs=4096 count=256 2>/dev/null | wc -c)
	echo "NBL2: blk after the attack bytes=$n"
fi
n=$(head -c 4096 /dev/hwrng | wc -c)
echo "NBL2: hwrng after the attack bytes=$n"
sh /l2tests/rng.sh || rc=1
exit $rc
