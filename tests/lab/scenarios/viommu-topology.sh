# lab: timeout=480
# Where the virtio-iommu sits and who is behind it, as L2 Linux sees it:
# the IOMMU on virtio-mmio serving an MMIO disk and a PCI device; aliased
# functions behind the PCIe-to-PCI bridge in one IOMMU group; a device
# left out with iommu=off; identity (bypass) domains with
# iommu.passthrough=1; and config.bypass for a guest whose kernel has no
# virtio-iommu driver (bypass=on lets its DMA through, bypass=off not).
dd if=/dev/zero of=/tmp/t.img bs=1048576 count=16 2>/dev/null
l2() { # name kernel-args nbl2-runs nestbox-args...
	n=$1 k=$2 r=$3
	shift 3
	run_vmm "$n" run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
		--memory 256M "$@" \
		--cmdline "console=ttyAMA0 quiet $k nbl2.run=$r nbl2.action=poweroff"
	grep NBL2 "/tmp/$n.out"
	expect_rc "$n" 0
}

l2 mmio "iommu.passthrough=0" viommu,viommu-groups,blk-write,rng \
	--iommu virtio,transport=mmio --disk /tmp/t.img,transport=mmio --rng
expect_out mmio "NBL2: run viommu rc=0"
expect_out mmio "NBL2: mmio .*virtio_mmio group=[0-9]"
expect_out mmio "NBL2: pci .* device=0x1044 group=[0-9]"
expect_out mmio "NBL2: run blk-write rc=0"
expect_out mmio "NBL2: run rng rc=0"
expect_err mmio "virtio-iommu: requests .* map=[1-9]"

l2 bridge "iommu.passthrough=0" viommu,viommu-groups,blk-verify,rng \
	--iommu virtio --disk /tmp/t.img,bus=bridge --rng=bridge
expect_out bridge "NBL2: run blk-verify rc=0"
expect_out bridge "NBL2: run rng rc=0"
g1=$(sed -n 's/^NBL2: pci 0000:01:00.0 .* group=\([0-9]*\)$/\1/p' /tmp/bridge.out)
g2=$(sed -n 's/^NBL2: pci 0000:01:01.0 .* group=\([0-9]*\)$/\1/p' /tmp/bridge.out)
[ -n "$g1" ] && [ "$g1" = "$g2" ] ||
	fail "bridge: 01:00.0 in group '$g1', 01:01.0 in group '$g2'"
ok "bridge: both functions behind the bridge are in IOMMU group $g1"

l2 optout "iommu.passthrough=0" viommu-groups,blk-verify,rng \
	--iommu virtio --disk /tmp/t.img --rng=pci,iommu=off
expect_out optout "NBL2: pci .* device=0x1042 group=[0-9]"
expect_out optout "NBL2: pci .* device=0x1044 group=none"
expect_out optout "NBL2: run blk-verify rc=0"
expect_out optout "NBL2: run rng rc=0"

l2 identity "iommu.passthrough=1" viommu,blk-verify \
	--iommu virtio --disk /tmp/t.img
expect_out identity "NBL2: iommu group .* type=identity"
expect_out identity "NBL2: run blk-verify rc=0"
expect_err identity "virtio-iommu: requests attach=[1-9][0-9]* detach=[0-9]* map=0 "

# No virtio-iommu driver in L2 (its initcall is skipped): unattached
# endpoints follow config.bypass.
l2 byp-on "initcall_blacklist=virtio_iommu_drv_init" blk-probe \
	--iommu virtio,bypass=on --disk /tmp/t.img
expect_out byp-on "NBL2: blk readable"
# bypass=off: the disk's rings are out of reach, so it cannot start and
# the guest's probe waits forever; nestbox counts the faults it could not
# report (no driver, no eventq) and still stops cleanly on SIGTERM.
timeout -s TERM 30 /bin/nestbox run -v --kernel "$L2_LAB_KERNEL" \
	--initrd "$L2_LAB_INITRD" --memory 256M --iommu virtio,bypass=off \
	--disk /tmp/t.img --cmdline "console=ttyAMA0 quiet \
initcall_blacklist=virtio_iommu_drv_init nbl2.run=blk-probe" \
	</dev/null >/tmp/byp-off.out 2>/tmp/byp-off.err
RC=$?
cat /tmp/byp-off.err
expect_rc byp-off 143
expect_err byp-off "virtio-blk.*bad size or ring address"
expect_err byp-off "virtio-iommu: requests attach=0 .*faults reported=0 dropped=[1-9]"
