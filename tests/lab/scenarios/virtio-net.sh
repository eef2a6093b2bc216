# lab: timeout=900
# virtio-net on a tap that nestbox creates in a private network namespace
# of L1 (link-local addresses; nothing leaves the emulated host): ping and
# 4 MiB each way with checksums, over PCI, behind the PCIe-to-PCI bridge,
# over MMIO, and over PCI behind the virtio-iommu (L2 in strict and lazy
# DMA modes).
mkdir -p /tmp/www
yes nestbox-net-pattern-down | head -c 4194304 >/tmp/www/data
down=$(md5sum </tmp/www/data | cut -d' ' -f1)
up=$(yes nestbox-net-pattern-up | head -c 4194304 | md5sum | cut -d' ' -f1)

for t in pci bridge mmio viommu viommu-lazy; do
	spec="tap=nbtap0,transport=$t"
	extra=""
	kargs=""
	[ $t = bridge ] && spec="tap=nbtap0,bus=bridge"
	case $t in viommu*)
		spec="tap=nbtap0"
		extra="--iommu virtio"
		kargs="iommu.passthrough=0 iommu.strict=1"
		[ $t = viommu-lazy ] && kargs="iommu.passthrough=0 iommu.strict=0"
	esac
	net_vmm "net-$t" "$up" 300 -v --kernel "$L2_LAB_KERNEL" \
		--initrd "$L2_LAB_INITRD" --memory 256M --net "$spec" $extra \
		--cmdline "console=ttyAMA0 quiet $kargs nbl2.run=net nbl2.action=poweroff"
	grep NBL2 /tmp/net-$t.out
	expect_rc net-$t 0
	expect_out net-$t "NBL2: net ping ok"
	expect_out net-$t "NBL2: net rx sum=$down"
	expect_out net-$t "NBL2: net tx acked $up"
	expect_out net-$t "NBL2: run net rc=0"
done
# Translated: the guest mapped its buffers and nestbox translated them.
expect_err net-viommu "virtio-net.* is behind the virtio-iommu"
expect_err net-viommu "virtio-iommu: requests .* map=[1-9][0-9]* .*translations=[1-9][0-9]*; faults reported=0"
expect_err net-viommu-lazy "virtio-iommu: requests .* map=[1-9][0-9]* .*translations=[1-9][0-9]*; faults reported=0"
