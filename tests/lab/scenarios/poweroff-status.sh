# lab: timeout=300
# PSCI SYSTEM_OFF from the guest ends nestbox with status 0.
run_vmm off run -v --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --cmdline "console=ttyAMA0 quiet nbl2.action=poweroff"
expect_rc off 0
expect_out off "NBL2: powering off"
expect_err off "guest powered off"
