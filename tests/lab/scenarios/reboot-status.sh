# lab: timeout=300
# PSCI SYSTEM_RESET from the guest ends nestbox with status 0.
run_vmm reboot run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--cpus 2 --memory 256M --cmdline "console=ttyAMA0 quiet nbl2.action=reboot"
expect_rc reboot 0
expect_out reboot "NBL2: rebooting"
expect_err reboot "guest rebooted"
