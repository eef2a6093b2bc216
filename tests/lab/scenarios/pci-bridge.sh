# lab: timeout=400
# virtio-blk and virtio-rng behind a PCIe-to-PCI bridge: they appear on
# bus 1 and share the bridge's requester ID (secondary bus, devfn 0) as
# their ITS device ID. The rng in slot 1 would lose its interrupts if
# nestbox routed its MSIs with its own ID instead of the alias.
dd if=/dev/zero of=/tmp/bridge.img bs=1048576 count=16 2>/dev/null
run_vmm bridge run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --disk /tmp/bridge.img,bus=bridge --rng=bridge \
	--cmdline "console=ttyAMA0 quiet nbl2.run=bridge,blk-write,rng nbl2.action=poweroff"
grep NBL2 /tmp/bridge.out
expect_rc bridge 0
expect_err bridge "PCIe-to-PCI bridge at PCI"
expect_out bridge "NBL2: bridge class 0x060400"
expect_out bridge "NBL2: run bridge rc=0"
expect_out bridge "NBL2: run blk-write rc=0"
expect_out bridge "NBL2: run rng rc=0"
