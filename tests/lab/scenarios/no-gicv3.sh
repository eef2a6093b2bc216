# lab: timeout=300 machine=virt,virtualization=on,gic-version=2
# On a host whose KVM has no GICv3 (an emulated GICv2 machine), nestbox
# refuses with one line naming what is missing.
run_vmm nogic run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD"
expect_rc nogic 1
expect_one_line nogic
expect_err nogic "GICv3"
