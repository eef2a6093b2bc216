# The virtio-iommu as L2's kernel sees it: the driver bound, one IOMMU
# group per endpoint (aliased functions share one), the default domain
# type (DMA: strict, DMA-FQ: lazy, identity: passthrough).
d=$(ls /sys/bus/virtio/drivers/virtio_iommu 2>/dev/null | grep -c '^virtio')
echo "NBL2: virtio_iommu devices=$d"
[ "$d" = 1 ] || exit 1
for g in /sys/kernel/iommu_groups/*; do
	[ -d "$g" ] || continue
	echo "NBL2: iommu group $(basename "$g") type=$(cat "$g/type")" \
		"devices=$(ls "$g/devices" | tr '\n' ' ')"
done
n=$(ls /sys/kernel/iommu_groups | wc -l)
echo "NBL2: iommu groups=$n"
[ "$n" -gt 0 ]
