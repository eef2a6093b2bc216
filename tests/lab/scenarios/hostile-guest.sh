# lab: timeout=300
# A malicious L2 program corrupts virtio-blk's available ring through
# /dev/mem and kicks: that device goes to DEVICE_NEEDS_RESET, nestbox logs
# it once, and the console and virtio-rng keep working; nestbox itself
# carries on until the guest powers off.
dd if=/dev/zero of=/tmp/hostile.img bs=1048576 count=8 2>/dev/null
run_vmm hostile run --kernel "$L2_LAB_KERNEL" --initrd "$L2_LAB_INITRD" \
	--memory 256M --disk /tmp/hostile.img --rng \
	--cmdline "console=ttyAMA0 quiet nbl2.run=hostile-vq nbl2.action=poweroff"
grep NBL2 /tmp/hostile.out
expect_rc hostile 0
expect_out hostile "after a looping chain, status 0x4f"
expect_out hostile "NBL2: hwrng after the attack bytes=4096"
expect_out hostile "NBL2: console still works"
expect_out hostile "NBL2: run hostile-vq rc=0"
expect_err hostile "virtio-blk.*device needs reset"
n=$(grep -c "needs reset" /tmp/hostile.err)
[ "$n" = 1 ] || fail "the error was logged $n times, expected once"
ok "logged once"
