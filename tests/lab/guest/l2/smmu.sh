# The emulated SMMUv3 as L2's kernel sees it: arm-smmu-v3 bound to the
# platform device, its interrupts (MSIs through the ITS, or wired SPIs),
# one IOMMU group per stream, the default domain type.
dmesg | grep -i 'smmu' | sed 's/^/NBL2: dmesg: /' | head -20
d=$(ls -d /sys/class/iommu/smmu3.* 2>/dev/null | wc -l)
echo "NBL2: smmuv3 instances=$d"
[ "$d" = 1 ] || exit 1
grep -i 'smmu\|arm-smmu' /proc/interrupts | sed 's/^/NBL2: irq: /'
for g in /sys/kernel/iommu_groups/*; do
	[ -d "$g" ] || continue
	echo "NBL2: iommu group $(basename "$g") type=$(cat "$g/type")" \
		"devices=$(ls "$g/devices" | tr '\n' ' ')"
	echo "NBL2: iommu group $(basename "$g") resv: $(tr '\n' ';' <"$g/reserved_regions")"
done
n=$(ls /sys/kernel/iommu_groups | wc -l)
echo "NBL2: iommu groups=$n"
[ "$n" -gt 0 ]
