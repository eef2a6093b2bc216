# lab: timeout=300
# virtio-rng over PCI (MSI-X through the ITS) and over MMIO (SPI): the
# guest's driver reads entropy; PCI interrupts are ITS LPIs.
run_vmm rngpci run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --rng \
	--cmdline "console=ttyAMA0 quiet nbl2.run=rng,msix nbl2.action=poweroff"
grep NBL2 /tmp/rngpci.out
expect_rc rngpci 0
expect_out rngpci "NBL2: run rng rc=0"
expect_out rngpci "NBL2: run msix rc=0"

run_vmm rngmmio run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --rng=mmio \
	--cmdline "console=ttyAMA0 quiet nbl2.run=rng nbl2.action=poweroff"
grep NBL2 /tmp/rngmmio.out
expect_rc rngmmio 0
expect_out rngmmio "NBL2: run rng rc=0"
