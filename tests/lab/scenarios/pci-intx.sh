# lab: timeout=400
# Legacy INTx for drivers without MSI (guest booted with pci=nomsi):
# virtio-blk on the root bus and virtio-rng behind the PCIe-to-PCI bridge
# interrupt through the host bridge's interrupt-map (swizzled by slot and
# through the bridge) and still move data.
dd if=/dev/zero of=/tmp/intx.img bs=1048576 count=16 2>/dev/null
run_vmm intx run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --disk /tmp/intx.img --rng=bridge \
	--cmdline "console=ttyAMA0 quiet pci=nomsi nbl2.run=intx,blk-write,rng nbl2.action=poweroff"
grep NBL2 /tmp/intx.out
expect_rc intx 0
expect_out intx "NBL2: run intx rc=0"
expect_out intx "NBL2: run blk-write rc=0"
expect_out intx "NBL2: run rng rc=0"
